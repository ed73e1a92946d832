//! What a real WooCommerce store did to syncdesk, replayed over loopback: the simulator reproduces each
//! behaviour the real store showed (ties under `orderby=modified`, answers lost after the store applied a
//! write, changes made in the store's admin, two edits in one second), and syncdesk's real connectors and
//! engine run against it. Each test fails on the code before the fix it guards.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use chrono::{SubsecRound, Utc};
use syncdesk::app::{ImportOutcome, Keep, ShipmentDetails};
use syncdesk::config::Config;
use syncdesk::engine::EngineHandle;
use syncdesk::integrations::woocommerce::orders as woo_orders;
use syncdesk::store::pos_reductions::{self, SaleRules};
use syncdesk::store::{JobState, Store, jobs, links, statuses};
use syncdesk_sim::woo::{WooSim, WooSimConfig};

use crate::flow_rig::FlowRig;
use crate::sim_config;

/// The flow rig with the WooCommerce simulator playing the real store's behaviours.
struct Rig {
    flow: FlowRig,
    sim: WooSim,
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
    async fn start(sim: WooSimConfig) -> Rig {
        let sim = WooSim::start(sim).await.unwrap();
        let flow = FlowRig::new(FlowRig::fast_engine(), |_, config| {
            config.woocommerce = sim_config::woo_config(&sim);
            config.woocommerce.max_attempts = 2;
            config.woocommerce.poll_secs = 3600;
        });
        Rig { flow, sim }
    }

    async fn empty() -> Rig {
        Rig::start(WooSimConfig {
            products: 20,
            orders: 0,
            ..WooSimConfig::default()
        })
        .await
    }

    fn client(&self) -> syncdesk::integrations::woocommerce::client::WooClient {
        woo_orders::client(&self.config.woocommerce).unwrap()
    }

    async fn reconcile(&self) -> Vec<ImportOutcome> {
        woo_orders::reconcile(&self.client(), &self.ctx(), false)
            .await
            .unwrap()
    }

    fn engine(&self) -> EngineHandle {
        self.spawn_engine(Vec::new())
    }

    fn link(&self, woo_id: u64) -> links::Link {
        links::by_external(
            self.store().conn(),
            "order",
            "woocommerce",
            &woo_id.to_string(),
        )
        .unwrap()
        .unwrap_or_else(|| panic!("woocommerce order {woo_id} was not imported"))
    }

    fn number(&self, woo_id: u64) -> String {
        format!("#{}", self.link(woo_id).local_id)
    }

