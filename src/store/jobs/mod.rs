//! The durable job queue's rows. The engine decides *when* and *what next*; this module only moves rows
//! between states atomically: queued/retrying → running (claim, with a lease) → done | retrying | dead.
//! A running job whose lease runs out (its process died) goes back to retrying: jobs run at least once.
//! Every attempt that ends — done, failed, or lost with its process — leaves a row in `job_attempts` in the
//! same transaction that moves the job, so a job's history is exactly what happened to it.
//!
//! Here: the rows, enqueueing, listing and the operator's moves (requeue, cancel, run now); `lease` is the
//! engine's claim-and-end cycle, `history` the attempts and effects a job leaves behind.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

mod history;
mod lease;

pub use history::{Attempt, Effect, JobDetail, detail, effect, history, record_effect};
pub use lease::{
    Abandoned, claim, complete, due_by_kind, expired, fail, first_failed_at, held_by, record_lost,
    renew_leases,
};

use super::{Result, StoreError};
use crate::domain::time::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Retrying,
    Done,
    Dead,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 6] = [
        JobState::Queued,
        JobState::Running,
        JobState::Retrying,
        JobState::Done,
        JobState::Dead,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Retrying => "retrying",
            JobState::Done => "done",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// Why a job failed, which decides whether it is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Down, throttled, timed out, lost answer: tried again within the kind's retry budget.
    Transient,
    /// Will fail the same way every time (bad request, no permission, bad config): dead at once.
    Permanent,
    /// The other system answered and said no by one of its rules (a marketplace refusing a status change):
    /// dead at once, with the refusal as the error.
    Refused,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::Permanent => "permanent",
            ErrorClass::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<ErrorClass> {
        [
            ErrorClass::Transient,
            ErrorClass::Permanent,
            ErrorClass::Refused,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// How one attempt ended: `done`, a failure of some [`ErrorClass`], or `lost` (its process stopped).
pub const OUTCOME_DONE: &str = "done";
pub const OUTCOME_LOST: &str = "lost";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub key: Option<String>,
    pub payload: String,
    pub state: JobState,
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_at: Millis,
    pub lease_until: Option<Millis>,
    pub leased_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// What the job reported when it finished (a pass: its counts, as `sync run` prints them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

const JOB_COLUMNS: &str = "id, kind, key, payload, state, attempts, max_attempts, run_at, lease_until, leased_by, last_error, created_at, updated_at, outcome";

fn job_from(r: &Row<'_>) -> rusqlite::Result<Job> {
    let state: String = r.get(4)?;
    Ok(Job {
        id: r.get(0)?,
        kind: r.get(1)?,
        key: r.get(2)?,
        payload: r.get(3)?,
        state: JobState::parse(&state).unwrap_or(JobState::Dead),
        attempts: r.get(5)?,
        max_attempts: r.get(6)?,
        run_at: r.get(7)?,
        lease_until: r.get(8)?,
        leased_by: r.get(9)?,
        last_error: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
        outcome: r.get(13)?,
    })
}

#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    /// Jobs with the same kind and key replace each other while still waiting (e.g. "stock of SKU X").
    pub key: Option<String>,
    pub payload: String,
    pub run_at: Millis,
    pub max_attempts: u32,
}

/// Adds a job; a still-waiting job of the same kind and key is cancelled in its favour. When the one it
/// replaces has been failing, the new job carries on its failure — its attempts, its first failure and its
/// last error — so a job that keeps failing reaches the end of its retry budget however often it is
/// replaced. (It runs when asked: a newer request may be what fixes it.)
pub fn enqueue(conn: &Connection, job: &NewJob, now: Millis) -> Result<i64> {
    type Failing = (i64, u32, Option<Millis>, Option<String>, Option<String>);
    let failing: Option<Failing> = match &job.key {
        Some(key) => conn
            .prepare_cached(
                "SELECT id, attempts, first_failed_at, last_error, error_class FROM jobs
                 WHERE kind = ?1 AND key = ?2 AND state IN ('queued', 'retrying')
                   AND first_failed_at IS NOT NULL
                 ORDER BY first_failed_at, id LIMIT 1",
            )?
            .query_row(params![job.kind, key], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?,
        None => None,
    };
    let id = match &failing {
        Some((old, attempts, first_failed, last_error, class)) => {
            conn.prepare_cached(
                "INSERT INTO jobs (kind, key, payload, state, attempts, max_attempts, run_at, last_error,
                                   first_failed_at, error_class, supersedes, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
            )?
            .execute(params![
                job.kind,
                job.key,
                job.payload,
                attempts,
                job.max_attempts,
                job.run_at,
                last_error,
                first_failed,
                class,
                old,
                now
            ])?;
            conn.last_insert_rowid()
        }
        None => {
            conn.prepare_cached(
                "INSERT INTO jobs (kind, key, payload, state, attempts, max_attempts, run_at, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'queued', 0, ?4, ?5, ?6, ?6)",
            )?
            .execute(params![job.kind, job.key, job.payload, job.max_attempts, job.run_at, now])?;
            conn.last_insert_rowid()
        }
    };
    if job.key.is_some() {
        conn.prepare_cached(
            "UPDATE jobs SET state = 'cancelled', last_error = 'superseded by job ' || ?1, updated_at = ?4
             WHERE kind = ?2 AND key = ?3 AND state IN ('queued', 'retrying') AND id <> ?1",
        )?
        .execute(params![id, job.kind, job.key, now])?;
    }
    Ok(id)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Job>> {
    Ok(conn
        .query_row(
            &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
            [id],
            job_from,
        )
        .optional()?)
}

/// Jobs, newest first, optionally in one state.
pub fn list(conn: &Connection, state: Option<JobState>, limit: i64) -> Result<Vec<Job>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![state.map(JobState::as_str), limit], job_from)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn count_by_state(conn: &Connection) -> Result<Vec<(JobState, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT state, COUNT(*) FROM jobs GROUP BY state")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (state, n) = row?;
        let state = JobState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("job state '{state}'")))?;
        out.push((state, n));
    }
    Ok(out)
}

