//! Stock sync state: SKU alignment pairs with their merge base, and stock conflicts (open until resolved,
//! at most one open per SKU and kind).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::Result;
use crate::domain::alignment::AlignmentLine;
use crate::domain::inventory::{ConflictKind, MergeBase, UnconfirmedWrite, money_from_cents};
use crate::domain::time::Millis;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlignedSku {
    pub id: i64,
    pub pos_sku: String,
    pub woo_sku: String,
    pub match_type: String,
    pub confidence: f64,
    pub woo_product_id: Option<i64>,
    pub woo_parent_id: Option<i64>,
    pub base: Option<MergeBase>,
    pub pos_price: Option<String>,
    pub woo_price: Option<String>,
    pub sync_state: String,
    pub last_error: Option<String>,
    pub last_pass_at: Option<Millis>,
    /// A stock write whose answer was lost, until a read of the store tells whether it landed.
    pub unconfirmed: Option<UnconfirmedWrite>,
}

const ALIGNED_COLUMNS: &str = "id, pos_sku, woo_sku, match_type, confidence, woo_product_id, woo_parent_id, agreed, \
     pos_seen, woo_seen, pos_price, woo_price, sync_state, last_error, last_pass_at, unconfirmed_write";

fn aligned_from(r: &Row<'_>) -> rusqlite::Result<AlignedSku> {
    let base = match (
        r.get::<_, Option<i64>>(7)?,
        r.get::<_, Option<i64>>(8)?,
        r.get::<_, Option<i64>>(9)?,
    ) {
        (Some(agreed), Some(pos_seen), Some(woo_seen)) => Some(MergeBase {
            agreed,
            pos_seen,
            woo_seen,
        }),
        _ => None,
    };
    Ok(AlignedSku {
        id: r.get(0)?,
        pos_sku: r.get(1)?,
        woo_sku: r.get(2)?,
        match_type: r.get(3)?,
        confidence: r.get(4)?,
        woo_product_id: r.get(5)?,
        woo_parent_id: r.get(6)?,
        base,
        pos_price: r.get(10)?,
        woo_price: r.get(11)?,
        sync_state: r.get(12)?,
        last_error: r.get(13)?,
        last_pass_at: r.get(14)?,
        unconfirmed: r
            .get::<_, Option<String>>(15)?
            .and_then(|json| serde_json::from_str(&json).ok()),
    })
}

/// Remembers (or, with `None`, forgets) a stock write whose answer was lost.
pub fn set_unconfirmed(conn: &Connection, id: i64, write: Option<&UnconfirmedWrite>) -> Result<()> {
    let json = write.map(|w| serde_json::to_string(w).unwrap_or_default());
    conn.prepare_cached("UPDATE sku_alignment SET unconfirmed_write = ?2 WHERE id = ?1")?
        .execute(params![id, json])?;
    Ok(())
}

/// What an import did to one pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Upsert {
    Added,
    Updated,
    Unchanged,
    /// The POS SKU now goes with another store SKU. What was agreed with the old one cannot stand for the
    /// new one, so it is retired (and handed back here, for the report and the sync log).
    Repointed {
        from: String,
        retired: Retired,
    },
}

/// The state a pair had with a store SKU it no longer has.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Retired {
    /// The merge base agreed with the old store SKU.
    pub base: Option<MergeBase>,
    /// A stock write to the old store SKU whose answer was lost, no longer followed.
    pub unconfirmed: Option<UnconfirmedWrite>,
}

impl Retired {
    pub fn is_empty(&self) -> bool {
        self.base.is_none() && self.unconfirmed.is_none()
    }
}

/// A stored pair whose store SKU an imported line gave to another POS SKU: it is no longer aligned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unaligned {
    pub pos_sku: String,
    pub woo_sku: String,
    /// The line that took its store SKU.
    pub taken_by_line: usize,
    pub retired: Retired,
}

/// A stored pair as an import sees it.
struct Stored {
    id: i64,
    pos_sku: String,
    woo_sku: String,
    match_type: String,
    confidence: f64,
    retired: Retired,
}

fn stored_by(conn: &Connection, column: &str, sku: &str) -> Result<Option<Stored>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT id, pos_sku, woo_sku, match_type, confidence, agreed, pos_seen, woo_seen, unconfirmed_write
             FROM sku_alignment WHERE {column} = ?1"
        ))?
        .query_row([sku], |r| {
            let base = match (
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, Option<i64>>(7)?,
            ) {
                (Some(agreed), Some(pos_seen), Some(woo_seen)) => Some(MergeBase {
                    agreed,
                    pos_seen,
                    woo_seen,
                }),
                _ => None,
            };
            Ok(Stored {
                id: r.get(0)?,
                pos_sku: r.get(1)?,
                woo_sku: r.get(2)?,
                match_type: r.get(3)?,
                confidence: r.get(4)?,
                retired: Retired {
                    base,
                    unconfirmed: r
                        .get::<_, Option<String>>(8)?
                        .and_then(|json| serde_json::from_str(&json).ok()),
                },
            })
        })
        .optional()?)
}

