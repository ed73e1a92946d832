//! Orders as a sales channel reports them. An import creates the order and its link, or applies what
//! changed in the channel: status, lines, customer and address. Three rules keep it honest:
//! - a read older than what the link holds (by the channel's modification stamp, or begun before our own
//!   last push finished) changes nothing, so a slow poll cannot undo a push;
//! - our own pushes echoing back are recognised against the link's last known and pushing status;
//! - content is compared by digest, not by stamp, so two edits within one second are both seen.

use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::orders::{claim_version, enter_status};
use super::{Actor, AppError, Result, effects};
use crate::config::Config;
use crate::domain::time::Millis;
use crate::domain::{LinkState, Workflow};
use crate::store::orders::{self as order_rows, LineChange, OrderRow};
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
    /// Where it ships to, one line; `None` when the channel does not say.
    pub ship_to: Option<String>,
    pub remote_status: String,
    /// The channel's modification stamp (WooCommerce: `date_modified_gmt`, RFC 3339).
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
    /// One line for `sync run` output (`remote` prefixes the external id, e.g. `woocommerce #`); `None`
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
        links::note_remote(
            conn,
            link.id,
            remote,
            order.remote_version.as_deref(),
            &fingerprint,
            now,
        )?;
        return Ok(ImportOutcome::Skipped {
            number,
            external_id: ext,
            reason: format!(
                "waiting for an operator to settle the conflict with {} (it now says '{remote}')",
                order.system
            ),
        });
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
        // Keep the conflict state: only what the channel now says is recorded.
        links::note_remote(
            conn,
            link.id,
            remote,
            order.remote_version.as_deref(),
            &fingerprint,
            now,
        )?;
        return Ok(ImportOutcome::Skipped {
            number,
            external_id: ext,
            reason,
        });
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
    Ok(match status {
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
    })
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

/// What the channel changed besides the status.
struct Details {
    /// Human-readable changes applied ("customer …", "lines: SKU-1 1→2").
    applied: Vec<String>,
    /// Why changed lines were not applied.
    refused: Option<String>,
    /// The order's version was claimed (bumped) by this import.
    claimed: bool,
}

/// Applies the channel's customer, address and line changes where that is safe.
fn apply_details(
    conn: &Connection,
    local: &OrderRow,
    actor: &Actor,
    order: &ChannelOrder,
    link: &links::Link,
    now: Millis,
) -> Result<Details> {
    let mut details = Details {
        applied: Vec::new(),
        refused: None,
        claimed: false,
    };
    let customer = order.customer.clone().or_else(|| local.customer.clone());
    let ship_to = order.ship_to.clone().or_else(|| local.ship_to.clone());
    let details_changed = customer != local.customer || ship_to != local.ship_to;
    let lines = plan_lines(conn, local, &order.lines)?;
    let line_changes = match lines {
        LinePlan::Same => Vec::new(),
        LinePlan::Refused(reason) => {
            details.refused = Some(format!(
                "lines changed in {} but not applied: {reason}",
                order.system
            ));
            Vec::new()
        }
        LinePlan::Apply(changes, summary) => {
            details.applied.push(format!("lines: {summary}"));
            changes
        }
    };
    if !details_changed && line_changes.is_empty() {
        if let Some(reason) = &details.refused {
            log(conn, order, &local.number, "lines", None, None, reason, now)?;
        }
        return Ok(details);
    }
    claim_version(conn, local, actor, now)?;
    details.claimed = true;
    if details_changed {
        order_rows::set_details(conn, local.id, customer.as_deref(), ship_to.as_deref())?;
        if customer != local.customer {
            log(
                conn,
                order,
                &local.number,
                "customer",
                local.customer.as_deref(),
                customer.as_deref(),
                "changed in the channel",
                now,
            )?;
            details.applied.push("customer".into());
        }
        if ship_to != local.ship_to {
            log(
                conn,
                order,
                &local.number,
                "ship_to",
                local.ship_to.as_deref(),
                ship_to.as_deref(),
                "changed in the channel",
                now,
            )?;
            details.applied.push("shipping address".into());
        }
    }
    if !line_changes.is_empty() {
        let before = line_summary(&order_rows::lines(conn, local.id)?);
        order_rows::change_lines(conn, local.id, &line_changes)?;
        let after = line_summary(&order_rows::lines(conn, local.id)?);
        log(
            conn,
            order,
            &local.number,
            "lines",
            Some(&before),
            Some(&after),
            "changed in the channel",
            now,
        )?;
        // A back office that already holds the order has the old lines: say so where ops will look.
        for other in links::for_local(conn, "order", local.id)? {
            if other.id != link.id && holds_lines(&other.system) {
                let warning = format!(
                    "lines changed in {} after the order was sent here ({before} → {after}); update it in {}",
                    order.system, other.system
                );
                links::set_warning(conn, other.id, &warning)?;
            }
        }
    }
    if let Some(reason) = &details.refused {
        log(conn, order, &local.number, "lines", None, None, reason, now)?;
    }
    Ok(details)
}

