//! The console's controller: turns keys into [`Action`]s through the mode's keymap, runs commands through
//! `App`, and keeps the snapshot fresh (re-read after our own commands, or when `data_version` moves).
//! Tests drive it directly: `handle_key`, `tick`, `render`.

use crossterm::event::{Event, KeyEvent, KeyEventKind, MouseButton, MouseEventKind};
use ratatui::Frame;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use crate::app::{App, AppError, ShipmentDetails};
use crate::config::Config;
use crate::domain::StatusKind;
use crate::domain::time::{Millis, now_ms};
use crate::engine::EngineStatus;

use super::action::Action;
use super::commands;
use super::conflicts::{ConflictSource, NoStockSync};
use super::keymap::Keymap;
use super::snapshot::{self, Snapshot};
use super::state::{
    FulfilForm, InputLine, LineKind, Modal, Pending, Tab, Target, ToastKind, UiState,
};
use super::theme::Theme;
use super::view;

/// Where "now" comes from: the wall clock, or a fixed instant for reproducible screens.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Fixed(Millis),
}

impl Clock {
    pub fn now(self) -> Millis {
        match self {
            Clock::System => now_ms(),
            Clock::Fixed(t) => t,
        }
    }
}

/// How to start a console.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub readonly: bool,
    pub no_color: bool,
    pub clock: Clock,
}

pub struct Console {
    app: App,
    keymap: Keymap,
    theme: Theme,
    conflicts: Box<dyn ConflictSource>,
    clock: Clock,
    pub ui: UiState,
    snapshot: Snapshot,
    data_version: Option<i64>,
    /// The screen size, for mapping mouse clicks onto the layout.
    size: (u16, u16),
    /// An engine running in this process, when there is one (`demo`): its status shows in the header.
    engine: Option<tokio::sync::watch::Receiver<EngineStatus>>,
    /// Something changed since the last draw.
    dirty: bool,
    quit: bool,
}

impl Console {
    pub fn new(app: App, options: Options) -> Result<Console, String> {
        let config: &Config = app.config();
        let keymap = Keymap::from_config(&config.console.keys)?;
        let theme = Theme::for_terminal(&config.console.theme, options.no_color)?;
        let ui = UiState::new(&app.actor().name, options.readonly, config.console.mouse);
        let now = options.clock.now();
        let mut console = Console {
            app,
            keymap,
            theme,
            conflicts: Box::new(NoStockSync),
            clock: options.clock,
            ui,
            snapshot: Snapshot::empty(now),
            data_version: None,
            size: (0, 0),
            engine: None,
            dirty: true,
            quit: false,
        };
        console.reload();
        Ok(console)
    }

    /// Replaces where conflicts come from (the stock sync, once it exists).
    pub fn set_conflict_source(&mut self, source: Box<dyn ConflictSource>) {
        self.conflicts = source;
        self.reload();
    }

