//! Stock pass cost and latency through both simulators, the store answering with 20 ms latency.
//!
//! Run: `cargo bench --bench stock`. For N = 2,554 and N = 100,000 aligned SKUs with 10% changed on the POS:
//! HTTP requests to the store and wall time of a full pass. Baseline in the same run at N = 2,554: the seed's
//! per-item algorithm (GET the product by SKU, then PUT its stock, one item at a time). Then the incremental
//! pass through the engine: time from an in-store sale in Counterpoint to the new stock in WooCommerce.
//! Targets: requests ≤ ⌈N/100⌉ + ⌈changed/100⌉ + a small constant; ≥ 50× faster than the per-item baseline at
//! N = 2,554; N = 100,000 in under 60 s; incremental p99 < 10 s.
//!
//! With `SYNCDESK_WOO_URL`, `SYNCDESK_WOO_KEY` and `SYNCDESK_WOO_SECRET` set (a real WooCommerce store, e.g.
//! `../shared/realwoo`), it first runs a full pass over 300 SKUs against that store — 300 products created
//! under a fresh SKU prefix, deleted afterwards — and the same pass against the simulator in the same run:
//! wall time and the requests the pass counted, against ⌈N/100⌉ + ⌈changed/100⌉. Without them it says it
//! skipped the real store. `cargo bench --bench stock -- real` runs only that comparison.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use syncdesk::app::{Actor, App};
use syncdesk::config::Config;
use syncdesk::engine::stock_flows::{PassMode, stock_pass};
use syncdesk::engine::{Engine, JobContext, default_handlers, default_schedules};
use syncdesk::integrations::counterpoint::flows as counterpoint_flows;
use syncdesk::integrations::counterpoint::stock_source::CounterpointStock;
use syncdesk::integrations::woocommerce::client::ProductUpdate;
use syncdesk::integrations::woocommerce::orders as woo_orders;
use syncdesk::store::Store;
use syncdesk_sim::counterpoint::{CounterpointSim, SimConfig};
use syncdesk_sim::woo::{WooSim, WooSimConfig};

#[path = "../tests/support/sim_config.rs"]
mod sim_config;

const LATENCY: Duration = Duration::from_millis(20);

struct Shop {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    config: Config,
    woo: WooSim,
    cp: CounterpointSim,
    pairs: Vec<(String, String, u64)>,
}

async fn shop(n: usize) -> Shop {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("bench.db");
    // Every 5th seeded product is variable and every 11th has no SKU: seed enough to align N simple ones.
    let woo = WooSim::start(WooSimConfig {
        products: n * 17 / 10 + 300,
        orders: 0,
        ..WooSimConfig::default()
    })
    .await
    .expect("woo");
    let cp = CounterpointSim::start(SimConfig {
        items: n,
        ..SimConfig::default()
    })
    .await
    .expect("cp");
    let mut config = Config {
        woocommerce: sim_config::woo_config(&woo),
        ..Config::default()
    };
    config.woocommerce.poll_secs = 3600;
    config.counterpoint.enabled = true;
    config.counterpoint.fulfilment_poll_secs = 3600;
    config.stock.enabled = true;
    config.stock.threshold = i64::MAX / 4; // the benchmark measures the merge path, not conflict handling
    config.counterpoint.connection = cp_connection(&cp);
    let simple: Vec<(String, u64)> = woo
        .products()
        .into_iter()
        .filter(|p| p.kind == "simple" && !p.sku.is_empty() && p.manage_stock)
        .map(|p| (p.sku, p.id))
        .collect();
    let items = cp.shop().item_numbers().expect("items");
    let pairs: Vec<(String, String, u64)> = simple
        .into_iter()
        .zip(items)
        .take(n)
        .map(|((s, id), i)| (s, i, id))
        .collect();
    assert_eq!(pairs.len(), n, "enough simple products");
    let mut app = App::open(&db, config.clone(), Actor::operator("bench")).expect("app");
    let csv: String = std::iter::once("POS SKU,WooCommerce SKU\n".to_string())
        .chain(pairs.iter().map(|(w, p, _)| format!("{p},{w}\n")))
        .collect();
    app.import_alignment(&csv).expect("alignment");
    Shop {
        _dir: dir,
        db,
        config,
        woo,
        cp,
        pairs,
    }
}

