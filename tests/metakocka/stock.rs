//! Metakocka as the POS side of the stock pass, over loopback against the WooCommerce and Metakocka
//! simulators: a full pass writes Metakocka's free stock to the store; a signed stock webhook reaches the
//! store through the engine's incremental pass; a web order reserved in Metakocka is counted once (the store
//! and Metakocka agree afterwards, no conflict), also when it is cancelled before a pass; and the CLI's
//! `sync run full|incremental [--dry-run]` and `alignment test` read Metakocka.

use crate::cli_support;
use crate::flow_rig::FlowRig;
use crate::sim_config;
use cli_support::run;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use syncdesk::app::ShipmentDetails;
use syncdesk::config::{Config, Secret};
use syncdesk::engine::stock_flows::{PassMode, StockPassReport, pos_source, stock_pass};
use syncdesk::engine::{EngineHandle, default_schedules};
use syncdesk::integrations::woocommerce::orders as woo_orders;
use syncdesk::server::{ServerState, serve};
use syncdesk::store::{inventory, jobs, links, sync_log};
use syncdesk_sim::metakocka::{MetakockaSim, MetakockaSimConfig, MkWebhookTarget};
use syncdesk_sim::woo::{WooSim, WooSimConfig};

const MAIN: &str = "1600000001";
const HOOK_SECRET: &str = "mk-stock-hook-7";

/// The flow rig with the WooCommerce and Metakocka simulators, `aligned` pairs, and the engine once a test
/// spawns it.
struct Rig {
    flow: FlowRig,
    woo: WooSim,
    mk: MetakockaSim,
    /// (store SKU, Metakocka product code, store product id)
    pairs: Vec<(String, String, u64)>,
    engine: Option<EngineHandle>,
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
    /// `aligned` store products paired with Metakocka codes `MK-<sku>`.
    async fn start(aligned: usize) -> Rig {
        let woo = WooSim::start(WooSimConfig {
            products: 20,
            orders: 0,
            ..WooSimConfig::default()
        })
        .await
        .unwrap();
        let mk_cfg = MetakockaSimConfig {
            webhook_retry_delay: Duration::from_millis(50),
            ..MetakockaSimConfig::default()
        };
        let mk = MetakockaSim::start(mk_cfg.clone()).await.unwrap();
        let base = Config {
            woocommerce: sim_config::woo_config(&woo),
            ..FlowRig::fast_engine()
        };
        let flow = FlowRig::new(base, |_, config| {
            let m = &mut config.metakocka;
            m.enabled = true;
            m.base_url = mk.base_url();
            m.company_id = mk_cfg.company_id.clone();
            m.secret_key = Secret::new(mk_cfg.secret_key.clone());
            m.webhook_secret = Secret::new(HOOK_SECRET);
            m.warehouse = MAIN.into();
            m.max_attempts = 1;
            m.timeout_secs = 5;
            config.stock.enabled = true;
            config.stock.incremental_secs = 1;
        });
        let pairs: Vec<(String, String, u64)> = woo
            .products()
            .into_iter()
            .filter(|p| p.kind == "simple" && !p.sku.is_empty() && p.manage_stock)
            .take(aligned)
            .map(|p| (p.sku.clone(), format!("MK-{}", p.sku), p.id))
            .collect();
        assert_eq!(pairs.len(), aligned, "enough store products");
        flow.align(
            pairs.iter().map(|(w, m, _)| (m.as_str(), w.as_str())),
            "exact",
        );
        Rig {
            flow,
            woo,
            mk,
            pairs,
            engine: None,
        }
    }

    /// Runs the engine, with the stock schedules when `stock_schedules` (else passes run only when a test
    /// asks); orders are imported when a test asks.
    fn spawn_engine(&mut self, stock_schedules: bool) {
        let schedules = default_schedules(&self.config)
            .into_iter()
            .filter(|s| stock_schedules || !s.kind.starts_with("stock."))
            .filter(|s| !s.kind.starts_with("woo."))
            .collect();
        self.engine = Some(self.flow.spawn_engine(schedules));
    }

