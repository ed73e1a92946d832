//! Inventory and its trace: every aligned SKU as the last pass left it (POS, store, merge base, open
//! conflict, product name) a sorted page at a time, and one SKU's sync log, newest first — every change on
//! either side with where it came from, so "why is this number what it is" has an answer. Also what a
//! stock pass needs to name the sources of what it saw move: the web orders sold and the orders the back
//! office took in since the last pass. Read-only apart from remembering a product's name.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::Result;
use super::listing::{self, Listed, Spec};
use super::sync_log::SyncLogEntry;
use crate::domain::time::Millis;

/// The sync log's entity for stock quantities (keyed by store SKU) and for SKU pairings (keyed by POS SKU).
pub const STOCK: &str = "stock";
pub const ALIGNMENT: &str = "alignment";

/// What the stock pass records per side when it sees a quantity move since the merge base.
pub const FIELD_POS: &str = "pos.stock_quantity";
/// The store side's quantities are recorded under its system's name: `<system>.stock_quantity`.
const QUANTITY: &str = ".stock_quantity";

/// The field the store side's quantity is recorded under, for the store's system (its sales channel).
pub fn store_field(system: &str) -> String {
    format!("{system}{QUANTITY}")
}

/// Whether `field` records the store side's quantity (whichever system the store was).
pub fn is_store_field(field: &str) -> bool {
    field != FIELD_POS && field.ends_with(QUANTITY)
}

/// Where a change recorded for a side came from (the sync log's `source`).
pub const SOURCE_POS: &str = "pos";
pub const SOURCE_WEB_ORDER: &str = "web_order";
pub const SOURCE_STORE: &str = "store";

/// One aligned SKU as the Inventory panel lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InventoryRow {
    pub id: i64,
    pub pos_sku: String,
    pub store_sku: String,
    /// The store's product name, else the newest order line's name for the SKU.
    pub name: Option<String>,
    /// What the POS showed and the store holds, as the last pass saw them (an open conflict's values when
    /// one waits: the pass did not move the base then).
    pub pos: Option<i64>,
    pub store: Option<i64>,
    /// The quantity both sides last agreed on.
    pub base: Option<i64>,
    pub last_pass_at: Option<Millis>,
    pub sync_state: String,
    pub last_error: Option<String>,
    /// Kinds of the SKU's open conflicts, oldest first.
    pub conflicts: Vec<String>,
}

/// The columns the Inventory panel sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InventorySort {
    PosSku,
    StoreSku,
    Name,
    State,
}

impl InventorySort {
    fn expr(self) -> &'static str {
        match self {
            InventorySort::PosSku => "a.pos_sku",
            InventorySort::StoreSku => "a.store_sku",
            InventorySort::Name => "a.product_name",
            InventorySort::State => "a.sync_state",
        }
    }
}

/// Which pairs the panel shows and in what order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryQuery {
    /// A substring of either SKU or the name.
    pub filter: Option<String>,
    pub sort: InventorySort,
    pub descending: bool,
}

/// The query as SQL: its filter text as a trigram phrase (three characters or more) or a LIKE; `scan`: a
/// LIKE whatever its length.
fn inventory_spec(q: &InventoryQuery, scan: bool) -> Spec {
    let filter = q.filter.as_deref().map(str::trim).filter(|f| !f.is_empty());
    let (scope, text) = match filter {
        None => ("sku_alignment a WHERE 1", None),
        Some(text) => match listing::trigram_phrase(text).filter(|_| !scan) {
            Some(phrase) => (
                "sku_alignment a WHERE a.id IN (SELECT rowid FROM sku_search WHERE sku_search MATCH :text)",
                Some(phrase),
            ),
            None => (
                "sku_alignment a WHERE (a.pos_sku LIKE :text ESCAPE '\\'
                     OR a.store_sku LIKE :text ESCAPE '\\' OR a.product_name LIKE :text ESCAPE '\\')",
                Some(listing::like_pattern(text)),
            ),
        },
    };
    Spec {
        scope: scope.to_string(),
        sort: q.sort.expr(),
        key: "a.id",
        descending: q.descending,
        params: text
            .map(|t| (":text", Value::from(t)))
            .into_iter()
            .collect(),
    }
}

impl Listed for InventoryQuery {
    fn spec(&self) -> Spec {
        inventory_spec(self, false)
    }
}

/// The same query matched by LIKE over every pair: for a phrase most pairs contain (`sku`), one scan is
/// cheaper than the search index handing back nearly every row.
struct Scanned<'a>(&'a InventoryQuery);

impl Listed for Scanned<'_> {
    fn spec(&self) -> Spec {
        inventory_spec(self.0, true)
    }
}

