//! Counterpoint flows end to end over loopback: web orders from the WooCommerce simulator are staged in the
//! Counterpoint (TDS) simulator through tiberius; shipments made there come back as syncdesk shipments and
//! reach the store as `completed` with one note — exactly once, across partial shipments, posting to history,
//! dropped connections and re-read windows. The simulator forces encryption and syncdesk connects with
//! `encryption = "required"` and the server's certificate pinned, as in a shop.

use std::time::Duration;

use rust_decimal::Decimal;
use syncdesk::config::Secret;
use syncdesk::engine::EngineHandle;
use syncdesk::integrations::counterpoint::client::{
    CounterpointClient, CounterpointConfig, Encryption,
};
use syncdesk::integrations::counterpoint::flows::{self as counterpoint_flows, FulfilmentOutcome};
use syncdesk::integrations::woocommerce::orders as woo_orders;
use syncdesk::store::{JobState, Store, links, watermarks};
use syncdesk_sim::counterpoint::{CounterpointSim, ServerEncryption, SimConfig};
use syncdesk_sim::woo::{WooSim, WooSimConfig};

use crate::flow_rig::FlowRig;
use crate::sim_config;

/// The flow rig with the WooCommerce and Counterpoint simulators, the first aligned SKUs, and the engine.
struct Rig {
    flow: FlowRig,
    woo: WooSim,
    cp: CounterpointSim,
    engine: EngineHandle,
    /// (store SKU, Counterpoint item) pairs that are aligned.
    pairs: Vec<(String, String)>,
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
    async fn start() -> Rig {
        let woo = WooSim::start(WooSimConfig {
            products: 20,
            orders: 0,
            ..WooSimConfig::default()
        })
        .await
        .unwrap();
        let cp = CounterpointSim::start(SimConfig {
            items: 40,
            // A server that refuses anything but a fully encrypted session.
            encryption: ServerEncryption::Required,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let flow = FlowRig::new(FlowRig::fast_engine(), |dir, config| {
            config.woocommerce = sim_config::woo_config(&woo);
            config.counterpoint.enabled = true;
            config
                .counterpoint
                .carriers
                .insert("UPS".into(), "UPS Ground".into());
            // As a shop configures it: the whole session encrypted, the server's certificate pinned.
            let pinned = dir.join("counterpoint.crt");
            std::fs::write(&pinned, cp.certificate_pem().expect("a certificate")).unwrap();
            config.counterpoint.connection = CounterpointConfig {
                host: "127.0.0.1".into(),
                port: cp.addr().port(),
                user: cp.user().into(),
                password: Secret::new(cp.password()),
                database: cp.database().into(),
                encryption: Encryption::Required,
                trust_cert_ca: Some(pinned.display().to_string()),
                ..CounterpointConfig::default()
            };
        });
        let store_skus: Vec<String> = woo
            .products()
            .into_iter()
            .filter(|p| p.kind == "simple" && !p.sku.is_empty())
            .map(|p| p.sku)
            .collect();
        let items = cp.shop().item_numbers().unwrap();
        let pairs: Vec<(String, String)> = store_skus.into_iter().zip(items).take(5).collect();
        flow.align(
            pairs.iter().map(|(w, p)| (p.as_str(), w.as_str())),
            "manual",
        );
        let engine = flow.spawn_engine(Vec::new());
        Rig {
            flow,
            woo,
            cp,
            engine,
            pairs,
        }
    }

    fn client(&self) -> CounterpointClient {
        counterpoint_flows::client(&self.config.counterpoint).unwrap()
    }

    async fn pass(&self, dry_run: bool) -> Vec<FulfilmentOutcome> {
        counterpoint_flows::fulfilment_pass(&self.client(), &self.ctx(), dry_run)
            .await
            .unwrap()
    }

    /// A processing web order of `qty` × the first two aligned SKUs, imported and staged; returns
    /// (woo id, local reference, Counterpoint DOC_ID).
    async fn staged_order(&self, qty: i64) -> (u64, String, i64) {
        let lines = [
            (self.pairs[0].0.as_str(), qty),
            (self.pairs[1].0.as_str(), qty),
        ];
        let woo_id = self.woo.create_order(&lines, "processing").unwrap();
        let client = woo_orders::client(&self.config.woocommerce).unwrap();
        woo_orders::reconcile(&client, &self.ctx(), false)
            .await
            .unwrap();
        let link = self
            .link("woocommerce", &woo_id.to_string())
            .expect("imported");
        let reference = format!("#{}", link.local_id);
        self.engine.wake();
        eventually("staged", || self.link("counterpoint", &woo_id.to_string())).await;
        let processed = self.cp.shop().process_staged_orders().unwrap();
        let doc = processed
            .iter()
            .find(|p| p.web_order_id == woo_id.to_string())
            .and_then(|p| p.doc_id)
            .expect("document created");
        (woo_id, reference, doc)
    }

    fn link(&self, system: &str, external_id: &str) -> Option<links::Link> {
        let store = Store::open(&self.db, Duration::from_secs(5)).unwrap();
        links::by_external(store.conn(), "order", system, external_id).unwrap()
    }
}

async fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
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
async fn a_processing_web_order_is_staged_once_even_when_the_job_runs_twice() {
    let rig = Rig::start().await;
    let (woo_id, reference, _doc) = rig.staged_order(2).await;
    // The same staging job again (as after a crash before its bookkeeping), and the raw call twice.
    let mut store = Store::open(&rig.db, Duration::from_secs(5)).unwrap();
    let order_id: i64 = reference.trim_start_matches('#').parse().unwrap();
    store
        .write(|tx| {
            let job = syncdesk::store::NewJob {
                kind: "counterpoint.stage_order".into(),
                key: None,
                payload: format!(r#"{{"order_id":{order_id}}}"#),
                run_at: 0,
                max_attempts: 3,
            };
            syncdesk::store::jobs::enqueue(tx, &job, 0)
        })
        .unwrap();
    rig.engine.wake();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let statuses = rig
        .client()
        .staging_status(&[woo_id.to_string()])
        .await
        .unwrap();
    assert_eq!(statuses.len(), 1, "one staging row");
    let order = rig.app().order(&reference).unwrap();
    assert_eq!(
        order.status, "Processing",
        "staging leaves the store at processing"
    );
    assert_eq!(rig.woo.order_status(woo_id).as_deref(), Some("processing"));
    let items: Vec<String> = rig
        .cp
        .shop()
        .open_documents()
        .unwrap()
        .iter()
        .map(|d| format!("{d:?}"))
        .collect();
    assert_eq!(items.len(), 1, "one document: {items:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_then_full_shipment_completes_once_with_one_note() {
    let rig = Rig::start().await;
    let (woo_id, reference, doc) = rig.staged_order(3).await;
    rig.cp
        .shop()
        .ship_document_lines(doc, &[(1, Decimal::from(1))])
        .unwrap();
    let first = rig.pass(false).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].shipped, vec![(rig.pairs[0].0.clone(), 1)]);
    assert!(!first[0].completed);
    let order = rig.app().order(&reference).unwrap();
    assert_eq!(
        (order.status.as_str(), order.shipments.len()),
        ("Processing", 1)
    );
    assert_eq!(order.shipments[0].source, "counterpoint");

    // Re-reading the overlap window changes nothing.
    assert!(rig.pass(false).await.is_empty());

    rig.cp.shop().ship_document(doc).unwrap();
    let second = rig.pass(false).await;
    assert_eq!(second.len(), 1);
    assert!(second[0].completed);
    let order = rig.app().order(&reference).unwrap();
    assert_eq!(order.status, "Completed");
    assert_eq!(
        order
            .lines
            .iter()
            .map(|l| l.quantity_shipped)
            .collect::<Vec<_>>(),
        [3, 3]
    );
    rig.engine.wake();
    eventually("completed in the store", || {
        (rig.woo.order_status(woo_id).as_deref() == Some("completed")).then_some(())
    })
    .await;
    assert!(rig.pass(false).await.is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let notes = rig.woo.order_notes(woo_id);
    let shipped: Vec<_> = notes
        .iter()
        .filter(|n| n.note.starts_with("Shipped"))
        .collect();
    assert_eq!(shipped.len(), 1, "{notes:?}");
    // One note for the customer, naming both parcels (not only the last one).
    let note = &shipped[0].note;
    assert!(
        note.starts_with("Shipped in 2 parcels from Counterpoint:")
            && note.contains("\n1. ")
            && note.contains("\n2. "),
        "{note}"
    );
    let completions = order.history.iter().filter(|h| h.to == "Completed").count();
    assert_eq!(completions, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_posted_to_history_counts_as_shipped_not_lost() {
    let rig = Rig::start().await;
    let (_, reference, doc) = rig.staged_order(2).await;
    rig.cp.shop().post_document(doc).unwrap();
    let out = rig.pass(false).await;
    assert_eq!(out.len(), 1);
    assert!(out[0].posted && out[0].completed, "{out:?}");
    assert_eq!(rig.app().order(&reference).unwrap().status, "Completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_mid_pass_retries_and_duplicates_nothing() {
    let rig = Rig::start().await;
    let (_, reference, doc) = rig.staged_order(2).await;
    rig.cp.shop().ship_document(doc).unwrap();
    rig.cp.drop_connection_after(1);
    let client = rig.client();
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        match counterpoint_flows::fulfilment_pass(&client, &rig.ctx(), false).await {
            Ok(o) => outcomes.extend(o),
            Err(e) => assert!(
                e.is_retryable(),
                "a dropped connection is retryable: {}",
                e.message
            ),
        }
    }
    let order = rig.app().order(&reference).unwrap();
    assert_eq!(order.status, "Completed");
    assert_eq!(
        order.shipments.len(),
        1,
        "shipped once: {:?}",
        order.shipments
    );
    assert_eq!(outcomes.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_writes_nothing_and_predicts_the_real_pass() {
    let rig = Rig::start().await;
    let (_, reference, doc) = rig.staged_order(2).await;
    rig.cp.shop().ship_document(doc).unwrap();
    let predicted = rig.pass(true).await;
    assert_eq!(predicted.len(), 1);
    let order = rig.app().order(&reference).unwrap();
    assert!(order.shipments.is_empty());
    assert_eq!(order.status, "Processing");
    let store = Store::open(&rig.db, Duration::from_secs(5)).unwrap();
    assert_eq!(
        watermarks::get(store.conn(), "counterpoint.fulfilment").unwrap(),
        None
    );
    assert!(
        rig.app()
            .jobs(Some(JobState::Queued), 100)
            .unwrap()
            .iter()
            .all(|j| j.kind != "woo.push_status")
    );
    assert_eq!(rig.pass(false).await, predicted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_cancelled_in_counterpoint_is_a_visible_sync_error() {
    let rig = Rig::start().await;
    let (woo_id, reference, doc) = rig.staged_order(1).await;
    rig.cp.shop().cancel_document(doc).unwrap();
    let handler = counterpoint_flows::VerifyDocuments::new(&rig.config);
    let job = syncdesk::store::Job {
        id: 0,
        kind: "counterpoint.verify_documents".into(),
        key: None,
        payload: "{}".into(),
        state: JobState::Running,
        attempts: 1,
        max_attempts: 1,
        run_at: 0,
        lease_until: None,
        leased_by: None,
        last_error: None,
        created_at: 0,
        updated_at: 0,
        outcome: None,
    };
    syncdesk::engine::JobHandler::run(&handler, &job, &rig.ctx())
        .await
        .unwrap();
    let link = rig.link("counterpoint", &woo_id.to_string()).unwrap();
    assert_eq!(link.sync_state, "error");
    assert!(link.last_error.unwrap().contains("cancelled or deleted"));
    assert_eq!(
        rig.app().order(&reference).unwrap().status,
        "Processing",
        "no silent guess"
    );
}

/// The engine's fulfilment pass (`:sync fulfillments`) ends with its counts on the job, in the words
/// `sync run fulfillments` prints last — what the console's toast shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fulfilment_pass_job_records_its_counts() {
    let rig = Rig::start().await;
    let (_, _, doc) = rig.staged_order(2).await;
    rig.cp.shop().ship_document(doc).unwrap();
    let asked = rig
        .app()
        .run_sync_now(syncdesk::app::SyncPass::Fulfillments)
        .unwrap();
    rig.engine.wake();
    let job = eventually("the pass job done", || {
        rig.app()
            .job(asked.job_id)
            .ok()
            .filter(|j| j.state == JobState::Done)
    })
    .await;
    assert_eq!(job.outcome.as_deref(), Some("1 shipment(s)"));
}
