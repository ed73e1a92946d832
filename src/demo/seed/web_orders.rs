//! The store's own orders: weeks of web orders imported by a real reconciliation poll, and two that went
//! wrong in believable ways (deleted in the store after import; cancelled there just as it shipped).

use std::collections::BTreeMap;

use syncdesk_sim::woo::WooSim;

use super::Item;
use super::choices::{customer, pick_lines, weighted};
use crate::app::channel_orders::ChannelOrder;
use crate::app::{App, ShipmentDetails};
use crate::demo::{DemoError, failed};
use crate::engine::JobContext;
use crate::integrations::woocommerce::client::WooClient;
use crate::integrations::woocommerce::orders as woo_orders;

/// Web orders already in the store when the demo starts, weighted like a live shop's.
const WEB_STATUSES: &[(&str, u32)] = &[
    ("processing", 30),
    ("completed", 35),
    ("on-hold", 8),
    ("pending", 8),
    ("cancelled", 10),
    ("refunded", 5),
    ("failed", 4),
];
pub(super) const WEB_ORDERS: usize = 130;

/// Web orders placed in the store over the last weeks (never beyond `stock`), imported by a real
/// reconciliation poll.
pub(super) async fn place(
    woo: &WooSim,
    woo_client: &WooClient,
    ctx: &JobContext,
    sellable: &[Item],
    mut stock: BTreeMap<String, i64>,
    rng: &mut fastrand::Rng,
) -> Result<(), DemoError> {
    for _ in 0..WEB_ORDERS {
        let lines = pick_lines(rng, sellable, &mut stock);
        let refs: Vec<(&str, i64)> = lines.iter().map(|(s, q)| (s.as_str(), *q)).collect();
        let status = weighted(rng, WEB_STATUSES);
        woo.create_order_for(&refs, status, &customer(rng))
            .map_err(|e| failed("WooCommerce order")(&e))?;
    }
    woo_orders::reconcile(woo_client, ctx, false)
        .await
        .map_err(|e| DemoError::Failed(format!("first order poll: {}", e.message)))?;
    Ok(())
}

/// An order deleted in the store after it was imported: the customer's phone cancellation cannot be pushed.
pub(super) fn deleted_in_store(
    app: &mut App,
    ctx: &JobContext,
    sellable: &[Item],
) -> Result<(), DemoError> {
    let deleted = ChannelOrder {
        system: woo_orders::SYSTEM.into(),
        external_id: "1907".into(),
        number: "1907".into(),
        customer: Some("Petra Lund".into()),
        remote_status: "pending".into(),
        remote_version: Some("2026-01-05T09:12:44Z".into()),
        ship_to: None,
        read_at: 0,
        history: false,
        lines: vec![(sellable[7].sku.clone(), Some(sellable[7].name.clone()), 2)],
    };
    {
        let mut store = ctx
            .store
            .lock()
            .map_err(|_| DemoError::Failed("store lock".into()))?;
        woo_orders::import_all(&mut store, &ctx.config, &[deleted], false)
            .map_err(|e| DemoError::Failed(format!("import: {}", e.message)))?;
    }
    app.cancel("1907", "customer called: no longer needed", None)
        .map_err(|e| failed("cancel")(&e))?;
    Ok(())
}

/// A web order the shop cancelled in the store just as the warehouse shipped it: syncdesk's "completed"
/// must not overwrite the cancellation, so the order waits for an operator (`:settle`).
pub(super) fn cancelled_as_it_shipped(
    app: &mut App,
    ctx: &JobContext,
    woo: &WooSim,
) -> Result<(), DemoError> {
    let processing = woo
        .order_ids()
        .into_iter()
        .find(|id| woo.order_status(*id).as_deref() == Some("processing"));
    let Some(woo_id) = processing else {
        return Ok(());
    };
    let local = {
        let store = ctx
            .store
            .lock()
            .map_err(|_| DemoError::Failed("store lock".into()))?;
        crate::store::links::by_external(
            store.conn(),
            "order",
            woo_orders::SYSTEM,
            &woo_id.to_string(),
        )
        .map_err(|e| failed("link")(&e))?
    };
    if let Some(link) = local {
        woo.set_order_status(woo_id, "cancelled")
            .map_err(|e| failed("store cancellation")(&e))?;
        let details = ShipmentDetails {
            carrier: Some("UPS".into()),
            tracking: Some("1Z999AA10123456784".into()),
            notes: None,
        };
        app.fulfill(&format!("#{}", link.local_id), &details, None)
            .map_err(|e| failed("fulfil")(&e))?;
    }
    Ok(())
}
