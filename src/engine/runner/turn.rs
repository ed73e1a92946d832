//! One turn of the engine's bookkeeping, as one write transaction: record outcomes (each attempt with it),
//! hold the engine lease, renew job leases and put back jobs whose process died, keep the schedules, then
//! claim what is due within the limits. The loop in `mod.rs` decides when; this decides what.

use std::collections::HashMap;
use std::path::Path;

use super::{Loop, Outcome, hostname};
use crate::config::Config;
use crate::domain::alerts;
use crate::domain::time::{Millis, now_ms};
use crate::engine::JobError;
use crate::engine::retry::RetryPolicy;
use crate::store::{Job, StoreError, StoreOutage, Unavailable, engine_lease, jobs};

/// What one bookkeeping transaction decided.
pub(super) struct Turn {
    pub holds_lease: Option<bool>,
    pub claimed: Vec<Job>,
    pub next_run_at: Option<Millis>,
}

/// A turn the store refused: why, and the outage it is part of.
pub(super) struct Refused {
    pub error: StoreError,
    pub outage: StoreOutage,
}

impl Loop {
    /// One write transaction: outcomes (with their attempts), lease upkeep, jobs whose process died,
    /// claims. A refusal by the store comes back with the outage it is part of.
    pub(super) async fn bookkeeping(
        &self,
        outcomes: Vec<Outcome>,
        heartbeat_due: bool,
        engine_ttl_ms: i64,
        job_lease_ms: i64,
        capacity: HashMap<String, usize>,
        budget: usize,
    ) -> Result<Turn, Refused> {
        let holder = self.holder.clone();
        let config = self.ctx.config.clone();
        let store = self.ctx.store.clone();
        let schedules = self.schedules.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let mut store = store.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let result = store.write(|tx| {
                let now = now_ms();
                for (job, result) in &outcomes {
                    let recorded = match result {
                        Ok(()) => jobs::complete(tx, job.id, &holder, now)?,
                        Err(e) => {
                            let policy = RetryPolicy::for_kind(&config.jobs, &job.kind);
                            let first_failed = jobs::first_failed_at(tx, job.id)?;
                            let decision = policy.decide(job.attempts, first_failed, now, e, fastrand::f64());
                            tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, class = e.class.as_str(), error = %e.message, "job failed");
                            let recorded = jobs::fail(tx, job.id, &holder, &e.message, &decision.message, e.class, decision.retry_at, now)?;
                            if recorded && decision.retry_at.is_none() {
                                gave_up(tx, &config, job, &decision.message, now)?;
                            }
                            recorded
                        }
                    };
                    if !recorded {
                        tracing::warn!(job = job.id, "job finished after its lease was lost; another run owns it now");
                    }
                }
                let mut holds_lease = None;
                if heartbeat_due {
                    take_over_from_a_dead_holder(tx, &config, &holder, now)?;
                    let held = engine_lease::acquire(tx, &holder, engine_ttl_ms, now)?;
                    if held {
                        jobs::renew_leases(tx, &holder, now + job_lease_ms)?;
                        put_back_abandoned(tx, &config, jobs::expired(tx, now)?, now)?;
                    }
                    holds_lease = Some(held);
                }
                if heartbeat_due && holds_lease == Some(true) {
                    for s in &schedules {
                        jobs::ensure_scheduled(tx, &s.kind, s.every.as_millis() as i64, config.jobs.max_attempts_for(&s.kind), now)?;
                    }
                }
                let mut claimed = Vec::new();
                if holds_lease != Some(false) && !capacity.is_empty() && budget > 0 {
                    let mut left = budget;
                    for (kind, due) in jobs::due_by_kind(tx, now)? {
                        let Some(free) = capacity.get(&kind) else { continue };
                        let take = (*free).min(due as usize).min(left);
                        if take == 0 {
                            continue;
                        }
                        let got = jobs::claim(tx, &kind, take, &holder, job_lease_ms, now)?;
                        left -= got.len();
                        claimed.extend(got);
                    }
                }
                let next_run_at = jobs::next_run_at(tx)?;
                Ok(Turn { holds_lease, claimed, next_run_at })
            });
            result.map_err(|error: StoreError| {
                let outage = match store.note_error(&error) {
                    Some(o) => o.clone(),
                    // Not a condition SQLite names as passing; still waited out (and shown as it is).
                    None => StoreOutage {
                        since: store.outage().map_or(now_ms(), |o| o.since),
                        condition: Unavailable::Failing,
                        detail: error.to_string(),
                        last_try: now_ms(),
                    },
                };
                Refused { error, outage }
            })
        })
        .await;
        joined.unwrap_or_else(|e| {
            let error = StoreError::Corrupt(format!("engine bookkeeping task failed: {e}"));
            let now = now_ms();
            Err(Refused {
                outage: StoreOutage {
                    since: now,
                    condition: Unavailable::Failing,
                    detail: error.to_string(),
                    last_try: now,
                },
                error,
            })
        })
    }
}

