//! Shared set-up: scratch databases, a test config with fast timings, and polling helpers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use syncdesk::app::{Actor, App};
use syncdesk::config::Config;
use syncdesk::store::{Job, Store, jobs};

pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("syncdesk.db")
    }

    pub fn app(&self, user: &str) -> App {
        self.app_with(user, fast_config())
    }

    pub fn app_with(&self, user: &str, config: Config) -> App {
        App::open(&self.db(), config, Actor::operator(user)).expect("open app")
    }

    pub fn store(&self) -> Store {
        Store::open(&self.db(), Duration::from_secs(5)).expect("open store")
    }
}

/// Defaults with timings short enough for tests: 1 s job leases, 2 s engine lease, 50 ms backoff base.
pub fn fast_config() -> Config {
    let mut c = Config::default();
    c.jobs.lease_secs = 1;
    c.jobs.backoff_base_ms = 50;
    c.jobs.backoff_cap_secs = 1;
    c.jobs.poll_ms = 20;
    c.engine.lease_secs = 2;
    c
}

pub fn job(db: &Path, id: i64) -> Job {
    let store = Store::open(db, Duration::from_secs(5)).expect("open store");
    jobs::get(store.conn(), id)
        .expect("read job")
        .expect("job exists")
}

/// Polls until `cond` holds for the job or the timeout passes; returns the last state seen.
pub async fn wait_for_job(
    db: &Path,
    id: i64,
    timeout: Duration,
    cond: impl Fn(&Job) -> bool,
) -> Job {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let j = job(db, id);
        if cond(&j) || tokio::time::Instant::now() >= deadline {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
