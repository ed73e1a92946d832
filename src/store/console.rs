//! Read-only queries for the operator console: per-page badges, unsynced fulfilments, problem jobs, queue
//! throughput and the Restock metrics computed from `status_history`. Nothing here writes.

use crate::domain::LinkState;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::Serialize;

use super::jobs::Job;
use super::orders::OrderSummary;
use super::{Result, jobs};
use crate::domain::time::Millis;

/// What the console needs about one listed order besides the list row: its version and its links' states.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderBadge {
    pub order_id: i64,
    pub version: i64,
    pub updated_by: String,
    /// (system, sync_state, last_error) for each link of the order.
    pub links: Vec<(String, LinkState, Option<String>)>,
}

/// Versions and link states for the given orders (one page), in one pass each.
pub fn order_badges(conn: &Connection, ids: &[i64]) -> Result<Vec<OrderBadge>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = ids.iter().map(|_| "?").collect::<Vec<_>>().join(",");
    let mut stmt = conn.prepare(&format!(
        "SELECT id, version, updated_by FROM orders WHERE id IN ({marks})"
    ))?;
    let mut out: Vec<OrderBadge> = stmt
        .query_map(params_from_iter(ids.iter()), |r| {
            Ok(OrderBadge {
                order_id: r.get(0)?,
                version: r.get(1)?,
                updated_by: r.get(2)?,
                links: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare(&format!(
        "SELECT local_id, system, sync_state, last_error FROM links
         WHERE entity = 'order' AND local_id IN ({marks}) ORDER BY id"
    ))?;
    let rows = stmt.query_map(params_from_iter(ids.iter()), |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            super::links::state_from(&r.get::<_, String>(2)?, 2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    for row in rows {
        let (id, system, state, error) = row?;
        if let Some(b) = out.iter_mut().find(|b| b.order_id == id) {
            b.links.push((system, state, error));
        }
    }
    Ok(out)
}

/// How many orders `orders::list` would page through with this filter (for "jump to the last page").
pub fn count_orders(
    conn: &Connection,
    archived: bool,
    status_id: Option<i64>,
    search: Option<&str>,
) -> Result<i64> {
    let Some(search) = search else {
        // Without a search the triggers' per-status counts answer at once.
        return Ok(conn
            .prepare_cached(
                "SELECT COALESCE(SUM(n), 0) FROM order_counts WHERE archived = ?1 AND (?2 IS NULL OR status_id = ?2)",
            )?
            .query_row(params![archived, status_id], |r| r.get(0))?);
    };
    super::orders::count(
        conn,
        &super::orders::OrderFilter {
            status_id,
            archived,
            search: Some(search.to_string()),
            ..Default::default()
        },
    )
}

/// Where a page of unfiltered orders started last time: the row at logical `offset` had id `id`. The next
/// page is found by walking from here (or from whichever end is nearer), never by skipping `offset` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageAnchor {
    pub archived: bool,
    pub status_id: Option<i64>,
    pub offset: i64,
    pub id: i64,
}

/// SQL for order ids in list order (`desc`: newest first) after an optional bound. With a status the
/// `orders_by_status` index serves it; without one SQLite walks the rowid (recent orders are mostly active).
fn ids_sql(with_status: bool, bound: &str, desc: bool) -> String {
    let (from, status) = if with_status {
        ("orders", "AND status_id = ?2")
    } else {
        ("orders NOT INDEXED", "AND ?2 IS NULL")
    };
    let order = if desc { "DESC" } else { "ASC" };
    format!(
        "SELECT id FROM {from} WHERE archived = ?1 {status} {bound} ORDER BY id {order} LIMIT 1 OFFSET ?4"
    )
}

/// The id of the row at logical `offset`, reached from the nearest known point: the top, the anchor or
/// the bottom (`total` rows). Costs the distance walked, not the offset.
fn id_at(
    conn: &Connection,
    archived: bool,
    status_id: Option<i64>,
    offset: i64,
    anchor: Option<PageAnchor>,
    total: i64,
) -> Result<Option<i64>> {
    if offset >= total {
        return Ok(None);
    }
    let with_status = status_id.is_some();
    let anchor = anchor.filter(|a| a.archived == archived && a.status_id == status_id);
    let from_top = offset;
    let from_bottom = (total - 1 - offset).max(0);
    // The top wins ties: offset 0 always shows the newest rows, including ones added meanwhile.
    let near = anchor.filter(|a| (offset - a.offset).abs() < from_top.min(from_bottom));
    let (sql, bound, skip) = if let Some(a) = near {
        match offset.cmp(&a.offset) {
            std::cmp::Ordering::Equal => return Ok(Some(a.id)),
            std::cmp::Ordering::Greater => (
                ids_sql(with_status, "AND id < ?3", true),
                a.id,
                offset - a.offset - 1,
            ),
            std::cmp::Ordering::Less => (
                ids_sql(with_status, "AND id > ?3", false),
                a.id,
                a.offset - offset - 1,
            ),
        }
    } else if from_top <= from_bottom {
        (
            ids_sql(with_status, "AND ?3 IS NOT NULL", true),
            0,
            from_top,
        )
    } else {
        (
            ids_sql(with_status, "AND ?3 IS NOT NULL", false),
            0,
            from_bottom,
        )
    };
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![archived, status_id, bound, skip], |r| r.get(0))
        .optional()?)
}

/// The same page as `orders::list` without a search, read by keyset: find the page's first row from the
/// nearest known point (see [`id_at`]), then read `limit` rows from it down an index or the rowid.
/// Returns the page and the anchor for the next read.
pub fn order_page(
    conn: &Connection,
    archived: bool,
    status_id: Option<i64>,
    limit: i64,
    offset: i64,
    anchor: Option<PageAnchor>,
    total: i64,
) -> Result<(Vec<OrderSummary>, Option<PageAnchor>)> {
    const COLUMNS: &str = "o.id, o.number, o.channel, o.customer, o.status_id, o.archived,
                (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = o.id),
                (SELECT COALESCE(SUM(quantity), 0) FROM order_lines l WHERE l.order_id = o.id),
                (SELECT COALESCE(SUM(quantity_shipped), 0) FROM order_lines l WHERE l.order_id = o.id),
                o.created_at, o.updated_at";
    let Some(first) = id_at(conn, archived, status_id, offset, anchor, total)? else {
        return Ok((Vec::new(), None));
    };
    let sql = match status_id {
        Some(_) => format!(
            "SELECT {COLUMNS} FROM orders o WHERE o.archived = ?1 AND o.status_id = ?2 AND o.id <= ?3
             ORDER BY o.id DESC LIMIT ?4"
        ),
        None => format!(
            "SELECT {COLUMNS} FROM orders o NOT INDEXED WHERE o.archived = ?1 AND ?2 IS NULL AND o.id <= ?3
             ORDER BY o.id DESC LIMIT ?4"
        ),
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![archived, status_id, first, limit],
        super::orders::summary_from,
    )?;
    let page: Vec<OrderSummary> = rows.collect::<rusqlite::Result<_>>()?;
    let anchor = PageAnchor {
        archived,
        status_id,
        offset,
        id: first,
    };
    Ok((page, Some(anchor)))
}

/// How many rows [`unsynced_fulfilments`] pages through.
pub fn count_unsynced_fulfilments(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM links l
         WHERE l.entity = 'order' AND (l.sync_state <> 'synced' OR l.last_error IS NOT NULL)
           AND EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = l.local_id)",
        [],
        |r| r.get(0),
    )?)
}

