//! Price passes end to end over loopback: Counterpoint prices (TDS simulator) written to WooCommerce's
//! regular_price (HTTP simulator), with drift conflicts, dry runs and stores without a price.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rust_decimal::Decimal;
use syncdesk::app::{Actor, App, Resolution, Winner};
use syncdesk::config::{Config, PriceSource};
use syncdesk::engine::JobContext;
use syncdesk::engine::price_flows::{PricePassReport, price_pass};
use syncdesk::engine::stock_flows::pos_source;
use syncdesk::integrations::counterpoint::flows as counterpoint_flows;
use syncdesk::integrations::woocommerce::client::{ProductUpdate, WooProduct};
use syncdesk::integrations::woocommerce::orders as woo_orders;
use syncdesk::store::Store;
use syncdesk::store::inventory as stock_rows;
use syncdesk_sim::woo::WooSimConfig;

use crate::sim_config;
use crate::stock_rig;
use stock_rig::Rig;

impl Rig {
    async fn pass_with(&self, config: Config, dry_run: bool) -> PricePassReport {
        let pos = pos_source(&config).unwrap();
        let woo = woo_orders::client(&config.woocommerce).unwrap();
        let ctx = JobContext {
            store: Arc::new(Mutex::new(
                Store::open(&self.db, Duration::from_secs(5)).unwrap(),
            )),
            config: Arc::new(config),
        };
        price_pass(pos.as_ref(), &woo, &ctx, dry_run).await.unwrap()
    }

    async fn price_pass(&self, dry_run: bool) -> PricePassReport {
        self.pass_with(self.config.clone(), dry_run).await
    }

    /// Writes every POS price, however far the store is (a first alignment of prices).
    async fn align_prices(&self) {
        let mut config = self.config.clone();
        config.stock.price_drift_conflict = false;
        let report = self.pass_with(config, false).await;
        assert!(report.failed.is_empty(), "{:?}", report.failed);
    }