    fn skus(&self) -> Vec<String> {
        self.sim
            .products()
            .into_iter()
            .filter(|p| p.kind == "simple" && !p.sku.is_empty() && p.manage_stock)
            .map(|p| p.sku)
            .collect()
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

fn count_jobs(db: &Path, kind: &str, state: Option<JobState>) -> usize {
    let store = Store::open(db, Duration::from_secs(5)).unwrap();
    jobs::list(store.conn(), state, 10_000)
        .unwrap()
        .iter()
        .filter(|j| j.kind == kind)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_sharing_one_modification_second_are_all_imported_across_pages() {
    let rig = Rig::empty().await;
    let skus = rig.skus();
    // 250 paid orders stamped in the same second, as a busy sale or a bulk status change in the admin makes.
    rig.sim.freeze_clock(Some(Utc::now().trunc_subsecs(0)));
    let ids: Vec<u64> = (0..250)
        .map(|i| {
            rig.sim
                .create_order(&[(&skus[i % skus.len()], 1)], "processing")
                .unwrap()
        })
        .collect();
    rig.sim.freeze_clock(None);
    let outcomes = rig.reconcile().await;
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, ImportOutcome::Created { .. }))
        .count();
    assert_eq!(created, 250, "every order in, none twice");
    for id in &ids {
        rig.link(*id);
    }
    // Read again: nothing new, nothing lost.
    let again = rig.reconcile().await;
    assert!(
        again
            .iter()
            .all(|o| matches!(o, ImportOutcome::Unchanged { .. })),
        "{again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_made_in_the_store_is_not_overwritten_by_a_push() {
    let rig = Rig::empty().await;
    let skus = rig.skus();
    let woo_id = rig
        .sim
        .create_order(&[(&skus[0], 1)], "processing")
        .unwrap();
    rig.reconcile().await;
    let number = rig.number(woo_id);
    // The shop cancels in the store; syncdesk has not heard yet (no webhook, no poll).
    rig.sim.set_order_status(woo_id, "cancelled").unwrap();
    let engine = rig.engine();
    let mut app = rig.app();
    app.fulfill(
        &number,
        &ShipmentDetails {
            carrier: Some("UPS".into()),
            tracking: Some("1Z1".into()),
            notes: None,
        },
        None,
    )
    .unwrap();
    engine.wake();
    let dead = eventually("the push to stop at the conflict", || {
        app.jobs(Some(JobState::Dead), 10)
            .unwrap()
            .into_iter()
            .find(|j| j.kind == "woo.push_status")
    })
    .await;
    assert_eq!(rig.sim.order_status(woo_id).as_deref(), Some("cancelled"));
    assert!(
        rig.sim
            .order_notes(woo_id)
            .iter()
            .all(|n| !n.note.starts_with("Shipped")),
        "the customer was told nothing"
    );
    let error = dead.last_error.unwrap_or_default();
    assert!(
        error.contains("'cancelled'") && error.contains("NOT sent"),
        "{error}"
    );
    assert_eq!(dead.attempts, 1, "a conflict is not retried blindly");
    let link = rig.link(woo_id);
    assert_eq!(link.sync_state, "conflict");
    assert!(link.last_error.unwrap().contains("'cancelled'"));
    // The poll that then reads the store does not resolve it behind the operator's back.
    rig.reconcile().await;
    assert_eq!(rig.link(woo_id).sync_state, "conflict");
    assert_eq!(app.order(&number).unwrap().status, "Completed");

    // The operator takes the store's word: the order is cancelled in syncdesk, nothing is pushed.
    let settled = app.settle(&number, Keep::Store).unwrap();
    assert_eq!(settled.kept, Keep::Store);
    assert_eq!(app.order(&number).unwrap().status, "Cancelled");
    assert_eq!(rig.link(woo_id).sync_state, "synced");
    assert_eq!(
        count_jobs(&rig.db, "woo.push_status", Some(JobState::Dead)),
        0,
        "the stopped push is settled too"
    );
    assert!(
        app.settle(&number, Keep::Store).is_err(),
        "nothing left to settle"
    );
    engine.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_can_push_syncdesk_status_over_a_store_change() {
    let rig = Rig::empty().await;
    let skus = rig.skus();
    let woo_id = rig
        .sim
        .create_order(&[(&skus[0], 1)], "processing")
        .unwrap();
    rig.reconcile().await;
    let number = rig.number(woo_id);
    rig.sim.set_order_status(woo_id, "on-hold").unwrap();
    let engine = rig.engine();
    let mut app = rig.app();
    app.fulfill(&number, &ShipmentDetails::default(), None)
        .unwrap();
    engine.wake();
    eventually("the conflict", || {
        (rig.link(woo_id).sync_state == "conflict").then_some(())
    })
    .await;
    assert_eq!(rig.sim.order_status(woo_id).as_deref(), Some("on-hold"));
    // A retry of the stopped job alone does not push: the operator must choose. (The link shows the conflict
    // a moment before the job that found it ends.)
    let dead = eventually("the stopped push to end", || {
        app.jobs(Some(JobState::Dead), 10)
            .unwrap()
            .first()
            .map(|job| job.id)
    })
    .await;
    app.retry_job(dead).unwrap();
    engine.wake();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(rig.sim.order_status(woo_id).as_deref(), Some("on-hold"));
    app.settle(&number, Keep::Syncdesk).unwrap();
    engine.wake();
    eventually("syncdesk's status in the store", || {
        (rig.sim.order_status(woo_id).as_deref() == Some("completed")).then_some(())
    })
    .await;
    eventually("the link synced", || {
        (rig.link(woo_id).sync_state == "synced").then_some(())
    })
    .await;
    engine.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_read_before_a_push_and_applied_after_it_changes_nothing() {
    let rig = Rig::empty().await;
    let skus = rig.skus();
    let woo_id = rig
        .sim
        .create_order(&[(&skus[0], 1)], "processing")
        .unwrap();
    rig.reconcile().await;
    let number = rig.number(woo_id);
    // A poll reads the order (still processing)…
    let read_at = syncdesk::domain::time::now_ms();
    let stale = rig.client().get_order(woo_id).await.unwrap();
    let stale = woo_orders::channel_order(&stale, &HashMap::new(), read_at, false);
    // …meanwhile an operator puts it on backorder and the push reaches the store…
    let engine = rig.engine();
    let mut app = rig.app();
    app.change_status(&number, "Backorder", None, None).unwrap();
    engine.wake();
    eventually("the push", || {
        (rig.link(woo_id).sync_state == "synced"
            && rig.sim.order_status(woo_id).as_deref() == Some("on-hold"))
        .then_some(())
    })
    .await;
    engine.shutdown().await.unwrap();
    // …and only then is the poll's read applied.
    let mut store = rig.store();
    let outcomes = woo_orders::import_all(&mut store, &rig.config, &[stale], false).unwrap();
    assert!(
        matches!(outcomes[0], ImportOutcome::Stale { .. }),
        "{outcomes:?}"
    );
    let order = app.order(&number).unwrap();
    assert_eq!(order.status, "Backorder", "the push is not undone");
    assert!(
        order.history.iter().filter(|h| h.to == "Backorder").count() == 1
            && order.history.last().unwrap().to == "Backorder",
        "{:?}",
        order.history
    );
    assert_eq!(
        count_jobs(&rig.db, "email.backorder", None),
        1,
        "purchasing hears about it once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_changes_within_one_second_and_a_line_edit_are_both_imported() {
    let rig = Rig::empty().await;
    let skus = rig.skus();
    let second = Utc::now().trunc_subsecs(0);
    rig.sim.freeze_clock(Some(second));
    let woo_id = rig
        .sim
        .create_order(&[(&skus[0], 1)], "processing")
        .unwrap();
    rig.reconcile().await;
    let number = rig.number(woo_id);
    // In the same second: the customer adds an item (an admin edit) and the address changes.
    rig.sim
        .edit_order_lines(woo_id, &[(&skus[0], 2), (&skus[1], 1)])
        .unwrap();
    rig.sim
        .set_order_shipping(woo_id, "Ana", "Novak", "Ljubljana")
        .unwrap();
    rig.sim.freeze_clock(None);
    let outcomes = rig.reconcile().await;
    assert!(
        matches!(&outcomes[..], [ImportOutcome::Updated { .. }]),
        "{outcomes:?}"
    );
    let mut app = rig.app();
    let order = app.order(&number).unwrap();
    let lines: Vec<(String, i64)> = order
        .lines
        .iter()
        .map(|l| (l.sku.clone(), l.quantity))
        .collect();
    assert_eq!(
        lines,
        [(skus[0].clone(), 2), (skus[1].clone(), 1)],
        "the line edit made in the same second is imported"
    );
    let store = rig.store();
    let log =
        syncdesk::store::sync_log::for_entity(store.conn(), "order", &order.number, 10).unwrap();
    assert!(
        log.iter()
            .any(|e| e.field == "lines" && e.source == "woocommerce"),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|e| e.field == "ship_to"
                && e.new_value.as_deref().unwrap_or("").contains("Ljubljana")),
        "{log:?}"
    );

    // A line that already shipped cannot shrink below what left: refused, visibly, nothing changed.
    app.ship(
        &number,
        &[(skus[0].clone(), 2)],
        &ShipmentDetails::default(),
        None,
    )
    .unwrap();
    rig.sim
        .edit_order_lines(woo_id, &[(&skus[0], 1), (&skus[1], 1)])
        .unwrap();
    rig.reconcile().await;
    let order = app.order(&number).unwrap();
    assert_eq!(order.lines[0].quantity, 2);
    let link = rig.link(woo_id);
    assert_eq!(link.sync_state, "error");
    assert!(
        link.last_error
            .as_deref()
            .unwrap_or("")
            .contains("already shipped"),
        "{link:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_whose_answer_was_lost_is_not_sent_again() {
    let rig = Rig::empty().await;
    let skus = rig.skus();
    let woo_id = rig
        .sim
        .create_order(&[(&skus[0], 1)], "processing")
        .unwrap();
    rig.reconcile().await;
    let number = rig.number(woo_id);
    // The store adds the note, then the connection drops before its answer arrives.
    rig.sim
        .faults()
        .lose_answers_next("POST /orders/{id}/notes", 1);
    let engine = rig.engine();
    let mut app = rig.app();
    app.fulfill(
        &number,
        &ShipmentDetails {
            carrier: Some("DPD".into()),
            tracking: Some("0955".into()),
            notes: None,
        },
        None,
    )
    .unwrap();
    engine.wake();
    eventually("the push done", || {
        (rig.link(woo_id).sync_state == "synced"
            && rig.sim.order_status(woo_id).as_deref() == Some("completed"))
        .then_some(())
    })
    .await;
    engine.shutdown().await.unwrap();
    let shipped: Vec<_> = rig
        .sim
        .order_notes(woo_id)
        .into_iter()
        .filter(|n| n.note.starts_with("Shipped"))
        .collect();
    assert_eq!(shipped.len(), 1, "one e-mail to the customer: {shipped:?}");
    assert!(shipped[0].note.contains("DPD, tracking 0955"));
    assert!(shipped[0].customer_note);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_import_takes_open_orders_and_recent_history_only() {
    let rig = Rig::empty().await;
    let skus = rig.skus();
    let days_ago = |d: i64| Utc::now().trunc_subsecs(0) - chrono::Duration::days(d);
    let old_completed = rig
        .sim
        .create_order_at(&[(&skus[0], 1)], "completed", days_ago(200))
        .unwrap();
    let old_waiting = rig
        .sim
        .create_order_at(&[(&skus[1], 1)], "on-hold", days_ago(120))
        .unwrap();
    let old_paid = rig
        .sim
        .create_order_at(&[(&skus[2], 1)], "processing", days_ago(90))
        .unwrap();
    let recent_completed = rig
        .sim
        .create_order_at(&[(&skus[3], 2)], "completed", days_ago(5))
        .unwrap();
    let outcomes = rig.reconcile().await;
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    let store = rig.store();
    let linked = |id: u64| {
        links::by_external(store.conn(), "order", "woocommerce", &id.to_string())
            .unwrap()
            .is_some()
    };
    assert!(
        !linked(old_completed),
        "history beyond import_since stays out"
    );
    assert!(
        linked(old_waiting) && linked(old_paid),
        "open orders come in however old"
    );
    assert!(linked(recent_completed));
    // on-hold is a bank transfer waiting for payment, not a backorder: nobody is e-mailed.
    let mut app = rig.app();
    assert_eq!(
        app.order(&rig.number(old_waiting)).unwrap().status,
        "Pending"
    );
    assert_eq!(count_jobs(&rig.db, "email.backorder", None), 0);
    // The recent completed order is history: its stock left before syncdesk, no reductions file counts it.
    let workflow = statuses::load(store.conn()).unwrap();
    let rules = SaleRules {
        channels: vec!["woocommerce".into()],
        sale_status_ids: ["Processing", "Completed"]
            .iter()
            .map(|n| workflow.by_name(n).unwrap().id)
            .collect(),
        cancelled_status_ids: vec![workflow.by_name("Cancelled").unwrap().id],
    };
    let due = pos_reductions::pending_sales(store.conn(), &rules).unwrap();
    let due_orders: Vec<&str> = due.iter().map(|l| l.order_number.as_str()).collect();
    let recent = app.order(&rig.number(recent_completed)).unwrap();
    assert!(
        !due_orders.contains(&recent.number.as_str()),
        "{due_orders:?}"
    );
    let paid = app.order(&rig.number(old_paid)).unwrap();
    assert!(due_orders.contains(&paid.number.as_str()), "{due_orders:?}");

    // History on request: everything.
    let report = woo_orders::poll(
        &rig.client(),
        &rig.ctx(),
        Some(syncdesk::config::ImportSince::All),
        false,
    )
    .await
    .unwrap();
    assert!(report.requests >= 1);
    assert!(linked(old_completed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variation_without_its_own_sku_is_never_taken_for_its_parent() {
    let rig = Rig::empty().await;
    let (_, variations) = rig
        .sim
        .add_variable_product("TEE", &[(None, 5), (Some("TEE-L"), 5)]);
    let woo_id = rig
        .sim
        .create_order_by_ids(&[(variations[0], 1), (variations[1], 2)], "processing")
        .unwrap();
    // The store's own line says the parent's SKU for the first variation.
    let raw = rig.client().get_order(woo_id).await.unwrap();
    assert_eq!(raw.line_items[0].sku, "TEE");
    rig.reconcile().await;
    let order = rig.app().order(&rig.number(woo_id)).unwrap();
    let skus: Vec<&str> = order.lines.iter().map(|l| l.sku.as_str()).collect();
    assert_eq!(
        skus,
        [format!("woo-variation-{}", variations[0]).as_str(), "TEE-L"]
    );
}

#[test]
fn basic_auth_over_http_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "[woocommerce]\nenabled = true\nurl = \"http://shop.example\"\nconsumer_key = \"ck_1\"\nconsumer_secret = \"cs_1\"\nauth = \"basic\"\n",
    )
    .unwrap();
    let error = Config::load(&path, true).unwrap_err().to_string();
    assert!(
        error.contains("woocommerce.auth")
            && error.contains("clear text")
            && error.contains("https://"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_the_store_disabled_is_reported_and_can_be_switched_back_on() {
    let rig = Rig::empty().await;
    let receiver = syncdesk::integrations::woocommerce::webhooks::receiver_url(&rig.config);
    let ours = rig.sim.add_webhook(syncdesk_sim::woo::WebhookTarget::new(
        receiver.clone(),
        "whsec_test",
    ));
    let theirs = rig.sim.add_webhook(syncdesk_sim::woo::WebhookTarget::new(
        "http://127.0.0.1:9/elsewhere".to_string(),
        "other",
    ));
    let client = rig.client();
    let check = syncdesk::integrations::woocommerce::webhooks::check(&client, &rig.config, false)
        .await
        .unwrap();
    assert!(check.verdict().is_ok(), "{:?}", check.verdict());
    assert!(
        check.ours.iter().all(|(id, _, _)| *id != theirs),
        "only ours are looked at"
    );
    // After failed deliveries the store disables it and tells nobody; check does.
    rig.sim.set_webhook_active(ours, false);
    let check = syncdesk::integrations::woocommerce::webhooks::check(&client, &rig.config, false)
        .await
        .unwrap();
    let verdict = check.verdict().unwrap_err();
    assert!(
        verdict.contains("stopped delivering") && verdict.contains("--enable-webhooks"),
        "{verdict}"
    );
    let fixed = syncdesk::integrations::woocommerce::webhooks::check(&client, &rig.config, true)
        .await
        .unwrap();
    assert_eq!(fixed.enabled_now, vec![ours]);
    assert!(fixed.verdict().is_ok(), "{:?}", fixed.verdict());
    assert!(rig.sim.webhook_state(ours).unwrap().active);
    // A store with none of ours says that changes only come with the poll.
    let mut elsewhere = rig.config.clone();
    elsewhere.woocommerce.webhook_url = "http://10.0.0.1:8787/webhooks/woocommerce".into();
    let none = syncdesk::integrations::woocommerce::webhooks::check(&client, &elsewhere, false)
        .await
        .unwrap();
    // Not a failure: the poll still brings every change, only later.
    assert!(none.verdict().unwrap().contains("none delivers to"));
}

/// The same cancellation, but the poll reads it after the operator shipped and before the push ran: the
/// poll must stop the push (it would otherwise find the store saying what syncdesk "last saw" and send).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_read_while_a_push_waits_stops_that_push() {
    let rig = Rig::empty().await;
    let skus = rig.skus();
    let woo_id = rig
        .sim
        .create_order(&[(&skus[0], 1)], "processing")
        .unwrap();
    rig.reconcile().await;
    let number = rig.number(woo_id);
    rig.sim.set_order_status(woo_id, "cancelled").unwrap();
    let mut app = rig.app();
    app.fulfill(&number, &ShipmentDetails::default(), None)
        .unwrap();
    let outcomes = rig.reconcile().await;
    assert!(
        matches!(&outcomes[..], [ImportOutcome::Skipped { reason, .. }] if reason.contains("nothing was sent")),
        "{outcomes:?}"
    );
    assert_eq!(rig.link(woo_id).sync_state, "conflict");
    let engine = rig.engine();
    engine.wake();
    let dead = eventually("the push to stop", || {
        app.jobs(Some(JobState::Dead), 10)
            .unwrap()
            .into_iter()
            .find(|j| j.kind == "woo.push_status")
    })
    .await;
    assert!(
        dead.last_error
            .unwrap_or_default()
            .contains("settle it first"),
        "the Errors panel says what to do"
    );
    assert_eq!(rig.sim.order_status(woo_id).as_deref(), Some("cancelled"));
    engine.shutdown().await.unwrap();
}
