//! The console's controller: turns keys into [`Action`]s through the mode's keymap, runs commands through
//! `App`, and keeps the snapshot fresh (re-read after our own commands, or when `data_version` moves).
//! Tests drive it directly: `handle_key`, `tick`, `render`.

mod input;
mod navigate;
mod operate;
mod run_here;
mod status;

use crossterm::event::{Event, KeyEvent, KeyEventKind, MouseButton, MouseEventKind};
use ratatui::Frame;
use tui_input::Input;

use crate::app::App;
use crate::config::Config;
use crate::domain::Role;
use crate::domain::time::{Millis, now_ms};
use crate::engine::EngineStatus;

use super::action::Action;
use super::conflicts::{ConflictSource, StockConflicts};
use super::keymap::Keymap;
use super::metrics::MetricsWorker;
use super::snapshot::{self, Snapshot};
use super::state::{InputLine, LineKind, Modal, Tab, ToastKind, UiState};
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
    /// Computes the dashboard's expensive numbers off the UI thread, when started.
    metrics: Option<MetricsWorker>,
    /// The screen size, for mapping mouse clicks onto the layout.
    size: (u16, u16),
    /// An engine running in this process, when there is one (`demo`): its status shows in the header.
    engine: Option<tokio::sync::watch::Receiver<EngineStatus>>,
    /// Passes running in this process because no engine was (`:sync` answered yes).
    here: Vec<run_here::PassThread>,
    /// Something changed since the last draw.
    dirty: bool,
    quit: bool,
}

impl Console {
    pub fn new(mut app: App, options: Options) -> Result<Console, String> {
        // `--readonly` is the viewer role: pinned on the actor, so `app` refuses every change.
        if options.readonly {
            app.set_actor(app.actor().clone().with_role(Role::Viewer));
        }
        let config: &Config = app.config();
        let keymap = Keymap::from_config(&config.console.keys)?;
        let theme = Theme::for_terminal(&config.console.theme, options.no_color)?;
        let mut ui = UiState::new(&app.actor().name, options.readonly, config.console.mouse);
        ui.role = app.role();
        // Nobody named at start: ask before anything can be recorded (a read-only console records nothing).
        if app.actor().name.trim().is_empty() && !options.readonly {
            ui.modal = Some(Modal::Operator {
                name: Input::default(),
            });
        }
        let now = options.clock.now();
        let mut console = Console {
            app,
            keymap,
            theme,
            conflicts: Box::new(StockConflicts),
            clock: options.clock,
            ui,
            snapshot: Snapshot::empty(now),
            data_version: None,
            size: (0, 0),
            metrics: None,
            engine: None,
            here: Vec::new(),
            dirty: true,
            quit: false,
        };
        console.reload();
        Ok(console)
    }

    /// Replaces where conflicts come from.
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

    /// Moves the dashboard's history-wide queries to a thread of their own (the terminal loop does this;
    /// tests leave it off so every screen is computed in line and reproducible).
    pub fn spawn_metrics_worker(&mut self) {
        let db = self.app.store().path().to_path_buf();
        let config = self.app.config().clone();
        let actor = self.app.actor().clone();
        self.metrics = Some(MetricsWorker::spawn(&db, config, actor));
        self.reload();
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
        if self.fit_page() {
            self.reload();
        }
        self.dirty = true;
    }

