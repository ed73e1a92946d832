//! `syncdesk serve` through a store that stops taking writes, as an operator met it: another process holds
//! the database's write lock for 8 s (longer than busy_timeout_ms), or the disk fills up. It stays up, says
//! "store unavailable since …" in /health and its log, answers webhooks 503 meanwhile, and carries on by
//! itself afterwards: the order announced during the outage is imported once the store takes writes again.

use crate::serve_support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use syncdesk::store::{Store, StoreError, StoreOptions, links};
use syncdesk_sim::woo::{WooSim, WooSimConfig};

use serve_support::{Serve, deliver_order_webhook, free_port, woo_section};

const SECRET: &str = "whsec_outages";

async fn woo_sim() -> WooSim {
    WooSim::start(WooSimConfig {
        products: 5,
        orders: 0,
        ..WooSimConfig::default()
    })
    .await
    .expect("woo sim")
}

/// Test timings, the simulator's store, no alert mail; `extra` is appended (e.g. a `[store]` section).
fn write_config(dir: &Path, sim: &WooSim, port: u16, extra: &str) {
    let text = format!(
        "{extra}\n[jobs]\nlease_secs = 2\nbackoff_base_ms = 100\nbackoff_cap_secs = 2\npoll_ms = 50\n\n\
         [engine]\nlease_secs = 2\n\n[server]\nlisten = \"127.0.0.1:{port}\"\n\n[alerts]\nrecipients = []\n\n{}",
        woo_section(
            &sim.base_url(),
            sim.consumer_key(),
            sim.consumer_secret(),
            SECRET,
            3600
        )
    );
    std::fs::write(dir.join("config.toml"), text).unwrap();
}

fn imported(db: &Path, woo_id: u64) -> bool {
    let Ok(store) = Store::open(db, Duration::from_secs(1)) else {
        return false;
    };
    links::by_external(store.conn(), "order", "woocommerce", &woo_id.to_string())
        .ok()
        .flatten()
        .is_some()
}

async fn wait_imported(serve: &Serve, woo_id: u64, timeout: Duration) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if imported(&serve.dir.join("s.db"), woo_id) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "order {woo_id} was not imported within {timeout:?}\n{}",
        serve.log_text()
    );
}

