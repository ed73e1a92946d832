//! Cartona as a sales channel end to end over loopback: orders pulled from the simulator through the real
//! client, operator status changes pushed by the engine through the verified bulk endpoint, with the seed's
//! rule (marketplace-delivered orders sync only cancellation), both mappings, OTP, silent bulk failures,
//! outages and the dry run asserted on the store and on what the simulator received.

use std::time::Duration;

use syncdesk::app::ShipmentDetails;
use syncdesk::engine::EngineHandle;
use syncdesk::integrations::cartona::flows::{self as cartona_flows, PullReport, PushReport};
use syncdesk::integrations::cartona::rules::MappingKind;
use syncdesk::store::sync_log::{self, SyncLogEntry};
use syncdesk::store::{JobState, jobs, links};
use syncdesk_sim::cartona::{CartonaSim, CartonaSimConfig, NewOrder};

use crate::flow_rig::FlowRig;
use crate::sim_config;

const BULK: &str = "POST /order/update-order-status";
const SINGLE: &str = "POST /order/update-order-status/{hashed_id}";

/// The flow rig with the Cartona simulator and, when a test runs one, the engine (no schedules).
struct Rig {
    flow: FlowRig,
    sim: CartonaSim,
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
    async fn start(mapping: MappingKind, engine: bool) -> Rig {
        let sim = CartonaSim::start(CartonaSimConfig::default())
            .await
            .unwrap();
        let flow = FlowRig::new(FlowRig::fast_engine(), |_, config| {
            config.cartona = sim_config::cartona_config(&sim);
            config.cartona.mapping = mapping;
            config.cartona.max_attempts = 1; // the engine's retries are under test, not the client's
            // Enough attempts (50 ms..1 s backoff) to outlast the outage test's outage.
            config
                .jobs
                .max_attempts_by_kind
                .insert("cartona.push_statuses".into(), 30);
        });
        // No schedules: tests pull themselves; the engine runs the pushes the outbox enqueues.
        let engine = engine.then(|| flow.spawn_engine(Vec::new()));
        Rig { flow, sim, engine }
    }

    async fn pull(&self) -> PullReport {
        let client = cartona_flows::client(&self.config.cartona).unwrap();
        cartona_flows::pull(&client, &self.ctx(), false)
            .await
            .unwrap()
    }

    async fn dry_push(&self) -> PushReport {
        let client = cartona_flows::client(&self.config.cartona).unwrap();
        cartona_flows::push_pass(&client, &self.ctx(), None, true)
            .await
            .unwrap()
    }

    fn link(&self, hashed_id: &str) -> links::Link {
        links::by_external(self.store().conn(), "order", "cartona", hashed_id)
            .unwrap()
            .expect("linked")
    }

    fn log(&self, number: &str) -> Vec<SyncLogEntry> {
        sync_log::for_entity(self.store().conn(), "order", number, 100).unwrap()
    }

    fn wake(&self) {
        if let Some(e) = &self.engine {
            e.wake();
        }
    }

