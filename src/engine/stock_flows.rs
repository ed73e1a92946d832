//! The stock passes as the engine runs them: job handlers (full and incremental passes, an operator's
//! resolution), their schedules, the passes an operator can run now, and the live reads of `alignment`.
//! The pass itself is generic and lives in `src/stock/`; this file only builds its two sides from the
//! configuration (through the registry) and reports.

use super::handler::job_payload;

use serde::Deserialize;

use super::handler::{BoxFuture, JobContext, JobError, JobHandler};
use super::passes::{PassEntry, PassError, PassOptions, PassReport, dry_note};
use crate::app;
use crate::config::Config;
use crate::domain::LinkState;
use crate::domain::inventory::MergeBase;
use crate::domain::time::now_ms;
pub use crate::stock::{
    DetectedConflict, PassMode, PosSource, SkuNote, StockChange, StockPassReport, StoreProduct,
    StoreSide, failed_skus, notes, pos_source, run_stock_pass, stock_pass, store_side, summarize,
};
use crate::stock::{
    StockLease, StoreUpdate, back_office_has_prices, back_office_sections, store_integration,
};
use crate::store::inventory as stock_rows;
use crate::store::sync_log::{self, Change};
use crate::store::{Job, StoreError};

/// The two sides a stock or price pass keeps in step.
pub type Sides = (Box<dyn PosSource>, Box<dyn StoreSide>);

fn build_sides(config: &Config) -> Result<Sides, String> {
    Ok((pos_source(config)?, store_side(config)?))
}

/// The engine's stock pass jobs (full and incremental share one handler type).
pub struct StockPassJob {
    mode: PassMode,
    sides: Result<Sides, String>,
}

impl StockPassJob {
    pub fn new(config: &Config, mode: PassMode) -> Self {
        StockPassJob {
            mode,
            sides: build_sides(config),
        }
    }
}

impl JobHandler for StockPassJob {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let (pos, store) = self
                .sides
                .as_ref()
                .map_err(|e| JobError::permanent(e.clone()))?;
            let report = run_stock_pass(
                pos.as_ref(),
                store.as_ref(),
                ctx,
                self.mode,
                false,
                Some(job.id),
            )
            .await?;
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
            let summary = super::passes::counts_line(&summarize(&report));
            super::passes::record_outcome(ctx, job.id, Some(&summary)).await;
            Ok(())
        })
    }
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
/// merge base `agreed = store_seen = quantity, pos_seen = the conflict's POS value`. The POS value is the
/// one the operator decided against: POS sales after it are then still counted as movement on the next
/// pass, where reading the POS now would fold them into `pos_seen` and lose them. A failed write is retried
/// and leaves the base alone.
pub async fn apply_resolution(
    store: &dyn StoreSide,
    ctx: &JobContext,
    job_id: Option<i64>,
    sku: &str,
    quantity: i64,
    pos_seen: Option<i64>,
) -> Result<(), JobError> {
    // A pass planning from the old base meanwhile would write its stale quantity over this one.
    let who = job_id.map_or_else(|| format!("resolution of {sku}"), |id| format!("job {id}"));
    let lease = StockLease::take(ctx, &who).await?;
    let result = resolve_under_lease(store, ctx, &lease, job_id, sku, quantity, pos_seen).await;
    lease.release(ctx).await;
    result
}

