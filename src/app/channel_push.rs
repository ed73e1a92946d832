//! Where an order's status goes when it changes: per link system, the check that decides whether to push
//! (mapping, business rules) and how the push is enqueued. Adding a channel adds a row here, not a branch
//! in the outbox.

use rusqlite::Connection;

use super::effects::{self, CARTONA_PUSH_STATUSES, WOO_PUSH_STATUS};
use crate::config::Config;
use crate::domain::Status;
use crate::domain::time::Millis;
use crate::store::links::Link;
use crate::store::{StoreError, marketplace};

/// What the outbox does with one link when a status is entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    Push,
    /// The channel already shows it: nothing to send.
    Nothing,
    /// Not pushed, visibly: the link takes `state` and the sync log records `reason`.
    Skip {
        state: &'static str,
        reason: String,
    },
}

type Check = fn(&Connection, &Config, &Status, &Link) -> Result<Outbound, StoreError>;
type Enqueue = fn(&Connection, &Config, i64, &Link, Millis) -> Result<(), StoreError>;
type Pending = fn(&Connection, i64, &Link) -> Result<bool, StoreError>;

/// One sales channel's status push.
pub struct ChannelPush {
    pub system: &'static str,
    pub check: Check,
    pub enqueue: Enqueue,
    /// Whether a shipment alone (no status change) can change what is pushed.
    pub follows_shipments: bool,
    /// Whether a push for this order is waiting or running: a change read from the channel meanwhile, which
    /// syncdesk does not take, must stop that push rather than be overwritten by it.
    pub pending: Pending,
}

pub const CHANNELS: &[ChannelPush] = &[
    ChannelPush {
        system: "woocommerce",
        check: woo_check,
        enqueue: woo_enqueue,
        follows_shipments: false,
        pending: woo_pending,
    },
    ChannelPush {
        system: super::marketplace::SYSTEM,
        check: super::marketplace::outbound,
        enqueue: cartona_enqueue,
        follows_shipments: true,
        pending: cartona_pending,
    },
];

pub fn for_system(system: &str) -> Option<&'static ChannelPush> {
    CHANNELS.iter().find(|c| c.system == system)
}

fn woo_check(
    _conn: &Connection,
    config: &Config,
    status: &Status,
    _link: &Link,
) -> Result<Outbound, StoreError> {
    Ok(match config.woocommerce.outbound(&status.name) {
        Some(_) => Outbound::Push,
        None => Outbound::Skip {
            state: "unmapped",
            reason: format!(
                "status {} has no woocommerce mapping (woocommerce.status_out); nothing pushed",
                status.name
            ),
        },
    })
}

/// One job per order, keyed so a newer push replaces a waiting one.
fn woo_enqueue(
    conn: &Connection,
    config: &Config,
    order_id: i64,
    link: &Link,
    now: Millis,
) -> Result<(), StoreError> {
    let payload = serde_json::json!({ "order_id": order_id, "link_id": link.id });
    effects::enqueue(
        conn,
        config,
        WOO_PUSH_STATUS,
        Some(format!("order:{order_id}")),
        payload,
        now,
    )?;
    Ok(())
}

fn woo_pending(conn: &Connection, order_id: i64, link: &Link) -> Result<bool, StoreError> {
    let key = format!("order:{order_id}");
    Ok(link.pushing_status.is_some()
        || crate::store::jobs::pending_keys(conn, WOO_PUSH_STATUS)?.contains(&key))
}

fn cartona_pending(conn: &Connection, _order_id: i64, link: &Link) -> Result<bool, StoreError> {
    Ok(marketplace::get(conn, link.id)?.is_some_and(|m| m.push_due))
}

/// Marks the link due and (re)queues the one bulk pass that collects every due push.
fn cartona_enqueue(
    conn: &Connection,
    config: &Config,
    _order_id: i64,
    link: &Link,
    now: Millis,
) -> Result<(), StoreError> {
    marketplace::set_push_due(conn, link.id, true, now)?;
    crate::store::links::set_state(conn, link.id, "pending", None)?;
    effects::enqueue(
        conn,
        config,
        CARTONA_PUSH_STATUSES,
        Some(super::marketplace::SYSTEM.into()),
        serde_json::json!({}),
        now,
    )?;
    Ok(())
}
