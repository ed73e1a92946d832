//! What a channel changed in an order besides its status — customer, address, lines — applied where it is
//! safe: lines already shipped or written to a POS reductions file cannot shrink below what left.

use rusqlite::Connection;

use super::ChannelOrder;
use crate::app::orders::claim_version;
use crate::app::{Actor, Result};
use crate::domain::time::Millis;
use crate::store::links;
use crate::store::orders::{self as order_rows, LineChange, OrderRow};
use crate::store::sync_log::{self, Change};
/// What the channel changed besides the status.
pub(super) struct Details {
    /// Human-readable changes applied ("customer …", "lines: SKU-1 1→2").
    pub(super) applied: Vec<String>,
    /// Why changed lines were not applied.
    pub(super) refused: Option<String>,
    /// The order's version was claimed (bumped) by this import.
    pub(super) claimed: bool,
}

/// Applies the channel's customer, address and line changes where that is safe.
pub(super) fn apply_details(
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
pub(super) fn holds_lines(system: &str) -> bool {
    crate::integrations::by_name(system).is_some_and(|i| i.holds_lines)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn log(
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
pub(super) fn line_summary(lines: &[order_rows::OrderLine]) -> String {
    lines
        .iter()
        .map(|l| format!("{} ×{}", l.sku, l.quantity))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) enum LinePlan {
    Same,
    Apply(Vec<LineChange>, String),
    Refused(String),
}

/// Pairs the channel's lines with the order's (by SKU, in order) and decides what may change: a line
/// shipped or written to a POS reductions file cannot shrink below what left, nor vanish.
pub(super) fn plan_lines(
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
