//! Seeds the demo shop in a few seconds: the store's catalogue mirrors Counterpoint's items (names, prices,
//! stock), the SKU alignment is imported, a first real stock pass agrees the merge bases, web orders placed in
//! the store are imported by a real reconciliation poll, and months of phone orders are written through the
//! app's own status and shipment rules in one transaction. Last, the two sides are made to disagree in a few
//! believable ways so the engine's first passes have conflicts and failures to find.
//!
//! Each step has its module: `catalogue` (the store mirrors the POS, the alignment), `web_orders` (the
//! store's own orders and the two troubled ones), `phone_orders` (months of history), `disagreements` (the
//! stock the first passes must settle), `marketplace` (Cartona's waiting orders); `choices` holds the
//! random picks the live traffic shares.

mod catalogue;
mod choices;
mod disagreements;
mod marketplace;
mod phone_orders;
mod web_orders;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use syncdesk_sim::counterpoint::CounterpointSim;
use syncdesk_sim::woo::WooSim;

use super::{DemoError, failed};
use crate::app::{Actor, App, AppError};
use crate::config::Config;
use crate::engine::JobContext;
use crate::engine::stock_flows::{PassMode, stock_pass};
use crate::integrations::counterpoint::flows as counterpoint_flows;
use crate::integrations::counterpoint::stock_source::CounterpointStock;
use crate::integrations::woocommerce::orders as woo_orders;
use crate::store::{Store, StoreError};

pub use choices::{customer, pick_lines};
pub use marketplace::{MarketplaceOrder, place_marketplace_order, seed_marketplace};

/// A product sold in both systems under the same SKU.
#[derive(Debug, Clone)]
pub struct Item {
    pub sku: String,
    pub name: String,
}

/// What seeding produced, for the traffic generator and the opening summary.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub catalogue: Arc<Vec<Item>>,
    /// The store product an admin locked, which refuses stock writes.
    pub locked_sku: String,
    pos_items: usize,
    store_products: usize,
    web_orders: usize,
    phone_orders: usize,
    by_status: Vec<(String, i64)>,
    seconds: f64,
    /// Marketplace orders waiting in Cartona for the first pull.
    pub marketplace: Vec<MarketplaceOrder>,
}

impl std::fmt::Display for Seeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let statuses: Vec<String> = self
            .by_status
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        write!(
            f,
            "seeded in {:.1} s: {} aligned SKUs ({} Counterpoint items, {} store products), {} orders \
             ({} web, {} phone): {}",
            self.seconds,
            self.catalogue.len(),
            self.pos_items,
            self.store_products,
            self.web_orders + self.phone_orders,
            self.web_orders,
            self.phone_orders,
            statuses.join(", ")
        )?;
        if !self.marketplace.is_empty() {
            let by_cartona = self
                .marketplace
                .iter()
                .filter(|o| o.delivered_by_cartona)
                .count();
            write!(
                f,
                "; {} marketplace orders waiting in Cartona ({by_cartona} delivered by Cartona itself)",
                self.marketplace.len()
            )?;
        }
        Ok(())
    }
}

/// Seeds the shop (see the module comment); `aligned` is how many of the POS's items the store sells.
pub async fn seed(
    db: &Path,
    config: &Config,
    woo: &WooSim,
    cp: &CounterpointSim,
    aligned: usize,
) -> Result<Seeded, DemoError> {
    let started = std::time::Instant::now();
    let mut rng = fastrand::Rng::with_seed(2554);
    let items = cp
        .shop()
        .items()
        .map_err(|e| failed("Counterpoint catalogue")(&e))?;
    let aligned = aligned.min(items.len());
    // The last SKUs are kept out of seeded orders: they carry the prepared disagreements.
    let prepared = &items[aligned - 12..aligned];
    let store = catalogue::mirror(woo, &items[..aligned], &prepared[9..12]);

    let mut app = App::open(db, config.clone(), Actor::operator("demo"))
        .map_err(|e| failed("database")(&e))?;
    catalogue::import_alignment(&mut app, &store.catalogue)?;

    let ctx = JobContext {
        store: Arc::new(Mutex::new(
            Store::open(db, Duration::from_secs(5)).map_err(|e| failed("database")(&e))?,
        )),
        config: Arc::new(config.clone()),
    };
    let woo_client =
        woo_orders::client(&config.woocommerce).map_err(|e| failed("WooCommerce client")(&e))?;
    first_stock_pass(&ctx, &woo_client).await?;

    let sellable = &store.catalogue[..aligned - 12];
    web_orders::place(woo, &woo_client, &ctx, sellable, store.stock(), &mut rng).await?;
    web_orders::deleted_in_store(&mut app, &ctx, sellable)?;
    web_orders::cancelled_as_it_shipped(&mut app, &ctx, woo)?;
    let phone = phone_orders::seed_phone_orders(&mut app, sellable, &mut rng)?;
    let locked_sku = disagreements::prepare(woo, cp, prepared, &store.product_ids, &mut rng)?;

    let by_status = orders_by_status(&mut app)?;
    Ok(Seeded {
        catalogue: Arc::new(store.catalogue),
        locked_sku,
        pos_items: items.len(),
        store_products: store.products.len(),
        web_orders: web_orders::WEB_ORDERS + 1,
        phone_orders: phone,
        by_status,
        seconds: started.elapsed().as_secs_f64(),
        marketplace: Vec::new(),
    })
}

/// A first full pass through the real connectors agrees every merge base.
async fn first_stock_pass(
    ctx: &JobContext,
    woo_client: &crate::integrations::woocommerce::client::WooClient,
) -> Result<(), DemoError> {
    let config = &ctx.config;
    let pos = CounterpointStock(
        counterpoint_flows::client(&config.counterpoint)
            .map_err(|e| failed("Counterpoint client")(&e))?,
    );
    let first = stock_pass(&pos, woo_client, ctx, PassMode::Full, false)
        .await
        .map_err(|e| DemoError::Failed(format!("first stock pass: {}", e.message)))?;
    if let Some(f) = first.failed.first() {
        return Err(DemoError::Failed(format!(
            "first stock pass: {}: {}",
            f.sku, f.message
        )));
    }
    Ok(())
}

/// Every order (active and archived) counted by status, in the workflow's order; empty statuses left out.
pub fn orders_by_status(app: &mut App) -> Result<Vec<(String, i64)>, AppError> {
    let mut counts: BTreeMap<i64, i64> = app
        .status_summaries()?
        .into_iter()
        .map(|s| (s.id, s.active_orders))
        .collect();
    for o in app.list_orders(None, true, None, i64::MAX, 0)? {
        *counts.entry(o.status_id).or_default() += 1;
    }
    Ok(app
        .workflow()
        .statuses()
        .iter()
        .map(|s| (s.name.clone(), counts.get(&s.id).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect())
}

impl From<StoreError> for DemoError {
    fn from(e: StoreError) -> Self {
        DemoError::Failed(e.to_string())
    }
}