fn engine_store(h: &Value) -> Option<String> {
    h["engine"]["in_process"]["store"]
        .as_str()
        .map(String::from)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_waits_out_a_lock_held_8_seconds_and_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let sim = woo_sim().await;
    let sku = sim.products()[0].sku.clone();
    let port = free_port();
    // The default busy timeout (5 s): the 8 s lock outlasts it.
    write_config(dir.path(), &sim, port, "");
    let mut serve = Serve::start(dir.path(), port);
    let http = reqwest::Client::new();
    serve
        .wait_health(&http, Duration::from_secs(30), "serve up", |h| {
            h["ok"] == true
        })
        .await;
    let before = sim.create_order(&[(&sku, 1)], "processing").unwrap();
    assert_eq!(
        deliver_order_webhook(&http, &serve, SECRET, before, "a")
            .await
            .0,
        200
    );
    wait_imported(&serve, before, Duration::from_secs(15)).await;

    // Another process takes the write lock and keeps it for 8 s.
    let db = dir.path().join("s.db");
    let locker = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        std::thread::sleep(Duration::from_secs(8));
        conn.execute_batch("ROLLBACK").unwrap();
    });
    let locked_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let during = sim.create_order(&[(&sku, 2)], "processing").unwrap();
    let (status, body) = deliver_order_webhook(&http, &serve, SECRET, during, "b").await;
    assert_eq!(status, 503, "not stored, so not acknowledged: {body}");
    assert!(body.contains("locked"), "{body}");
    let health = serve
        .wait_health(
            &http,
            Duration::from_secs(7),
            "health says the store is locked",
            |h| h["store"]["writable"] == false,
        )
        .await;
    assert_eq!(health["ok"], false, "{health}");
    assert_eq!(health["store"]["condition"], "locked", "{health}");
    assert!(
        health["store"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("store unavailable since "),
        "{health}"
    );
    assert!(
        locked_at.elapsed() < Duration::from_secs(8),
        "seen while the lock was held"
    );
    assert!(
        serve.alive(),
        "serve is still running\n{}",
        serve.log_text()
    );
    locker.join().unwrap();

    // The lock is gone: serve is still there, writes again and takes the redelivered webhook.
    let health = serve
        .wait_health(&http, Duration::from_secs(20), "healthy again", |h| {
            h["ok"] == true && engine_store(h).is_none()
        })
        .await;
    assert_eq!(health["store"]["writable"], true, "{health}");
    assert!(serve.alive());
    assert_eq!(
        deliver_order_webhook(&http, &serve, SECRET, during, "b")
            .await
            .0,
        200
    );
    wait_imported(&serve, during, Duration::from_secs(15)).await;
    let log = serve.log_text();
    assert!(
        log.contains("store unavailable since") && log.contains("the store takes writes again"),
        "the log says when it started and ended:\n{log}"
    );
    serve.kill9();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_waits_out_a_full_disk_and_carries_on_once_there_is_room() {
    let dir = tempfile::tempdir().unwrap();
    let sim = woo_sim().await;
    let sku = sim.products()[0].sku.clone();
    let port = free_port();
    // A 1 MiB limit on the database: full as a small disk is full.
    write_config(dir.path(), &sim, port, "[store]\nmax_size_mb = 1\n");
    let mut serve = Serve::start(dir.path(), port);
    let http = reqwest::Client::new();
    serve
        .wait_health(&http, Duration::from_secs(30), "serve up", |h| {
            h["ok"] == true
        })
        .await;

    // Fill it: rows that fill a page each, appended to the jobs table until nothing fits any more.
    let db = dir.path().join("s.db");
    let options = StoreOptions {
        busy_timeout: Duration::from_secs(10),
        quick_check: false,
        max_size_bytes: 1024 * 1024,
    };
    let mut filler = Store::open_with(&db, &options).unwrap();
    let mut rows = 0;
    loop {
        let added = filler.write(|tx| {
            tx.execute(
                "INSERT INTO jobs (kind, payload, state, max_attempts, run_at, created_at, updated_at)
                 VALUES ('ballast', printf('%.4030c', 'x'), 'done', 1, 0, 0, 0)",
                [],
            )
            .map_err(StoreError::from)
        });
        match added {
            Ok(_) => rows += 1,
            Err(e) if e.to_string().starts_with("disk full") => break,
            Err(e) if rows > 10_000 => panic!("{e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(rows > 10, "{rows} rows filled it");

    let during = sim.create_order(&[(&sku, 2)], "processing").unwrap();
    let (status, body) = deliver_order_webhook(&http, &serve, SECRET, during, "full").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("disk full"), "{body}");
    // The engine meets it too (its next scheduled job cannot be written) and waits.
    let health = serve
        .wait_health(
            &http,
            Duration::from_secs(20),
            "the engine waits on a full disk",
            |h| engine_store(h).is_some_and(|s| s.contains("disk full")),
        )
        .await;
    assert_eq!(health["ok"], false, "{health}");
    assert_eq!(health["store"]["condition"], "disk_full", "{health}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        serve.alive(),
        "serve is still running\n{}",
        serve.log_text()
    );

    // Room again: the engine carries on by itself and the redelivered webhook is taken.
    filler
        .write(|tx| {
            tx.execute("DELETE FROM jobs WHERE kind = 'ballast'", [])
                .map_err(StoreError::from)
        })
        .unwrap();
    serve
        .wait_health(&http, Duration::from_secs(20), "healthy again", |h| {
            h["ok"] == true && engine_store(h).is_none()
        })
        .await;
    let mut status = 0;
    for _ in 0..20 {
        status = deliver_order_webhook(&http, &serve, SECRET, during, "full")
            .await
            .0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, 200);
    wait_imported(&serve, during, Duration::from_secs(15)).await;
    assert!(serve.alive());
    serve.kill9();
    sim.shutdown().await;
}