/// An order with shipments whose channel link has not caught up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnsyncedFulfilment {
    /// The link that has not caught up (one row per link).
    pub link_id: i64,
    pub order_id: i64,
    pub number: String,
    pub channel: String,
    pub system: String,
    pub sync_state: String,
    pub last_error: Option<String>,
    pub last_shipped_at: Millis,
    pub shipments: i64,
}

/// A page of orders that shipped but whose link is not synced (or carries an error), oldest shipment first.
pub fn unsynced_fulfilments(
    conn: &Connection,
    limit: i64,
    offset: i64,
) -> Result<Vec<UnsyncedFulfilment>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.number, o.channel, l.system, l.sync_state, l.last_error,
                (SELECT MAX(shipped_at) FROM shipments s WHERE s.order_id = o.id),
                (SELECT COUNT(*) FROM shipments s WHERE s.order_id = o.id), l.id
         FROM links l JOIN orders o ON o.id = l.local_id
         WHERE l.entity = 'order' AND (l.sync_state <> 'synced' OR l.last_error IS NOT NULL)
           AND EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.id)
         ORDER BY 7, o.id
         LIMIT ?1 OFFSET ?2",
    )?;
    let rows = stmt.query_map(params![limit, offset], fulfilment_from)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn fulfilment_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<UnsyncedFulfilment> {
    Ok(UnsyncedFulfilment {
        order_id: r.get(0)?,
        number: r.get(1)?,
        channel: r.get(2)?,
        system: r.get(3)?,
        sync_state: r.get(4)?,
        last_error: r.get(5)?,
        last_shipped_at: r.get(6)?,
        shipments: r.get(7)?,
        link_id: r.get(8)?,
    })
}