/// The simulator is an external system: its address and login make the connection, as in a shop's config.
fn cp_connection(
    cp: &CounterpointSim,
) -> syncdesk::integrations::counterpoint::client::CounterpointConfig {
    syncdesk::integrations::counterpoint::client::CounterpointConfig {
        host: cp.addr().ip().to_string(),
        port: cp.addr().port(),
        user: cp.user().into(),
        password: syncdesk::config::Secret::new(cp.password()),
        database: cp.database().into(),
        encryption: syncdesk::integrations::counterpoint::client::Encryption::Off,
        ..Default::default()
    }
}

impl Shop {
    fn ctx(&self) -> JobContext {
        JobContext {
            store: Arc::new(Mutex::new(
                Store::open(&self.db, Duration::from_secs(5)).expect("store"),
            )),
            config: Arc::new(self.config.clone()),
        }
    }

    async fn full_pass(&self) -> (Duration, u64, usize) {
        let pos = counterpoint_flows::client(&self.config.counterpoint).expect("cp client");
        let woo = woo_orders::client(&self.config.woocommerce).expect("woo client");
        self.woo.reset_request_counts();
        let start = Instant::now();
        let report = stock_pass(
            &CounterpointStock(pos),
            &woo,
            &self.ctx(),
            PassMode::Full,
            false,
        )
        .await
        .expect("pass");
        let elapsed = start.elapsed();
        assert!(
            report.failed.is_empty(),
            "{:?}",
            &report.failed[..report.failed.len().min(3)]
        );
        (
            elapsed,
            self.woo.request_counts().values().sum(),
            report.changes.len(),
        )
    }

    /// Restocks every 10th aligned POS item.
    fn change_tenth(&self) {
        for (_, item, _) in self.pairs.iter().step_by(10) {
            self.cp
                .shop()
                .restock(item, "MAIN", Decimal::from(3))
                .expect("restock");
        }
    }
}

async fn measure_full(n: usize) -> (Duration, u64, usize, Shop) {
    let shop = shop(n).await;
    shop.full_pass().await; // first sync, without latency: the measured pass is a steady-state one
    shop.change_tenth();
    shop.woo.faults().set_latency(LATENCY, Duration::ZERO);
    let (elapsed, requests, changed) = shop.full_pass().await;
    (elapsed, requests, changed, shop)
}

/// The seed's algorithm: for each item, GET the product by SKU, then PUT its stock.
async fn per_item_baseline(shop: &Shop) -> (Duration, u64) {
    let woo = woo_orders::client(&shop.config.woocommerce).expect("woo client");
    let pos = counterpoint_flows::client(&shop.config.counterpoint).expect("cp client");
    let levels: std::collections::HashMap<String, Decimal> = pos
        .inventory(true, None)
        .await
        .expect("inventory")
        .into_iter()
        .map(|l| (l.item_no, l.qty_avail))
        .collect();
    shop.woo.reset_request_counts();
    let start = Instant::now();
    for (sku, item, _) in &shop.pairs {
        let found = woo
            .find_products_by_sku(std::slice::from_ref(sku))
            .await
            .expect("get by sku");
        let Some(product) = found.into_iter().next() else {
            continue;
        };
        let qty = levels
            .get(item)
            .map(|d| d.trunc().to_string().parse::<i64>().unwrap_or(0))
            .unwrap_or(0);
        woo.batch_update_products(vec![ProductUpdate {
            id: product.id,
            stock_quantity: Some(qty),
            ..Default::default()
        }])
        .await;
    }
    (start.elapsed(), shop.woo.request_counts().values().sum())
}

/// A real store to measure against, from the environment.
struct RealStore {
    url: String,
    key: String,
    secret: String,
}

impl RealStore {
    fn from_env() -> Option<RealStore> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        Some(RealStore {
            url: var("SYNCDESK_WOO_URL")?,
            key: var("SYNCDESK_WOO_KEY")?,
            secret: var("SYNCDESK_WOO_SECRET")?,
        })
    }

    /// One signed API call (OAuth 1.0a over http, Basic over https), outside the client under test.
    async fn call(&self, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let root = format!("{}/wp-json/wc/v3/{path}", self.url.trim_end_matches('/'));
        let http = reqwest::Client::new();
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let request = if root.starts_with("https://") {
            http.request(method, &root)
                .basic_auth(&self.key, Some(&self.secret))
        } else {
            let params = syncdesk::integrations::woocommerce::client::oauth::oauth_query_params(
                method.as_str(),
                &root,
                &[],
                &self.key,
                &self.secret,
                chrono::Utc::now().timestamp(),
                &syncdesk::integrations::woocommerce::client::oauth::new_nonce(),
            );
            http.request(method, &root).query(&params)
        };
        let response = request
            .json(&body)
            .send()
            .await
            .expect("real store answers");
        let status = response.status();
        let value: serde_json::Value = response.json().await.unwrap_or_default();
        assert!(status.is_success(), "{path}: {status} {value}");
        value
    }
}

