//! The console's own state (what is selected, which dialog is open, toasts): everything `draw` needs
//! besides the store snapshot. Nothing here touches the store.

use std::collections::BTreeMap;

use tui_input::Input;

use crate::domain::time::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Orders,
    Fulfilments,
    Conflicts,
    Errors,
    Dashboard,
    Inventory,
}

/// How many panels there are (per-panel state is kept in arrays this long).
pub const TABS: usize = 6;

impl Tab {
    pub const ALL: [Tab; TABS] = [
        Tab::Orders,
        Tab::Fulfilments,
        Tab::Conflicts,
        Tab::Errors,
        Tab::Dashboard,
        Tab::Inventory,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Orders => "Orders",
            Tab::Fulfilments => "Fulfilments",
            Tab::Conflicts => "Conflicts",
            Tab::Errors => "Errors",
            Tab::Dashboard => "Dashboard",
            Tab::Inventory => "Inventory",
        }
    }

    /// The title where the full ones do not fit (80 columns).
    pub fn short(self) -> &'static str {
        match self {
            Tab::Orders => "Orders",
            Tab::Fulfilments => "Fulfil",
            Tab::Conflicts => "Confl",
            Tab::Errors => "Errors",
            Tab::Dashboard => "Dash",
            Tab::Inventory => "Invent",
        }
    }

    /// The title where even `short` does not fit (80 columns with the operator's name and role).
    pub fn tiny(self) -> &'static str {
        match self {
            Tab::Orders => "Ord",
            Tab::Fulfilments => "Ful",
            Tab::Conflicts => "Con",
            Tab::Errors => "Err",
            Tab::Dashboard => "Dash",
            Tab::Inventory => "Inv",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub fn parse(name: &str) -> Option<Tab> {
        let name = name.trim().to_lowercase();
        Tab::ALL
            .into_iter()
            .find(|t| t.title().to_lowercase().starts_with(&name) && !name.is_empty())
    }

    /// The columns the panel sorts by, each with whether it starts descending; the first is the default.
    pub fn sorts(self) -> &'static [(&'static str, bool)] {
        match self {
            // Received ▲: the newest arrivals on top, as the list always was (read by keyset, fast at a
            // million orders). Age sorts by the channel's creation time, which differs after an import.
            Tab::Orders => &[
                ("Received", false),
                ("Age", false),
                ("Number", false),
                ("Customer", false),
                ("Status", false),
            ],
            // Age ▼: the longest-waiting shipment first.
            Tab::Fulfilments => &[("Age", true), ("Number", false), ("System", false)],
            Tab::Conflicts => &[("Detected", true), ("SKU", false), ("Type", false)],
            Tab::Errors => &[
                ("Id", true),
                ("State", false),
                ("Kind", false),
                ("Attempts", true),
            ],
            Tab::Dashboard => &[],
            Tab::Inventory => &[
                ("POS SKU", false),
                ("Store SKU", false),
                ("Name", false),
                ("State", false),
            ],
        }
    }

    /// What `/` matches on the panel (None: the panel has nothing to filter).
    pub fn filter_matches(self) -> Option<&'static str> {
        match self {
            Tab::Orders => Some("number, customer or SKU"),
            Tab::Fulfilments => Some("number, channel or system"),
            Tab::Conflicts => Some("SKU, product, type or why"),
            Tab::Errors => Some("job id, kind, key or error"),
            Tab::Dashboard => None,
            Tab::Inventory => Some("either SKU or the product name"),
        }
    }
}

/// A panel's sort: which of [`Tab::sorts`] and in which direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortState {
    pub column: usize,
    pub descending: bool,
}

impl SortState {
    /// The panel's default order.
    pub fn default_for(tab: Tab) -> SortState {
        SortState {
            column: 0,
            descending: tab.sorts().first().is_some_and(|(_, d)| *d),
        }
    }

    /// Whether this is the panel's default order.
    pub fn is_default(self, tab: Tab) -> bool {
        self == SortState::default_for(tab)
    }
}

/// Position in one paged list: the first row read from the store and the cursor within the page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListPos {
    pub offset: i64,
    pub cursor: usize,
}

