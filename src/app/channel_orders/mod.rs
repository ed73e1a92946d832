//! Orders as a sales channel reports them. An import creates the order and its link, or applies what
//! changed in the channel: status, lines, customer and address. Three rules keep it honest:
//! - a read older than what the link holds (by the channel's modification stamp, or begun before our own
//!   last push finished) changes nothing, so a slow poll cannot undo a push;
//! - our own pushes echoing back are recognised against the link's last known and pushing status;
//! - content is compared by digest, not by stamp, so two edits within one second are both seen.

use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Actor, AppError, Result};
use crate::config::Config;
use crate::domain::time::Millis;
use crate::domain::{LinkState, Workflow};
use crate::store::orders::{self as order_rows};

mod create;
mod details;
mod status;

use crate::store::links;
use create::create;
use details::apply_details;
use status::{StatusOutcome, apply_status};

/// An order as a channel describes it, already reduced to what syncdesk keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelOrder {
    /// The channel's name, e.g. the web store's; also the link's `system` and the history `source`.
    pub system: String,
    pub external_id: String,
    pub number: String,
    pub customer: Option<String>,
    /// Where it ships to, one line; `None` when the channel does not say.
    pub ship_to: Option<String>,
    pub remote_status: String,
    /// The channel's modification stamp (RFC 3339, e.g. the store's last-modified date).
    pub remote_version: Option<String>,
    /// (SKU, name, quantity)
    pub lines: Vec<(String, Option<String>, i64)>,
    /// When the read that produced this began (our clock); 0 when unknown.
    pub read_at: Millis,
    /// Part of the history read by a first import: if it is already final, its effects happened before
    /// syncdesk and are never counted (no POS reductions, no stock sales).
    pub history: bool,
}

impl ChannelOrder {
    /// A digest of everything an import applies, so any change to it — in any second — is noticed.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.remote_status.as_str(),
            self.customer.as_deref().unwrap_or(""),
            self.ship_to.as_deref().unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
        for (sku, name, qty) in &self.lines {
            h.update(
                format!(
                    "{sku}\u{1e}{}\u{1e}{qty}\u{1f}",
                    name.as_deref().unwrap_or("")
                )
                .as_bytes(),
            );
        }
        h.finalize()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
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
    /// Lines, customer or address changed (the status may have too: then `StatusChanged` is reported).
    Updated {
        number: String,
        external_id: String,
        what: String,
    },
    Unchanged {
        number: String,
        external_id: String,
    },
    /// The read is older than what syncdesk holds; nothing was changed.
    Stale {
        number: String,
        external_id: String,
        reason: String,
    },
    Skipped {
        number: String,
        external_id: String,
        reason: String,
    },
}