/// Applies the lines of one alignment import (each POS SKU and each store SKU on at most one line: see
/// `domain::alignment::without_conflicts`), keyed by POS SKU. Returns what happened to each line (in the
/// order of `lines`) and the stored pairs that lost their store SKU to a line. Nothing is dropped without being returned:
/// a re-pointed pair's merge base and a displaced pair's come back for the caller to report and log.
/// Store SKUs may move between pairs in one import (two crossed pairs swapped, say).
pub fn upsert_alignment(
    conn: &Connection,
    lines: &[AlignmentLine],
    now: Millis,
) -> Result<(Vec<Upsert>, Vec<Unaligned>)> {
    let in_file: std::collections::HashSet<&str> =
        lines.iter().map(|l| l.pair.pos_sku.as_str()).collect();
    // Read everything first: the writes below move store SKUs around.
    let mut plan = Vec::with_capacity(lines.len());
    let mut unaligned = Vec::new();
    for l in lines {
        let mine = stored_by(conn, "pos_sku", &l.pair.pos_sku)?;
        if let Some(holder) = stored_by(conn, "woo_sku", &l.pair.woo_sku)?
            && holder.pos_sku != l.pair.pos_sku
            && !in_file.contains(holder.pos_sku.as_str())
        {
            unaligned.push((
                holder.id,
                Unaligned {
                    pos_sku: holder.pos_sku,
                    woo_sku: holder.woo_sku,
                    taken_by_line: l.line,
                    retired: holder.retired,
                },
            ));
        }
        plan.push((l, mine));
    }
    // Free every store SKU that changes hands: re-pointed pairs park on a placeholder no SKU can equal,
    // displaced pairs go.
    for (l, mine) in &plan {
        if let Some(m) = mine
            && m.woo_sku != l.pair.woo_sku
        {
            conn.prepare_cached(
                "UPDATE sku_alignment SET woo_sku = char(0) || 'repointing:' || id WHERE id = ?1",
            )?
            .execute([m.id])?;
        }
    }
    for (id, _) in &unaligned {
        conn.prepare_cached("DELETE FROM sku_alignment WHERE id = ?1")?
            .execute([id])?;
    }
    let mut outcomes = Vec::with_capacity(plan.len());
    for (l, mine) in plan {
        let a = &l.pair;
        let outcome = match mine {
            None => {
                conn.prepare_cached(
                    "INSERT INTO sku_alignment (pos_sku, woo_sku, match_type, confidence, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![a.pos_sku, a.woo_sku, a.match_type, a.confidence, now])?;
                Upsert::Added
            }
            Some(m) if m.woo_sku == a.woo_sku => {
                if m.match_type == a.match_type && m.confidence == a.confidence {
                    Upsert::Unchanged
                } else {
                    conn.prepare_cached(
                        "UPDATE sku_alignment SET match_type = ?2, confidence = ?3, updated_at = ?4 WHERE id = ?1",
                    )?
                    .execute(params![m.id, a.match_type, a.confidence, now])?;
                    Upsert::Updated
                }
            }
            Some(m) => {
                conn.prepare_cached(
                    "UPDATE sku_alignment SET woo_sku = ?2, match_type = ?3, confidence = ?4, updated_at = ?5,
                         woo_product_id = NULL, woo_parent_id = NULL, agreed = NULL, pos_seen = NULL,
                         woo_seen = NULL, unconfirmed_write = NULL
                     WHERE id = ?1",
                )?
                .execute(params![m.id, a.woo_sku, a.match_type, a.confidence, now])?;
                Upsert::Repointed {
                    from: m.woo_sku,
                    retired: m.retired,
                }
            }
        };
        outcomes.push(outcome);
    }
    Ok((outcomes, unaligned.into_iter().map(|(_, u)| u).collect()))
}

pub fn aligned(conn: &Connection) -> Result<Vec<AlignedSku>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ALIGNED_COLUMNS} FROM sku_alignment ORDER BY pos_sku"
    ))?;
    let rows = stmt.query_map([], aligned_from)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A pair by either side's SKU.
