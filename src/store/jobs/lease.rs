//! The engine's side of the queue: what is due, claiming it with a lease, renewing leases, and ending an
//! attempt — done, failed, or lost with its process — with its `job_attempts` row in the same statement's
//! transaction.

use rusqlite::{Connection, OptionalExtension, params};

use super::{ErrorClass, JOB_COLUMNS, Job, OUTCOME_DONE, OUTCOME_LOST, job_from};
use crate::domain::time::Millis;
use crate::store::Result;

/// How many jobs of each kind are due now, for the engine's per-kind concurrency decisions.
pub fn due_by_kind(conn: &Connection, now: Millis) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, COUNT(*) FROM jobs WHERE state IN ('queued', 'retrying') AND run_at <= ?1 GROUP BY kind",
    )?;
    let rows = stmt.query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Claims up to `limit` due jobs of one kind for `holder`, oldest first, counting an attempt each (an
/// outcome left by an earlier attempt is cleared: it reports this run or nothing).
pub fn claim(
    conn: &Connection,
    kind: &str,
    limit: usize,
    holder: &str,
    lease_ms: i64,
    now: Millis,
) -> Result<Vec<Job>> {
    let mut stmt = conn.prepare_cached(&format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?3, leased_by = ?4, updated_at = ?5,
             started_at = ?5, outcome = NULL
         WHERE id IN (SELECT id FROM jobs WHERE state IN ('queued', 'retrying') AND run_at <= ?5 AND kind = ?1
                      ORDER BY run_at, id LIMIT ?2)
         RETURNING {JOB_COLUMNS}"
    ))?;
    let rows = stmt.query_map(
        params![kind, limit as i64, now + lease_ms, holder, now],
        job_from,
    )?;
    let mut jobs: Vec<Job> = rows.collect::<rusqlite::Result<_>>()?;
    jobs.sort_by_key(|j| (j.run_at, j.id));
    Ok(jobs)
}

/// Extends the leases of every job `holder` is running (one statement per heartbeat, not one per job).
pub fn renew_leases(conn: &Connection, holder: &str, until: Millis) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE jobs SET lease_until = ?2 WHERE state = 'running' AND leased_by = ?1",
        )?
        .execute(params![holder, until])?)
}

/// Writes the attempt that is ending for a job this holder runs (same transaction as the state change).
fn record_attempt(
    conn: &Connection,
    id: i64,
    holder: &str,
    outcome: &str,
    message: Option<&str>,
    now: Millis,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO job_attempts (job_id, attempt, holder, started_at, ended_at, outcome, message)
         SELECT id, attempts, leased_by, COALESCE(started_at, ?3), ?3, ?4, ?5 FROM jobs
         WHERE id = ?1 AND state = 'running' AND leased_by = ?2",
    )?
    .execute(params![id, holder, now, outcome, message])?;
    Ok(())
}

/// Marks a job this holder ran as done.
pub fn complete(conn: &Connection, id: i64, holder: &str, now: Millis) -> Result<bool> {
    record_attempt(conn, id, holder, OUTCOME_DONE, None, now)?;
    let n = conn
        .prepare_cached(
            "UPDATE jobs SET state = 'done', lease_until = NULL, last_error = NULL, error_class = NULL,
                 updated_at = ?3
             WHERE id = ?1 AND state = 'running' AND leased_by = ?2",
        )?
        .execute(params![id, holder, now])?;
    Ok(n == 1)
}

/// When a job first failed (inherited from the job it superseded), for its retry budget.
pub fn first_failed_at(conn: &Connection, id: i64) -> Result<Option<Millis>> {
    Ok(conn
        .prepare_cached("SELECT first_failed_at FROM jobs WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten())
}

/// Records a failure of class `class`: retry at `retry_at`, or `dead` when there is none. The attempt
/// keeps the handler's own message; `error` is what the job shows (it may say the budget ran out).
#[allow(clippy::too_many_arguments)]
pub fn fail(
    conn: &Connection,
    id: i64,
    holder: &str,
    attempt_message: &str,
    error: &str,
    class: ErrorClass,
    retry_at: Option<Millis>,
    now: Millis,
) -> Result<bool> {
    record_attempt(conn, id, holder, class.as_str(), Some(attempt_message), now)?;
    let (state, run_at) = match retry_at {
        Some(at) => ("retrying", at),
        None => ("dead", now),
    };
    let n = conn
        .prepare_cached(
            "UPDATE jobs SET state = ?3, run_at = ?4, lease_until = NULL, last_error = ?5, error_class = ?6,
                 first_failed_at = COALESCE(first_failed_at, ?7), updated_at = ?7
             WHERE id = ?1 AND state = 'running' AND leased_by = ?2",
        )?
        .execute(params![id, holder, state, run_at, error, class.as_str(), now])?;
    Ok(n == 1)
}

/// A running job whose lease ran out: its process stopped mid-attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Abandoned {
    pub job: Job,
    pub first_failed_at: Option<Millis>,
}

/// Running jobs whose lease ran out before `now` (their process died).
pub fn expired(conn: &Connection, now: Millis) -> Result<Vec<Abandoned>> {
    abandoned_where(conn, "lease_until < ?1", now.into())
}

/// Running jobs held by `holder`, a process known to have died (their leases need not be waited out).
pub fn held_by(conn: &Connection, holder: &str) -> Result<Vec<Abandoned>> {
    abandoned_where(conn, "leased_by = ?1", holder.to_string().into())
}

fn abandoned_where(
    conn: &Connection,
    condition: &str,
    value: rusqlite::types::Value,
) -> Result<Vec<Abandoned>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS}, first_failed_at FROM jobs WHERE state = 'running' AND {condition}"
    ))?;
    let rows = stmt.query_map([value], |r| {
        Ok(Abandoned {
            job: job_from(r)?,
            first_failed_at: r.get("first_failed_at")?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Puts back a job whose process stopped while running it (see [`expired`]): its attempt is recorded as
/// `lost`, and it runs again at `retry_at` or is dead when there is none.
pub fn record_lost(
    conn: &Connection,
    id: i64,
    leased_by: &str,
    error: &str,
    retry_at: Option<Millis>,
    now: Millis,
) -> Result<bool> {
    let message = format!("the process running it stopped mid-attempt — {leased_by}");
    record_attempt(conn, id, leased_by, OUTCOME_LOST, Some(&message), now)?;
    let (state, run_at) = match retry_at {
        Some(at) => ("retrying", at),
        None => ("dead", now),
    };
    let error = if error.is_empty() {
        message.as_str()
    } else {
        error
    };
    let n = conn
        .prepare_cached(
            "UPDATE jobs SET state = ?3, run_at = ?4, lease_until = NULL, last_error = ?5,
                 error_class = 'transient', first_failed_at = COALESCE(first_failed_at, ?6), updated_at = ?6
             WHERE id = ?1 AND state = 'running' AND leased_by = ?2",
        )?
        .execute(params![id, leased_by, state, run_at, error, now])?;
    Ok(n == 1)
}
