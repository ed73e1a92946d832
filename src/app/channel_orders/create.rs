//! A channel order syncdesk has not seen: the order, its link and its history, under the channel's own
//! number when that is free.

use rusqlite::Connection;

use super::{ChannelOrder, ImportOutcome};
use crate::app::{Actor, AppError, Result, effects};
use crate::config::Config;
use crate::domain::Workflow;
use crate::domain::time::Millis;
use crate::store::orders::{self as order_rows};
use crate::store::{NewOrder, links};
pub(super) fn create(
    conn: &Connection,
    workflow: &Workflow,
    config: &Config,
    inbound: &dyn Fn(&str) -> Option<String>,
    order: &ChannelOrder,
    actor: &Actor,
    now: Millis,
) -> Result<ImportOutcome> {
    let ext = order.external_id.clone();
    let skipped = |reason: String| {
        Ok(ImportOutcome::Skipped {
            number: order.number.clone(),
            external_id: ext.clone(),
            reason,
        })
    };
    let Some(local_name) = inbound(&order.remote_status) else {
        return skipped(format!(
            "{} status '{}' has no syncdesk mapping; not imported",
            order.system, order.remote_status
        ));
    };
    if order.lines.is_empty() {
        return skipped("the order has no line items".into());
    }
    let status = workflow.by_name(&local_name)?.clone();
    let number = free_number(conn, &order.system, &order.number, &ext)?;
    let history = order.history && status.kind.is_final();
    let new = NewOrder {
        number: number.clone(),
        channel: order.system.clone(),
        customer: order.customer.clone(),
        status_id: status.id,
        lines: order.lines.clone(),
        ship_to: order.ship_to.clone(),
        history,
    };
    let id = order_rows::insert(conn, &new, &actor.name, now)?;
    if status.kind.is_final() {
        order_rows::set_status(conn, id, status.id, true)?;
    }
    let link_id = links::insert(
        conn,
        "order",
        id,
        &order.system,
        &ext,
        Some(&order.remote_status),
        order.remote_version.as_deref(),
        now,
    )?;
    links::set_fingerprint(conn, link_id, &order.fingerprint())?;
    let note = format!(
        "imported from {} order {} ({}){}",
        order.system,
        ext,
        order.remote_status,
        if history {
            "; history: final before syncdesk, its stock is not counted"
        } else {
            ""
        }
    );
    order_rows::insert_history(
        conn,
        id,
        None,
        status.id,
        &actor.name,
        &actor.source,
        Some(&note),
        now,
    )?;
    // History already happened: no e-mails, staging or pushes for it.
    if !history {
        effects::on_status_entered(conn, config, actor, id, &status, now)?;
    }
    Ok(ImportOutcome::Created {
        number,
        external_id: ext,
        status: status.name,
    })
}

/// The channel's own number when free; otherwise prefixed with the channel (two channels may both have a #1001).
pub(super) fn free_number(
    conn: &Connection,
    system: &str,
    number: &str,
    external_id: &str,
) -> Result<String> {
    let number = number.trim().trim_start_matches('#');
    let base = if number.is_empty() {
        external_id
    } else {
        number
    };
    for candidate in [
        base.to_string(),
        format!("{system}-{base}"),
        format!("{system}-{base}-{external_id}"),
    ] {
        if !order_rows::number_exists(conn, &candidate)? {
            return Ok(candidate);
        }
    }
    Err(AppError::Rejected(format!(
        "no free order number for {system} order {external_id}"
    )))
}