impl ImportOutcome {
    /// One line for `sync run` output (`remote` prefixes the external id, e.g. `store #`); `None`
    /// for an order that did not change.
    pub fn describe(&self, remote: &str) -> Option<String> {
        match self {
            ImportOutcome::Created {
                number,
                external_id,
                status,
            } => Some(format!(
                "create {number} ({remote}{external_id}) as {status}"
            )),
            ImportOutcome::StatusChanged {
                number, from, to, ..
            } => Some(format!("move {number}: {from} → {to}")),
            ImportOutcome::Updated { number, what, .. } => Some(format!("update {number}: {what}")),
            ImportOutcome::Stale { number, reason, .. } => {
                Some(format!("ignore an old read of {number}: {reason}"))
            }
            ImportOutcome::Skipped { number, reason, .. } => {
                Some(format!("skip {number}: {reason}"))
            }
            ImportOutcome::Unchanged { .. } => None,
        }
    }
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
        role: None,
    };
    let ext = order.external_id.clone();
    let remote = order.remote_status.as_str();
    let Some(link) = links::by_external(conn, "order", &order.system, &ext)? else {
        return create(conn, workflow, config, inbound, order, &actor, now);
    };
    let local = order_rows::get(conn, link.local_id)?
        .ok_or_else(|| AppError::Rejected(format!("link {} points at a missing order", link.id)))?;
    let number = local.number.clone();
    if let Some(reason) = stale(&link, order) {
        return Ok(ImportOutcome::Stale {
            number,
            external_id: ext,
            reason,
        });
    }
    let fingerprint = order.fingerprint();
    if link.remote_fingerprint.as_deref() == Some(fingerprint.as_str()) {
        links::record_remote_seen(conn, link.id, order.remote_version.as_deref(), now)?;
        return Ok(ImportOutcome::Unchanged {
            number,
            external_id: ext,
        });
    }
    if link.sync_state == LinkState::Conflict {
        // An operator is deciding between the channel's change and ours: keep what the channel now says.
        let reason = format!(
            "waiting for an operator to settle the conflict with {} (it now says '{remote}')",
            order.system
        );
        return hold_in_conflict(conn, &link, order, &fingerprint, number, reason, now);
    }

    let details = apply_details(conn, &local, &actor, order, &link, now)?;
    // `apply_details` may have bumped the version: the status change below works on the fresh row.
    let local = order_rows::get(conn, local.id)?.unwrap_or(local);
    let status = apply_status(
        conn,
        workflow,
        config,
        inbound,
        &actor,
        &local,
        order,
        &link,
        details.claimed,
        now,
    )?;
    if let StatusOutcome::Conflict(reason) = status {
        return hold_in_conflict(conn, &link, order, &fingerprint, number, reason, now);
    }
    links::record_remote(
        conn,
        link.id,
        Some(remote),
        order.remote_version.as_deref(),
        now,
    )?;
    links::set_fingerprint(conn, link.id, &fingerprint)?;
    if let Some(refused) = &details.refused {
        // Shown on the link (and so in the console) until the channel and syncdesk agree again.
        links::set_state(conn, link.id, LinkState::Error, Some(refused))?;
    }
    Ok(outcome(status, details, number, ext))
}

/// The link stays in conflict: only what the channel now says is recorded, and the import is skipped.
fn hold_in_conflict(
    conn: &Connection,
    link: &links::Link,
    order: &ChannelOrder,
    fingerprint: &str,
    number: String,
    reason: String,
    now: Millis,
) -> Result<ImportOutcome> {
    links::note_remote(
        conn,
        link.id,
        &order.remote_status,
        order.remote_version.as_deref(),
        fingerprint,
        now,
    )?;
    Ok(ImportOutcome::Skipped {
        number,
        external_id: order.external_id.clone(),
        reason,
    })
}

/// What an import of a known order did, from its status outcome and the other details it applied.
fn outcome(
    status: StatusOutcome,
    details: details::Details,
    number: String,
    ext: String,
) -> ImportOutcome {
    match status {
        StatusOutcome::Changed { from, to } => ImportOutcome::StatusChanged {
            number,
            external_id: ext,
            from,
            to,
        },
        StatusOutcome::Skipped(reason) | StatusOutcome::Conflict(reason) => {
            ImportOutcome::Skipped {
                number,
                external_id: ext,
                reason,
            }
        }
        StatusOutcome::Same if !details.applied.is_empty() => ImportOutcome::Updated {
            number,
            external_id: ext,
            what: details.applied.join("; "),
        },
        StatusOutcome::Same => match details.refused {
            Some(reason) => ImportOutcome::Skipped {
                number,
                external_id: ext,
                reason,
            },
            None => ImportOutcome::Unchanged {
                number,
                external_id: ext,
            },
        },
    }
}

/// Why `order` is older than what the link already holds, if it is.
fn stale(link: &links::Link, order: &ChannelOrder) -> Option<String> {
    let parse = |v: &str| chrono::DateTime::parse_from_rfc3339(v).ok();
    let incoming = order.remote_version.as_deref().and_then(parse);
    let held = link.remote_version.as_deref().and_then(parse);
    if let (Some(incoming), Some(held)) = (incoming, held) {
        if incoming < held {
            return Some(format!(
                "read shows the order as of {incoming}, syncdesk already holds {held}"
            ));
        }
        // Same second: only a read begun after our last push is known to include it.
        let raced_push = link
            .pushed_at
            .is_some_and(|pushed| order.read_at > 0 && order.read_at < pushed);
        if incoming == held
            && raced_push
            && link.remote_status.as_deref() != Some(&order.remote_status)
        {
            return Some(format!(
                "read began before syncdesk's push of '{}' finished (same second, {held})",
                link.remote_status.as_deref().unwrap_or("?")
            ));
        }
    }
    None
}
