//! Metakocka as the back office, end to end over loopback through the engine: an order entering Processing
//! becomes a sales order that reserves stock (after an availability check that refuses what would go
//! negative), fulfilling sends the shipment and consumes the reservation, cancelling sends the reason and
//! releases it; outages are retried, an unanswered put_document is looked up rather than resent, sales
//! orders entered in Metakocka are pulled in, and the signed stock webhook is accepted or refused.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use syncdesk::app::ShipmentDetails;
use syncdesk::config::{Config, Secret};
use syncdesk::engine::{EngineHandle, default_schedules};
use syncdesk::integrations::metakocka::client::WEBHOOK_REPLY_OK;
use syncdesk::server::{ServerState, serve};
use syncdesk::store::{JobState, inbound, inventory, links, sync_log};
use syncdesk_sim::metakocka::{MetakockaSim, MetakockaSimConfig, MkWebhookTarget, SimStock};

use crate::flow_rig::FlowRig;

const MAIN: &str = "1600000001";
const HOOK_SECRET: &str = "mk-hook-secret-42";

/// The flow rig with the Metakocka simulator and the engine with its schedules.
struct Rig {
    flow: FlowRig,
    sim: MetakockaSim,
    engine: EngineHandle,
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
        Self::start_with(|_| {}).await
    }

    async fn start_with(tune: impl FnOnce(&mut Config)) -> Rig {
        let sim_cfg = MetakockaSimConfig {
            webhook_retry_delay: Duration::from_millis(50),
            ..MetakockaSimConfig::default()
        };
        let sim = MetakockaSim::start(sim_cfg.clone()).await.unwrap();
        let flow = FlowRig::new(FlowRig::fast_engine(), |_, config| {
            let mk = &mut config.metakocka;
            mk.enabled = true;
            mk.base_url = sim.base_url();
            mk.company_id = sim_cfg.company_id.clone();
            mk.secret_key = Secret::new(sim_cfg.secret_key.clone());
            mk.webhook_secret = Secret::new(HOOK_SECRET);
            mk.warehouse = MAIN.into();
            // One try per call: the engine's retries (with backoff) are what the tests watch.
            mk.max_attempts = 1;
            mk.timeout_secs = 5;
            tune(config);
        });
        let engine = flow.spawn_engine(default_schedules(&flow.config));
        Rig { flow, sim, engine }
    }

    /// A web order of `lines`, moved to Processing (which sends it to Metakocka).
    fn processing_order(&self, number: &str, lines: &[(&str, i64)]) {
        let mut app = self.app();
        let lines: Vec<(String, i64)> = lines.iter().map(|(s, q)| (s.to_string(), *q)).collect();
        app.add_order(number, Some("Ana Kovač"), "woocommerce", &lines)
            .unwrap();
        app.change_status(number, "Processing", None, None).unwrap();
        self.engine.wake();
    }

    fn link(&self, number: &str) -> Option<links::Link> {
        let store = self.store();
        let order = syncdesk::store::orders::find(store.conn(), number)
            .unwrap()
            .unwrap();
        links::for_local(store.conn(), "order", order.id)
            .unwrap()
            .into_iter()
            .find(|l| l.system == "metakocka")
    }

    /// The Metakocka id once the order is linked to a sales order whose status is `code`.
    async fn linked_at(&self, number: &str, code: &str) -> String {
        eventually(&format!("{number} at {code}"), || {
            self.link(number)
                .filter(|l| {
                    !l.external_id.starts_with("buyer_order:")
                        && l.remote_status.as_deref() == Some(code)
                        && l.sync_state == "synced"
                })
                .map(|l| l.external_id)
        })
        .await
    }

    fn stock(&self, code: &str) -> SimStock {
        self.sim.stock(MAIN, code).unwrap()
    }

    fn jobs(&self, kind: &str) -> Vec<syncdesk::store::Job> {
        self.app()
            .jobs(None, 500)
            .unwrap()
            .into_iter()
            .filter(|j| j.kind == kind)
            .collect()
    }

    fn log(&self, entity: &str, key: &str) -> Vec<sync_log::SyncLogEntry> {
        sync_log::for_entity(self.store().conn(), entity, key, 50).unwrap()
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
async fn an_order_is_created_with_a_reservation_then_fulfilled() {
    let rig = Rig::start().await;
    rig.sim.set_stock(MAIN, "SKU-A", 10.0);
    rig.sim.set_stock(MAIN, "SKU-B", 5.0);
    rig.processing_order("1001", &[("SKU-A", 3), ("SKU-B", 1)]);
    let mk_id = rig.linked_at("1001", "in_progress").await;

    let doc = rig.sim.document(&mk_id).unwrap();
    assert_eq!(doc.buyer_order, "1001");
    assert_eq!(doc.warehouse_id, MAIN);
    assert_eq!(
        rig.stock("SKU-A"),
        SimStock {
            amount: 10.0,
            reserved: 3.0,
            free: 7.0
        }
    );
    assert_eq!(rig.stock("SKU-B").reserved, 1.0);
    assert_eq!(rig.sim.request_count("put_document"), 1);
    let created = rig.log("order", "1001");
    assert!(
        created.iter().any(|e| e
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("reserved SKU-A×3")),
        "{created:?}"
    );

    let shipped = rig
        .app()
        .fulfill(
            "1001",
            &ShipmentDetails {
                tracking: Some("JJ123456789SI".into()),
                carrier: Some("GLS".into()),
                notes: Some("2 parcels".into()),
            },
            None,
        )
        .unwrap();
    assert!(shipped.completed);
    rig.engine.wake();
    rig.linked_at("1001", "shipped").await;
    let doc = rig.sim.document(&mk_id).unwrap();
    assert_eq!(doc.status_code, "shipped");
    assert_eq!(doc.tracking_code, "JJ123456789SI");
    assert_eq!(doc.delivery_type, "GLS");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert!(doc.shipped_date.starts_with(&today), "{}", doc.shipped_date);
    assert!(doc.notes.contains("2 parcels"), "{}", doc.notes);
    // The reservation is consumed: the units left the warehouse.
    assert_eq!(
        rig.stock("SKU-A"),
        SimStock {
            amount: 7.0,
            reserved: 0.0,
            free: 7.0
        }
    );
    assert_eq!(rig.stock("SKU-B").amount, 4.0);
    let order = rig.app().order("1001").unwrap();
    assert_eq!(order.status, "Completed");
    assert_eq!(
        order.shipments[0].tracking.as_deref(),
        Some("JJ123456789SI")
    );
    let log = rig.log("order", "1001");
    assert!(
        log.iter().any(|e| e.field == "metakocka.status"
            && e.new_value.as_deref() == Some("shipped")
            && e.reason.as_deref().unwrap_or("").contains("consumed")),
        "{log:?}"
    );
    assert_eq!(rig.sim.document_count(), 1, "never created twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_order_releases_its_reservation_and_sends_the_reason() {
    let rig = Rig::start().await;
    rig.sim.set_stock(MAIN, "SKU-C", 8.0);
    rig.processing_order("2001", &[("SKU-C", 5)]);
    let mk_id = rig.linked_at("2001", "in_progress").await;
    assert_eq!(rig.stock("SKU-C").free, 3.0);

    rig.app()
        .cancel("2001", "customer found it cheaper", None)
        .unwrap();
    rig.engine.wake();
    rig.linked_at("2001", "cancelled").await;
    let doc = rig.sim.document(&mk_id).unwrap();
    assert_eq!(doc.status_code, "cancelled");
    assert!(
        doc.notes.contains("customer found it cheaper"),
        "{}",
        doc.notes
    );
    assert_eq!(
        rig.stock("SKU-C"),
        SimStock {
            amount: 8.0,
            reserved: 0.0,
            free: 8.0
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_that_would_drive_stock_negative_is_refused_and_nothing_is_created() {
    let rig = Rig::start().await;
    rig.sim.set_stock(MAIN, "SKU-D", 2.0);
    rig.sim.set_stock(MAIN, "SKU-E", 9.0);
    rig.processing_order("3001", &[("SKU-E", 1), ("SKU-D", 3)]);
    let job = eventually("the refusal", || {
        rig.jobs("metakocka.sync_order")
            .into_iter()
            .find(|j| j.state == JobState::Dead)
    })
    .await;
    let error = job.last_error.unwrap();
    assert!(error.contains("SKU-D: 2 free, 3 ordered"), "{error}");
    assert_eq!(job.attempts, 1, "a refusal is not retried blindly");
    let link = rig.link("3001").unwrap();
    assert_eq!(link.sync_state, "refused");
    assert!(
        link.last_error
            .unwrap()
            .contains("would drive stock negative"),
        "the reason is on the link"
    );
    // Nothing half-created: no sales order, no reservation of the line that fitted.
    assert_eq!(rig.sim.document_count(), 0);
    assert_eq!(rig.sim.request_count("put_document"), 0);
    assert_eq!(rig.stock("SKU-E").reserved, 0.0);
    let missing = rig.app().orders_missing_in_metakocka().unwrap();
    assert_eq!(missing.len(), 1);
    assert!(missing[0].reason.starts_with("refused: "), "{missing:?}");

    // Restocked: the operator retries the job and the order goes through.
    rig.sim.set_stock(MAIN, "SKU-D", 4.0);
    rig.app().retry_job(job.id).unwrap();
    rig.engine.wake();
    rig.linked_at("3001", "in_progress").await;
    assert_eq!(rig.stock("SKU-D").reserved, 3.0);
    assert!(rig.app().orders_missing_in_metakocka().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_outage_is_retried_with_backoff_and_an_opr_refusal_is_shown() {
    let rig = Rig::start_with(|c| {
        c.metakocka
            .status_out
            .insert("Ready to Ship".into(), "packing".into());
    })
    .await;
    rig.sim.set_stock(MAIN, "SKU-F", 4.0);
    rig.sim.down_for_update(Duration::from_millis(600));
    rig.processing_order("4001", &[("SKU-F", 1)]);
    rig.linked_at("4001", "in_progress").await;
    let job = eventually("the job to finish", || {
        rig.jobs("metakocka.sync_order")
            .pop()
            .filter(|j| j.state != JobState::Running)
    })
    .await;
    assert_eq!(job.state, JobState::Done);
    assert!(job.attempts > 1, "retried: {job:?}");
    assert_eq!(rig.sim.document_count(), 1);

    // Metakocka refuses a status code this company does not have: its own message is the job's last error.
    rig.app()
        .change_status("4001", "Ready to Ship", None, None)
        .unwrap();
    rig.engine.wake();
    let dead = eventually("the refusal", || {
        rig.jobs("metakocka.sync_order")
            .into_iter()
            .find(|j| j.state == JobState::Dead)
    })
    .await;
    let error = dead.last_error.unwrap();
    assert!(
        error.contains("opr_code 2: Status code 'packing' does not exist for this company."),
        "{error}"
    );
    assert_eq!(dead.attempts, 1, "a refusal is not retried");
    let link = rig.link("4001").unwrap();
    assert_eq!(link.sync_state, "error");
    assert_eq!(link.last_error.as_deref(), Some(error.as_str()));
    assert_eq!(link.remote_status.as_deref(), Some("in_progress"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_put_document_is_looked_up_by_buyer_order_not_resent() {
    let rig = Rig::start().await;
    rig.sim.set_stock(MAIN, "SKU-G", 6.0);
    rig.sim.lose_answers("put_document", 1);
    rig.processing_order("5001", &[("SKU-G", 2)]);
    let mk_id = rig.linked_at("5001", "in_progress").await;
    assert_eq!(rig.sim.request_count("put_document"), 1, "never resent");
    assert!(rig.sim.request_count("search") >= 1, "looked up instead");
    assert_eq!(rig.sim.document_count(), 1);
    assert_eq!(rig.sim.document(&mk_id).unwrap().buyer_order, "5001");
    assert_eq!(rig.stock("SKU-G").reserved, 2.0, "reserved once");
    // The link is written inside the run; the engine records the job's outcome just after it.
    let job = eventually("the job to finish", || {
        rig.jobs("metakocka.sync_order")
            .pop()
            .filter(|j| j.state != JobState::Running)
    })
    .await;
    assert_eq!((job.state, job.attempts), (JobState::Done, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_orders_entered_in_metakocka_are_pulled_in() {
    let rig = Rig::start_with(|c| c.metakocka.poll_secs = 1).await;
    rig.sim.set_stock(MAIN, "SKU-H", 100.0);
    for i in 0..60 {
        rig.sim
            .add_sales_order(&format!("MK-{i:03}"), "Marko Horvat", &[("SKU-H", 1.0)])
            .unwrap();
    }
    rig.engine.wake();
    eventually("60 orders pulled", || {
        let n = rig
            .app()
            .list_orders(None, false, Some("MK-"), 500, 0)
            .unwrap()
            .len();
        (n == 60).then_some(())
    })
    .await;
    let order = rig.app().order("MK-007").unwrap();
    assert_eq!(order.channel, "metakocka");
    assert_eq!(order.status, "Processing");
    assert_eq!(order.customer.as_deref(), Some("Marko Horvat"));
    assert_eq!(order.lines[0].sku, "SKU-H");
    let link = rig.link("MK-007").unwrap();
    assert!(!link.external_id.starts_with("buyer_order:"));
    // Pulled orders are not sent back as new sales orders.
    assert_eq!(rig.sim.request_count("put_document"), 0);
    assert_eq!(rig.sim.document_count(), 60);

    // Shipping a pulled order updates its own sales order.
    rig.app()
        .fulfill("MK-007", &ShipmentDetails::default(), None)
        .unwrap();
    rig.engine.wake();
    rig.linked_at("MK-007", "shipped").await;
    assert_eq!(
        rig.sim.document(&link.external_id).unwrap().status_code,
        "shipped"
    );
    assert_eq!(rig.sim.document_count(), 60);
}

/// `syncdesk serve`'s router on loopback, on the rig's database; returns the webhook URL.
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
async fn the_stock_webhook_is_accepted_when_signed_and_refused_otherwise() {
    let rig = Rig::start().await;
    let csv = "POS SKU,WooCommerce SKU,Match Type,Confidence\nSKU-W,woo-w,manual,1\n";
    let mut app = rig.app();
    assert!(app.import_alignment(csv).unwrap().errors.is_empty());
    {
        let mut store = rig.store();
        store
            .write(|tx| -> Result<(), syncdesk::store::StoreError> {
                let pair = inventory::find(tx, "SKU-W")?.unwrap();
                inventory::set_product_ids(tx, pair.id, 4711, None)
            })
            .unwrap();
    }
    let url = receiver(&rig).await;

    // Signed with another secret: refused, nothing stored, Metakocka tries three times.
    rig.sim.set_webhook(Some(MkWebhookTarget {
        url: url.clone(),
        client_secret: "not-the-secret".into(),
    }));
    rig.sim.set_stock(MAIN, "SKU-W", 3.0);
    eventually("three refused deliveries", || {
        (rig.sim.webhook_deliveries().len() == 3).then_some(())
    })
    .await;
    assert!(
        rig.sim
            .webhook_deliveries()
            .iter()
            .all(|d| d.status == Some(401) && !d.accepted)
    );
    assert!(rig.log("stock", "SKU-W").is_empty());
    assert_eq!(inbound::count(rig.store().conn(), "metakocka").unwrap(), 0);
    assert!(inventory::hints(rig.store().conn()).unwrap().is_empty());

    // Signed right: the exact acknowledgement, one delivery, the row logged and the product hinted.
    rig.sim.set_webhook(Some(MkWebhookTarget {
        url: url.clone(),
        client_secret: HOOK_SECRET.into(),
    }));
    rig.sim.set_stock(MAIN, "SKU-W", 12.0);
    eventually("an accepted delivery", || {
        rig.sim
            .webhook_deliveries()
            .into_iter()
            .find(|d| d.accepted)
    })
    .await;
    let log = rig.log("stock", "SKU-W");
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].new_value.as_deref(), Some("12"));
    assert_eq!(inventory::hints(rig.store().conn()).unwrap(), vec![4711]);
    assert_eq!(rig.sim.webhook_deliveries().len(), 4);

    // The reply is exactly what Metakocka checks for; a redelivery of the same event is recorded once.
    let body = br#"{"stock_list":[{"warehouse_id":"1600000001","code":"SKU-W","amount":"11"}]}"#;
    let signature = syncdesk::integrations::metakocka::client::webhook_signature(body, HOOK_SECRET);
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let reply = client
            .post(&url)
            .header("X-MetaKocka-Event", "warehouse_product_stock_update")
            .header("X-MetaKocka-Id", "evt-manual-1")
            .header("X-MetaKocka-Signature", &signature)
            .body(&body[..])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        assert_eq!(reply.text().await.unwrap(), WEBHOOK_REPLY_OK);
    }
    assert_eq!(rig.log("stock", "SKU-W").len(), 2);
    let tampered = client
        .post(&url)
        .header("X-MetaKocka-Event", "warehouse_product_stock_update")
        .header("X-MetaKocka-Id", "evt-manual-2")
        .header("X-MetaKocka-Signature", &signature)
        .body(r#"{"stock_list":[{"warehouse_id":"1600000001","code":"SKU-W","amount":"999"}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 401);
    assert_eq!(rig.log("stock", "SKU-W").len(), 2);
}

#[test]
fn only_one_back_office_may_be_enabled() {
    let err =
        Config::parse("[metakocka]\nenabled = true\n[pos_csv]\nenabled = true\n").unwrap_err();
    assert!(
        err.starts_with("metakocka.enabled, pos_csv.enabled: exactly one back office"),
        "{err}"
    );
    let err =
        Config::parse("[metakocka]\nenabled = true\ncompany_id = \"1\"\nsecret_key = \"s\"\n")
            .unwrap_err();
    assert!(err.starts_with("metakocka.warehouse"), "{err}");
    let err = Config::parse("[metakocka.status_out]\n\"Shiped\" = \"shipped\"\n").unwrap_err();
    assert_eq!(
        err,
        "metakocka.status_out.\"Shiped\": unknown syncdesk status"
    );
}

/// The engine's ERP pull (`:sync erp`) ends with its counts on the job, in the words `sync run erp`
/// prints last — what the console's toast shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pull_job_records_its_counts() {
    let rig = Rig::start().await;
    let asked = rig
        .app()
        .run_sync_now(syncdesk::app::SyncPass::Erp)
        .unwrap();
    rig.engine.wake();
    let job = eventually("the pull job done", || {
        rig.app()
            .job(asked.job_id)
            .ok()
            .filter(|j| j.state == JobState::Done)
    })
    .await;
    let counts = job.outcome.unwrap_or_default();
    assert!(
        counts.contains(" sales order(s) read, ") && counts.ends_with(" change(s)"),
        "{counts:?}"
    );
}
