//! What entering a status sets in motion, as jobs enqueued in the caller's transaction (the outbox):
//! the engine performs them later, so a mail server or a channel being down never blocks a command.

use rusqlite::Connection;

use super::Actor;
use super::channel_push::Outbound;
use crate::config::Config;
use crate::domain::time::Millis;
use crate::domain::{Status, StatusKind};
use crate::store::sync_log::{self, Change};
use crate::store::{NewJob, StoreError, jobs, links, orders};

pub const BACKORDER_EMAIL: &str = "email.backorder";
/// Push an order's current status to WooCommerce (keyed per order: a newer push replaces a waiting one).
pub const WOO_PUSH_STATUS: &str = "woo.push_status";
/// Re-read one order from WooCommerce (a webhook's hint).
pub const WOO_REFRESH_ORDER: &str = "woo.refresh_order";
/// The `modified_after` poll that guarantees nothing is missed.
pub const WOO_RECONCILE_ORDERS: &str = "woo.reconcile_orders";
/// Put a web order into Counterpoint's staging table (once).
pub const CP_STAGE_ORDER: &str = "counterpoint.stage_order";
/// Read what Counterpoint shipped since the watermark.
pub const CP_FULFILMENT_PASS: &str = "counterpoint.fulfilment_pass";
/// A stock pass over every aligned SKU.
pub const STOCK_FULL: &str = "stock.full_pass";
/// A stock pass over what changed since the last one.
pub const STOCK_INCREMENTAL: &str = "stock.incremental_pass";
/// A price pass over every aligned SKU.
pub const STOCK_PRICES: &str = "stock.price_pass";
/// Write an operator's stock conflict resolution to the store and record the new merge base (key `stock:SKU`).
pub const STOCK_APPLY_RESOLUTION: &str = "stock.apply_resolution";
/// Pull new and changed Cartona orders (paged, by creation window) and acknowledge them.
pub const CARTONA_PULL_ORDERS: &str = "cartona.pull_orders";
/// Send every due Cartona status push in bulk, verified (key `cartona`: one pass collects them all).
pub const CARTONA_PUSH_STATUSES: &str = "cartona.push_statuses";
/// Check staged documents of open orders still exist.
pub const CP_VERIFY_DOCUMENTS: &str = "counterpoint.verify_documents";

/// Enqueues the side effects of `order_id` entering `status` because of `actor`.
pub fn on_status_entered(
    conn: &Connection,
    config: &Config,
    actor: &Actor,
    order_id: i64,
    status: &Status,
    now: Millis,
) -> Result<(), StoreError> {
    if status.kind == StatusKind::Backorder {
        enqueue(
            conn,
            config,
            BACKORDER_EMAIL,
            None,
            serde_json::json!({ "order_id": order_id }),
            now,
        )?;

        let number = orders::get(conn, order_id)?
            .map(|o| o.number)
            .unwrap_or_default();
        super::alerts::raise_and_notify(
            conn,
            config,
            &crate::domain::alerts::backorder(&number),
            now,
        )?;
    }
    super::back_office::on_status_entered(conn, config, actor, order_id, status, now)?;
    let links = links::for_local(conn, "order", order_id)?;
    let cp = &config.counterpoint;
    if cp.enabled
        && status.name.eq_ignore_ascii_case(&cp.stage_on)
        && !links.iter().any(|l| l.system == "counterpoint")
    {
        let channel = orders::get(conn, order_id)?
            .map(|o| o.channel)
            .unwrap_or_default();
        if cp
            .stage_channels
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&channel))
        {
            let payload = serde_json::json!({ "order_id": order_id });
            enqueue(
                conn,
                config,
                CP_STAGE_ORDER,
                Some(format!("order:{order_id}")),
                payload,
                now,
            )?;
        }
    }
    push_to_channels(conn, config, actor, order_id, status, &links, |_| true, now)
}

/// A shipment recorded without a status change: channels whose pushed status depends on the delivery state
/// (Cartona's enhanced mapping) may now have something new to say.
pub fn on_shipment_recorded(
    conn: &Connection,
    config: &Config,
    actor: &Actor,
    order_id: i64,
    status: &Status,
    now: Millis,
) -> Result<(), StoreError> {
    let links = links::for_local(conn, "order", order_id)?;
    push_to_channels(
        conn,
        config,
        actor,
        order_id,
        status,
        &links,
        |c| c.follows_shipments,
        now,
    )
}

/// Something a push to `system` needs has changed (e.g. an OTP entered): ask that channel again.
pub fn push_again(
    conn: &Connection,
    config: &Config,
    actor: &Actor,
    order_id: i64,
    status: &Status,
    system: &str,
    now: Millis,
) -> Result<(), StoreError> {
    let links = links::for_local(conn, "order", order_id)?;
    push_to_channels(
        conn,
        config,
        actor,
        order_id,
        status,
        &links,
        |c| c.system == system,
        now,
    )
}

/// Asks each linked sales channel (those `which` selects) whether the status goes out, and enqueues the push
/// or records visibly why not.
#[allow(clippy::too_many_arguments)]
fn push_to_channels(
    conn: &Connection,
    config: &Config,
    actor: &Actor,
    order_id: i64,
    status: &Status,
    links: &[links::Link],
    which: impl Fn(&super::channel_push::ChannelPush) -> bool,
    now: Millis,
) -> Result<(), StoreError> {
    for link in links {
        // A change that came from a system is not pushed back to it.
        if link.system == actor.source {
            continue;
        }
        let Some(channel) = super::channel_push::for_system(&link.system).filter(|c| which(c))
        else {
            continue;
        };
        match (channel.check)(conn, config, status, link)? {
            Outbound::Push => (channel.enqueue)(conn, config, order_id, link, now)?,
            Outbound::Nothing => {}
            Outbound::Skip { state, reason } => {
                hold_back(conn, actor, order_id, link, status, state, &reason, now)?;
            }
        }
    }
    Ok(())
}

/// A status deliberately not sent to a linked system (a rule, a missing mapping): the link takes `state`
/// with the reason, and the sync log says why, so "why didn't it sync?" has an answer.
#[allow(clippy::too_many_arguments)]
pub(crate) fn hold_back(
    conn: &Connection,
    actor: &Actor,
    order_id: i64,
    link: &links::Link,
    status: &Status,
    state: &str,
    reason: &str,
    now: Millis,
) -> Result<(), StoreError> {
    links::set_state(conn, link.id, state, Some(reason))?;
    let number = orders::get(conn, order_id)?
        .map(|o| o.number)
        .unwrap_or_default();
    sync_log::record(
        conn,
        &Change {
            source: "engine",
            entity: "order",
            entity_key: &number,
            field: &format!("{}.status", link.system),
            new_value: Some(&status.name),
            reason: Some(reason),
            actor: Some(&actor.name),
            ..Default::default()
        },
        now,
    )?;
    Ok(())
}

pub(crate) fn enqueue(
    conn: &Connection,
    config: &Config,
    kind: &str,
    key: Option<String>,
    payload: serde_json::Value,
    now: Millis,
) -> Result<i64, StoreError> {
    jobs::enqueue(
        conn,
        &NewJob {
            kind: kind.into(),
            key,
            payload: payload.to_string(),
            run_at: now,
            max_attempts: config.jobs.max_attempts_for(kind),
        },
        now,
    )
}
