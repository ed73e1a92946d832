//! Price passes: read every aligned SKU's POS price (through the back office's stock source) and the
//! store's `regular_price`, and — when the POS is the price source — write the POS price to the store as a
//! 2-decimal string in batches of ≤100 (sale prices are never sent). A difference beyond
//! `stock.price_drift` of the POS price raises a `price_drift` conflict instead of a write, unless its
//! policy settles it. When the store is the price source nothing is written anywhere (syncdesk cannot write
//! prices into a back office): the differences are the report. The store side is the stock pass's.

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use super::handler::{BoxFuture, JobContext, JobError, JobHandler};
use super::passes::{PassError, PassOptions, PassReport, dry_note};
use super::stock_flows::Sides;
use crate::config::{Config, PriceSource, StockConfig};
use crate::domain::alerts::{AlertKind, NewAlert};
use crate::domain::inventory::{ConflictKind, Policy, price_drift};
use crate::domain::time::{Millis, now_ms};
use crate::stock::{
    PosSource, SkuNote, StoreProduct, StoreSide, StoreUpdate, failed_skus, notes, read_products,
    remember_product, write_updates,
};
use crate::store::inventory::{self as stock_rows, AlignedSku, NewConflict};
use crate::store::sync_log::{self, Change};
use crate::store::{Job, StoreError};

/// One price difference: written to the store (source pos), or to be applied in the POS (source store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceChange {
    pub sku: String,
    pub pos_sku: String,
    /// The price being replaced ("" when the store had none).
    pub old: String,
    pub new: String,
    pub why: String,
}

/// What a price pass did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct PricePassReport {
    pub source: PriceSource,
    pub examined: usize,
    /// Source pos: regular prices written to the store. Source store: differences for the POS (not written).
    pub changes: Vec<PriceChange>,
    pub conflicts: Vec<SkuNote>,
    pub skipped: Vec<SkuNote>,
    pub failed: Vec<SkuNote>,
    /// HTTP requests made to the store (reads and writes).
    pub store_requests: usize,
    /// Anything the reader must know about what was (not) done, e.g. that the POS is never written.
    pub note: Option<String>,
}

impl PricePassReport {
    /// Its counts, as `sync run prices` ends and a price pass job records them.
    pub fn summary(&self) -> String {
        format!(
            "{} examined, {} changes, {} conflicts, {} skipped, {} failed, {} store requests",
            self.examined,
            self.changes.len(),
            self.conflicts.len(),
            self.skipped.len(),
            self.failed.len(),
            self.store_requests,
        )
    }
}

/// The note a report carries when the store is the price source.
pub const STORE_SOURCE_NOTE: &str = "price_source = store: the POS is not written (syncdesk cannot write prices \
     into a back office); the changes are the differences to apply in the POS, and no conflicts are raised";

/// What the plan decided for one pair.
struct Planned {
    pair: AlignedSku,
    product: Option<StoreProduct>,
    pos_price: Option<Decimal>,
    store_price: Option<Decimal>,
    /// The regular price to send to the store.
    write: Option<Decimal>,
    conflict: Option<PlannedConflict>,
}

struct PlannedConflict {
    detail: String,
    proposed: Decimal,
    policy: Policy,
    /// The price the policy settled on (pos_wins writes the POS price, store_wins keeps the store's).
    settled: Option<Decimal>,
}

/// What an operator's resolution of a SKU's latest price_drift says about the drift seen now.
struct OperatorDecision {
    /// pos_wins: write the POS price; store_wins: leave the store's.
    write: bool,
    why: String,
}

/// The decision in force when `latest` (the SKU's newest price_drift) was resolved by an operator and the
/// prices it was made on still hold: pos_wins with the same POS price, store_wins with both prices unchanged.
/// Anything else (open, settled by engine or policy, a price moved since) is None: the normal rules apply.
fn operator_decision(
    latest: &stock_rows::StockConflict,
    pos: Decimal,
    store: Option<Decimal>,
) -> Option<OperatorDecision> {
    if !latest.resolved_by_operator() {
        return None;
    }
    let same = |seen: &Option<String>, now: Option<Decimal>| {
        seen.as_deref().and_then(store_price) == now && now.is_some()
    };
    let write = match Policy::parse(latest.resolution.as_deref()?)? {
        Policy::PosWins if same(&latest.pos_value, Some(pos)) => true,
        Policy::StoreWins
            if same(&latest.pos_value, Some(pos)) && same(&latest.store_value, store) =>
        {
            false
        }
        _ => return None,
    };
    Some(OperatorDecision {
        write,
        why: format!(
            "{} resolved by {} ({})",
            ConflictKind::PriceDrift.as_str(),
            latest.resolved_by.as_deref().unwrap_or("?"),
            latest
                .resolution
                .as_deref()
                .map_or("?", crate::domain::inventory::Policy::said)
        ),
    })
}

