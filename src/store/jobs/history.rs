//! What a job did: its attempts (including those of the failing jobs it superseded) and the effects outside
//! syncdesk it recorded, as `jobs show` and the handlers that must not repeat an effect read them.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{ErrorClass, Job, get};
use crate::domain::time::Millis;
use crate::store::Result;

/// One run of a job, as recorded when it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    pub job_id: i64,
    /// 1-based, counting the attempts a superseded job had made before.
    pub attempt: u32,
    /// The engine that ran it (`host:pid:tag`).
    pub holder: Option<String>,
    pub started_at: Millis,
    pub ended_at: Millis,
    /// `done`, `transient`, `permanent`, `refused` or `lost`.
    pub outcome: String,
    pub message: Option<String>,
}

/// An effect outside syncdesk a job recorded the moment it happened (e.g. `email.accepted`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Effect {
    pub effect: String,
    pub detail: String,
    pub recorded_at: Millis,
}

/// A job with its failure bookkeeping, its attempt history and its recorded effects (`jobs show`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobDetail {
    #[serde(flatten)]
    pub job: Job,
    pub first_failed_at: Option<Millis>,
    pub error_class: Option<ErrorClass>,
    /// The failing job this one replaced (its attempts are part of this one's history).
    pub supersedes: Option<i64>,
    /// Oldest first, including the superseded jobs' attempts.
    pub history: Vec<Attempt>,
    pub effects: Vec<Effect>,
}

/// Records an effect outside syncdesk the job just caused (once: a second record of it changes nothing).
pub fn record_effect(
    conn: &Connection,
    job_id: i64,
    effect: &str,
    detail: &str,
    now: Millis,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO job_effects (job_id, effect, detail, recorded_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![job_id, effect, detail, now])?;
    Ok(())
}

/// The recorded effect `effect` of a job, if it happened.
pub fn effect(conn: &Connection, job_id: i64, effect: &str) -> Result<Option<Effect>> {
    Ok(conn
        .prepare_cached(
            "SELECT effect, detail, recorded_at FROM job_effects WHERE job_id = ?1 AND effect = ?2",
        )?
        .query_row(params![job_id, effect], |r| {
            Ok(Effect {
                effect: r.get(0)?,
                detail: r.get(1)?,
                recorded_at: r.get(2)?,
            })
        })
        .optional()?)
}

/// Every attempt of a job, oldest first, including those of the failing jobs it superseded.
pub fn history(conn: &Connection, id: i64) -> Result<Vec<Attempt>> {
    let mut chain = vec![id];
    let mut at = id;
    // Follow `supersedes` back (bounded: a chain is as long as the replacements of one failing job).
    while chain.len() < 1000 {
        let before: Option<i64> = conn
            .prepare_cached("SELECT supersedes FROM jobs WHERE id = ?1")?
            .query_row([at], |r| r.get(0))
            .optional()?
            .flatten();
        match before {
            Some(b) if !chain.contains(&b) => {
                chain.push(b);
                at = b;
            }
            _ => break,
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT job_id, attempt, holder, started_at, ended_at, outcome, message FROM job_attempts
         WHERE job_id = ?1 ORDER BY id",
    )?;
    let mut out = Vec::new();
    for job_id in chain.into_iter().rev() {
        let rows = stmt.query_map([job_id], |r| {
            Ok(Attempt {
                job_id: r.get(0)?,
                attempt: r.get(1)?,
                holder: r.get(2)?,
                started_at: r.get(3)?,
                ended_at: r.get(4)?,
                outcome: r.get(5)?,
                message: r.get(6)?,
            })
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

/// One job with its failure bookkeeping, attempt history and effects.
pub fn detail(conn: &Connection, id: i64) -> Result<Option<JobDetail>> {
    let Some(job) = get(conn, id)? else {
        return Ok(None);
    };
    let (first_failed_at, error_class, supersedes): (Option<Millis>, Option<String>, Option<i64>) =
        conn.prepare_cached(
            "SELECT first_failed_at, error_class, supersedes FROM jobs WHERE id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let mut stmt = conn.prepare_cached(
        "SELECT effect, detail, recorded_at FROM job_effects WHERE job_id = ?1 ORDER BY recorded_at",
    )?;
    let effects = stmt
        .query_map([id], |r| {
            Ok(Effect {
                effect: r.get(0)?,
                detail: r.get(1)?,
                recorded_at: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(JobDetail {
        history: history(conn, id)?,
        job,
        first_failed_at,
        error_class: error_class.as_deref().and_then(ErrorClass::parse),
        supersedes,
        effects,
    }))
}
