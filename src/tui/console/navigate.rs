//! Moving through a panel's list: groups, sorts, pages, the zoomed trace, and keeping the cursor on the
//! row the operator chose when the list around it changes (a filter cleared, a sort, rows arriving).

use super::Console;
use crate::app::job_targets::Subject;
use crate::tui::action::Action;
use crate::tui::snapshot;
use crate::tui::state::{ListPos, SortState, Tab};

impl Console {
    /// Shows one of the Orders panel's groups (all active, a status, the archive) from its first row.
    pub(super) fn show_group(&mut self, index: usize) {
        self.ui.status_index = index;
        *self.ui.pos_mut() = Default::default();
        self.ui.selected[Tab::Orders.index()] = None;
        self.reload();
    }

    /// Enter on a row that belongs to an order (Fulfilments): that order on the Orders panel — in the group
    /// that holds it (all active, or the archive), the panel's filter cleared, the cursor on the order.
    pub(super) fn jump_to_order(&mut self, order_id: i64) {
        let archived = match self.app.order_archived(order_id) {
            Ok(Some(archived)) => archived,
            Ok(None) => return self.error("that order is no longer in the database"),
            Err(e) => return self.error(e.to_string()),
        };
        let i = Tab::Orders.index();
        self.ui.tab = Tab::Orders;
        self.ui.zoom = false;
        self.ui.filters[i] = None;
        self.ui.status_index = if archived {
            self.snapshot.order_groups() - 1
        } else {
            0
        };
        self.ui.pos[i] = Default::default();
        self.ui.selected[i] = Some(order_id);
        self.fit_page();
        self.reload();
        self.follow_selection();
    }

    /// A SKU's row on the Inventory panel: the panel's filter cleared, the cursor on the aligned pair.
    /// False (nothing moved) when no aligned pair has that SKU.
    pub(super) fn jump_to_sku(&mut self, sku: &str) -> bool {
        let pair = match self.app.inventory_pair(sku) {
            Ok(Some(pair)) => pair,
            Ok(None) => return false,
            Err(e) => {
                self.error(e.to_string());
                return true;
            }
        };
        let i = Tab::Inventory.index();
        self.ui.tab = Tab::Inventory;
        self.ui.zoom = false;
        self.ui.filters[i] = None;
        self.ui.pos[i] = Default::default();
        self.ui.selected[i] = Some(pair);
        self.fit_page();
        self.reload();
        self.follow_selection();
        true
    }

    /// What a job or an alert is about, on its own panel; false when its SKU is on no panel.
    pub(super) fn jump_to(&mut self, subject: &Subject) -> bool {
        match subject {
            Subject::Order { id, .. } => {
                self.jump_to_order(*id);
                true
            }
            Subject::Sku(sku) => self.jump_to_sku(sku),
        }
    }

    /// `t`: what the selected row is about, where a panel knows (Errors: the job's; Dashboard: the alert's).
    pub(super) fn open_target(&mut self) {
        match self.ui.tab {
            Tab::Errors => self.open_job_target(),
            Tab::Dashboard => self.open_alert_target(),
            _ => self.info("on the Errors panel this opens the selected job's order or SKU"),
        }
    }

    /// `d`: the selected alert in full (the Dashboard's Enter opens what it is about instead).
    pub(super) fn show_details(&mut self) {
        if self.ui.tab == Tab::Dashboard {
            return self.open_alert();
        }
        let key = self.keymap.normal.short(Action::Details);
        self.info(format!("{key} shows an alert in full on the Dashboard"));
    }

    /// Errors: the selected job's order or SKU (as its Target column names it).
    pub(super) fn open_job_target(&mut self) {
        let Some(id) = self.selected_job() else {
            return self.info("select a job first (Errors panel)");
        };
        let Some(explained) = self.snapshot.job_explained.get(&id).cloned() else {
            return;
        };
        match &explained.subject {
            Some(subject) => {
                if !self.jump_to(subject) {
                    self.info(format!(
                        "{}: not aligned, so not on the Inventory panel",
                        explained.target
                    ));
                }
            }
            None => self.info(format!(
                "job {id} names no order or SKU ({})",
                explained.target
            )),
        }
    }