/// A price as the store shows it: "" (or anything not a number) is no price.
fn store_price(text: &str) -> Option<Decimal> {
    Decimal::from_str(text.trim()).ok().map(|d| d.round_dp(2))
}

/// Money as the store takes it: a string with 2 decimals ("12.50").
pub fn money(price: Decimal) -> String {
    format!("{:.2}", price.round_dp(2))
}

fn cents(price: Decimal) -> Option<i64> {
    (price.round_dp(2) * Decimal::from(100)).to_i64()
}

pub async fn price_pass(
    pos: &dyn PosSource,
    store: &dyn StoreSide,
    ctx: &JobContext,
    dry_run: bool,
) -> Result<PricePassReport, JobError> {
    let counted = store.counting();
    let store = counted.as_ref();
    let (pairs, decisions) = ctx
        .with_store(move |s| {
            let conn = s.conn();
            let pairs = stock_rows::aligned(conn).map_err(db)?;
            let latest =
                stock_rows::latest_by_sku(conn, ConflictKind::PriceDrift.as_str()).map_err(db)?;
            Ok((pairs, latest))
        })
        .await?;
    let pos_prices: HashMap<String, Option<Decimal>> = pos
        .prices()
        .await
        .map_err(|e| JobError::retry(format!("{}: {e}", pos.label())))?
        .into_iter()
        .map(|(item, price)| (item.to_uppercase(), price.map(|d| d.round_dp(2))))
        .collect();
    let skus: Vec<String> = pairs.iter().map(|p| p.store_sku.clone()).collect();
    let mut by_sku = read_products(store, &skus).await?;

    let stock = &ctx.config.stock;
    let source = stock.price_source;
    let mut report = PricePassReport {
        source,
        examined: pairs.len(),
        note: (source == PriceSource::Store).then(|| STORE_SOURCE_NOTE.to_string()),
        ..Default::default()
    };
    let mut plan: Vec<Planned> = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let product = by_sku.remove(&pair.store_sku.to_uppercase());
        let pos_price = pos_prices
            .get(&pair.pos_sku.to_uppercase())
            .copied()
            .flatten();
        let decision = decisions.get(&pair.store_sku);
        let planned = Planned {
            store_price: product.as_ref().and_then(|p| store_price(&p.regular_price)),
            pair,
            product,
            pos_price,
            write: None,
            conflict: None,
        };
        plan.push(plan_pair(
            planned,
            decision,
            stock,
            pos.label(),
            &mut report,
        ));
    }
    if dry_run {
        report.store_requests = store.requests();
        return Ok(report);
    }

    let updates: Vec<StoreUpdate> = plan
        .iter()
        .filter_map(|p| {
            Some(StoreUpdate {
                regular_price: Some(money(p.write?)),
                ..StoreUpdate::of(p.product.as_ref()?, &p.pair.store_sku)
            })
        })
        .collect();
    // A price is written absolutely: one whose answer was lost is simply written again next pass.
    let failed: HashMap<String, String> = write_updates(store, updates)
        .await
        .into_iter()
        .map(|(sku, f)| (sku, f.message))
        .collect();
    report.store_requests = store.requests();
    for (sku, message) in &failed {
        report.failed.push(SkuNote {
            sku: sku.clone(),
            message: message.clone(),
        });
    }
    report
        .changes
        .retain(|c| source == PriceSource::Store || !failed.contains_key(&c.sku.to_uppercase()));
    let changes = if source == PriceSource::Pos {
        report.changes.clone()
    } else {
        Vec::new()
    };
    record(ctx, store.system(), plan, failed, changes).await?;
    Ok(report)
}

fn db(e: StoreError) -> JobError {
    JobError::retry(e.to_string())
}

