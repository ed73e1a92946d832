//! Stock passes: read the POS (Counterpoint availability) and the store (products and variations by SKU,
//! 100 per request), merge each aligned SKU against its merge base, write the changes in batches of ≤100,
//! and record new bases, conflicts and the sync log — or, as a dry run, only report the plan.
//! A full pass examines every aligned SKU; an incremental one only SKUs the POS changed since its watermark,
//! products the store hinted at, and SKUs sold online since the last pass.
//! The POS side is Counterpoint, a file-only POS's CSV export, or Metakocka's `warehouse_stock` (its free
//! amount in the configured warehouse; Metakocka's stock webhook hints which products to re-read).

use super::handler::job_payload;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDateTime;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use super::handler::{BoxFuture, JobContext, JobError, JobHandler, job_error};
use super::passes::{PassEntry, PassError, PassOptions, PassReport, dry_note};
use crate::app;
use crate::config::Config;
use crate::domain::alerts::{self, AlertKind, NewAlert};
use crate::domain::alignment::LineError;
use crate::domain::inventory::{
    self, ConflictKind, MergeBase, MergeDecision, Policy, StockObservation, UnconfirmedWrite,
    WriteCheck,
};
use crate::domain::time::now_ms;
use crate::domain::{LinkState, StatusKind};
use crate::integrations::counterpoint::client::{CounterpointClient, StockLevel};
use crate::integrations::counterpoint::{SYSTEM as POS, flows as counterpoint_flows};
use crate::integrations::metakocka::client::{MetakockaClient, StockRow};
use crate::integrations::metakocka::flows as metakocka_flows;
use crate::integrations::metakocka::outbound::PENDING_PREFIX as MK_PENDING_PREFIX;
use crate::integrations::pos_csv::client::{self as pos_csv, PosCsvConfig};
use crate::integrations::woocommerce::client::{
    ItemKey, ProductUpdate, RequestCounter, WooClient, WooProduct,
};
use crate::integrations::woocommerce::orders as woo_orders;
use crate::store::inventory::{self as stock_rows, AlignedSku, LinkedWebOrder, NewConflict};
use crate::store::sync_log::{self, Change};
use crate::store::{Job, StoreError, jobs, watermarks};

const POS_WATERMARK: &str = "counterpoint.inventory";
/// SKUs per concurrent lookup task (each task still asks for 100 per request).
const STORE_READ_CHUNK: usize = 1_000;
const STORE_READS_IN_FLIGHT: usize = 4;
const LAST_PASS: &str = "stock.last_pass_at";
/// The modification time (ms) of the POS export the last pass read.
const EXPORT_MARKER: &str = "pos_csv.export_modified";
const WATERMARK_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3f";
/// Product codes per `warehouse_stock` request of an incremental Metakocka read.
const MK_CODES_PER_READ: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PassMode {
    Full,
    Incremental,
}

/// One planned write to the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockChange {
    pub sku: String,
    pub pos_sku: String,
    pub old: Option<i64>,
    pub new: i64,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkuNote {
    pub sku: String,
    pub message: String,
}

/// A conflict a pass found, with the values it was decided on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetectedConflict {
    pub sku: String,
    pub kind: &'static str,
    pub pos: Option<i64>,
    pub store: Option<i64>,
    /// The agreed quantity of the merge base.
    pub base: Option<i64>,
    pub proposed: Option<i64>,
    pub detail: String,
}

/// What a pass did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct StockPassReport {
    pub examined: usize,
    pub changes: Vec<StockChange>,
    pub conflicts: Vec<SkuNote>,
    /// The same conflicts with their values (what `conflicts detect` lists).
    pub detected: Vec<DetectedConflict>,
    pub skipped: Vec<SkuNote>,
    pub failed: Vec<SkuNote>,
    /// HTTP requests made to the store (reads and writes).
    pub store_requests: usize,
}

/// What the plan decided for one pair, kept until the write's outcome is known.
struct Planned {
    pair: AlignedSku,
    /// The POS quantity this pass saw (None: no such POS item).
    pos: Option<i64>,
    product: Option<WooProduct>,
    new_base: Option<MergeBase>,
    /// The base this pass merged from (the trace records each side's steps from it).
    base: Option<MergeBase>,
    write: Option<i64>,
    conflict: Option<PlannedConflict>,
    /// The pair's unconfirmed write is settled by this pass's read (landed or not): forget it.
    forget_unconfirmed: bool,
}

/// A conflict found on this pass, and the quantity its policy settled on (None: waits for an operator).
struct PlannedConflict {
    kind: ConflictKind,
    merged: Option<i64>,
    proposed: Option<i64>,
    detail: String,
    settled: Option<i64>,
}

/// Where a stock pass reads the POS: Counterpoint over SQL Server, the CSV export of a file-only POS, or
/// Metakocka's stock in one warehouse.
pub enum PosSide {
    Counterpoint(Box<CounterpointClient>),
    Export(PosCsvConfig),
    Metakocka {
        client: Box<MetakockaClient>,
        /// The warehouse web orders reserve from (`metakocka.warehouse`).
        warehouse: String,
    },
}

impl PosSide {
    /// The configured back office: Metakocka or the CSV export when enabled, else Counterpoint.
    pub fn from_config(config: &Config) -> Result<PosSide, String> {
        if config.metakocka.enabled {
            metakocka_flows::client(&config.metakocka)
                .map(|client| PosSide::Metakocka {
                    client: Box::new(client),
                    warehouse: config.metakocka.warehouse.trim().to_string(),
                })
                .map_err(|e| e.to_string())
        } else if config.pos_csv.enabled {
            Ok(PosSide::Export(config.pos_csv.files.clone()))
        } else {
            counterpoint_flows::client(&config.counterpoint)
                .map(|c| PosSide::Counterpoint(Box::new(c)))
                .map_err(|e| e.to_string())
        }
    }

    /// The back office's name, for what the operator reads.
    pub fn name(&self) -> &'static str {
        match self {
            PosSide::Counterpoint(_) => "Counterpoint",
            PosSide::Export(_) => "POS export",
            PosSide::Metakocka { .. } => "Metakocka",
        }
    }

    /// Every item's selling price, as the back office holds it. Counterpoint: PRC_1 (REG_PRC where an item
    /// has no PRC_1); the CSV export: its price column. Metakocka's stock carries no prices.
    pub async fn prices(&self) -> Result<Vec<(String, Option<rust_decimal::Decimal>)>, String> {
        match self {
            PosSide::Counterpoint(client) => Ok(client
                .prices(None)
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|p| (p.item_no, p.prc_1.or(p.reg_prc)))
                .collect()),
            PosSide::Export(cfg) => {
                let export =
                    pos_csv::read_stock(&cfg.export_path, cfg).map_err(|e| e.to_string())?;
                if cfg.price_column.trim().is_empty() {
                    return Err(
                        "pos_csv.files.price_column is empty: the export carries no prices".into(),
                    );
                }
                Ok(export
                    .item_prices()
                    .into_iter()
                    .map(|p| (p.item_no, p.prc_1.or(p.reg_prc)))
                    .collect())
            }
            PosSide::Metakocka { .. } => {
                Err("Metakocka's stock carries no prices: prices stay in the store".into())
            }
        }
    }

    /// Every item with the quantity a full pass would read now (for live views such as `alignment test`).
    pub async fn levels(&self) -> Result<Vec<StockLevel>, String> {
        match self {
            PosSide::Counterpoint(client) => client
                .inventory(true, None)
                .await
                .map_err(|e| e.to_string()),
            PosSide::Export(cfg) => pos_csv::read_stock(&cfg.export_path, cfg)
                .map(|export| export.stock_levels())
                .map_err(|e| e.to_string()),
            PosSide::Metakocka { client, warehouse } => Ok(client
                .warehouse_stock(std::slice::from_ref(warehouse), &[])
                .await
                .map_err(|e| e.to_string())?
                .iter()
                .filter(|r| r.warehouse_id == *warehouse)
                .map(mk_level)
                .collect()),
        }
    }
}

