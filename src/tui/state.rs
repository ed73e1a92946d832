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
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Orders,
        Tab::Fulfilments,
        Tab::Conflicts,
        Tab::Errors,
        Tab::Dashboard,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Orders => "Orders",
            Tab::Fulfilments => "Fulfilments",
            Tab::Conflicts => "Conflicts",
            Tab::Errors => "Errors",
            Tab::Dashboard => "Dashboard",
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

/// A sync pass the operator asked for, followed until its job finishes (spinner, then a toast).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSync {
    pub name: String,
    pub job_id: i64,
    /// queued, running or retrying, as last read.
    pub state: String,
}

/// What a confirmation does when the operator says yes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    DiscardJob(i64),
}

#[derive(Debug, Clone)]
pub enum Modal {
    /// The key list, scrolled down by `scroll` lines (for small terminals).
    Help {
        scroll: u16,
    },
    StatusPicker {
        targets: Vec<Target>,
        options: Vec<String>,
        cursor: usize,
    },
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
    /// 0 = all active orders, then the workflow's statuses in order.
    pub status_index: usize,
    pub pos: [ListPos; 5],
    /// Rows a table can show, from the last terminal size.
    pub page_rows: usize,
    pub filter: Option<String>,
    /// Marked orders for a bulk change, by id.
    pub marked: BTreeMap<i64, Target>,
    pub zoom: bool,
    /// Lines the zoomed detail is scrolled down by.
    pub detail_scroll: u16,
    pub frozen: bool,
    pub mouse: bool,
    pub readonly: bool,
    pub operator: String,
    pub line: Option<InputLine>,
    pub modal: Option<Modal>,
    pub toasts: Vec<Toast>,
    /// The in-process engine's last reported status, if one is attached.
    pub engine: Option<crate::engine::EngineStatus>,
    /// Sync passes asked for from this console whose jobs have not finished.
    pub syncs: Vec<PendingSync>,
    /// Advances each tick while `syncs` is not empty (the spinner's frame).
    pub spin: usize,
}

impl UiState {
    pub fn new(operator: &str, readonly: bool, mouse: bool) -> UiState {
        UiState {
            tab: Tab::Orders,
            status_index: 0,
            pos: [ListPos::default(); 5],
            page_rows: 10,
            filter: None,
            marked: BTreeMap::new(),
            zoom: false,
            detail_scroll: 0,
            frozen: false,
            mouse,
            readonly,
            operator: operator.to_string(),
            line: None,
            modal: None,
            toasts: Vec::new(),
            engine: None,
            syncs: Vec::new(),
            spin: 0,
        }
    }

    pub fn pos(&self) -> ListPos {
        self.pos[self.tab.index()]
    }

    pub fn pos_mut(&mut self) -> &mut ListPos {
        &mut self.pos[self.tab.index()]
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