    /// Waits until no push pass is queued or running, then returns the newest pass.
    async fn settled(&self) -> jobs::Job {
        eventually("the push pass to settle", Duration::from_secs(15), || {
            let all = jobs::list(self.store().conn(), None, 1000).unwrap();
            let passes: Vec<_> = all
                .into_iter()
                .filter(|j| j.kind == "cartona.push_statuses")
                .collect();
            let busy = passes
                .iter()
                .any(|j| matches!(j.state, JobState::Queued | JobState::Running));
            (!busy)
                .then(|| passes.into_iter().max_by_key(|j| j.id))
                .flatten()
        })
        .await
    }
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

fn order(delivered_by: &str, requires_otp: bool) -> NewOrder {
    NewOrder {
        delivered_by: delivered_by.into(),
        requires_otp,
        created_at: chrono::Utc::now() - chrono::Duration::minutes(5),
        lines: vec![("SKU-1".into(), 2, 25.0), ("SKU-2".into(), 1, 10.0)],
        ..NewOrder::default()
    }
}

/// Records one unit leaving (SKU-2, the order stays open): a shipped status needs something shipped (#15).
fn part_shipped(rig: &Rig, id: &str) {
    rig.app()
        .ship(
            id,
            &[("SKU-2".into(), 1)],
            &ShipmentDetails::default(),
            None,
        )
        .unwrap();
}

/// Moves an order and waits for the engine's push pass to finish.
async fn move_to(rig: &Rig, id: &str, status: &str, note: Option<&str>) -> jobs::Job {
    rig.app().change_status(id, status, note, None).unwrap();
    rig.wake();
    rig.settled().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supplier_delivered_order_is_imported_and_every_status_reaches_cartona() {
    let rig = Rig::start(MappingKind::Basic, true).await;
    let id = rig.sim.create_order(order("supplier", true));

    let report = rig.pull().await;
    assert_eq!(report.acknowledged, 1);
    assert_eq!(
        rig.sim.request_count(BULK),
        1,
        "the `synced` acknowledgement"
    );
    let detail = rig.app().order(&id).unwrap();
    assert_eq!(detail.channel, "cartona");
    assert_eq!(detail.status, "Pending");
    assert!(
        rig.sim.order(&id).unwrap().synced,
        "acknowledged after the import"
    );
    // Acknowledged orders are no longer listed, so a re-pull reads (and changes) nothing.
    assert!(rig.pull().await.outcomes.is_empty());
    rig.sim.reset_request_counts();

    move_to(&rig, &id, "Processing", None).await;
    assert_eq!(rig.sim.order_status(&id).as_deref(), Some("approved"));
    assert_eq!(
        rig.sim.request_count(BULK),
        2,
        "one push, then `synced` again (the change listed it again)"
    );
    assert_eq!(
        rig.sim.request_count("GET /pull-orders"),
        1,
        "one re-read verified it"
    );
    let link = rig.link(&id);
    assert_eq!(
        (link.sync_state.as_str(), link.remote_status.as_deref()),
        ("synced", Some("approved"))
    );

    // Ready to Ship is approved too: Cartona already shows it, nothing is sent.
    let before = rig.sim.request_count(BULK);
    rig.app()
        .change_status(&id, "Ready to Ship", None, None)
        .unwrap();
    assert_eq!(rig.sim.request_count(BULK), before);

    part_shipped(&rig, &id);
    move_to(&rig, &id, "Shipped", None).await;
    assert_eq!(
        rig.sim.order_status(&id).as_deref(),
        Some("assigned_to_salesman")
    );

    let otp = rig.sim.otp(&id).unwrap();
    let details = ShipmentDetails {
        notes: Some(format!("handed over, retailer OTP {otp}")),
        ..ShipmentDetails::default()
    };
    rig.app().fulfill(&id, &details, None).unwrap();
    rig.wake();
    let pass = rig.settled().await;
    assert_eq!(pass.state, JobState::Done, "{pass:?}");
    assert_eq!(rig.sim.order_status(&id).as_deref(), Some("delivered"));
    assert!(rig.sim.silent_failures().is_empty());
    assert!(
        rig.log(&id).iter().any(|e| e.field == "cartona.status"
            && e.new_value.as_deref() == Some("delivered")
            && e.reason.as_deref().unwrap_or("").contains("OTP")),
        "{:#?}",
        rig.log(&id)
    );

    // Our own pushes listed again and pulled back are echoes: nothing changes.
    rig.sim.set_status(&id, "delivered").unwrap();
    let echo = rig.pull().await;
    assert!(
        echo.outcomes
            .iter()
            .all(|o| matches!(o, syncdesk::app::ImportOutcome::Unchanged { .. })),
        "{echo:?}"
    );
    assert_eq!(rig.app().order(&id).unwrap().status, "Completed");
    rig.engine.unwrap().shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marketplace_delivered_order_syncs_only_its_cancellation() {
    let rig = Rig::start(MappingKind::Basic, true).await;
    let id = rig.sim.create_order(order("cartona", false));
    rig.pull().await;
    rig.sim.reset_request_counts();

    rig.app()
        .change_status(&id, "Processing", None, None)
        .unwrap();
    rig.wake();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let link = rig.link(&id);
    assert_eq!(link.sync_state, "blocked");
    assert!(
        link.last_error
            .as_deref()
            .unwrap()
            .contains("delivered_by=marketplace"),
        "{link:?}"
    );
    assert!(
        rig.log(&id).iter().any(|e| e
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("blocked by rule delivered_by=marketplace")),
        "the sync log names the rule"
    );
    assert_eq!(
        rig.sim.request_counts().values().sum::<u64>(),
        0,
        "nothing was sent"
    );
    let no_failures = rig.app().jobs(Some(JobState::Retrying), 10).unwrap();
    assert!(
        no_failures.is_empty(),
        "a block is no error: {no_failures:?}"
    );
    assert_eq!(rig.sim.order_status(&id).as_deref(), Some("pending"));

    rig.app()
        .cancel(&id, "Out of stock at the depot", None)
        .unwrap();
    rig.wake();
    let pass = rig.settled().await;
    assert_eq!(pass.state, JobState::Done, "{pass:?}");
    let sim_order = rig.sim.order(&id).unwrap();
    assert_eq!(sim_order.status, "cancelled_by_supplier");
    assert_eq!(
        sim_order.cancellation_reason.as_deref(),
        Some("out_of_stock")
    );
    assert_eq!(rig.link(&id).sync_state, "synced");
    rig.engine.unwrap().shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_enhanced_mapping_follows_the_delivery_state_where_basic_follows_the_status() {
    let rig = Rig::start(MappingKind::Enhanced, true).await;
    let marked = rig.sim.create_order(order("supplier", false));
    let shipping = rig.sim.create_order(order("supplier", false));
    rig.pull().await;

    // Shipped with no shipment recorded is refused since #15 (a shipped status needs a shipment), so
    // the marketplace keeps showing approved (basic would have sent assigned_to_salesman).
    move_to(&rig, &marked, "Processing", None).await;
    move_to(&rig, &marked, "Ready to Ship", None).await;
    let refused = rig
        .app()
        .change_status(&marked, "Shipped", None, None)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("nothing is shipped yet"), "{refused}");
    assert_eq!(rig.sim.order_status(&marked).as_deref(), Some("approved"));

    // A partial shipment alone (still Processing) is out for delivery: "Processing/shipped".
    move_to(&rig, &shipping, "Processing", None).await;
    rig.app()
        .ship(
            &shipping,
            &[("SKU-1".into(), 1)],
            &ShipmentDetails::default(),
            None,
        )
        .unwrap();
    rig.wake();
    rig.settled().await;
    assert_eq!(
        rig.sim.order_status(&shipping).as_deref(),
        Some("assigned_to_salesman")
    );
    // Ready to Ship after it changes nothing there ("Ready to Ship/shipped" maps the same).
    move_to(&rig, &shipping, "Ready to Ship", None).await;
    assert_eq!(
        rig.sim.order_status(&shipping).as_deref(),
        Some("assigned_to_salesman")
    );
    // Every line shipped completes the order: delivered (no OTP needed for this one).
    rig.app()
        .fulfill(&shipping, &ShipmentDetails::default(), None)
        .unwrap();
    rig.wake();
    rig.settled().await;
    assert_eq!(
        rig.sim.order_status(&shipping).as_deref(),
        Some("delivered")
    );
    rig.engine.unwrap().shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silently_skipped_bulk_item_becomes_a_visible_error_and_is_retried() {
    let rig = Rig::start(MappingKind::Basic, true).await;
    let ok = rig.sim.create_order(order("supplier", false));
    let editing = rig.sim.create_order(order("supplier", false));
    rig.pull().await;
    // The retailer starts editing one order: Cartona's bulk endpoint will skip it and still say success.
    rig.sim.set_status(&editing, "editing").unwrap();

    rig.app()
        .change_status(&ok, "Processing", None, None)
        .unwrap();
    rig.app()
        .change_status(&editing, "Processing", None, None)
        .unwrap();
    rig.wake();
    let link = eventually("the error on the link", Duration::from_secs(10), || {
        let link = rig.link(&editing);
        (link.sync_state == "error").then_some(link)
    })
    .await;
    assert!(
        link.last_error
            .as_deref()
            .unwrap()
            .contains("Order is being edited by the retailer"),
        "Cartona's own message: {link:?}"
    );
    let skipped = rig.sim.silent_failures();
    assert!(
        !skipped.is_empty() && skipped.iter().all(|(id, _)| id == &editing),
        "only the edited order was skipped (once per attempt): {skipped:?}"
    );
    assert_eq!(rig.sim.order_status(&ok).as_deref(), Some("approved"));
    assert_eq!(rig.link(&ok).sync_state, "synced");
    let failing = eventually("a retrying pass", Duration::from_secs(10), || {
        rig.app().jobs(None, 50).unwrap().into_iter().find(|j| {
            j.kind == "cartona.push_statuses" && j.last_error.is_some() && j.attempts >= 1
        })
    })
    .await;
    assert!(
        failing
            .last_error
            .as_deref()
            .unwrap()
            .contains("Order is being edited"),
        "{failing:?}"
    );

    // The retailer finishes; the retry (job policy, backoff) gets it through.
    rig.sim.set_status(&editing, "pending").unwrap();
    eventually("the retried push", Duration::from_secs(15), || {
        (rig.sim.order_status(&editing).as_deref() == Some("approved")).then_some(())
    })
    .await;
    let link = eventually("the link synced", Duration::from_secs(5), || {
        let link = rig.link(&editing);
        (link.sync_state == "synced").then_some(link)
    })
    .await;
    assert_eq!(link.last_error, None);
    rig.engine.unwrap().shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_without_a_required_otp_is_a_visible_error_and_nothing_is_sent() {
    let rig = Rig::start(MappingKind::Basic, true).await;
    let id = rig.sim.create_order(order("supplier", true));
    rig.pull().await;
    move_to(&rig, &id, "Processing", None).await;
    move_to(&rig, &id, "Ready to Ship", None).await;
    part_shipped(&rig, &id);
    move_to(&rig, &id, "Shipped", None).await;
    let sent = (rig.sim.request_count(BULK), rig.sim.request_count(SINGLE));

    rig.app()
        .fulfill(&id, &ShipmentDetails::default(), None)
        .unwrap();
    rig.wake();
    let link = eventually("the OTP error", Duration::from_secs(10), || {
        let link = rig.link(&id);
        (link.sync_state == "error").then_some(link)
    })
    .await;
    assert!(
        link.last_error.as_deref().unwrap().contains("OTP"),
        "{link:?}"
    );
    assert_eq!(
        (rig.sim.request_count(BULK), rig.sim.request_count(SINGLE)),
        sent,
        "a push lacking its OTP is never sent"
    );
    assert_eq!(
        rig.sim.order_status(&id).as_deref(),
        Some("assigned_to_salesman")
    );

    // The order is Completed (final), so the OTP is entered on its own; the push goes out with it.
    let mut app = rig.app();
    let refused = app.set_retailer_otp(&id, "48 21").unwrap_err();
    assert!(refused.to_string().starts_with("otp:"), "{refused}");
    let otp = rig.sim.otp(&id).unwrap();
    app.set_retailer_otp(&id, &otp).unwrap();
    rig.wake();
    rig.settled().await;
    // Cartona checks the code: delivered means it matched.
    assert_eq!(rig.sim.order_status(&id).as_deref(), Some("delivered"));
    assert_eq!(rig.link(&id).sync_state, "synced");
    rig.engine.unwrap().shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_retried_with_backoff_until_cartona_answers() {
    let rig = Rig::start(MappingKind::Basic, true).await;
    let id = rig.sim.create_order(order("supplier", false));
    rig.pull().await;
    rig.sim.reset_request_counts();
    rig.sim.faults().outage_for(Duration::from_millis(800));

    rig.app()
        .change_status(&id, "Processing", None, None)
        .unwrap();
    rig.wake();
    eventually("approved after the outage", Duration::from_secs(20), || {
        (rig.sim.order_status(&id).as_deref() == Some("approved")).then_some(())
    })
    .await;
    let pass = rig.settled().await;
    assert_eq!(pass.state, JobState::Done);
    assert!(pass.attempts >= 2, "retried: {pass:?}");
    assert!(rig.sim.request_count(BULK) >= 2);
    assert_eq!(rig.link(&id).sync_state, "synced");
    rig.engine.unwrap().shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_says_per_order_what_would_be_sent_and_which_rule_decides() {
    let rig = Rig::start(MappingKind::Basic, false).await;
    let supplier = rig.sim.create_order(order("supplier", false));
    let marketplace = rig.sim.create_order(order("cartona", false));
    let backorder = rig.sim.create_order(order("supplier", false));
    rig.pull().await;
    let mut app = rig.app();
    app.change_status(&supplier, "Processing", None, None)
        .unwrap();
    app.change_status(&marketplace, "Processing", None, None)
        .unwrap();
    app.change_status(&backorder, "Backorder", None, None)
        .unwrap();
    rig.sim.reset_request_counts();

    let report = rig.dry_push().await;
    let item = |id: &str| {
        report
            .items
            .iter()
            .find(|i| i.plan.external_id == id)
            .unwrap()
    };
    assert_eq!(item(&supplier).result, "would_send");
    assert_eq!(item(&supplier).plan.to_send(), Some("approved"));
    assert_eq!(item(&supplier).plan.verdict.rule(), "allowed");
    assert_eq!(item(&marketplace).result, "blocked");
    assert_eq!(
        item(&marketplace).plan.verdict.rule(),
        "blocked by delivered_by=marketplace"
    );
    assert_eq!(item(&backorder).result, "unmapped");
    assert_eq!(rig.sim.request_counts().values().sum::<u64>(), 0);
    assert_eq!(rig.sim.order_status(&supplier).as_deref(), Some("pending"));
    assert_eq!(rig.link(&supplier).pushing_status, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_push_ends_dead_with_cartonas_reason_and_is_not_sent_again() {
    let rig = Rig::start(MappingKind::Basic, true).await;
    let refused = rig.sim.create_order(order("supplier", false));
    let other = rig.sim.create_order(order("supplier", false));
    rig.pull().await;
    for status in ["Processing", "Ready to Ship", "Shipped"] {
        if status == "Shipped" {
            part_shipped(&rig, &refused);
        }
        move_to(&rig, &refused, status, None).await;
    }
    move_to(&rig, &other, "Processing", None).await;
    assert_eq!(
        rig.sim.order_status(&refused).as_deref(),
        Some("assigned_to_salesman")
    );
    // Cartona puts it back to pending behind syncdesk's back; delivering it now breaks Cartona's rules.
    rig.sim.set_status(&refused, "pending").unwrap();
    rig.sim.reset_request_counts();
    rig.app()
        .fulfill(&refused, &ShipmentDetails::default(), None)
        .unwrap();
    rig.wake();
    let dead = eventually("the refused pass dead", Duration::from_secs(15), || {
        rig.app()
            .jobs(Some(JobState::Dead), 10)
            .unwrap()
            .into_iter()
            .find(|j| j.kind == "cartona.push_statuses")
    })
    .await;
    assert_eq!(dead.attempts, 1, "a refusal is not tried again: {dead:?}");
    let error = dead.last_error.clone().unwrap_or_default();
    assert!(
        error.contains("Cannot change order status from pending to delivered"),
        "the refusal is the error: {error}"
    );
    let detail = jobs::detail(rig.store().conn(), dead.id).unwrap().unwrap();
    assert_eq!(
        detail.error_class,
        Some(syncdesk::store::jobs::ErrorClass::Refused)
    );
    let link = rig.link(&refused);
    assert_eq!(link.sync_state, "error");
    assert!(
        link.last_error
            .as_deref()
            .unwrap_or("")
            .contains("Cannot change order status"),
        "{link:?}"
    );
    let sent = rig.sim.request_count(SINGLE);
    assert_eq!(sent, 1, "sent singly once, to get Cartona's reason");

    // Other orders keep moving: each change queues a new pass; none of them sends the refused push again,
    // and none of them is dragged into retrying forever.
    rig.app()
        .change_status(&other, "Ready to Ship", None, None)
        .unwrap();
    part_shipped(&rig, &other);
    let pass = move_to(&rig, &other, "Shipped", None).await;
    assert_eq!(pass.state, JobState::Done, "{pass:?}");
    rig.app()
        .fulfill(&other, &ShipmentDetails::default(), None)
        .unwrap();
    rig.wake();
    let pass = rig.settled().await;
    assert_eq!(pass.state, JobState::Done, "{pass:?}");
    assert_eq!(rig.sim.order_status(&other).as_deref(), Some("delivered"));
    assert_eq!(rig.sim.request_count(SINGLE), sent, "not sent again");
    assert_eq!(rig.sim.order_status(&refused).as_deref(), Some("pending"));
    let retrying: Vec<_> = rig
        .app()
        .jobs(Some(JobState::Retrying), 10)
        .unwrap()
        .into_iter()
        .filter(|j| j.kind.starts_with("cartona."))
        .collect();
    assert!(retrying.is_empty(), "nothing left retrying: {retrying:?}");
    rig.engine.unwrap().shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_order_shipped_in_full_is_not_sent_as_delivered_and_the_order_says_why() {
    let rig = Rig::start(MappingKind::Basic, true).await;
    let id = rig.sim.create_order(order("supplier", false));
    rig.pull().await;
    assert_eq!(rig.link(&id).remote_status.as_deref(), Some("pending"));
    rig.sim.reset_request_counts();

    // Everything left the warehouse while Cartona still shows the order pending.
    rig.app()
        .fulfill(&id, &ShipmentDetails::default(), None)
        .unwrap();
    rig.wake();
    let link = eventually("the held push's error", Duration::from_secs(10), || {
        let link = rig.link(&id);
        (link.sync_state == "error").then_some(link)
    })
    .await;
    let why = link.last_error.clone().unwrap_or_default();
    assert!(
        why.contains("cartona takes a pending order only to approved"),
        "{why}"
    );
    assert_eq!(
        (rig.sim.request_count(BULK), rig.sim.request_count(SINGLE)),
        (0, 0),
        "pending → delivered, which Cartona refuses, is never sent"
    );
    assert_eq!(rig.sim.order_status(&id).as_deref(), Some("pending"));
    assert!(
        rig.log(&id).iter().any(|e| e
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("approve it first"))),
        "the sync log says what to do"
    );
    rig.engine.unwrap().shutdown().await.unwrap();
}

/// The engine's marketplace pull (`:sync marketplace`) ends with its counts on the job — the import
/// count every order pull reports — which the console's toast shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pull_job_records_its_counts() {
    let rig = Rig::start(MappingKind::Basic, true).await;
    rig.sim.create_order(order("supplier", true));
    let asked = rig
        .app()
        .run_sync_now(syncdesk::app::SyncPass::Marketplace)
        .unwrap();
    rig.wake();
    let job = eventually("the pull job done", Duration::from_secs(15), || {
        rig.app()
            .job(asked.job_id)
            .ok()
            .filter(|j| j.state == JobState::Done)
    })
    .await;
    assert_eq!(job.outcome.as_deref(), Some("1 order(s) read, 1 change(s)"));
}
