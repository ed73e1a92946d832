//! Price passes: read every aligned SKU's POS price (Counterpoint: IM_PRC for the configured price location,
//! IM_ITEM otherwise; a file-only POS: its export's price column) and the store's `regular_price`, and — when the POS is the price source — write the POS price to
//! the store as a 2-decimal string in batches of ≤100 (sale prices are never sent). A difference beyond
//! `stock.price_drift` of the POS price raises a `price_drift` conflict instead of a write, unless its policy
//! settles it. When the store is the price source nothing is written anywhere (the Counterpoint connector
//! cannot write prices): the differences are the report.

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use super::handler::{BoxFuture, JobContext, JobError, JobHandler};
use super::passes::{PassError, PassOptions, PassReport, dry_note};
use super::stock_flows::{
    PosSide, SkuNote, policy_name, read_store_products, remember_product, write_store_updates,
};
use crate::config::{Config, PriceSource};
use crate::domain::alerts::{AlertKind, NewAlert};
use crate::domain::inventory::{ConflictKind, Policy, price_drift};
use crate::domain::time::now_ms;
use crate::integrations::woocommerce::client::{
    ProductUpdate, RequestCounter, WooClient, WooProduct,
};
use crate::integrations::woocommerce::orders as woo_orders;
use crate::store::inventory::{self as stock_rows, AlignedSku, NewConflict};
use crate::store::sync_log::{self, Change};
use crate::store::{Job, StoreError};

/// One price difference: written to the store (source pos), or to be applied in the POS (source woo).
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
    /// Source pos: regular prices written to the store. Source woo: differences for the POS (not written).
    pub changes: Vec<PriceChange>,
    pub conflicts: Vec<SkuNote>,
    pub skipped: Vec<SkuNote>,
    pub failed: Vec<SkuNote>,
    /// HTTP requests made to the store (reads and writes).
    pub store_requests: usize,
    /// Anything the reader must know about what was (not) done, e.g. that the POS is never written.
    pub note: Option<String>,
}

/// The note a report carries when the store is the price source.
pub const WOO_SOURCE_NOTE: &str = "price_source = woo: the POS is not written (syncdesk cannot write prices \
     into a back office); the changes are the differences to apply in the POS, and no conflicts are raised";

/// What the plan decided for one pair.
struct Planned {
    pair: AlignedSku,
    product: Option<WooProduct>,
    pos_price: Option<Decimal>,
    woo_price: Option<Decimal>,
    /// The regular price to send to the store.
    write: Option<Decimal>,
    conflict: Option<PlannedConflict>,
}

struct PlannedConflict {
    detail: String,
    proposed: Decimal,
    policy: Policy,
    /// The price the policy settled on (pos_wins writes the POS price, woo_wins keeps the store's).
    settled: Option<Decimal>,
}

/// What an operator's resolution of a SKU's latest price_drift says about the drift seen now.
struct OperatorDecision {
    /// pos_wins: write the POS price; woo_wins: leave the store's.
    write: bool,
    why: String,
}

