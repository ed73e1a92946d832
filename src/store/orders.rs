//! Orders, their lines, shipments (fulfilments) and status history.
//! Every change to an order bumps its `version`, which is how a stale edit from another console is caught.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::Result;
use crate::domain::LineProgress;
use crate::domain::time::Millis;

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub number: String,
    pub channel: String,
    pub customer: Option<String>,
    pub status_id: i64,
    /// (SKU, name, quantity)
    pub lines: Vec<(String, Option<String>, i64)>,
    /// Where it ships to, one line (name, address, city, country), when the channel said.
    pub ship_to: Option<String>,
    /// Final before syncdesk first looked: its stock effects happened long ago and are never counted.
    pub history: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRow {
    pub id: i64,
    pub number: String,
    pub channel: String,
    pub customer: Option<String>,
    pub status_id: i64,
    pub archived: bool,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub updated_by: String,
    pub ship_to: Option<String>,
    pub history: bool,
}

const ORDER_COLUMNS: &str = "id, number, channel, customer, status_id, archived, version, created_at, updated_at, updated_by, ship_to, history";

fn order_from(r: &Row<'_>) -> rusqlite::Result<OrderRow> {
    Ok(OrderRow {
        id: r.get(0)?,
        number: r.get(1)?,
        channel: r.get(2)?,
        customer: r.get(3)?,
        status_id: r.get(4)?,
        archived: r.get(5)?,
        version: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        updated_by: r.get(9)?,
        ship_to: r.get(10)?,
        history: r.get(11)?,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderLine {
    pub id: i64,
    pub line_no: i64,
    pub sku: String,
    pub name: Option<String>,
    pub quantity: i64,
    pub quantity_shipped: i64,
}

impl OrderLine {
    pub fn progress(&self) -> LineProgress {
        LineProgress {
            line_id: self.id,
            sku: self.sku.clone(),
            ordered: self.quantity,
            shipped: self.quantity_shipped,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShipmentLine {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shipment {
    pub id: i64,
    pub shipped_at: Millis,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub notes: Option<String>,
    pub source: String,
    pub created_by: String,
    pub lines: Vec<ShipmentLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub id: i64,
    pub from_status_id: Option<i64>,
    pub to_status_id: i64,
    pub changed_by: String,
    pub changed_at: Millis,
    pub source: String,
    pub note: Option<String>,
}

/// One row of an order list: what a table shows without loading lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderSummary {
    pub id: i64,
    pub number: String,
    pub channel: String,
    pub customer: Option<String>,
    pub status_id: i64,
    pub archived: bool,
    pub items: i64,
    pub quantity: i64,
    pub quantity_shipped: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// An [`OrderSummary`] from a row whose columns are: id, number, channel, customer, status_id, archived, the
/// line count, the quantity, the quantity shipped, created_at, updated_at (every order list selects these).
pub(crate) fn summary_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<OrderSummary> {
    Ok(OrderSummary {
        id: r.get(0)?,
        number: r.get(1)?,
        channel: r.get(2)?,
        customer: r.get(3)?,
        status_id: r.get(4)?,
        archived: r.get(5)?,
        items: r.get(6)?,
        quantity: r.get(7)?,
        quantity_shipped: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status_id: Option<i64>,
    /// false: active orders only; true: archived (final) orders only.
    pub archived: bool,
    /// Matches number, customer or a line's SKU (case-insensitive substring).
    pub search: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

pub fn insert(conn: &Connection, order: &NewOrder, by: &str, now: Millis) -> Result<i64> {
    conn.execute(
        "INSERT INTO orders (number, channel, customer, status_id, archived, version, created_at, updated_at, updated_by, ship_to, history)
         VALUES (?1, ?2, ?3, ?4, 0, 1, ?5, ?5, ?6, ?7, ?8)",
        params![order.number, order.channel, order.customer, order.status_id, now, by, order.ship_to, order.history],
    )?;
    let id = conn.last_insert_rowid();
    let mut stmt =
        conn.prepare_cached("INSERT INTO order_lines (order_id, line_no, sku, name, quantity) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for (i, (sku, name, qty)) in order.lines.iter().enumerate() {
        stmt.execute(params![id, i as i64 + 1, sku, name, qty])?;
    }
    let skus: Vec<&str> = order.lines.iter().map(|(sku, _, _)| sku.as_str()).collect();
    index_for_search(conn, id, &order.number, order.customer.as_deref(), &skus)?;
    Ok(id)
}

/// What the search index holds for an order: (number, customer, SKUs in line order).
fn search_entry(conn: &Connection, id: i64) -> Result<Option<(String, String, String)>> {
    Ok(conn
        .prepare_cached(
            "SELECT o.number, COALESCE(o.customer, ''),
                    COALESCE((SELECT group_concat(sku, ' ') FROM (SELECT sku FROM order_lines l
                              WHERE l.order_id = o.id ORDER BY line_no)), '')
             FROM orders o WHERE o.id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// Runs `change` (which may edit the order's customer or lines) and keeps the search index in step: the
/// index is contentless, so the old entry must be removed with exactly the values it was built from.
fn reindexed<T>(conn: &Connection, id: i64, change: impl FnOnce() -> Result<T>) -> Result<T> {
    let before = search_entry(conn, id)?;
    let result = change()?;
    let after = search_entry(conn, id)?;
    if before != after {
        if let Some((number, customer, skus)) = before {
            conn.prepare_cached(
                "INSERT INTO order_search (order_search, rowid, number, customer, skus) VALUES ('delete', ?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, number, customer, skus])?;
        }
        if let Some((number, customer, skus)) = after {
            conn.prepare_cached(
                "INSERT INTO order_search (rowid, number, customer, skus) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, number, customer, skus])?;
        }
    }
    Ok(result)
}

/// Sets who the order is for and where it ships (as the channel now says); call after [`touch`].
pub fn set_details(
    conn: &Connection,
    order_id: i64,
    customer: Option<&str>,
    ship_to: Option<&str>,
) -> Result<()> {
    reindexed(conn, order_id, || {
        conn.prepare_cached("UPDATE orders SET customer = ?2, ship_to = ?3 WHERE id = ?1")?
            .execute(params![order_id, customer, ship_to])?;
        Ok(())
    })
}

/// One change to an order's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineChange {
    /// (line id, name, new quantity)
    Update(i64, Option<String>, i64),
    /// (SKU, name, quantity), appended after the last line.
    Add(String, Option<String>, i64),
    /// A line nothing else refers to (see [`line_has_effects`]).
    Remove(i64),
}

/// Applies line changes (decided by the caller); call after [`touch`].
pub fn change_lines(conn: &Connection, order_id: i64, changes: &[LineChange]) -> Result<()> {
    reindexed(conn, order_id, || {
        for change in changes {
            match change {
                LineChange::Update(line_id, name, qty) => {
                    conn.prepare_cached(
                        "UPDATE order_lines SET name = COALESCE(?3, name), quantity = ?4 WHERE id = ?1 AND order_id = ?2",
                    )?
                    .execute(params![line_id, order_id, name, qty])?;
                }
                LineChange::Add(sku, name, qty) => {
                    conn.prepare_cached(
                        "INSERT INTO order_lines (order_id, line_no, sku, name, quantity)
                         VALUES (?1, (SELECT COALESCE(MAX(line_no), 0) + 1 FROM order_lines WHERE order_id = ?1), ?2, ?3, ?4)",
                    )?
                    .execute(params![order_id, sku, name, qty])?;
                }
                LineChange::Remove(line_id) => {
                    conn.prepare_cached("DELETE FROM order_lines WHERE id = ?1 AND order_id = ?2")?
                        .execute(params![line_id, order_id])?;
                }
            }
        }
        Ok(())
    })
}

/// True when something outside the order refers to the line: a shipment, or a POS reductions file.
pub fn line_has_effects(conn: &Connection, line_id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM shipment_lines WHERE order_line_id = ?1)
                 OR EXISTS (SELECT 1 FROM pos_reduction_lines WHERE order_line_id = ?1)",
        )?
        .query_row([line_id], |r| r.get(0))?)
}

/// Adds an order to the search index.
pub(crate) fn index_for_search(
    conn: &Connection,
    id: i64,
    number: &str,
    customer: Option<&str>,
    skus: &[&str],
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO order_search (rowid, number, customer, skus) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, number, customer.unwrap_or(""), skus.join(" ")])?;
    Ok(())
}

/// The search index's query for `text` (one phrase, quotes doubled), when it is long enough for trigrams;
/// shorter text falls back to LIKE, which short fragments satisfy within the first rows anyway.
fn search_phrase(text: &str) -> Option<String> {
    let text = text.trim();
    (text.chars().count() >= 3).then(|| format!("\"{}\"", text.replace('"', "\"\"")))
}

/// How many orders [`list`] pages through with this filter (limit and offset ignored).
pub fn count(conn: &Connection, filter: &OrderFilter) -> Result<i64> {
    let search = filter.search.as_deref();
    let n = match search.and_then(search_phrase) {
        Some(phrase) => conn
            .prepare_cached(
                "SELECT COUNT(*) FROM order_search JOIN orders o ON o.id = order_search.rowid
                 WHERE order_search MATCH ?3 AND o.archived = ?1 AND (?2 IS NULL OR o.status_id = ?2)",
            )?
            .query_row(params![filter.archived, filter.status_id, phrase], |r| r.get(0))?,
        None => conn
            .prepare_cached(
                "SELECT COUNT(*) FROM orders o
                 WHERE o.archived = ?1
                   AND (?2 IS NULL OR o.status_id = ?2)
                   AND (?3 IS NULL OR lower(o.number) LIKE ?3 ESCAPE '\\' OR lower(COALESCE(o.customer, '')) LIKE ?3 ESCAPE '\\'
                        OR EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND lower(l.sku) LIKE ?3 ESCAPE '\\'))",
            )?
            .query_row(params![filter.archived, filter.status_id, search.map(like_pattern)], |r| {
                r.get(0)
            })?,
    };
    Ok(n)
}

pub fn number_exists(conn: &Connection, number: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM orders WHERE number = ?1)",
        [number],
        |r| r.get(0),
    )?)
}

/// Finds an order by number first, then by numeric id (`#12` means id 12 only).
pub fn find(conn: &Connection, reference: &str) -> Result<Option<OrderRow>> {
    let reference = reference.trim();
    if let Some(id) = reference
        .strip_prefix('#')
        .and_then(|s| s.parse::<i64>().ok())
    {
        return get(conn, id);
    }
    // The number as typed first; else the same letters in another case (`r-1001` finds `R-1001`), the
    // oldest order if several differ only in case.
    let by_number = conn
        .prepare_cached(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE number = ?1 COLLATE NOCASE
             ORDER BY number = ?1 DESC, id LIMIT 1"
        ))?
        .query_row([reference], order_from)
        .optional()?;
    match (by_number, reference.parse::<i64>()) {
        (Some(o), _) => Ok(Some(o)),
        (None, Ok(id)) => get(conn, id),
        (None, Err(_)) => Ok(None),
    }
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<OrderRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"),
            [id],
            order_from,
        )
        .optional()?)
}

pub fn lines(conn: &Connection, order_id: i64) -> Result<Vec<OrderLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, line_no, sku, name, quantity, quantity_shipped FROM order_lines WHERE order_id = ?1 ORDER BY line_no",
    )?;
    let rows = stmt.query_map([order_id], |r| {
        Ok(OrderLine {
            id: r.get(0)?,
            line_no: r.get(1)?,
            sku: r.get(2)?,
            name: r.get(3)?,
            quantity: r.get(4)?,
            quantity_shipped: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn shipments(conn: &Connection, order_id: i64) -> Result<Vec<Shipment>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, shipped_at, carrier, tracking, notes, source, created_by FROM shipments WHERE order_id = ?1 ORDER BY id",
    )?;
    let mut shipments: Vec<Shipment> = stmt
        .query_map([order_id], |r| {
            Ok(Shipment {
                id: r.get(0)?,
                shipped_at: r.get(1)?,
                carrier: r.get(2)?,
                tracking: r.get(3)?,
                notes: r.get(4)?,
                source: r.get(5)?,
                created_by: r.get(6)?,
                lines: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT l.sku, sl.quantity FROM shipment_lines sl JOIN order_lines l ON l.id = sl.order_line_id
         WHERE sl.shipment_id = ?1 ORDER BY l.line_no",
    )?;
    for s in &mut shipments {
        s.lines = stmt
            .query_map([s.id], |r| {
                Ok(ShipmentLine {
                    sku: r.get(0)?,
                    quantity: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    Ok(shipments)
}

pub fn history(conn: &Connection, order_id: i64) -> Result<Vec<HistoryEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, from_status_id, to_status_id, changed_by, changed_at, source, note
         FROM status_history WHERE order_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([order_id], |r| {
        Ok(HistoryEntry {
            id: r.get(0)?,
            from_status_id: r.get(1)?,
            to_status_id: r.get(2)?,
            changed_by: r.get(3)?,
            changed_at: r.get(4)?,
            source: r.get(5)?,
            note: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[allow(clippy::too_many_arguments)]
pub fn insert_history(
    conn: &Connection,
    order_id: i64,
    from: Option<i64>,
    to: i64,
    by: &str,
    source: &str,
    note: Option<&str>,
    now: Millis,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO status_history (order_id, from_status_id, to_status_id, changed_by, changed_at, source, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![order_id, from, to, by, now, source, note])?;
    Ok(conn.last_insert_rowid())
}

/// Bumps the version if it still equals `expected`; false means someone else changed the order first.
pub fn touch(
    conn: &Connection,
    order_id: i64,
    expected_version: i64,
    by: &str,
    now: Millis,
) -> Result<bool> {
    let n = conn.prepare_cached(
        "UPDATE orders SET version = version + 1, updated_at = ?3, updated_by = ?4 WHERE id = ?1 AND version = ?2",
    )?
    .execute(params![order_id, expected_version, now, by])?;
    Ok(n == 1)
}

/// Sets the status (and the archive flag); call after [`touch`] in the same transaction.
pub fn set_status(conn: &Connection, order_id: i64, status_id: i64, archived: bool) -> Result<()> {
    conn.prepare_cached("UPDATE orders SET status_id = ?2, archived = ?3 WHERE id = ?1")?
        .execute(params![order_id, status_id, archived])?;
    Ok(())
}

pub struct NewShipment<'a> {
    pub order_id: i64,
    /// (order line id, quantity)
    pub lines: &'a [(i64, i64)],
    pub carrier: Option<&'a str>,
    pub tracking: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub source: &'a str,
    pub shipped_at: Millis,
}

/// Records a shipment and adds its quantities to the lines.
pub fn insert_shipment(conn: &Connection, s: &NewShipment<'_>, by: &str) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO shipments (order_id, shipped_at, carrier, tracking, notes, source, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        s.order_id,
        s.shipped_at,
        s.carrier,
        s.tracking,
        s.notes,
        s.source,
        by
    ])?;
    let shipment_id = conn.last_insert_rowid();
    let mut add_line = conn.prepare_cached(
        "INSERT INTO shipment_lines (shipment_id, order_line_id, quantity) VALUES (?1, ?2, ?3)",
    )?;
    let mut bump = conn.prepare_cached(
        "UPDATE order_lines SET quantity_shipped = quantity_shipped + ?2 WHERE id = ?1 AND order_id = ?3",
    )?;
    for (line_id, qty) in s.lines {
        add_line.execute(params![shipment_id, line_id, qty])?;
        bump.execute(params![line_id, qty, s.order_id])?;
    }
    Ok(shipment_id)
}

/// `%text%` for a case-insensitive substring match, with LIKE's wildcards escaped so text matches literally.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A page of orders, newest first, with line totals. Only the requested rows are read.
pub fn list(conn: &Connection, filter: &OrderFilter) -> Result<Vec<OrderSummary>> {
    const COLUMNS: &str = "o.id, o.number, o.channel, o.customer, o.status_id, o.archived,
                (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = o.id),
                (SELECT COALESCE(SUM(quantity), 0) FROM order_lines l WHERE l.order_id = o.id),
                (SELECT COALESCE(SUM(quantity_shipped), 0) FROM order_lines l WHERE l.order_id = o.id),
                o.created_at, o.updated_at";
    // Three characters or more: walk the trigram index's matches newest first and stop after the page.
    let phrase = filter.search.as_deref().and_then(search_phrase);
    let search = match &phrase {
        Some(p) => Some(p.clone()),
        None => filter.search.as_deref().map(like_pattern),
    };
    let mut stmt = match phrase {
        Some(_) => conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM order_search JOIN orders o ON o.id = order_search.rowid
             WHERE order_search MATCH ?3 AND o.archived = ?1 AND (?2 IS NULL OR o.status_id = ?2)
             ORDER BY order_search.rowid DESC
             LIMIT ?4 OFFSET ?5"
        ))?,
        None => conn.prepare_cached(&format!(
            "SELECT {COLUMNS}
         FROM orders o
         WHERE o.archived = ?1
           AND (?2 IS NULL OR o.status_id = ?2)
           AND (?3 IS NULL OR lower(o.number) LIKE ?3 ESCAPE '\\' OR lower(COALESCE(o.customer, '')) LIKE ?3 ESCAPE '\\'
                OR EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND lower(l.sku) LIKE ?3 ESCAPE '\\'))
         ORDER BY o.id DESC
         LIMIT ?4 OFFSET ?5"
        ))?,
    };
    let rows = stmt.query_map(
        params![
            filter.archived,
            filter.status_id,
            search,
            filter.limit,
            filter.offset
        ],
        summary_from,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
