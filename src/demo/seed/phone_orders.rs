//! Months of phone orders, each taken through the app's own moves and shipments (checked moves, versions,
//! history, effects) with its own timestamps, all in one transaction.

use std::collections::BTreeMap;

use super::Item;
use super::choices::{customer, pick_lines};
use crate::app::orders::{claim_version, enter_status, ship_in};
use crate::app::{Actor, App, AppError, ShipmentDetails};
use crate::config::Config;
use crate::demo::{DemoError, failed};
use crate::domain::Workflow;
use crate::domain::time::{Millis, now_ms};
use crate::store::orders::{self as order_rows, NewOrder};

const PHONE_ORDERS: usize = 330;
const STAFF: &[&str] = &["mia", "jonas", "ana", "tomas"];
const CARRIERS: &[&str] = &["DPD", "UPS", "GLS", "Post"];
const HOUR: Millis = 3_600_000;

/// Where a seeded phone order ends up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Pending,
    Processing,
    Ready,
    PartlyShipped,
    Shipped,
    Backorder,
    Completed,
    CompletedInTwo,
    Cancelled,
}

const FATES: &[(Fate, u32)] = &[
    (Fate::Pending, 10),
    (Fate::Processing, 12),
    (Fate::Ready, 9),
    (Fate::PartlyShipped, 4),
    (Fate::Shipped, 4),
    (Fate::Backorder, 5),
    (Fate::Completed, 38),
    (Fate::CompletedInTwo, 8),
    (Fate::Cancelled, 10),
];

/// One phone order to write: who ordered what, when, and where it ends up.
struct PhoneOrder {
    number: String,
    customer: String,
    fate: Fate,
    created: Millis,
    lines: Vec<(String, i64)>,
}

/// What every phone order is written with.
struct Writing<'a> {
    workflow: &'a Workflow,
    config: &'a Config,
    /// SKU → product name, for the order lines.
    names: BTreeMap<&'a str, &'a str>,
    now: Millis,
}

/// Writes the phone orders; returns how many.
pub(super) fn seed_phone_orders(
    app: &mut App,
    sellable: &[Item],
    rng: &mut fastrand::Rng,
) -> Result<usize, DemoError> {
    let config = app.config().clone();
    let workflow = app.workflow().clone();
    let now = now_ms();
    let plans = plan(sellable, now, rng);
    let writing = Writing {
        workflow: &workflow,
        config: &config,
        names: sellable
            .iter()
            .map(|i| (i.sku.as_str(), i.name.as_str()))
            .collect(),
        now,
    };
    app.store()
        .write(|tx| -> Result<(), AppError> {
            for order in &plans {
                write_order(tx, &writing, order, rng)?;
            }
            Ok(())
        })
        .map_err(|e| failed("phone orders")(&e))?;
    Ok(plans.len())
}

/// Draws every order's fate, age, customer and lines (finished orders are older; open ones are from the
/// last few days).
fn plan(sellable: &[Item], now: Millis, rng: &mut fastrand::Rng) -> Vec<PhoneOrder> {
    let mut stock: BTreeMap<String, i64> =
        sellable.iter().map(|i| (i.sku.clone(), 1_000)).collect();
    let total: u32 = FATES.iter().map(|(_, w)| w).sum();
    let mut plans: Vec<PhoneOrder> = (0..PHONE_ORDERS)
        .map(|_| {
            let mut pick = rng.u32(..total);
            let fate = FATES
                .iter()
                .find(|(_, w)| {
                    let hit = pick < *w;
                    pick = pick.saturating_sub(*w);
                    hit
                })
                .map_or(Fate::Completed, |(f, _)| *f);
            let age_hours = match fate {
                Fate::Completed | Fate::CompletedInTwo | Fate::Cancelled => rng.i64(30..90 * 24),
                _ => rng.i64(2..96),
            };
            let c = customer(rng);
            PhoneOrder {
                number: String::new(),
                customer: format!("{} {}", c.first_name, c.last_name),
                fate,
                created: now - age_hours * HOUR - rng.i64(0..HOUR),
                lines: pick_lines(rng, sellable, &mut stock),
            }
        })
        .collect();
    // Taken in the order they were phoned in, as a real shop's are: numbers and arrival follow age.
    plans.sort_by_key(|p| p.created);
    for (n, p) in plans.iter_mut().enumerate() {
        p.number = format!("R-{}", 1001 + n);
    }
    plans
}

