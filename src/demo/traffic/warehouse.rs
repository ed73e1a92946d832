//! The simulated warehouse: moves one active Cartona order a step on through the app, as an operator would,
//! and tells the tracker what the outbox should make of it (a push, a block, nothing).

use super::{Expect, Traffic};
use crate::integrations::cartona::rules::Verdict;
use crate::store::links;

/// The warehouse's next step for a Cartona order in `status`, if it has one.
fn warehouse_step(status: &str) -> Option<&'static str> {
    match status {
        "Pending" => Some("Processing"),
        "Processing" => Some("Ready to Ship"),
        "Ready to Ship" => Some("Shipped"),
        _ => None,
    }
}

/// The simulated warehouse moves one active Cartona order a step on through the app, the way an operator
/// would (now and then cancelling one Cartona delivers, the one change such an order still syncs).
/// `delivered_by_cartona` picks whose orders to move; false when there was nothing to move.
pub(super) fn move_marketplace_order(
    t: &mut Traffic,
    rng: &mut fastrand::Rng,
    delivered_by_cartona: Option<bool>,
) -> bool {
    let Ok(active) = t.app.list_orders(None, false, None, 100_000, 0) else {
        return false;
    };
    let workflow = t.app.workflow().clone();
    let candidates: Vec<(String, String, bool)> = active
        .into_iter()
        .filter(|o| o.channel == crate::integrations::cartona::outbound::SYSTEM)
        .filter_map(|o| {
            let status = workflow.get(o.status_id)?.name.clone();
            warehouse_step(&status)?;
            let by_cartona = t.cartona.order(&o.number)?.delivered_by == "cartona";
            delivered_by_cartona
                .is_none_or(|want| want == by_cartona)
                .then_some((o.number, status, by_cartona))
        })
        .collect();
    if candidates.is_empty() {
        return false;
    }
    // Mostly carry on with orders already in progress, so orders travel the whole way to Shipped.
    let started: Vec<&(String, String, bool)> =
        candidates.iter().filter(|c| c.1 != "Pending").collect();
    let (number, from, by_cartona) = if !started.is_empty() && rng.u8(..10) < 6 {
        started[rng.usize(..started.len())].clone()
    } else {
        candidates[rng.usize(..candidates.len())].clone()
    };
    let cancel = by_cartona && delivered_by_cartona.is_none() && rng.u8(..3) == 0;
    let before = links::by_external(t.app.store().conn(), "order", "cartona", &number)
        .ok()
        .flatten()
        .and_then(|l| l.remote_status);
    // Shipped is reached by a shipment (#15): the first parcel leaves before the status says so.
    if !cancel && warehouse_step(&from) == Some("Shipped") && !first_parcel(t, &number) {
        return false;
    }
    let moved = if cancel {
        t.app
            .cancel(&number, "out_of_stock: the depot ran out", None)
    } else {
        t.app.change_status(
            &number,
            warehouse_step(&from).unwrap_or("Processing"),
            None,
            None,
        )
    };
    let change = match moved {
        Ok(change) => change,
        Err(e) => {
            t.feed.say(format!(
                "warehouse could not move marketplace order {number}: {e}"
            ));
            return false;
        }
    };
    let to = change.to.clone();
    t.feed.say(format!(
        "warehouse moved marketplace order {number}: {from} → {to}{}",
        if cancel { " (out of stock)" } else { "" }
    ));
    // What the outbox made of it: the same plan the push pass follows.
    let config = t.app.config().clone();
    let conn = t.app.store().conn();
    let plan = links::by_external(conn, "order", "cartona", &number)
        .ok()
        .flatten()
        .and_then(|link| {
            crate::integrations::cartona::outbound::plan(conn, &workflow, &config, &link).ok()
        })
        .flatten();
    match plan.map(|p| p.verdict) {
        Some(Verdict::Blocked { .. }) => {
            let _ = t.expect.send(Expect::CartonaBlocked { number, status: to });
        }
        Some(Verdict::Allowed { status }) if before.as_deref() == Some(status.as_str()) => {
            t.feed.say(format!(
                "order {number} → {to}: Cartona already shows {status}, nothing to push"
            ));
        }
        Some(Verdict::Allowed { status }) => {
            let _ = t.expect.send(Expect::CartonaPush {
                number,
                status: to,
                cartona_status: status,
            });
        }
        Some(Verdict::Unmapped { reason }) => t.feed.say(format!("order {number}: {reason}")),
        None => {}
    }
    true
}

/// Ships one unit of an order's first open line, leaving some open (an order with a single unit open is not
/// moved on to Shipped by the warehouse); false when nothing was shipped.
fn first_parcel(t: &mut Traffic, number: &str) -> bool {
    let Ok(order) = t.app.order(number) else {
        return false;
    };
    let open: i64 = order
        .lines
        .iter()
        .map(|l| l.quantity - l.quantity_shipped)
        .sum();
    let Some(line) = order.lines.iter().find(|l| l.quantity > l.quantity_shipped) else {
        return false;
    };
    if open < 2 {
        return false;
    }
    let details = crate::app::ShipmentDetails::default();
    match t.app.ship(number, &[(line.sku.clone(), 1)], &details, None) {
        Ok(_) => true,
        Err(e) => {
            t.feed.say(format!(
                "warehouse could not ship marketplace order {number}: {e}"
            ));
            false
        }
    }
}
