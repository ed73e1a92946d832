//! Which order lines went into which reductions file for a file-only POS. A line's sale (and, once
//! cancelled, its return) is recorded in exactly one batch — `UNIQUE (order_line_id, kind)` — in the same
//! transaction that creates the batch, so a line can never land in two files, whatever crashes in between.
//! A batch moves `recorded` (decided; file maybe not on disk) → `written` (file in place) → `taken` (the
//! POS imported it: the file left the folder).

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::Result;
use crate::domain::time::Millis;

pub const RECORDED: &str = "recorded";
pub const WRITTEN: &str = "written";
pub const TAKEN: &str = "taken";

/// Whether a line takes stock (an online sale) or puts it back (that sale cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Sale,
    Return,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Sale => "sale",
            LineKind::Return => "return",
        }
    }
}

/// An order line due in the next file, with the POS SKU already resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLine {
    pub order_line_id: i64,
    pub kind: LineKind,
    pub channel: String,
    pub order_number: String,
    pub line_no: i64,
    pub sku: String,
    /// Stock to take off the POS: positive for a sale, negative for a return.
    pub quantity: i64,
}

/// A line as written into a file (kept verbatim so a re-write is byte-identical).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchLine {
    pub order_number: String,
    pub line_no: i64,
    pub sku: String,
    pub quantity: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub id: i64,
    pub file_name: String,
    pub state: String,
    pub lines: Vec<BatchLine>,
}

/// Which orders count: their channel, the statuses that make a sale, the statuses that cancel one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRules {
    pub channels: Vec<String>,
    pub sale_status_ids: Vec<i64>,
    pub cancelled_status_ids: Vec<i64>,
}

fn marks(n: usize) -> String {
    vec!["?"; n].join(",")
}