/// Takes one order by phone, then through its fate's moves and shipments, each a little later.
fn write_order(
    tx: &rusqlite::Connection,
    w: &Writing,
    order: &PhoneOrder,
    rng: &mut fastrand::Rng,
) -> Result<(), AppError> {
    let staff = STAFF[rng.usize(..STAFF.len())];
    let actor = Actor::operator(staff);
    let id = take_by_phone(tx, w, order, staff)?;
    let mut at = order.created;
    let mut next = |rng: &mut fastrand::Rng| {
        at = (at + rng.i64(HOUR / 4..HOUR * 20)).min(w.now - 60_000);
        at
    };
    let steps: &[&str] = match order.fate {
        Fate::Pending => &[],
        Fate::Processing => &["Processing"],
        Fate::Backorder => &["Processing", "Backorder"],
        Fate::Cancelled if rng.bool() => &["Cancelled"],
        Fate::Cancelled => &["Processing", "Cancelled"],
        Fate::Shipped => &["Processing", "Ready to Ship", "Shipped"],
        _ => &["Processing", "Ready to Ship"],
    };
    for to in steps {
        if *to == "Shipped" {
            // Shipped is reached by a shipment (#15): the first parcel leaves before the status says so
            // (a single unit would complete the order, so such an order stays Ready to Ship).
            if order.lines.iter().map(|(_, q)| q).sum::<i64>() < 2 {
                break;
            }
            let row = order_rows::get(tx, id)?
                .ok_or_else(|| AppError::OrderNotFound(order.number.clone()))?;
            let first = [(order.lines[0].0.clone(), 1)];
            let details = ShipmentDetails::default();
            ship_in(
                tx,
                w.workflow,
                w.config,
                &actor,
                &row,
                Some(&first),
                &details,
                next(rng),
            )?;
        }
        let note = match *to {
            "Backorder" => Some("supplier delay"),
            "Cancelled" => Some("customer changed their mind"),
            _ => None,
        };
        let t = next(rng);
        move_to(tx, w.workflow, w.config, &actor, id, to, note, t)?;
    }
    let ship = |lines: Option<&[(String, i64)]>, at: Millis, rng: &mut fastrand::Rng| {
        let row = order_rows::get(tx, id)?
            .ok_or_else(|| AppError::OrderNotFound(order.number.clone()))?;
        let details = ShipmentDetails {
            carrier: Some(CARRIERS[rng.usize(..CARRIERS.len())].to_string()),
            tracking: Some(format!("1Z{:010}", rng.u64(..10_000_000_000))),
            notes: None,
        };
        ship_in(tx, w.workflow, w.config, &actor, &row, lines, &details, at).map(|_| ())
    };
    match order.fate {
        Fate::Completed => ship(None, next(rng), rng)?,
        Fate::PartlyShipped | Fate::CompletedInTwo => {
            let (sku, qty) = &order.lines[0];
            let part = [(sku.clone(), (*qty - 1).max(1))];
            let whole = order.lines.len() == 1 && *qty == 1;
            if !whole {
                ship(Some(&part), next(rng), rng)?;
            }
            if order.fate == Fate::CompletedInTwo || whole {
                ship(None, next(rng), rng)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The order as `staff` took it by phone: Pending, with its history's first line. Returns its id.
fn take_by_phone(
    tx: &rusqlite::Connection,
    w: &Writing,
    order: &PhoneOrder,
    staff: &str,
) -> Result<i64, AppError> {
    let pending = w
        .workflow
        .by_name("Pending")
        .map_err(|e| AppError::Rejected(e.to_string()))?;
    let id = order_rows::insert(
        tx,
        &NewOrder {
            number: order.number.clone(),
            channel: "phone".into(),
            customer: Some(order.customer.clone()),
            ship_to: None,
            history: false,
            status_id: pending.id,
            lines: order
                .lines
                .iter()
                .map(|(s, q)| {
                    (
                        s.clone(),
                        w.names.get(s.as_str()).map(|n| n.to_string()),
                        *q,
                    )
                })
                .collect(),
        },
        staff,
        order.created,
    )?;
    order_rows::insert_history(
        tx,
        id,
        None,
        pending.id,
        staff,
        "operator",
        Some("taken by phone"),
        order.created,
    )?;
    Ok(id)
}

/// One operator move at a given time, through the app's rules (checked move, version, history, effects).
#[allow(clippy::too_many_arguments)]
fn move_to(
    tx: &rusqlite::Connection,
    workflow: &Workflow,
    config: &Config,
    actor: &Actor,
    id: i64,
    to: &str,
    note: Option<&str>,
    at: Millis,
) -> Result<(), AppError> {
    let order =
        order_rows::get(tx, id)?.ok_or_else(|| AppError::OrderNotFound(format!("#{id}")))?;
    let to = workflow.by_name(to)?;
    crate::app::orders::check_move(tx, workflow, &order, to)?;
    claim_version(tx, &order, actor, at)?;
    enter_status(tx, workflow, config, actor, &order, to, note, at)?;
    Ok(())
}