async fn resolve_under_lease(
    store: &dyn StoreSide,
    ctx: &JobContext,
    lease: &StockLease,
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
    let product = store
        .find_by_sku(std::slice::from_ref(&pair.store_sku))
        .await?
        .into_iter()
        .find(|p| p.sku.eq_ignore_ascii_case(&pair.store_sku))
        .ok_or_else(|| JobError::permanent(format!("{sku}: the store has no such product")))?;
    let old = product.stock_quantity;
    lease.still_held(ctx).await?;
    if old != Some(quantity) {
        let update = StoreUpdate {
            stock_quantity: Some(quantity),
            ..StoreUpdate::of(&product, &pair.store_sku)
        };
        if let Some(f) = store.write(vec![update]).await.into_iter().next() {
            let id = pair.id;
            let m = f.message.clone();
            ctx.with_store(move |s| {
                s.write(|tx| {
                    stock_rows::record_pass(tx, id, None, LinkState::Error, Some(&m), now_ms())
                })
                .map_err(db)
            })
            .await?;
            // The store refusing this item (no permission, invalid data) refuses it again; only a request
            // that failed on the way (down, throttled, no answer) is worth another try.
            let message = format!("{sku}: {}", f.message);
            return Err(if f.unanswered {
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
    let field = crate::store::trace::store_field(store.system());
    ctx.with_store(move |s| {
        s.write(|tx| {
            let now = now_ms();
            stock_rows::set_product_ids(
                tx,
                pair.id,
                product.id as i64,
                product.parent_id.map(|p| p as i64),
            )?;
            let base = pos_seen.map(|p| MergeBase {
                agreed: quantity,
                pos_seen: p,
                store_seen: quantity,
            });
            stock_rows::record_pass(tx, pair.id, base, LinkState::Synced, None, now)?;
            // The operator's count is the truth now: an earlier write left unconfirmed no longer matters.
            stock_rows::set_unconfirmed(tx, pair.id, None)?;
            sync_log::record(
                tx,
                &Change {
                    source: "engine",
                    entity: "stock",
                    entity_key: &pair.store_sku,
                    field: &field,
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
    store: Result<Box<dyn StoreSide>, String>,
}

impl ApplyResolution {
    pub fn new(config: &Config) -> Self {
        ApplyResolution {
            store: store_side(config),
        }
    }
}

impl JobHandler for ApplyResolution {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let store = self
                .store
                .as_ref()
                .map_err(|e| JobError::permanent(e.clone()))?;
            let p: ResolutionPayload = job_payload(job)?;
            apply_resolution(
                store.as_ref(),
                ctx,
                Some(job.id),
                &p.sku,
                p.quantity,
                p.pos_seen,
            )
            .await?;
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
    // A back office whose stock carries no prices leaves them to the store.
    if back_office_has_prices(config) {
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
pub fn sides(config: &Config) -> Result<Sides, PassError> {
    sides_for(config, "stock sync")
}

/// The same, for `what` ("alignment") in the refusal.
fn sides_for(config: &Config, what: &str) -> Result<Sides, PassError> {
    let store = store_integration().map_or("", |i| i.name);
    let store_enabled = store_integration().is_some_and(|i| (i.enabled)(config));
    if !(store_enabled && crate::stock::has_back_office(config)) {
        return Err(PassError::rejected(format!(
            "{what} needs [{store}] and a back office ({}) enabled",
            back_office_sections()
        )));
    }
    build_sides(config).map_err(PassError::rejected)
}

async fn run_now(
    ctx: JobContext,
    mode: PassMode,
    options: PassOptions,
) -> Result<PassReport, PassError> {
    let (pos, store) = sides(&ctx.config)?;
    let dry_run = options.dry_run;
    let report = stock_pass(pos.as_ref(), store.as_ref(), &ctx, mode, dry_run)
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
    lines.push(format!(
        "{}{}",
        super::passes::counts_line(&summarize(&report)),
        dry_note(dry_run, "written")
    ));
    let mut out = PassReport::of(dry_run, "report", &report, lines);
    out.failed = failed_skus(report.failed.len());
    Ok(out)
}

/// The conflicts a full pass would raise now, written nowhere (`conflicts detect`).
pub async fn detect(ctx: &JobContext) -> Result<StockPassReport, PassError> {
    let (pos, store) = sides(&ctx.config)?;
    stock_pass(pos.as_ref(), store.as_ref(), ctx, PassMode::Full, true)
        .await
        .map_err(PassError::failed)
}

/// Every POS item number and every store SKU (products and variations), read now (`alignment suggest`).
pub async fn catalogue(config: &Config) -> Result<(Vec<String>, Vec<String>), PassError> {
    let (pos, store) = sides_for(config, "alignment")?;
    let failed = |e: String| PassError::failed(JobError::retry(e));
    let items: Vec<String> = pos
        .levels()
        .await
        .map_err(failed)?
        .into_iter()
        .map(|l| l.item_no)
        .collect();
    let skus = store.all_skus().await.map_err(failed)?;
    Ok((items, skus))
}

/// Both sides of one pair, read now (`alignment test`).
pub struct PairSides {
    /// The back office's name, for what the operator reads.
    pub pos_name: &'static str,
    pub pos_quantity: Option<String>,
    pub pos_price: Option<String>,
    pub store: Option<StoreProduct>,
}

/// Reads `pos_sku` in the back office and `store_sku` in the store now.
pub async fn pair_sides(
    config: &Config,
    pos_sku: &str,
    store_sku: &str,
) -> Result<PairSides, PassError> {
    let (pos, store) = sides_for(config, "alignment")?;
    let failed = |e: String| PassError::failed(JobError::retry(e));
    let level = pos
        .levels()
        .await
        .map_err(failed)?
        .into_iter()
        .find(|l| l.item_no.eq_ignore_ascii_case(pos_sku));
    let price = pos.item_price(pos_sku).await.map_err(failed)?;
    let product = store
        .find_by_sku(&[store_sku.to_string()])
        .await
        .map_err(|e| failed(e.message))?
        .into_iter()
        .next();
    Ok(PairSides {
        pos_name: pos.label(),
        pos_quantity: level.map(|l| l.qty_avail.normalize().to_string()),
        pos_price: price.map(|d| d.round_dp(2).to_string()),
        store: product,
    })
}
