//! Alerts end to end: raised in the store, e-mailed by the real engine over real SMTP to a sink on loopback
//! (urgent ones at once, the rest in one digest), each exactly once; and listed/acknowledged from the CLI.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use syncdesk::app::{ALERTS_EMAIL_IMMEDIATE, Actor, App};
use syncdesk::config::Config;
use syncdesk::domain::alerts::{self, Thresholds};
use syncdesk::engine::{Engine, default_handlers, default_schedules};
use syncdesk::store::alerts::Alert;
use syncdesk::store::{JobState, Store, jobs};
use syncdesk_sim::smtp::SmtpSink;

// ---------------------------------------------------------------------------------------------------------
// Helpers

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("syncdesk.db")
    }

    fn app(&self, config: &Config) -> App {
        App::open(&self.db(), config.clone(), Actor::operator("alice")).expect("open app")
    }
}

/// Defaults with test timings, mailing alerts to ops@shop.test through the SMTP server on `port`.
fn config_for(port: u16) -> Config {
    let mut c = Config::default();
    c.jobs.lease_secs = 1;
    c.jobs.backoff_base_ms = 50;
    c.jobs.backoff_cap_secs = 1;
    c.jobs.poll_ms = 20;
    c.engine.lease_secs = 2;
    c.email.smtp_port = port;
    c.email.timeout_secs = 2;
    c.alerts.recipients = vec!["ops@shop.test".into()];
    c
}

async fn start_sink() -> SmtpSink {
    SmtpSink::start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("smtp sink")
}

fn alert(app: &mut App, id: i64) -> Alert {
    app.alerts(true, 1000)
        .expect("list")
        .into_iter()
        .find(|a| a.id == id)
        .expect("alert exists")
}

fn negative_stock(sku: &str) -> alerts::NewAlert {
    alerts::stock_alerts(sku, Some(-2), Some(0), None, None, &Thresholds::default()).remove(0)
}

fn immediate_jobs(db: &Path) -> Vec<syncdesk::store::Job> {
    let store = Store::open(db, Duration::from_secs(5)).expect("store");
    jobs::list(store.conn(), None, 1000)
        .expect("jobs")
        .into_iter()
        .filter(|j| j.kind == ALERTS_EMAIL_IMMEDIATE)
        .collect()
}

async fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

