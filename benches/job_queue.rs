//! Durable job throughput and status-change latency on a file database.
//!
//! Run: `cargo bench --bench job_queue`. Prints jobs/s for the engine (enqueue, claim, run a no-op, complete),
//! next to a baseline measured in the same run on the same file settings: the textbook database queue
//! that claims one job per transaction and completes it in another. Target: ≥ 2,000 jobs/s on 2 cores
//! (OCA queue_job publishes about 55 jobs/s per database with 8 workers). Then single-order status-change
//! latency (p50/p99) through the app facade.

use std::time::{Duration, Instant};

use syncdesk::app::{Actor, App};
use syncdesk::config::Config;
use syncdesk::domain::time::now_ms;
use syncdesk::engine::{Engine, HandlerRegistry, handler_fn};
use syncdesk::store::{JobState, NewJob, Store, jobs};

const JOBS: usize = 20_000;
const BASELINE_JOBS: usize = 5_000;
const STATUS_CHANGES: usize = 2_000;

fn new_job() -> NewJob {
    NewJob {
        kind: "noop".into(),
        key: None,
        payload: "{}".into(),
        run_at: now_ms(),
        max_attempts: 3,
    }
}

fn open(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::open(&dir.path().join(name), Duration::from_secs(5)).expect("open store")
}

/// Enqueues one job per transaction, as commands do.
fn enqueue_each(store: &mut Store, n: usize) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        store
            .write(|tx| jobs::enqueue(tx, &new_job(), now_ms()))
            .expect("enqueue");
    }
    start.elapsed()
}

fn count(store: &Store, state: JobState) -> usize {
    jobs::count_by_state(store.conn())
        .expect("count")
        .into_iter()
        .find(|(s, _)| *s == state)
        .map(|(_, n)| n as usize)
        .unwrap_or(0)
}

fn engine_run(dir: &tempfile::TempDir) -> (Duration, Duration) {
    let mut store = open(dir, "engine.db");
    let enqueue = enqueue_each(&mut store, JOBS);
    let mut config = Config::default();
    config.jobs.default_concurrency = 64;
    let mut registry = HandlerRegistry::default();
    registry.register("noop", handler_fn(|_job, _ctx| async { Ok(()) }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let run = runtime.block_on(async {
        let start = Instant::now();
        let engine = Engine::new(&dir.path().join("engine.db"), config, registry)
            .spawn()
            .expect("engine");
        while count(&store, JobState::Done) < JOBS {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let elapsed = start.elapsed();
        engine.shutdown().await.expect("shutdown");
        elapsed
    });
    (enqueue, run)
}

/// The textbook queue: claim one job per transaction, run it, complete it in a second transaction.
fn baseline_run(dir: &tempfile::TempDir) -> Duration {
    let mut store = open(dir, "baseline.db");
    enqueue_each(&mut store, BASELINE_JOBS);
    let start = Instant::now();
    loop {
        let claimed = store
            .write(|tx| jobs::claim(tx, "noop", 1, "baseline", 30_000, now_ms()))
            .expect("claim");
        let Some(job) = claimed.into_iter().next() else {
            break;
        };
        std::hint::black_box(&job.payload);
        store
            .write(|tx| jobs::complete(tx, job.id, "baseline", now_ms()))
            .expect("complete");
    }
    start.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn status_latency(dir: &tempfile::TempDir) -> (Duration, Duration) {
    let mut app = App::open(
        &dir.path().join("status.db"),
        Config::default(),
        Actor::operator("bench"),
    )
    .expect("app");
    for i in 0..200 {
        app.add_order(&format!("B-{i}"), None, "manual", &[("SKU".into(), 1)])
            .expect("add");
    }
    app.change_status("B-100", "processing", None, None)
        .expect("first move");
    let mut samples = Vec::with_capacity(STATUS_CHANGES);
    for i in 0..STATUS_CHANGES {
        let to = if i % 2 == 0 {
            "backorder"
        } else {
            "processing"
        };
        let start = Instant::now();
        app.change_status("B-100", to, None, None).expect("move");
        samples.push(start.elapsed());
    }
    samples.sort();
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (enqueue, run) = engine_run(&dir);
    let baseline = baseline_run(&dir);
    let enqueue_rate = JOBS as f64 / enqueue.as_secs_f64();
    let engine_rate = JOBS as f64 / run.as_secs_f64();
    let end_to_end = JOBS as f64 / (enqueue + run).as_secs_f64();
    let baseline_rate = BASELINE_JOBS as f64 / baseline.as_secs_f64();
    println!("durable job queue on a file database (WAL, synchronous=NORMAL), {JOBS} no-op jobs");
    println!("  enqueue, one transaction each:      {enqueue_rate:>9.0} jobs/s");
    println!("  engine claim + run + complete:      {engine_rate:>9.0} jobs/s");
    println!("  end to end (enqueue, then drain):   {end_to_end:>9.0} jobs/s   (target ≥ 2,000)");
    println!(
        "  baseline, one job per transaction:  {baseline_rate:>9.0} jobs/s   ({BASELINE_JOBS} jobs, same run)"
    );
    println!(
        "  engine / baseline:                  {:>9.1}×",
        engine_rate / baseline_rate
    );
    println!(
        "  engine / OCA queue_job (≈55 jobs/s, published): {:.0}×",
        engine_rate / 55.0
    );
    let (p50, p99) = status_latency(&dir);
    println!(
        "single-order status change (one transaction, history + outbox), {STATUS_CHANGES} changes"
    );
    println!(
        "  p50 {:.3} ms   p99 {:.3} ms",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}
