//! WooCommerce flows end to end over loopback: the simulator sends real signed webhooks to our receiver,
//! the engine's jobs call the simulator through the real client, and the store is asserted afterwards.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use sha2::Sha256;
use syncdesk::app::{Actor, App, ShipmentDetails};
use syncdesk::config::Secret;
use syncdesk::engine::{Engine, EngineHandle, default_handlers, default_schedules};
use syncdesk::integrations::woocommerce::orders as woo_orders;
use syncdesk::server::{self, ServerState};
use syncdesk::store::{JobState, Store, inbound, jobs, links};
use syncdesk_sim::woo::{WebhookTarget, WooSim, WooSimConfig};

use crate::flow_rig::FlowRig;
use crate::sim_config;

const SECRET: &str = "whsec_test";

/// The flow rig with the WooCommerce simulator, our webhook receiver on loopback that the simulator sends
/// to, and the engine when a test runs one: the receiver and its HTTP client are this area's own.
struct Rig {
    flow: FlowRig,
    sim: WooSim,
    receiver: SocketAddr,
    engine: Option<EngineHandle>,
    http: reqwest::Client,
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
    /// Simulator + receiver (+ engine when `engine`), webhooks from the simulator to the receiver.
    async fn start(orders: usize, engine: bool) -> Rig {
        let sim = WooSim::start(WooSimConfig {
            products: 20,
            orders,
            webhook_coalesce: Duration::from_millis(50),
            ..WooSimConfig::default()
        })
        .await
        .unwrap();
        let flow = FlowRig::new(FlowRig::fast_engine(), |_, config| {
            config.woocommerce = sim_config::woo_config(&sim);
            config.woocommerce.webhook_secret = Secret::new(SECRET);
            config.woocommerce.max_attempts = 1;
            config.woocommerce.poll_secs = 3600; // tests run passes themselves unless they say otherwise
        });
        let (db, config) = (&flow.db, &flow.config);

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = listener.local_addr().unwrap();
        let engine = engine.then(|| flow.spawn_engine(default_schedules(config)));
        let state = Arc::new(ServerState {
            store: Arc::new(Mutex::new(Store::open(db, Duration::from_secs(5)).unwrap())),
            config: Arc::new(config.clone()),
            engine: engine.as_ref().map(|e| (e.waker(), e.subscribe())),
        });
        tokio::spawn(server::serve(listener, state, std::future::pending()));
        sim.add_webhook(WebhookTarget::new(
            format!("http://{receiver}/webhooks/woocommerce"),
            SECRET,
        ));
        Rig {
            flow,
            sim,
            receiver,
            engine,
            http: reqwest::Client::new(),
        }
    }

    async fn reconcile(&self) -> Vec<syncdesk::app::ImportOutcome> {
        let client = woo_orders::client(&self.config.woocommerce).unwrap();
        woo_orders::reconcile(&client, &self.ctx(), false)
            .await
            .unwrap()
    }

