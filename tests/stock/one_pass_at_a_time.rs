//! One stock pass at a time per database: passes from different connections (as the engine's jobs and a
//! foreground `sync run` are) wait for each other, so a sale is counted once; a dead holder's lease expires.

use std::time::Duration;

use rust_decimal::Decimal;
use syncdesk::engine::stock_flows::{PassMode, stock_pass};
use syncdesk::integrations::counterpoint::flows as counterpoint_flows;
use syncdesk::integrations::counterpoint::stock_source::CounterpointStock;
use syncdesk::integrations::woocommerce::orders as woo_orders;
use syncdesk::store::pass_lease;

use crate::stock_rig::Rig;

/// A pass on its own store connection, as another process would run it.
async fn pass_alone(rig: &Rig, mode: PassMode) -> Result<usize, String> {
    let pos = counterpoint_flows::client(&rig.config.counterpoint).unwrap();
    let woo = woo_orders::client(&rig.config.woocommerce).unwrap();
    stock_pass(&CounterpointStock(pos), &woo, &rig.ctx(), mode, false)
        .await
        .map(|r| r.changes.len())
        .map_err(|e| format!("{e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_passes_at_once_count_each_sale_once() {
    let rig = Rig::start(60, 80, 20).await;
    rig.pass(PassMode::Full, false).await;
    let before: Vec<i64> = (0..3).map(|i| rig.store_stock(i)).collect();
    for i in 0..3 {
        let item = rig.pairs[i].1.clone();
        rig.cp.shop().ring_sale(&item, Decimal::from(2)).unwrap();
    }
    // A full and an incremental pass, started together on separate connections (the engine runs both
    // kinds, and `sync run` is another process): without one-at-a-time both plan from the same base.
    let (full, incremental) = tokio::join!(
        pass_alone(&rig, PassMode::Full),
        pass_alone(&rig, PassMode::Incremental)
    );
    full.unwrap();
    incremental.unwrap();
    for (i, was) in before.iter().enumerate() {
        assert_eq!(
            rig.store_stock(i),
            was - 2,
            "the sale of 2 on {} taken off once",
            rig.pairs[i].0
        );
    }
    let store = rig.store();
    let log =
        syncdesk::store::sync_log::for_entity(store.conn(), "stock", &rig.pairs[0].0, 10).unwrap();
    let written: Vec<_> = log
        .iter()
        .filter(|e| e.field.contains("stock") && e.source != "pos")
        .filter(|e| e.new_value.as_deref() == Some((before[0] - 2).to_string().as_str()))
        .collect();
    assert_eq!(written.len(), 1, "one write of the new quantity: {log:#?}");
    assert_eq!(
        pass_lease::current(store.conn(), "stock").unwrap(),
        None,
        "the lease is given up after the passes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_waits_for_a_live_holder_and_takes_over_from_a_dead_one() {
    let rig = Rig::start(30, 40, 5).await;
    rig.pass(PassMode::Full, false).await;
    let was = rig.store_stock(0);
    rig.cp
        .shop()
        .ring_sale(&rig.pairs[0].1, Decimal::from(1))
        .unwrap();
    let now = syncdesk::domain::time::now_ms();
    // Another process's pass, alive for the next minute.
    let store = rig.store();
    assert!(pass_lease::take(store.conn(), "stock", "sync run (pid 1)", 60_000, now).unwrap());
    let waiting = tokio::spawn({
        let pos = counterpoint_flows::client(&rig.config.counterpoint).unwrap();
        let woo = woo_orders::client(&rig.config.woocommerce).unwrap();
        let ctx = rig.ctx();
        async move {
            stock_pass(&CounterpointStock(pos), &woo, &ctx, PassMode::Full, false)
                .await
                .map(|r| r.changes.len())
        }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !waiting.is_finished(),
        "the pass waits while the lease is held"
    );
    assert_eq!(rig.store_stock(0), was, "and writes nothing meanwhile");
    pass_lease::release(store.conn(), "stock", "sync run (pid 1)").unwrap();
    let changes = tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("the pass goes on once the lease is free")
        .unwrap()
        .unwrap();
    assert_eq!(changes, 1);
    assert_eq!(rig.store_stock(0), was - 1);

    // A holder that died a minute ago (its lease expired): the next pass does not wait for it.
    rig.cp
        .shop()
        .ring_sale(&rig.pairs[0].1, Decimal::from(1))
        .unwrap();
    let long_ago = syncdesk::domain::time::now_ms() - 120_000;
    assert!(pass_lease::take(store.conn(), "stock", "crashed (pid 2)", 60_000, long_ago).unwrap());
    tokio::time::timeout(Duration::from_secs(30), pass_alone(&rig, PassMode::Full))
        .await
        .expect("an expired lease is taken over")
        .unwrap();
    assert_eq!(rig.store_stock(0), was - 2);
}
