//! Alert rows: raised once per dedupe key while open (the partial unique index enforces it), e-mailed once
//! (`emailed_at`), closed by an operator's acknowledgement.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::Result;
use crate::domain::alerts::{NewAlert, Severity};
use crate::domain::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub id: i64,
    pub kind: String,
    pub severity: String,
    pub subject: String,
    pub message: String,
    pub dedupe_key: Option<String>,
    pub created_at: Millis,
    pub emailed_at: Option<Millis>,
    pub acknowledged_at: Option<Millis>,
    pub acknowledged_by: Option<String>,
}

const ALERT_COLUMNS: &str = "id, kind, severity, subject, message, dedupe_key, created_at, emailed_at, \
     acknowledged_at, acknowledged_by";

fn alert_from(r: &Row<'_>) -> rusqlite::Result<Alert> {
    Ok(Alert {
        id: r.get(0)?,
        kind: r.get(1)?,
        severity: r.get(2)?,
        subject: r.get(3)?,
        message: r.get(4)?,
        dedupe_key: r.get(5)?,
        created_at: r.get(6)?,
        emailed_at: r.get(7)?,
        acknowledged_at: r.get(8)?,
        acknowledged_by: r.get(9)?,
    })
}

/// Records an alert; `None` when an open alert with the same dedupe key exists (it stays as it was:
/// each alert is raised once until acknowledged).
pub fn raise(conn: &Connection, alert: &NewAlert, now: Millis) -> Result<Option<i64>> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO alerts (kind, severity, subject, message, dedupe_key, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (dedupe_key) WHERE acknowledged_at IS NULL DO NOTHING",
        )?
        .execute(params![
            alert.kind.as_str(),
            alert.severity.as_str(),
            alert.subject,
            alert.message,
            alert.dedupe_key,
            now
        ])?;
    Ok((inserted == 1).then(|| conn.last_insert_rowid()))
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Alert>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1"))?
        .query_row([id], alert_from)
        .optional()?)
}

/// Open alerts (or all), newest first.
pub fn list(conn: &Connection, include_acknowledged: bool, limit: i64) -> Result<Vec<Alert>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ALERT_COLUMNS} FROM alerts WHERE (?1 OR acknowledged_at IS NULL) ORDER BY id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![include_acknowledged, limit], alert_from)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Closes an open alert; false when there is no such alert or it was already acknowledged.
pub fn acknowledge(conn: &Connection, id: i64, by: &str, now: Millis) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE alerts SET acknowledged_at = ?2, acknowledged_by = ?3 WHERE id = ?1 AND acknowledged_at IS NULL",
        )?
        .execute(params![id, now, by])?;
    Ok(n == 1)
}

/// Open alerts of these severities that have not been e-mailed yet, oldest first. An alert acknowledged
/// before its mail went out is not mailed: someone has already seen it.
pub fn due_for_email(conn: &Connection, severities: &[Severity]) -> Result<Vec<Alert>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ALERT_COLUMNS} FROM alerts WHERE emailed_at IS NULL AND acknowledged_at IS NULL ORDER BY id"
    ))?;
    let rows = stmt.query_map([], alert_from)?;
    let all: Vec<Alert> = rows.collect::<rusqlite::Result<_>>()?;
    Ok(all
        .into_iter()
        .filter(|a| Severity::parse(&a.severity).is_some_and(|s| severities.contains(&s)))
        .collect())
}

/// Records that these alerts' mail was accepted by the server; returns how many changed.
pub fn mark_emailed(conn: &Connection, ids: &[i64], now: Millis) -> Result<usize> {
    let mut stmt = conn
        .prepare_cached("UPDATE alerts SET emailed_at = ?2 WHERE id = ?1 AND emailed_at IS NULL")?;
    let mut changed = 0;
    for id in ids {
        changed += stmt.execute(params![id, now])?;
    }
    Ok(changed)
}