    async fn post(&self, body: &[u8], signature: Option<String>) -> (u16, serde_json::Value) {
        let mut req = self
            .http
            .post(format!("http://{}/webhooks/woocommerce", self.receiver))
            .header("X-WC-Webhook-Topic", "order.updated")
            .header("X-WC-Webhook-Resource", "order")
            .header("X-WC-Webhook-Event", "updated")
            .body(body.to_vec());
        if let Some(sig) = signature {
            req = req.header("X-WC-Webhook-Signature", sig);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }
}

fn sign(body: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn eventually<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
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

fn link_of(db: &Path, woo_id: u64) -> Option<links::Link> {
    let store = Store::open(db, Duration::from_secs(5)).unwrap();
    links::by_external(store.conn(), "order", "woocommerce", &woo_id.to_string()).unwrap()
}

fn job_counts(db: &Path, kind: &str) -> usize {
    let store = Store::open(db, Duration::from_secs(5)).unwrap();
    jobs::list(store.conn(), None, 10_000)
        .unwrap()
        .iter()
        .filter(|j| j.kind == kind)
        .count()
}

fn first_sku(sim: &WooSim) -> String {
    sim.products()
        .into_iter()
        .find(|p| !p.sku.is_empty() && p.kind == "simple")
        .unwrap()
        .sku
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_web_order_arrives_by_webhook_within_seconds() {
    let rig = Rig::start(0, true).await;
    let sku = first_sku(&rig.sim);
    let woo_id = rig.sim.create_order(&[(&sku, 2)], "processing").unwrap();
    let link = eventually("the webhook import", Duration::from_secs(10), || {
        link_of(&rig.db, woo_id)
    })
    .await;
    let order = rig.app().order(&format!("#{}", link.local_id)).unwrap();
    assert_eq!(order.status, "Processing");
    assert_eq!(order.channel, "woocommerce");
    assert_eq!(
        (order.lines[0].sku.as_str(), order.lines[0].quantity),
        (sku.as_str(), 2)
    );
    assert_eq!(order.history[0].source, "woocommerce");
    assert_eq!(link.remote_status.as_deref(), Some("processing"));
    rig.engine.unwrap().shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_are_refused_and_store_nothing_and_pings_get_200() {
    let rig = Rig::start(0, false).await;
    let body = br#"{"id": 77, "date_modified_gmt": "2026-11-21T10:00:00"}"#;
    let (status, _) = rig.post(body, Some(sign(body, "not the secret"))).await;
    assert_eq!(status, 401);
    let (status, _) = rig.post(body, None).await;
    assert_eq!(status, 401);
    let (status, _) = rig.post(body, Some("%%%not base64".into())).await;
    assert_eq!(status, 401);
    let store = rig.store();
    assert_eq!(inbound::count(store.conn(), "woocommerce").unwrap(), 0);
    assert!(jobs::list(store.conn(), None, 10).unwrap().is_empty());

    let (status, body) = rig.post(b"webhook_id=12", None).await;
    assert_eq!((status, body["ping"].as_bool()), (200, Some(true)));

    // Bodies over server.max_body_bytes are refused before they are read.
    let huge = vec![b'x'; rig.config.server.max_body_bytes + 1];
    let (status, _) = rig.post(&huge, Some(sign(&huge, SECRET))).await;
    assert_eq!(status, 413);
    assert_eq!(
        inbound::count(rig.store().conn(), "woocommerce").unwrap(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_delivery_twice_has_one_effect() {
    let rig = Rig::start(0, false).await;
    let body = br#"{"id": 77, "status": "processing", "date_modified_gmt": "2026-11-21T10:00:00"}"#;
    let (first, reply) = rig.post(body, Some(sign(body, SECRET))).await;
    assert_eq!(first, 200);
    assert!(reply["job"].as_i64().is_some(), "{reply}");
    let (second, reply) = rig.post(body, Some(sign(body, SECRET))).await;
    assert_eq!((second, reply["duplicate"].as_bool()), (200, Some(true)));
    assert_eq!(job_counts(&rig.db, "woo.refresh_order"), 1);
    // A second change within the same (whole) second carries the same stamp: it is a new hint all the same.
    let body2 = br#"{"id": 77, "status": "on-hold", "date_modified_gmt": "2026-11-21T10:00:00"}"#;
    let (_, reply) = rig.post(body2, Some(sign(body2, SECRET))).await;
    assert_eq!(reply["duplicate"].as_bool(), None, "{reply}");
    // A later modification is a new hint.
    let body3 = br#"{"id": 77, "status": "completed", "date_modified_gmt": "2026-11-21T10:00:05"}"#;
    rig.post(body3, Some(sign(body3, SECRET))).await;
    let store = rig.store();
    let refresh: Vec<_> = jobs::list(store.conn(), None, 10).unwrap();
    assert_eq!(refresh.len(), 3);
    assert_eq!(
        refresh
            .iter()
            .filter(|j| j.state == JobState::Queued)
            .count(),
        1,
        "the newer hint supersedes the queued one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_changed_while_webhooks_are_disabled_is_picked_up_by_the_poll() {
    let mut rig = Rig::start(5, false).await;
    // This shop parks backorders on-hold (the default maps on-hold to Pending: unpaid bank transfers).
    rig.config
        .woocommerce
        .status_in
        .insert("on-hold".into(), "Backorder".into());
    let imported = rig.reconcile().await;
    assert_eq!(imported.len(), 5);
    let woo_id = rig
        .sim
        .order_ids()
        .into_iter()
        .find(|id| rig.sim.order_status(*id).as_deref() == Some("processing"))
        .unwrap_or_else(|| {
            let id = rig.sim.order_ids()[0];
            rig.sim.set_order_status(id, "processing").unwrap();
            id
        });
    rig.reconcile().await;
    for id in 1..=3 {
        rig.sim.set_webhook_active(id, false);
    }
    tokio::time::sleep(Duration::from_millis(1100)).await; // a later whole second than the last poll
    rig.sim.set_order_status(woo_id, "on-hold").unwrap();
    let outcomes = rig.reconcile().await;
    assert!(outcomes.iter().any(|o| matches!(o, syncdesk::app::ImportOutcome::StatusChanged { to, .. } if to == "Backorder")), "{outcomes:?}");
    let link = link_of(&rig.db, woo_id).unwrap();
    let order = rig.app().order(&format!("#{}", link.local_id)).unwrap();
    assert_eq!(order.status, "Backorder");
    let last = order.history.last().unwrap();
    assert_eq!(
        (last.source.as_str(), last.by.as_str()),
        ("woocommerce", "woocommerce")
    );
    assert_eq!(
        job_counts(&rig.db, "woo.push_status"),
        0,
        "a channel's own change is not pushed back to it"
    );
    assert_eq!(
        job_counts(&rig.db, "email.backorder"),
        1,
        "purchasing still hears about it"
    );
    // Unchanged on a second pass (the overlap window re-reads it).
    let before = rig
        .app()
        .order(&format!("#{}", link.local_id))
        .unwrap()
        .version;
    rig.reconcile().await;
    assert_eq!(
        rig.app()
            .order(&format!("#{}", link.local_id))
            .unwrap()
            .version,
        before
    );
}

/// Imports one new processing order (two of one SKU) through the webhook path and returns (woo id, local
/// reference, SKU).
async fn imported_order(rig: &Rig) -> (u64, String, String) {
    let sku = first_sku(&rig.sim);
    let woo_id = rig.sim.create_order(&[(&sku, 2)], "processing").unwrap();
    let link = eventually("import", Duration::from_secs(10), || {
        link_of(&rig.db, woo_id)
    })
    .await;
    (woo_id, format!("#{}", link.local_id), sku)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmapped_status_pushes_nothing_visibly_and_shipped_pushes_completed_without_echo() {
    let rig = Rig::start(0, true).await;
    let (woo_id, number, sku) = imported_order(&rig).await;
    let mut app = rig.app();
    app.change_status(&number, "ready to ship", None, None)
        .unwrap();
    let link = link_of(&rig.db, woo_id).unwrap();
    assert_eq!(link.sync_state, "unmapped");
    assert!(
        link.last_error
            .unwrap()
            .contains("Ready to Ship has no woocommerce mapping")
    );
    assert_eq!(job_counts(&rig.db, "woo.push_status"), 0);

    // Shipped once something has left (#15: the status alone is refused).
    app.ship(&number, &[(sku, 1)], &ShipmentDetails::default(), None)
        .unwrap();
    app.change_status(&number, "shipped", None, None).unwrap();
    rig.engine.as_ref().unwrap().wake();
    eventually("completed in the store", Duration::from_secs(10), || {
        (rig.sim.order_status(woo_id).as_deref() == Some("completed")).then_some(())
    })
    .await;
    // The store answers with an order.updated webhook; it must not move our order on to Completed.
    eventually("the echo", Duration::from_secs(10), || {
        let d = rig.sim.webhook_deliveries();
        (d.iter()
            .filter(|d| d.resource_id == woo_id && d.success)
            .count()
            >= 2)
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let order = app.order(&number).unwrap();
    assert_eq!(order.status, "Shipped");
    let link = link_of(&rig.db, woo_id).unwrap();
    assert_eq!(
        (link.sync_state.as_str(), link.remote_status.as_deref()),
        ("synced", Some("completed"))
    );
    rig.engine.unwrap().shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fulfilling_pushes_completed_with_exactly_one_note_carrying_carrier_and_tracking() {
    let rig = Rig::start(0, true).await;
    let (woo_id, number, _) = imported_order(&rig).await;
    let mut app = rig.app();
    let details = ShipmentDetails {
        carrier: Some("DPD".into()),
        tracking: Some("1Z999".into()),
        notes: None,
    };
    assert!(app.fulfill(&number, &details, None).unwrap().completed);
    rig.engine.as_ref().unwrap().wake();
    let push = eventually("the push", Duration::from_secs(10), || {
        app.jobs(Some(JobState::Done), 100)
            .unwrap()
            .into_iter()
            .find(|j| j.kind == "woo.push_status")
    })
    .await;
    assert_eq!(rig.sim.order_status(woo_id).as_deref(), Some("completed"));
    // The same push runs again (as after a crash between the store's answer and our bookkeeping).
    let again = rig
        .store()
        .write(|tx| {
            let job = jobs::NewJob {
                payload: push.payload.clone(),
                key: None,
                kind: push.kind.clone(),
                run_at: 0,
                max_attempts: 3,
            };
            jobs::enqueue(tx, &job, 0)
        })
        .unwrap();
    rig.engine.as_ref().unwrap().wake();
    eventually("the second run", Duration::from_secs(10), || {
        (app.jobs(None, 100)
            .unwrap()
            .iter()
            .find(|j| j.id == again)?
            .state
            == JobState::Done)
            .then_some(())
    })
    .await;
    let notes = rig.sim.order_notes(woo_id);
    let shipped: Vec<_> = notes
        .iter()
        .filter(|n| n.note.starts_with("Shipped"))
        .collect();
    assert_eq!(shipped.len(), 1, "{notes:?}");
    assert!(
        shipped[0].note.contains("DPD") && shipped[0].note.contains("1Z999"),
        "{}",
        shipped[0].note
    );
    assert!(shipped[0].customer_note);
    rig.engine.unwrap().shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_longer_than_the_retry_budget_ends_dead_and_recovers_on_retry() {
    let rig = Rig::start(0, false).await;
    let sku = first_sku(&rig.sim);
    let woo_id = rig.sim.create_order(&[(&sku, 1)], "processing").unwrap();
    rig.reconcile().await;
    let number = format!("#{}", link_of(&rig.db, woo_id).unwrap().local_id);
    let mut config = rig.config.clone();
    // A budget this test can outlast: at least 3 tries over at least 1 s.
    config
        .jobs
        .max_attempts_by_kind
        .insert("woo.push_status".into(), 3);
    config
        .jobs
        .retry_for_secs_by_kind
        .insert("woo.push_status".into(), 1);
    let engine = Engine::new(&rig.db, config.clone(), default_handlers(&config))
        .spawn()
        .unwrap();

    rig.sim.faults().outage_for(Duration::from_secs(3600));
    let mut app = App::open(&rig.db, config.clone(), Actor::operator("wendy")).unwrap();
    app.cancel(&number, "customer called to cancel", None)
        .unwrap();
    engine.wake();
    let dead = eventually("dead push", Duration::from_secs(15), || {
        app.jobs(Some(JobState::Dead), 10)
            .unwrap()
            .into_iter()
            .find(|j| j.kind == "woo.push_status")
    })
    .await;
    assert!(dead.attempts >= 3, "{dead:?}");
    let error = dead.last_error.as_deref().unwrap_or("");
    assert!(
        error.starts_with("gave up after") && error.contains("503"),
        "{error}"
    );
    let link = link_of(&rig.db, woo_id).unwrap();
    assert_eq!(
        link.sync_state, "error",
        "the failure is visible on the order's link"
    );
    assert_eq!(rig.sim.order_status(woo_id).as_deref(), Some("processing"));

    rig.sim.faults().end_outage();
    app.retry_job(dead.id).unwrap();
    engine.wake();
    eventually("cancelled in the store", Duration::from_secs(10), || {
        (rig.sim.order_status(woo_id).as_deref() == Some("cancelled")).then_some(())
    })
    .await;
    // The note follows the status write (it is looked for, then added): wait for the push to finish.
    eventually("the push recorded", Duration::from_secs(10), || {
        (link_of(&rig.db, woo_id)?.sync_state == "synced").then_some(())
    })
    .await;
    let notes = rig.sim.order_notes(woo_id);
    assert!(
        notes.iter().any(|n| n
            .note
            .starts_with("Cancelled in syncdesk: customer called to cancel\n(syncdesk ref ")
            && !n.customer_note),
        "{notes:?}"
    );
    engine.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_reports_and_writes_nothing() {
    let rig = Rig::start(7, false).await;
    let client = woo_orders::client(&rig.config.woocommerce).unwrap();
    let outcomes = woo_orders::reconcile(&client, &rig.ctx(), true)
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 7);
    assert!(
        rig.app()
            .list_orders(None, false, None, 100, 0)
            .unwrap()
            .is_empty()
    );
    assert!(
        rig.app()
            .list_orders(None, true, None, 100, 0)
            .unwrap()
            .is_empty()
    );
    let real = rig.reconcile().await;
    assert_eq!(
        real, outcomes,
        "the dry run predicted exactly what the real run did"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_bodies_never_panic_the_receiver(body in prop::collection::vec(any::<u8>(), 0..600), signed in any::<bool>(), ping in any::<bool>()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let rig = RECEIVER.get_or_init(|| std::thread::spawn(|| {
                let rt = tokio::runtime::Runtime::new().unwrap();
                let rig = rt.block_on(Rig::start(0, false));
                let addr = rig.receiver;
                std::mem::forget(rt); // keep the receiver's runtime alive for the whole test
                std::mem::forget(rig);
                addr
            }).join().unwrap());
            let mut body = body.clone();
            if ping { body.splice(0..0, b"webhook_id=".iter().copied()); }
            let mut req = reqwest::Client::new().post(format!("http://{rig}/webhooks/woocommerce")).header("X-WC-Webhook-Resource", "order").body(body.clone());
            if signed { req = req.header("X-WC-Webhook-Signature", sign(&body, SECRET)); }
            let status = req.send().await.unwrap().status().as_u16();
            prop_assert!([200, 400, 401].contains(&status), "status {status}");
            let health = reqwest::get(format!("http://{rig}/health")).await.unwrap().status().as_u16();
            prop_assert_eq!(health, 200);
            Ok(())
        })?;
    }
}

static RECEIVER: std::sync::OnceLock<SocketAddr> = std::sync::OnceLock::new();