/// What the POS side says on one pass.
struct PosReading {
    /// Every item (full pass) or those changed since the last read (incremental).
    levels: Vec<StockLevel>,
    new_watermark: Option<NaiveDateTime>,
    /// How the web orders the back office holds are counted on this pass.
    orders: OrderAccounting,
    /// File-only POS: units of reduction files the POS took in since the export the last pass read.
    absorbed_by_pos_sku: HashMap<String, i64>,
    /// File-only POS: the export's modification time (ms) and its rejected lines.
    export: Option<(i64, Vec<LineError>)>,
}

/// Web orders whose units the POS reading includes, so the merge counts each sale exactly once.
#[derive(Default)]
struct OrderAccounting {
    /// Counterpoint: staged web orders now inside POS documents; Metakocka: web orders whose units its
    /// reading already lacks (reserved, or shipped when the company reports no reservations).
    absorbed: Vec<i64>,
    /// Metakocka: web orders cancelled before any pass counted them (nothing to count on either side);
    /// marked so later passes do not consider them again.
    passed_over: Vec<i64>,
    /// Metakocka: counted orders since cancelled whose reservation is released: the reading has the units
    /// back and so does the store, so they are counted out once.
    released: Vec<(i64, Vec<(String, i64)>)>,
}

/// What a pass asks of the POS side.
struct PosQuery<'a> {
    mode: PassMode,
    watermark: Option<NaiveDateTime>,
    /// Counterpoint: web orders staged there and not yet accounted for.
    candidates: &'a [(i64, String)],
    export_marker: Option<i64>,
    /// Metakocka: web orders with a sales order there, not yet accounted for.
    linked_orders: &'a [LinkedWebOrder],
    /// Metakocka, incremental: the product codes to re-read (hinted, sold online, or in `linked_orders`).
    wanted: &'a [String],
}

async fn read_pos(
    pos: &PosSide,
    ctx: &JobContext,
    query: PosQuery<'_>,
) -> Result<PosReading, JobError> {
    let PosQuery {
        mode,
        watermark,
        candidates,
        export_marker,
        linked_orders,
        wanted,
    } = query;
    match pos {
        PosSide::Metakocka { client, warehouse } => {
            let warehouses = std::slice::from_ref(warehouse);
            let mut rows = Vec::new();
            match mode {
                PassMode::Full => {
                    rows = client
                        .warehouse_stock(warehouses, &[])
                        .await
                        .map_err(job_error)?
                }
                PassMode::Incremental => {
                    for codes in wanted.chunks(MK_CODES_PER_READ) {
                        rows.extend(
                            client
                                .warehouse_stock(warehouses, codes)
                                .await
                                .map_err(job_error)?,
                        );
                    }
                }
            }
            let reservations = rows
                .iter()
                .any(|r| r.free_amount.is_some() || r.reserved_amount.is_some());
            let levels = rows
                .iter()
                .filter(|r| r.warehouse_id == *warehouse)
                .map(mk_level)
                .collect();
            let orders = if rows.is_empty() {
                // Nothing read: what the orders did to the stock is counted with the next reading.
                OrderAccounting::default()
            } else {
                mk_accounted_orders(ctx, linked_orders, reservations)
            };
            Ok(PosReading {
                levels,
                new_watermark: watermark,
                orders,
                absorbed_by_pos_sku: HashMap::new(),
                export: None,
            })
        }
        PosSide::Counterpoint(client) => {
            // Full, or what changed since the watermark (minus an overlap; repeats are harmless).
            let since = match mode {
                PassMode::Full => None,
                PassMode::Incremental => watermark.map(|w| w - chrono::Duration::seconds(5)),
            };
            let levels = client
                .inventory(since.is_none(), since)
                .await
                .map_err(counterpoint_flows::job_error)?;
            let new_watermark = levels
                .iter()
                .filter_map(|l| l.lst_maint_dt)
                .max()
                .or(watermark);
            // Web orders the POS has taken in since they were last accounted for (counted once, see the merge).
            let web_ids: Vec<String> = candidates.iter().map(|(_, w)| w.clone()).collect();
            let processed: BTreeSet<String> = if web_ids.is_empty() {
                BTreeSet::new()
            } else {
                client
                    .staging_status(&web_ids)
                    .await
                    .map_err(counterpoint_flows::job_error)?
                    .into_iter()
                    .filter(|s| s.doc_id.is_some())
                    .map(|s| s.web_order_id)
                    .collect()
            };
            let absorbed = candidates
                .iter()
                .filter(|(_, w)| processed.contains(w))
                .map(|(id, _)| *id)
                .collect();
            Ok(PosReading {
                levels,
                new_watermark,
                orders: OrderAccounting {
                    absorbed,
                    ..Default::default()
                },
                absorbed_by_pos_sku: HashMap::new(),
                export: None,
            })
        }
        PosSide::Export(cfg) => {
            let cfg = cfg.clone();
            let read =
                tokio::task::spawn_blocking(move || -> Result<Option<ExportRead>, String> {
                    let modified = export_millis(
                        pos_csv::fingerprint(&cfg.export_path)
                            .map_err(|e| e.to_string())?
                            .modified,
                    );
                    if mode == PassMode::Incremental && Some(modified) == export_marker {
                        return Ok(None); // the POS has not written a new export since the last pass
                    }
                    let export =
                        pos_csv::read_stock(&cfg.export_path, &cfg).map_err(|e| e.to_string())?;
                    Ok(Some((
                        export_millis(export.modified),
                        export.stock_levels(),
                        export.errors,
                    )))
                })
                .await
                .map_err(|e| JobError::retry(e.to_string()))?
                .map_err(JobError::retry)?;
            let Some((modified, levels, errors)) = read else {
                return Ok(PosReading {
                    levels: Vec::new(),
                    new_watermark: watermark,
                    orders: OrderAccounting::default(),
                    absorbed_by_pos_sku: HashMap::new(),
                    export: None,
                });
            };
            let after = export_marker.unwrap_or(0);
            let taken = ctx
                .with_store(move |s| {
                    crate::store::pos_reductions::taken_between(s.conn(), after, modified)
                        .map_err(|e| JobError::retry(e.to_string()))
                })
                .await?;
            let absorbed_by_pos_sku = taken
                .into_iter()
                .map(|(sku, q)| (sku.to_uppercase(), q))
                .collect();
            Ok(PosReading {
                levels,
                new_watermark: watermark,
                orders: OrderAccounting::default(),
                absorbed_by_pos_sku,
                export: Some((modified, errors)),
            })
        }
    }
}

