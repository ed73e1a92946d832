//! The two-simulator rig stock tests share: a WooCommerce and a Counterpoint simulator on loopback, a scratch
//! database, a config pointing at both, and `aligned` simple products paired with POS items.
#![allow(dead_code)] // each test file uses the part it needs

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rust_decimal::prelude::ToPrimitive;
use syncdesk::app::{Actor, App};
use syncdesk::config::Config;
use syncdesk::engine::JobContext;
use syncdesk::engine::stock_flows::{PassMode, StockPassReport, stock_pass};
use syncdesk::integrations::counterpoint::flows as counterpoint_flows;
use syncdesk::integrations::counterpoint::stock_source::CounterpointStock;
use syncdesk::integrations::woocommerce::orders as woo_orders;
use syncdesk::store::Store;
use syncdesk_sim::counterpoint::{CounterpointSim, SimConfig};
use syncdesk_sim::woo::{WooSim, WooSimConfig};

use super::sim_config::woo_config;

pub struct Rig {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub config: Config,
    pub woo: WooSim,
    pub cp: CounterpointSim,
    /// (store SKU, POS item, store product id)
    pub pairs: Vec<(String, String, u64)>,
}

impl Rig {
    pub async fn start(products: usize, pos_items: usize, aligned: usize) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let woo = WooSim::start(WooSimConfig {
            products,
            orders: 0,
            ..WooSimConfig::default()
        })
        .await
        .unwrap();
        let cp = CounterpointSim::start(SimConfig {
            items: pos_items,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let mut config = Config {
            woocommerce: woo_config(&woo),
            ..Config::default()
        };
        config.counterpoint.enabled = true;
        // The simulator is an external system: its address and login make the connection, as in a shop's config.
        config.counterpoint.connection =
            syncdesk::integrations::counterpoint::client::CounterpointConfig {
                host: cp.addr().ip().to_string(),
                port: cp.addr().port(),
                user: cp.user().into(),
                password: syncdesk::config::Secret::new(cp.password()),
                database: cp.database().into(),
                encryption: syncdesk::integrations::counterpoint::client::Encryption::Off,
                ..Default::default()
            };
        config.stock.enabled = true;
        let mut app = App::open(&db, config.clone(), Actor::operator("test")).unwrap();
        let store_products: Vec<(String, u64)> = woo
            .products()
            .into_iter()
            .filter(|p| p.kind == "simple" && !p.sku.is_empty() && p.manage_stock)
            .map(|p| (p.sku, p.id))
            .collect();
        let items = cp.shop().item_numbers().unwrap();
        let pairs: Vec<(String, String, u64)> = store_products
            .into_iter()
            .zip(items)
            .take(aligned)
            .map(|((sku, id), item)| (sku, item, id))
            .collect();
        assert_eq!(pairs.len(), aligned, "enough SKUs on both sides");
        let csv: String =
            std::iter::once("POS SKU,WooCommerce SKU,Match Type,Confidence\n".to_string())
                .chain(pairs.iter().map(|(w, p, _)| format!("{p},{w},exact,1\n")))
                .collect();
        assert!(app.import_alignment(&csv).unwrap().errors.is_empty());
        Rig {
            dir,
            db,
            config,
            woo,
            cp,
            pairs,
        }
    }

    pub fn ctx(&self) -> JobContext {
        JobContext {
            store: Arc::new(Mutex::new(
                Store::open(&self.db, Duration::from_secs(5)).unwrap(),
            )),
            config: Arc::new(self.config.clone()),
        }
    }

    pub async fn pass(&self, mode: PassMode, dry_run: bool) -> StockPassReport {
        let pos = counterpoint_flows::client(&self.config.counterpoint).unwrap();
        let woo = woo_orders::client(&self.config.woocommerce).unwrap();
        stock_pass(&CounterpointStock(pos), &woo, &self.ctx(), mode, dry_run)
            .await
            .unwrap()
    }

    /// POS availability per item, read through the connector.
    pub async fn pos_levels(&self) -> HashMap<String, i64> {
        let pos = counterpoint_flows::client(&self.config.counterpoint).unwrap();
        pos.inventory(true, None)
            .await
            .unwrap()
            .into_iter()
            .map(|l| (l.item_no, l.qty_avail.floor().to_i64().unwrap()))
            .collect()
    }

    /// The store's stock of the `i`-th aligned product.
    pub fn store_stock(&self, i: usize) -> i64 {
        self.woo.product_stock(self.pairs[i].2).unwrap()
    }
}