/// Sends a job back to the queue to run now with a fresh attempt and time budget (keeping its last error and
/// its history for reference).
pub fn requeue(conn: &Connection, id: i64, now: Millis) -> Result<()> {
    conn.prepare_cached(
        "UPDATE jobs SET state = 'queued', attempts = 0, first_failed_at = NULL, run_at = ?2, lease_until = NULL,
             leased_by = NULL, updated_at = ?2
         WHERE id = ?1",
    )?
    .execute(params![id, now])?;
    Ok(())
}

/// Re-queues every dead job; returns how many.
pub fn requeue_dead(conn: &Connection, now: Millis) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE jobs SET state = 'queued', attempts = 0, first_failed_at = NULL, run_at = ?1, lease_until = NULL,
                 leased_by = NULL, updated_at = ?1
             WHERE state = 'dead'",
        )?
        .execute([now])?)
}

pub fn cancel(conn: &Connection, id: i64, reason: &str, now: Millis) -> Result<()> {
    conn.prepare_cached(
        "UPDATE jobs SET state = 'cancelled', lease_until = NULL, last_error = ?2, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, reason, now])?;
    Ok(())
}

/// The earliest time a waiting job becomes due, so an idle engine can sleep exactly that long.
pub fn next_run_at(conn: &Connection) -> Result<Option<Millis>> {
    Ok(conn.query_row(
        "SELECT MIN(run_at) FROM jobs WHERE state IN ('queued', 'retrying')",
        [],
        |r| r.get(0),
    )?)
}

/// Records what a running job did, for whoever follows it (the console's toast, the job's detail).
pub fn set_outcome(conn: &Connection, id: i64, outcome: &str) -> Result<()> {
    conn.prepare_cached("UPDATE jobs SET outcome = ?2 WHERE id = ?1")?
        .execute(params![id, outcome])?;
    Ok(())
}

/// What a job reported when it finished, if it did.
pub fn outcome(conn: &Connection, id: i64) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT outcome FROM jobs WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten())
}

/// Keeps one job of a recurring kind waiting: if none is queued, retrying or running, enqueues one due
/// `every_ms` after the last one finished (now, if none ever ran).
pub fn ensure_scheduled(
    conn: &Connection,
    kind: &str,
    every_ms: i64,
    max_attempts: u32,
    now: Millis,
) -> Result<Option<i64>> {
    let pending: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM jobs WHERE kind = ?1 AND state IN ('queued', 'retrying', 'running'))")?
        .query_row([kind], |r| r.get(0))?;
    if pending {
        return Ok(None);
    }
    let last: Option<Millis> = conn
        .prepare_cached(
            "SELECT MAX(updated_at) FROM jobs WHERE kind = ?1 AND state IN ('done', 'dead')",
        )?
        .query_row([kind], |r| r.get(0))?;
    let run_at = last.map_or(now, |l| (l + every_ms).max(now));
    let job = NewJob {
        kind: kind.into(),
        key: None,
        payload: "{}".into(),
        run_at,
        max_attempts,
    };
    enqueue(conn, &job, now).map(Some)
}

/// Keys of the jobs of one kind still waiting or running.
pub fn pending_keys(conn: &Connection, kind: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key FROM jobs WHERE kind = ?1 AND key IS NOT NULL AND state IN ('queued', 'retrying', 'running')",
    )?;
    let rows = stmt.query_map([kind], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Dead jobs of one kind and key (e.g. the failed pushes of one order), oldest first.
pub fn dead_with_key(conn: &Connection, kind: &str, key: &str) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM jobs WHERE kind = ?1 AND key = ?2 AND state = 'dead' ORDER BY id",
    )?;
    let rows = stmt.query_map([kind, key], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What [`run_now`] did to get a job of a kind running soon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunNow {
    /// One was already running; nothing changed.
    AlreadyRunning,
    /// A waiting one (usually the schedule's next run) was made due now.
    MovedUp,
    /// None was waiting: a new one was enqueued, due now.
    Enqueued,
}

/// Makes a job of `kind` due now without queueing a duplicate: returns the running one, or moves the
/// earliest waiting one up to `now`, or enqueues a new one.
pub fn run_now(
    conn: &Connection,
    kind: &str,
    max_attempts: u32,
    now: Millis,
) -> Result<(i64, RunNow)> {
    let running: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM jobs WHERE kind = ?1 AND state = 'running' ORDER BY id LIMIT 1",
        )?
        .query_row([kind], |r| r.get(0))
        .optional()?;
    if let Some(id) = running {
        return Ok((id, RunNow::AlreadyRunning));
    }
    let waiting: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM jobs WHERE kind = ?1 AND state IN ('queued', 'retrying') ORDER BY run_at, id LIMIT 1",
        )?
        .query_row([kind], |r| r.get(0))
        .optional()?;
    if let Some(id) = waiting {
        conn.prepare_cached(
            "UPDATE jobs SET run_at = MIN(run_at, ?2), updated_at = ?2 WHERE id = ?1",
        )?
        .execute(params![id, now])?;
        return Ok((id, RunNow::MovedUp));
    }
    let job = NewJob {
        kind: kind.into(),
        key: None,
        payload: "{}".into(),
        run_at: now,
        max_attempts,
    };
    Ok((enqueue(conn, &job, now)?, RunNow::Enqueued))
}
