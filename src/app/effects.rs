//! What entering a status sets in motion, as jobs enqueued in the caller's transaction (the outbox): the
//! engine performs them later, so a mail server or a channel being down never blocks a command. Which
//! systems care, and how, is each integration's own rule: this only walks the registry.

use rusqlite::Connection;

use super::Actor;
use crate::config::Config;
use crate::domain::time::Millis;
use crate::domain::{LinkState, Status, StatusKind};
use crate::integrations::{ChannelPush, Outbound, REGISTRY, StatusEntered, enqueue};
use crate::store::sync_log::{self, Change};
use crate::store::{StoreError, links, orders};

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
    let links = links::for_local(conn, "order", order_id)?;
    for integration in REGISTRY {
        let Some(on_status) = integration.on_status else {
            continue;
        };
        let own_link = links.iter().find(|l| l.system == integration.name);
        let event = StatusEntered {
            order_id,
            status,
            source: &actor.source,
            own_link,
            now,
        };
        match on_status(conn, config, &event)? {
            Outbound::Job { kind, key, payload } => {
                enqueue(conn, config, kind, key, payload, now)?;
            }
            Outbound::Skip { state, reason } => {
                if let Some(link) = own_link {
                    hold_back(conn, actor, order_id, link, status, state, &reason, now)?;
                }
            }
            Outbound::Push | Outbound::PushHeld { .. } | Outbound::Nothing => {}
        }
    }
    push_to_channels(
        conn,
        config,
        actor,
        order_id,
        status,
        &links,
        |_, _| true,
        now,
    )
}

/// A shipment recorded without a status change: channels whose pushed status depends on the delivery state
/// may now have something new to say.
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
        |_, c| c.follows_shipments,
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
        |name, _| name == system,
        now,
    )
}

/// The status push of the sales channel behind link `system`, if it is one.
pub(crate) fn channel(system: &str) -> Option<&'static ChannelPush> {
    crate::integrations::by_name(system).and_then(|i| i.channel)
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
    which: impl Fn(&str, &ChannelPush) -> bool,
    now: Millis,
) -> Result<(), StoreError> {
    for link in links {
        // A change that came from a system is not pushed back to it.
        if link.system == actor.source {
            continue;
        }
        let Some(channel) = channel(&link.system).filter(|c| which(&link.system, c)) else {
            continue;
        };
        match (channel.check)(conn, config, status, link)? {
            Outbound::Push | Outbound::PushHeld { .. } => {
                (channel.enqueue)(conn, config, order_id, link, now)?
            }
            Outbound::Job { kind, key, payload } => {
                enqueue(conn, config, kind, key, payload, now)?;
            }
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
fn hold_back(
    conn: &Connection,
    actor: &Actor,
    order_id: i64,
    link: &links::Link,
    status: &Status,
    state: LinkState,
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
