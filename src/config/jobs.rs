//! `[jobs]` and `[engine]`: the job queue's attempts, retry budget, backoff and concurrency, and the
//! engine's lease.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::domain::backoff::Backoff;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// How long a claimed job is reserved; renewed while it runs, re-queued if its process dies.
    pub lease_secs: u64,
    pub backoff_base_ms: u64,
    pub backoff_cap_secs: u64,
    /// A failing job gets at least this many tries, however short its retry budget.
    pub max_attempts: u32,
    pub max_attempts_by_kind: BTreeMap<String, u32>,
    /// How long (seconds) after its first failure a job is still retried when its failures are transient
    /// (outages, throttling, timeouts); then it is dead. Permanent errors and refusals end it at once.
    pub retry_for_secs: u64,
    pub retry_for_secs_by_kind: BTreeMap<String, u64>,
    /// How many jobs of one kind may run at once; kinds not listed use `default_concurrency`.
    pub concurrency: BTreeMap<String, usize>,
    pub default_concurrency: usize,
    /// How often an idle engine looks for due jobs (it is also woken at once by its own process).
    pub poll_ms: u64,
    /// A job running longer than this is stopped and retried.
    pub timeout_secs: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            lease_secs: 30,
            backoff_base_ms: 1000,
            backoff_cap_secs: 300,
            max_attempts: 8,
            max_attempts_by_kind: BTreeMap::from([("email.backorder".into(), 20)]),
            retry_for_secs: DEFAULT_RETRY_FOR_SECS,
            retry_for_secs_by_kind: BTreeMap::new(),
            concurrency: BTreeMap::from([("email.backorder".into(), 2)]),
            default_concurrency: 8,
            poll_ms: 250,
            timeout_secs: 300,
        }
    }
}

/// The default retry budget: six hours of transient failures (store and marketplace outages last minutes to
/// hours; with the 5-minute backoff cap that is some 70 tries).
pub const DEFAULT_RETRY_FOR_SECS: u64 = 6 * 3600;
/// The longest retry budget a kind may have: 30 days.
pub const MAX_RETRY_FOR_SECS: u64 = 30 * 86_400;

impl JobsConfig {
    /// This section's numeric fields with their allowed ranges (part of the one range table).
    pub(crate) fn ranges(&self, t: &mut crate::config::Ranges) {
        use crate::config::units::*;
        t.whole("jobs.lease_secs", self.lease_secs, 1, HOUR, SECS)
            .whole(
                "jobs.backoff_base_ms",
                self.backoff_base_ms,
                1,
                HOUR * 1000,
                MS,
            )
            .whole("jobs.backoff_cap_secs", self.backoff_cap_secs, 1, DAY, SECS)
            .whole("jobs.max_attempts", self.max_attempts, 1, 1000, "tries")
            .whole(
                "jobs.default_concurrency",
                self.default_concurrency,
                1,
                256,
                "jobs at once",
            )
            .whole("jobs.poll_ms", self.poll_ms, 10, MINUTE * 1000, MS)
            .whole("jobs.timeout_secs", self.timeout_secs, 1, DAY, SECS);
        for (kind, n) in &self.max_attempts_by_kind {
            t.whole(
                format!("jobs.max_attempts_by_kind.\"{kind}\""),
                *n,
                1,
                1000,
                "tries",
            );
        }
        t.whole(
            "jobs.retry_for_secs",
            self.retry_for_secs,
            1,
            crate::config::MAX_RETRY_FOR_SECS,
            SECS,
        );
        for (kind, secs) in &self.retry_for_secs_by_kind {
            t.whole(
                format!("jobs.retry_for_secs_by_kind.\"{kind}\""),
                *secs,
                1,
                crate::config::MAX_RETRY_FOR_SECS,
                SECS,
            );
        }
        for (kind, n) in &self.concurrency {
            t.whole(
                format!("jobs.concurrency.\"{kind}\""),
                *n,
                1,
                256,
                "jobs at once",
            );
        }
    }

    /// How long a job of `kind` is retried after its first failure.
    pub fn retry_for(&self, kind: &str) -> Duration {
        Duration::from_secs(
            self.retry_for_secs_by_kind
                .get(kind)
                .copied()
                .unwrap_or(self.retry_for_secs),
        )
    }

    pub fn backoff(&self) -> Backoff {
        Backoff {
            base: Duration::from_millis(self.backoff_base_ms),
            cap: Duration::from_secs(self.backoff_cap_secs),
        }
    }
    pub fn max_attempts_for(&self, kind: impl AsRef<str>) -> u32 {
        self.max_attempts_by_kind
            .get(kind.as_ref())
            .copied()
            .unwrap_or(self.max_attempts)
    }
    pub fn concurrency_for(&self, kind: impl AsRef<str>) -> usize {
        self.concurrency
            .get(kind.as_ref())
            .copied()
            .unwrap_or(self.default_concurrency)
            .max(1)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// One engine per database: it holds a lease it renews every third of this; another takes over after it.
    pub lease_secs: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self { lease_secs: 10 }
    }
}

impl EngineConfig {
    /// This section's numeric fields with their allowed ranges (part of the one range table).
    pub(crate) fn ranges(&self, t: &mut crate::config::Ranges) {
        use crate::config::units::*;
        t.whole("engine.lease_secs", self.lease_secs, 2, HOUR, SECS);
    }
}
