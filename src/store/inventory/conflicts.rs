//! Stock conflicts: open until resolved (by an operator, the engine or a kind's policy), at most one open
//! per SKU and kind. Part of `store::inventory`, which re-exports it.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use crate::domain::inventory::{ConflictKind, money_from_cents};
use crate::domain::time::Millis;
use crate::store::Result;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockConflict {
    pub id: i64,
    pub sku: String,
    pub kind: String,
    pub pos_value: Option<String>,
    pub store_value: Option<String>,
    pub base: Option<i64>,
    pub merged: Option<i64>,
    /// A quantity, or for a price_drift the POS price in cents: read it through `proposal()`.
    pub proposed: Option<i64>,
    pub detail: String,
    pub detected_at: Millis,
    pub resolved_at: Option<Millis>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
    pub quantity: Option<i64>,
}

/// Who settles conflicts that no operator decided: the engine (the sides agree again) and a kind's policy.
pub const RESOLVED_BY_ENGINE: &str = "engine";
pub const RESOLVED_BY_POLICY: &str = "policy";

impl StockConflict {
    /// A price_drift holds prices (its `proposed` in cents); every other kind holds quantities.
    pub fn is_price(&self) -> bool {
        self.kind == ConflictKind::PriceDrift.as_str()
    }

    /// What the conflict proposes, as a person reads it: money ("120.98") for a price, else a quantity.
    pub fn proposal(&self) -> Option<String> {
        self.proposed.map(|n| {
            if self.is_price() {
                money_from_cents(n)
            } else {
                n.to_string()
            }
        })
    }

    /// Settled by a person (not by the engine or a policy).
    pub fn resolved_by_operator(&self) -> bool {
        self.resolved_at.is_some()
            && self
                .resolved_by
                .as_deref()
                .is_some_and(|by| by != RESOLVED_BY_ENGINE && by != RESOLVED_BY_POLICY)
    }
}

pub struct NewConflict<'a> {
    pub sku: &'a str,
    pub kind: &'a str,
    pub pos_value: Option<String>,
    pub store_value: Option<String>,
    pub base: Option<i64>,
    pub merged: Option<i64>,
    pub proposed: Option<i64>,
    pub detail: &'a str,
}

/// Opens a conflict, or refreshes the open one of the same SKU and kind; returns its id and whether it is new.
pub fn raise(conn: &Connection, c: &NewConflict<'_>, now: Millis) -> Result<(i64, bool)> {
    let open: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM stock_conflicts WHERE sku = ?1 AND kind = ?2 AND resolved_at IS NULL",
        )?
        .query_row(params![c.sku, c.kind], |r| r.get(0))
        .optional()?;
    if let Some(id) = open {
        conn.prepare_cached(
            "UPDATE stock_conflicts SET pos_value = ?2, store_value = ?3, base = ?4, merged = ?5, proposed = ?6, detail = ?7 WHERE id = ?1",
        )?
        .execute(params![id, c.pos_value, c.store_value, c.base, c.merged, c.proposed, c.detail])?;
        return Ok((id, false));
    }
    conn.prepare_cached(
        "INSERT INTO stock_conflicts (sku, kind, pos_value, store_value, base, merged, proposed, detail, detected_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![c.sku, c.kind, c.pos_value, c.store_value, c.base, c.merged, c.proposed, c.detail, now])?;
    Ok((conn.last_insert_rowid(), true))
}

const CONFLICT_COLUMNS: &str = "id, sku, kind, pos_value, store_value, base, merged, proposed, detail, detected_at, \
     resolved_at, resolved_by, resolution, quantity";

fn conflict_from(r: &Row<'_>) -> rusqlite::Result<StockConflict> {
    Ok(StockConflict {
        id: r.get(0)?,
        sku: r.get(1)?,
        kind: r.get(2)?,
        pos_value: r.get(3)?,
        store_value: r.get(4)?,
        base: r.get(5)?,
        merged: r.get(6)?,
        proposed: r.get(7)?,
        detail: r.get(8)?,
        detected_at: r.get(9)?,
        resolved_at: r.get(10)?,
        resolved_by: r.get(11)?,
        resolution: r.get(12)?,
        quantity: r.get(13)?,
    })
}

/// Open conflicts (or all, newest first), a page at a time.
pub fn conflicts(
    conn: &Connection,
    include_resolved: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<StockConflict>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONFLICT_COLUMNS} FROM stock_conflicts WHERE (?1 OR resolved_at IS NULL) ORDER BY id DESC LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(params![include_resolved, limit, offset], conflict_from)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One conflict by id.
pub fn conflict(conn: &Connection, id: i64) -> Result<Option<StockConflict>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {CONFLICT_COLUMNS} FROM stock_conflicts WHERE id = ?1"
        ))?
        .query_row([id], conflict_from)
        .optional()?)
}

pub fn open_conflicts_for(conn: &Connection, sku: &str) -> Result<Vec<StockConflict>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONFLICT_COLUMNS} FROM stock_conflicts WHERE sku = ?1 AND resolved_at IS NULL ORDER BY id"
    ))?;
    let rows = stmt.query_map([sku], conflict_from)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The newest conflict of `kind` per SKU, open or resolved (the last word on each SKU), keyed by SKU.
pub fn latest_by_sku(conn: &Connection, kind: &str) -> Result<HashMap<String, StockConflict>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONFLICT_COLUMNS} FROM stock_conflicts
         WHERE id IN (SELECT MAX(id) FROM stock_conflicts WHERE kind = ?1 GROUP BY sku)"
    ))?;
    let rows = stmt.query_map([kind], conflict_from)?;
    rows.map(|r| r.map(|c| (c.sku.clone(), c)))
        .collect::<rusqlite::Result<_>>()
        .map_err(Into::into)
}

pub fn resolve(
    conn: &Connection,
    id: i64,
    by: &str,
    resolution: &str,
    quantity: Option<i64>,
    now: Millis,
) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE stock_conflicts SET resolved_at = ?2, resolved_by = ?3, resolution = ?4, quantity = ?5
             WHERE id = ?1 AND resolved_at IS NULL",
        )?
        .execute(params![id, now, by, resolution, quantity])?;
    Ok(n == 1)
}
