//! Orders as a sales channel reports them. An import creates the order and its link, or applies a status
//! change made in the channel. What counts as a change is decided against the link's last known remote
//! status, so our own pushes echoing back through webhooks never come back in as "new" changes.

use rusqlite::Connection;
use serde::Serialize;

use super::orders::{claim_version, enter_status};
use super::{Actor, AppError, Result, effects};
use crate::config::Config;
use crate::domain::Workflow;
use crate::domain::time::Millis;
use crate::store::orders::{self as order_rows};
use crate::store::sync_log::{self, Change};
use crate::store::{NewOrder, links};

/// An order as a channel describes it, already reduced to what syncdesk keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelOrder {
    /// The channel's name, e.g. `woocommerce`; also the link's `system` and the history `source`.
    pub system: String,
    pub external_id: String,
    pub number: String,
    pub customer: Option<String>,
    pub remote_status: String,
    /// The channel's modification stamp (WooCommerce: `date_modified_gmt`).
    pub remote_version: Option<String>,
    /// (SKU, name, quantity)
    pub lines: Vec<(String, Option<String>, i64)>,
}

/// What an import did, for logs, dry runs and `sync run` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ImportOutcome {
    Created {
        number: String,
        external_id: String,
        status: String,
    },
    StatusChanged {
        number: String,
        external_id: String,
        from: String,
        to: String,
    },
    Unchanged {
        number: String,
        external_id: String,
    },
    Skipped {
        number: String,
        external_id: String,
        reason: String,
    },
}

/// Imports one channel order in the caller's transaction. `inbound` maps a channel status to a syncdesk
/// status name (None: not mapped).
pub fn import(
    conn: &Connection,
    workflow: &Workflow,
    config: &Config,
    inbound: &dyn Fn(&str) -> Option<String>,
    order: &ChannelOrder,
    now: Millis,
) -> Result<ImportOutcome> {
    let actor = Actor {
        name: order.system.clone(),
        source: order.system.clone(),
    };
    let ext = order.external_id.clone();
    let remote = order.remote_status.as_str();
    let Some(link) = links::by_external(conn, "order", &order.system, &ext)? else {
        return create(conn, workflow, config, inbound, order, &actor, now);
    };
    let local = order_rows::get(conn, link.local_id)?
        .ok_or_else(|| AppError::Rejected(format!("link {} points at a missing order", link.id)))?;
    let number = local.number.clone();
    if link.remote_status.as_deref() == Some(remote) && link.remote_version == order.remote_version
    {
        return Ok(ImportOutcome::Unchanged {
            number,
            external_id: ext,
        });
    }
    // Our own push coming back (or a change of something other than the status): record, change nothing.
    let echo = link.remote_status.as_deref() == Some(remote)
        || link.pushing_status.as_deref() == Some(remote);
    links::record_remote(
        conn,
        link.id,
        Some(remote),
        order.remote_version.as_deref(),
        now,
    )?;
    if echo {
        return Ok(ImportOutcome::Unchanged {
            number,
            external_id: ext,
        });
    }
    let skip = |reason: String| -> Result<ImportOutcome> {
        sync_log::record(
            conn,
            &Change {
                source: &order.system,
                entity: "order",
                entity_key: &number,
                field: "status",
                old_value: link.remote_status.as_deref(),
                new_value: Some(remote),
                reason: Some(&reason),
                ..Default::default()
            },
            now,
        )?;
        Ok(ImportOutcome::Skipped {
            number: number.clone(),
            external_id: ext.clone(),
            reason,
        })
    };
    let Some(local_name) = inbound(remote) else {
        return skip(format!(
            "{} status '{remote}' has no syncdesk mapping; ignored",
            order.system
        ));
    };
    let to = workflow.by_name(&local_name)?.clone();
    let from = workflow
        .get(local.status_id)
        .ok_or_else(|| AppError::Rejected(format!("order {number} has an unknown status")))?
        .clone();
    if from.kind.is_final() {
        return skip(format!(
            "order is {}, which is final; {} now says '{remote}'",
            from.name, order.system
        ));
    }
    if from.id == to.id {
        return Ok(ImportOutcome::Unchanged {
            number,
            external_id: ext,
        });
    }
    claim_version(conn, &local, &actor, now)?;
    let note = format!(
        "{}: {} → {remote}",
        order.system,
        link.remote_status.as_deref().unwrap_or("?")
    );
    enter_status(
        conn,
        workflow,
        config,
        &actor,
        &local,
        &to,
        Some(&note),
        now,
    )?;
    Ok(ImportOutcome::StatusChanged {
        number,
        external_id: ext,
        from: from.name,
        to: to.name,
    })
}

fn create(
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
    let new = NewOrder {
        number: number.clone(),
        channel: order.system.clone(),
        customer: order.customer.clone(),
        status_id: status.id,
        lines: order.lines.clone(),
    };
    let id = order_rows::insert(conn, &new, &actor.name, now)?;
    if status.kind.is_final() {
        order_rows::set_status(conn, id, status.id, true)?;
    }
    links::insert(
        conn,
        "order",
        id,
        &order.system,
        &ext,
        Some(&order.remote_status),
        order.remote_version.as_deref(),
        now,
    )?;
    let note = format!(
        "imported from {} order {} ({})",
        order.system, ext, order.remote_status
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
    effects::on_status_entered(conn, config, actor, id, &status, now)?;
    Ok(ImportOutcome::Created {
        number,
        external_id: ext,
        status: status.name,
    })
}

/// The channel's own number when free; otherwise prefixed with the channel (two channels may both have a #1001).
fn free_number(conn: &Connection, system: &str, number: &str, external_id: &str) -> Result<String> {
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