/// A Metakocka stock row as a POS level: its product code (`code`, or `count_code` on older rows) and what
/// it can still sell.
fn mk_level(row: &StockRow) -> StockLevel {
    let code = if row.code.is_empty() {
        &row.count_code
    } else {
        &row.code
    };
    StockLevel {
        item_no: code.clone(),
        qty_avail: rust_decimal::Decimal::from_f64_retain(mk_sellable(row)).unwrap_or_default(),
        lst_maint_dt: None,
    }
}

/// What Metakocka can still sell: the free amount (on hand less what open sales orders reserve). On-hand
/// would offer the store units already promised to other orders (B2B, Metakocka-entered) and oversell;
/// without reservations the company reports only `amount`, which is then the sellable stock.
fn mk_sellable(row: &StockRow) -> f64 {
    row.free_amount
        .unwrap_or_else(|| row.amount - row.reserved_amount.unwrap_or(0.0))
}

/// Splits the web orders linked to Metakocka sales orders into those whose units the reading already lacks
/// (absorbed: counted back once by the merge, as the store counted the sale) and those cancelled before any
/// pass counted them (passed over), and counted ones whose cancellation Metakocka has applied (released).
/// With reservations a sales order lowers the free amount as soon as it exists; without, only its shipment
/// lowers the amount. Orders in no group wait for a later pass.
fn mk_accounted_orders(
    ctx: &JobContext,
    orders: &[LinkedWebOrder],
    reservations: bool,
) -> OrderAccounting {
    let workflow = ctx.config.statuses.to_workflow().ok();
    let remote_kind = |code: &str| {
        let name = ctx.config.metakocka.inbound(code)?;
        workflow.as_ref()?.by_name(name).ok().map(|s| s.kind)
    };
    let mut accounting = OrderAccounting::default();
    for o in orders {
        let remote = o.remote_status.as_deref().and_then(remote_kind);
        if o.counted {
            // Listed again only once cancelled here; its units are back in the reading when Metakocka
            // released the reservation (without reservations only a shipment was counted: nothing returns).
            if reservations && remote == Some(StatusKind::Cancelled) {
                accounting.released.push((o.order_id, o.lines.clone()));
            }
            continue;
        }
        let cancelled = StatusKind::parse(&o.status_kind) == Some(StatusKind::Cancelled)
            || remote == Some(StatusKind::Cancelled);
        let shipped = matches!(remote, Some(StatusKind::Shipped | StatusKind::Completed));
        if cancelled {
            // The sale came back in the store and the reservation is (or will be) released: net nothing.
            accounting.passed_over.push(o.order_id);
        } else if reservations || shipped {
            accounting.absorbed.push(o.order_id);
        }
    }
    accounting
}

/// One read of the export: its modification time (ms), its levels, its rejected lines.
type ExportRead = (i64, Vec<StockLevel>, Vec<LineError>);