    /// Follows an engine running in this process (e.g. `syncdesk demo`): the header shows what it is doing
    /// and the screen re-reads as soon as it reports progress.
    pub fn attach_engine(&mut self, status: tokio::sync::watch::Receiver<EngineStatus>) {
        self.ui.engine = Some(status.borrow().clone());
        self.engine = Some(status);
        self.dirty = true;
    }

    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    pub fn app(&mut self) -> &mut App {
        &mut self.app
    }

    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// True once after anything changed that the screen should show.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    pub fn tick_ms(&self) -> u64 {
        self.app.config().console.tick_ms
    }

    /// Draws the current snapshot; a pure function of snapshot, UI state, theme and keymap.
    pub fn render(&self, frame: &mut Frame) {
        view::draw(frame, &self.snapshot, &self.ui, &self.theme, &self.keymap);
    }

    /// Tells the console how big the screen is, so it reads exactly one page of rows.
    pub fn resize(&mut self, width: u16, height: u16) {
        self.size = (width, height);
        let rows = view::table_rows(width, height, &self.ui);
        if rows != self.ui.page_rows {
            self.ui.page_rows = rows;
            self.reload();
        }
        self.dirty = true;
    }

    /// The periodic check: re-reads only when another process committed (and refresh is not frozen).
    /// Returns whether the screen needs drawing.
    pub fn tick(&mut self) -> bool {
        let now = self.clock.now();
        if self.ui.expire_toasts(now) {
            self.dirty = true;
        }
        // Ages are drawn against the snapshot's "now": keep it within a second of the clock.
        if now - self.snapshot.now >= 1000 {
            self.snapshot.now = now;
            self.dirty = true;
        }
        let mut engine_moved = false;
        if let Some(rx) = &mut self.engine
            && rx.has_changed().unwrap_or(false)
        {
            self.ui.engine = Some(rx.borrow_and_update().clone());
            engine_moved = true;
            self.dirty = true;
        }
        if !self.ui.frozen {
            if engine_moved {
                self.data_version = None;
            }
            match self.app.data_version() {
                Ok(v) if Some(v) != self.data_version => self.reload(),
                Ok(_) => {}
                Err(e) => self.error(e.to_string()),
            }
        }
        self.dirty
    }

    /// Re-reads the snapshot for the current view.
    pub fn reload(&mut self) {
        let now = self.clock.now();
        self.data_version = self.app.data_version().ok();
        match snapshot::build(&mut self.app, &self.ui, self.conflicts.as_mut(), now) {
            Ok(s) => {
                self.snapshot = s;
                let rows = self.snapshot.rows(self.ui.tab);
                let pos = self.ui.pos_mut();
                if pos.cursor >= rows {
                    pos.cursor = rows.saturating_sub(1);
                }
            }
            Err(e) => self.error(format!("cannot read the database: {e}")),
        }
        self.dirty = true;
    }

    pub fn handle_event(&mut self, event: &Event) {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.handle_key(*key),
            Event::Resize(w, h) => self.resize(*w, *h),
            Event::Mouse(m) if self.ui.mouse => match m.kind {
                MouseEventKind::ScrollDown => self.normal(Action::Down),
                MouseEventKind::ScrollUp => self.normal(Action::Up),
                MouseEventKind::Down(MouseButton::Left) => self.click(m.column, m.row),
                _ => {}
            },
            _ => {}
        }
    }

    /// A left click selects a panel, a status or a row.
    fn click(&mut self, x: u16, y: u16) {
        let (w, h) = self.size;
        let hit = view::hit(w, h, &self.snapshot, &self.ui, &self.keymap, x, y);
        match hit {
            Some(view::Hit::Tab(tab)) => self.switch_tab(tab.index()),
            Some(view::Hit::Status(i)) if i <= self.snapshot.statuses.len() => {
                self.ui.status_index = i;
                *self.ui.pos_mut() = Default::default();
                self.reload();
            }
            Some(view::Hit::Row(i)) if i < self.snapshot.rows(self.ui.tab) => {
                self.ui.pos_mut().cursor = i;
                self.reload_detail_if_orders();
            }
            _ => {}
        }
        self.dirty = true;
    }

    pub fn handle_key(&mut self, key: KeyEvent) {
        self.dirty = true;
        if self.ui.modal.is_some() {
            self.modal_key(key);
        } else if self.ui.line.is_some() {
            self.line_key(key);
        } else if let Some(action) = self.keymap.normal.action(&key) {
            self.normal(action);
        }
    }

    fn info(&mut self, text: impl Into<String>) {
        let now = self.clock.now();
        self.ui.toast(ToastKind::Info, text, now);
    }

    fn ok(&mut self, text: impl Into<String>) {
        let now = self.clock.now();
        self.ui.toast(ToastKind::Ok, text, now);
    }

    fn error(&mut self, text: impl Into<String>) {
        let now = self.clock.now();
        self.ui.toast(ToastKind::Error, text, now);
        self.dirty = true;
    }

    fn normal(&mut self, action: Action) {
        if action.is_command() && self.ui.readonly {
            self.info("read-only console: no actions (start without --readonly to act)");
            return;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.ui.modal = Some(Modal::Help),
            Action::NextTab => self.switch_tab((self.ui.tab.index() + 1) % Tab::ALL.len()),
            Action::PrevTab => {
                self.switch_tab((self.ui.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len())
            }
            Action::TabOrders => self.switch_tab(0),
            Action::TabFulfilments => self.switch_tab(1),
            Action::TabConflicts => self.switch_tab(2),
            Action::TabErrors => self.switch_tab(3),
            Action::TabDashboard => self.switch_tab(4),
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-(self.ui.page_rows as i64)),
            Action::PageDown => self.move_by(self.ui.page_rows as i64),
            Action::Top => {
                *self.ui.pos_mut() = Default::default();
                self.reload();
            }
            Action::Bottom => self.bottom(),
            Action::PrevGroup | Action::NextGroup if self.ui.tab == Tab::Orders => {
                let n = self.snapshot.statuses.len() + 1;
                self.ui.status_index = if action == Action::NextGroup {
                    (self.ui.status_index + 1) % n
                } else {
                    (self.ui.status_index + n - 1) % n
                };
                *self.ui.pos_mut() = Default::default();
                self.reload();
            }
            Action::PrevGroup | Action::NextGroup => {}
            Action::Open => {
                if self.ui.tab == Tab::Orders && self.snapshot.detail.is_some() {
                    self.ui.zoom = !self.ui.zoom;
                }
            }
            Action::Back => {
                if self.ui.zoom {
                    self.ui.zoom = false;
                } else if !self.ui.marked.is_empty() {
                    self.ui.marked.clear();
                    self.info("marks cleared");
                } else if self.ui.filter.is_some() {
                    self.ui.filter = None;
                    *self.ui.pos_mut() = Default::default();
                    self.reload();
                }
            }
            Action::Filter => {
                let current = self.ui.filter.clone().unwrap_or_default();
                self.ui.line = Some(InputLine {
                    kind: LineKind::Filter,
                    input: Input::new(current),
                    hint: Vec::new(),
                });
            }
            Action::Command => {
                self.ui.line = Some(InputLine {
                    kind: LineKind::Command,
                    input: Input::default(),
                    hint: Vec::new(),
                });
            }
            Action::Freeze => {
                self.ui.frozen = !self.ui.frozen;
                if self.ui.frozen {
                    self.info("refresh frozen: the screen no longer follows the database");
                } else {
                    self.info("refresh resumed");
                    self.reload();
                }
            }
            Action::ToggleMouse => {
                self.ui.mouse = !self.ui.mouse;
                self.info(if self.ui.mouse { "mouse on" } else { "mouse off" });
            }
            Action::Refresh => self.reload(),
            Action::Mark => self.mark(),
            Action::ChangeStatus => self.open_status_picker(),
            Action::Fulfil => self.open_fulfil(),
            Action::CancelOrder => self.open_cancel(),
            Action::RetryJob => self.retry_job(),
            Action::DiscardJob => self.ask_discard(),
            Action::Acknowledge => self.info(
                "alerts are not built yet: nothing to acknowledge (conflict resolution comes with stock sync)",
            ),
            Action::Submit | Action::NextField | Action::PrevField | Action::Yes | Action::No => {}
        }
    }

    fn switch_tab(&mut self, index: usize) {
        self.ui.tab = Tab::ALL[index % Tab::ALL.len()];
        self.ui.zoom = false;
        self.reload();
    }

    fn move_by(&mut self, delta: i64) {
        let rows = self.snapshot.rows(self.ui.tab) as i64;
        let has_more = self.snapshot.has_more;
        let pos = self.ui.pos_mut();
        let target = pos.cursor as i64 + delta;
        if target < 0 {
            let back = (-target).min(pos.offset);
            pos.offset -= back;
            pos.cursor = 0;
            if back > 0 {
                self.reload();
            } else {
                self.reload_detail_if_orders();
            }
        } else if target >= rows {
            if has_more {
                pos.offset += target - rows + 1;
                pos.cursor = (rows - 1).max(0) as usize;
                self.reload();
            } else {
                pos.cursor = (rows - 1).max(0) as usize;
                self.reload_detail_if_orders();
            }
        } else {
            pos.cursor = target as usize;
            self.reload_detail_if_orders();
        }
    }

    /// The detail pane follows the cursor; re-read it (the list page is unchanged).
    fn reload_detail_if_orders(&mut self) {
        if self.ui.tab == Tab::Orders {
            self.reload();
        }
    }

    fn bottom(&mut self) {
        // Page forward until the last page: each step reads one page, never the whole list.
        for _ in 0..10_000 {
            if !self.snapshot.has_more {
                break;
            }
            let step = self.ui.page_rows as i64;
            self.ui.pos_mut().offset += step;
            self.reload();
        }
        let rows = self.snapshot.rows(self.ui.tab);
        self.ui.pos_mut().cursor = rows.saturating_sub(1);
        self.reload_detail_if_orders();
    }

    fn selected_order(&self) -> Option<Target> {
        if self.ui.tab != Tab::Orders {
            return None;
        }
        let row = self.snapshot.orders.get(self.ui.pos().cursor)?;
        Some(Target {
            order_id: row.summary.id,
            number: row.summary.number.clone(),
            version: row.version,
            status_id: row.summary.status_id,
        })
    }

    fn selected_job(&self) -> Option<i64> {
        if self.ui.tab != Tab::Errors {
            return None;
        }
        self.snapshot.jobs.get(self.ui.pos().cursor).map(|j| j.id)
    }

    /// The marked orders, or the selected one.
    fn targets(&self) -> Vec<Target> {
        if self.ui.marked.is_empty() {
            self.selected_order().into_iter().collect()
        } else {
            self.ui.marked.values().cloned().collect()
        }
    }

    fn mark(&mut self) {
        let Some(t) = self.selected_order() else {
            return;
        };
        if self.ui.marked.remove(&t.order_id).is_none() {
            self.ui.marked.insert(t.order_id, t);
        }
        self.move_by(1);
    }

    /// Statuses every target may move to (Completed is never offered: shipments complete orders).
    fn options_for(&self, targets: &[Target]) -> Vec<String> {
        let workflow = self.app.workflow();
        let mut options: Option<Vec<String>> = None;
        for t in targets {
            let allowed: Vec<String> = workflow
                .allowed_from(t.status_id)
                .into_iter()
                .filter(|s| s.kind != StatusKind::Completed)
                .map(|s| s.name.clone())
                .collect();
            options = Some(match options {
                None => allowed,
                Some(prev) => prev.into_iter().filter(|s| allowed.contains(s)).collect(),
            });
        }
        options.unwrap_or_default()
    }

    fn open_status_picker(&mut self) {
        let targets = self.targets();
        if targets.is_empty() {
            self.info("select an order first (Orders panel)");
            return;
        }
        let options = self.options_for(&targets);
        if options.is_empty() {
            self.error(if targets.len() == 1 {
                format!(
                    "order {} cannot change status (it is final)",
                    targets[0].number
                )
            } else {
                "the marked orders have no status change in common".to_string()
            });
            return;
        }
        self.ui.modal = Some(Modal::StatusPicker {
            targets,
            options,
            cursor: 0,
        });
    }

    fn open_cancel(&mut self) {
        let targets = self.targets();
        if targets.is_empty() {
            self.info("select an order first (Orders panel)");
            return;
        }
        self.ui.modal = Some(Modal::Cancel {
            targets,
            reason: Input::default(),
        });
    }

    fn open_fulfil(&mut self) {
        let Some(target) = self.selected_order() else {
            self.info("select an order first (Orders panel)");
            return;
        };
        let Some((detail, _)) = self
            .snapshot
            .detail
            .as_ref()
            .filter(|(d, _)| d.id == target.order_id)
        else {
            return;
        };
        if detail.status_kind.is_final() {
            self.error(format!(
                "order {} is {}: nothing to ship",
                detail.number, detail.status
            ));
            return;
        }
        let lines: Vec<(String, i64, Input)> = detail
            .lines
            .iter()
            .filter(|l| l.quantity > l.quantity_shipped)
            .map(|l| {
                let open = l.quantity - l.quantity_shipped;
                (l.sku.clone(), open, Input::new(open.to_string()))
            })
            .collect();
        if lines.is_empty() {
            self.error(format!(
                "order {}: every line is already shipped",
                detail.number
            ));
            return;
        }
        self.ui.modal = Some(Modal::Fulfil(Box::new(FulfilForm {
            target,
            tracking: Input::default(),
            carrier: Input::default(),
            notes: Input::default(),
            lines,
            focus: 0,
        })));
    }

    fn retry_job(&mut self) {
        let Some(id) = self.selected_job() else {
            self.info("select a job first (Errors panel)");
            return;
        };
        match self.app.retry_job(id) {
            Ok(job) => self.ok(format!("job {} ({}) queued again", job.id, job.kind)),
            Err(e) => self.error(e.to_string()),
        }
        self.reload();
    }

    fn ask_discard(&mut self) {
        let Some(id) = self.selected_job() else {
            self.info("select a job first (Errors panel)");
            return;
        };
        let kind = self
            .snapshot
            .jobs
            .iter()
            .find(|j| j.id == id)
            .map(|j| j.kind.clone())
            .unwrap_or_default();
        self.ui.modal = Some(Modal::Confirm {
            message: format!("Discard job {id} ({kind})? It will not run again."),
            then: Pending::DiscardJob(id),
        });
    }

    fn modal_key(&mut self, key: KeyEvent) {
        let Some(modal) = self.ui.modal.take() else {
            return;
        };
        let form = self.keymap.form.action(&key);
        let modal = match modal {
            Modal::Help => match (form, self.keymap.normal.action(&key)) {
                (Some(Action::Back), _) | (_, Some(Action::Help | Action::Quit | Action::Back)) => {
                    None
                }
                _ => Some(Modal::Help),
            },
            Modal::Confirm { message, then } => match self.keymap.confirm.action(&key) {
                Some(Action::Yes) => {
                    self.confirmed(then);
                    None
                }
                Some(Action::No) => {
                    self.info("nothing changed");
                    None
                }
                _ => Some(Modal::Confirm { message, then }),
            },
            Modal::StatusPicker {
                targets,
                options,
                mut cursor,
            } => match (form, self.keymap.normal.action(&key)) {
                (Some(Action::Back), _) => None,
                (Some(Action::Submit), _) => self.pick_status(targets, &options[cursor]),
                (Some(Action::NextField), _) | (_, Some(Action::Down)) => {
                    cursor = (cursor + 1) % options.len();
                    Some(Modal::StatusPicker {
                        targets,
                        options,
                        cursor,
                    })
                }
                (Some(Action::PrevField), _) | (_, Some(Action::Up)) => {
                    cursor = (cursor + options.len() - 1) % options.len();
                    Some(Modal::StatusPicker {
                        targets,
                        options,
                        cursor,
                    })
                }
                _ => Some(Modal::StatusPicker {
                    targets,
                    options,
                    cursor,
                }),
            },
            Modal::Cancel {
                targets,
                mut reason,
            } => match form {
                Some(Action::Back) => None,
                Some(Action::Submit) => {
                    if reason.value().trim().is_empty() {
                        self.error("a cancellation needs a reason");
                        Some(Modal::Cancel { targets, reason })
                    } else {
                        self.cancel(&targets, reason.value());
                        None
                    }
                }
                _ => {
                    reason.handle_event(&Event::Key(key));
                    Some(Modal::Cancel { targets, reason })
                }
            },
            Modal::Fulfil(mut f) => match form {
                Some(Action::Back) => None,
                Some(Action::Submit) => match self.fulfil(&f) {
                    true => None,
                    false => Some(Modal::Fulfil(f)),
                },
                Some(Action::NextField) => {
                    f.focus = (f.focus + 1) % f.field_count();
                    Some(Modal::Fulfil(f))
                }
                Some(Action::PrevField) => {
                    f.focus = (f.focus + f.field_count() - 1) % f.field_count();
                    Some(Modal::Fulfil(f))
                }
                _ => {
                    f.focused().handle_event(&Event::Key(key));
                    Some(Modal::Fulfil(f))
                }
            },
        };
        if self.ui.modal.is_none() {
            self.ui.modal = modal;
        }
    }

    fn confirmed(&mut self, then: Pending) {
        match then {
            Pending::DiscardJob(id) => {
                match self.app.discard_job(id) {
                    Ok(job) => self.ok(format!("job {} ({}) discarded", job.id, job.kind)),
                    Err(e) => self.error(e.to_string()),
                }
                self.reload();
            }
        }
    }

    /// Applies a picked status; a cancellation first asks for its reason.
    fn pick_status(&mut self, targets: Vec<Target>, status: &str) -> Option<Modal> {
        let is_cancel = self
            .app
            .workflow()
            .by_name(status)
            .is_ok_and(|s| s.kind == StatusKind::Cancelled);
        if is_cancel {
            return Some(Modal::Cancel {
                targets,
                reason: Input::default(),
            });
        }
        self.change_status(&targets, status);
        None
    }

    /// Runs one command per target; reports what worked and why anything did not.
    fn for_each_target(
        &mut self,
        targets: &[Target],
        verb: &str,
        mut run: impl FnMut(&mut App, &Target) -> Result<String, AppError>,
    ) {
        let mut done = Vec::new();
        let mut failed = Vec::new();
        for t in targets {
            match run(&mut self.app, t) {
                Ok(what) => done.push(what),
                Err(e) => failed.push(e.to_string()),
            }
        }
        // One toast for the whole batch, so a refusal never hides what did happen (or the reverse).
        match (done.is_empty(), failed.is_empty()) {
            (false, true) => self.ok(format!("{verb}: {}", done.join(", "))),
            (true, false) => self.error(failed.join("; ")),
            (false, false) => self.error(format!(
                "{verb}: {} — refused: {}",
                done.join(", "),
                failed.join("; ")
            )),
            (true, true) => {}
        }
        self.ui.marked.clear();
        self.reload();
    }

    fn change_status(&mut self, targets: &[Target], status: &str) {
        self.for_each_target(targets, "status changed", |app, t| {
            let c = app.change_status(&t.number, status, None, Some(t.version))?;
            Ok(format!("{} {} → {}", c.order, c.from, c.to))
        });
    }

    fn cancel(&mut self, targets: &[Target], reason: &str) {
        self.for_each_target(targets, "cancelled", |app, t| {
            let c = app.cancel(&t.number, reason, Some(t.version))?;
            Ok(c.order)
        });
    }

    /// Ships what the form says; false keeps the dialog open (bad quantities or a refusal).
    fn fulfil(&mut self, f: &FulfilForm) -> bool {
        let mut lines = Vec::new();
        let mut everything = true;
        for (sku, open, qty) in &f.lines {
            let text = qty.value().trim();
            let n = if text.is_empty() {
                Ok(0)
            } else {
                text.parse::<i64>()
            };
            match n {
                Ok(n) if (0..=*open).contains(&n) => {
                    everything &= n == *open;
                    if n > 0 {
                        lines.push((sku.clone(), n));
                    }
                }
                _ => {
                    self.error(format!("{sku}: quantity must be a number from 0 to {open}"));
                    return false;
                }
            }
        }
        if lines.is_empty() {
            self.error("nothing to ship: every quantity is 0");
            return false;
        }
        let text = |i: &Input| Some(i.value().to_string()).filter(|s| !s.trim().is_empty());
        let details = ShipmentDetails {
            tracking: text(&f.tracking),
            carrier: text(&f.carrier),
            notes: text(&f.notes),
        };
        let t = &f.target;
        let result = if everything {
            self.app.fulfill(&t.number, &details, Some(t.version))
        } else {
            self.app.ship(&t.number, &lines, &details, Some(t.version))
        };
        let closed = match result {
            Ok(out) => {
                let what = if out.completed {
                    format!("order {} fulfilled and {}", out.order, out.status)
                } else {
                    let parts: Vec<String> = out
                        .shipped
                        .iter()
                        .map(|(s, q)| format!("{q}×{s}"))
                        .collect();
                    format!("order {} partly shipped ({})", out.order, parts.join(", "))
                };
                self.ok(what);
                true
            }
            // A stale or refused shipment changes nothing; the dialog closes so the operator sees the fresh order.
            Err(e @ AppError::Stale { .. }) => {
                self.error(e.to_string());
                true
            }
            Err(e) => {
                self.error(e.to_string());
                false
            }
        };
        self.reload();
        closed
    }

    fn line_key(&mut self, key: KeyEvent) {
        let Some(mut line) = self.ui.line.take() else {
            return;
        };
        match self.keymap.form.action(&key) {
            Some(Action::Back) => {}
            Some(Action::Submit) => match line.kind {
                LineKind::Filter => {
                    let text = line.input.value().trim().to_string();
                    self.ui.filter = Some(text).filter(|t| !t.is_empty());
                    *self.ui.pos_mut() = Default::default();
                    if self.ui.tab != Tab::Orders {
                        self.ui.tab = Tab::Orders;
                    }
                    self.reload();
                }
                LineKind::Command => self.run_command(line.input.value()),
            },
            Some(Action::NextField) if line.kind == LineKind::Command => {
                let statuses = self.status_names();
                let (completed, hint) = commands::complete(line.input.value(), &statuses);
                line.input = Input::new(completed);
                line.hint = hint;
                self.ui.line = Some(line);
            }
            _ => {
                line.input.handle_event(&Event::Key(key));
                if line.kind == LineKind::Command {
                    line.hint.clear();
                }
                self.ui.line = Some(line);
            }
        }
    }

    fn status_names(&self) -> Vec<String> {
        self.app
            .workflow()
            .statuses()
            .iter()
            .filter(|s| s.pickable)
            .map(|s| s.name.clone())
            .collect()
    }

    fn run_command(&mut self, text: &str) {
        use commands::Command as C;
        match commands::parse(text) {
            Err(e) => self.error(e),
            Ok(C::Quit) => self.quit = true,
            Ok(C::Help) => self.ui.modal = Some(Modal::Help),
            Ok(C::Tab(tab)) => self.switch_tab(tab.index()),
            Ok(C::Filter(f)) => {
                self.ui.filter = f;
                *self.ui.pos_mut() = Default::default();
                self.reload();
            }
            Ok(C::Freeze) => self.normal(Action::Freeze),
            Ok(C::Mouse) => self.normal(Action::ToggleMouse),
            Ok(C::NotYet(what)) => self.info(format!("{what} is not available yet")),
            Ok(_) if self.ui.readonly => {
                self.info("read-only console: no actions (start without --readonly to act)")
            }
            Ok(C::Status(name)) => {
                let targets = self.targets();
                if targets.is_empty() {
                    self.info("select an order first (Orders panel)");
                    return;
                }
                let Ok(status) = self.app.workflow().by_name(&name).cloned() else {
                    self.error(format!("unknown status '{name}'"));
                    return;
                };
                if status.kind == StatusKind::Cancelled {
                    self.ui.modal = Some(Modal::Cancel {
                        targets,
                        reason: Input::default(),
                    });
                } else {
                    self.change_status(&targets, &status.name);
                }
            }
            Ok(C::Cancel(reason)) => match reason {
                Some(r) => {
                    let targets = self.targets();
                    self.cancel(&targets, &r);
                }
                None => self.open_cancel(),
            },
            Ok(C::Fulfil) => self.open_fulfil(),
            Ok(C::Retry) => self.retry_job(),
            Ok(C::Discard) => self.ask_discard(),
        }
    }
}
