//! Inbound event de-duplication: a webhook delivered twice (same resource and modification time, or the
//! same body) is recorded once, so it has one effect.

use rusqlite::{Connection, params};

use super::Result;
use crate::domain::time::Millis;

/// Keys older than this are forgotten; a redelivery after a week is treated as new (and is harmless:
/// the job it starts re-reads the resource).
const KEEP_MS: i64 = 7 * 24 * 3600 * 1000;

/// Records the event; false if it was seen before.
pub fn record_once(conn: &Connection, source: &str, dedupe_key: &str, now: Millis) -> Result<bool> {
    let n = conn
        .prepare_cached("INSERT OR IGNORE INTO inbound_events (source, dedupe_key, received_at) VALUES (?1, ?2, ?3)")?
        .execute(params![source, dedupe_key, now])?;
    Ok(n == 1)
}

pub fn prune(conn: &Connection, now: Millis) -> Result<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM inbound_events WHERE received_at < ?1")?
        .execute([now - KEEP_MS])?)
}

pub fn count(conn: &Connection, source: &str) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM inbound_events WHERE source = ?1",
        [source],
        |r| r.get(0),
    )?)
}