    async fn pass(&self, mode: PassMode, dry_run: bool) -> StockPassReport {
        let pos = pos_source(&self.config).unwrap();
        let woo = woo_orders::client(&self.config.woocommerce).unwrap();
        stock_pass(pos.as_ref(), &woo, &self.ctx(), mode, dry_run)
            .await
            .unwrap()
    }

    fn store_stock(&self, i: usize) -> i64 {
        self.woo.product_stock(self.pairs[i].2).unwrap()
    }

    fn mk_free(&self, i: usize) -> f64 {
        self.mk.stock(MAIN, &self.pairs[i].1).unwrap().free
    }

    fn wake(&self) {
        if let Some(e) = &self.engine {
            e.wake();
        }
    }

    /// Imports the store's orders as the order poll does.
    async fn import_orders(&self) {
        let woo = woo_orders::client(&self.config.woocommerce).unwrap();
        woo_orders::reconcile(&woo, &self.ctx(), false)
            .await
            .unwrap();
        self.wake();
    }

    /// The Metakocka link of the order imported from store order `woo_id`, once its status is `code`.
    async fn linked_at(&self, woo_id: u64, code: &str) -> links::Link {
        eventually(&format!("woo #{woo_id} at {code}"), || {
            let store = self.store();
            let order =
                links::by_external(store.conn(), "order", "woocommerce", &woo_id.to_string())
                    .unwrap()?
                    .local_id;
            links::for_local(store.conn(), "order", order)
                .unwrap()
                .into_iter()
                .find(|l| {
                    l.system == "metakocka"
                        && !l.external_id.starts_with("buyer_order:")
                        && l.remote_status.as_deref() == Some(code)
                        && l.sync_state == "synced"
                })
        })
        .await
    }

    fn open_conflicts(&self) -> Vec<inventory::StockConflict> {
        inventory::conflicts(self.store().conn(), false, 100, 0).unwrap()
    }
}

async fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pass_writes_metakockas_free_stock_to_the_store() {
    let rig = Rig::start(3).await;
    // Close to the store's count, reserved in part by a sales order entered in Metakocka, and far off.
    rig.woo.set_stock(rig.pairs[0].2, 5).unwrap();
    rig.mk.set_stock(MAIN, &rig.pairs[0].1, 10.0);
    rig.woo.set_stock(rig.pairs[1].2, 3).unwrap();
    rig.mk.set_stock(MAIN, &rig.pairs[1].1, 12.0);
    rig.mk
        .add_sales_order("B2B-1", "Trgovina d.o.o.", &[(&rig.pairs[1].1, 4.0)])
        .unwrap();
    rig.woo.set_stock(rig.pairs[2].2, 90).unwrap();
    rig.mk.set_stock(MAIN, &rig.pairs[2].1, 2.0);
    // Another warehouse's stock is not ours to sell.
    rig.mk.set_stock("1600000002", &rig.pairs[0].1, 500.0);

    let dry = rig.pass(PassMode::Full, true).await;
    assert_eq!(dry.changes.len(), 3, "{dry:?}");
    assert_eq!(rig.store_stock(0), 5, "a dry run writes nothing");

    let report = rig.pass(PassMode::Full, false).await;
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(rig.store_stock(0), 10);
    assert_eq!(
        rig.store_stock(1),
        8,
        "free (12 on hand less 4 reserved), not on hand"
    );
    assert_eq!(rig.store_stock(2), 2);
    // The far-off one was a first-sync mismatch settled by its policy (pos_wins).
    assert_eq!(report.conflicts.len(), 1, "{report:?}");
    assert!(report.conflicts[0].message.starts_with("quantity_mismatch"));
    assert!(rig.open_conflicts().is_empty());
    let pair = inventory::find(rig.store().conn(), &rig.pairs[1].0)
        .unwrap()
        .unwrap();
    assert_eq!(pair.base.map(|b| (b.agreed, b.pos_seen)), Some((8, 8)));

    // Nothing moved: a second full pass writes nothing.
    let again = rig.pass(PassMode::Full, false).await;
    assert!(
        again.changes.is_empty() && again.conflicts.is_empty(),
        "{again:?}"
    );
}