/// The panel's size and its rows `offset..offset + limit`.
pub fn inventory_page(
    conn: &Connection,
    q: &InventoryQuery,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<InventoryRow>)> {
    let text = q.filter.as_deref().map(str::trim).filter(|f| !f.is_empty());
    let (total, ids) = match text.map(listing::trigram_phrase) {
        // Every pair, or a phrase the search index finds in a fair share of them: counted and paged by index.
        None => count_then_page(conn, q, limit, offset)?,
        Some(Some(phrase)) if !common_phrase(conn, &phrase)? => {
            count_then_page(conn, q, limit, offset)?
        }
        // A LIKE scan (1–2 characters, or a phrase most pairs contain): one read answers a short list.
        Some(Some(_)) => Scanned(q).count_and_page(conn, limit, offset)?,
        Some(None) => q.count_and_page(conn, limit, offset)?,
    };
    let rows = ids
        .into_iter()
        .filter_map(|id| inventory_row(conn, id).transpose())
        .collect::<Result<_>>()?;
    Ok((total, rows))
}

fn count_then_page(
    conn: &Connection,
    q: &InventoryQuery,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<i64>)> {
    let total = q.count(conn)?;
    Ok((total, q.page(conn, limit, offset, Some(total))?))
}

/// Whether the search index finds `phrase` in more than 30,000 pairs (it is read no further). Measured on
/// 100k pairs: through the index a phrase in 10,000 pairs costs ~5 ms a query, one in all of them ~50 ms,
/// while a LIKE scan costs ~36 ms whatever it finds.
fn common_phrase(conn: &Connection, phrase: &str) -> Result<bool> {
    const COMMON: i64 = 30_000;
    let found: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM (SELECT rowid FROM sku_search WHERE sku_search MATCH ?1 LIMIT ?2)",
        )?
        .query_row(rusqlite::params![phrase, COMMON + 1], |r| r.get(0))?;
    Ok(found > COMMON)
}

fn number(v: Option<String>) -> Option<i64> {
    v.and_then(|s| s.trim().parse().ok())
}

/// One pair with its open conflicts and its name.
pub fn inventory_row(conn: &Connection, id: i64) -> Result<Option<InventoryRow>> {
    let row = conn
        .prepare_cached(
            "SELECT a.id, a.pos_sku, a.store_sku, a.product_name, a.pos_seen, a.store_seen, a.agreed, a.last_pass_at,
                    a.sync_state, a.last_error
             FROM sku_alignment a WHERE a.id = ?1",
        )?
        .query_row([id], |r| {
            Ok(InventoryRow {
                id: r.get(0)?,
                pos_sku: r.get(1)?,
                store_sku: r.get(2)?,
                name: Some(r.get::<_, String>(3)?).filter(|n| !n.trim().is_empty()),
                pos: r.get(4)?,
                store: r.get(5)?,
                base: r.get(6)?,
                last_pass_at: r.get(7)?,
                sync_state: r.get(8)?,
                last_error: r.get(9)?,
                conflicts: Vec::new(),
            })
        })
        .optional()?;
    let Some(mut row) = row else {
        return Ok(None);
    };
    let open: Vec<(String, Option<String>, Option<String>)> = conn
        .prepare_cached(
            "SELECT kind, pos_value, store_value FROM stock_conflicts
             WHERE sku = ?1 AND resolved_at IS NULL ORDER BY id",
        )?
        .query_map([&row.store_sku], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    // A stock conflict holds what the pass saw (a price drift holds prices, not quantities).
    if let Some((_, pos, store)) = open.iter().rev().find(|(k, _, _)| k != "price_drift") {
        row.pos = number(pos.clone()).or(row.pos);
        row.store = number(store.clone()).or(row.store);
    }
    row.conflicts = open.into_iter().map(|(k, _, _)| k).collect();
    if row.name.is_none() {
        row.name = line_name(conn, &row.store_sku)?;
    }
    Ok(Some(row))
}

/// The aligned pair of a SKU named by either side.
pub fn pair_id(conn: &Connection, sku: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM sku_alignment WHERE store_sku = ?1 OR pos_sku = ?1 LIMIT 1",
        )?
        .query_row([sku], |r| r.get(0))
        .optional()?)
}

/// The newest order line's name for a SKU (by the SKU index, newest first).
fn line_name(conn: &Connection, sku: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT name FROM order_lines WHERE sku = ?1 AND name IS NOT NULL AND trim(name) <> ''
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row([sku], |r| r.get(0))
        .optional()?)
}

/// A product name for a SKU (either side's): the store's, else the newest order line's.
pub fn product_name(conn: &Connection, sku: &str) -> Result<Option<String>> {
    let stored: Option<String> = conn
        .prepare_cached(
            "SELECT product_name FROM sku_alignment WHERE (store_sku = ?1 OR pos_sku = ?1) AND product_name <> ''
             LIMIT 1",
        )?
        .query_row([sku], |r| r.get(0))
        .optional()?;
    match stored {
        Some(name) => Ok(Some(name)),
        None => line_name(conn, sku),
    }
}