fn export_millis(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub async fn stock_pass(
    pos: &PosSide,
    woo: &WooClient,
    ctx: &JobContext,
    mode: PassMode,
    dry_run: bool,
) -> Result<StockPassReport, JobError> {
    run_stock_pass(pos, woo, ctx, mode, dry_run, None).await
}

/// A stock pass; `job_id` (the engine's job running it) is recorded on every sync-log row it writes.
pub async fn run_stock_pass(
    pos: &PosSide,
    woo: &WooClient,
    ctx: &JobContext,
    mode: PassMode,
    dry_run: bool,
    job_id: Option<i64>,
) -> Result<StockPassReport, JobError> {
    let db = |e: StoreError| JobError::retry(e.to_string());
    let requests = RequestCounter::default();
    let woo = &woo.counting(&requests);
    let metakocka = matches!(pos, PosSide::Metakocka { .. });
    let (pairs, watermark, last_pass, candidates, hints, export_marker, linked_orders) = ctx
        .with_store(move |s| {
            let conn = s.conn();
            let watermark = watermarks::get(conn, POS_WATERMARK)
                .map_err(db)?
                .and_then(|w| NaiveDateTime::parse_from_str(&w, WATERMARK_FORMAT).ok());
            let last_pass = watermarks::get(conn, LAST_PASS)
                .map_err(db)?
                .and_then(|v| v.parse::<i64>().ok());
            let candidates = stock_rows::absorption_candidates(conn, POS).map_err(db)?;
            let pending: BTreeSet<String> =
                jobs::pending_keys(conn, app::STOCK_APPLY_RESOLUTION.as_str())
                    .map_err(db)?
                    .into_iter()
                    .collect();
            let hints = stock_rows::hints(conn).map_err(db)?;
            // A pair whose operator resolution is not written yet would only raise its conflict again.
            let pairs: Vec<AlignedSku> = stock_rows::aligned(conn)
                .map_err(db)?
                .into_iter()
                .filter(|p| !pending.contains(&format!("stock:{}", p.woo_sku)))
                .collect();
            let export_marker = watermarks::get(conn, EXPORT_MARKER)
                .map_err(db)?
                .and_then(|v| v.parse::<i64>().ok());
            // Read before Metakocka's stock: an order linked after this read is counted on the next pass.
            let linked_orders = if metakocka {
                stock_rows::linked_web_orders(
                    conn,
                    crate::integrations::metakocka::SYSTEM,
                    woo_orders::SYSTEM,
                    MK_PENDING_PREFIX,
                )
                .map_err(db)?
            } else {
                Vec::new()
            };
            Ok((
                pairs,
                watermark,
                last_pass,
                candidates,
                hints,
                export_marker,
                linked_orders,
            ))
        })
        .await?;

    let since_ms = last_pass.unwrap_or(0);
    let sales: HashMap<String, i64> = ctx
        .with_store(move |s| {
            stock_rows::channel_sales_since(s.conn(), woo_orders::SYSTEM, since_ms).map_err(db)
        })
        .await?
        .into_iter()
        .map(|(k, v)| (k.to_uppercase(), v))
        .collect();
    let mut hinted: BTreeSet<i64> = hints.iter().copied().collect();
    // The poll half of the store's hints (webhooks are one attempt and can be disabled): products changed
    // since the last pass, with an overlap for whole-second dates. One request when little changed.
    if mode == PassMode::Incremental
        && let Some(last) = last_pass.and_then(chrono::DateTime::from_timestamp_millis)
    {
        let changed = woo
            .list_products_modified_after(last - chrono::Duration::seconds(30))
            .await
            .map_err(woo_orders::job_error)?;
        hinted.extend(changed.iter().map(|p| p.id as i64));
    }
    // Metakocka has no change watermark: an incremental pass re-reads what was hinted (its stock webhook or
    // the store), sold online, or is in a web order not yet accounted for, and pairs never synced.
    let wanted: Vec<String> = if metakocka && mode == PassMode::Incremental {
        let ordered: BTreeSet<String> = linked_orders
            .iter()
            .flat_map(|o| o.lines.iter().map(|(sku, _)| sku.to_uppercase()))
            .collect();
        pairs
            .iter()
            .filter(|p| {
                let sku = p.woo_sku.to_uppercase();
                p.base.is_none()
                    || p.woo_product_id.is_some_and(|id| hinted.contains(&id))
                    || sales.contains_key(&sku)
                    || ordered.contains(&sku)
            })
            .map(|p| p.pos_sku.clone())
            .collect()
    } else {
        Vec::new()
    };

    let query = PosQuery {
        mode,
        watermark,
        candidates: &candidates,
        export_marker,
        linked_orders: &linked_orders,
        wanted: &wanted,
    };
    let reading = read_pos(pos, ctx, query).await?;
    let PosReading {
        levels,
        new_watermark,
        orders,
        absorbed_by_pos_sku,
        export,
    } = reading;
    let pos_items_read = (mode == PassMode::Full).then_some(levels.len());
    let pos_qty: HashMap<String, i64> = levels
        .iter()
        .map(|l| {
            (
                l.item_no.to_uppercase(),
                l.qty_avail.floor().to_i64().unwrap_or(0),
            )
        })
        .collect();

    let absorbed = ctx
        .with_store({
            let absorbed_orders = orders.absorbed.clone();
            move |s| {
                // Read inside a rolled-back transaction: the real marking happens with the pass's results.
                s.dry_run(|tx| {
                    let mut by_sku: HashMap<String, i64> = HashMap::new();
                    for id in &absorbed_orders {
                        for (sku, qty) in stock_rows::absorb(tx, *id, 0)? {
                            *by_sku.entry(sku.to_uppercase()).or_default() += qty;
                        }
                    }
                    Ok::<_, StoreError>(by_sku)
                })
                .map_err(db)
            }
        })
        .await?;

    // A file-only POS reports what it took in by its own SKUs: count those units on the store SKU they pair with.
    let mut absorbed = absorbed;
    for (_, lines) in &orders.released {
        for (sku, qty) in lines {
            *absorbed.entry(sku.to_uppercase()).or_default() -= qty;
        }
    }
    for p in &pairs {
        if let Some(q) = absorbed_by_pos_sku.get(&p.pos_sku.to_uppercase()) {
            *absorbed.entry(p.woo_sku.to_uppercase()).or_default() += q;
        }
    }
    let examine: Vec<AlignedSku> = pairs
        .into_iter()
        .filter(|p| {
            mode == PassMode::Full
                || pos_qty.contains_key(&p.pos_sku.to_uppercase())
                || p.base.is_none()
                || p.woo_product_id.is_some_and(|id| hinted.contains(&id))
                || sales.contains_key(&p.woo_sku.to_uppercase())
                || absorbed.contains_key(&p.woo_sku.to_uppercase())
                || p.unconfirmed.is_some()
        })
        .collect();

    // The store side: products and variations by SKU, 100 per request.
    let skus: Vec<String> = examine.iter().map(|p| p.woo_sku.clone()).collect();
    let by_sku = read_store_products(woo, &skus).await?;
    let mut report = StockPassReport {
        examined: examine.len(),
        ..Default::default()
    };
    if let Some((_, errors)) = &export {
        report.skipped.extend(errors.iter().map(|e| SkuNote {
            sku: format!("export line {}", e.line),
            message: e.to_string(),
        }));
    }

    let threshold = ctx.config.stock.threshold;
    let mut plan: Vec<Planned> = Vec::with_capacity(examine.len());
    for pair in examine {
        let product = by_sku.get(&pair.woo_sku.to_uppercase()).cloned();
        let pos_now =
            pos_qty
                .get(&pair.pos_sku.to_uppercase())
                .copied()
                .or(match (mode, pair.base) {
                    // Unchanged on the POS since the watermark: what it showed at the last pass.
                    (PassMode::Incremental, Some(b)) => Some(b.pos_seen),
                    _ => None,
                });
        if let Some(p) = &product
            && !p.manage_stock
        {
            report.skipped.push(SkuNote {
                sku: pair.woo_sku.clone(),
                message: "the store does not manage this product's stock".into(),
            });
            continue;
        }
        let woo_now = product.as_ref().and_then(|p| p.stock_quantity);
        let absorbed_web = absorbed
            .get(&pair.woo_sku.to_uppercase())
            .copied()
            .unwrap_or(0);
        // A write whose answer was lost: this read of the store says whether it landed, and so which base
        // the merge starts from. If it cannot tell, nothing is merged (that could count a change twice).
        let mut unknown_write = None;
        let mut forget_unconfirmed = false;
        let base = match pair.unconfirmed.map(|u| (u, u.check(woo_now))) {
            None => pair.base,
            Some((_, WriteCheck::Landed(base))) => {
                forget_unconfirmed = true;
                Some(base)
            }
            Some((_, WriteCheck::NotLanded)) => {
                forget_unconfirmed = true;
                pair.base
            }
            Some((u, WriteCheck::Unknown)) => {
                unknown_write = Some(u.unknown_detail(woo_now));
                pair.base
            }
        };
        let obs = StockObservation {
            pos: pos_now,
            woo: woo_now,
            base,
            absorbed_web,
            woo_sales: last_pass.map(|_| {
                sales
                    .get(&pair.woo_sku.to_uppercase())
                    .copied()
                    .unwrap_or(0)
            }),
            pos_sales: None,
        };
        let mut planned = Planned {
            pair,
            pos: pos_now,
            product,
            new_base: None,
            base,
            write: None,
            conflict: None,
            forget_unconfirmed,
        };
        let decision = match unknown_write {
            Some(detail) => MergeDecision::Conflict {
                kind: ConflictKind::UnconfirmedWrite,
                merged: None,
                proposed: obs.pos,
                detail,
            },
            None => inventory::decide(&obs, threshold),
        };
        match decision {
            MergeDecision::Apply { quantity, new_base } => {
                planned.new_base = Some(new_base);
                if Some(quantity) != woo_now {
                    planned.write = Some(quantity);
                    let why = match obs.base {
                        Some(b) => format!(
                            "merge: POS {:+}{}, store {:+} since the last pass",
                            obs.pos.unwrap_or(0) - b.pos_seen,
                            if absorbed_web != 0 {
                                format!(" (incl. {absorbed_web:+} web)")
                            } else {
                                String::new()
                            },
                            obs.woo.unwrap_or(0) - b.woo_seen
                        ),
                        None => "first sync: the POS count".into(),
                    };
                    report.changes.push(StockChange {
                        sku: planned.pair.woo_sku.clone(),
                        pos_sku: planned.pair.pos_sku.clone(),
                        old: woo_now,
                        new: quantity,
                        why,
                    });
                }
            }
            MergeDecision::Conflict {
                kind,
                merged,
                proposed,
                detail,
            } => {
                let policy = ctx.config.stock.policy(kind);
                let settled = inventory::resolve(policy, obs.pos, obs.woo, merged);
                report.conflicts.push(SkuNote {
                    sku: planned.pair.woo_sku.clone(),
                    message: format!("{}: {detail}", kind.as_str()),
                });
                report.detected.push(DetectedConflict {
                    sku: planned.pair.woo_sku.clone(),
                    kind: kind.as_str(),
                    pos: obs.pos,
                    store: obs.woo,
                    base: obs.base.map(|b| b.agreed),
                    proposed,
                    detail: detail.clone(),
                });
                if let (Some(q), Some(p), Some(_)) = (settled, obs.pos, obs.woo) {
                    planned.new_base = Some(MergeBase {
                        agreed: q,
                        pos_seen: p,
                        woo_seen: q,
                    });
                    if Some(q) != woo_now {
                        planned.write = Some(q);
                        report.changes.push(StockChange {
                            sku: planned.pair.woo_sku.clone(),
                            pos_sku: planned.pair.pos_sku.clone(),
                            old: woo_now,
                            new: q,
                            why: format!(
                                "{} settled by policy {}",
                                kind.as_str(),
                                policy_name(policy)
                            ),
                        });
                    }
                }
                planned.conflict = Some(PlannedConflict {
                    kind,
                    merged,
                    proposed,
                    detail,
                    settled,
                });
            }
            MergeDecision::Skip { reason } => report.skipped.push(SkuNote {
                sku: planned.pair.woo_sku.clone(),
                message: reason,
            }),
        }
        plan.push(planned);
    }
    if dry_run {
        report.store_requests = requests.get();
        return Ok(report);
    }

    // Every write is remembered as unconfirmed BEFORE it is sent, so an answer lost to a timeout, a
    // dropped connection or syncdesk stopping mid-pass is checked by reading the store before any base moves.
    let sending: Vec<(i64, UnconfirmedWrite)> = plan
        .iter()
        .filter_map(|p| {
            Some((
                p.pair.id,
                UnconfirmedWrite {
                    quantity: p.write?,
                    prior: p.product.as_ref()?.stock_quantity,
                    base: p.new_base?,
                },
            ))
        })
        .collect();
    if !sending.is_empty() {
        ctx.with_store(move |s| {
            s.write(|tx| {
                for (id, write) in &sending {
                    stock_rows::set_unconfirmed(tx, *id, Some(write))?;
                }
                Ok::<_, StoreError>(())
            })
            .map_err(db)
        })
        .await?;
    }

    // Write what changed, then record bases only for writes the store accepted.
    let updates: Vec<ProductUpdate> = plan
        .iter()
        .filter_map(|p| {
            let q = p.write?;
            let product = p.product.as_ref()?;
            Some(ProductUpdate {
                id: product.id,
                parent_id: (product.parent_id != 0).then_some(product.parent_id),
                sku: Some(p.pair.woo_sku.clone()),
                stock_quantity: Some(q),
                ..Default::default()
            })
        })
        .collect();
    let written = write_store_updates(woo, updates).await;
    let (failed, unconfirmed) = confirm_lost_writes(woo, &plan, written).await;
    for (sku, message) in &failed {
        report.failed.push(SkuNote {
            sku: sku.clone(),
            message: message.clone(),
        });
    }
    for (sku, u) in &unconfirmed {
        report.failed.push(SkuNote {
            sku: sku.clone(),
            message: format!(
                "the write of {} got no answer and the store could not be read back; the next pass checks before merging",
                u.quantity
            ),
        });
    }
    report.changes.retain(|c| {
        let sku = c.sku.to_uppercase();
        !failed.contains_key(&sku) && !unconfirmed.contains_key(&sku)
    });
    report.store_requests = requests.get();

    let config = ctx.config.clone();
    let hints_taken = hints;
    let changes = report.changes.clone();
    let back_office = pos.name();
    ctx.with_store(move |s| {
        s.write(|tx| {
            let now = now_ms();
            let trace = app::trace::PassTrace::new(
                tx,
                app::trace::PassSources {
                    back_office,
                    channel: woo_orders::SYSTEM,
                    since: since_ms,
                    taken_in: &orders.absorbed,
                    released: &orders.released,
                    reduction_files: &absorbed_by_pos_sku,
                },
            )?;
            for p in &plan {
                let sku = p.pair.woo_sku.to_uppercase();
                if let Some(product) = &p.product {
                    remember_product(tx, &p.pair, product)?;
                }
                if let Some(u) = unconfirmed.get(&sku) {
                    stock_rows::set_unconfirmed(tx, p.pair.id, Some(u))?;
                    let message = format!(
                        "a write of {} got no answer: the next pass reads the store before merging",
                        u.quantity
                    );
                    stock_rows::record_pass(
                        tx,
                        p.pair.id,
                        None,
                        LinkState::Error,
                        Some(&message),
                        now,
                    )?;
                    continue;
                }
                // Past this point the write's fate is known (applied, refused, or not applied).
                if p.write.is_some()
                    || p.forget_unconfirmed
                    || (p.pair.unconfirmed.is_some() && p.new_base.is_some())
                {
                    stock_rows::set_unconfirmed(tx, p.pair.id, None)?;
                }
                if let Some(message) = failed.get(&sku) {
                    stock_rows::record_pass(
                        tx,
                        p.pair.id,
                        None,
                        LinkState::Error,
                        Some(message),
                        now,
                    )?;
                    continue;
                }
                if let Some(PlannedConflict {
                    kind,
                    merged,
                    proposed,
                    detail,
                    settled,
                }) = &p.conflict
                {
                    let (id, _) = stock_rows::raise(
                        tx,
                        &NewConflict {
                            sku: &p.pair.woo_sku,
                            kind: kind.as_str(),
                            pos_value: p.pos.map(|q| q.to_string()),
                            woo_value: p
                                .product
                                .as_ref()
                                .and_then(|x| x.stock_quantity)
                                .map(|q| q.to_string()),
                            base: p.pair.base.map(|b| b.agreed),
                            merged: *merged,
                            proposed: *proposed,
                            detail,
                        },
                        now,
                    )?;
                    match settled {
                        Some(q) => {
                            let policy = config.stock.policy(*kind);
                            stock_rows::resolve(
                                tx,
                                id,
                                stock_rows::RESOLVED_BY_POLICY,
                                policy_name(policy),
                                Some(*q),
                                now,
                            )?;
                        }
                        // Waiting for an operator: make sure someone hears about it.
                        None => {
                            let woo_now = p.product.as_ref().and_then(|x| x.stock_quantity);
                            if let Some(alert) = conflict_alert(
                                &p.pair.woo_sku,
                                *kind,
                                p.pos,
                                woo_now,
                                detail,
                                &config,
                            ) {
                                crate::app::raise_and_notify(tx, &config, &alert, now)?;
                            }
                        }
                    }
                }
                let state = if p.conflict.is_some() && p.new_base.is_none() {
                    LinkState::Conflict
                } else {
                    LinkState::Synced
                };
                if let (Some(_), Some(base)) = (p.new_base, p.base) {
                    let store = p.product.as_ref().and_then(|x| x.stock_quantity);
                    trace.record(
                        tx,
                        &p.pair.pos_sku,
                        &p.pair.woo_sku,
                        base,
                        p.pos,
                        store,
                        job_id,
                        now,
                    )?;
                }
                stock_rows::record_pass(tx, p.pair.id, p.new_base, state, None, now)?;
            }
            for c in &changes {
                sync_log::record(
                    tx,
                    &Change {
                        source: "engine",
                        entity: "stock",
                        entity_key: &c.sku,
                        field: "woocommerce.stock_quantity",
                        old_value: c.old.map(|o| o.to_string()).as_deref(),
                        new_value: Some(&c.new.to_string()),
                        reason: Some(&c.why),
                        job_id,
                        ..Default::default()
                    },
                    now,
                )?;
            }
            for id in &orders.absorbed {
                stock_rows::absorb(tx, *id, now)?;
            }
            for id in &orders.passed_over {
                stock_rows::pass_over(tx, *id, now)?;
            }
            for (id, _) in &orders.released {
                stock_rows::release(tx, *id, now)?;
            }
            if let Some((modified, _)) = &export {
                watermarks::set(tx, EXPORT_MARKER, &modified.to_string(), now)?;
            }
            stock_rows::clear_hints(tx, &hints_taken)?;
            if let Some(w) = new_watermark {
                watermarks::set(
                    tx,
                    POS_WATERMARK,
                    &w.format(WATERMARK_FORMAT).to_string(),
                    now,
                )?;
            }
            watermarks::set(tx, LAST_PASS, &now.to_string(), now)?;
            if let Some(n) = pos_items_read {
                watermarks::set(tx, crate::store::report::POS_ITEMS, &n.to_string(), now)?;
            }
            Ok::<_, StoreError>(())
        })
        .map_err(db)
    })
    .await?;
    Ok(report)
}

/// The store's products and variations for `skus` (by upper-cased SKU), 100 per request, a few lookups in
/// flight at once (at 20 ms per request, 100,000 SKUs read one after another take 20 s).
pub(crate) async fn read_store_products(
    woo: &WooClient,
    skus: &[String],
) -> Result<HashMap<String, WooProduct>, JobError> {
    let products: Vec<WooProduct> =
        stream::iter(skus.chunks(STORE_READ_CHUNK).map(<[String]>::to_vec))
            .map(|chunk| async move { woo.find_products_by_sku(&chunk).await })
            .buffer_unordered(STORE_READS_IN_FLIGHT)
            .try_concat()
            .await
            .map_err(woo_orders::job_error)?;
    Ok(products
        .into_iter()
        .map(|p| (p.sku.to_uppercase(), p))
        .collect())
}

/// An item of a batch write that did not come back applied.
#[derive(Debug, Clone)]
pub(crate) struct WriteFailure {
    /// "code: message"
    pub message: String,
    /// No answer about it (the request failed on the way, or the answer left it out): the store may have
    /// applied it.
    pub unanswered: bool,
}

/// Writes `updates` (each carrying its SKU) in batches of ≤100; returns the items not confirmed applied,
/// by upper-cased SKU.
pub(crate) async fn write_store_updates(
    woo: &WooClient,
    updates: Vec<ProductUpdate>,
) -> HashMap<String, WriteFailure> {
    if updates.is_empty() {
        return HashMap::new();
    }
    let sku_of: HashMap<u64, String> = updates
        .iter()
        .filter_map(|u| Some((u.id, u.sku.as_ref()?.to_uppercase())))
        .collect();
    let outcome = woo.batch_update_products(updates).await;
    outcome
        .failed
        .iter()
        .map(|f| {
            let key = match &f.key {
                ItemKey::Sku(s) => s.to_uppercase(),
                ItemKey::Id(id) => sku_of.get(id).cloned().unwrap_or_default(),
            };
            let failure = WriteFailure {
                message: format!("{}: {}", f.code, f.message),
                // A refusal names the item; a whole request that failed retryably may have been applied.
                unanswered: f.retryable,
            };
            (key, failure)
        })
        .collect()
}

/// Stock writes whose answer was lost are read back before any base moves: a write the store shows is
/// applied; one it does not show failed (and is merged again next pass); one it cannot tell about — or
/// that cannot be read back — is kept as unconfirmed for the next pass to settle. Returns the failures
/// (by SKU, "code: message") and the unconfirmed writes.
async fn confirm_lost_writes(
    woo: &WooClient,
    plan: &[Planned],
    written: HashMap<String, WriteFailure>,
) -> (HashMap<String, String>, HashMap<String, UnconfirmedWrite>) {
    let mut failed = HashMap::new();
    let mut lost: HashMap<String, UnconfirmedWrite> = HashMap::new();
    for p in plan {
        let sku = p.pair.woo_sku.to_uppercase();
        let Some(failure) = written.get(&sku) else {
            continue;
        };
        match (failure.unanswered, p.write, p.new_base) {
            (true, Some(quantity), Some(base)) => {
                let prior = p.product.as_ref().and_then(|x| x.stock_quantity);
                lost.insert(
                    sku,
                    UnconfirmedWrite {
                        quantity,
                        prior,
                        base,
                    },
                );
            }
            _ => {
                failed.insert(sku, failure.message.clone());
            }
        }
    }
    if lost.is_empty() {
        return (failed, lost);
    }
    let skus: Vec<String> = plan
        .iter()
        .filter(|p| lost.contains_key(&p.pair.woo_sku.to_uppercase()))
        .map(|p| p.pair.woo_sku.clone())
        .collect();
    let Ok(now) = read_store_products(woo, &skus).await else {
        return (failed, lost);
    };
    lost.retain(|sku, u| {
        let store_now = now.get(sku).and_then(|p| p.stock_quantity);
        match u.check(store_now) {
            // Applied after all: the planned base stands, as if the answer had come.
            WriteCheck::Landed(_) => false,
            WriteCheck::NotLanded => {
                let message = written
                    .get(sku)
                    .map(|f| f.message.clone())
                    .unwrap_or_default();
                failed.insert(
                    sku.clone(),
                    format!("{message} (read back: the store did not apply it)"),
                );
                false
            }
            WriteCheck::Unknown => true,
        }
    });
    (failed, lost)
}

/// The store's product (and parent, for a variation) as the pair remembers it.
pub(crate) fn remember_product(
    conn: &rusqlite::Connection,
    pair: &AlignedSku,
    product: &WooProduct,
) -> Result<(), StoreError> {
    stock_rows::set_product_ids(
        conn,
        pair.id,
        product.id as i64,
        (product.parent_id != 0).then_some(product.parent_id as i64),
    )?;
    crate::store::trace::remember_name(conn, pair.id, &product.name)
}

/// The alert an unsettled conflict raises (price drift is the price pass's to report).
fn conflict_alert(
    sku: &str,
    kind: ConflictKind,
    pos: Option<i64>,
    woo: Option<i64>,
    detail: &str,
    config: &Config,
) -> Option<NewAlert> {
    match kind {
        ConflictKind::NegativeStock => Some(NewAlert::new(
            AlertKind::NegativeStock,
            sku,
            format!("Negative stock: {sku}"),
            format!("{sku}: {detail}."),
        )),
        ConflictKind::MissingAlignment => Some(alerts::missing_alignment(
            sku,
            if pos.is_none() {
                "the POS"
            } else {
                "the store"
            },
        )),
        ConflictKind::UnexplainedChange | ConflictKind::QuantityMismatch => {
            alerts::stock_alerts(sku, pos, woo, None, None, &config.alerts.thresholds())
                .into_iter()
                .find(|a| a.kind == AlertKind::QuantityDiscrepancy)
        }
        ConflictKind::PriceDrift => None,
        // syncdesk cannot tell what the store holds: someone must look (high, like any sync failure).
        ConflictKind::UnconfirmedWrite => Some(alerts::sync_failure(
            "woocommerce",
            &format!("stock {sku}"),
            detail,
        )),
    }
}

pub(crate) fn policy_name(p: Policy) -> &'static str {
    match p {
        Policy::PosWins => "pos_wins",
        Policy::WooWins => "woo_wins",
        Policy::Merge => "merge",
        Policy::Manual => "manual",
    }
}

