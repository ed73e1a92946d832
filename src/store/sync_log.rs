//! The sync log: every change made to or from another system, with who or what made it and why, so
//! nobody has to wonder why a number or a status changed.

use rusqlite::{Connection, params};
use serde::Serialize;

use super::Result;
use crate::domain::time::Millis;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncLogEntry {
    pub id: i64,
    pub at: Millis,
    /// pos, an integration's name, operator, engine…
    pub source: String,
    pub entity: String,
    pub entity_key: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub reason: Option<String>,
    pub job_id: Option<i64>,
    pub actor: Option<String>,
}

/// What to record; `at` and `id` are filled in.
#[derive(Debug, Clone, Default)]
pub struct Change<'a> {
    pub source: &'a str,
    pub entity: &'a str,
    pub entity_key: &'a str,
    pub field: &'a str,
    pub old_value: Option<&'a str>,
    pub new_value: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub job_id: Option<i64>,
    pub actor: Option<&'a str>,
}

pub fn record(conn: &Connection, c: &Change<'_>, now: Millis) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO sync_log (at, source, entity, entity_key, field, old_value, new_value, reason, job_id, actor)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![now, c.source, c.entity, c.entity_key, c.field, c.old_value, c.new_value, c.reason, c.job_id, c.actor])?;
    Ok(conn.last_insert_rowid())
}

/// The newest entries for one record.
pub fn for_entity(
    conn: &Connection,
    entity: &str,
    entity_key: &str,
    limit: i64,
) -> Result<Vec<SyncLogEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, source, entity, entity_key, field, old_value, new_value, reason, job_id, actor
         FROM sync_log WHERE entity = ?1 AND entity_key = ?2 ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![entity, entity_key, limit], |r| {
        Ok(SyncLogEntry {
            id: r.get(0)?,
            at: r.get(1)?,
            source: r.get(2)?,
            entity: r.get(3)?,
            entity_key: r.get(4)?,
            field: r.get(5)?,
            old_value: r.get(6)?,
            new_value: r.get(7)?,
            reason: r.get(8)?,
            job_id: r.get(9)?,
            actor: r.get(10)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