/// One link's row of [`unsynced_fulfilments`], by link id (whatever its state now).
pub fn unsynced_fulfilment(conn: &Connection, link_id: i64) -> Result<Option<UnsyncedFulfilment>> {
    Ok(conn
        .prepare_cached(
            "SELECT o.id, o.number, o.channel, l.system, l.sync_state, l.last_error,
                    COALESCE((SELECT MAX(shipped_at) FROM shipments s WHERE s.order_id = o.id), 0),
                    (SELECT COUNT(*) FROM shipments s WHERE s.order_id = o.id), l.id
             FROM links l JOIN orders o ON o.id = l.local_id WHERE l.id = ?1",
        )?
        .query_row([link_id], fulfilment_from)
        .optional()?)
}

/// A page of dead and retrying jobs, newest first.
pub fn problem_jobs(conn: &Connection, limit: i64, offset: i64) -> Result<Vec<Job>> {
    let ids: Vec<i64> = conn
        .prepare_cached(
            "SELECT id FROM jobs WHERE state IN ('dead', 'retrying') ORDER BY id DESC LIMIT ?1 OFFSET ?2",
        )?
        .query_map(params![limit, offset], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(job) = jobs::get(conn, id)? {
            out.push(job);
        }
    }
    Ok(out)
}

/// How many jobs are in one state (an index range, cheap even with a long history of done jobs).
pub fn count_jobs_in(conn: &Connection, state: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM jobs WHERE state = ?1")?
        .query_row([state], |r| r.get(0))?)
}

/// Jobs that finished (`done`) since `since`.
pub fn jobs_done_since(conn: &Connection, since: Millis) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM jobs WHERE state = 'done' AND updated_at >= ?1",
        [since],
        |r| r.get(0),
    )?)
}

/// Jobs finished per minute over the `minutes` minutes before `now`, oldest first.
pub fn jobs_done_per_minute(conn: &Connection, now: Millis, minutes: usize) -> Result<Vec<u64>> {
    let since = now - minutes as i64 * 60_000;
    let mut buckets = vec![0u64; minutes];
    let mut stmt = conn.prepare_cached(
        "SELECT (updated_at - ?1) / 60000, COUNT(*) FROM jobs
         WHERE state = 'done' AND updated_at >= ?1 AND updated_at < ?2 GROUP BY 1",
    )?;
    let rows = stmt.query_map(params![since, now], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (minute, n) = row?;
        if let Some(b) = usize::try_from(minute)
            .ok()
            .and_then(|m| buckets.get_mut(m))
        {
            *b = n.max(0) as u64;
        }
    }
    Ok(buckets)
}

/// Restock metrics for orders created at or after `since` (0: the whole history; the dashboard reads them
/// only when it is on screen, the report for its period).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WorkflowMetrics {
    /// Average ms from creation to the first shipped or completed status, and how many orders got there.
    pub avg_to_shipped_ms: Option<f64>,
    pub shipped_orders: i64,
    pub orders: i64,
    /// Orders that ever entered a backorder status.
    pub backordered_orders: i64,
    pub completed: i64,
    pub cancelled: i64,
    /// (operator, status changes made), most first.
    pub changes_by_operator: Vec<(String, i64)>,
    /// (status id, average ms spent in it before the next change, how many stays were measured).
    pub avg_time_in_status: Vec<(i64, f64, i64)>,
}