/// Lines of orders that entered a sale status (now or earlier), are not cancelled now, and whose sale is in
/// no file yet. History (orders already final when a first import read them) left the POS long ago. The POS SKU comes from the SKU alignment, or is the store's SKU when unaligned.
pub fn pending_sales(conn: &Connection, rules: &SaleRules) -> Result<Vec<PendingLine>> {
    let (c, s, x) = (
        marks(rules.channels.len()),
        marks(rules.sale_status_ids.len()),
        marks(rules.cancelled_status_ids.len()),
    );
    let sql = format!(
        "SELECT ol.id, o.channel, o.number, ol.line_no, COALESCE(a.pos_sku, ol.sku), ol.quantity
         FROM order_lines ol
         JOIN orders o ON o.id = ol.order_id
         LEFT JOIN sku_alignment a ON a.store_sku = ol.sku
         WHERE o.channel IN ({c}) AND o.history = 0
           AND o.status_id NOT IN ({x})
           AND (o.status_id IN ({s}) OR EXISTS (
                SELECT 1 FROM status_history h WHERE h.order_id = o.id AND h.to_status_id IN ({s})))
           AND NOT EXISTS (
                SELECT 1 FROM pos_reduction_lines p WHERE p.order_line_id = ol.id AND p.kind = 'sale')
         ORDER BY o.id, ol.line_no"
    );
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    args.extend(rules.channels.iter().cloned().map(Into::into));
    args.extend(rules.cancelled_status_ids.iter().copied().map(Into::into));
    args.extend(rules.sale_status_ids.iter().copied().map(Into::into));
    args.extend(rules.sale_status_ids.iter().copied().map(Into::into));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok(PendingLine {
            order_line_id: r.get(0)?,
            kind: LineKind::Sale,
            channel: r.get(1)?,
            order_number: r.get(2)?,
            line_no: r.get(3)?,
            sku: r.get(4)?,
            quantity: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Sales already in a file whose order is cancelled now and that have no return yet: put back the same SKU
/// and quantity that was taken.
pub fn pending_returns(conn: &Connection, rules: &SaleRules) -> Result<Vec<PendingLine>> {
    let sql = format!(
        "SELECT p.order_line_id, o.channel, p.order_number, p.line_no, p.sku, -p.quantity
         FROM pos_reduction_lines p
         JOIN order_lines ol ON ol.id = p.order_line_id
         JOIN orders o ON o.id = ol.order_id
         WHERE p.kind = 'sale' AND o.status_id IN ({})
           AND NOT EXISTS (SELECT 1 FROM pos_reduction_lines r
                           WHERE r.order_line_id = p.order_line_id AND r.kind = 'return')
         ORDER BY o.id, p.line_no",
        marks(rules.cancelled_status_ids.len())
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(rules.cancelled_status_ids.iter()), |r| {
        Ok(PendingLine {
            order_line_id: r.get(0)?,
            kind: LineKind::Return,
            channel: r.get(1)?,
            order_number: r.get(2)?,
            line_no: r.get(3)?,
            sku: r.get(4)?,
            quantity: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Records a new batch holding `lines` (each with the reason to print), named by `file_name(batch id)`.
/// Call inside the write transaction that read the pending lines. A line already in a batch fails the
/// transaction (the unique index), so concurrent planners cannot both claim it.
pub fn record_batch(
    conn: &Connection,
    lines: &[(PendingLine, String)],
    file_name: impl Fn(i64) -> String,
    now: Millis,
) -> Result<Batch> {
    conn.prepare_cached(
        "INSERT INTO pos_reduction_batches (file_name, state, created_at) VALUES ('', ?1, ?2)",
    )?
    .execute(params![RECORDED, now])?;
    let id = conn.last_insert_rowid();
    let name = file_name(id);
    conn.prepare_cached("UPDATE pos_reduction_batches SET file_name = ?2 WHERE id = ?1")?
        .execute(params![id, name])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO pos_reduction_lines
             (batch_id, position, order_line_id, kind, order_number, line_no, sku, quantity, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for (position, (l, reason)) in lines.iter().enumerate() {
        insert.execute(params![
            id,
            position as i64,
            l.order_line_id,
            l.kind.as_str(),
            l.order_number,
            l.line_no,
            l.sku,
            l.quantity,
            reason
        ])?;
    }
    Ok(Batch {
        id,
        file_name: name,
        state: RECORDED.into(),
        lines: lines
            .iter()
            .map(|(l, reason)| BatchLine {
                order_number: l.order_number.clone(),
                line_no: l.line_no,
                sku: l.sku.clone(),
                quantity: l.quantity,
                reason: reason.clone(),
            })
            .collect(),
    })
}

/// Batches in `state`, oldest first, with their lines.
pub fn batches_in(conn: &Connection, state: &str) -> Result<Vec<Batch>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, file_name, state FROM pos_reduction_batches WHERE state = ?1 ORDER BY id",
    )?;
    let heads: Vec<(i64, String, String)> = stmt
        .query_map([state], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    heads
        .into_iter()
        .map(|(id, file_name, state)| {
            Ok(Batch {
                lines: batch_lines(conn, id)?,
                id,
                file_name,
                state,
            })
        })
        .collect()
}

/// A batch by id, with its lines.
pub fn batch(conn: &Connection, id: i64) -> Result<Option<Batch>> {
    let head: Option<(String, String)> = conn
        .prepare_cached("SELECT file_name, state FROM pos_reduction_batches WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    head.map(|(file_name, state)| {
        Ok(Batch {
            lines: batch_lines(conn, id)?,
            id,
            file_name,
            state,
        })
    })
    .transpose()
}

fn batch_lines(conn: &Connection, id: i64) -> Result<Vec<BatchLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT order_number, line_no, sku, quantity, reason FROM pos_reduction_lines
         WHERE batch_id = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(BatchLine {
            order_number: r.get(0)?,
            line_no: r.get(1)?,
            sku: r.get(2)?,
            quantity: r.get(3)?,
            reason: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The file of a recorded batch is in place.
pub fn mark_written(conn: &Connection, id: i64, now: Millis) -> Result<()> {
    conn.prepare_cached(
        "UPDATE pos_reduction_batches SET state = ?2, written_at = ?3 WHERE id = ?1 AND state = ?4",
    )?
    .execute(params![id, WRITTEN, now, RECORDED])?;
    Ok(())
}

/// The file of a written batch has left the folder: the POS took it in.
pub fn mark_taken(conn: &Connection, id: i64, now: Millis) -> Result<()> {
    conn.prepare_cached(
        "UPDATE pos_reduction_batches SET state = ?2, taken_at = ?3 WHERE id = ?1 AND state = ?4",
    )?
    .execute(params![id, TAKEN, now, WRITTEN])?;
    Ok(())
}

/// How many lines of each kind are in files, for tests and status displays.
pub fn count_lines(conn: &Connection, kind: LineKind) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM pos_reduction_lines WHERE kind = ?1")?
        .query_row([kind.as_str()], |r| r.get(0))?)
}

/// Net quantity per POS SKU in files the POS took in during `(after, until]` — the stock pass's
/// `absorbed_web` for a file-only POS: give the previous and the current export's modification times, so
/// only imports the current export can reflect are counted, each in exactly one pass.
pub fn taken_between(
    conn: &Connection,
    after: Millis,
    until: Millis,
) -> Result<std::collections::BTreeMap<String, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.sku, SUM(l.quantity) FROM pos_reduction_lines l
         JOIN pos_reduction_batches b ON b.id = l.batch_id
         WHERE b.state = 'taken' AND b.taken_at > ?1 AND b.taken_at <= ?2
         GROUP BY l.sku",
    )?;
    let rows = stmt.query_map(params![after, until], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
