//! Stock passes end to end over loopback: Counterpoint availability (TDS simulator) and WooCommerce products
//! (HTTP simulator) merged per aligned SKU, written in batches, with conflicts, failures and dry runs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rust_decimal::Decimal;
use syncdesk::app::{Actor, App};
use syncdesk::config::Config;
use syncdesk::engine::JobContext;
use syncdesk::engine::stock_flows::{PassMode, pos_source, stock_pass};
use syncdesk::integrations::woocommerce::orders as woo_orders;
use syncdesk::store::Store;
use syncdesk::store::inventory as stock_rows;
use syncdesk_sim::woo::{WooSim, WooSimConfig};

use crate::sim_config;
use crate::stock_rig;
use stock_rig::Rig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pass_over_2554_aligned_skus_makes_the_store_match_the_pos_in_few_requests() {
    let rig = Rig::start(4_400, 2_600, 2_554).await;
    rig.woo.reset_request_counts();
    let report = rig.pass(PassMode::Full, false).await;
    assert_eq!(report.examined, 2_554);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let pos = rig.pos_levels().await;
    for (i, (sku, item, _)) in rig.pairs.iter().enumerate() {
        assert_eq!(rig.store_stock(i), pos[item], "{sku} ↔ {item}");
    }
    let counts = rig.woo.request_counts();
    let reads: u64 = counts
        .iter()
        .filter(|(k, _)| k.starts_with("GET /products"))
        .map(|(_, v)| v)
        .sum();
    let writes: u64 = counts
        .iter()
        .filter(|(k, _)| k.starts_with("POST"))
        .map(|(_, v)| v)
        .sum();
    let changed = report.changes.len() as u64;
    assert_eq!(reads, 26, "⌈2554/100⌉ reads: {counts:?}");
    assert_eq!(
        writes,
        changed.div_ceil(100),
        "batches of 100 for {changed} changes: {counts:?}"
    );
    // The sides now agree: a second pass changes nothing.
    let again = rig.pass(PassMode::Full, false).await;
    assert!(
        again.changes.is_empty(),
        "{:?}",
        &again.changes[..again.changes.len().min(3)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_in_the_shop_and_online_between_passes_are_both_kept() {
    let rig = Rig::start(60, 80, 20).await;
    rig.pass(PassMode::Full, false).await;
    let before = rig.store_stock(0);
    let (sku, item, _) = rig.pairs[0].clone();
    rig.cp.shop().ring_sale(&item, Decimal::from(2)).unwrap();
    // An online sale: the store takes 3 off itself; syncdesk imports the order (which explains the movement).
    rig.woo.create_order(&[(&sku, 3)], "processing").unwrap();
    woo_orders::reconcile(
        &woo_orders::client(&rig.config.woocommerce).unwrap(),
        &rig.ctx(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(rig.store_stock(0), before - 3);
    let report = rig.pass(PassMode::Incremental, false).await;
    assert!(report.conflicts.is_empty(), "{:?}", report.conflicts);
    assert_eq!(
        rig.store_stock(0),
        before - 5,
        "both sales kept: {:?}",
        report.changes
    );
    let store = Store::open(&rig.db, Duration::from_secs(5)).unwrap();
    let log = syncdesk::store::sync_log::for_entity(store.conn(), "stock", &sku, 5).unwrap();
    assert_eq!(
        log[0].new_value.as_deref(),
        Some((before - 5).to_string().as_str())
    );
    assert!(
        log[0]
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("merge: POS -2, store -3"),
        "{:?}",
        log[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_batch_item_leaves_the_other_99_applied_and_names_the_sku() {
    let rig = Rig::start(200, 200, 100).await;
    rig.pass(PassMode::Full, false).await;
    for (_, item, _) in &rig.pairs {
        rig.cp
            .shop()
            .restock(item, "MAIN", Decimal::from(7))
            .unwrap();
    }
    let before: Vec<i64> = (0..100).map(|i| rig.store_stock(i)).collect();
    rig.woo.lock_product(rig.pairs[17].2, true);
    let report = rig.pass(PassMode::Incremental, false).await;
    assert_eq!(report.changes.len(), 99);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].sku, rig.pairs[17].0.to_uppercase());
    assert!(
        report.failed[0]
            .message
            .contains("woocommerce_rest_cannot_edit"),
        "{:?}",
        report.failed
    );
    for (i, was) in before.iter().enumerate() {
        let expected = if i == 17 { *was } else { was + 7 };
        assert_eq!(rig.store_stock(i), expected, "pair {i}");
    }
    let store = Store::open(&rig.db, Duration::from_secs(5)).unwrap();
    let row = stock_rows::find(store.conn(), &rig.pairs[17].0)
        .unwrap()
        .unwrap();
    assert_eq!(row.sync_state, "error");
    assert!(row.last_error.unwrap().contains("cannot_edit"));
    // Unlocked, the next pass catches up (its base was not moved).
    rig.woo.lock_product(rig.pairs[17].2, false);
    rig.pass(PassMode::Incremental, false).await;
    assert_eq!(rig.store_stock(17), before[17] + 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_writes_nothing_on_either_side_and_predicts_the_real_pass() {
    let rig = Rig::start(60, 80, 20).await;
    let store_before: Vec<i64> = (0..20).map(|i| rig.store_stock(i)).collect();
    let pos_before = rig.pos_levels().await;
    let plan = rig.pass(PassMode::Full, true).await;
    assert!(!plan.changes.is_empty());
    assert_eq!(
        (0..20).map(|i| rig.store_stock(i)).collect::<Vec<_>>(),
        store_before
    );
    assert_eq!(rig.pos_levels().await, pos_before);
    let store = Store::open(&rig.db, Duration::from_secs(5)).unwrap();
    assert!(
        stock_rows::aligned(store.conn())
            .unwrap()
            .iter()
            .all(|p| p.base.is_none() && p.last_pass_at.is_none())
    );
    let real = rig.pass(PassMode::Full, false).await;
    assert_eq!(real.changes, plan.changes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_conflict_type_is_raised_and_policies_settle_the_configured_ones() {
    let rig = Rig::start(60, 80, 20).await;
    // First sync: a store far from the POS is a quantity mismatch, settled by the default policy (POS wins).
    rig.woo.set_stock(rig.pairs[0].2, 999).unwrap();
    let first = rig.pass(PassMode::Full, false).await;
    assert!(
        first
            .conflicts
            .iter()
            .any(|c| c.sku == rig.pairs[0].0 && c.message.starts_with("quantity_mismatch")),
        "{:?}",
        first.conflicts
    );
    let pos = rig.pos_levels().await;
    assert_eq!(
        rig.store_stock(0),
        pos[&rig.pairs[0].1],
        "settled by policy"
    );

    // An edit in the store no sale explains: manual by default, nothing written.
    rig.woo
        .set_stock(rig.pairs[1].2, rig.store_stock(1) + 50)
        .unwrap();
    rig.woo.set_stock(rig.pairs[2].2, 0).unwrap();
    // Overselling: the POS sells (nearly) everything, the store sells more.
    let (_, item3, _) = &rig.pairs[3];
    let avail = pos[item3];
    rig.cp
        .shop()
        .ring_sale(item3, Decimal::from(avail))
        .unwrap();
    let store3 = rig.store_stock(3);
    rig.woo
        .create_order(&[(&rig.pairs[3].0, 2.min(store3))], "processing")
        .unwrap();
    woo_orders::reconcile(
        &woo_orders::client(&rig.config.woocommerce).unwrap(),
        &rig.ctx(),
        false,
    )
    .await
    .unwrap();
    // Store-side edits reach an incremental pass only through hints (webhooks, the poll); the full pass sees all.
    let second = rig.pass(PassMode::Full, false).await;
    let kinds: Vec<(String, String)> = second
        .conflicts
        .iter()
        .map(|c| {
            (
                c.sku.clone(),
                c.message.split(':').next().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&(rig.pairs[1].0.clone(), "unexplained_change".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(rig.pairs[2].0.clone(), "unexplained_change".into())),
        "{kinds:?}"
    );
    if store3 > 0 {
        assert!(
            kinds.contains(&(rig.pairs[3].0.clone(), "negative_stock".into())),
            "{kinds:?}"
        );
    }
    let mut app = App::open(&rig.db, rig.config.clone(), Actor::operator("ops")).unwrap();
    let open = app.stock_conflicts(false, 100).unwrap();
    let unexplained = open
        .iter()
        .find(|c| c.sku == rig.pairs[1].0)
        .expect("open conflict");
    assert_eq!(unexplained.kind, "unexplained_change");
    assert!(unexplained.base.is_some() && unexplained.proposed.is_some());
    assert_eq!(
        unexplained
            .pos_value
            .as_deref()
            .map(|v| v.parse::<i64>().unwrap()),
        Some(pos[&rig.pairs[1].1])
    );
    // Conflicts waiting for an operator raise alerts (the +50 edit is a discrepancy over 10 units).
    let open_alerts = app.alerts(false, 100).unwrap();
    assert!(
        open_alerts
            .iter()
            .any(|a| a.kind == "quantity_discrepancy" && a.subject.contains(&rig.pairs[1].0)),
        "{open_alerts:?}"
    );
    assert_eq!(
        rig.store_stock(1),
        unexplained
            .store_value
            .as_deref()
            .unwrap()
            .parse::<i64>()
            .unwrap(),
        "manual: not written"
    );
    let settled = app.stock_conflicts(true, 100).unwrap();
    assert!(
        settled
            .iter()
            .any(|c| c.kind == "quantity_mismatch" && c.resolved_by.as_deref() == Some("policy"))
    );

    // A hinted product is examined by an incremental pass.
    rig.woo
        .set_stock(rig.pairs[5].2, rig.store_stock(5) + 40)
        .unwrap();
    {
        let mut store = Store::open(&rig.db, Duration::from_secs(5)).unwrap();
        store
            .write(|tx| stock_rows::hint_product(tx, rig.pairs[5].2 as i64, 0))
            .unwrap();
    }
    let hinted = rig.pass(PassMode::Incremental, false).await;
    assert!(
        hinted
            .conflicts
            .iter()
            .any(|c| c.sku == rig.pairs[5].0 && c.message.starts_with("unexplained_change")),
        "{:?}",
        hinted.conflicts
    );

    // A SKU aligned on one side only.
    let spare_item = rig
        .cp
        .shop()
        .item_numbers()
        .unwrap()
        .into_iter()
        .find(|i| rig.pairs.iter().all(|p| &p.1 != i))
        .unwrap();
    app.import_alignment(&format!(
        "POS SKU,WooCommerce SKU\n{spare_item},NO-SUCH-PRODUCT\n"
    ))
    .unwrap();
    let third = rig.pass(PassMode::Full, false).await;
    assert!(
        third
            .conflicts
            .iter()
            .any(|c| c.sku == "NO-SUCH-PRODUCT" && c.message.starts_with("missing_alignment")),
        "{:?}",
        third.conflicts
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_shows_coverage_agreement_and_changes_after_a_pass() {
    let rig = Rig::start(60, 80, 20).await;
    rig.pass(PassMode::Full, false).await;
    let mut app = App::open(&rig.db, rig.config.clone(), Actor::operator("ops")).unwrap();
    let report = app.report("daily", 86_400_000).unwrap();
    assert_eq!((report.sync.aligned, report.sync.pos_items), (20, Some(80)));
    assert_eq!(report.sync.pairs_passed, 20);
    let md = report.markdown();
    assert!(
        md.contains("| alignment coverage | 25.0% (20 aligned) | > 95% |"),
        "{md}"
    );
    assert!(md.contains(&format!(
        "| stock changes written | {} |",
        report.sync.stock_changes
    )));
}

/// A file-only POS: the stock pass reads its CSV export; web sales reach it through reduction files, and a
/// sale the POS has taken in through such a file is counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_only_pos_is_read_from_its_export_and_web_sales_it_took_in_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let woo = WooSim::start(WooSimConfig {
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
    let product = woo
        .products()
        .into_iter()
        .find(|p| p.kind == "simple" && !p.sku.is_empty() && p.manage_stock)
        .unwrap();
    let export = |qty: i64| {
        std::fs::write(
            dir.path().join("stock.csv"),
            format!("sku,quantity,retail_price\nPOS-1,{qty},9.99\nbad line\n"),
        )
        .unwrap()
    };
    export(20);
    let mut app = App::open(&db, config.clone(), Actor::operator("test")).unwrap();
    app.import_alignment(&format!("POS SKU,WooCommerce SKU\nPOS-1,{}\n", product.sku))
        .unwrap();
    let ctx = || JobContext {
        store: Arc::new(Mutex::new(
            Store::open(&db, Duration::from_secs(5)).unwrap(),
        )),
        config: Arc::new(config.clone()),
    };
    let woo_client = woo_orders::client(&config.woocommerce).unwrap();
    let pos = pos_source(&config).unwrap();
    assert!(pos.system() == "pos_csv");

    let first = stock_pass(pos.as_ref(), &woo_client, &ctx(), PassMode::Full, false)
        .await
        .unwrap();
    assert_eq!(
        woo.product_stock(product.id),
        Some(20),
        "the export's count reaches the store"
    );
    assert!(
        first.skipped.iter().any(|s| s.sku == "export line 3"),
        "bad export lines are named: {:?}",
        first.skipped
    );

    // An unchanged export gives the incremental pass nothing to do on the POS side.
    assert!(
        stock_pass(
            pos.as_ref(),
            &woo_client,
            &ctx(),
            PassMode::Incremental,
            false
        )
        .await
        .unwrap()
        .changes
        .is_empty()
    );

    // 3 sold online; the reduction goes to the POS in a file, which it imports (and removes) …
    woo.create_order(&[(&product.sku, 3)], "processing")
        .unwrap();
    woo_orders::reconcile(&woo_client, &ctx(), false)
        .await
        .unwrap();
    assert_eq!(woo.product_stock(product.id), Some(17));
    let mut store = Store::open(&db, Duration::from_secs(5)).unwrap();
    syncdesk::integrations::pos_csv::flows::run_write_reductions(
        &mut store,
        &config,
        syncdesk::domain::time::now_ms(),
    )
    .unwrap();
    for f in std::fs::read_dir(&config.pos_csv.files.reductions_dir).unwrap() {
        std::fs::remove_file(f.unwrap().path()).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    syncdesk::integrations::pos_csv::flows::run_write_reductions(
        &mut store,
        &config,
        syncdesk::domain::time::now_ms(),
    )
    .unwrap();
    // … and its next export shows 17: the sale must not be taken off again.
    tokio::time::sleep(Duration::from_millis(20)).await;
    export(17);
    let after = stock_pass(
        pos.as_ref(),
        &woo_client,
        &ctx(),
        PassMode::Incremental,
        false,
    )
    .await
    .unwrap();
    assert!(after.conflicts.is_empty(), "{:?}", after.conflicts);
    assert_eq!(
        woo.product_stock(product.id),
        Some(17),
        "the online sale counted once: {:?}",
        after.changes
    );
    let pair = stock_rows::find(store.conn(), &product.sku)
        .unwrap()
        .unwrap();
    assert_eq!(pair.base.map(|b| (b.agreed, b.pos_seen)), Some((17, 17)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_passes_poll_the_store_and_record_their_job_in_the_sync_log() {
    let rig = Rig::start(60, 80, 20).await;
    rig.pass(PassMode::Full, false).await;
    // Past the POS overlap window, so only what changed is examined.
    tokio::time::sleep(Duration::from_millis(6_200)).await;
    let idle = rig.pass(PassMode::Incremental, false).await;
    assert!(
        idle.changes.is_empty() && idle.conflicts.is_empty(),
        "nothing changed on either side"
    );
    // An edit in the store admin with no webhook at all: the poll finds it.
    rig.woo
        .set_stock(rig.pairs[4].2, rig.store_stock(4) + 30)
        .unwrap();
    let polled = rig.pass(PassMode::Incremental, false).await;
    // No POS change, no hint, no sale: only the poll can have brought this product into the pass.
    assert!(
        polled
            .conflicts
            .iter()
            .any(|c| c.sku == rig.pairs[4].0 && c.message.starts_with("unexplained_change")),
        "{:?}",
        polled.conflicts
    );

    // A pass run by the engine writes its job id on each sync-log row.
    rig.cp
        .shop()
        .restock(&rig.pairs[6].1, "MAIN", Decimal::from(4))
        .unwrap();
    let handler =
        syncdesk::engine::stock_flows::StockPassJob::new(&rig.config, PassMode::Incremental);
    let job = syncdesk::store::Job {
        id: 4242,
        kind: "stock.incremental_pass".into(),
        key: None,
        payload: "{}".into(),
        state: syncdesk::store::JobState::Running,
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
    let store = Store::open(&rig.db, Duration::from_secs(5)).unwrap();
    let log =
        syncdesk::store::sync_log::for_entity(store.conn(), "stock", &rig.pairs[6].0, 1).unwrap();
    assert_eq!(log[0].job_id, Some(4242), "{log:?}");
}

/// The store applied the batch, then the connection dropped before its answer (a real store restarting
/// mid-pass does exactly this): the POS change must still be counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_answer_was_lost_is_read_back_and_counted_once() {
    let rig = Rig::start(200, 200, 100).await;
    rig.pass(PassMode::Full, false).await;
    let before: Vec<i64> = (0..100).map(|i| rig.store_stock(i)).collect();
    for (_, item, _) in &rig.pairs {
        rig.cp
            .shop()
            .restock(item, "MAIN", Decimal::from(1))
            .unwrap();
    }
    rig.woo
        .faults()
        .lose_answers_next("POST /products/batch", 1);
    let report = rig.pass(PassMode::Full, false).await;
    assert_eq!(
        rig.woo.request_count("POST /products/batch"),
        2,
        "one lost, none resent blindly — {:?}",
        rig.woo.request_counts()
    );
    assert!(
        report.failed.is_empty(),
        "read back: the store applied it — {:?}",
        report.failed
    );
    assert_eq!(report.changes.len(), 100);
    for (i, was) in before.iter().enumerate() {
        assert_eq!(rig.store_stock(i), was + 1, "pair {i}");
    }
    // The next pass finds both sides agreeing: +1 stays +1 (it was +2 when the base did not move).
    let next = rig.pass(PassMode::Full, false).await;
    assert!(next.changes.is_empty(), "{:?}", next.changes);
    for (i, was) in before.iter().enumerate() {
        assert_eq!(rig.store_stock(i), was + 1, "pair {i}");
    }
    let store = Store::open(&rig.db, Duration::from_secs(5)).unwrap();
    assert!(
        stock_rows::find(store.conn(), &rig.pairs[0].0)
            .unwrap()
            .unwrap()
            .unconfirmed
            .is_none()
    );
}

/// syncdesk stopped (or lost the store) after sending a write and before hearing back: the pair keeps the
/// write as unconfirmed, and the next pass reads the store before it merges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unconfirmed_write_is_settled_by_the_next_read_or_left_to_an_operator() {
    use syncdesk::domain::inventory::{MergeBase, UnconfirmedWrite};
    let rig = Rig::start(40, 40, 3).await;
    rig.pass(PassMode::Full, false).await;
    let pair = |i: usize| {
        let store = Store::open(&rig.db, Duration::from_secs(5)).unwrap();
        stock_rows::find(store.conn(), &rig.pairs[i].0)
            .unwrap()
            .unwrap()
    };
    let mut store = Store::open(&rig.db, Duration::from_secs(5)).unwrap();
    let mut unconfirmed = Vec::new();
    for i in 0..3 {
        let (_, item, id) = &rig.pairs[i];
        let was = rig.store_stock(i);
        let base = pair(i).base.unwrap();
        rig.cp
            .shop()
            .restock(item, "MAIN", Decimal::from(1))
            .unwrap();
        let write = UnconfirmedWrite {
            quantity: was + 1,
            prior: Some(was),
            base: MergeBase {
                agreed: was + 1,
                pos_seen: base.pos_seen + 1,
                store_seen: was + 1,
            },
        };
        store
            .write(|tx| stock_rows::set_unconfirmed(tx, pair(i).id, Some(&write)))
            .unwrap();
        match i {
            // It landed.
            0 => rig.woo.set_stock(*id, was + 1).unwrap(),
            // It did not.
            1 => {}
            // Neither value: a recount in the store happened too; which came first cannot be told.
            _ => rig.woo.set_stock(*id, was + 7).unwrap(),
        }
        unconfirmed.push(was);
    }
    let report = rig.pass(PassMode::Full, false).await;
    assert_eq!(
        rig.store_stock(0),
        unconfirmed[0] + 1,
        "landed: counted once"
    );
    assert_eq!(
        rig.store_stock(1),
        unconfirmed[1] + 1,
        "not landed: merged now"
    );
    assert_eq!(
        rig.store_stock(2),
        unconfirmed[2] + 7,
        "unknown: nothing written"
    );
    assert_eq!(report.detected.len(), 1, "{:?}", report.detected);
    assert_eq!(report.detected[0].kind, "unconfirmed_write");
    assert!(
        report.detected[0].detail.contains("cannot be told"),
        "{}",
        report.detected[0].detail
    );
    assert!(pair(0).unconfirmed.is_none() && pair(1).unconfirmed.is_none());
    assert!(pair(2).unconfirmed.is_some(), "kept until someone decides");
    // Asked again, the pass still does not guess.
    rig.pass(PassMode::Full, false).await;
    assert_eq!(rig.store_stock(2), unconfirmed[2] + 7);
    // An operator decides (here: the store's count stands); the write is then no longer in doubt.
    let mut app = App::open(&rig.db, rig.config.clone(), Actor::operator("dana")).unwrap();
    let conflict = app
        .stock_conflicts(false, 10)
        .unwrap()
        .into_iter()
        .find(|c| c.kind == "unconfirmed_write")
        .expect("the conflict is listed for an operator");
    assert_eq!(conflict.sku, rig.pairs[2].0);
    app.resolve_conflict(
        &rig.pairs[2].0,
        syncdesk::app::Resolution::Winner(syncdesk::app::Winner::Store),
    )
    .unwrap();
    let woo = woo_orders::client(&rig.config.woocommerce).unwrap();
    syncdesk::engine::stock_flows::apply_resolution(
        &woo,
        &rig.ctx(),
        None,
        &rig.pairs[2].0,
        unconfirmed[2] + 7,
        Some(pair(2).base.unwrap().pos_seen + 1),
    )
    .await
    .unwrap();
    assert!(pair(2).unconfirmed.is_none());
}

/// A pass reports the requests it really sent — pages, retries after a 429, writes — not a formula.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_counts_the_requests_it_really_sent() {
    let rig = Rig::start(80, 80, 40).await;
    rig.pass(PassMode::Full, false).await;
    for (_, item, _) in rig.pairs.iter().take(5) {
        rig.cp
            .shop()
            .restock(item, "MAIN", Decimal::from(2))
            .unwrap();
    }
    rig.woo.reset_request_counts();
    rig.woo.faults().throttle_next(1, 0);
    let report = rig.pass(PassMode::Full, false).await;
    let sent: u64 = rig.woo.request_counts().values().sum();
    assert_eq!(report.changes.len(), 5);
    // One read (40 SKUs), its retry after the 429, one batch.
    assert_eq!(sent, 3, "{:?}", rig.woo.request_counts());
    assert_eq!(report.store_requests as u64, sent);
}