/// Remembers the store's name for a pair's product (nothing is written when it is the same).
pub fn remember_name(conn: &Connection, pair_id: i64, name: &str) -> Result<()> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(());
    }
    conn.prepare_cached(
        "UPDATE sku_alignment SET product_name = ?2 WHERE id = ?1 AND product_name IS NOT ?2",
    )?
    .execute(params![pair_id, name])?;
    Ok(())
}

const LOG_COLUMNS: &str =
    "id, at, source, entity, entity_key, field, old_value, new_value, reason, job_id, actor";

fn log_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<SyncLogEntry> {
    Ok(SyncLogEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        source: r.get(2)?,
        entity: r.get(3)?,
        entity_key: r.get(4)?,
        field: r.get(5)?,
        old_value: r.get(6)?,
        new_value: r.get(7)?,
        reason: r.get(8)?,
        job_id: r.get(9)?,
        actor: r.get(10)?,
    })
}

/// A SKU's trace, newest first: the stock rows of its store SKU and the pairing rows of its POS SKU, both
/// read down the sync log's (entity, key, id) index — a page costs the SKU's rows skipped, never the log.
pub fn trace_page(
    conn: &Connection,
    store_sku: &str,
    pos_sku: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<SyncLogEntry>> {
    let sql = format!(
        "SELECT {LOG_COLUMNS} FROM (
             SELECT * FROM (SELECT * FROM sync_log WHERE entity = ?1 AND entity_key = ?2
                            ORDER BY id DESC LIMIT ?5 + ?6)
             UNION ALL
             SELECT * FROM (SELECT * FROM sync_log WHERE entity = ?3 AND entity_key = ?4
                            ORDER BY id DESC LIMIT ?5 + ?6))
         ORDER BY id DESC LIMIT ?5 OFFSET ?6"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(
            params![STOCK, store_sku, ALIGNMENT, pos_sku, limit, offset],
            log_entry,
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// How many rows [`trace_page`] pages through.
pub fn count_trace(conn: &Connection, store_sku: &str, pos_sku: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM sync_log WHERE entity = ?1 AND entity_key = ?2)
                  + (SELECT COUNT(*) FROM sync_log WHERE entity = ?3 AND entity_key = ?4)",
        )?
        .query_row(params![STOCK, store_sku, ALIGNMENT, pos_sku], |r| r.get(0))?)
}

/// A web order's units of one SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUnits {
    pub number: String,
    pub quantity: i64,
}

/// Web orders of `channel` created after `since` that hold `sku` (not cancelled, not history): what the
/// store sold since the last pass, per order — the same orders the pass's `channel_sales_since` counts.
pub fn web_sales_since(
    conn: &Connection,
    channel: &str,
    sku: &str,
    since: Millis,
) -> Result<Vec<OrderUnits>> {
    let rows = conn
        .prepare_cached(
            "SELECT o.number, SUM(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id
             JOIN statuses s ON s.id = o.status_id
             WHERE l.sku = ?1 AND o.channel = ?2 AND o.created_at > ?3 AND s.kind <> 'cancelled' AND o.history = 0
             GROUP BY o.id ORDER BY o.id",
        )?
        .query_map(params![sku, channel, since], |r| {
            Ok(OrderUnits {
                number: r.get(0)?,
                quantity: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Web orders created before `since` and cancelled after it that hold `sku`: their units went back on
/// the store's shelf since the last pass.
pub fn web_cancellations_since(
    conn: &Connection,
    channel: &str,
    sku: &str,
    since: Millis,
) -> Result<Vec<OrderUnits>> {
    let rows = conn
        .prepare_cached(
            "SELECT o.number, SUM(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id
             JOIN statuses s ON s.id = o.status_id
             WHERE l.sku = ?1 AND o.channel = ?2 AND o.created_at <= ?3 AND o.updated_at > ?3
               AND s.kind = 'cancelled' AND o.history = 0
             GROUP BY o.id ORDER BY o.id",
        )?
        .query_map(params![sku, channel, since], |r| {
            Ok(OrderUnits {
                number: r.get(0)?,
                quantity: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// An order's number and its lines as (SKU, quantity).
pub type NumberedLines = (String, Vec<(String, i64)>);

/// The number and lines of an order, by id.
pub fn order_units(conn: &Connection, order_id: i64) -> Result<Option<NumberedLines>> {
    let Some(number) = conn
        .prepare_cached("SELECT number FROM orders WHERE id = ?1")?
        .query_row([order_id], |r| r.get::<_, String>(0))
        .optional()?
    else {
        return Ok(None);
    };
    let lines = conn
        .prepare_cached(
            "SELECT sku, quantity FROM order_lines WHERE order_id = ?1 ORDER BY line_no",
        )?
        .query_map([order_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some((number, lines)))
}
