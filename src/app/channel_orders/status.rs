//! The channel's status applied to an order, unless it is our own push echoing back, unmapped, already
//! final, or racing a push of ours (then the link goes into conflict for a person to settle).

use rusqlite::Connection;

use super::ChannelOrder;
use super::details::log;
use crate::app::orders::{claim_version, enter_status};
use crate::app::{Actor, AppError, Result};
use crate::config::Config;
use crate::domain::time::Millis;
use crate::domain::{LinkState, Workflow};
use crate::store::links;
use crate::store::orders::OrderRow;
pub(super) enum StatusOutcome {
    Same,
    Changed {
        from: String,
        to: String,
    },
    Skipped(String),
    /// The link was put in conflict (the message says why).
    Conflict(String),
}

/// A push of this order to the link's channel is queued or running.
pub(super) fn push_pending(conn: &Connection, order_id: i64, link: &links::Link) -> Result<bool> {
    Ok(match crate::app::effects::channel(&link.system) {
        Some(channel) => (channel.pending)(conn, order_id, link)?,
        None => false,
    })
}

/// The channel's status, applied unless it is our own echo, unmapped, or the order is already final.
#[allow(clippy::too_many_arguments)]
pub(super) fn apply_status(
    conn: &Connection,
    workflow: &Workflow,
    config: &Config,
    inbound: &dyn Fn(&str) -> Option<String>,
    actor: &Actor,
    local: &OrderRow,
    order: &ChannelOrder,
    link: &links::Link,
    claimed: bool,
    now: Millis,
) -> Result<StatusOutcome> {
    let remote = order.remote_status.as_str();
    // Our own push coming back, or nothing new about the status.
    if link.remote_status.as_deref() == Some(remote)
        || link.pushing_status.as_deref() == Some(remote)
    {
        return Ok(StatusOutcome::Same);
    }
    let skip = |reason: String| -> Result<StatusOutcome> {
        log(
            conn,
            order,
            &local.number,
            "status",
            link.remote_status.as_deref(),
            Some(remote),
            &reason,
            now,
        )?;
        Ok(StatusOutcome::Skipped(reason))
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
        .ok_or_else(|| AppError::Rejected(format!("order {} has an unknown status", local.number)))?
        .clone();
    if from.kind.is_final() {
        if to.id != from.id && push_pending(conn, local.id, link)? {
            // syncdesk is about to send its own final status over the channel's: a person decides.
            let message = format!(
                "{} changed this order to '{remote}' while syncdesk's {} was waiting to be sent; nothing was sent, so the channel's change is not overwritten. Settle it: keep the channel's status, or push syncdesk's",
                order.system, from.name
            );
            links::set_state(conn, link.id, LinkState::Conflict, Some(&message))?;
            log(
                conn,
                order,
                &local.number,
                "status",
                link.remote_status.as_deref(),
                Some(remote),
                &message,
                now,
            )?;
            return Ok(StatusOutcome::Conflict(message));
        }
        return skip(format!(
            "order is {}, which is final; {} now says '{remote}'",
            from.name, order.system
        ));
    }
    if from.id == to.id {
        return Ok(StatusOutcome::Same);
    }
    if !claimed {
        claim_version(conn, local, actor, now)?;
    }
    let note = format!(
        "{}: {} → {remote}",
        order.system,
        link.remote_status.as_deref().unwrap_or("?")
    );
    enter_status(conn, workflow, config, actor, local, &to, Some(&note), now)?;
    Ok(StatusOutcome::Changed {
        from: from.name,
        to: to.name,
    })
}