/// An engine on this machine that was killed (`kill -9`, a crash) leaves its lease to run out; when its
/// process is gone, the lease and its running jobs are released at once instead, so a restarted `serve`
/// carries on without waiting. (Holders on other machines, or whose process cannot be looked up, are waited
/// out as before.)
fn take_over_from_a_dead_holder(
    tx: &rusqlite::Transaction<'_>,
    config: &Config,
    holder: &str,
    now: Millis,
) -> Result<(), StoreError> {
    let Some(lease) = engine_lease::current(tx)? else {
        return Ok(());
    };
    if lease.holder == holder || lease.expires_at < now || !process_gone(&lease.holder) {
        return Ok(());
    }
    tracing::warn!(dead = %lease.holder, "the engine holding the lease has stopped; taking over now");
    put_back_abandoned(tx, config, jobs::held_by(tx, &lease.holder)?, now)?;
    engine_lease::release(tx, &lease.holder)
}

/// True when `holder` (`host:pid:tag`) names a process on this machine that no longer runs.
fn process_gone(holder: &str) -> bool {
    let mut parts = holder.rsplitn(3, ':');
    let (_tag, pid, host) = (parts.next(), parts.next(), parts.next());
    let (Some(pid), Some(host)) = (pid.and_then(|p| p.parse::<u32>().ok()), host) else {
        return false;
    };
    if host != hostname() || pid == std::process::id() {
        return false;
    }
    let proc_root = Path::new("/proc");
    if !proc_root.join("self").exists() {
        return false; // no way to look processes up here: wait for the lease to run out
    }
    match std::fs::read_to_string(proc_root.join(pid.to_string()).join("stat")) {
        // A zombie has stopped running; only its parent has not looked yet.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

/// Jobs whose process stopped while running them (lease expired, or their process is gone): the lost
/// attempt is recorded and the job runs again now, unless its retry budget is spent.
fn put_back_abandoned(
    tx: &rusqlite::Transaction<'_>,
    config: &Config,
    abandoned: Vec<jobs::Abandoned>,
    now: Millis,
) -> Result<(), StoreError> {
    if !abandoned.is_empty() {
        tracing::warn!(
            count = abandoned.len(),
            "re-queued jobs whose lease expired"
        );
    }
    for a in abandoned {
        let holder = a.job.leased_by.clone().unwrap_or_else(|| "?".into());
        let lost = JobError::retry(format!(
            "the process running it stopped mid-attempt — {holder}"
        ));
        let decision = RetryPolicy::for_kind(&config.jobs, &a.job.kind).decide(
            a.job.attempts,
            a.first_failed_at,
            now,
            &lost,
            0.0,
        );
        let retry_at = decision.retry_at.map(|_| now);
        if jobs::record_lost(tx, a.job.id, &holder, &decision.message, retry_at, now)?
            && retry_at.is_none()
        {
            gave_up(tx, config, &a.job, &decision.message, now)?;
        }
    }
    Ok(())
}

/// A job that ended dead is a sync failure someone must hear about (but not an alert mail about failing
/// alert mail).
fn gave_up(
    tx: &rusqlite::Transaction<'_>,
    config: &Config,
    job: &Job,
    message: &str,
    now: Millis,
) -> Result<(), StoreError> {
    if job.kind.starts_with("alerts.") {
        return Ok(());
    }
    let system = job.kind.split('.').next().unwrap_or("engine");
    let what = job.key.clone().unwrap_or_else(|| job.kind.clone());
    let alert = alerts::sync_failure(system, &what, message);
    crate::app::raise_and_notify(tx, config, &alert, now).map(|_| ())
}
