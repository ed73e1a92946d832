//! The rig stock tests share: the flow rig (`flow_rig.rs`, which the including module declares next to this
//! one) with a WooCommerce and a Counterpoint simulator on loopback, a config pointing at both, and `aligned`
//! simple products paired with POS items.
#![allow(dead_code)] // each test file uses the part it needs

use std::collections::HashMap;

use rust_decimal::prelude::ToPrimitive;
use syncdesk::config::Config;
use syncdesk::engine::stock_flows::{PassMode, StockPassReport, stock_pass};
use syncdesk::integrations::counterpoint::flows as counterpoint_flows;
use syncdesk::integrations::counterpoint::stock_source::CounterpointStock;
use syncdesk::integrations::woocommerce::orders as woo_orders;
use syncdesk_sim::counterpoint::{CounterpointSim, SimConfig};
use syncdesk_sim::woo::{WooSim, WooSimConfig};

use super::flow_rig::FlowRig;
use super::sim_config::woo_config;

pub struct Rig {
    flow: FlowRig,
    pub woo: WooSim,
    pub cp: CounterpointSim,
    /// (store SKU, POS item, store product id)
    pub pairs: Vec<(String, String, u64)>,
}

impl std::ops::Deref for Rig {
    type Target = FlowRig;
    fn deref(&self) -> &FlowRig {
        &self.flow
    }
}

impl std::ops::DerefMut for Rig {
    fn deref_mut(&mut self) -> &mut FlowRig {
        &mut self.flow
    }
}

impl Rig {
    pub async fn start(products: usize, pos_items: usize, aligned: usize) -> Rig {
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
        let base = Config {
            woocommerce: woo_config(&woo),
            ..Config::default()
        };
        let flow = FlowRig::new(base, |_, config| {
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
        });
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
        flow.align(
            pairs.iter().map(|(w, p, _)| (p.as_str(), w.as_str())),
            "exact",
        );
        Rig {
            flow,
            woo,
            cp,
            pairs,
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
