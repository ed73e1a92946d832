//! A back office's view of the orders: which orders should be in it (they reached the status that sends
//! them there) but have no document linked, with why, if it was tried. Read by `orders unsynced`.

use rusqlite::{Connection, params};
use serde::Serialize;

use super::Result;

/// An order that should be in the back office and is not linked to a document there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnlinkedOrder {
    pub id: i64,
    pub number: String,
    pub channel: String,
    pub status_id: i64,
    pub archived: bool,
    /// The link's state when sending was tried (`refused`, `sending`, `error`…); None when never tried.
    pub sync_state: Option<String>,
    pub last_error: Option<String>,
}

/// Orders from `channels` that once entered `status_id` and have no link to `system`, or only a link
/// whose external id still starts with `pending_prefix` (no document id known yet). Oldest first.
pub fn unlinked_orders(
    conn: &Connection,
    system: &str,
    channels: &[String],
    status_id: i64,
    pending_prefix: &str,
) -> Result<Vec<UnlinkedOrder>> {
    let channels = serde_json::to_string(
        &channels
            .iter()
            .map(|c| c.to_lowercase())
            .collect::<Vec<_>>(),
    )
    .unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.number, o.channel, o.status_id, o.archived, l.sync_state, l.last_error
         FROM orders o
         LEFT JOIN links l ON l.entity = 'order' AND l.local_id = o.id AND l.system = ?1
         WHERE (l.id IS NULL OR substr(l.external_id, 1, length(?4)) = ?4)
           AND lower(o.channel) IN (SELECT value FROM json_each(?2))
           AND EXISTS (SELECT 1 FROM status_history h WHERE h.order_id = o.id AND h.to_status_id = ?3)
         ORDER BY o.id",
    )?;
    let rows = stmt.query_map(params![system, channels, status_id, pending_prefix], |r| {
        Ok(UnlinkedOrder {
            id: r.get(0)?,
            number: r.get(1)?,
            channel: r.get(2)?,
            status_id: r.get(3)?,
            archived: r.get(4)?,
            sync_state: r.get(5)?,
            last_error: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
