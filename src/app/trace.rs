//! Inventory and "why is this number what it is": the aligned SKUs a page at a time, and a SKU's trace —
//! every change on either side (a POS sale, a web order, an edit in the store, a pass's write, an operator's
//! resolution) with its time, old → new and the job. The stock pass records what it saw move through
//! [`PassTrace`], naming each source it can (the web orders sold, the orders the back office took in) and
//! the rest as the side's own change, so the steps always add up from the merge base to what it read.

use std::collections::HashMap;

use rusqlite::Connection;
use serde::Serialize;

use super::{App, AppError, Result};
use crate::domain::inventory::MergeBase;
use crate::domain::time::Millis;
use crate::store::StoreError;
use crate::store::inventory::{self, StockConflict};
use crate::store::listing::Listed;
use crate::store::sync_log::{self, Change, SyncLogEntry};
use crate::store::trace::{
    self as rows, FIELD_POS, InventoryQuery, InventoryRow, SOURCE_POS, SOURCE_STORE,
    SOURCE_WEB_ORDER,
};

/// One page of the Inventory panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InventoryPage {
    pub rows: Vec<InventoryRow>,
    /// Every pair the query matches.
    pub total: i64,
}

/// What a trace line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Pos,
    Store,
    /// An operator's decision on a conflict (a quantity both sides are to take).
    Decision,
    /// Which POS SKU goes with which store SKU.
    Pairing,
}

impl Side {
    pub fn label(self) -> &'static str {
        match self {
            Side::Pos => "POS",
            Side::Store => "store",
            Side::Decision => "both",
            Side::Pairing => "pair",
        }
    }
}

/// Where a change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Units sold at the POS (the POS count went down, no order of ours explains it).
    PosSale,
    /// Units received or counted at the POS (the POS count went up by itself).
    PosReceipt,
    /// A web order: sold in the store, or taken in (or released) by the back office.
    WebOrder,
    /// Someone changed the store's stock there, outside any order.
    StoreEdit,
    /// A stock pass wrote the merged quantity to the store.
    Pass,
    /// An operator settled a conflict.
    Resolution,
    /// The engine wrote an operator's resolution to the store.
    ResolutionApplied,
    /// An alignment import paired the SKU differently.
    Alignment,
    Other,
}

/// One line of a SKU's trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceEntry {
    pub id: i64,
    pub at: Millis,
    pub side: Side,
    pub source: Source,
    /// The web order, for [`Source::WebOrder`].
    pub order: Option<String>,
    /// Who acted, for an operator's decision or an import.
    pub by: Option<String>,
    pub old: Option<String>,
    pub new: Option<String>,
    pub job_id: Option<i64>,
    pub why: Option<String>,
}

impl TraceEntry {
    /// The source as the operator reads it: "POS sale", "web order R-1043", "resolution by carol"…
    pub fn source_label(&self) -> String {
        let by = |what: &str| match &self.by {
            Some(who) => format!("{what} by {who}"),
            None => what.to_string(),
        };
        match self.source {
            Source::PosSale => "POS sale".into(),
            Source::PosReceipt => "POS receipt/count".into(),
            Source::WebOrder => format!("web order {}", self.order.as_deref().unwrap_or("?")),
            Source::StoreEdit => "store edit".into(),
            Source::Pass => "pass".into(),
            Source::Resolution => by("resolution"),
            Source::ResolutionApplied => "resolution applied".into(),
            Source::Alignment => by("alignment"),
            Source::Other => "other".into(),
        }
    }

    /// How a sync log row reads on the trace.
    pub fn from_log(e: SyncLogEntry) -> TraceEntry {
        let moved_up = match (
            e.old_value
                .as_deref()
                .and_then(|v| v.trim().parse::<i64>().ok()),
            e.new_value
                .as_deref()
                .and_then(|v| v.trim().parse::<i64>().ok()),
        ) {
            (Some(old), Some(new)) => new > old,
            _ => false,
        };
        let store_field = rows::is_store_field(&e.field);
        let (side, source) = match (e.entity.as_str(), e.field.as_str(), e.source.as_str()) {
            (rows::ALIGNMENT, _, _) => (Side::Pairing, Source::Alignment),
            (_, FIELD_POS, SOURCE_WEB_ORDER) => (Side::Pos, Source::WebOrder),
            (_, FIELD_POS, _) if moved_up => (Side::Pos, Source::PosReceipt),
            (_, FIELD_POS, _) => (Side::Pos, Source::PosSale),
            (_, _, SOURCE_WEB_ORDER) if store_field => (Side::Store, Source::WebOrder),
            (_, _, SOURCE_STORE) if store_field => (Side::Store, Source::StoreEdit),
            _ if store_field && e.reason.as_deref() == Some(RESOLUTION_APPLIED) => {
                (Side::Store, Source::ResolutionApplied)
            }
            _ if store_field => (Side::Store, Source::Pass),
            (_, "conflict.resolution", _) => (Side::Decision, Source::Resolution),
            _ => (Side::Store, Source::Other),
        };
        let (order, by) = match source {
            Source::WebOrder => (e.actor, None),
            _ => (None, e.actor),
        };
        TraceEntry {
            id: e.id,
            at: e.at,
            side,
            source,
            order,
            by,
            old: e.old_value,
            new: e.new_value,
            job_id: e.job_id,
            why: e.reason,
        }
    }
}

