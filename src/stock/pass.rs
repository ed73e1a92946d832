//! One stock pass end to end: load → read both sides → plan each pair (pure, `domain::stock_plan`) →
//! apply the writes → record. Each step is its own function; this file only chains them.

use std::collections::{BTreeSet, HashMap};

use rust_decimal::prelude::ToPrimitive;

use super::apply::{self, Applied};
use super::lease::StockLease;
use super::load::{self, Loaded, db};
use super::record::{self, Recording};
use super::{
    DetectedConflict, PassMode, PosQuery, PosReading, PosSource, SkuNote, StockChange,
    StockPassReport, StoreProduct, StoreSide, read_products,
};
use crate::domain::stock_plan::{self, PairInput, PairPlan, Planned, Rules, StoreStock};
use crate::engine::{JobContext, JobError};
use crate::store::StoreError;
use crate::store::inventory::{self as stock_rows, AlignedSku};

/// One pair through the pass: what was read, and what the plan decided.
pub(super) struct PairStep {
    pub pair: AlignedSku,
    /// The POS quantity this pass saw (None: no such POS item).
    pub pos: Option<i64>,
    pub product: Option<StoreProduct>,
    pub plan: Planned,
}

impl PairStep {
    /// What the store showed for the pair when it was read.
    pub fn store_qty(&self) -> Option<i64> {
        self.product.as_ref().and_then(|p| p.stock_quantity)
    }

    /// The store SKU, upper-cased (how outcomes are keyed).
    pub fn key(&self) -> String {
        self.pair.store_sku.to_uppercase()
    }
}

/// What both sides said, for the pairs this pass examines.
struct Sides {
    examine: Vec<AlignedSku>,
    /// POS quantities read, by upper-cased POS item number.
    pos_qty: HashMap<String, i64>,
    /// Units of web orders the POS reading includes, by upper-cased store SKU.
    absorbed: HashMap<String, i64>,
    products: HashMap<String, StoreProduct>,
}

pub async fn stock_pass(
    pos: &dyn PosSource,
    store: &dyn StoreSide,
    ctx: &JobContext,
    mode: PassMode,
    dry_run: bool,
) -> Result<StockPassReport, JobError> {
    run_stock_pass(pos, store, ctx, mode, dry_run, None).await
}

/// A stock pass; `job_id` (the engine's job running it) is recorded on every sync-log row it writes.
/// A pass that writes holds the stock lease from before it reads until it has recorded (one at a time
/// per database); a dry run writes nothing and takes no lease.
pub async fn run_stock_pass(
    pos: &dyn PosSource,
    store: &dyn StoreSide,
    ctx: &JobContext,
    mode: PassMode,
    dry_run: bool,
    job_id: Option<i64>,
) -> Result<StockPassReport, JobError> {
    if dry_run {
        return pass_steps(pos, store, ctx, mode, None, job_id).await;
    }
    let who = job_id.map_or_else(
        || "a stock pass run now".to_string(),
        |id| format!("job {id}"),
    );
    let lease = StockLease::take(ctx, &who).await?;
    let result = pass_steps(pos, store, ctx, mode, Some(&lease), job_id).await;
    lease.release(ctx).await;
    result
}

/// The pass's steps; `lease` is None for a dry run, which stops before writing.
async fn pass_steps(
    pos: &dyn PosSource,
    store: &dyn StoreSide,
    ctx: &JobContext,
    mode: PassMode,
    lease: Option<&StockLease>,
    job_id: Option<i64>,
) -> Result<StockPassReport, JobError> {
    let counted = store.counting();
    let store = counted.as_ref();
    let loaded = load::load(ctx, pos, store.system()).await?;
    let hinted = load::hinted(store, mode, &loaded).await?;
    let wanted = load::wanted(pos, mode, &loaded, &hinted);
    let query = PosQuery {
        mode,
        memo: &loaded.memo,
        wanted: &wanted,
    };
    let reading = pos.read(ctx, query).await?;
    let sides = read_sides(ctx, store, mode, &loaded, &hinted, &reading).await?;
    let mut report = StockPassReport {
        examined: sides.examine.len(),
        ..Default::default()
    };
    report
        .skipped
        .extend(reading.rejected.iter().map(|e| SkuNote {
            sku: format!("export line {}", e.line),
            message: e.to_string(),
        }));
    let steps = plan_pairs(ctx, mode, &loaded, sides, &mut report);
    let Some(lease) = lease else {
        report.store_requests = store.requests();
        return Ok(report);
    };
    lease.still_held(ctx).await?;
    let pos_items_read = (mode == PassMode::Full).then_some(reading.levels.len());
    let applied = apply::apply(ctx, store, &steps).await?;
    settle_report(&mut report, &applied);
    report.store_requests = store.requests();
    let recording = Recording {
        steps,
        applied,
        reading,
        changes: report.changes.clone(),
        hints: loaded.hints,
        since: loaded.last_pass.unwrap_or(0),
        pos_items_read,
        back_office: pos.label(),
        channel: store.system(),
        memo_rows: pos.memo_rows(),
        job_id,
    };
    record::record(ctx, recording).await?;
    Ok(report)
}