/// Plans one pair's price: nothing (agreed, or nothing to compare), a difference to report (the store is
/// the source), or a write of the POS price — unless it drifted too far, which is a conflict.
fn plan_pair(
    mut planned: Planned,
    decision: Option<&stock_rows::StockConflict>,
    stock: &StockConfig,
    pos_name: &str,
    report: &mut PricePassReport,
) -> Planned {
    let sku = planned.pair.store_sku.clone();
    let (pos_price, store_now) = (planned.pos_price, planned.store_price);
    let mut skip = |message: &str| {
        report.skipped.push(SkuNote {
            sku: sku.clone(),
            message: message.into(),
        })
    };
    if planned.product.is_none() {
        skip("the store has no such product");
    } else if pos_price.is_none_or(|p| p <= Decimal::ZERO) {
        skip("the POS has no price for this item");
    } else if let (Some(p), Some(w)) = (pos_price, store_now)
        && p == w
    {
        // Agreed: nothing to do but remember both.
    } else if stock.price_source == PriceSource::Store {
        match (pos_price, store_now) {
            (Some(p), Some(w)) => report.changes.push(PriceChange {
                sku: sku.clone(),
                pos_sku: planned.pair.pos_sku.clone(),
                old: money(p),
                new: money(w),
                why: format!("price_source = store: set this price in {pos_name} (not written)"),
            }),
            _ => skip("the store has no price for this product"),
        }
    } else if let Some(p) = pos_price {
        plan_from_pos(&mut planned, p, decision, stock, report);
    }
    planned
}

/// The POS is the price source: write its price, unless it drifted beyond `price_drift` (a conflict,
/// settled by its policy or by an operator's decision that still holds).
fn plan_from_pos(
    planned: &mut Planned,
    p: Decimal,
    decision: Option<&stock_rows::StockConflict>,
    stock: &StockConfig,
    report: &mut PricePassReport,
) {
    let store_now = planned.store_price;
    let drifted = store_now.is_some_and(|w| {
        price_drift(
            p.to_f64().unwrap_or(0.0),
            w.to_f64().unwrap_or(0.0),
            stock.price_drift,
        )
    });
    let old = store_now.map(money).unwrap_or_default();
    let change = |why: String| PriceChange {
        sku: planned.pair.store_sku.clone(),
        pos_sku: planned.pair.pos_sku.clone(),
        old: old.clone(),
        new: money(p),
        why,
    };
    let decided = decision.and_then(|d| operator_decision(d, p, store_now));
    if drifted && let Some(decided) = decided {
        // An operator settled exactly this drift: honour it instead of asking again.
        if decided.write {
            report.changes.push(change(decided.why));
            planned.write = Some(p);
        }
    } else if drifted && stock.price_drift_conflict {
        let policy = stock.policy(ConflictKind::PriceDrift);
        let detail = format!(
            "POS {} vs store {old}: more than {:.0}% apart",
            money(p),
            stock.price_drift * 100.0
        );
        report.conflicts.push(SkuNote {
            sku: planned.pair.store_sku.clone(),
            message: format!("{}: {detail}", ConflictKind::PriceDrift.as_str()),
        });
        let settled = match policy {
            Policy::PosWins => Some(p),
            Policy::StoreWins => store_now,
            Policy::Merge | Policy::Manual => None,
        };
        if policy == Policy::PosWins {
            let why = format!(
                "{} settled by policy {}",
                ConflictKind::PriceDrift.as_str(),
                policy.name()
            );
            report.changes.push(change(why));
            planned.write = Some(p);
        }
        planned.conflict = Some(PlannedConflict {
            detail,
            proposed: p,
            policy,
            settled,
        });
    } else {
        let why = if old.is_empty() {
            "the store had no price: the POS price"
        } else if drifted {
            "the POS price (drift allowed: price_drift_conflict = false)"
        } else {
            "the POS price"
        };
        report.changes.push(change(why.into()));
        planned.write = Some(p);
    }
}

/// Records both prices of every pair, ends drifts the sides no longer show, raises (or settles) new ones,
/// and logs the writes — in one transaction.
async fn record(
    ctx: &JobContext,
    system: &'static str,
    plan: Vec<Planned>,
    failed: HashMap<String, String>,
    changes: Vec<PriceChange>,
) -> Result<(), JobError> {
    let config = ctx.config.clone();
    ctx.with_store(move |s| {
        s.write(|tx| {
            let now = now_ms();
            for p in &plan {
                let refused = failed.contains_key(&p.pair.store_sku.to_uppercase());
                record_pair(tx, &config, p, refused, now)?;
            }
            let field = format!("{system}.regular_price");
            for c in &changes {
                sync_log::record(
                    tx,
                    &Change {
                        source: "engine",
                        entity: "price",
                        entity_key: &c.sku,
                        field: &field,
                        old_value: Some(&c.old),
                        new_value: Some(&c.new),
                        reason: Some(&c.why),
                        ..Default::default()
                    },
                    now,
                )?;
            }
            Ok::<_, StoreError>(())
        })
        .map_err(db)
    })
    .await
}