/// A back office that keeps an order's lines once it was sent there.
fn holds_lines(system: &str) -> bool {
    crate::integrations::by_name(system).is_some_and(|i| i.holds_lines)
}

#[allow(clippy::too_many_arguments)]
fn log(
    conn: &Connection,
    order: &ChannelOrder,
    number: &str,
    field: &str,
    old: Option<&str>,
    new: Option<&str>,
    reason: &str,
    now: Millis,
) -> Result<()> {
    sync_log::record(
        conn,
        &Change {
            source: &order.system,
            entity: "order",
            entity_key: number,
            field,
            old_value: old,
            new_value: new,
            reason: Some(reason),
            ..Default::default()
        },
        now,
    )?;
    Ok(())
}

/// `SKU-1 ×2, SKU-2 ×1`
fn line_summary(lines: &[order_rows::OrderLine]) -> String {
    lines
        .iter()
        .map(|l| format!("{} ×{}", l.sku, l.quantity))
        .collect::<Vec<_>>()
        .join(", ")
}

enum LinePlan {
    Same,
    Apply(Vec<LineChange>, String),
    Refused(String),
}

/// Pairs the channel's lines with the order's (by SKU, in order) and decides what may change: a line
/// shipped or written to a POS reductions file cannot shrink below what left, nor vanish.
fn plan_lines(
    conn: &Connection,
    local: &OrderRow,
    incoming: &[(String, Option<String>, i64)],
) -> Result<LinePlan> {
    let current = order_rows::lines(conn, local.id)?;
    let mut unpaired: Vec<Option<&order_rows::OrderLine>> = current.iter().map(Some).collect();
    let mut changes = Vec::new();
    let mut said = Vec::new();
    for (sku, name, qty) in incoming {
        let found = unpaired
            .iter_mut()
            .find(|l| l.is_some_and(|l| l.sku.eq_ignore_ascii_case(sku)))
            .and_then(Option::take);
        match found {
            Some(line) => {
                let renamed = name.is_some() && *name != line.name;
                if line.quantity != *qty {
                    if *qty < line.quantity_shipped {
                        return Ok(LinePlan::Refused(format!(
                            "{sku}: {qty} ordered now, but {} already shipped",
                            line.quantity_shipped
                        )));
                    }
                    if order_rows::line_has_effects(conn, line.id)? && line.quantity_shipped == 0 {
                        return Ok(LinePlan::Refused(format!(
                            "{sku}: {} → {qty}, but the line was already reported to the POS",
                            line.quantity
                        )));
                    }
                    said.push(format!("{sku} {}→{qty}", line.quantity));
                    changes.push(LineChange::Update(line.id, name.clone(), *qty));
                } else if renamed {
                    changes.push(LineChange::Update(line.id, name.clone(), *qty));
                }
            }
            None => {
                said.push(format!("{sku} +{qty}"));
                changes.push(LineChange::Add(sku.clone(), name.clone(), *qty));
            }
        }
    }
    for line in unpaired.into_iter().flatten() {
        if order_rows::line_has_effects(conn, line.id)? {
            return Ok(LinePlan::Refused(format!(
                "{} was removed, but it already shipped or was reported to the POS",
                line.sku
            )));
        }
        said.push(format!("{} removed", line.sku));
        changes.push(LineChange::Remove(line.id));
    }
    if changes.is_empty() {
        return Ok(LinePlan::Same);
    }
    if local.archived && !said.is_empty() {
        return Ok(LinePlan::Refused(
            "the order is already final in syncdesk".into(),
        ));
    }
    if said.is_empty() {
        // Only names changed.
        return Ok(LinePlan::Apply(changes, "names".into()));
    }
    Ok(LinePlan::Apply(changes, said.join(", ")))
}

enum StatusOutcome {
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
fn push_pending(conn: &Connection, order_id: i64, link: &links::Link) -> Result<bool> {
    Ok(match super::effects::channel(&link.system) {
        Some(channel) => (channel.pending)(conn, order_id, link)?,
        None => false,
    })
}

/// The channel's status, applied unless it is our own echo, unmapped, or the order is already final.
#[allow(clippy::too_many_arguments)]
fn apply_status(
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
