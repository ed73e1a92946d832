//! Links: which record in another system a local record is, and how its sync stands (state, last error,
//! the last status and version seen there, and a status being pushed right now).

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::Result;
use crate::domain::LinkState;
use crate::domain::time::Millis;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    pub id: i64,
    pub entity: String,
    pub local_id: i64,
    pub system: String,
    pub external_id: String,
    pub sync_state: LinkState,
    pub remote_version: Option<String>,
    /// The remote status as last read or written; an inbound status equal to it is no change.
    pub remote_status: Option<String>,
    /// A status a push is writing right now, so its own echo is not mistaken for an inbound change.
    pub pushing_status: Option<String>,
    pub last_synced_at: Option<Millis>,
    pub last_error: Option<String>,
    /// A digest of the content last imported (status, lines, customer, address): a change within the same
    /// second of the remote's modification stamp is still a change.
    pub remote_fingerprint: Option<String>,
    /// When our last push finished (our clock): a read that started before it may predate the push.
    pub pushed_at: Option<Millis>,
}

pub(crate) const COLUMNS: &str = "id, entity, local_id, system, external_id, sync_state, remote_version, remote_status, \
                       pushing_status, last_synced_at, last_error, remote_fingerprint, pushed_at";

/// A stored state; one this build does not know is a read error naming it, never a silent default.
pub(crate) fn state_from(text: &str, column: usize) -> rusqlite::Result<LinkState> {
    LinkState::parse(text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            column,
            rusqlite::types::Type::Text,
            format!("unknown link state '{text}'").into(),
        )
    })
}

pub(crate) fn link_from(r: &Row<'_>) -> rusqlite::Result<Link> {
    Ok(Link {
        id: r.get(0)?,
        entity: r.get(1)?,
        local_id: r.get(2)?,
        system: r.get(3)?,
        external_id: r.get(4)?,
        sync_state: state_from(&r.get::<_, String>(5)?, 5)?,
        remote_version: r.get(6)?,
        remote_status: r.get(7)?,
        pushing_status: r.get(8)?,
        last_synced_at: r.get(9)?,
        last_error: r.get(10)?,
        remote_fingerprint: r.get(11)?,
        pushed_at: r.get(12)?,
    })
}

pub fn by_external(
    conn: &Connection,
    entity: &str,
    system: &str,
    external_id: &str,
) -> Result<Option<Link>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM links WHERE entity = ?1 AND system = ?2 AND external_id = ?3"
        ))?
        .query_row(params![entity, system, external_id], link_from)
        .optional()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Link>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM links WHERE id = ?1"))?
        .query_row([id], link_from)
        .optional()?)
}

/// Every link of one local record (an order may be known to a channel and a back office).
pub fn for_local(conn: &Connection, entity: &str, local_id: i64) -> Result<Vec<Link>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM links WHERE entity = ?1 AND local_id = ?2 ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![entity, local_id], link_from)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[allow(clippy::too_many_arguments)]
pub fn insert(
    conn: &Connection,
    entity: &str,
    local_id: i64,
    system: &str,
    external_id: &str,
    remote_status: Option<&str>,
    remote_version: Option<&str>,
    now: Millis,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO links (entity, local_id, system, external_id, sync_state, remote_status, remote_version, last_synced_at)
         VALUES (?1, ?2, ?3, ?4, 'synced', ?5, ?6, ?7)",
    )?
    .execute(params![entity, local_id, system, external_id, remote_status, remote_version, now])?;
    Ok(conn.last_insert_rowid())
}

/// Records what the remote side now says (after a read or a successful write) and clears any error.
pub fn record_remote(
    conn: &Connection,
    id: i64,
    status: Option<&str>,
    version: Option<&str>,
    now: Millis,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE links SET remote_status = COALESCE(?2, remote_status), remote_version = COALESCE(?3, remote_version),
             sync_state = 'synced', last_error = NULL, last_synced_at = ?4
         WHERE id = ?1",
    )?
    .execute(params![id, status, version, now])?;
    Ok(())
}

/// A read that found nothing new: only the stamp and the time of the read move.
pub fn record_remote_seen(
    conn: &Connection,
    id: i64,
    version: Option<&str>,
    now: Millis,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE links SET remote_version = COALESCE(?2, remote_version), last_synced_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, version, now])?;
    Ok(())
}

/// What the remote now says, recorded without touching the link's state or message (a link waiting
/// for an operator stays waiting).
pub fn note_remote(
    conn: &Connection,
    id: i64,
    status: &str,
    version: Option<&str>,
    fingerprint: &str,
    now: Millis,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE links SET remote_status = ?2, remote_version = COALESCE(?3, remote_version),
             remote_fingerprint = ?4, last_synced_at = ?5
         WHERE id = ?1",
    )?
    .execute(params![id, status, version, fingerprint, now])?;
    Ok(())
}

/// A message for ops on a link that otherwise works (its state is kept).
pub fn set_warning(conn: &Connection, id: i64, message: &str) -> Result<()> {
    conn.prepare_cached("UPDATE links SET last_error = ?2 WHERE id = ?1")?
        .execute(params![id, message])?;
    Ok(())
}

/// Remembers the content digest of what was just imported.
pub fn set_fingerprint(conn: &Connection, id: i64, fingerprint: &str) -> Result<()> {
    conn.prepare_cached("UPDATE links SET remote_fingerprint = ?2 WHERE id = ?1")?
        .execute(params![id, fingerprint])?;
    Ok(())
}

/// Records a finished push: what the remote now says, its stamp, and when (reads older than this moment
/// cannot be trusted to reflect the push).
pub fn record_push(
    conn: &Connection,
    id: i64,
    status: &str,
    version: Option<&str>,
    now: Millis,
) -> Result<()> {
    record_remote(conn, id, Some(status), version, now)?;
    conn.prepare_cached("UPDATE links SET pushed_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}

/// Re-keys a link once the remote id is known (a back-office document first known by our own number).
pub fn set_external_id(conn: &Connection, id: i64, external_id: &str) -> Result<()> {
    conn.prepare_cached("UPDATE links SET external_id = ?2 WHERE id = ?1")?
        .execute(params![id, external_id])?;
    Ok(())
}

/// Marks a push in progress (or clears it with `None`).
pub fn set_pushing(conn: &Connection, id: i64, status: Option<&str>) -> Result<()> {
    conn.prepare_cached("UPDATE links SET pushing_status = ?2, sync_state = CASE WHEN ?2 IS NULL THEN sync_state ELSE 'pending' END WHERE id = ?1")?
        .execute(params![id, status])?;
    Ok(())
}

/// Sets a visible state and message (an error, or why nothing was pushed).
pub fn set_state(
    conn: &Connection,
    id: i64,
    state: LinkState,
    message: Option<&str>,
) -> Result<()> {
    conn.prepare_cached("UPDATE links SET sync_state = ?2, last_error = ?3 WHERE id = ?1")?
        .execute(params![id, state.as_str(), message])?;
    Ok(())
}

/// Links to `system` of orders still active (not archived): what a back office should still be holding.
pub fn open_orders_in(conn: &Connection, system: &str) -> Result<Vec<Link>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} FROM links l JOIN orders o ON o.id = l.local_id
         WHERE l.entity = 'order' AND l.system = ?1 AND o.archived = 0 ORDER BY l.id",
        COLUMNS
            .split(", ")
            .map(|c| format!("l.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    ))?;
    let rows = stmt.query_map([system], link_from)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
