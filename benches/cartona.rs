//! Cartona status pushes: the verified bulk push pass vs one single-order call per push, same run.
//!
//! Run: `cargo bench --bench cartona`. The simulator answers every request after 20 ms (a marketplace
//! across the internet). 5,000 imported orders are moved to Processing and pushed by the real push pass
//! (`cartona_flows::push_pass`: plans from the store, bulk requests of `batch_size`, a re-read per batch to
//! catch silently skipped items, a `synced` re-acknowledgement, outcomes written back). Baseline: 5,000 other
//! orders pushed with `POST order/update-order-status/{hashed_id}`, 8 calls in flight (the engine's default
//! concurrency). Printed: requests and wall time for each, and the ratio.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use syncdesk::app::{Actor, App};
use syncdesk::config::Config;
use syncdesk::engine::JobContext;
use syncdesk::integrations::cartona::client::{OrderStatus, StatusUpdate};
use syncdesk::integrations::cartona::flows as cartona_flows;
use syncdesk::store::Store;
use syncdesk_sim::cartona::{CartonaSim, CartonaSimConfig, NewOrder};

#[path = "../tests/support/sim_config.rs"]
mod sim_config;

const PUSHES: usize = 5_000;
const LATENCY: Duration = Duration::from_millis(20);
const SINGLE_IN_FLIGHT: usize = 8;

fn total(sim: &CartonaSim) -> u64 {
    sim.request_counts().values().sum()
}

fn create(sim: &CartonaSim, n: usize, start: chrono::DateTime<chrono::Utc>) -> Vec<String> {
    (0..n)
        .map(|i| {
            sim.create_order(NewOrder {
                created_at: start + chrono::Duration::seconds(i as i64),
                retailer: format!("Retailer {i}"),
                ..NewOrder::default()
            })
        })
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("bench.db");
    let sim = CartonaSim::start(CartonaSimConfig::default())
        .await
        .expect("sim");
    let mut cartona = sim_config::cartona_config(&sim);
    cartona.per_page = 100;
    let config = Config {
        cartona,
        ..Config::default()
    };
    drop(App::open(&db, config.clone(), Actor::operator("bench")).expect("app"));
    let ctx = JobContext {
        store: Arc::new(Mutex::new(
            Store::open(&db, Duration::from_secs(5)).expect("store"),
        )),
        config: Arc::new(config.clone()),
    };
    let client = cartona_flows::client(&config.cartona).expect("client");

    // Setup (not timed): import 5,000 orders and move each to Processing (each marks a push due).
    let start = chrono::Utc::now() - chrono::Duration::hours(3);
    let bulk_ids = create(&sim, PUSHES, start);
    let pulled = cartona_flows::pull(&client, &ctx, false)
        .await
        .expect("pull");
    assert_eq!(pulled.acknowledged, PUSHES);
    let mut app = App::open(&db, config.clone(), Actor::operator("bench")).expect("app");
    for id in &bulk_ids {
        app.change_status(id, "Processing", None, None)
            .expect("status");
    }
    let single_ids = create(&sim, PUSHES, start + chrono::Duration::hours(2));

    sim.faults().set_latency(LATENCY, Duration::ZERO);
    sim.reset_request_counts();
    let began = Instant::now();
    let report = cartona_flows::push_pass(&client, &ctx, None, false)
        .await
        .expect("push pass");
    let bulk_time = began.elapsed();
    let bulk_requests = total(&sim);
    let applied = report
        .items
        .iter()
        .filter(|i| i.result == "applied")
        .count();
    assert_eq!(applied, PUSHES, "every push verified applied");
    assert!(
        bulk_ids
            .iter()
            .all(|id| sim.order_status(id).as_deref() == Some("approved"))
    );

    sim.reset_request_counts();
    let began = Instant::now();
    let results: Vec<_> = futures_util::stream::iter(single_ids.iter())
        .map(|id| {
            let client = client.clone();
            async move {
                client
                    .update_status(&StatusUpdate::new(id.clone(), OrderStatus::Approved))
                    .await
            }
        })
        .buffer_unordered(SINGLE_IN_FLIGHT)
        .collect()
        .await;
    let single_time = began.elapsed();
    let single_requests = total(&sim);
    assert!(results.iter().all(Result::is_ok));

    println!("cartona status pushes: {PUSHES}, simulator latency {LATENCY:?}");
    println!(
        "  bulk + verify (push pass, batch {}): {bulk_requests} requests, {:.2} s ({} bulk requests)",
        config.cartona.batch_size,
        bulk_time.as_secs_f64(),
        report.bulk_requests
    );
    println!(
        "  single calls ({SINGLE_IN_FLIGHT} in flight):  {single_requests} requests, {:.2} s",
        single_time.as_secs_f64()
    );
    println!(
        "  ratio: {:.1}× fewer requests, {:.1}× faster",
        single_requests as f64 / bulk_requests.max(1) as f64,
        single_time.as_secs_f64() / bulk_time.as_secs_f64().max(1e-9)
    );
    sim.shutdown().await;
}