    /// Sets the page size to the rows the active panel's table shows; true when it changed.
    fn fit_page(&mut self) -> bool {
        let (width, height) = self.size;
        if width == 0 || height == 0 {
            return false;
        }
        let rows = view::table_rows(width, height, &self.ui);
        let changed = rows != self.ui.page_rows;
        self.ui.page_rows = rows;
        changed
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
        if let Some(answer) = self.metrics.as_mut().and_then(MetricsWorker::poll) {
            match answer {
                Ok(d) if self.ui.tab == Tab::Dashboard => {
                    self.snapshot.dashboard = Some(d);
                    self.dirty = true;
                }
                Ok(_) => {}
                Err(e) => self.error(format!("dashboard: {e}")),
            }
        }
        if !self.ui.syncs.is_empty() {
            // The spinner turns every tick while a pass the operator asked for is pending.
            self.ui.spin = self.ui.spin.wrapping_add(1);
            self.follow_syncs();
            self.follow_passes_here();
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
        let previous = self.snapshot.dashboard.take();
        match snapshot::build(
            &mut self.app,
            &self.ui,
            self.conflicts.as_mut(),
            now,
            previous.as_ref(),
            self.snapshot.orders_anchor,
            self.metrics.is_some(),
        ) {
            Ok(s) => {
                self.snapshot = s;
                if let (Some(worker), Some(d)) = (&mut self.metrics, &self.snapshot.dashboard)
                    && snapshot::metrics_due(d, now)
                {
                    worker.request(now);
                }
                let rows = self.snapshot.rows(self.ui.tab);
                let pos = self.ui.pos_mut();
                if pos.cursor >= rows {
                    pos.cursor = rows.saturating_sub(1);
                }
                self.follow_selection();
            }
            Err(e) => {
                self.snapshot.dashboard = previous;
                self.error(format!("cannot read the database: {e}"));
            }
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
            Some(view::Hit::Status(i)) if i < self.snapshot.order_groups() => self.show_group(i),
            Some(view::Hit::Row(i)) if i < self.snapshot.rows(self.ui.tab) => {
                self.ui.pos_mut().cursor = i;
                self.ui.selected[self.ui.tab.index()] = None;
                self.refresh_selected_detail();
                self.follow_selection();
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
            Action::Quit => self.request_quit(),
            Action::Help => self.ui.modal = Some(Modal::Help { scroll: 0 }),
            Action::NextTab => self.switch_tab((self.ui.tab.index() + 1) % Tab::ALL.len()),
            Action::PrevTab => {
                self.switch_tab((self.ui.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len())
            }
            Action::TabOrders => self.switch_tab(0),
            Action::TabFulfilments => self.switch_tab(1),
            Action::TabConflicts => self.switch_tab(2),
            Action::TabErrors => self.switch_tab(3),
            Action::TabDashboard => self.switch_tab(4),
            Action::TabInventory => self.switch_tab(5),
            // Zoomed, the vertical keys scroll the detail (or the trace) instead of moving between rows.
            Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top
                if self.ui.zoom && self.ui.tab == Tab::Inventory =>
            {
                self.scroll_trace(action)
            }
            Action::Up if self.ui.zoom => {
                self.ui.detail_scroll = self.ui.detail_scroll.saturating_sub(1)
            }
            Action::Down if self.ui.zoom => {
                self.ui.detail_scroll = self.ui.detail_scroll.saturating_add(1).min(500)
            }
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-(self.ui.page_rows as i64)),
            Action::PageDown => self.move_by(self.ui.page_rows as i64),
            Action::Top => {
                *self.ui.pos_mut() = Default::default();
                self.ui.selected[self.ui.tab.index()] = None;
                self.reload();
            }
            Action::Bottom => self.bottom(),
            Action::PrevGroup | Action::NextGroup if self.ui.tab == Tab::Orders => {
                let n = self.snapshot.order_groups();
                let to = if action == Action::NextGroup {
                    (self.ui.status_index + 1) % n
                } else {
                    (self.ui.status_index + n - 1) % n
                };
                self.show_group(to);
            }
            Action::ShowArchived if self.ui.tab == Tab::Orders => {
                let archive = self.snapshot.order_groups() - 1;
                self.show_group(if self.ui.status_index == archive {
                    0
                } else {
                    archive
                });
            }
            Action::ShowArchived => self.info("the archive is on the Orders panel"),
            Action::SortNext | Action::SortReverse => self.sort(action),
            Action::PrevGroup | Action::NextGroup => {}
            // On the Conflicts panel Enter settles the selected conflict, so it is an action there.
            Action::Open if self.ui.tab == Tab::Conflicts => {
                if self.ui.readonly {
                    self.info("read-only console: no actions (start without --readonly to act)");
                } else {
                    self.open_resolve();
                }
            }
            Action::Open if self.ui.tab == Tab::Dashboard => self.open_alert_target(),
            Action::Open if self.ui.tab == Tab::Fulfilments => {
                let row = self.snapshot.fulfilments.get(self.ui.pos().cursor);
                if let Some(order_id) = row.map(|f| f.order_id) {
                    self.jump_to_order(order_id);
                }
            }
            Action::Open => self.zoom(),
            Action::Back => self.back(),
            Action::Filter => self.open_filter(),
            Action::Command => {
                self.ui.line = Some(InputLine {
                    kind: LineKind::Command,
                    input: Input::default(),
                    hint: Vec::new(),
                    restore: None,
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
                self.info(if self.ui.mouse {
                    "mouse on"
                } else {
                    "mouse off"
                });
            }
            Action::Refresh => {
                self.snapshot.dashboard = None; // recompute everything, metrics included
                self.reload();
            }
            Action::Mark => self.mark(),
            Action::ChangeStatus => self.open_status_picker(),
            Action::Fulfil => self.open_fulfil(),
            Action::CancelOrder => self.open_cancel(),
            Action::RetryJob => self.retry_job(),
            Action::DiscardJob => self.ask_discard(),
            Action::Acknowledge => self.acknowledge(),
            Action::AcknowledgeAll => self.ask_acknowledge_all(),
            Action::OpenTarget => self.open_target(),
            Action::Details => self.show_details(),
            Action::Submit | Action::NextField | Action::PrevField | Action::Yes | Action::No => {}
        }
    }

    /// Enter on Orders, Errors or Inventory: the order's detail, the job's every attempt, or the SKU's trace
    /// fills the body (and back).
    fn zoom(&mut self) {
        let zoomable = match self.ui.tab {
            Tab::Orders => self.snapshot.detail.is_some(),
            Tab::Inventory => self.snapshot.trace.is_some(),
            Tab::Errors => self.snapshot.job_detail.is_some(),
            _ => false,
        };
        if zoomable {
            self.ui.zoom = !self.ui.zoom;
            self.ui.detail_scroll = 0;
            self.ui.trace_offset = 0;
            if self.fit_page() || self.ui.tab == Tab::Inventory {
                self.reload();
            }
        }
    }

    /// Esc: unzoom, else clear the marks, else clear the panel's filter (the cursor stays on its row).
    fn back(&mut self) {
        if self.ui.zoom {
            self.ui.zoom = false;
            if self.fit_page() || self.ui.tab == Tab::Inventory {
                self.reload();
            }
        } else if !self.ui.marked.is_empty() {
            self.ui.marked.clear();
            self.info("marks cleared");
        } else if self.ui.filter().is_some() {
            // The cursor stays on the row it is on (see `follow_selection`), never the top one.
            self.apply_filter(None);
        }
    }

    /// `/`: the filter line for the panel on screen.
    fn open_filter(&mut self) {
        if self.ui.tab.filter_matches().is_none() {
            self.info(format!("the {} has nothing to filter", self.ui.tab.title()));
            return;
        }
        self.ui.line = Some(InputLine {
            kind: LineKind::Filter,
            input: Input::default(),
            hint: Vec::new(),
            restore: self.ui.filter().map(String::from),
        });
    }

    fn switch_tab(&mut self, index: usize) {
        self.ui.tab = Tab::ALL[index % Tab::ALL.len()];
        self.ui.zoom = false;
        self.fit_page();
        self.reload();
    }
}