/// The engine's stock pass jobs (full and incremental share one handler type).
pub struct StockPassJob {
    mode: PassMode,
    sides: Result<(PosSide, WooClient), String>,
}

impl StockPassJob {
    pub fn new(config: &Config, mode: PassMode) -> Self {
        let sides = PosSide::from_config(config).and_then(|pos| {
            woo_orders::client(&config.woocommerce)
                .map(|w| (pos, w))
                .map_err(|e| e.to_string())
        });
        StockPassJob { mode, sides }
    }
}

impl JobHandler for StockPassJob {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let (pos, woo) = self
                .sides
                .as_ref()
                .map_err(|e| JobError::permanent(e.clone()))?;
            let report = run_stock_pass(pos, woo, ctx, self.mode, false, Some(job.id)).await?;
            if !report.changes.is_empty()
                || !report.conflicts.is_empty()
                || !report.failed.is_empty()
            {
                tracing::info!(
                    mode = ?self.mode,
                    examined = report.examined,
                    changes = report.changes.len(),
                    conflicts = report.conflicts.len(),
                    failed = report.failed.len(),
                    "stock pass"
                );
            }
            Ok(())
        })
    }
}

/// Groups a report's per-SKU notes for printing.
pub fn summarize(report: &StockPassReport) -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("examined", report.examined),
        ("changes", report.changes.len()),
        ("conflicts", report.conflicts.len()),
        ("skipped", report.skipped.len()),
        ("failed", report.failed.len()),
        ("store requests", report.store_requests),
    ])
}