    /// Dashboard: the selected alert's order or SKU; an alert that names neither opens in full.
    pub(super) fn open_alert_target(&mut self) {
        let alert = self.selected_alert();
        let subject = match alert.as_ref().map(|a| self.app.alert_subject(a)) {
            Some(Ok(subject)) => subject,
            Some(Err(e)) => return self.error(e.to_string()),
            None => None,
        };
        // A SKU no pair aligns any more is on no panel: the alert itself says what happened.
        if !subject.is_some_and(|s| self.jump_to(&s)) {
            self.open_alert();
        }
    }

    /// Sorts the panel by its next column, or reverses the sort; the selected row stays selected.
    pub(super) fn sort(&mut self, action: Action) {
        let tab = self.ui.tab;
        let columns = tab.sorts();
        if columns.is_empty() {
            self.info(format!("the {} has nothing to sort", tab.title()));
            return;
        }
        let current = self.ui.sort();
        let next = if action == Action::SortReverse {
            SortState {
                descending: !current.descending,
                ..current
            }
        } else {
            let column = (current.column + 1) % columns.len();
            SortState {
                column,
                descending: columns[column].1,
            }
        };
        self.ui.sorts[tab.index()] = next;
        let (name, _) = columns[next.column];
        self.info(format!(
            "{} sorted by {name} {}",
            tab.title(),
            if next.descending { "▼" } else { "▲" }
        ));
        self.reload();
    }

    /// Moves the zoomed trace through the SKU's changes.
    pub(super) fn scroll_trace(&mut self, action: Action) {
        let total = self.snapshot.trace.as_ref().map_or(0, |t| t.total);
        let page = self.ui.page_rows as i64;
        let last = (total - page).max(0);
        let offset = self.ui.trace_offset;
        self.ui.trace_offset = match action {
            Action::Up => offset - 1,
            Action::Down => offset + 1,
            Action::PageUp => offset - page,
            Action::PageDown => offset + page,
            _ => 0,
        }
        .clamp(0, last);
        if self.ui.trace_offset != offset {
            self.refresh_selected_detail();
        }
    }

    /// Keeps the cursor on the row the operator chose (`UiState::selected`) when the list around it
    /// changed — a filter cleared, a sort changed, rows added or removed by someone else: found on the
    /// page, or by its rank in the list (and that page read). A row that left the list leaves the cursor
    /// where it was. Then remembers the row now under the cursor. While a filter is on, the row is followed
    /// on the page only: its rank in a filtered million-row list costs a scan on every key typed.
    pub(super) fn follow_selection(&mut self) {
        let tab = self.ui.tab;
        let i = tab.index();
        let keys = self.snapshot.keys(tab);
        let cursor = self.ui.pos[i].cursor;
        if let Some(key) = self.ui.selected[i]
            && keys.get(cursor) != Some(&key)
        {
            if let Some(at) = keys.iter().position(|k| *k == key) {
                self.ui.pos[i].cursor = at;
                self.refresh_selected_detail();
            } else if self.ui.filter().is_none()
                && let Some(rank) = self.rank_of(tab, key)
            {
                // The row's new page, with the row on the screen line the cursor was on.
                let page = self.ui.page_rows.max(1) as i64;
                let offset = (rank - cursor as i64).max(rank - page + 1).max(0);
                self.ui.pos[i] = ListPos {
                    offset,
                    cursor: (rank - offset) as usize,
                };
                self.ui.selected[i] = None;
                self.reload();
                self.ui.pos[i].cursor = self.ui.pos[i]
                    .cursor
                    .min(self.snapshot.rows(tab).saturating_sub(1));
            }
        }
        self.ui.selected[i] = self.snapshot.keys(tab).get(self.ui.pos[i].cursor).copied();
    }