// ---------------------------------------------------------------------------------------------------------
// E-mail through the engine

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_high_alert_is_mailed_at_once_and_once_until_acknowledged() {
    let sink = start_sink().await;
    let scratch = Scratch::new();
    let config = config_for(sink.addr().port());
    let mut app = scratch.app(&config);
    // No schedules: the mail must come from the job `raise_and_notify` enqueued, not from a sweep.
    let engine = Engine::new(&scratch.db(), config.clone(), default_handlers(&config))
        .spawn()
        .unwrap();

    let first = app.raise_alert(&negative_stock("BEAN-1KG")).unwrap();
    let first = first.expect("a new alert");
    let mail = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, ["ops@shop.test"]);
    assert_eq!(
        mail[0].header("Subject").as_deref(),
        Some("[high] Negative stock: BEAN-1KG")
    );
    assert!(mail[0].body().contains("POS -2"), "{}", mail[0].body());
    assert!(
        wait_until(Duration::from_secs(5), || alert(&mut app, first)
            .emailed_at
            .is_some())
        .await
    );

    // Still open: raising the same condition again is a no-op (no new alert, no new job, no new mail).
    assert_eq!(app.raise_alert(&negative_stock("BEAN-1KG")).unwrap(), None);
    assert_eq!(immediate_jobs(&scratch.db()).len(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), 1, "mailed exactly once while open");

    // Acknowledged: the next occurrence is a new alert with its own mail.
    app.acknowledge_alert(first).unwrap();
    let second = app
        .raise_alert(&negative_stock("BEAN-1KG"))
        .unwrap()
        .expect("a new alert after the acknowledgement");
    assert_ne!(first, second);
    let mail = sink.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(mail.len(), 2);
    assert!(mail[1].body().contains(&format!("#{second} ")));
    tokio::time::sleep(Duration::from_millis(500)).await;
    engine.shutdown().await.unwrap();
    assert_eq!(sink.messages().len(), 2);
    assert!(
        immediate_jobs(&scratch.db())
            .iter()
            .all(|j| j.state == JobState::Done)
    );
    sink.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn medium_and_low_alerts_go_out_in_one_digest_once() {
    let sink = start_sink().await;
    let scratch = Scratch::new();
    let mut config = config_for(sink.addr().port());
    config.alerts.digest_every_secs = 1;
    let mut app = scratch.app(&config);
    let t = Thresholds::default();
    // A discrepancy and a price difference (medium) and a SKU the store lacks (low).
    for a in alerts::stock_alerts("CUP", Some(30), Some(5), Some(10.0), Some(6.0), &t)
        .into_iter()
        .chain(alerts::stock_alerts("MUG", Some(3), None, None, None, &t))
    {
        assert!(app.raise_alert(&a).unwrap().is_some());
    }
    assert!(
        immediate_jobs(&scratch.db()).is_empty(),
        "nothing urgent was raised"
    );

    let engine = Engine::new(&scratch.db(), config.clone(), default_handlers(&config))
        .with_schedules(default_schedules(&config))
        .spawn()
        .unwrap();
    let mail = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(
        mail[0].header("Subject").as_deref(),
        Some("syncdesk alert digest: 3 alerts (2 medium, 1 low)")
    );
    let body = mail[0].body();
    for needle in [
        "Stock discrepancy: CUP",
        "Price difference: CUP",
        "Missing alignment: MUG",
    ] {
        assert!(body.contains(needle), "{needle} in {body}");
    }
    // The digest runs again every second, but has nothing new to say.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(sink.messages().len(), 1, "each alert is in one digest only");
    assert!(
        app.alerts(false, 100)
            .unwrap()
            .iter()
            .all(|a| a.emailed_at.is_some())
    );

    // A later alert goes into the next digest, alone.
    let later = alerts::missing_alignment("LID", "the POS");
    app.raise_alert(&later).unwrap().unwrap();
    let mail = sink.wait_for(2, Duration::from_secs(10)).await;
    engine.shutdown().await.unwrap();
    assert_eq!(mail.len(), 2);
    assert_eq!(
        mail[1].header("Subject").as_deref(),
        Some("syncdesk alert digest: 1 alerts (1 low)")
    );
    assert!(mail[1].body().contains("Missing alignment: LID"));
    assert!(!mail[1].body().contains("CUP"));
    sink.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_mail_server_down_the_alert_waits_and_arrives_once_it_is_back() {
    // Reserve a port, then free it: nothing listens there until the sink starts.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let scratch = Scratch::new();
    let mut config = config_for(port);
    config.jobs.backoff_base_ms = 100;
    let mut app = scratch.app(&config);
    let id = app
        .raise_alert(&alerts::sync_failure(
            "woocommerce",
            "order:R-7",
            "HTTP 500",
        ))
        .unwrap()
        .unwrap();
    let engine = Engine::new(&scratch.db(), config.clone(), default_handlers(&config))
        .spawn()
        .unwrap();

    // Sampled between attempts: attempt 2 may still be running when the count first reads 2.
    assert!(
        wait_until(Duration::from_secs(15), || {
            let job = &immediate_jobs(&scratch.db())[0];
            job.attempts >= 2 && job.state == JobState::Retrying
        })
        .await
    );
    let job = immediate_jobs(&scratch.db()).remove(0);
    assert_eq!(job.state, JobState::Retrying, "still trying: {job:?}");
    assert!(
        job.last_error
            .as_deref()
            .unwrap_or("")
            .contains("mail server unavailable"),
        "{job:?}"
    );
    assert_eq!(alert(&mut app, id).emailed_at, None, "not marked as mailed");

    let sink = SmtpSink::start(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .unwrap();
    let mail = sink.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(
        mail[0].header("Subject").as_deref(),
        Some("[high] Sync failure: woocommerce order:R-7")
    );
    assert!(
        wait_until(Duration::from_secs(5), || immediate_jobs(&scratch.db())[0]
            .state
            == JobState::Done)
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    engine.shutdown().await.unwrap();
    assert_eq!(sink.messages().len(), 1, "delivered exactly once");
    assert!(alert(&mut app, id).emailed_at.is_some());
    sink.shutdown().await;
}

// ---------------------------------------------------------------------------------------------------------
// CLI

/// Runs the binary on `dir`'s database and config with a clean environment; returns (code, stdout, stderr).
fn syncdesk(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = crate::cli_support::clean_command(dir)
        .arg("--db")
        .arg(dir.join("x.db"))
        .arg("--config")
        .arg(dir.join("config.toml"))
        .arg("--user")
        .arg("bob")
        .args(args)
        .output()
        .expect("run syncdesk");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

#[test]
fn alerts_list_and_ack_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), syncdesk::config::TEMPLATE).unwrap();
    let (high, low) = {
        let mut app = App::open(
            &dir.path().join("x.db"),
            Config::default(),
            Actor::operator("engine"),
        )
        .unwrap();
        let high = app.raise_alert(&negative_stock("BEAN")).unwrap().unwrap();
        let low = app
            .raise_alert(&alerts::missing_alignment("MUG", "the store"))
            .unwrap()
            .unwrap();
        (high, low)
    };

    let (code, out, err) = syncdesk(dir.path(), &["alerts", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("ID"), "{out}");
    assert!(out.contains("Negative stock: BEAN") && out.contains("Missing alignment: MUG"));

    let (code, out, err) = syncdesk(dir.path(), &["alerts", "ack", &high.to_string()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("alert {high}")), "{out}");

    let (code, _, err) = syncdesk(dir.path(), &["alerts", "ack", &high.to_string()]);
    assert_eq!(code, 2, "already acknowledged");
    assert!(err.contains("already acknowledged by bob"), "{err}");
    let (code, _, err) = syncdesk(dir.path(), &["alerts", "ack", "999"]);
    assert_eq!(code, 2, "unknown id");
    assert!(err.contains("no alert 999"), "{err}");

    let (code, out, _) = syncdesk(dir.path(), &["alerts", "list", "--json"]);
    assert_eq!(code, 0);
    let open: Value = serde_json::from_str(&out).unwrap();
    let open = open.as_array().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["id"], low);
    assert_eq!(open[0]["severity"], "low");
    assert_eq!(open[0]["kind"], "missing_alignment");

    let (code, out, _) = syncdesk(dir.path(), &["alerts", "list", "--all", "--json"]);
    assert_eq!(code, 0);
    let all: Value = serde_json::from_str(&out).unwrap();
    let acked = all
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == high)
        .unwrap();
    assert_eq!(acked["acknowledged_by"], "bob");
    assert!(acked["acknowledged_at"].is_i64());
}

