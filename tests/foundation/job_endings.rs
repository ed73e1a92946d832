//! Every job ends: a job that keeps failing goes dead even when newer jobs keep replacing it by key, the
//! default retry budget outlasts a 90 s outage, every attempt is kept and shown (`jobs show`), and an e-mail
//! the mail server accepted is not sent again by a run after a crash.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use syncdesk::config::Config;
use syncdesk::domain::time::now_ms;
use syncdesk::engine::retry::RetryPolicy;
use syncdesk::engine::{Engine, HandlerRegistry, JobError, default_handlers, handler_fn};
use syncdesk::store::jobs::ErrorClass;
use syncdesk::store::{JobState, NewJob, Store, jobs};
use syncdesk_sim::smtp::SmtpSink;

use crate::support::{Scratch, fast_config, wait_for_job};

fn enqueue(store: &mut Store, kind: &str, key: Option<&str>) -> i64 {
    store
        .write(|tx| {
            jobs::enqueue(
                tx,
                &NewJob {
                    kind: kind.into(),
                    key: key.map(String::from),
                    payload: "{}".into(),
                    run_at: now_ms(),
                    max_attempts: 3,
                },
                now_ms(),
            )
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_replaced_by_newer_ones_keeps_its_attempts_and_still_goes_dead() {
    let scratch = Scratch::new();
    let mut config = fast_config();
    config.jobs.backoff_base_ms = 100;
    config.jobs.backoff_cap_secs = 1;
    config.jobs.retry_for_secs = 2;
    let mut registry = HandlerRegistry::default();
    registry.register(
        "cartona.push_statuses",
        handler_fn(|_job, _ctx| async { Err(JobError::retry("HTTP 503: down for maintenance")) }),
    );
    let engine = Engine::new(&scratch.db(), config.clone(), registry)
        .spawn()
        .unwrap();
    let mut store = scratch.store();
    // A new batch every 150 ms replaces the waiting pass by key, as operators keep changing statuses.
    let started = std::time::Instant::now();
    let mut newest = enqueue(&mut store, "cartona.push_statuses", Some("cartona"));
    let dead = loop {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let job = jobs::get(store.conn(), newest).unwrap().unwrap();
        if job.state == JobState::Dead {
            break job;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "still not dead after {:?}: {job:?}",
            started.elapsed()
        );
        newest = enqueue(&mut store, "cartona.push_statuses", Some("cartona"));
    };
    engine.shutdown().await.unwrap();
    assert!(dead.attempts >= 3, "{dead:?}");
    let error = dead.last_error.clone().unwrap_or_default();
    assert!(
        error.starts_with("gave up after") && error.ends_with("HTTP 503: down for maintenance"),
        "{error}"
    );
    // Its history holds the attempts of every job it replaced, oldest first.
    let detail = jobs::detail(store.conn(), dead.id).unwrap().unwrap();
    assert_eq!(detail.history.len() as u32, dead.attempts, "{detail:#?}");
    assert!(
        detail.history.iter().any(|a| a.job_id != dead.id),
        "attempts of replaced jobs are part of the history: {detail:#?}"
    );
    assert!(
        detail
            .history
            .windows(2)
            .all(|w| w[0].started_at <= w[1].started_at)
    );
    let first = detail.first_failed_at.unwrap();
    assert!(
        dead.updated_at - first >= 2_000,
        "dead only once the 2 s budget ran out since the FIRST failure: {detail:#?}"
    );
}

/// The engine's own retry decision under the DEFAULT configuration, replayed on a simulated clock: 20
/// pushes fail through a 90 s outage of the store (each failed call takes 200 ms), and every one of them is
/// still waiting to retry when the store is back. Under the old rule (8 attempts, 1 s..300 s backoff) most
/// were dead by then: median ≈ 78 s.
#[test]
fn the_default_retry_budget_outlasts_a_90_second_outage() {
    let config = Config::default();
    let budget = config.jobs.retry_for("woo.push_status");
    assert!(
        budget >= Duration::from_secs(3600),
        "the default budget is hours: {budget:?}"
    );
    let policy = RetryPolicy::for_kind(&config.jobs, "woo.push_status");
    let outage_ms = 90_000;
    let mut rng = fastrand::Rng::with_seed(12);
    let mut worst_attempts = 0;
    for push in 0..20 {
        let mut now = push * 50; // the batch goes out over one second
        let mut first_failed = None;
        let mut attempts = 0;
        while now < outage_ms {
            attempts += 1;
            now += 200;
            let decision = policy.decide(
                attempts,
                first_failed,
                now,
                &JobError::retry("HTTP 503 Service Unavailable"),
                rng.f64(),
            );
            first_failed.get_or_insert(now);
            let Some(next) = decision.retry_at else {
                panic!(
                    "push {push} died after {attempts} attempts at {now} ms of a {outage_ms} ms outage: {}",
                    decision.message
                );
            };
            now = next;
        }
        worst_attempts = worst_attempts.max(attempts);
    }
    assert!(
        worst_attempts >= 8,
        "the outage really outlasted the old 8 attempts: {worst_attempts}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attempt_is_recorded_and_jobs_show_lists_them() {
    let scratch = Scratch::new();
    let mut registry = HandlerRegistry::default();
    let runs = Arc::new(AtomicUsize::new(0));
    let seen = runs.clone();
    registry.register(
        "woo.push_status",
        handler_fn(move |_job, _ctx| {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(Duration::from_millis(30)).await;
                match n {
                    0 => Err(JobError::retry("HTTP 503 Service Unavailable")
                        .after(Duration::from_millis(10))),
                    1 => Err(JobError::retry("operation timed out")),
                    _ => Ok(()),
                }
            }
        }),
    );
    let mut store = scratch.store();
    let id = enqueue(&mut store, "woo.push_status", Some("order:7"));
    let engine = Engine::new(&scratch.db(), fast_config(), registry)
        .spawn()
        .unwrap();
    let job = wait_for_job(&scratch.db(), id, Duration::from_secs(10), |j| {
        j.state == JobState::Done
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Done, 3));
    let detail = jobs::detail(store.conn(), id).unwrap().unwrap();
    let outcomes: Vec<(u32, &str, Option<&str>)> = detail
        .history
        .iter()
        .map(|a| (a.attempt, a.outcome.as_str(), a.message.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (1, "transient", Some("HTTP 503 Service Unavailable")),
            (2, "transient", Some("operation timed out")),
            (3, "done", None)
        ]
    );
    for a in &detail.history {
        assert!(
            a.ended_at - a.started_at >= 30,
            "each attempt's start and end are its own: {a:?}"
        );
    }

    // The operator's view: `syncdesk jobs show ID`.
    let config_file = scratch.dir.path().join("config.toml");
    std::fs::write(&config_file, "").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_syncdesk"))
        .args(["--db", &scratch.db().to_string_lossy()])
        .args(["--config", &config_file.to_string_lossy(), "--user", "ops"])
        .args(["jobs", "show", &id.to_string()])
        .env_remove("SYNCDESK_CONFIG")
        .env_remove("SYNCDESK_DB")
        .env_remove("SYNCDESK_USER")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("job {id} · woo.push_status (order:7) · done")),
        "{text}"
    );
    let attempt_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with('#'))
        .collect();
    assert_eq!(attempt_lines.len(), 3, "{text}");
    assert!(
        attempt_lines[0].contains("transient") && attempt_lines[0].contains("HTTP 503"),
        "{text}"
    );
    assert!(attempt_lines[1].contains("operation timed out"), "{text}");
    assert!(attempt_lines[2].contains("done"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_mail_server_accepted_does_not_send_the_mail_again() {
    let sink = SmtpSink::start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let scratch = Scratch::new();
    let mut config = fast_config();
    config.email.smtp_port = sink.addr().port();
    config.email.from = "syncdesk@shop.test".into();
    config.email.purchasing = vec!["buyer@shop.test".into()];
    let mut app = scratch.app_with("alice", config.clone());
    app.add_order("R-9", None, "manual", &[("BEAN-1KG".into(), 3)])
        .unwrap();
    app.change_status("R-9", "backorder", None, None).unwrap();
    let job = app.jobs(None, 1).unwrap().remove(0);

    // The engine dies the moment the server has the mail: before it can write the job's outcome.
    let first = Engine::new(&scratch.db(), config.clone(), default_handlers(&config))
        .spawn()
        .unwrap();
    let mail = sink.wait_for(1, Duration::from_secs(10)).await;
    first.abort();
    assert_eq!(mail.len(), 1);
    // Another engine takes over once the dead one's leases expire, and runs the job again.
    let second = Engine::new(&scratch.db(), config.clone(), default_handlers(&config))
        .spawn()
        .unwrap();
    let done = wait_for_job(&scratch.db(), job.id, Duration::from_secs(15), |j| {
        j.state == JobState::Done
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    second.shutdown().await.unwrap();
    assert_eq!(done.state, JobState::Done, "{done:?}");
    let mail = sink.messages();
    assert_eq!(mail.len(), 1, "the backorder notice arrived once");
    assert_eq!(
        mail[0].header("Message-ID"),
        Some(format!(
            "<syncdesk.backorder.{}.{}@shop.test>",
            job.id, job.created_at
        )),
        "one stable Message-ID per job"
    );
    let detail = jobs::detail(scratch.store().conn(), job.id)
        .unwrap()
        .unwrap();
    let accepted = detail
        .effects
        .iter()
        .find(|e| e.effect == "email.accepted")
        .expect("the acceptance was recorded");
    assert!(
        accepted.detail.starts_with("<syncdesk.backorder."),
        "{accepted:?}"
    );
    sink.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_error_is_recorded_as_such_and_not_tried_again() {
    let scratch = Scratch::new();
    let runs = Arc::new(Mutex::new(0));
    let mut registry = HandlerRegistry::default();
    let seen = runs.clone();
    registry.register(
        "stock.apply_resolution",
        handler_fn(move |_job, _ctx| {
            *seen.lock().unwrap() += 1;
            async {
                Err(JobError::permanent(
                    "HTTP 403 woocommerce_rest_cannot_edit: Sorry, you are not allowed to edit this resource.",
                ))
            }
        }),
    );
    let mut store = scratch.store();
    let id = enqueue(&mut store, "stock.apply_resolution", Some("stock:A"));
    let engine = Engine::new(&scratch.db(), fast_config(), registry)
        .spawn()
        .unwrap();
    let job = wait_for_job(&scratch.db(), id, Duration::from_secs(10), |j| {
        j.state == JobState::Dead
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    engine.shutdown().await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Dead, 1));
    assert_eq!(*runs.lock().unwrap(), 1);
    let detail = jobs::detail(store.conn(), id).unwrap().unwrap();
    assert_eq!(detail.error_class, Some(ErrorClass::Permanent));
    assert_eq!(detail.history.len(), 1);
    assert_eq!(detail.history[0].outcome, "permanent");
}