/// An order an action applies to, with the version the operator saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub order_id: i64,
    pub number: String,
    pub version: i64,
    pub status_id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Filter,
    Command,
}

/// The bottom line while typing a filter or a command.
#[derive(Debug, Clone)]
pub struct InputLine {
    pub kind: LineKind,
    pub input: Input,
    /// Completion candidates (command mode).
    pub hint: Vec<String>,
    /// The filter in force when the line opened (filter mode): typing filters as it goes, Esc puts it back.
    pub restore: Option<String>,
}

/// The status picker: the statuses every target may move to, what each will meet, and a note.
#[derive(Debug, Clone)]
pub struct StatusPicker {
    pub targets: Vec<Target>,
    pub options: Vec<String>,
    /// Per option, what choosing it will meet (the app's refusal, a channel's rule), said beforehand.
    pub warnings: Vec<Option<String>>,
    pub cursor: usize,
    /// Recorded with the change in the order's history (and read by channels: an OTP, a reason).
    pub note: Input,
    /// Keys go to the note (Tab switches between the list and the note).
    pub typing: bool,
}

/// The fulfil dialog: shipment details and a quantity per open line (all open by default = fulfil).
#[derive(Debug, Clone)]
pub struct FulfilForm {
    pub target: Target,
    pub tracking: Input,
    pub carrier: Input,
    pub notes: Input,
    /// (SKU, still open, quantity to ship now)
    pub lines: Vec<(String, i64, Input)>,
    pub focus: usize,
    /// Said before the operator commits: the channels that will not take what shipping everything does.
    pub warnings: Vec<String>,
}

impl FulfilForm {
    pub fn field_count(&self) -> usize {
        3 + self.lines.len()
    }

    pub fn focused(&mut self) -> &mut Input {
        match self.focus {
            0 => &mut self.tracking,
            1 => &mut self.carrier,
            2 => &mut self.notes,
            n => &mut self.lines[n - 3].2,
        }
    }
}

/// The choices of the resolve-conflict dialog, in the order shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolveChoice {
    Pos,
    Store,
    Merge,
    Quantity,
}

impl ResolveChoice {
    pub const ALL: [ResolveChoice; 4] = [
        ResolveChoice::Pos,
        ResolveChoice::Store,
        ResolveChoice::Merge,
        ResolveChoice::Quantity,
    ];
}

/// The resolve-conflict dialog: the conflict as the operator saw it, the highlighted choice and the
/// quantity typed for a recount.
#[derive(Debug, Clone)]
pub struct ResolveForm {
    pub conflict: crate::tui::conflicts::ConflictRow,
    /// Index into `choices()`.
    pub choice: usize,
    pub quantity: Input,
}

impl ResolveForm {
    /// What this conflict can be settled by: a price only by either side's price.
    pub fn choices(&self) -> &'static [ResolveChoice] {
        if self.conflict.is_price() {
            &ResolveChoice::ALL[..2]
        } else {
            &ResolveChoice::ALL
        }
    }

    pub fn chosen(&self) -> ResolveChoice {
        self.choices()[self.choice.min(self.choices().len() - 1)]
    }
}

/// A sync pass the operator asked for, followed until it finishes (spinner, then a toast).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSync {
    pub name: String,
    /// The engine's job; None while the pass runs in this console (no engine was running).
    pub job_id: Option<i64>,
    /// queued, running or retrying, as last read ("running here" in this console).
    pub state: String,
}

/// What a confirmation does when the operator says yes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    DiscardJob(i64),
    /// Acknowledge every open alert up to this id (the newest the operator saw).
    AcknowledgeAll {
        newest: i64,
        count: i64,
    },
    /// No engine runs this database: yes runs the pass in this console, no queues it for an engine.
    RunHere(crate::app::SyncPass),
    /// Quit although a pass still runs in this console (it stops where it is).
    Quit,
}

