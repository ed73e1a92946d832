//! The durable job queue through the real engine on a file database: at-least-once after a crash, backoff
//! growth and cap, Retry-After, dead after max attempts, superseding by key, per-kind limits, one engine.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use syncdesk::config::Config;
use syncdesk::domain::time::now_ms;
use syncdesk::engine::{Engine, HandlerRegistry, JobError, handler_fn};
use syncdesk::store::{JobState, NewJob, Store, jobs};

use crate::support::{Scratch, fast_config, wait_for_job};

fn enqueue(store: &mut Store, kind: &str, key: Option<&str>, max_attempts: u32) -> i64 {
    store
        .write(|tx| {
            jobs::enqueue(
                tx,
                &NewJob {
                    kind: kind.into(),
                    key: key.map(String::from),
                    payload: "{}".into(),
                    run_at: now_ms(),
                    max_attempts,
                },
                now_ms(),
            )
        })
        .unwrap()
}

/// When each run of which job started.
type Runs = Arc<Mutex<Vec<(i64, Instant)>>>;

/// A registry whose `kind` handler records when each run started and answers with `outcome(run number)`.
fn recording(
    kind: &str,
    outcome: impl Fn(usize) -> Result<(), JobError> + Send + Sync + 'static,
) -> (HandlerRegistry, Runs) {
    let runs = Arc::new(Mutex::new(Vec::new()));
    let outcome = Arc::new(outcome);
    let mut registry = HandlerRegistry::default();
    let seen = runs.clone();
    registry.register(
        kind,
        handler_fn(move |job, _ctx| {
            let seen = seen.clone();
            let outcome = outcome.clone();
            async move {
                let n = {
                    let mut v = seen.lock().unwrap();
                    v.push((job.id, Instant::now()));
                    v.len()
                };
                outcome(n)
            }
        }),
    );
    (registry, runs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_abandoned_by_a_dead_process_runs_again_after_its_lease_expires() {
    let scratch = Scratch::new();
    let mut store = scratch.store();
    let id = enqueue(&mut store, "noop", None, 5);
    // A process claims it with a short lease and dies without finishing.
    let claimed = store
        .write(|tx| jobs::claim(tx, "noop", 1, "ghost:1", 300, now_ms()))
        .unwrap();
    assert_eq!(claimed.len(), 1);

    let (registry, runs) = recording("noop", |_| Ok(()));
    let engine = Engine::new(&scratch.db(), fast_config(), registry)
        .spawn()
        .unwrap();
    let job = wait_for_job(&scratch.db(), id, Duration::from_secs(10), |j| {
        j.state == JobState::Done
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!(job.state, JobState::Done);
    assert_eq!(job.attempts, 2, "the abandoned run counts as an attempt");
    assert_eq!(
        runs.lock().unwrap().len(),
        1,
        "our engine ran it exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_delays_grow_and_stay_under_the_cap() {
    let scratch = Scratch::new();
    let mut config = fast_config();
    config.jobs.backoff_base_ms = 40;
    config.jobs.backoff_cap_secs = 1; // ceilings: 40, 80, 160, 320, 640, 1000, 1000 ms
    config.jobs.retry_for_secs = 1; // ends once failing for 1 s and tried 8 times (the jobs' max_attempts)
    let mut store = scratch.store();
    let ids: Vec<i64> = (0..12)
        .map(|_| enqueue(&mut store, "flaky", None, 8))
        .collect();
    let (registry, runs) = recording("flaky", |_| Err(JobError::retry("connection refused")));
    let engine = Engine::new(&scratch.db(), config.clone(), registry)
        .spawn()
        .unwrap();
    for id in &ids {
        let job = wait_for_job(&scratch.db(), *id, Duration::from_secs(30), |j| {
            j.state == JobState::Dead
        })
        .await;
        assert_eq!(job.state, JobState::Dead);
        assert!(job.attempts >= 8, "{job:?}");
        let error = job.last_error.clone().unwrap_or_default();
        assert!(
            error.starts_with(&format!("gave up after {} attempts over ", job.attempts))
                && error.ends_with(": connection refused"),
            "{error}"
        );
    }
    engine.shutdown().await.unwrap();

    let runs = runs.lock().unwrap().clone();
    let backoff = config.jobs.backoff();
    let slack = Duration::from_millis(150); // poll interval and scheduling on a busy machine
    let mut mean_by_attempt = vec![Duration::ZERO; 8];
    for id in &ids {
        let times: Vec<Instant> = runs
            .iter()
            .filter(|(j, _)| j == id)
            .map(|(_, t)| *t)
            .collect();
        assert!(times.len() >= 8, "{} runs", times.len());
        for (attempt, pair) in times.windows(2).take(7).enumerate() {
            let gap = pair[1] - pair[0];
            assert!(
                gap <= backoff.ceiling(attempt as u32 + 1) + slack,
                "attempt {}: {gap:?}",
                attempt + 1
            );
            assert!(gap <= backoff.cap + slack);
            mean_by_attempt[attempt] += gap / ids.len() as u32;
        }
    }
    // Full jitter is uniform below a doubling ceiling, so the mean delay grows with the attempt.
    assert!(
        mean_by_attempt[5] > mean_by_attempt[0] * 3,
        "{mean_by_attempt:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_from_the_server_overrides_the_backoff() {
    let scratch = Scratch::new();
    let mut store = scratch.store();
    let id = enqueue(&mut store, "api", None, 5);
    let (registry, runs) = recording("api", |n| {
        if n == 1 {
            Err(JobError::retry("429 Too Many Requests").after(Duration::from_secs(2)))
        } else {
            Ok(())
        }
    });
    let engine = Engine::new(&scratch.db(), fast_config(), registry)
        .spawn()
        .unwrap();
    let job = wait_for_job(&scratch.db(), id, Duration::from_secs(10), |j| {
        j.state == JobState::Done
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!(job.state, JobState::Done);
    let runs = runs.lock().unwrap();
    let gap = runs[1].1 - runs[0].1;
    assert!(
        gap >= Duration::from_millis(1990),
        "waited only {gap:?}; backoff alone would be ≤ 50 ms"
    );
    assert!(gap < Duration::from_secs(4), "waited {gap:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_errors_and_exhausted_attempts_end_dead_and_an_operator_can_retry() {
    let scratch = Scratch::new();
    let mut store = scratch.store();
    let permanent = enqueue(&mut store, "strict", None, 5);
    let fails = Arc::new(AtomicUsize::new(0));
    let mut registry = HandlerRegistry::default();
    let f = fails.clone();
    registry.register(
        "strict",
        handler_fn(move |_job, _ctx| {
            let f = f.clone();
            async move {
                if f.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(JobError::permanent("400 rest_invalid_param"))
                } else {
                    Ok(())
                }
            }
        }),
    );
    let engine = Engine::new(&scratch.db(), fast_config(), registry)
        .spawn()
        .unwrap();
    let job = wait_for_job(&scratch.db(), permanent, Duration::from_secs(10), |j| {
        j.state == JobState::Dead
    })
    .await;
    assert_eq!(
        (job.state, job.attempts),
        (JobState::Dead, 1),
        "a permanent error is not retried"
    );
    assert_eq!(job.last_error.as_deref(), Some("400 rest_invalid_param"));
    // A job that gave up raises a sync-failure alert (high: mailed at once).
    let alerts = scratch.app("ops").alerts(false, 10).unwrap();
    assert!(
        alerts.iter().any(|a| a.kind == "sync_failure"
            && a.severity == "high"
            && a.message.contains("rest_invalid_param")),
        "{alerts:?}"
    );

    // The operator fixes the cause and retries: it runs again, with a fresh budget.
    let mut app = scratch.app("ops");
    app.retry_job(permanent).unwrap();
    // Who retried it stays in the audit log.
    let audit = syncdesk::store::sync_log::for_entity(
        scratch.store().conn(),
        "job",
        &permanent.to_string(),
        5,
    )
    .unwrap();
    assert!(
        audit.iter().any(|e| e.actor.as_deref() == Some("ops")
            && e.old_value.as_deref() == Some("dead")
            && e.new_value.as_deref() == Some("queued")),
        "{audit:?}"
    );
    engine.wake();
    let job = wait_for_job(&scratch.db(), permanent, Duration::from_secs(10), |j| {
        j.state == JobState::Done
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Done, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_job_with_the_same_key_supersedes_a_queued_one() {
    let scratch = Scratch::new();
    let mut store = scratch.store();
    let older = enqueue(&mut store, "stock.push", Some("SKU-1"), 5);
    let other_key = enqueue(&mut store, "stock.push", Some("SKU-2"), 5);
    let newer = enqueue(&mut store, "stock.push", Some("SKU-1"), 5);
    let old = jobs::get(store.conn(), older).unwrap().unwrap();
    assert_eq!(old.state, JobState::Cancelled);
    assert_eq!(old.last_error, Some(format!("superseded by job {newer}")));

    let (registry, runs) = recording("stock.push", |_| Ok(()));
    let engine = Engine::new(&scratch.db(), fast_config(), registry)
        .spawn()
        .unwrap();
    wait_for_job(&scratch.db(), newer, Duration::from_secs(10), |j| {
        j.state == JobState::Done
    })
    .await;
    wait_for_job(&scratch.db(), other_key, Duration::from_secs(10), |j| {
        j.state == JobState::Done
    })
    .await;
    engine.shutdown().await.unwrap();
    let ran: Vec<i64> = runs.lock().unwrap().iter().map(|(id, _)| *id).collect();
    assert!(!ran.contains(&older));
    assert_eq!(ran.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_kind_concurrency_is_respected() {
    let scratch = Scratch::new();
    let mut config = fast_config();
    config.jobs.concurrency.insert("slow".into(), 2);
    let mut store = scratch.store();
    let ids: Vec<i64> = (0..8)
        .map(|_| enqueue(&mut store, "slow", None, 3))
        .collect();
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut registry = HandlerRegistry::default();
    let (n, p) = (now.clone(), peak.clone());
    registry.register(
        "slow",
        handler_fn(move |_job, _ctx| {
            let (n, p) = (n.clone(), p.clone());
            async move {
                let running = n.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(running, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(80)).await;
                n.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            }
        }),
    );
    let engine = Engine::new(&scratch.db(), config, registry)
        .spawn()
        .unwrap();
    for id in ids {
        wait_for_job(&scratch.db(), id, Duration::from_secs(10), |j| {
            j.state == JobState::Done
        })
        .await;
    }
    engine.shutdown().await.unwrap();
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_on_one_file_only_one_runs_jobs_and_the_other_takes_over() {
    let scratch = Scratch::new();
    let config: Config = fast_config();
    let holders = Arc::new(Mutex::new(Vec::<String>::new()));
    let registry_for = |name: &str| {
        let mut registry = HandlerRegistry::default();
        let (holders, name) = (holders.clone(), name.to_string());
        registry.register(
            "work",
            handler_fn(move |_job, _ctx| {
                let (holders, name) = (holders.clone(), name.clone());
                async move {
                    holders.lock().unwrap().push(name);
                    Ok(())
                }
            }),
        );
        registry
    };
    let first = Engine::new(&scratch.db(), config.clone(), registry_for("first"))
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = Engine::new(&scratch.db(), config.clone(), registry_for("second"))
        .spawn()
        .unwrap();

    let mut store = scratch.store();
    let batch: Vec<i64> = (0..40)
        .map(|_| enqueue(&mut store, "work", None, 3))
        .collect();
    for id in &batch {
        wait_for_job(&scratch.db(), *id, Duration::from_secs(10), |j| {
            j.state == JobState::Done
        })
        .await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(first.status().holds_lease);
    assert!(!second.status().holds_lease);
    assert!(
        holders.lock().unwrap().iter().all(|h| h == "first"),
        "only the lease holder ran jobs"
    );
    assert_eq!(holders.lock().unwrap().len(), 40);

    // The first engine dies without releasing its lease; the second takes over once it expires (2 s).
    first.abort();
    let late = enqueue(&mut store, "work", None, 3);
    let job = wait_for_job(&scratch.db(), late, Duration::from_secs(10), |j| {
        j.state == JobState::Done
    })
    .await;
    assert_eq!(job.state, JobState::Done);
    assert_eq!(
        holders.lock().unwrap().last().map(String::as_str),
        Some("second")
    );
    assert!(second.status().holds_lease);
    second.shutdown().await.unwrap();
}
