//! Queries behind `syncdesk report`: the sync dashboard's figures for a period, read from what the flows
//! already record (sync log, shipments, jobs, alignment, conflicts). The Restock figures live with the
//! console's dashboard queries (`store::console::workflow_metrics`).

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, watermarks};
use crate::domain::time::Millis;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncMetrics {
    /// Shipment recorded → channel status pushed, over pushes in the period (ms).
    pub fulfilment_latency_avg_ms: Option<f64>,
    pub fulfilment_latency_max_ms: Option<i64>,
    pub fulfilment_pushes: i64,
    /// Aligned pairs, and the POS items the last full stock pass saw (None before any full pass).
    pub aligned: i64,
    pub pos_items: Option<i64>,
    /// Stock conflicts detected in the period, and how many are still open.
    pub conflicts_detected: i64,
    pub conflicts_open: i64,
    /// Jobs that finished in the period: done vs dead.
    pub jobs_done: i64,
    pub jobs_dead: i64,
    /// Aligned pairs whose last pass left both sides agreeing, of those that had a pass.
    pub pairs_in_agreement: i64,
    pub pairs_passed: i64,
    pub stock_changes: i64,
}

/// `pushed_fields`: the sync-log fields that record a channel's status push (`<system>.status`).
pub fn sync_metrics(
    conn: &Connection,
    since: Millis,
    pushed_fields: &[String],
) -> Result<SyncMetrics> {
    let pushed_fields = serde_json::to_string(pushed_fields).unwrap_or_else(|_| "[]".into());
    let mut m = SyncMetrics::default();
    (m.fulfilment_latency_avg_ms, m.fulfilment_latency_max_ms, m.fulfilment_pushes) = conn.query_row(
        "SELECT AVG(l.at - s.shipped), MAX(l.at - s.shipped), COUNT(*) FROM sync_log l
         JOIN orders o ON o.number = l.entity_key
         JOIN (SELECT order_id, MAX(shipped_at) AS shipped FROM shipments GROUP BY order_id) s ON s.order_id = o.id
         WHERE l.entity = 'order' AND l.field IN (SELECT value FROM json_each(?2)) AND l.at >= ?1 AND s.shipped <= l.at",
        params![since, pushed_fields],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    m.aligned = conn.query_row("SELECT COUNT(*) FROM sku_alignment", [], |r| r.get(0))?;
    m.pos_items = watermarks::get(conn, POS_ITEMS)?.and_then(|v| v.parse().ok());
    (m.conflicts_detected, m.conflicts_open) = conn.query_row(
        "SELECT COALESCE(SUM(detected_at >= ?1), 0), COALESCE(SUM(resolved_at IS NULL), 0) FROM stock_conflicts",
        [since],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    (m.jobs_done, m.jobs_dead) = conn.query_row(
        "SELECT COALESCE(SUM(state = 'done'), 0), COALESCE(SUM(state = 'dead'), 0) FROM jobs WHERE updated_at >= ?1",
        [since],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    (m.pairs_in_agreement, m.pairs_passed) = conn.query_row(
        "SELECT COALESCE(SUM(sync_state = 'synced'), 0), COUNT(*) FROM sku_alignment WHERE last_pass_at IS NOT NULL",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    m.stock_changes = conn
        .query_row(
            "SELECT COUNT(*) FROM sync_log WHERE entity = 'stock' AND at >= ?1",
            params![since],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    Ok(m)
}

/// Where a full stock pass leaves the number of POS items it read (the coverage denominator).
pub const POS_ITEMS: &str = "stock.pos_items";