    /// Where row `key` sits in the active panel's list as the UI filters and sorts it.
    pub(super) fn rank_of(&mut self, tab: Tab, key: i64) -> Option<i64> {
        let ui = &self.ui;
        let rank = match tab {
            Tab::Orders => snapshot::order_query(&self.app, &self.snapshot, ui)
                .and_then(|q| self.app.order_rank(&q, key)),
            Tab::Fulfilments => self
                .app
                .fulfilment_rank(&snapshot::fulfilment_query(ui), key),
            Tab::Conflicts => self.app.conflict_rank(&snapshot::conflict_query(ui), key),
            Tab::Errors => self.app.job_rank(&snapshot::job_query(ui), key),
            Tab::Dashboard => self.app.alert_rank(key),
            Tab::Inventory => self.app.inventory_rank(&snapshot::inventory_query(ui), key),
        };
        match rank {
            Ok(r) => r,
            Err(e) => {
                self.error(format!("cannot read the list: {e}"));
                None
            }
        }
    }

    pub(super) fn move_by(&mut self, delta: i64) {
        let rows = self.snapshot.rows(self.ui.tab) as i64;
        let has_more = self.snapshot.has_more;
        // An explicit move chooses a new row: nothing to follow.
        self.ui.selected[self.ui.tab.index()] = None;
        let pos = self.ui.pos_mut();
        let target = pos.cursor as i64 + delta;
        let reload = if target < 0 {
            let back = (-target).min(pos.offset);
            pos.offset -= back;
            pos.cursor = 0;
            back > 0
        } else if target >= rows {
            pos.cursor = (rows - 1).max(0) as usize;
            if has_more {
                pos.offset += target - rows + 1;
            }
            has_more
        } else {
            pos.cursor = target as usize;
            false
        };
        if reload {
            self.reload();
        } else {
            self.refresh_selected_detail();
            self.follow_selection();
        }
    }

    /// The panes that follow the cursor (an order's detail, a job's attempts, a SKU's trace): re-read only
    /// them (the page on screen is unchanged).
    pub(super) fn refresh_selected_detail(&mut self) {
        let cursor = self.ui.pos().cursor;
        let read = match self.ui.tab {
            Tab::Orders => {
                snapshot::detail(&mut self.app, &self.snapshot.orders, cursor).and_then(|d| {
                    let extras = snapshot::order_extras(&mut self.app, d.as_ref().map(|(d, _)| d))?;
                    self.snapshot.detail = d;
                    self.snapshot.order_extras = extras;
                    Ok(())
                })
            }
            Tab::Errors => match self.snapshot.jobs.get(cursor).map(|j| j.id) {
                Some(id) => self.app.job_detail(id).map(|d| {
                    self.snapshot.job_detail = Some(d);
                }),
                None => Ok(()),
            },
            Tab::Inventory => snapshot::ui_trace(&mut self.app, &self.snapshot, &self.ui)
                .map(|t| self.snapshot.trace = t),
            _ => Ok(()),
        };
        if let Err(e) = read {
            self.error(format!("cannot read the selection: {e}"));
        }
        self.dirty = true;
    }

    /// The last page: the list's total (counted only here for a filtered order list), then one page read.
    pub(super) fn bottom(&mut self) {
        let total = match self.snapshot.total {
            Some(n) => Ok(n),
            None => snapshot::order_query(&self.app, &self.snapshot, &self.ui)
                .and_then(|q| self.app.count_orders_panel(&q)),
        };
        let total = match total {
            Ok(n) => n,
            Err(e) => {
                self.error(e.to_string());
                return;
            }
        };
        let page = self.ui.page_rows as i64;
        self.ui.selected[self.ui.tab.index()] = None;
        let pos = self.ui.pos_mut();
        pos.offset = (total - page).max(0);
        pos.cursor = (total.min(page) - 1).max(0) as usize;
        self.reload();
    }
}