#[derive(Debug, Deserialize)]
struct ResolutionPayload {
    sku: String,
    quantity: i64,
    /// The POS quantity the decision was made against (the conflict's POS value); None when unknown.
    pos_seen: Option<i64>,
    #[serde(default)]
    conflict_ids: Vec<i64>,
}

/// Writes an operator's resolution (`stock.apply_resolution`) to the store: one item by SKU, then the new
/// merge base `agreed = woo_seen = quantity, pos_seen = the conflict's POS value`. The POS value is the one
/// the operator decided against: POS sales after it are then still counted as movement on the next pass,
/// where reading the POS now would fold them into `pos_seen` and lose them. A failed write is retried and
/// leaves the base alone.
pub async fn apply_resolution(
    woo: &WooClient,
    ctx: &JobContext,
    job_id: Option<i64>,
    sku: &str,
    quantity: i64,
    pos_seen: Option<i64>,
) -> Result<(), JobError> {
    let db = |e: StoreError| JobError::retry(e.to_string());
    let pair = ctx
        .with_store({
            let sku = sku.to_string();
            move |s| stock_rows::find(s.conn(), &sku).map_err(db)
        })
        .await?
        .ok_or_else(|| JobError::permanent(format!("{sku}: no longer aligned")))?;
    let product = woo
        .find_products_by_sku(std::slice::from_ref(&pair.woo_sku))
        .await
        .map_err(woo_orders::job_error)?
        .into_iter()
        .find(|p| p.sku.eq_ignore_ascii_case(&pair.woo_sku))
        .ok_or_else(|| JobError::permanent(format!("{sku}: the store has no such product")))?;
    let old = product.stock_quantity;
    if old != Some(quantity) {
        let outcome = woo
            .batch_update_products(vec![ProductUpdate {
                id: product.id,
                parent_id: (product.parent_id != 0).then_some(product.parent_id),
                sku: Some(pair.woo_sku.clone()),
                stock_quantity: Some(quantity),
                ..Default::default()
            }])
            .await;
        if let Some(f) = outcome.failed.first() {
            let message = format!("{}: {}", f.code, f.message);
            let id = pair.id;
            let m = message.clone();
            ctx.with_store(move |s| {
                s.write(|tx| {
                    stock_rows::record_pass(tx, id, None, LinkState::Error, Some(&m), now_ms())
                })
                .map_err(db)
            })
            .await?;
            // The store refusing this item (no permission, invalid data) refuses it again; only a request
            // that failed on the way (down, throttled, no answer) is worth another try.
            let message = format!("{sku}: {message}");
            return Err(if f.retryable {
                let e = JobError::retry(message);
                match f.retry_after {
                    Some(d) => e.after(d),
                    None => e,
                }
            } else {
                JobError::permanent(message)
            });
        }
    }
    ctx.with_store(move |s| {
        s.write(|tx| {
            let now = now_ms();
            stock_rows::set_product_ids(
                tx,
                pair.id,
                product.id as i64,
                (product.parent_id != 0).then_some(product.parent_id as i64),
            )?;
            let base = pos_seen.map(|p| MergeBase {
                agreed: quantity,
                pos_seen: p,
                woo_seen: quantity,
            });
            stock_rows::record_pass(tx, pair.id, base, LinkState::Synced, None, now)?;
            // The operator's count is the truth now: an earlier write left unconfirmed no longer matters.
            stock_rows::set_unconfirmed(tx, pair.id, None)?;
            sync_log::record(
                tx,
                &Change {
                    source: "engine",
                    entity: "stock",
                    entity_key: &pair.woo_sku,
                    field: "woocommerce.stock_quantity",
                    old_value: old.map(|o| o.to_string()).as_deref(),
                    new_value: Some(&quantity.to_string()),
                    reason: Some("operator resolution applied"),
                    job_id,
                    ..Default::default()
                },
                now,
            )?;
            Ok::<_, StoreError>(())
        })
        .map_err(db)
    })
    .await
}