/// Reads what the POS reading implies about web orders, picks the pairs to examine, and reads the store's
/// products for them.
async fn read_sides(
    ctx: &JobContext,
    store: &dyn StoreSide,
    mode: PassMode,
    loaded: &Loaded,
    hinted: &BTreeSet<i64>,
    reading: &PosReading,
) -> Result<Sides, JobError> {
    let pos_qty: HashMap<String, i64> = reading
        .levels
        .iter()
        .map(|l| {
            let qty = l.qty_avail.floor().to_i64().unwrap_or(0);
            (l.item_no.to_uppercase(), qty)
        })
        .collect();
    let absorbed = absorbed_units(ctx, reading, &loaded.pairs).await?;
    let examine: Vec<AlignedSku> = loaded
        .pairs
        .iter()
        .filter(|p| {
            let sku = p.store_sku.to_uppercase();
            mode == PassMode::Full
                || pos_qty.contains_key(&p.pos_sku.to_uppercase())
                || p.base.is_none()
                || p.store_product_id.is_some_and(|id| hinted.contains(&id))
                || loaded.sales.contains_key(&sku)
                || absorbed.contains_key(&sku)
                || p.unconfirmed.is_some()
        })
        .cloned()
        .collect();
    // The store side: products and variations by SKU, 100 per request.
    let skus: Vec<String> = examine.iter().map(|p| p.store_sku.clone()).collect();
    let products = read_products(store, &skus).await?;
    Ok(Sides {
        examine,
        pos_qty,
        absorbed,
        products,
    })
}

/// Units of web orders the POS reading includes, by upper-cased store SKU: orders it absorbed (their lines,
/// read inside a rolled-back transaction: the real marking happens with the pass's results), less released
/// ones, plus a file-only POS's reductions counted on the store SKU they pair with.
async fn absorbed_units(
    ctx: &JobContext,
    reading: &PosReading,
    pairs: &[AlignedSku],
) -> Result<HashMap<String, i64>, JobError> {
    let absorbed_orders = reading.orders.absorbed.clone();
    let mut absorbed = ctx
        .with_store(move |s| {
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
        })
        .await?;
    for (_, lines) in &reading.orders.released {
        for (sku, qty) in lines {
            *absorbed.entry(sku.to_uppercase()).or_default() -= qty;
        }
    }
    for p in pairs {
        if let Some(q) = reading.absorbed_by_pos_sku.get(&p.pos_sku.to_uppercase()) {
            *absorbed.entry(p.store_sku.to_uppercase()).or_default() += q;
        }
    }
    Ok(absorbed)
}

/// Plans every examined pair (the decision is `domain::stock_plan`'s) and reports what it decided.
fn plan_pairs(
    ctx: &JobContext,
    mode: PassMode,
    loaded: &Loaded,
    sides: Sides,
    report: &mut StockPassReport,
) -> Vec<PairStep> {
    let stock = &ctx.config.stock;
    let policy = |kind| stock.policy(kind);
    let rules = Rules {
        threshold: stock.threshold,
        policy: &policy,
    };
    let mut steps = Vec::with_capacity(sides.examine.len());
    for pair in sides.examine {
        let sku = pair.store_sku.to_uppercase();
        let product = sides.products.get(&sku).cloned();
        let pos =
            sides
                .pos_qty
                .get(&pair.pos_sku.to_uppercase())
                .copied()
                .or(match (mode, pair.base) {
                    // Unchanged on the POS since the watermark: what it showed at the last pass.
                    (PassMode::Incremental, Some(b)) => Some(b.pos_seen),
                    _ => None,
                });
        let input = PairInput {
            pos,
            store: product.as_ref().map(|p| StoreStock {
                quantity: p.stock_quantity,
                managed: p.manage_stock,
            }),
            base: pair.base,
            unconfirmed: pair.unconfirmed,
            absorbed_web: sides.absorbed.get(&sku).copied().unwrap_or(0),
            store_sales: loaded
                .last_pass
                .map(|_| loaded.sales.get(&sku).copied().unwrap_or(0)),
        };
        match stock_plan::plan_pair(&input, &rules) {
            PairPlan::Unmanaged => report.skipped.push(SkuNote {
                sku: pair.store_sku.clone(),
                message: "the store does not manage this product's stock".into(),
            }),
            PairPlan::Planned(plan) => {
                let step = PairStep {
                    pair,
                    pos,
                    product,
                    plan: *plan,
                };
                report_step(&step, report);
                steps.push(step);
            }
        }
    }
    steps
}

/// What one pair's plan adds to the report: its conflict, its write, or why it was skipped.
fn report_step(step: &PairStep, report: &mut StockPassReport) {
    let sku = &step.pair.store_sku;
    let plan = &step.plan;
    if let Some(c) = &plan.conflict {
        report.conflicts.push(SkuNote {
            sku: sku.clone(),
            message: format!("{}: {}", c.kind.as_str(), c.detail),
        });
        report.detected.push(DetectedConflict {
            sku: sku.clone(),
            kind: c.kind.as_str(),
            pos: c.pos,
            store: c.store,
            base: c.base,
            proposed: c.proposed,
            detail: c.detail.clone(),
        });
    }
    if let (Some(new), Some(why)) = (plan.write, &plan.why) {
        report.changes.push(StockChange {
            sku: sku.clone(),
            pos_sku: step.pair.pos_sku.clone(),
            old: step.store_qty(),
            new,
            why: why.clone(),
        });
    }
    if let Some(reason) = &plan.skipped {
        report.skipped.push(SkuNote {
            sku: sku.clone(),
            message: reason.clone(),
        });
    }
}

/// Writes that failed or got no answer are reported as failed, and are no changes.
fn settle_report(report: &mut StockPassReport, applied: &Applied) {
    for (sku, message) in &applied.failed {
        report.failed.push(SkuNote {
            sku: sku.clone(),
            message: message.clone(),
        });
    }
    for (sku, u) in &applied.unconfirmed {
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
        !applied.failed.contains_key(&sku) && !applied.unconfirmed.contains_key(&sku)
    });
}