/// The reason the engine records when it writes an operator's resolution to the store.
pub const RESOLUTION_APPLIED: &str = "operator resolution applied";

/// A SKU's trace: the pair as it stands, its open conflicts and a page of its changes, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockTrace {
    pub pair: InventoryRow,
    pub open_conflicts: Vec<StockConflict>,
    /// Every change on record for the SKU (the page holds `entries`).
    pub total: i64,
    pub entries: Vec<TraceEntry>,
}

impl App {
    /// A page of the aligned SKUs for the Inventory panel.
    pub fn inventory(
        &mut self,
        query: &InventoryQuery,
        limit: i64,
        offset: i64,
    ) -> Result<InventoryPage> {
        let (total, rows) = rows::inventory_page(self.store.conn(), query, limit, offset)?;
        Ok(InventoryPage { rows, total })
    }

    /// Where pair `id` sits in the Inventory panel's list (None: the query leaves it out).
    pub fn inventory_rank(&mut self, query: &InventoryQuery, id: i64) -> Result<Option<i64>> {
        Ok(query.rank(self.store.conn(), id)?)
    }

    /// The aligned pair a SKU (either side's) belongs to: the Inventory panel's row for it.
    pub fn inventory_pair(&mut self, sku: &str) -> Result<Option<i64>> {
        Ok(rows::pair_id(self.store.conn(), sku.trim())?)
    }

    /// The trace of a SKU named by either side: `limit` changes from the `offset`-th newest.
    pub fn stock_trace(&mut self, sku: &str, limit: i64, offset: i64) -> Result<StockTrace> {
        let conn = self.store.conn();
        let id = rows::pair_id(conn, sku.trim())?
            .ok_or_else(|| AppError::Rejected(format!("{sku}: no aligned SKU (POS or store)")))?;
        let pair = rows::inventory_row(conn, id)?
            .ok_or_else(|| AppError::Rejected(format!("{sku}: no aligned SKU (POS or store)")))?;
        Ok(StockTrace {
            open_conflicts: inventory::open_conflicts_for(conn, &pair.store_sku)?,
            total: rows::count_trace(conn, &pair.store_sku, &pair.pos_sku)?,
            entries: rows::trace_page(conn, &pair.store_sku, &pair.pos_sku, limit, offset)?
                .into_iter()
                .map(TraceEntry::from_log)
                .collect(),
            pair,
        })
    }

    /// A product name for a SKU (either side's), where the database has one.
    pub fn product_name(&mut self, sku: &str) -> Result<Option<String>> {
        Ok(rows::product_name(self.store.conn(), sku)?)
    }
}

/// What a stock pass knows about where movement since its last run came from.
#[derive(Debug, Clone, Copy)]
pub struct PassSources<'a> {
    /// The back office's name, as an operator calls it (its integration's title).
    pub back_office: &'a str,
    /// The web channel whose orders the store's stock moves with.
    pub channel: &'a str,
    /// When the last pass ran (orders after it are this pass's news).
    pub since: Millis,
    /// Web orders the back office took in on this pass (their units left its count).
    pub taken_in: &'a [i64],
    /// Web orders the back office released after their cancellation (units back in its count), with lines.
    pub released: &'a [(i64, Vec<(String, i64)>)],
    /// A file-only POS: units of online sales per POS SKU (upper case) in reductions files it took in.
    pub reduction_files: &'a HashMap<String, i64>,
}

/// One known cause of a side's movement: units (signed), where from, and the web order if one.
struct Cause {
    units: i64,
    source: &'static str,
    order: Option<String>,
    why: String,
}

/// Records, per side of a pair whose merge base a pass moves, the steps from the base to what it read.
pub struct PassTrace<'a> {
    sources: PassSources<'a>,
    /// Per store SKU (upper case): the back office's web orders on this pass (signed units on its count).
    back_office: HashMap<String, Vec<Cause>>,
}

