//! Watermarks: how far an incremental read has come (a timestamp or cursor per named feed), so the next
//! pass reads only what changed since.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use crate::domain::time::Millis;

pub fn get(conn: &Connection, name: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM watermarks WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

pub fn set(conn: &Connection, name: &str, value: &str, now: Millis) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO watermarks (name, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )?
    .execute(params![name, value, now])?;
    Ok(())
}