/// The engine's `stock.apply_resolution` handler.
pub struct ApplyResolution {
    woo: Result<WooClient, String>,
}

impl ApplyResolution {
    pub fn new(config: &Config) -> Self {
        ApplyResolution {
            woo: woo_orders::client(&config.woocommerce).map_err(|e| e.to_string()),
        }
    }
}

impl JobHandler for ApplyResolution {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let woo = self
                .woo
                .as_ref()
                .map_err(|e| JobError::permanent(e.clone()))?;
            let p: ResolutionPayload = job_payload(job)?;
            apply_resolution(woo, ctx, Some(job.id), &p.sku, p.quantity, p.pos_seen).await?;
            tracing::info!(sku = %p.sku, quantity = p.quantity, conflicts = ?p.conflict_ids, "stock resolution applied");
            Ok(())
        })
    }
}

/// The stock passes' handlers (when `[stock]` is enabled).
pub fn register(config: &Config, registry: &mut super::HandlerRegistry) {
    if !config.stock.enabled {
        return;
    }
    registry.register(app::STOCK_FULL, StockPassJob::new(config, PassMode::Full));
    registry.register(
        app::STOCK_INCREMENTAL,
        StockPassJob::new(config, PassMode::Incremental),
    );
    registry.register(
        app::STOCK_PRICES,
        super::price_flows::PricePassJob::new(config),
    );
    registry.register(app::STOCK_APPLY_RESOLUTION, ApplyResolution::new(config));
}

