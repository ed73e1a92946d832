//! Asked before an operator commits: would this status change (or cancellation) be refused, and which
//! sales channel's rules will refuse to carry it. It runs the command itself in a transaction that is always
//! rolled back, so a dialog refuses before anything is typed and names a channel's refusal in advance with
//! exactly the reason the real change would record.

use serde::Serialize;

use super::orders::{check_move, claim_version, enter_status, load_for_change, ship_in};
use super::{App, AppError, Result};
use crate::domain::time::now_ms;
use crate::domain::{LinkState, StatusKind};
use crate::integrations::Outbound;
use crate::store::links;

/// What a status change would do, seen before it is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusPreview {
    pub order: String,
    pub to: String,
    /// Each linked channel that will not take the change, by its title, with its rule's reason.
    pub channel_refusals: Vec<String>,
}

impl App {
    /// What [`App::change_status`] would do with `order` → `status`: `Err` with its refusal, or the
    /// channels whose rules will hold the change back. Nothing is changed.
    pub fn preview_status_change(
        &mut self,
        reference: &str,
        status: &str,
        expected_version: Option<i64>,
    ) -> Result<StatusPreview> {
        let to = self.workflow.by_name(status)?.clone();
        let (workflow, config, actor) = (&self.workflow, &self.config, &self.actor);
        self.store.dry_run(|tx| {
            let order = load_for_change(tx, reference, expected_version)?;
            check_move(tx, workflow, &order, &to)?;
            let now = now_ms();
            claim_version(tx, &order, actor, now)?;
            enter_status(tx, workflow, config, actor, &order, &to, None, now)?;
            let channel_refusals = channel_refusals(tx, config, &to, order.id)?;
            Ok(StatusPreview {
                order: order.number.clone(),
                to: to.name.clone(),
                channel_refusals,
            })
        })
    }

    /// What [`App::fulfill`] (`lines` None) or [`App::ship`] would do: `Err` with its refusal, or the
    /// channels that will not take the status the shipment leaves the order in. Nothing is changed.
    pub fn preview_shipment(
        &mut self,
        reference: &str,
        lines: Option<&[(String, i64)]>,
        expected_version: Option<i64>,
    ) -> Result<StatusPreview> {
        let (workflow, config, actor) = (&self.workflow, &self.config, &self.actor);
        self.store.dry_run(|tx| {
            let order = load_for_change(tx, reference, expected_version)?;
            let details = super::ShipmentDetails::default();
            let out = ship_in(
                tx,
                workflow,
                config,
                actor,
                &order,
                lines,
                &details,
                now_ms(),
            )?;
            let to = workflow.by_name(&out.status)?.clone();
            Ok(StatusPreview {
                order: order.number.clone(),
                to: to.name.clone(),
                channel_refusals: channel_refusals(tx, config, &to, order.id)?,
            })
        })
    }

    /// What [`App::cancel`] would do with `order` (its reason aside): refused now, before a reason is typed.
    pub fn preview_cancel(
        &mut self,
        reference: &str,
        expected_version: Option<i64>,
    ) -> Result<StatusPreview> {
        let cancelled = self
            .workflow
            .first_of_kind(StatusKind::Cancelled)
            .ok_or_else(|| AppError::Rejected("no cancelled status is configured".into()))?
            .name
            .clone();
        self.preview_status_change(reference, &cancelled, expected_version)
    }
}

/// The order now stands in `to`: each linked channel that will not take it (by its rules) or will refuse
/// it as things stand, by its title, with the reason the real change would record.
fn channel_refusals(
    tx: &rusqlite::Connection,
    config: &crate::config::Config,
    to: &crate::domain::Status,
    order_id: i64,
) -> Result<Vec<String>> {
    let mut refusals = Vec::new();
    for link in links::for_local(tx, "order", order_id)? {
        let Some(channel) = super::effects::channel(&link.system) else {
            continue;
        };
        let (said, reason) = match (channel.check)(tx, config, to, &link)? {
            Outbound::Skip {
                state: LinkState::Blocked,
                reason,
            } => ("will not take it", reason),
            Outbound::PushHeld { reason } => ("will refuse it for now", reason),
            _ => continue,
        };
        let title =
            crate::integrations::by_name(&link.system).map_or(link.system.as_str(), |i| i.title);
        refusals.push(format!("{title} {said}: {reason}"));
    }
    Ok(refusals)
}