#[derive(Debug, Clone)]
pub enum Modal {
    /// The key list, scrolled down by `scroll` lines (for small terminals).
    Help {
        scroll: u16,
    },
    StatusPicker(Box<StatusPicker>),
    Fulfil(Box<FulfilForm>),
    Cancel {
        targets: Vec<Target>,
        reason: Input,
    },
    Confirm {
        message: String,
        then: Pending,
    },
    Resolve(Box<ResolveForm>),
    /// An open alert in full (kind, severity, when, its whole message), scrolled down by `scroll` lines.
    Alert {
        alert: Box<crate::store::alerts::Alert>,
        scroll: u16,
    },
    /// Nobody could be named at start (no --user, $SYNCDESK_USER, $USER or OS account): who is this?
    Operator {
        name: Input,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Info,
    Ok,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub kind: ToastKind,
    pub text: String,
    pub at: Millis,
}

/// How long a toast stays on screen.
pub const TOAST_MS: Millis = 6_000;

#[derive(Debug, Clone)]
pub struct UiState {
    pub tab: Tab,
    /// 0 = all active orders, then the workflow's statuses in order, then the archive.
    pub status_index: usize,
    pub pos: [ListPos; TABS],
    /// Rows a table can show, from the last terminal size.
    pub page_rows: usize,
    /// Each panel's own filter (`/` filters the panel it is typed on).
    pub filters: [Option<String>; TABS],
    /// Each panel's sort.
    pub sorts: [SortState; TABS],
    /// The row each panel's cursor is on (its key: order, link, conflict, job, alert or pair id), so the
    /// cursor stays on it when the list around it changes.
    pub selected: [Option<i64>; TABS],
    /// Marked orders for a bulk change, by id.
    pub marked: BTreeMap<i64, Target>,
    /// Orders: the detail fills the body. Inventory: the trace does.
    pub zoom: bool,
    /// Lines the zoomed detail is scrolled down by.
    pub detail_scroll: u16,
    /// The zoomed trace's first change (0 = the newest).
    pub trace_offset: i64,
    pub frozen: bool,
    pub mouse: bool,
    pub readonly: bool,
    pub operator: String,
    /// The operator's role, shown next to their name (`app` enforces it).
    pub role: crate::domain::Role,
    pub line: Option<InputLine>,
    pub modal: Option<Modal>,
    pub toasts: Vec<Toast>,
    /// The in-process engine's last reported status, if one is attached.
    pub engine: Option<crate::engine::EngineStatus>,
    /// Sync passes asked for from this console whose jobs have not finished.
    pub syncs: Vec<PendingSync>,
    /// The carrier of the last shipment recorded here: the next parcel's dialog starts with it.
    pub last_carrier: Option<String>,
    /// Advances each tick while `syncs` is not empty (the spinner's frame).
    pub spin: usize,
}

impl UiState {
    pub fn new(operator: &str, readonly: bool, mouse: bool) -> UiState {
        UiState {
            tab: Tab::Orders,
            status_index: 0,
            pos: [ListPos::default(); TABS],
            page_rows: 10,
            filters: Default::default(),
            sorts: Tab::ALL.map(SortState::default_for),
            selected: [None; TABS],
            marked: BTreeMap::new(),
            zoom: false,
            detail_scroll: 0,
            trace_offset: 0,
            frozen: false,
            mouse,
            readonly,
            operator: operator.to_string(),
            role: crate::domain::Role::Admin,
            line: None,
            modal: None,
            toasts: Vec::new(),
            engine: None,
            syncs: Vec::new(),
            last_carrier: None,
            spin: 0,
        }
    }

    pub fn pos(&self) -> ListPos {
        self.pos[self.tab.index()]
    }

    pub fn pos_mut(&mut self) -> &mut ListPos {
        &mut self.pos[self.tab.index()]
    }

    /// The active panel's filter.
    pub fn filter(&self) -> Option<&str> {
        self.filters[self.tab.index()].as_deref()
    }

    /// The active panel's sort.
    pub fn sort(&self) -> SortState {
        self.sorts[self.tab.index()]
    }

    pub fn toast(&mut self, kind: ToastKind, text: impl Into<String>, now: Millis) {
        self.toasts.push(Toast {
            kind,
            text: text.into(),
            at: now,
        });
        if self.toasts.len() > 3 {
            self.toasts.remove(0);
        }
    }

    /// Drops toasts older than [`TOAST_MS`]; true when any went.
    pub fn expire_toasts(&mut self, now: Millis) -> bool {
        let before = self.toasts.len();
        self.toasts.retain(|t| now - t.at < TOAST_MS);
        before != self.toasts.len()
    }
}