impl<'a> PassTrace<'a> {
    /// Reads the orders the back office took in or released once, for every pair of the pass.
    pub fn new(conn: &Connection, sources: PassSources<'a>) -> Result<Self, StoreError> {
        let mut back_office: HashMap<String, Vec<Cause>> = HashMap::new();
        for id in sources.taken_in {
            if let Some((number, lines)) = rows::order_units(conn, *id)? {
                for (sku, qty) in lines {
                    back_office.entry(sku.to_uppercase()).or_default().push(Cause {
                        units: -qty,
                        source: SOURCE_WEB_ORDER,
                        why: format!(
                            "web order {number} taken in by {}: its {qty} left the count there (the store counted the sale)",
                            sources.back_office
                        ),
                        order: Some(number.clone()),
                    });
                }
            }
        }
        for (id, lines) in sources.released {
            let number = rows::order_units(conn, *id)?.map_or_else(|| format!("#{id}"), |(n, _)| n);
            for (sku, qty) in lines {
                back_office
                    .entry(sku.to_uppercase())
                    .or_default()
                    .push(Cause {
                        units: *qty,
                        source: SOURCE_WEB_ORDER,
                        why: format!(
                            "web order {number} cancelled: {} released its {qty}",
                            sources.back_office
                        ),
                        order: Some(number.clone()),
                    });
            }
        }
        Ok(PassTrace {
            sources,
            back_office,
        })
    }

    /// Records how `pos` and `store` came from `base` (nothing for a side that did not move).
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        conn: &Connection,
        pos_sku: &str,
        store_sku: &str,
        base: MergeBase,
        pos: Option<i64>,
        store: Option<i64>,
        job_id: Option<i64>,
        now: Millis,
    ) -> Result<(), StoreError> {
        let s = &self.sources;
        if let Some(pos) = pos.filter(|p| *p != base.pos_seen) {
            let mut causes: Vec<&Cause> = self
                .back_office
                .get(&store_sku.to_uppercase())
                .map(|c| c.iter().collect())
                .unwrap_or_default();
            let file = s
                .reduction_files
                .get(&pos_sku.to_uppercase())
                .map(|q| Cause {
                    units: -q,
                    source: SOURCE_POS,
                    order: None,
                    why: format!("online sales in reductions files the POS took in ({q})"),
                });
            causes.extend(file.as_ref());
            let own = |units: i64| Cause {
                units,
                source: SOURCE_POS,
                order: None,
                why: if units < 0 {
                    format!("sold at the POS ({})", -units)
                } else {
                    format!("received or counted at the POS (+{units})")
                },
            };
            steps(
                conn,
                store_sku,
                FIELD_POS,
                base.pos_seen,
                pos,
                &causes,
                own,
                job_id,
                now,
            )?;
        }
        if let Some(store) = store.filter(|w| *w != base.store_seen) {
            let sold = rows::web_sales_since(conn, s.channel, store_sku, s.since)?
                .into_iter()
                .map(|o| Cause {
                    units: -o.quantity,
                    source: SOURCE_WEB_ORDER,
                    why: format!("web order {} sold {}", o.number, o.quantity),
                    order: Some(o.number),
                });
            let back = rows::web_cancellations_since(conn, s.channel, store_sku, s.since)?
                .into_iter()
                .map(|o| Cause {
                    units: o.quantity,
                    source: SOURCE_WEB_ORDER,
                    why: format!(
                        "web order {} cancelled: {} back in the store",
                        o.number, o.quantity
                    ),
                    order: Some(o.number),
                });
            let causes: Vec<Cause> = sold.chain(back).collect();
            let causes: Vec<&Cause> = causes.iter().collect();
            let own = |units: i64| Cause {
                units,
                source: SOURCE_STORE,
                order: None,
                why: format!("changed in the store by {units:+} (no web order explains it)"),
            };
            steps(
                conn,
                store_sku,
                &rows::store_field(s.channel),
                base.store_seen,
                store,
                &causes,
                own,
                job_id,
                now,
            )?;
        }
        Ok(())
    }
}

/// Writes one row per known cause and one for the rest (the side's own change), each from the running
/// value to the next, ending at `to`.
#[allow(clippy::too_many_arguments)]
fn steps(
    conn: &Connection,
    store_sku: &str,
    field: &str,
    from: i64,
    to: i64,
    causes: &[&Cause],
    own: impl Fn(i64) -> Cause,
    job_id: Option<i64>,
    now: Millis,
) -> Result<(), StoreError> {
    let explained: i64 = causes.iter().map(|c| c.units).sum();
    let rest = own(to - from - explained);
    let mut value = from;
    for c in causes.iter().copied().chain(std::iter::once(&rest)) {
        if c.units == 0 {
            continue;
        }
        let next = value + c.units;
        sync_log::record(
            conn,
            &Change {
                source: c.source,
                entity: rows::STOCK,
                entity_key: store_sku,
                field,
                old_value: Some(&value.to_string()),
                new_value: Some(&next.to_string()),
                reason: Some(&c.why),
                job_id,
                actor: c.order.as_deref(),
            },
            now,
        )?;
        value = next;
    }
    Ok(())
}