pub fn find(conn: &Connection, sku: &str) -> Result<Option<AlignedSku>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ALIGNED_COLUMNS} FROM sku_alignment WHERE pos_sku = ?1 OR woo_sku = ?1 LIMIT 1"
        ))?
        .query_row([sku], aligned_from)
        .optional()?)
}

/// The store SKU aligned with each of these store product (or variation) ids, where one is known.
pub fn woo_skus_for_products(
    conn: &Connection,
    product_ids: &[i64],
) -> Result<HashMap<i64, String>> {
    let mut stmt =
        conn.prepare_cached("SELECT woo_sku FROM sku_alignment WHERE woo_product_id = ?1 LIMIT 1")?;
    let mut found = HashMap::new();
    for id in product_ids {
        if let Some(sku) = stmt.query_row([id], |r| r.get::<_, String>(0)).optional()? {
            found.insert(*id, sku);
        }
    }
    Ok(found)
}

pub fn count_aligned(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM sku_alignment", [], |r| r.get(0))?)
}

/// Remembers the store's product (and parent, for a variation) so the next pass can write without a lookup.
pub fn set_product_ids(
    conn: &Connection,
    id: i64,
    product_id: i64,
    parent_id: Option<i64>,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE sku_alignment SET woo_product_id = ?2, woo_parent_id = ?3 WHERE id = ?1",
    )?
    .execute(params![id, product_id, parent_id])?;
    Ok(())
}

/// Records a pass's outcome for a pair: a new base (after a write both sides accepted) and its state.
pub fn record_pass(
    conn: &Connection,
    id: i64,
    base: Option<MergeBase>,
    state: &str,
    error: Option<&str>,
    now: Millis,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE sku_alignment SET agreed = COALESCE(?2, agreed), pos_seen = COALESCE(?3, pos_seen),
             woo_seen = COALESCE(?4, woo_seen), sync_state = ?5, last_error = ?6, last_pass_at = ?7
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        base.map(|b| b.agreed),
        base.map(|b| b.pos_seen),
        base.map(|b| b.woo_seen),
        state,
        error,
        now
    ])?;
    Ok(())
}

pub fn record_prices(
    conn: &Connection,
    id: i64,
    pos_price: Option<&str>,
    woo_price: Option<&str>,
) -> Result<()> {
    conn.prepare_cached("UPDATE sku_alignment SET pos_price = COALESCE(?2, pos_price), woo_price = COALESCE(?3, woo_price) WHERE id = ?1")?
        .execute(params![id, pos_price, woo_price])?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockConflict {
    pub id: i64,
    pub sku: String,
    pub kind: String,
    pub pos_value: Option<String>,
    pub woo_value: Option<String>,
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
    pub woo_value: Option<String>,
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
            "UPDATE stock_conflicts SET pos_value = ?2, woo_value = ?3, base = ?4, merged = ?5, proposed = ?6, detail = ?7 WHERE id = ?1",
        )?
        .execute(params![id, c.pos_value, c.woo_value, c.base, c.merged, c.proposed, c.detail])?;
        return Ok((id, false));
    }
    conn.prepare_cached(
        "INSERT INTO stock_conflicts (sku, kind, pos_value, woo_value, base, merged, proposed, detail, detected_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![c.sku, c.kind, c.pos_value, c.woo_value, c.base, c.merged, c.proposed, c.detail, now])?;
    Ok((conn.last_insert_rowid(), true))
}

const CONFLICT_COLUMNS: &str = "id, sku, kind, pos_value, woo_value, base, merged, proposed, detail, detected_at, \
     resolved_at, resolved_by, resolution, quantity";

fn conflict_from(r: &Row<'_>) -> rusqlite::Result<StockConflict> {
    Ok(StockConflict {
        id: r.get(0)?,
        sku: r.get(1)?,
        kind: r.get(2)?,
        pos_value: r.get(3)?,
        woo_value: r.get(4)?,
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

/// Web orders staged in the back office whose quantities no stock pass has accounted for yet:
/// (order id, the staging key).
pub fn absorption_candidates(conn: &Connection, system: &str) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.local_id, l.external_id FROM links l
         WHERE l.entity = 'order' AND l.system = ?1
           AND NOT EXISTS (SELECT 1 FROM stock_absorbed a WHERE a.order_id = l.local_id)
           AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = l.local_id AND o.history = 1)",
    )?;
    let rows = stmt.query_map([system], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Marks an order's quantities as taken into account by a stock pass; returns its lines (SKU, quantity).
pub fn absorb(conn: &Connection, order_id: i64, now: Millis) -> Result<Vec<(String, i64)>> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO stock_absorbed (order_id, absorbed_at) VALUES (?1, ?2)",
    )?
    .execute(params![order_id, now])?;
    order_line_quantities(conn, order_id)
}

