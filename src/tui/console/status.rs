//! The status picker and the cancel dialog, refused up front where the app would refuse: each option is
//! previewed through `App` (a rolled-back run of the command) before the operator commits, so a channel's
//! rule known in advance is named in the picker, a cancellation that cannot happen is refused before a
//! reason is typed, and Shipped on an order with nothing shipped leads to the shipment dialog (F).

use tui_input::Input;

use super::Console;
use crate::domain::fulfilment::is_unshipped;
use crate::domain::{Permission, StatusKind};
use crate::store::OrderLine;
use crate::tui::action::Action;
use crate::tui::state::{Modal, StatusPicker, Target};

impl Console {
    /// Statuses every target may move to (Completed is never offered: shipments complete orders).
    pub(super) fn options_for(&self, targets: &[Target]) -> Vec<String> {
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

    pub(super) fn open_status_picker(&mut self) {
        if !self.may(Permission::ChangeStatuses) {
            return;
        }
        let targets = self.targets();
        if targets.is_empty() {
            self.info("select an order first (Orders panel)");
            return;
        }
        let options = self.options_for(&targets);
        if options.is_empty() {
            let status = self.app.workflow().get(targets[0].status_id).cloned();
            self.error(match (targets.len(), status) {
                // The key first: at 80 columns the end of a toast is cut.
                (1, Some(s)) if s.kind == StatusKind::Shipped => format!(
                    "order {} is {}: record the shipment: {} — it moves on by its shipments",
                    targets[0].number,
                    s.name,
                    self.keymap.normal.short(Action::Fulfil)
                ),
                (1, Some(s)) if s.kind.is_final() => {
                    format!("order {} is {}, which is final", targets[0].number, s.name)
                }
                (1, _) => format!("order {} has no status to move to", targets[0].number),
                _ => "the marked orders have no status change in common".to_string(),
            });
            return;
        }
        let warnings = options
            .iter()
            .map(|o| self.status_note(&targets, o))
            .collect();
        self.ui.modal = Some(Modal::StatusPicker(Box::new(StatusPicker {
            targets,
            options,
            warnings,
            cursor: 0,
            note: Input::default(),
            typing: false,
        })));
    }

    /// What the picker says beside `status` before it is chosen: why the app would refuse it, or which
    /// channel will not take it (`None`: nothing to say).
    fn status_note(&mut self, targets: &[Target], status: &str) -> Option<String> {
        if self.opens_shipment(targets, status) {
            return Some("nothing is shipped yet: this opens the shipment dialog (F)".into());
        }
        let mut said = Vec::new();
        for t in targets {
            let who = if targets.len() > 1 {
                format!("{}: ", t.number)
            } else {
                String::new()
            };
            match self
                .app
                .preview_status_change(&t.number, status, Some(t.version))
            {
                Ok(p) => said.extend(p.channel_refusals.into_iter().map(|r| format!("{who}{r}"))),
                Err(e) => said.push(format!("refused: {e}")),
            }
        }
        (!said.is_empty()).then(|| said.join("; "))
    }

    /// Whether picking `status` means recording a shipment: a shipped status for the one selected order
    /// while nothing of it has shipped (a status alone would claim a parcel nobody recorded).
    fn opens_shipment(&self, targets: &[Target], status: &str) -> bool {
        let shipped = self
            .app
            .workflow()
            .by_name(status)
            .is_ok_and(|s| s.kind == StatusKind::Shipped);
        let [target] = targets else {
            return false;
        };
        shipped
            && self
                .snapshot
                .detail
                .as_ref()
                .filter(|(d, _)| d.id == target.order_id)
                .is_some_and(|(d, _)| {
                    is_unshipped(&d.lines.iter().map(OrderLine::progress).collect::<Vec<_>>())
                })
    }

    /// Applies a picked status: a cancellation first asks for its reason, a shipped status with nothing
    /// shipped opens the shipment dialog instead.
    /// The note (if any) goes with the change: into the cancellation's reason or the shipment's notes.
    pub(super) fn pick_status(
        &mut self,
        targets: Vec<Target>,
        status: &str,
        note: Option<&str>,
    ) -> Option<Modal> {
        let kind = self.app.workflow().by_name(status).map(|s| s.kind).ok();
        if self.opens_shipment(&targets, status) {
            self.info(format!(
                "{status} is recorded by a shipment: what left, and its tracking"
            ));
            self.open_fulfil();
            let mut modal = self.ui.modal.take();
            if let (Some(Modal::Fulfil(form)), Some(note)) = (&mut modal, note) {
                form.notes = Input::new(note.to_string());
            }
            return modal;
        }
        if kind == Some(StatusKind::Cancelled) {
            let mut modal = self.cancel_dialog(targets);
            if let (Some(Modal::Cancel { reason, .. }), Some(note)) = (&mut modal, note) {
                *reason = Input::new(note.to_string());
            }
            return modal;
        }
        self.change_status(&targets, status, note);
        None
    }

    pub(super) fn open_cancel(&mut self) {
        if !self.may(Permission::CancelOrders) {
            return;
        }
        let targets = self.targets();
        if targets.is_empty() {
            self.info("select an order first (Orders panel)");
            return;
        }
        self.ui.modal = self.cancel_dialog(targets);
    }

    /// The cancel dialog for `targets`, or `None` with the reason when the app would refuse any of them
    /// (before the operator types a reason for nothing).
    fn cancel_dialog(&mut self, targets: Vec<Target>) -> Option<Modal> {
        let refused: Vec<String> = targets
            .iter()
            .filter_map(|t| {
                self.app
                    .preview_cancel(&t.number, Some(t.version))
                    .err()
                    .map(|e| e.to_string())
            })
            .collect();
        if !refused.is_empty() {
            self.error(format!("cannot cancel: {}", refused.join("; ")));
            return None;
        }
        Some(Modal::Cancel {
            targets,
            reason: Input::default(),
        })
    }
}