fn record_pair(
    tx: &rusqlite::Connection,
    config: &Config,
    p: &Planned,
    refused: bool,
    now: Millis,
) -> Result<(), StoreError> {
    if let Some(product) = &p.product {
        remember_product(tx, &p.pair, product)?;
    }
    // What the store shows now: the written price, unless the write was refused.
    let store_now = match p.write {
        Some(w) if !refused => Some(w),
        _ => p.store_price,
    };
    stock_rows::record_prices(
        tx,
        p.pair.id,
        p.pos_price.map(money).as_deref(),
        store_now.map(money).as_deref(),
    )?;
    if refused {
        return Ok(());
    }
    if p.conflict.is_none() && p.pos_price.is_some() && store_now == p.pos_price {
        // The sides agree again (a write, or an edit on either side): an open drift is over.
        for open in stock_rows::open_conflicts_for(tx, &p.pair.store_sku)? {
            if open.kind == ConflictKind::PriceDrift.as_str() {
                stock_rows::resolve(
                    tx,
                    open.id,
                    stock_rows::RESOLVED_BY_ENGINE,
                    "prices_agree",
                    None,
                    now,
                )?;
            }
        }
    }
    match &p.conflict {
        Some(c) => record_conflict(tx, config, p, c, now),
        None => Ok(()),
    }
}

fn record_conflict(
    tx: &rusqlite::Connection,
    config: &Config,
    p: &Planned,
    c: &PlannedConflict,
    now: Millis,
) -> Result<(), StoreError> {
    let sku = &p.pair.store_sku;
    let (id, _) = stock_rows::raise(
        tx,
        &NewConflict {
            sku,
            kind: ConflictKind::PriceDrift.as_str(),
            pos_value: p.pos_price.map(money),
            store_value: p.store_price.map(money),
            base: None,
            merged: None,
            // The source's price, in cents (the column holds whole numbers).
            proposed: cents(c.proposed),
            detail: &c.detail,
        },
        now,
    )?;
    match c.settled {
        Some(price) => stock_rows::resolve(
            tx,
            id,
            stock_rows::RESOLVED_BY_POLICY,
            c.policy.name(),
            cents(price),
            now,
        )
        .map(drop),
        // Waiting for an operator: make sure someone hears about it.
        None => {
            let alert = NewAlert::new(
                AlertKind::PriceDifference,
                sku,
                format!("Price difference: {sku}"),
                format!("{sku}: {} (not written).", c.detail),
            );
            crate::app::raise_and_notify(tx, config, &alert, now).map(drop)
        }
    }
}

/// The engine's price pass job.
pub struct PricePassJob {
    sides: Result<Sides, String>,
}

impl PricePassJob {
    pub fn new(config: &Config) -> Self {
        PricePassJob {
            sides: crate::stock::pos_source(config)
                .and_then(|pos| Ok((pos, crate::stock::store_side(config)?))),
        }
    }
}

impl JobHandler for PricePassJob {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let (pos, store) = self
                .sides
                .as_ref()
                .map_err(|e| JobError::permanent(e.clone()))?;
            let report = price_pass(pos.as_ref(), store.as_ref(), ctx, false).await?;
            if !report.changes.is_empty()
                || !report.conflicts.is_empty()
                || !report.failed.is_empty()
            {
                tracing::info!(
                    source = ?report.source,
                    examined = report.examined,
                    changes = report.changes.len(),
                    conflicts = report.conflicts.len(),
                    failed = report.failed.len(),
                    "price pass"
                );
            }
            super::passes::record_outcome(ctx, job.id, Some(&report.summary())).await;
            Ok(())
        })
    }
}

/// A price pass now, in the foreground (`sync run prices`).
pub(super) async fn run_now(
    ctx: JobContext,
    options: PassOptions,
) -> Result<PassReport, PassError> {
    let (pos, store) = super::stock_flows::sides(&ctx.config)?;
    let dry_run = options.dry_run;
    let report = price_pass(pos.as_ref(), store.as_ref(), &ctx, dry_run)
        .await
        .map_err(PassError::failed)?;
    let verb = match (report.source, dry_run) {
        (PriceSource::Store, _) => "differs (set in the POS)",
        (PriceSource::Pos, true) => "would set",
        (PriceSource::Pos, false) => "set",
    };
    let mut lines = Vec::new();
    for c in &report.changes {
        let old = if c.old.is_empty() { "-" } else { &c.old };
        lines.push(format!(
            "{verb} {} (POS {}) {old} → {}: {}",
            c.sku, c.pos_sku, c.new, c.why
        ));
    }
    lines.extend(notes(&report.conflicts, &report.failed));
    if let Some(note) = &report.note {
        lines.push(format!("note: {note}"));
    }
    lines.push(format!(
        "{}{}",
        report.summary(),
        dry_note(dry_run, "written")
    ));
    let mut out = PassReport::of(dry_run, "report", &report, lines);
    out.failed = failed_skus(report.failed.len());
    Ok(out)
}