/// 300 SKUs on the real store (created for the run) paired with a Counterpoint simulator.
async fn real_store_pass(real: &RealStore, n: usize) {
    let prefix = format!("BENCH{}-", fastrand::u32(100_000..999_999));
    let mut ids: Vec<u64> = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let create: Vec<serde_json::Value> = chunk
            .iter()
            .map(|i| {
                serde_json::json!({
                    "name": format!("Bench item {i}"), "type": "simple", "sku": format!("{prefix}{i:04}"),
                    "regular_price": "9.99", "manage_stock": true, "stock_quantity": 5
                })
            })
            .collect();
        let done = real
            .call(
                "POST",
                "products/batch",
                serde_json::json!({ "create": create }),
            )
            .await;
        ids.extend(
            done["create"]
                .as_array()
                .expect("created")
                .iter()
                .filter_map(|p| p["id"].as_u64()),
        );
    }
    assert_eq!(ids.len(), n, "all {n} bench products created");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("bench.db");
    let cp = CounterpointSim::start(SimConfig {
        items: n,
        ..SimConfig::default()
    })
    .await
    .expect("cp");
    let mut config = Config::default();
    config.woocommerce.enabled = true;
    config.woocommerce.url = real.url.clone();
    config.woocommerce.consumer_key = syncdesk::config::Secret::new(real.key.clone());
    config.woocommerce.consumer_secret = syncdesk::config::Secret::new(real.secret.clone());
    config.woocommerce.timeout_secs = 120;
    config.counterpoint.enabled = true;
    config.counterpoint.connection = cp_connection(&cp);
    config.stock.enabled = true;
    config.stock.threshold = i64::MAX / 4;
    let items = cp.shop().item_numbers().expect("items");
    let mut app = App::open(&db, config.clone(), Actor::operator("bench")).expect("app");
    let csv: String = std::iter::once("POS SKU,WooCommerce SKU\n".to_string())
        .chain(
            items
                .iter()
                .take(n)
                .enumerate()
                .map(|(i, item)| format!("{item},{prefix}{i:04}\n")),
        )
        .collect();
    app.import_alignment(&csv).expect("alignment");
    let ctx = JobContext {
        store: Arc::new(Mutex::new(
            Store::open(&db, Duration::from_secs(5)).expect("store"),
        )),
        config: Arc::new(config.clone()),
    };
    let pass = || async {
        let pos = counterpoint_flows::client(&config.counterpoint).expect("cp client");
        let woo = woo_orders::client(&config.woocommerce).expect("woo client");
        let start = Instant::now();
        let report = stock_pass(&CounterpointStock(pos), &woo, &ctx, PassMode::Full, false)
            .await
            .expect("pass");
        assert!(
            report.failed.is_empty(),
            "{:?}",
            &report.failed[..report.failed.len().min(3)]
        );
        (start.elapsed(), report.store_requests, report.changes.len())
    };
    let (t_first, req_first, changed_first) = pass().await;
    for item in items.iter().take(n).step_by(10) {
        cp.shop()
            .restock(item, "MAIN", Decimal::from(3))
            .expect("restock");
    }
    let (t, requests, changed) = pass().await;
    let bound = n.div_ceil(100) + changed.div_ceil(100);
    println!(
        "  real store {}: N = {n}: first sync {:.2} s, {req_first} requests ({changed_first} written); steady pass {:.2} s, {requests} requests counted ({changed} changed; ⌈N/100⌉ + ⌈changed/100⌉ = {bound})",
        real.url,
        t_first.as_secs_f64(),
        t.as_secs_f64()
    );
    for chunk in ids.chunks(100) {
        real.call(
            "POST",
            "products/batch",
            serde_json::json!({ "delete": chunk, "force": true }),
        )
        .await;
    }
}