    /// The store's products of the aligned pairs, by SKU.
    async fn store(&self) -> HashMap<String, WooProduct> {
        let woo = woo_orders::client(&self.config.woocommerce).unwrap();
        let skus: Vec<String> = self.pairs.iter().map(|p| p.0.clone()).collect();
        woo.find_products_by_sku(&skus)
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.sku.clone(), p))
            .collect()
    }

    /// The POS price of each item (PRC_1 for the price location).
    async fn pos_prices(&self) -> HashMap<String, Decimal> {
        let pos = counterpoint_flows::client(&self.config.counterpoint).unwrap();
        pos.prices(None)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|p| Some((p.item_no, p.prc_1.or(p.reg_prc)?)))
            .collect()
    }

    /// The built binary as operator `ops` on this rig's database, with a config file naming both
    /// simulators (plus `stock_extra` lines in `[stock]`). Not `cli`: the stock rig is one type for the
    /// whole `stock` binary, and `conflicts` gives it a `cli` of its own.
    fn cli_with_stock(
        &self,
        stock_extra: &str,
        args: &[&str],
    ) -> tokio::task::JoinHandle<(i32, String, String)> {
        let c = &self.config.counterpoint.connection;
        let text = format!(
            r#"[woocommerce]
enabled = true
url = "{}"
consumer_key = "{}"
consumer_secret = "{}"
auth = "oauth"
[counterpoint]
enabled = true
[counterpoint.connection]
host = "{}"
port = {}
user = "{}"
password = "{}"
database = "{}"
encryption = "off"
[stock]
enabled = true
{stock_extra}
"#,
            self.config.woocommerce.url,
            WooSimConfig::default().consumer_key,
            WooSimConfig::default().consumer_secret,
            c.host,
            c.port,
            c.user,
            self.cp.password(),
            c.database,
        );
        let config_path = self.dir.path().join("config.toml");
        std::fs::write(&config_path, text).unwrap();
        let db = self.db.clone();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_syncdesk"))
                .args(["--db", &db.to_string_lossy()])
                .args(["--config", &config_path.to_string_lossy(), "--user", "ops"])
                .args(args)
                .env_remove("SYNCDESK_CONFIG")
                .env_remove("SYNCDESK_DB")
                .env_remove("SYNCDESK_USER")
                .output()
                .expect("run syncdesk");
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).to_string(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            )
        })
    }

    /// Prices aligned, then pair `i`'s POS price raised by half: a pass raises a manual price_drift.
    /// Returns the new POS price and the store's (unchanged) price.
    async fn drifted(&self, i: usize) -> (Decimal, String) {
        self.align_prices().await;
        let (sku, item, _) = self.pairs[i].clone();
        let far = (self.pos_prices().await[&item] * Decimal::new(15, 1)).round_dp(2);
        self.cp.shop().set_price(&item, far).unwrap();
        let report = self.price_pass(false).await;
        assert_eq!(
            report.conflicts.iter().map(|c| &c.sku).collect::<Vec<_>>(),
            [&sku],
            "{:?}",
            report.conflicts
        );
        (far, self.store().await[&sku].regular_price.clone())
    }

    fn store_db(&self) -> Store {
        Store::open(&self.db, Duration::from_secs(5)).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pos_prices_reach_the_store_as_two_decimal_strings_and_sale_prices_are_untouched() {
    let rig = Rig::start(60, 80, 20).await;
    rig.cp
        .shop()
        .set_price(&rig.pairs[0].1, Decimal::new(125, 1))
        .unwrap();
    let before = rig.store().await;
    let on_sale: Vec<&String> = before
        .values()
        .filter(|p| !p.sale_price.is_empty())
        .map(|p| &p.sku)
        .collect();
    assert!(!on_sale.is_empty(), "the rig has products on sale");
    rig.align_prices().await;
    let after = rig.store().await;
    let pos = rig.pos_prices().await;
    for (sku, item, _) in &rig.pairs {
        let price = &after[sku].regular_price;
        assert_eq!(price, &format!("{:.2}", pos[item]), "{sku} ↔ {item}");
        assert_eq!(price.split('.').nth(1).map(str::len), Some(2), "{price}");
        assert_eq!(after[sku].sale_price, before[sku].sale_price, "{sku}");
    }
    assert_eq!(after[&rig.pairs[0].0].regular_price, "12.50");
    // Both prices are on the pair, the writes in the sync log, and a second pass changes nothing.
    let store = rig.store_db();
    let row = stock_rows::find(store.conn(), &rig.pairs[0].0)
        .unwrap()
        .unwrap();
    assert_eq!(row.pos_price.as_deref(), Some("12.50"));
    assert_eq!(row.store_price.as_deref(), Some("12.50"));
    let log =
        syncdesk::store::sync_log::for_entity(store.conn(), "price", &rig.pairs[0].0, 5).unwrap();
    assert_eq!(log[0].new_value.as_deref(), Some("12.50"));
    assert_eq!(
        log[0].old_value.as_deref(),
        Some(before[&rig.pairs[0].0].regular_price.as_str())
    );
    let again = rig.price_pass(false).await;
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    assert!(again.conflicts.is_empty(), "{:?}", again.conflicts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_moved_over_20_percent_is_a_drift_conflict_and_not_written_while_5_percent_is() {
    let rig = Rig::start(60, 80, 20).await;
    rig.align_prices().await;
    let pos = rig.pos_prices().await;
    let (far_sku, far_item, _) = rig.pairs[0].clone();
    let (near_sku, near_item, _) = rig.pairs[1].clone();
    let far = (pos[&far_item] * Decimal::new(15, 1)).round_dp(2);
    let near = (pos[&near_item] * Decimal::new(105, 2)).round_dp(2);
    rig.cp.shop().set_price(&far_item, far).unwrap();
    rig.cp.shop().set_price(&near_item, near).unwrap();
    let before = rig.store().await;

    let report = rig.price_pass(false).await;
    assert_eq!(report.conflicts.len(), 1, "{:?}", report.conflicts);
    assert_eq!(report.conflicts[0].sku, far_sku);
    assert!(report.conflicts[0].message.starts_with("price_drift"));
    assert_eq!(report.changes.len(), 1, "{:?}", report.changes);
    assert_eq!(report.changes[0].sku, near_sku);

    let after = rig.store().await;
    assert_eq!(
        after[&far_sku].regular_price,
        before[&far_sku].regular_price
    );
    assert_eq!(after[&near_sku].regular_price, format!("{near:.2}"));
    let store = rig.store_db();
    let open = stock_rows::open_conflicts_for(store.conn(), &far_sku).unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].kind, "price_drift");
    assert_eq!(open[0].pos_value, Some(format!("{far:.2}")));
    assert_eq!(
        open[0].store_value.as_deref(),
        Some(before[&far_sku].regular_price.as_str())
    );
    assert!(
        open[0].resolved_at.is_none(),
        "the default policy is manual"
    );
    let alerts = syncdesk::store::alerts::list(store.conn(), true, 100).unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == "price_difference" && a.subject.contains(&far_sku)),
        "{alerts:?}"
    );
    assert!(
        stock_rows::open_conflicts_for(store.conn(), &near_sku)
            .unwrap()
            .is_empty()
    );
    // A stock resolution cannot settle a price conflict (it would write a quantity).
    let mut app = App::open(&rig.db, rig.config.clone(), Actor::operator("ops")).unwrap();
    assert!(
        app.resolve_conflict(&far_sku, syncdesk::app::Resolution::Quantity(5))
            .is_err()
    );
    // Still drifted on the next pass: the same conflict is refreshed, not duplicated, and nothing written.
    rig.price_pass(false).await;
    assert_eq!(
        stock_rows::open_conflicts_for(store.conn(), &far_sku)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        rig.store().await[&far_sku].regular_price,
        before[&far_sku].regular_price
    );
    // The POS price put back within the drift: written, and the open drift conflict is closed.
    let back: Decimal = before[&far_sku].regular_price.parse().unwrap();
    rig.cp.shop().set_price(&far_item, back).unwrap();
    let report = rig.price_pass(false).await;
    assert!(report.conflicts.is_empty(), "{:?}", report.conflicts);
    assert!(
        stock_rows::open_conflicts_for(store.conn(), &far_sku)
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_writes_nothing_and_predicts_the_real_pass() {
    let rig = Rig::start(60, 80, 20).await;
    let before = rig.store().await;
    let plan = rig.price_pass(true).await;
    assert!(!plan.changes.is_empty() || !plan.conflicts.is_empty());
    let mut lenient = rig.config.clone();
    lenient.stock.price_drift_conflict = false;
    let lenient_plan = rig.pass_with(lenient, true).await;
    assert_eq!(lenient_plan.changes.len(), 20, "{:?}", lenient_plan.skipped);
    let after = rig.store().await;
    for (sku, _, _) in &rig.pairs {
        assert_eq!(after[sku].regular_price, before[sku].regular_price, "{sku}");
    }
    let store = rig.store_db();
    assert!(
        stock_rows::conflicts(store.conn(), true, 100, 0)
            .unwrap()
            .is_empty()
    );
    assert!(
        stock_rows::aligned(store.conn())
            .unwrap()
            .iter()
            .all(|p| p.pos_price.is_none() && p.store_price.is_none())
    );
    for (sku, _, _) in &rig.pairs {
        assert!(
            syncdesk::store::sync_log::for_entity(store.conn(), "price", sku, 5)
                .unwrap()
                .is_empty()
        );
    }
    let real = rig.price_pass(false).await;
    assert_eq!(real.changes, plan.changes);
    assert_eq!(real.conflicts, plan.conflicts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_without_a_price_gets_the_pos_price_without_a_drift_conflict() {
    let rig = Rig::start(60, 80, 20).await;
    let (sku, item, id) = rig.pairs[0].clone();
    let woo = woo_orders::client(&rig.config.woocommerce).unwrap();
    let cleared = woo
        .batch_update_products(vec![ProductUpdate {
            id,
            sku: Some(sku.clone()),
            regular_price: Some(String::new()),
            ..Default::default()
        }])
        .await;
    assert!(cleared.is_complete_success(), "{:?}", cleared.failed);
    assert_eq!(rig.store().await[&sku].regular_price, "");

    let report = rig.price_pass(false).await;
    assert!(
        !report.conflicts.iter().any(|c| c.sku == sku),
        "{:?}",
        report.conflicts
    );
    let change = report.changes.iter().find(|c| c.sku == sku).unwrap();
    assert_eq!(change.old, "");
    let pos = rig.pos_prices().await;
    assert_eq!(
        rig.store().await[&sku].regular_price,
        format!("{:.2}", pos[&item])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_store_as_price_source_the_differences_are_reported_and_nothing_is_written() {
    let rig = Rig::start(60, 80, 20).await;
    let before = rig.store().await;
    let pos_before = rig.pos_prices().await;
    let mut config = rig.config.clone();
    config.stock.price_source = PriceSource::Store;
    let report = rig.pass_with(config, false).await;
    assert!(report.note.is_some());
    assert!(!report.changes.is_empty());
    assert!(report.conflicts.is_empty(), "{:?}", report.conflicts);
    let after = rig.store().await;
    for (sku, _, _) in &rig.pairs {
        assert_eq!(after[sku].regular_price, before[sku].regular_price, "{sku}");
    }
    assert_eq!(rig.pos_prices().await, pos_before);
    let store = rig.store_db();
    assert!(
        stock_rows::conflicts(store.conn(), true, 100, 0)
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_run_prices_on_the_command_line_dry_and_real() {
    let rig = Rig::start(60, 80, 20).await;
    let run =
        |args: &'static [&'static str]| rig.cli_with_stock("price_drift_conflict = false", args);
    let before = rig.store().await;
    let (code, out, err) = run(&["sync", "run", "prices", "--dry-run", "--json"])
        .await
        .unwrap();
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["report"]["examined"], 20);
    assert_eq!(v["report"]["changes"].as_array().map(Vec::len), Some(20));
    assert_eq!(
        rig.store().await[&rig.pairs[0].0].regular_price,
        before[&rig.pairs[0].0].regular_price
    );

    let (code, out, err) = run(&["sync", "run", "prices"]).await.unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("20 examined, 20 changes, 0 conflicts"),
        "{out}"
    );
    let pos = rig.pos_prices().await;
    let after = rig.store().await;
    for (sku, item, _) in &rig.pairs {
        assert_eq!(
            after[sku].regular_price,
            format!("{:.2}", pos[item]),
            "{sku}"
        );
    }
}

#[test]
fn the_price_pass_is_registered_and_scheduled_when_stock_sync_is_enabled() {
    use syncdesk::engine::{default_handlers, default_schedules};
    let mut config = Config::default();
    let registered = |c: &Config| default_handlers(c).kinds().any(|k| k == "stock.price_pass");
    let scheduled = |c: &Config| {
        default_schedules(c)
            .iter()
            .any(|s| format!("{s:?}").contains("stock.price_pass"))
    };
    assert!(!registered(&config) && !scheduled(&config));
    config.woocommerce.enabled = true;
    config.counterpoint.enabled = true;
    config.stock.enabled = true;
    assert_eq!(syncdesk::app::STOCK_PRICES, "stock.price_pass");
    assert!(registered(&config) && scheduled(&config));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_item_is_named_by_sku_and_written_on_the_next_pass() {
    let rig = Rig::start(60, 80, 20).await;
    let (sku, item, id) = rig.pairs[3].clone();
    let before = rig.store().await;
    rig.woo.lock_product(id, true);
    let mut lenient = rig.config.clone();
    lenient.stock.price_drift_conflict = false;
    let report = rig.pass_with(lenient.clone(), false).await;
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    assert_eq!(report.failed[0].sku, sku.to_uppercase());
    assert!(
        report.failed[0]
            .message
            .contains("woocommerce_rest_cannot_edit")
    );
    assert_eq!(report.changes.len(), 19);
    assert!(!report.changes.iter().any(|c| c.sku == sku));
    assert_eq!(
        rig.store().await[&sku].regular_price,
        before[&sku].regular_price
    );
    rig.woo.lock_product(id, false);
    let next = rig.pass_with(lenient, false).await;
    assert_eq!(next.changes.len(), 1, "{:?}", next.changes);
    let pos = rig.pos_prices().await;
    assert_eq!(
        rig.store().await[&sku].regular_price,
        format!("{:.2}", pos[&item])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_siding_with_the_pos_price_gets_it_written_by_the_next_pass_without_a_new_conflict()
 {
    let rig = Rig::start(60, 80, 20).await;
    let (far, store_price) = rig.drifted(0).await;
    let sku = rig.pairs[0].0.clone();
    let mut app = App::open(&rig.db, rig.config.clone(), Actor::operator("dana")).unwrap();
    // A price is not merged or counted.
    for how in [Resolution::Winner(Winner::Merge), Resolution::Quantity(3)] {
        let err = app
            .resolve_price_conflict(&sku, how)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "{sku}: a price conflict is settled by the POS price or the store price"
            )),
            "{err}"
        );
    }
    let done = app
        .resolve_price_conflict(&sku, Resolution::Winner(Winner::Pos))
        .unwrap();
    assert_eq!(
        done.summary(),
        format!("{sku} price resolved by dana (POS wins): {far:.2} goes to the store")
    );
    // The price pass is asked to run now, in the same transaction.
    let job = app.job(done.job_id.expect("a price pass job")).unwrap();
    assert_eq!(job.kind, "stock.price_pass");
    assert_eq!(
        rig.store().await[&sku].regular_price,
        store_price,
        "nothing written before the pass"
    );

    let report = rig.price_pass(false).await;
    assert!(report.conflicts.is_empty(), "{:?}", report.conflicts);
    let change = report.changes.iter().find(|c| c.sku == sku).unwrap();
    assert_eq!(change.why, "price_drift resolved by dana (POS wins)");
    assert_eq!(rig.store().await[&sku].regular_price, format!("{far:.2}"));
    let store = rig.store_db();
    assert!(
        stock_rows::open_conflicts_for(store.conn(), &sku)
            .unwrap()
            .is_empty()
    );
    let log = syncdesk::store::sync_log::for_entity(store.conn(), "price", &sku, 5).unwrap();
    assert_eq!(log[0].field, "woocommerce.regular_price");
    assert_eq!(log[0].new_value, Some(format!("{far:.2}")));
    assert_eq!(log[1].field, "conflict.resolution");
    assert_eq!(log[1].actor.as_deref(), Some("dana"));
    // Nothing left to settle.
    assert!(
        app.resolve_price_conflict(&sku, Resolution::Winner(Winner::Pos))
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeping_the_store_price_from_the_command_line_silences_that_drift_until_a_price_moves() {
    let rig = Rig::start(60, 80, 20).await;
    let (far, store_price) = rig.drifted(0).await;
    let (sku, item, _) = rig.pairs[0].clone();
    let cents = (far * Decimal::from(100)).trunc().to_string();

    // The proposal reads as money, not cents.
    let (code, out, err) = rig
        .cli_with_stock("", &["conflicts", "list"])
        .await
        .unwrap();
    assert_eq!(code, 0, "{out}{err}");
    let row = out.lines().find(|l| l.contains(&sku)).expect(&out);
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[2], "price_drift", "{row}");
    assert_eq!(cells[6], format!("{far:.2}"), "PROPOSED in {row}");
    assert!(!row.contains(&cents), "no {cents} (cents) in {row}");

    // A price-only SKU takes --winner pos|woo; a merge or a quantity is refused (exit 2).
    for bad in [["--winner", "merge"], ["--qty", "3"]] {
        let (code, out, err) = rig
            .cli_with_stock("", &["conflicts", "resolve", &sku, bad[0], bad[1]])
            .await
            .unwrap();
        assert_eq!(code, 2, "{out}{err}");
        assert!(
            err.contains("a price conflict is settled by the POS price or the store price"),
            "{err}"
        );
    }
    let (code, out, err) = rig
        .cli_with_stock("", &["conflicts", "resolve", &sku, "--winner", "woo"])
        .await
        .unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "{sku} price resolved by ops (store wins): the store keeps {store_price}"
        )),
        "{out}"
    );

    // The next passes neither write nor raise.
    for _ in 0..2 {
        let report = rig.price_pass(false).await;
        assert!(report.conflicts.is_empty(), "{:?}", report.conflicts);
        assert!(
            !report.changes.iter().any(|c| c.sku == sku),
            "{:?}",
            report.changes
        );
    }
    assert_eq!(rig.store().await[&sku].regular_price, store_price);
    let store = rig.store_db();
    assert!(
        stock_rows::open_conflicts_for(store.conn(), &sku)
            .unwrap()
            .is_empty()
    );

    // The POS price moves again: the drift is a new question.
    let further = (far * Decimal::new(11, 1)).round_dp(2);
    rig.cp.shop().set_price(&item, further).unwrap();
    let report = rig.price_pass(false).await;
    assert_eq!(report.conflicts.len(), 1, "{:?}", report.conflicts);
    let open = stock_rows::open_conflicts_for(store.conn(), &sku).unwrap();
    assert_eq!(open[0].pos_value, Some(format!("{further:.2}")));
    assert_eq!(rig.store().await[&sku].regular_price, store_price);
}

/// A POS that only exports files still has prices in its export: the price pass writes them to the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_only_pos_is_the_price_source_through_its_export() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let woo = syncdesk_sim::woo::WooSim::start(WooSimConfig {
        products: 20,
        orders: 0,
        ..WooSimConfig::default()
    })
    .await
    .unwrap();
    let mut config = Config {
        woocommerce: sim_config::woo_config(&woo),
        ..Config::default()
    };
    config.pos_csv.enabled = true;
    config.pos_csv.files.export_path = dir.path().join("stock.csv");
    config.pos_csv.files.reductions_dir = dir.path().join("imports");
    std::fs::create_dir_all(&config.pos_csv.files.reductions_dir).unwrap();
    config.stock.enabled = true;
    config.stock.price_drift_conflict = false;
    let products: Vec<_> = woo
        .products()
        .into_iter()
        .filter(|p| p.kind == "simple" && !p.sku.is_empty())
        .take(2)
        .collect();
    std::fs::write(
        &config.pos_csv.files.export_path,
        "sku,quantity,retail_price\nPOS-1,5,12.50\nPOS-2,5,\n",
    )
    .unwrap();
    let mut app = App::open(&db, config.clone(), Actor::operator("test")).unwrap();
    app.import_alignment(&format!(
        "POS SKU,WooCommerce SKU\nPOS-1,{}\nPOS-2,{}\n",
        products[0].sku, products[1].sku
    ))
    .unwrap();
    let ctx = JobContext {
        store: Arc::new(Mutex::new(
            Store::open(&db, Duration::from_secs(5)).unwrap(),
        )),
        config: Arc::new(config.clone()),
    };
    let client = woo_orders::client(&config.woocommerce).unwrap();
    let before = client
        .get_product(products[1].id)
        .await
        .unwrap()
        .regular_price;
    let report = price_pass(pos_source(&config).unwrap().as_ref(), &client, &ctx, false)
        .await
        .unwrap();
    assert_eq!(report.changes.len(), 1, "{report:?}");
    assert_eq!(
        client
            .get_product(products[0].id)
            .await
            .unwrap()
            .regular_price,
        "12.50"
    );
    assert_eq!(
        client
            .get_product(products[1].id)
            .await
            .unwrap()
            .regular_price,
        before,
        "an item with no price in the export keeps the store's"
    );
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.sku == products[1].sku && s.message.contains("no price")),
        "{:?}",
        report.skipped
    );
    // The engine schedules the price pass for this back office too.
    let kinds: Vec<String> = syncdesk::engine::default_schedules(&config)
        .iter()
        .map(|s| s.kind.clone())
        .collect();
    assert!(kinds.iter().any(|k| k == "stock.price_pass"), "{kinds:?}");
}
