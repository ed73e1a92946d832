//! WooCommerce as a sales channel the outbox pushes to: a status goes out when `woocommerce.status_out`
//! maps it, as one job per order (a newer push replaces a waiting one), compare-and-set against the store.

use rusqlite::Connection;

use super::PUSH_STATUS;
use crate::config::Config;
use crate::domain::time::Millis;
use crate::domain::{LinkState, Status};
use crate::integrations::{ChannelPush, Outbound, enqueue};
use crate::store::links::Link;
use crate::store::{StoreError, jobs};

pub static CHANNEL: ChannelPush = ChannelPush {
    check,
    enqueue: push,
    follows_shipments: false,
    pending,
    inbound,
    push_kind: PUSH_STATUS,
    force,
};

fn check(
    _conn: &Connection,
    config: &Config,
    status: &Status,
    _link: &Link,
) -> Result<Outbound, StoreError> {
    Ok(match config.woocommerce.outbound(&status.name) {
        Some(_) => Outbound::Push,
        None => Outbound::Skip {
            state: LinkState::Unmapped,
            reason: format!(
                "status {} has no woocommerce mapping (woocommerce.status_out); nothing pushed",
                status.name
            ),
        },
    })
}

/// One job per order, keyed so a newer push replaces a waiting one.
fn push(
    conn: &Connection,
    config: &Config,
    order_id: i64,
    link: &Link,
    now: Millis,
) -> Result<(), StoreError> {
    let payload = serde_json::json!({ "order_id": order_id, "link_id": link.id });
    enqueue(
        conn,
        config,
        PUSH_STATUS,
        Some(format!("order:{order_id}")),
        payload,
        now,
    )?;
    Ok(())
}

/// A push over the store's own change: the compare-and-set is skipped for this one.
fn force(
    conn: &Connection,
    config: &Config,
    order_id: i64,
    link: &Link,
    now: Millis,
) -> Result<i64, StoreError> {
    let payload = serde_json::json!({ "order_id": order_id, "link_id": link.id, "force": true });
    enqueue(
        conn,
        config,
        PUSH_STATUS,
        Some(format!("order:{order_id}")),
        payload,
        now,
    )
}

fn pending(conn: &Connection, order_id: i64, link: &Link) -> Result<bool, StoreError> {
    let key = format!("order:{order_id}");
    Ok(link.pushing_status.is_some()
        || jobs::pending_keys(conn, PUSH_STATUS.as_str())?.contains(&key))
}

fn inbound(config: &Config, remote: &str) -> Option<String> {
    config.woocommerce.inbound(remote).map(str::to_string)
}