/// The same pass over N SKUs against the simulator (no added latency), counted the same way.
async fn sim_pass(n: usize) {
    let shop = shop(n).await;
    let pass = || async {
        let pos = counterpoint_flows::client(&shop.config.counterpoint).expect("cp client");
        let woo = woo_orders::client(&shop.config.woocommerce).expect("woo client");
        let start = Instant::now();
        let report = stock_pass(
            &CounterpointStock(pos),
            &woo,
            &shop.ctx(),
            PassMode::Full,
            false,
        )
        .await
        .expect("pass");
        (start.elapsed(), report.store_requests, report.changes.len())
    };
    let (t_first, req_first, changed_first) = pass().await;
    shop.change_tenth();
    let (t, requests, changed) = pass().await;
    let bound = n.div_ceil(100) + changed.div_ceil(100);
    println!(
        "  simulator:  N = {n}: first sync {:.2} s, {req_first} requests ({changed_first} written); steady pass {:.2} s, {requests} requests counted ({changed} changed; ⌈N/100⌉ + ⌈changed/100⌉ = {bound})",
        t_first.as_secs_f64(),
        t.as_secs_f64()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let only_real = std::env::args().skip(1).any(|a| a == "real");
    runtime.block_on(async {
        println!("full stock pass over 300 SKUs, 10% changed on the POS: a real store and the simulator");
        match RealStore::from_env() {
            Some(real) => real_store_pass(&real, 300).await,
            None => println!("  real store: skipped (set SYNCDESK_WOO_URL, SYNCDESK_WOO_KEY, SYNCDESK_WOO_SECRET)"),
        }
        sim_pass(300).await;
        if only_real {
            return;
        }
        println!("full stock pass, store latency {} ms, 10% of SKUs changed on the POS", LATENCY.as_millis());
        let (t_small, req_small, changed_small, small) = measure_full(2_554).await;
        let (t_base, req_base) = per_item_baseline(&small).await;
        let bound = |n: usize, changed: usize| n.div_ceil(100) + changed.div_ceil(100);
        println!(
            "  N =   2,554: {:>6.2} s, {req_small} requests ({changed_small} changed; ⌈N/100⌉ + ⌈changed/100⌉ = {})",
            t_small.as_secs_f64(),
            bound(2_554, changed_small)
        );
        println!("  baseline per-item (GET by SKU + PUT), N = 2,554: {:>6.2} s, {req_base} requests", t_base.as_secs_f64());
        println!("  speed-up vs per-item: {:.0}×   (target ≥ 50×)", t_base.as_secs_f64() / t_small.as_secs_f64());

        // Incremental: an in-store sale reaches the store through the engine's 5 s schedule.
        small.woo.faults().set_latency(Duration::ZERO, Duration::ZERO);
        let engine = Engine::new(&small.db, small.config.clone(), default_handlers(&small.config))
            .with_schedules(default_schedules(&small.config))
            .spawn()
            .expect("engine");
        tokio::time::sleep(Duration::from_secs(6)).await; // let the first scheduled passes settle
        let mut latencies = Vec::new();
        for (sku, item, id) in small.pairs.iter().step_by(131).take(20) {
            let before = small.woo.product_stock(*id).expect("stock");
            small.cp.shop().ring_sale(item, Decimal::ONE).expect("sale");
            let sold = Instant::now();
            loop {
                if small.woo.product_stock(*id) == Some(before - 1) {
                    latencies.push(sold.elapsed());
                    break;
                }
                assert!(sold.elapsed() < Duration::from_secs(60), "{sku} never updated");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        engine.shutdown().await.expect("shutdown");
        latencies.sort();
        let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize].as_secs_f64();
        println!("incremental: in-store sale → store stock, 20 sales one after another: p50 {:.2} s, p99 {:.2} s (target p99 < 10 s)", p(0.5), p(0.99));
        drop(small);

        let (t_big, req_big, changed_big, _big) = measure_full(100_000).await;
        println!(
            "  N = 100,000: {:>6.2} s, {req_big} requests ({changed_big} changed; ⌈N/100⌉ + ⌈changed/100⌉ = {})   (target < 60 s)",
            t_big.as_secs_f64(),
            bound(100_000, changed_big)
        );
    });
}