/// `syncdesk serve`'s router on loopback, on the rig's database; returns the Metakocka webhook URL.
async fn receiver(rig: &Rig) -> String {
    let state = Arc::new(ServerState {
        store: Arc::new(Mutex::new(rig.store())),
        config: Arc::new(rig.config.clone()),
        engine: None,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, state, std::future::pending()));
    format!("http://{addr}/webhooks/metakocka")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_stock_webhook_reaches_the_store_through_an_incremental_pass() {
    let mut rig = Rig::start(2).await;
    for i in 0..2 {
        rig.woo.set_stock(rig.pairs[i].2, 6).unwrap();
        rig.mk.set_stock(MAIN, &rig.pairs[i].1, 6.0);
    }
    rig.spawn_engine(true);
    // The engine's first passes (a full and an incremental one, one after the other: one stock pass at a
    // time) agree on 6 and remember the store's product ids (what hints name).
    eventually("the first sync", || {
        let pair = inventory::find(rig.store().conn(), &rig.pairs[0].0).unwrap()?;
        let full_done = jobs::list(rig.store().conn(), Some(jobs::JobState::Done), 100)
            .unwrap()
            .iter()
            .any(|j| j.kind == syncdesk::app::STOCK_FULL);
        (full_done && pair.base.is_some() && pair.store_product_id.is_some()).then_some(())
    })
    .await;

    let url = receiver(&rig).await;
    rig.mk.set_webhook(Some(MkWebhookTarget {
        url,
        client_secret: HOOK_SECRET.into(),
    }));
    // A delivery in Metakocka: 15 more units of the first product.
    rig.mk.set_stock(MAIN, &rig.pairs[0].1, 21.0);
    eventually("an accepted delivery", || {
        rig.mk.webhook_deliveries().into_iter().find(|d| d.accepted)
    })
    .await;
    rig.wake();
    eventually("the store at 21", || {
        (rig.store_stock(0) == 21).then_some(())
    })
    .await;
    assert_eq!(rig.store_stock(1), 6);

    // Written by an incremental pass (the full one is a day away), and logged with its job (the log row
    // commits just after the store's write).
    let write = eventually("the write's log row", || {
        sync_log::for_entity(rig.store().conn(), "stock", &rig.pairs[0].0, 20)
            .unwrap()
            .into_iter()
            .find(|e| {
                e.field == "woocommerce.stock_quantity" && e.new_value.as_deref() == Some("21")
            })
    })
    .await;
    let job = jobs::get(rig.store().conn(), write.job_id.unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(job.kind, syncdesk::app::STOCK_INCREMENTAL);
    assert!(rig.open_conflicts().is_empty());
    assert!(
        inventory::hints(rig.store().conn()).unwrap().is_empty(),
        "the hint is used up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_order_reserved_in_metakocka_is_counted_once() {
    let mut rig = Rig::start(2).await;
    for i in 0..2 {
        rig.woo.set_stock(rig.pairs[i].2, 10).unwrap();
        rig.mk.set_stock(MAIN, &rig.pairs[i].1, 10.0);
    }
    rig.spawn_engine(false);
    rig.pass(PassMode::Full, false).await;

    // A customer buys 3 online (the store: 10 → 7); the order reaches Metakocka, which reserves 3 (free 7).
    let sku = rig.pairs[0].0.clone();
    let woo_id = rig.woo.create_order(&[(&sku, 3)], "processing").unwrap();
    assert_eq!(rig.store_stock(0), 7);
    rig.import_orders().await;
    let link = rig.linked_at(woo_id, "in_progress").await;
    assert_eq!(rig.mk_free(0), 7.0);

    // Both sides fell by the same sale: the pass keeps 7, not 4, and raises nothing.
    let report = rig.pass(PassMode::Incremental, false).await;
    assert!(report.conflicts.is_empty(), "{report:?}");
    assert!(report.changes.is_empty(), "{report:?}");
    assert_eq!(rig.store_stock(0), 7);
    let pair = inventory::find(rig.store().conn(), &sku).unwrap().unwrap();
    assert_eq!(pair.base.map(|b| b.agreed), Some(7));

    // Shipping consumes the reservation (free stays 7); a later sale in the shop still counts.
    let order = syncdesk::store::orders::get(rig.store().conn(), link.local_id)
        .unwrap()
        .unwrap();
    rig.app()
        .fulfill(&order.number, &ShipmentDetails::default(), None)
        .unwrap();
    rig.wake();
    rig.linked_at(woo_id, "shipped").await;
    rig.mk.set_stock(MAIN, &rig.pairs[0].1, 5.0); // 7 on hand after shipping, 2 sold over the counter
    rig.mk.set_stock(MAIN, &rig.pairs[1].1, 10.0);
    let report = rig.pass(PassMode::Full, false).await;
    assert!(report.conflicts.is_empty(), "{report:?}");
    assert_eq!(rig.store_stock(0), 5);
    assert_eq!(rig.mk_free(0), 5.0, "the store and Metakocka agree");

    // An order cancelled before any pass counted it: both sides got the units back; nothing to count.
    let woo_id = rig.woo.create_order(&[(&sku, 2)], "processing").unwrap();
    rig.import_orders().await;
    let link = rig.linked_at(woo_id, "in_progress").await;
    assert_eq!(rig.mk_free(0), 3.0);
    let order = syncdesk::store::orders::get(rig.store().conn(), link.local_id)
        .unwrap()
        .unwrap();
    rig.app()
        .cancel(&order.number, "customer changed their mind", None)
        .unwrap();
    rig.wake();
    rig.linked_at(woo_id, "cancelled").await;
    eventually("the store restocked", || {
        (rig.store_stock(0) == 5).then_some(())
    })
    .await;
    let report = rig.pass(PassMode::Incremental, false).await;
    assert!(report.conflicts.is_empty(), "{report:?}");
    assert_eq!(rig.store_stock(0), 5);
    assert_eq!(rig.mk_free(0), 5.0);
    assert!(rig.open_conflicts().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_runs_stock_passes_and_alignment_test_against_metakocka() {
    let rig = Rig::start(2).await;
    let dir = rig.dir.path();
    let mk_cfg = MetakockaSimConfig::default();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            r#"[woocommerce]
enabled = true
url = "{}"
consumer_key = "{}"
consumer_secret = "{}"
auth = "oauth"
[metakocka]
enabled = true
base_url = "{}"
company_id = "{}"
secret_key = "{}"
warehouse = "{MAIN}"
max_attempts = 1
[stock]
enabled = true
"#,
            rig.woo.base_url(),
            WooSimConfig::default().consumer_key,
            WooSimConfig::default().consumer_secret,
            rig.mk.base_url(),
            mk_cfg.company_id,
            mk_cfg.secret_key
        ),
    )
    .unwrap();
    rig.woo.set_stock(rig.pairs[0].2, 4).unwrap();
    rig.mk.set_stock(MAIN, &rig.pairs[0].1, 9.0);
    rig.woo.set_stock(rig.pairs[1].2, 2).unwrap();
    rig.mk.set_stock(MAIN, &rig.pairs[1].1, 2.0);

    let (code, out, err) = run(dir, &["sync", "run", "full", "--dry-run"]);
    assert_eq!(code, 0, "{out}{err}");
    let sku = &rig.pairs[0].0;
    assert!(
        out.contains(&format!("would set {sku} (POS MK-{sku}) 4 → 9")),
        "{out}"
    );
    assert!(out.contains("dry run, nothing written"), "{out}");
    assert_eq!(rig.store_stock(0), 4);

    let (code, out, err) = run(dir, &["sync", "run", "full"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(rig.store_stock(0), 9);

    rig.mk.set_stock(MAIN, &rig.pairs[1].1, 1.0);
    let (code, out, err) = run(dir, &["alignment", "test", &rig.pairs[1].0, "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let now: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(now["pos_quantity"], "1");
    assert_eq!(now["store_quantity"], 2);
    let (code, out, _) = run(dir, &["alignment", "test", &rig.pairs[1].0]);
    assert_eq!(code, 0);
    assert!(out.contains("POS (Metakocka)"), "{out}");

    let (code, out, err) = run(dir, &["sync", "run", "incremental", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["dry_run"], false, "{out}");
    let (code, out, err) = run(dir, &["sync", "run", "full"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(rig.store_stock(1), 1, "{out}");
}

#[test]
fn stock_sync_accepts_metakocka_as_the_back_office() {
    let base = "[woocommerce]\nenabled = true\nurl = \"https://shop.example\"\nconsumer_key = \"ck_1\"\nconsumer_secret = \"cs_1\"\n[stock]\nenabled = true\n";
    let mk = "[metakocka]\nenabled = true\ncompany_id = \"1\"\nsecret_key = \"s\"\nwarehouse = \"1600000001\"\n";
    Config::parse(&format!("{base}{mk}")).unwrap();
    let err = Config::parse(base).unwrap_err();
    assert!(
        err.starts_with("stock.enabled: stock sync needs [woocommerce] and a back office ([counterpoint], [metakocka] or [pos_csv])"),
        "{err}"
    );
    let err = Config::parse(&format!(
        "{base}{}",
        mk.replace("warehouse = \"1600000001\"\n", "")
    ))
    .unwrap_err();
    assert!(err.starts_with("metakocka.warehouse"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counted_web_order_cancelled_later_comes_back_once() {
    let mut rig = Rig::start(1).await;
    rig.woo.set_stock(rig.pairs[0].2, 10).unwrap();
    rig.mk.set_stock(MAIN, &rig.pairs[0].1, 10.0);
    rig.spawn_engine(false);
    rig.pass(PassMode::Full, false).await;

    // Sold online and reserved in Metakocka; a pass counts the sale once (both sides 7).
    let sku = rig.pairs[0].0.clone();
    let woo_id = rig.woo.create_order(&[(&sku, 3)], "processing").unwrap();
    rig.import_orders().await;
    let link = rig.linked_at(woo_id, "in_progress").await;
    let report = rig.pass(PassMode::Incremental, false).await;
    assert!(report.changes.is_empty(), "{report:?}");
    assert_eq!(rig.store_stock(0), 7);

    // Cancelled: the store restocks and Metakocka releases the reservation — 3 units come back, not 6.
    let order = syncdesk::store::orders::get(rig.store().conn(), link.local_id)
        .unwrap()
        .unwrap();
    rig.app()
        .cancel(&order.number, "payment failed", None)
        .unwrap();
    rig.wake();
    rig.linked_at(woo_id, "cancelled").await;
    eventually("the store restocked", || {
        (rig.store_stock(0) == 10).then_some(())
    })
    .await;
    assert_eq!(rig.mk_free(0), 10.0);
    for _ in 0..2 {
        let report = rig.pass(PassMode::Incremental, false).await;
        assert!(report.conflicts.is_empty(), "{report:?}");
        assert_eq!(rig.store_stock(0), 10, "{report:?}");
    }
    let pair = inventory::find(rig.store().conn(), &sku).unwrap().unwrap();
    assert_eq!(pair.base.map(|b| b.agreed), Some(10));
    assert!(rig.open_conflicts().is_empty());
}