// ---------------------------------------------------------------------------------------------------------
// Store

#[test]
fn the_store_raises_once_per_open_key_and_picks_what_is_due_by_severity() {
    use syncdesk::domain::alerts::Severity;
    use syncdesk::store::alerts as rows;

    let scratch = Scratch::new();
    let mut store = Store::open(&scratch.db(), Duration::from_secs(5)).unwrap();
    let (high, medium, low) = store
        .write(|tx| -> syncdesk::store::Result<_> {
            let high = rows::raise(tx, &negative_stock("A"), 1)?.unwrap();
            assert_eq!(rows::raise(tx, &negative_stock("A"), 2)?, None);
            let medium = rows::raise(tx, &alerts::backorder("R-1"), 3)?.unwrap();
            let low = rows::raise(tx, &alerts::missing_alignment("B", "the POS"), 4)?.unwrap();
            Ok((high, medium, low))
        })
        .unwrap();
    let conn = store.conn();
    let ids = |list: Vec<Alert>| list.iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(
        ids(rows::due_for_email(conn, &[Severity::High]).unwrap()),
        [high]
    );
    assert_eq!(
        ids(rows::due_for_email(conn, &[Severity::Low, Severity::Medium]).unwrap()),
        [medium, low]
    );
    // Acknowledged before its mail went out: someone has seen it, so it is not mailed.
    assert!(rows::acknowledge(conn, low, "carol", 5).unwrap());
    assert!(!rows::acknowledge(conn, low, "carol", 6).unwrap());
    assert!(!rows::acknowledge(conn, 999, "carol", 6).unwrap());
    assert_eq!(
        ids(rows::due_for_email(conn, &Severity::ALL).unwrap()),
        [high, medium]
    );
    assert_eq!(rows::mark_emailed(conn, &[high, medium], 7).unwrap(), 2);
    assert_eq!(rows::mark_emailed(conn, &[high], 8).unwrap(), 0, "once");
    assert!(
        rows::due_for_email(conn, &Severity::ALL)
            .unwrap()
            .is_empty()
    );
    assert_eq!(ids(rows::list(conn, false, 10).unwrap()), [medium, high]);
    assert_eq!(
        ids(rows::list(conn, true, 10).unwrap()),
        [low, medium, high]
    );
    let acked = rows::get(conn, low).unwrap().unwrap();
    assert_eq!(
        (acked.acknowledged_at, acked.acknowledged_by.as_deref()),
        (Some(5), Some("carol"))
    );
}