/// The decision in force when `latest` (the SKU's newest price_drift) was resolved by an operator and the
/// prices it was made on still hold: pos_wins with the same POS price, woo_wins with both prices unchanged.
/// Anything else (open, settled by engine or policy, a price moved since) is None: the normal rules apply.
fn operator_decision(
    latest: &stock_rows::StockConflict,
    pos: Decimal,
    woo: Option<Decimal>,
) -> Option<OperatorDecision> {
    if !latest.resolved_by_operator() {
        return None;
    }
    let same = |seen: &Option<String>, now: Option<Decimal>| {
        seen.as_deref().and_then(store_price) == now && now.is_some()
    };
    let write = match latest.resolution.as_deref()? {
        "pos_wins" if same(&latest.pos_value, Some(pos)) => true,
        "woo_wins" if same(&latest.pos_value, Some(pos)) && same(&latest.woo_value, woo) => false,
        _ => return None,
    };
    Some(OperatorDecision {
        write,
        why: format!(
            "{} resolved by {} ({})",
            ConflictKind::PriceDrift.as_str(),
            latest.resolved_by.as_deref().unwrap_or("?"),
            latest.resolution.as_deref().unwrap_or("?")
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
    pos: &PosSide,
    woo: &WooClient,
    ctx: &JobContext,
    dry_run: bool,
) -> Result<PricePassReport, JobError> {
    let db = |e: StoreError| JobError::retry(e.to_string());
    let requests = RequestCounter::default();
    let woo = &woo.counting(&requests);
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
        .map_err(|e| JobError::retry(format!("{}: {e}", pos.name())))?
        .into_iter()
        .map(|(item, price)| (item.to_uppercase(), price.map(|d| d.round_dp(2))))
        .collect();
    let skus: Vec<String> = pairs.iter().map(|p| p.woo_sku.clone()).collect();
    let by_sku = read_store_products(woo, &skus).await?;

    let stock = &ctx.config.stock;
    let source = stock.price_source;
    let mut report = PricePassReport {
        source,
        examined: pairs.len(),
        note: (source == PriceSource::Woo).then(|| WOO_SOURCE_NOTE.to_string()),
        ..Default::default()
    };
    let mut plan: Vec<Planned> = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let product = by_sku.get(&pair.woo_sku.to_uppercase()).cloned();
        let pos_price = pos_prices
            .get(&pair.pos_sku.to_uppercase())
            .copied()
            .flatten();
        let woo_price = product.as_ref().and_then(|p| store_price(&p.regular_price));
        let mut planned = Planned {
            pair,
            product,
            pos_price,
            woo_price,
            write: None,
            conflict: None,
        };
        let sku = planned.pair.woo_sku.clone();
        let skip = |report: &mut PricePassReport, message: &str| {
            report.skipped.push(SkuNote {
                sku: sku.clone(),
                message: message.into(),
            })
        };
        if planned.product.is_none() {
            skip(&mut report, "the store has no such product");
        } else if pos_price.is_none_or(|p| p <= Decimal::ZERO) {
            skip(&mut report, "the POS has no price for this item");
        } else if let (Some(p), Some(w)) = (pos_price, woo_price)
            && p == w
        {
            // Agreed: nothing to do but remember both.
        } else if source == PriceSource::Woo {
            match (pos_price, woo_price) {
                (Some(p), Some(w)) => report.changes.push(PriceChange {
                    sku: sku.clone(),
                    pos_sku: planned.pair.pos_sku.clone(),
                    old: money(p),
                    new: money(w),
                    why: "price_source = woo: set this price in Counterpoint (not written)".into(),
                }),
                _ => skip(&mut report, "the store has no price for this product"),
            }
        } else if let Some(p) = pos_price {
            let drifted = woo_price.is_some_and(|w| {
                price_drift(
                    p.to_f64().unwrap_or(0.0),
                    w.to_f64().unwrap_or(0.0),
                    stock.price_drift,
                )
            });
            let old = woo_price.map(money).unwrap_or_default();
            let decided = decisions
                .get(&planned.pair.woo_sku)
                .and_then(|d| operator_decision(d, p, woo_price));
            if drifted && let Some(decided) = decided {
                // An operator settled exactly this drift: honour it instead of asking again.
                if decided.write {
                    planned.write = Some(p);
                    report.changes.push(PriceChange {
                        sku: sku.clone(),
                        pos_sku: planned.pair.pos_sku.clone(),
                        old,
                        new: money(p),
                        why: decided.why,
                    });
                }
            } else if drifted && stock.price_drift_conflict {
                let policy = stock.policy(ConflictKind::PriceDrift);
                let detail = format!(
                    "POS {} vs store {old}: more than {:.0}% apart",
                    money(p),
                    stock.price_drift * 100.0
                );
                report.conflicts.push(SkuNote {
                    sku: sku.clone(),
                    message: format!("{}: {detail}", ConflictKind::PriceDrift.as_str()),
                });
                let settled = match policy {
                    Policy::PosWins => Some(p),
                    Policy::WooWins => woo_price,
                    Policy::Merge | Policy::Manual => None,
                };
                if policy == Policy::PosWins {
                    planned.write = Some(p);
                    report.changes.push(PriceChange {
                        sku: sku.clone(),
                        pos_sku: planned.pair.pos_sku.clone(),
                        old,
                        new: money(p),
                        why: format!(
                            "{} settled by policy {}",
                            ConflictKind::PriceDrift.as_str(),
                            policy_name(policy)
                        ),
                    });
                }
                planned.conflict = Some(PlannedConflict {
                    detail,
                    proposed: p,
                    policy,
                    settled,
                });
            } else {
                planned.write = Some(p);
                report.changes.push(PriceChange {
                    sku: sku.clone(),
                    pos_sku: planned.pair.pos_sku.clone(),
                    new: money(p),
                    why: if old.is_empty() {
                        "the store had no price: the POS price".into()
                    } else if drifted {
                        "the POS price (drift allowed: price_drift_conflict = false)".into()
                    } else {
                        "the POS price".into()
                    },
                    old,
                });
            }
        }
        plan.push(planned);
    }
    if dry_run {
        report.store_requests = requests.get();
        return Ok(report);
    }

    let updates: Vec<ProductUpdate> = plan
        .iter()
        .filter_map(|p| {
            let price = p.write?;
            let product = p.product.as_ref()?;
            Some(ProductUpdate {
                id: product.id,
                parent_id: (product.parent_id != 0).then_some(product.parent_id),
                sku: Some(p.pair.woo_sku.clone()),
                regular_price: Some(money(price)),
                ..Default::default()
            })
        })
        .collect();
    // A price is written absolutely: one whose answer was lost is simply written again next pass.
    let failed: HashMap<String, String> = write_store_updates(woo, updates)
        .await
        .into_iter()
        .map(|(sku, f)| (sku, f.message))
        .collect();
    report.store_requests = requests.get();
    for (sku, message) in &failed {
        report.failed.push(SkuNote {
            sku: sku.clone(),
            message: message.clone(),
        });
    }
    report
        .changes
        .retain(|c| source == PriceSource::Woo || !failed.contains_key(&c.sku.to_uppercase()));

    let config = ctx.config.clone();
    let changes = if source == PriceSource::Pos {
        report.changes.clone()
    } else {
        Vec::new()
    };
    ctx.with_store(move |s| {
        s.write(|tx| {
            let now = now_ms();
            for p in &plan {
                if let Some(product) = &p.product {
                    remember_product(tx, &p.pair, product)?;
                }
                let refused = failed.contains_key(&p.pair.woo_sku.to_uppercase());
                // What the store shows now: the written price, unless the write was refused.
                let woo_now = match p.write {
                    Some(w) if !refused => Some(w),
                    _ => p.woo_price,
                };
                stock_rows::record_prices(
                    tx,
                    p.pair.id,
                    p.pos_price.map(money).as_deref(),
                    woo_now.map(money).as_deref(),
                )?;
                if refused {
                    continue;
                }
                if p.conflict.is_none() && p.pos_price.is_some() && woo_now == p.pos_price {
                    // The sides agree again (a write, or an edit on either side): an open drift is over.
                    for open in stock_rows::open_conflicts_for(tx, &p.pair.woo_sku)? {
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
                if let Some(c) = &p.conflict {
                    let (id, _) = stock_rows::raise(
                        tx,
                        &NewConflict {
                            sku: &p.pair.woo_sku,
                            kind: ConflictKind::PriceDrift.as_str(),
                            pos_value: p.pos_price.map(money),
                            woo_value: p.woo_price.map(money),
                            base: None,
                            merged: None,
                            // The source's price, in cents (the column holds whole numbers).
                            proposed: cents(c.proposed),
                            detail: &c.detail,
                        },
                        now,
                    )?;
                    match c.settled {
                        Some(price) => {
                            stock_rows::resolve(
                                tx,
                                id,
                                stock_rows::RESOLVED_BY_POLICY,
                                policy_name(c.policy),
                                cents(price),
                                now,
                            )?;
                        }
                        // Waiting for an operator: make sure someone hears about it.
                        None => {
                            let sku = &p.pair.woo_sku;
                            let alert = NewAlert::new(
                                AlertKind::PriceDifference,
                                sku,
                                format!("Price difference: {sku}"),
                                format!("{sku}: {} (not written).", c.detail),
                            );
                            crate::app::raise_and_notify(tx, &config, &alert, now)?;
                        }
                    }
                }
            }
            for c in &changes {
                sync_log::record(
                    tx,
                    &Change {
                        source: "engine",
                        entity: "price",
                        entity_key: &c.sku,
                        field: "woocommerce.regular_price",
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
    .await?;
    Ok(report)
}

/// The engine's price pass job.
pub struct PricePassJob {
    clients: Result<(PosSide, WooClient), String>,
}

impl PricePassJob {
    pub fn new(config: &Config) -> Self {
        let clients = PosSide::from_config(config).and_then(|pos| {
            woo_orders::client(&config.woocommerce)
                .map(|w| (pos, w))
                .map_err(|e| e.to_string())
        });
        PricePassJob { clients }
    }
}

impl JobHandler for PricePassJob {
    fn run<'a>(
        &'a self,
        _job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let (cp, woo) = self
                .clients
                .as_ref()
                .map_err(|e| JobError::permanent(e.clone()))?;
            let report = price_pass(cp, woo, ctx, false).await?;
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
            Ok(())
        })
    }
}

/// A price pass now, in the foreground (`sync run prices`).
pub(super) async fn run_now(
    ctx: JobContext,
    options: PassOptions,
) -> Result<PassReport, PassError> {
    let (pos, woo) = super::stock_flows::sides(&ctx.config)?;
    let dry_run = options.dry_run;
    let report = price_pass(&pos, &woo, &ctx, dry_run)
        .await
        .map_err(PassError::failed)?;
    let verb = match (report.source, dry_run) {
        (PriceSource::Woo, _) => "differs (set in the POS)",
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
    lines.extend(super::stock_flows::notes(&report.conflicts, &report.failed));
    if let Some(note) = &report.note {
        lines.push(format!("note: {note}"));
    }
    lines.push(format!(
        "{} examined, {} changes, {} conflicts, {} skipped, {} failed, {} store requests{}",
        report.examined,
        report.changes.len(),
        report.conflicts.len(),
        report.skipped.len(),
        report.failed.len(),
        report.store_requests,
        dry_note(dry_run, "written")
    ));
    let mut out = PassReport::of(dry_run, "report", &report, lines);
    out.failed = super::stock_flows::failed_skus(report.failed.len());
    Ok(out)
}
