//! Metakocka as the back office, on the app side: which status changes must reach the ERP (as one job per
//! order, enqueued in the caller's transaction), and which orders should be there but are not linked.
//! The job itself (availability, reservation, updates) lives in `engine::metakocka_flows`.

use rusqlite::Connection;
use serde::Serialize;

use super::{Actor, App, Result, effects};
use crate::config::Config;
use crate::domain::Status;
use crate::domain::time::Millis;
use crate::store::back_office::{self as rows, UnlinkedOrder};
use crate::store::{StoreError, links, orders};

/// The link system (and channel of orders pulled from there) of Metakocka.
pub const MK_SYSTEM: &str = "metakocka";
/// Bring one order's Metakocka sales order in line with the order (create, update, ship, cancel); key
/// `order:ID`, so a newer change replaces a waiting one.
pub const MK_SYNC_ORDER: &str = "metakocka.sync_order";
/// Pull sales orders entered in Metakocka.
pub const MK_PULL_ORDERS: &str = "metakocka.pull_orders";
/// A link's external id before Metakocka's id is known: our order number, which Metakocka stores as
/// `buyer_order` and can look the document up by.
pub const PENDING_PREFIX: &str = "buyer_order:";

/// True when the link does not name a Metakocka document yet.
pub fn is_pending(link: &links::Link) -> bool {
    link.external_id.starts_with(PENDING_PREFIX)
}

/// Enqueues what `order_id` entering `status` means for Metakocka. Changes that came from Metakocka are
/// not sent back; an unmapped status sends nothing and says why on the link.
pub(super) fn on_status_entered(
    conn: &Connection,
    config: &Config,
    actor: &Actor,
    order_id: i64,
    status: &Status,
    now: Millis,
) -> Result<(), StoreError> {
    let mk = &config.metakocka;
    if !mk.enabled || actor.source == MK_SYSTEM {
        return Ok(());
    }
    let link = links::for_local(conn, "order", order_id)?
        .into_iter()
        .find(|l| l.system == MK_SYSTEM);
    // A pending link in `sending` may already have a document (an unanswered put_document): treat it as there.
    let in_metakocka = link
        .as_ref()
        .filter(|l| !is_pending(l) || l.sync_state == "sending");
    let wanted = match in_metakocka {
        Some(link) => match mk.outbound(&status.name) {
            Some(_) => true,
            None => {
                let reason = format!(
                    "status {} has no metakocka mapping (metakocka.status_out); nothing sent",
                    status.name
                );
                effects::hold_back(
                    conn, actor, order_id, link, status, "unmapped", &reason, now,
                )?;
                false
            }
        },
        None => {
            let channel = orders::get(conn, order_id)?
                .map(|o| o.channel)
                .unwrap_or_default();
            status.name.eq_ignore_ascii_case(&mk.create_on)
                && mk.channels.iter().any(|c| c.eq_ignore_ascii_case(&channel))
        }
    };
    if wanted {
        effects::enqueue(
            conn,
            config,
            MK_SYNC_ORDER,
            Some(format!("order:{order_id}")),
            serde_json::json!({ "order_id": order_id }),
            now,
        )?;
    }
    Ok(())
}

/// An order that should be in Metakocka and is not, as `orders unsynced` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnsyncedOrder {
    pub number: String,
    pub channel: String,
    pub status: String,
    /// Why it is not there: the link's message, or that it was never sent.
    pub reason: String,
}

impl App {
    /// Orders that entered `metakocka.create_on` from one of `metakocka.channels` but have no Metakocka
    /// sales order linked (refused, failed, still sending, or never sent).
    pub fn orders_missing_in_metakocka(&mut self) -> Result<Vec<UnsyncedOrder>> {
        let mk = &self.config.metakocka;
        let create_on = self.workflow.by_name(&mk.create_on)?.id;
        let found: Vec<UnlinkedOrder> = rows::unlinked_orders(
            self.store.conn(),
            MK_SYSTEM,
            &mk.channels,
            create_on,
            PENDING_PREFIX,
        )?;
        Ok(found
            .into_iter()
            .map(|o| UnsyncedOrder {
                status: self
                    .workflow
                    .get(o.status_id)
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                reason: match (o.sync_state.as_deref(), o.last_error) {
                    (Some(state), Some(error)) => format!("{state}: {error}"),
                    (Some(state), None) => state.to_string(),
                    (None, _) => "not sent yet".to_string(),
                },
                number: o.number,
                channel: o.channel,
            })
            .collect())
    }
}
