//! Webhook receiver throughput and latency on loopback, and the WooCommerce client's request rate.
//!
//! Run: `cargo bench --bench webhooks`. A load generator in the same process sends signed order webhooks
//! (distinct resources, so none is de-duplicated) to the real receiver, which verifies each one and durably
//! enqueues a refresh job before answering. Baseline in the same run: the same HTTP stack answering 200 with
//! no verification and no write, i.e. the ceiling of the machine. Target: ≥ 3,000 deliveries/s, p99 < 25 ms
//! on 2 cores. Then the client against the simulator with zero injected latency.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use syncdesk::config::{Config, Secret};
use syncdesk::integrations::woocommerce::orders as woo_orders;
use syncdesk::server::{self, ServerState};
use syncdesk::store::{Store, jobs};
use syncdesk_sim::woo::{WooSim, WooSimConfig};

#[path = "../tests/support/sim_config.rs"]
mod sim_config;

const DELIVERIES: usize = 20_000;
const CONCURRENCY: usize = 32;
const CLIENT_CALLS: usize = 3_000;
const SECRET: &str = "bench-secret";

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("hmac key");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

struct Load {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Sends `DELIVERIES` signed webhooks from `CONCURRENCY` tasks; returns rate and latency percentiles.
async fn load(url: String) -> Load {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .expect("client");
    let start = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = worker;
            while i < DELIVERIES {
                let body = format!(
                    r#"{{"id":{},"status":"processing","date_modified_gmt":"2026-11-21T10:00:00","line_items":[{{"id":1,"sku":"SKU-{i}","quantity":2}}]}}"#,
                    100_000 + i
                );
                let sig = sign(body.as_bytes());
                let sent = Instant::now();
                let resp = client
                    .post(&url)
                    .header("X-WC-Webhook-Resource", "order")
                    .header("X-WC-Webhook-Topic", "order.updated")
                    .header("X-WC-Webhook-Signature", sig)
                    .body(body)
                    .send()
                    .await
                    .expect("send");
                assert_eq!(resp.status().as_u16(), 200, "delivery refused");
                latencies.push(sent.elapsed());
                i += CONCURRENCY;
            }
            latencies
        }));
    }
    let mut all = Vec::with_capacity(DELIVERIES);
    for t in tasks {
        all.extend(t.await.expect("load task"));
    }
    let elapsed = start.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() - 1) as f64 * p).round() as usize];
    Load {
        per_second: all.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(0.5),
        p99: pct(0.99),
    }
}

fn print(name: &str, l: &Load) {
    println!(
        "  {name:<44} {:>8.0} deliveries/s   p50 {:>6.2} ms   p99 {:>6.2} ms",
        l.per_second,
        l.p50.as_secs_f64() * 1e3,
        l.p99.as_secs_f64() * 1e3
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("bench.db");
        let mut config = Config::default();
        config.woocommerce.webhook_secret = Secret::new(SECRET);
        let store = Store::open(&db, Duration::from_secs(5)).expect("store");
        let state = Arc::new(ServerState {
            store: Arc::new(Mutex::new(store)),
            config: Arc::new(config.clone()),
            engine: None,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(server::serve(listener, state, std::future::pending()));

        let noop = axum::Router::new().route("/webhooks/woocommerce", post(|| async { "ok" }));
        let noop_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let noop_addr = noop_listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(noop_listener, noop).await });

        println!("webhook receiver on loopback, {DELIVERIES} signed order deliveries, {CONCURRENCY} concurrent senders");
        let baseline = load(format!("http://{noop_addr}/webhooks/woocommerce")).await;
        let receiver = load(format!("http://{addr}/webhooks/woocommerce")).await;
        print("baseline: same HTTP stack, answers 200", &baseline);
        print("receiver: verify + dedupe + durable enqueue", &receiver);
        println!("  receiver / baseline: {:.2} of the machine's HTTP ceiling   (target ≥ 3,000/s, p99 < 25 ms)", receiver.per_second / baseline.per_second);
        let check = Store::open(&db, Duration::from_secs(5)).expect("store");
        let queued = jobs::list(check.conn(), None, i64::MAX).expect("jobs").len();
        println!("  jobs durably queued: {queued} (one per delivery)");

        let sim = WooSim::start(WooSimConfig { products: 50, orders: 200, ..WooSimConfig::default() }).await.expect("sim");
        let client = Arc::new(woo_orders::client(&sim_config::woo_config(&sim)).expect("client"));
        let ids = sim.order_ids();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..16 {
            let (client, ids) = (client.clone(), ids.clone());
            tasks.push(tokio::spawn(async move {
                let mut i = w;
                while i < CLIENT_CALLS {
                    client.get_order(ids[i % ids.len()]).await.expect("get order");
                    i += 16;
                }
            }));
        }
        for t in tasks {
            t.await.expect("client task");
        }
        let rate = CLIENT_CALLS as f64 / start.elapsed().as_secs_f64();
        println!("woocommerce client against the simulator (zero injected latency, 16 concurrent): {rate:.0} GET /orders/{{id}} per second");
    });
}