/// Marks an order cancelled before any pass counted it: later passes neither count it back nor out.
pub fn pass_over(conn: &Connection, order_id: i64, now: Millis) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO stock_absorbed (order_id, absorbed_at, counted) VALUES (?1, ?2, 0)",
    )?
    .execute(params![order_id, now])?;
    Ok(())
}

/// Marks a counted order's units as back in the back office after its cancellation (counted out once).
pub fn release(conn: &Connection, order_id: i64, now: Millis) -> Result<()> {
    conn.prepare_cached(
        "UPDATE stock_absorbed SET released_at = ?2
         WHERE order_id = ?1 AND counted = 1 AND released_at IS NULL",
    )?
    .execute(params![order_id, now])?;
    Ok(())
}

fn order_line_quantities(conn: &Connection, order_id: i64) -> Result<Vec<(String, i64)>> {
    let mut stmt =
        conn.prepare_cached("SELECT sku, quantity FROM order_lines WHERE order_id = ?1")?;
    let rows = stmt.query_map([order_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Units of each SKU sold through a channel since `since` (orders not cancelled), to explain the store's
/// stock movement between passes.
pub fn channel_sales_since(
    conn: &Connection,
    channel: &str,
    since: Millis,
) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.sku, SUM(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id
         JOIN statuses s ON s.id = o.status_id
         WHERE o.channel = ?1 AND o.created_at > ?2 AND s.kind <> 'cancelled' AND o.history = 0
         GROUP BY l.sku",
    )?;
    let rows = stmt.query_map(params![channel, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Remembers that the store changed a product (a webhook or poll hint) for the next incremental pass.
pub fn hint_product(conn: &Connection, woo_product_id: i64, now: Millis) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO stock_hints (woo_product_id, hinted_at) VALUES (?1, ?2)
         ON CONFLICT (woo_product_id) DO UPDATE SET hinted_at = excluded.hinted_at",
    )?
    .execute(params![woo_product_id, now])?;
    Ok(())
}

/// The product ids the store hinted at since they were last cleared.
pub fn hints(conn: &Connection) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT woo_product_id FROM stock_hints")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Forgets hints a pass has dealt with (newer hints for other products stay).
pub fn clear_hints(conn: &Connection, ids: &[i64]) -> Result<()> {
    let mut stmt = conn.prepare_cached("DELETE FROM stock_hints WHERE woo_product_id = ?1")?;
    for id in ids {
        stmt.execute([id])?;
    }
    Ok(())
}

/// A web order whose back-office document exists (so it may hold stock there) and that no stock pass has
/// accounted for yet, with what decides whether its units are inside the back office's reading.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedWebOrder {
    pub order_id: i64,
    /// The order's status kind in syncdesk (`cancelled`, `shipped`…).
    pub status_kind: String,
    /// The document's status in the back office, as last seen.
    pub remote_status: Option<String>,
    /// (store SKU, quantity)
    pub lines: Vec<(String, i64)>,
    /// A pass already counted it back; it is listed again only once cancelled, to be counted out.
    pub counted: bool,
}

/// Orders of `channel` linked to a document in `system` (a link whose external id does not start with
/// `pending_prefix`) that no pass has accounted for yet, plus counted ones since cancelled and not yet
/// counted out.
pub fn linked_web_orders(
    conn: &Connection,
    system: &str,
    channel: &str,
    pending_prefix: &str,
) -> Result<Vec<LinkedWebOrder>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, s.kind, l.remote_status, a.order_id IS NOT NULL FROM links l
         JOIN orders o ON o.id = l.local_id
         JOIN statuses s ON s.id = o.status_id
         LEFT JOIN stock_absorbed a ON a.order_id = o.id
         WHERE l.entity = 'order' AND l.system = ?1 AND lower(o.channel) = lower(?2)
           AND substr(l.external_id, 1, length(?3)) <> ?3
           AND (a.order_id IS NULL
                OR (a.counted = 1 AND a.released_at IS NULL AND s.kind = 'cancelled'))
         ORDER BY o.id",
    )?;
    let heads: Vec<(i64, String, Option<String>, bool)> = stmt
        .query_map(params![system, channel, pending_prefix], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut lines =
        conn.prepare_cached("SELECT sku, quantity FROM order_lines WHERE order_id = ?1")?;
    heads
        .into_iter()
        .map(|(order_id, status_kind, remote_status, counted)| {
            let order_lines = lines
                .query_map([order_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(LinkedWebOrder {
                order_id,
                status_kind,
                remote_status,
                lines: order_lines,
                counted,
            })
        })
        .collect()
}