pub fn workflow_metrics(conn: &Connection, since: Millis) -> Result<WorkflowMetrics> {
    let mut m = WorkflowMetrics {
        orders: conn.query_row(
            "SELECT COUNT(*) FROM orders WHERE created_at >= ?1",
            [since],
            |r| r.get(0),
        )?,
        ..WorkflowMetrics::default()
    };
    (m.avg_to_shipped_ms, m.shipped_orders) = conn.query_row(
        "SELECT AVG(shipped - created), COUNT(*) FROM (
             SELECT MIN(CASE WHEN h.from_status_id IS NULL THEN h.changed_at END) AS created,
                    MIN(CASE WHEN s.kind IN ('shipped', 'completed') THEN h.changed_at END) AS shipped
             FROM status_history h JOIN statuses s ON s.id = h.to_status_id
             JOIN orders o ON o.id = h.order_id WHERE o.created_at >= ?1
             GROUP BY h.order_id)
         WHERE created IS NOT NULL AND shipped IS NOT NULL",
        [since],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    m.backordered_orders = conn.query_row(
        "SELECT COUNT(DISTINCT h.order_id) FROM status_history h JOIN statuses s ON s.id = h.to_status_id
         JOIN orders o ON o.id = h.order_id WHERE s.kind = 'backorder' AND o.created_at >= ?1",
        [since],
        |r| r.get(0),
    )?;
    (m.completed, m.cancelled) = conn.query_row(
        "SELECT COALESCE(SUM(s.kind = 'completed'), 0), COALESCE(SUM(s.kind = 'cancelled'), 0)
         FROM orders o JOIN statuses s ON s.id = o.status_id WHERE o.created_at >= ?1",
        [since],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    m.changes_by_operator = conn
        .prepare(
            "SELECT changed_by, COUNT(*) FROM status_history WHERE from_status_id IS NOT NULL AND changed_at >= ?1
             GROUP BY changed_by ORDER BY 2 DESC, 1 LIMIT 8",
        )?
        .query_map([since], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    m.avg_time_in_status = conn
        .prepare(
            "SELECT status, AVG(left_at - entered_at), COUNT(*) FROM (
                 SELECT to_status_id AS status, changed_at AS entered_at,
                        LEAD(changed_at) OVER (PARTITION BY order_id ORDER BY id) AS left_at
                 FROM status_history)
             WHERE left_at IS NOT NULL AND entered_at >= ?1 GROUP BY status ORDER BY status",
        )?
        .query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(m)
}

/// Per external system: how many links, how many in error, and the latest error text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectorHealth {
    pub system: String,
    pub links: i64,
    pub errors: i64,
    pub last_error: Option<String>,
}

pub fn connector_health(conn: &Connection) -> Result<Vec<ConnectorHealth>> {
    let mut stmt = conn.prepare_cached(
        "SELECT system, COUNT(*), COALESCE(SUM(last_error IS NOT NULL OR sync_state = 'error'), 0),
                (SELECT last_error FROM links l2 WHERE l2.system = links.system AND l2.last_error IS NOT NULL
                 ORDER BY l2.id DESC LIMIT 1)
         FROM links GROUP BY system ORDER BY system",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(ConnectorHealth {
            system: r.get(0)?,
            links: r.get(1)?,
            errors: r.get(2)?,
            last_error: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What recent jobs of one kind say about the system they talk to.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KindHealth {
    /// (finished at, ms the attempt took) of the newest successful runs, newest first.
    pub successes: Vec<(Millis, Option<i64>)>,
    /// The newest failing attempt still on record (a job retrying or dead): when, and its error.
    pub last_failure: Option<(Millis, String)>,
}

/// The newest `samples` successful runs of `kind` and its newest unresolved failure. Both read
/// `jobs_by_kind` (kind, state, rowid) backwards, so a long history of done jobs costs nothing.
pub fn kind_health(conn: &Connection, kind: &str, samples: i64) -> Result<KindHealth> {
    let successes = conn
        .prepare_cached(
            "SELECT updated_at, updated_at - started_at FROM jobs WHERE kind = ?1 AND state = 'done'
             ORDER BY id DESC LIMIT ?2",
        )?
        .query_map(params![kind, samples], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let last_failure = conn
        .prepare_cached(
            "SELECT updated_at, COALESCE(last_error, '') FROM jobs
             WHERE kind = ?1 AND state IN ('retrying', 'dead') AND last_error IS NOT NULL
             ORDER BY updated_at DESC LIMIT 1",
        )?
        .query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))?
        .next()
        .transpose()?;
    Ok(KindHealth {
        successes,
        last_failure,
    })
}
