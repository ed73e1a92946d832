//! What the operator's actions do: the selection they apply to, the dialogs that gather their input, and
//! the `App` commands they run (with the version the operator saw), reported back as toasts.

use tui_input::Input;

use super::Console;
use crate::app::{App, AppError, Resolution, ShipmentDetails, SyncPass, Winner};
use crate::domain::Permission;
use crate::domain::inventory::Policy;
use crate::store::JobState;
use crate::store::alerts::Alert;
use crate::store::jobs::RunNow;
use crate::tui::conflicts::{ConflictRow, ConflictsView};
use crate::tui::state::{
    FulfilForm, Modal, Pending, PendingSync, ResolveChoice, ResolveForm, Tab, Target,
};

impl Console {
    pub(super) fn selected_order(&self) -> Option<Target> {
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

    /// The Dashboard's selected open alert.
    pub(super) fn selected_alert(&self) -> Option<Alert> {
        self.snapshot
            .dashboard
            .as_ref()
            .and_then(|d| d.alerts.get(self.ui.pos().cursor))
            .cloned()
    }

    pub(super) fn selected_job(&self) -> Option<i64> {
        if self.ui.tab != Tab::Errors {
            return None;
        }
        self.snapshot.jobs.get(self.ui.pos().cursor).map(|j| j.id)
    }

    /// The marked orders, or the selected one.
    pub(super) fn targets(&self) -> Vec<Target> {
        if self.ui.marked.is_empty() {
            self.selected_order().into_iter().collect()
        } else {
            self.ui.marked.values().cloned().collect()
        }
    }

    pub(super) fn mark(&mut self) {
        let Some(t) = self.selected_order() else {
            return;
        };
        if self.ui.marked.remove(&t.order_id).is_none() {
            self.ui.marked.insert(t.order_id, t);
        }
        self.move_by(1);
    }

    /// Whether the operator's role may take `action`; if not, says so (role and name) and opens nothing.
    pub(super) fn may(&mut self, action: Permission) -> bool {
        match self.app.may(action) {
            Ok(()) => true,
            Err(e) => {
                self.error(e.to_string());
                false
            }
        }
    }

    pub(super) fn open_fulfil(&mut self) {
        if !self.may(Permission::RecordShipments) {
            return;
        }
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
        // The second parcel usually goes with the first one's carrier.
        let carrier = detail
            .shipments
            .iter()
            .rev()
            .find_map(|s| s.carrier.clone())
            .or_else(|| self.ui.last_carrier.clone())
            .unwrap_or_default();
        let warnings = match self
            .app
            .preview_shipment(&target.number, None, Some(target.version))
        {
            Ok(p) => p.channel_refusals,
            Err(e) => vec![format!("refused: {e}")],
        };
        self.ui.modal = Some(Modal::Fulfil(Box::new(FulfilForm {
            target,
            tracking: Input::default(),
            carrier: Input::new(carrier),
            notes: Input::default(),
            lines,
            focus: 0,
            warnings,
        })));
    }

    pub(super) fn retry_job(&mut self) {
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

    pub(super) fn ask_discard(&mut self) {
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

    pub(super) fn confirmed(&mut self, then: Pending) {
        match then {
            Pending::DiscardJob(id) => {
                match self.app.discard_job(id) {
                    Ok(job) => self.ok(format!("job {} ({}) discarded", job.id, job.kind)),
                    Err(e) => self.error(e.to_string()),
                }
                self.reload();
            }
            Pending::RunHere(pass) => self.run_here(pass),
            Pending::Quit => self.quit = true,
            Pending::AcknowledgeAll { newest, .. } => {
                match self.app.acknowledge_all_alerts(newest) {
                    Ok(n) => self.ok(format!(
                        "{n} alert{} acknowledged by {}",
                        if n == 1 { "" } else { "s" },
                        self.ui.operator
                    )),
                    Err(e) => self.error(e.to_string()),
                }
                self.reload();
            }
        }
    }

    /// The operator said no: a pass offered to run here is queued for an engine instead.
    pub(super) fn declined(&mut self, then: Pending) {
        match then {
            Pending::RunHere(pass) => self.queue_sync(pass),
            _ => self.info("nothing changed"),
        }
    }

    /// Runs one command per target; reports what worked and why anything did not.
    pub(super) fn for_each_target(
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

    pub(super) fn change_status(&mut self, targets: &[Target], status: &str, note: Option<&str>) {
        self.for_each_target(targets, "status changed", |app, t| {
            let c = app.change_status(&t.number, status, note, Some(t.version))?;
            Ok(format!("{} {} → {}", c.order, c.from, c.to))
        });
    }

    pub(super) fn cancel(&mut self, targets: &[Target], reason: &str) {
        self.for_each_target(targets, "cancelled", |app, t| {
            let c = app.cancel(&t.number, reason, Some(t.version))?;
            Ok(c.order)
        });
    }

    /// Ships what the form says; false keeps the dialog open (bad quantities or a refusal).
    pub(super) fn fulfil(&mut self, f: &FulfilForm) -> bool {
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
                if details.carrier.is_some() {
                    self.ui.last_carrier = details.carrier.clone();
                }
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
}

impl Console {
    pub(super) fn selected_conflict(&self) -> Option<ConflictRow> {
        if self.ui.tab != Tab::Conflicts {
            return None;
        }
        match &self.snapshot.conflicts {
            ConflictsView::Rows(rows, _) => rows.get(self.ui.pos().cursor).cloned(),
            ConflictsView::Unavailable(_) => None,
        }
    }

    pub(super) fn open_resolve(&mut self) {
        if !self.may(Permission::ResolveConflicts) {
            return;
        }
        let Some(conflict) = self.selected_conflict() else {
            self.info("select a conflict first (Conflicts panel)");
            return;
        };
        self.ui.modal = Some(Modal::Resolve(Box::new(ResolveForm {
            conflict,
            choice: 0,
            quantity: Input::default(),
        })));
    }

    /// The dialog's decision as an `App` resolution; an unreadable quantity is refused here.
    pub(super) fn resolution_of(&mut self, form: &ResolveForm) -> Option<Resolution> {
        Some(match form.chosen() {
            ResolveChoice::Pos => Resolution::Winner(Winner::Pos),
            ResolveChoice::Store => Resolution::Winner(Winner::Store),
            ResolveChoice::Merge => Resolution::Winner(Winner::Merge),
            ResolveChoice::Quantity => match form.quantity.value().trim().parse::<i64>() {
                Ok(q) => Resolution::Quantity(q),
                Err(_) => {
                    self.error(format!(
                        "{}: type the counted quantity (a whole number)",
                        form.conflict.sku
                    ));
                    return None;
                }
            },
        })
    }

    /// Settles the selected row as this operator — a price_drift by a price, else the SKU's open stock
    /// conflicts by a quantity; false (dialog stays open) when refused.
    pub(super) fn resolve(&mut self, conflict: &ConflictRow, how: Resolution) -> bool {
        let sku = conflict.sku.as_str();
        let done = if conflict.is_price() {
            self.app
                .resolve_price_conflict(sku, how)
                .map(|r| r.summary())
        } else {
            self.app.resolve_conflict(sku, how).map(|r| {
                format!(
                    "{} resolved by {} ({}): {} goes to the store (job {})",
                    r.sku,
                    r.resolved_by,
                    Policy::said(r.resolution),
                    r.quantity,
                    r.job_id
                )
            })
        };
        let done = match done {
            Ok(summary) => {
                self.ok(summary);
                true
            }
            Err(e) => {
                self.error(e.to_string());
                false
            }
        };
        self.reload();
        done
    }

    pub(super) fn acknowledge(&mut self) {
        if self.ui.tab != Tab::Dashboard {
            self.info("alerts are listed on the Dashboard: select one there to acknowledge it");
            return;
        }
        let alert = self.selected_alert().map(|a| a.id);
        let Some(id) = alert else {
            self.info("no open alert to acknowledge");
            return;
        };
        match self.app.acknowledge_alert(id) {
            Ok(a) => self.ok(format!(
                "alert {} acknowledged by {}: {}",
                a.id,
                a.acknowledged_by.as_deref().unwrap_or("?"),
                a.subject
            )),
            Err(e) => self.error(e.to_string()),
        }
        self.reload();
    }

    /// Asks before acknowledging every open alert (the ones raised after this question stay open).
    pub(super) fn ask_acknowledge_all(&mut self) {
        if self.ui.tab != Tab::Dashboard {
            self.info("alerts are listed on the Dashboard: acknowledge them there");
            return;
        }
        // Every open alert now, not the page on screen: the operator may have scrolled past the newest.
        let open = match self.app.open_alerts_now() {
            Ok(open) => open,
            Err(e) => return self.error(e.to_string()),
        };
        let (count, Some(newest)) = (open.count, open.newest) else {
            self.info("no open alert to acknowledge");
            return;
        };
        self.ui.modal = Some(Modal::Confirm {
            message: format!(
                "Acknowledge all {count} open alert{} as {}?",
                if count == 1 { "" } else { "s" },
                self.ui.operator
            ),
            then: Pending::AcknowledgeAll { newest, count },
        });
    }

    /// The selected alert in full.
    pub(super) fn open_alert(&mut self) {
        match self.selected_alert() {
            Some(alert) => {
                self.ui.modal = Some(Modal::Alert {
                    alert: Box::new(alert),
                    scroll: 0,
                })
            }
            None => self.info("no open alert"),
        }
    }

    /// `:sync X`: asks the engine to run a pass now and follows its job until it finishes; with no engine
    /// running, first asks whether to run it here instead (nothing is queued until the operator says no).
    pub(super) fn sync_now(&mut self, pass: SyncPass) {
        if let Err(e) = self.app.may_sync(pass) {
            return self.error(e.to_string());
        }
        if self.running_here(pass) {
            return self.info(format!("sync {} is already running here", pass.name()));
        }
        if !self.engine_alive() {
            return self.ask_run_here(pass);
        }
        self.queue_sync(pass);
    }

    /// Has the engine run `pass` now (its waiting job moved up, or one queued) and follows the job.
    pub(super) fn queue_sync(&mut self, pass: SyncPass) {
        match self.app.run_sync_now(pass) {
            Ok(r) => {
                let how = match r.how {
                    RunNow::AlreadyRunning => "is already running",
                    RunNow::MovedUp => "moved up to run now",
                    RunNow::Enqueued => "queued to run now",
                };
                self.info(format!("sync {}: job {} {how}", pass.name(), r.job_id));
                if !self.ui.syncs.iter().any(|s| s.job_id == Some(r.job_id)) {
                    self.ui.syncs.push(PendingSync {
                        name: pass.name().to_string(),
                        job_id: Some(r.job_id),
                        state: "queued".into(),
                    });
                }
                self.reload();
            }
            Err(e) => self.error(e.to_string()),
        }
    }

    /// Re-reads the jobs of the passes this console asked for; a finished one leaves a toast.
    pub(super) fn follow_syncs(&mut self) {
        let pending = std::mem::take(&mut self.ui.syncs);
        for mut sync in pending {
            // A pass running in this console reports through its thread (`follow_passes_here`).
            let Some(job_id) = sync.job_id else {
                self.ui.syncs.push(sync);
                continue;
            };
            let job = match self.app.job(job_id) {
                Ok(job) => job,
                Err(e) => {
                    self.error(format!("sync {}: {e}", sync.name));
                    continue;
                }
            };
            let error = job.last_error.clone().unwrap_or_default();
            match job.state {
                JobState::Queued | JobState::Running | JobState::Retrying => {
                    sync.state = job.state.as_str().to_string();
                    self.ui.syncs.push(sync);
                }
                // The pass's counts, as it recorded them (a job that reported nothing ends the line here).
                JobState::Done => self.ok(match &job.outcome {
                    Some(counts) => {
                        format!("sync {} finished (job {}): {counts}", sync.name, job.id)
                    }
                    None => format!("sync {} finished (job {})", sync.name, job.id),
                }),
                JobState::Dead => self.error(format!(
                    "sync {} failed (job {}, {} attempts): {error}",
                    sync.name, job.id, job.attempts
                )),
                JobState::Cancelled => self.info(format!(
                    "sync {}: job {} was cancelled ({error})",
                    sync.name, job.id
                )),
            }
        }
    }
}