/// The stock passes' schedules (when `[stock]` is enabled).
pub fn schedules(config: &Config) -> Vec<super::Schedule> {
    use std::time::Duration;
    let st = &config.stock;
    if !st.enabled {
        return Vec::new();
    }
    let mut schedules = vec![
        super::Schedule::every(
            app::STOCK_INCREMENTAL,
            Duration::from_secs(st.incremental_secs),
        ),
        super::Schedule::every(app::STOCK_FULL, Duration::from_secs(st.full_every_secs)),
    ];
    // Metakocka's stock carries no prices: its shops keep prices in the store.
    if !config.metakocka.enabled {
        schedules.push(super::Schedule::every(
            app::STOCK_PRICES,
            Duration::from_secs(st.prices_every_secs),
        ));
    }
    schedules
}

/// The stock passes an operator can run now (the price pass's runner is in `price_flows`).
pub static PASSES: [PassEntry; 3] = [
    PassEntry {
        pass: app::SyncPass::Full,
        kind: app::STOCK_FULL,
        run: |ctx, options| Box::pin(run_now(ctx, PassMode::Full, options)),
    },
    PassEntry {
        pass: app::SyncPass::Incremental,
        kind: app::STOCK_INCREMENTAL,
        run: |ctx, options| Box::pin(run_now(ctx, PassMode::Incremental, options)),
    },
    PassEntry {
        pass: app::SyncPass::Prices,
        kind: app::STOCK_PRICES,
        run: |ctx, options| Box::pin(super::price_flows::run_now(ctx, options)),
    },
];

/// The back office stock passes read, and the store, from the configuration.
pub fn sides(config: &Config) -> Result<(PosSide, WooClient), PassError> {
    sides_for(config, "stock sync")
}

/// The same, for `what` ("alignment") in the refusal.
fn sides_for(config: &Config, what: &str) -> Result<(PosSide, WooClient), PassError> {
    if !(config.woocommerce.enabled && config.has_stock_back_office()) {
        return Err(PassError::rejected(format!(
            "{what} needs [woocommerce] and a back office ([counterpoint], [metakocka] or [pos_csv]) enabled"
        )));
    }
    let pos = PosSide::from_config(config).map_err(PassError::rejected)?;
    let woo = woo_orders::client(&config.woocommerce).map_err(PassError::rejected)?;
    Ok((pos, woo))
}

async fn run_now(
    ctx: JobContext,
    mode: PassMode,
    options: PassOptions,
) -> Result<PassReport, PassError> {
    let (pos, woo) = sides(&ctx.config)?;
    let dry_run = options.dry_run;
    let report = stock_pass(&pos, &woo, &ctx, mode, dry_run)
        .await
        .map_err(PassError::failed)?;
    let verb = if dry_run { "would set" } else { "set" };
    let mut lines = Vec::new();
    for c in &report.changes {
        let old = c.old.map(|o| o.to_string()).unwrap_or_else(|| "-".into());
        lines.push(format!(
            "{verb} {} (POS {}) {old} → {}: {}",
            c.sku, c.pos_sku, c.new, c.why
        ));
    }
    lines.extend(notes(&report.conflicts, &report.failed));
    let summary: Vec<String> = summarize(&report)
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    lines.push(format!(
        "{}{}",
        summary.join(", "),
        dry_note(dry_run, "written")
    ));
    let mut out = PassReport::of(dry_run, "report", &report, lines);
    out.failed = failed_skus(report.failed.len());
    Ok(out)
}

/// `conflict SKU: …` and `FAILED SKU: …` lines.
pub(crate) fn notes(conflicts: &[SkuNote], failed: &[SkuNote]) -> Vec<String> {
    let conflicts = conflicts
        .iter()
        .map(|c| format!("conflict {}: {}", c.sku, c.message));
    let failed = failed
        .iter()
        .map(|f| format!("FAILED {}: {}", f.sku, f.message));
    conflicts.chain(failed).collect()
}

pub(crate) fn failed_skus(n: usize) -> Option<String> {
    (n > 0).then(|| format!("{n} SKU(s) failed"))
}

/// The conflicts a full pass would raise now, written nowhere (`conflicts detect`).
pub async fn detect(ctx: &JobContext) -> Result<StockPassReport, PassError> {
    let (pos, woo) = sides(&ctx.config)?;
    stock_pass(&pos, &woo, ctx, PassMode::Full, true)
        .await
        .map_err(PassError::failed)
}

/// Every POS item number and every store SKU (products and variations), read now (`alignment suggest`).
pub async fn catalogue(config: &Config) -> Result<(Vec<String>, Vec<String>), PassError> {
    let (pos, woo) = sides_for(config, "alignment")?;
    let failed = |e: String| PassError::failed(JobError::retry(e));
    let items: Vec<String> = pos
        .levels()
        .await
        .map_err(failed)?
        .into_iter()
        .map(|l| l.item_no)
        .collect();
    let mut skus = Vec::new();
    for p in woo
        .list_products()
        .await
        .map_err(|e| failed(e.to_string()))?
    {
        if !p.variations.is_empty() {
            skus.extend(
                woo.list_variations(p.id)
                    .await
                    .map_err(|e| failed(e.to_string()))?
                    .into_iter()
                    .map(|v| v.sku),
            );
        }
        skus.push(p.sku);
    }
    Ok((items, skus))
}

/// Both sides of one pair, read now (`alignment test`).
pub struct PairSides {
    /// The back office's name, for what the operator reads.
    pub pos_name: &'static str,
    pub pos_quantity: Option<String>,
    pub pos_price: Option<String>,
    pub store: Option<WooProduct>,
}

/// Reads `pos_sku` in the back office and `store_sku` in the store now.
pub async fn pair_sides(
    config: &Config,
    pos_sku: &str,
    store_sku: &str,
) -> Result<PairSides, PassError> {
    let (pos, woo) = sides_for(config, "alignment")?;
    let failed = |e: String| PassError::failed(JobError::retry(e));
    let level = pos
        .levels()
        .await
        .map_err(failed)?
        .into_iter()
        .find(|l| l.item_no.eq_ignore_ascii_case(pos_sku));
    // Only Counterpoint is read for prices here (Metakocka's stock carries none).
    let price = match &pos {
        PosSide::Counterpoint(client) => client
            .prices(None)
            .await
            .map_err(|e| failed(e.to_string()))?
            .into_iter()
            .find(|p| p.item_no.eq_ignore_ascii_case(pos_sku)),
        _ => None,
    };
    let store = woo
        .find_products_by_sku(&[store_sku.to_string()])
        .await
        .map_err(|e| failed(e.to_string()))?
        .into_iter()
        .next();
    Ok(PairSides {
        pos_name: pos.name(),
        pos_quantity: level.map(|l| l.qty_avail.normalize().to_string()),
        pos_price: price
            .and_then(|p| p.prc_1.or(p.reg_prc))
            .map(|d| d.round_dp(2).to_string()),
        store,
    })
}
