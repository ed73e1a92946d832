//! Stock sync commands an operator runs directly: importing the SKU alignment and reading conflicts.
//! (The passes themselves are engine jobs.)

use serde::Serialize;

use super::{App, AppError, Result};
use crate::domain::JobKind;
use crate::domain::Permission;
use crate::domain::alignment::{self, LineError};
use crate::domain::inventory::{self as merge, ConflictKind, Policy};
use crate::domain::time::now_ms;
use crate::stock::store_side::store_label;
use crate::store::inventory::{self, AlignedSku, Retired, StockConflict, Unaligned, Upsert};
use crate::store::jobs;
use crate::store::sync_log::{self, Change};

/// A stock pass over every aligned SKU.
pub const STOCK_FULL: JobKind = JobKind::new("stock.full_pass");
/// A stock pass over what changed since the last one.
pub const STOCK_INCREMENTAL: JobKind = JobKind::new("stock.incremental_pass");
/// A price pass over every aligned SKU.
pub const STOCK_PRICES: JobKind = JobKind::new("stock.price_pass");
/// Write an operator's stock conflict resolution to the store and record the new merge base (key `stock:SKU`).
pub const STOCK_APPLY_RESOLUTION: JobKind = JobKind::new("stock.apply_resolution");

/// Which side an operator sides with when settling a stock conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Winner {
    Pos,
    Store,
    Merge,
}

/// An operator's decision on a SKU's open stock conflicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Winner(Winner),
    /// An exact quantity (a recount).
    Quantity(i64),
}

impl Resolution {
    /// How the conflict row records it.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Winner(Winner::Pos) => "pos_wins",
            Resolution::Winner(Winner::Store) => Policy::StoreWins.name(),
            Resolution::Winner(Winner::Merge) => "merge",
            Resolution::Quantity(_) => "quantity",
        }
    }
}

/// What resolving decided; the store is written later by the `stock.apply_resolution` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedConflict {
    /// The store SKU the conflicts were raised on.
    pub sku: String,
    pub conflict_ids: Vec<i64>,
    pub kinds: Vec<String>,
    pub resolution: &'static str,
    pub quantity: i64,
    /// The POS quantity the decision was made against (becomes the merge base's `pos_seen`).
    pub pos_seen: Option<i64>,
    pub resolved_by: String,
    pub job_id: i64,
}

/// What settling a SKU's price_drift decided. On pos_wins the price pass (asked to run now) writes the POS
/// price; on store_wins the store keeps its price and the pass stops flagging this drift while both stay put.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedPrice {
    pub sku: String,
    pub conflict_id: i64,
    /// pos_wins or store_wins (as `Policy::name` records it).
    pub resolution: &'static str,
    /// The price the store is to show ("32.60").
    pub price: String,
    pub pos_price: Option<String>,
    pub store_price: Option<String>,
    pub resolved_by: String,
    /// The price pass asked to run now (pos_wins, when stock sync is enabled).
    pub job_id: Option<i64>,
}

impl ResolvedPrice {
    /// The operator's toast / CLI line: what happens to the store.
    pub fn summary(&self) -> String {
        let outcome = if self.resolution == "pos_wins" {
            format!("{} goes to the store", self.price)
        } else {
            format!("the store keeps {}", self.price)
        };
        format!(
            "{} price resolved by {} ({}): {outcome}",
            self.sku,
            self.resolved_by,
            Policy::said(self.resolution)
        )
    }
}

/// Either kind of settlement, for callers that resolve by SKU alone (the CLI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Resolved {
    Stock(ResolvedConflict),
    Price(ResolvedPrice),
}

/// The store SKU of a pair named by either side's SKU (the SKU itself when not aligned).
fn store_sku(conn: &rusqlite::Connection, sku: &str) -> Result<String> {
    Ok(inventory::find(conn, sku)?
        .map(|p| p.store_sku)
        .unwrap_or_else(|| sku.to_string()))
}

fn parse_qty(v: &Option<String>) -> Option<i64> {
    v.as_deref().and_then(|s| s.trim().parse().ok())
}

/// What an alignment import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AlignmentImport {
    pub added: usize,
    /// Pairs changed, re-pointed ones included.
    pub updated: usize,
    pub unchanged: usize,
    /// Pairs whose POS SKU now goes with another store SKU: what they had agreed with the old one is
    /// retired (shown here, and kept in the sync log).
    pub repointed: Vec<Repointed>,
    /// Stored pairs whose store SKU a line gave to another POS SKU: no longer aligned (kept in the sync log).
    pub unaligned: Vec<Unaligned>,
    /// Lines that were not imported, with line and column (two lines pairing one SKU twice among them).
    pub errors: Vec<LineError>,
}

/// A pair re-pointed by an import line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repointed {
    pub line: usize,
    pub pos_sku: String,
    pub from: String,
    pub to: String,
    pub retired: Retired,
}

/// What a pair loses with its store SKU, in words.
fn describe_retired(r: &Retired) -> String {
    let mut parts = vec![match r.base {
        Some(b) => format!(
            "its merge base (agreed {}, POS then {}, store then {}) is retired",
            b.agreed, b.pos_seen, b.store_seen
        ),
        None => "it had no merge base yet".to_string(),
    }];
    if let Some(u) = &r.unconfirmed {
        parts.push(format!(
            "an unconfirmed stock write of {} to the old store SKU is no longer followed",
            u.quantity
        ));
    }
    parts.join("; ")
}

impl AlignmentImport {
    /// One line per pair that changed store SKU or lost it, for the operator.
    pub fn notes(&self) -> Vec<String> {
        let mut notes: Vec<(usize, String)> = self
            .repointed
            .iter()
            .map(|r| {
                (
                    r.line,
                    format!(
                        "line {}: {} re-pointed from {} to {}; {} (the next pass syncs it as a new pair; the sync log keeps the old pairing)",
                        r.line,
                        r.pos_sku,
                        r.from,
                        r.to,
                        describe_retired(&r.retired)
                    ),
                )
            })
            .collect();
        notes.extend(self.unaligned.iter().map(|u| {
            (
                u.taken_by_line,
                format!(
                    "line {}: {} was aligned with {}, which this line gives to another POS SKU; {} is no longer aligned and {} (the sync log keeps it)",
                    u.taken_by_line,
                    u.pos_sku,
                    u.store_sku,
                    u.pos_sku,
                    describe_retired(&u.retired)
                ),
            )
        }));
        notes.sort();
        notes.into_iter().map(|(_, n)| n).collect()
    }
}

/// The alignment file's header, its store column named after the store (as the shop's sheet heads it).
pub fn alignment_columns() -> [String; 4] {
    alignment::columns(store_label())
}

impl App {
    /// Imports the alignment CSV ([`alignment_columns`]: POS SKU, the store's SKU, Match Type, Confidence). Valid lines are stored
    /// (re-importing updates them) even when other lines are rejected; all in one transaction. Lines that
    /// pair one SKU twice are all rejected, by line. A pair that changes or loses its store SKU gives up its
    /// merge base, which the report shows and the sync log keeps.
    pub fn import_alignment(&mut self, csv: &str) -> Result<AlignmentImport> {
        self.require(Permission::AlignSkus)?;
        let (lines, mut errors) = alignment::parse_csv_lines(csv, store_label())
            .map_err(|e| AppError::Rejected(e.to_string()))?;
        let (lines, conflicts) = alignment::without_conflicts(lines, store_label());
        errors.extend(conflicts);
        errors.sort_by_key(|e| e.line);
        let actor = self.actor.name.clone();
        self.store.write(|tx| {
            let now = now_ms();
            let mut report = AlignmentImport {
                errors,
                ..Default::default()
            };
            let (outcomes, unaligned) = inventory::upsert_alignment(tx, &lines, now)?;
            for (l, outcome) in lines.iter().zip(outcomes) {
                let (line, pair) = (l.line, &l.pair);
                match outcome {
                    Upsert::Added => report.added += 1,
                    Upsert::Updated => report.updated += 1,
                    Upsert::Unchanged => report.unchanged += 1,
                    Upsert::Repointed { from, retired } => {
                        report.updated += 1;
                        let reason = format!(
                            "alignment import line {line}: {}",
                            describe_retired(&retired)
                        );
                        sync_log::record(
                            tx,
                            &Change {
                                source: "operator",
                                entity: "alignment",
                                entity_key: &pair.pos_sku,
                                field: "store_sku",
                                old_value: Some(&from),
                                new_value: Some(&pair.store_sku),
                                reason: Some(&reason),
                                actor: Some(&actor),
                                ..Default::default()
                            },
                            now,
                        )?;
                        report.repointed.push(Repointed {
                            line,
                            pos_sku: pair.pos_sku.clone(),
                            from,
                            to: pair.store_sku.clone(),
                            retired,
                        });
                    }
                }
            }
            for u in &unaligned {
                let reason = format!(
                    "alignment import line {} gave {} to another POS SKU: {}",
                    u.taken_by_line,
                    u.store_sku,
                    describe_retired(&u.retired)
                );
                sync_log::record(
                    tx,
                    &Change {
                        source: "operator",
                        entity: "alignment",
                        entity_key: &u.pos_sku,
                        field: "store_sku",
                        old_value: Some(&u.store_sku),
                        new_value: None,
                        reason: Some(&reason),
                        actor: Some(&actor),
                        ..Default::default()
                    },
                    now,
                )?;
            }
            report.unaligned = unaligned;
            Ok(report)
        })
    }

    pub fn alignment(&mut self) -> Result<Vec<AlignedSku>> {
        Ok(inventory::aligned(self.store.conn())?)
    }

    pub fn stock_conflicts(
        &mut self,
        include_resolved: bool,
        limit: i64,
    ) -> Result<Vec<StockConflict>> {
        Ok(inventory::conflicts(
            self.store.conn(),
            include_resolved,
            limit,
            0,
        )?)
    }

    /// Settles every open stock conflict of `sku` (either side's SKU) in one transaction: marks them resolved
    /// by this actor, logs the decision and enqueues `stock.apply_resolution` to write the quantity to the
    /// store. Values come from the newest open conflict (what the last pass saw).
    pub fn resolve_conflict(&mut self, sku: &str, how: Resolution) -> Result<ResolvedConflict> {
        self.require(Permission::ResolveConflicts)?;
        if let Resolution::Quantity(q) = how
            && q < 0
        {
            return Err(AppError::Rejected(format!(
                "{sku}: quantity {q} is negative"
            )));
        }
        let config = self.config.clone();
        let actor = self.actor.name.clone();
        self.store.write(|tx| {
            let store_sku = store_sku(tx, sku)?;
            let mut open = inventory::open_conflicts_for(tx, &store_sku)?;
            if open.is_empty() && store_sku != sku {
                open = inventory::open_conflicts_for(tx, sku)?;
            }
            // A price_drift conflict holds prices, not quantities: the price pass closes it once the sides
            // agree (or its policy settles it); a stock resolution must not write a quantity for it.
            open.retain(|c| c.kind != ConflictKind::PriceDrift.as_str());
            let Some(latest) = open.last().cloned() else {
                return Err(AppError::Rejected(format!("{sku}: no open stock conflict")));
            };
            let pos = parse_qty(&latest.pos_value);
            let store = parse_qty(&latest.store_value);
            let quantity = match how {
                Resolution::Quantity(q) => q,
                Resolution::Winner(w) => {
                    let (policy, known) = match w {
                        Winner::Pos => (Policy::PosWins, "POS quantity"),
                        Winner::Store => (Policy::StoreWins, "store quantity"),
                        Winner::Merge => (Policy::Merge, "merged quantity"),
                    };
                    merge::resolve(policy, pos, store, latest.merged).ok_or_else(|| {
                        AppError::Rejected(format!(
                            "{sku}: the {} conflict has no {known} to take; give the counted quantity instead (--qty N)",
                            latest.kind
                        ))
                    })?
                }
            };
            if quantity < 0 {
                return Err(AppError::Rejected(format!(
                    "{sku}: that side shows {quantity}, a negative quantity; give the counted quantity instead (--qty N)"
                )));
            }
            let now = now_ms();
            let resolution = how.as_str();
            for c in &open {
                inventory::resolve(tx, c.id, &actor, resolution, Some(quantity), now)?;
            }
            let ids: Vec<i64> = open.iter().map(|c| c.id).collect();
            let kinds: Vec<String> = open.iter().map(|c| c.kind.clone()).collect();
            let reason = format!(
                "{} resolved by {actor} ({}): POS {}, store {}",
                kinds.join(", "),
                Policy::said(resolution),
                latest.pos_value.as_deref().unwrap_or("-"),
                latest.store_value.as_deref().unwrap_or("-"),
            );
            sync_log::record(
                tx,
                &Change {
                    source: "operator",
                    entity: "stock",
                    entity_key: &latest.sku,
                    field: "conflict.resolution",
                    old_value: latest.store_value.as_deref(),
                    new_value: Some(&quantity.to_string()),
                    reason: Some(&reason),
                    actor: Some(&actor),
                    ..Default::default()
                },
                now,
            )?;
            let job_id = crate::integrations::enqueue(
                tx,
                &config,
                STOCK_APPLY_RESOLUTION,
                Some(format!("stock:{}", latest.sku)),
                serde_json::json!({
                    "sku": latest.sku,
                    "quantity": quantity,
                    "pos_seen": pos,
                    "conflict_ids": ids,
                }),
                now,
            )?;
            Ok(ResolvedConflict {
                sku: latest.sku.clone(),
                conflict_ids: ids,
                kinds,
                resolution,
                quantity,
                pos_seen: pos,
                resolved_by: actor.clone(),
                job_id,
            })
        })
    }

    /// Settles a SKU's open price_drift: POS wins (the price pass, asked to run now, writes the POS price) or
    /// store wins (the store keeps its price; the pass stops flagging this drift while both prices stay as
    /// they are now). A merge or a counted quantity is refused. Logged like a stock resolution.
    pub fn resolve_price_conflict(&mut self, sku: &str, how: Resolution) -> Result<ResolvedPrice> {
        self.require(Permission::ResolveConflicts)?;
        let winner = match how {
            Resolution::Winner(w @ (Winner::Pos | Winner::Store)) => w,
            Resolution::Winner(Winner::Merge) | Resolution::Quantity(_) => {
                return Err(AppError::Rejected(format!(
                    "{sku}: a price conflict is settled by the POS price or the store price"
                )));
            }
        };
        let config = self.config.clone();
        let actor = self.actor.name.clone();
        self.store.write(|tx| {
            let store_sku = store_sku(tx, sku)?;
            let drift = [store_sku.as_str(), sku]
                .into_iter()
                .map(|s| inventory::open_conflicts_for(tx, s))
                .collect::<std::result::Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .find(StockConflict::is_price)
                .ok_or_else(|| AppError::Rejected(format!("{sku}: no open price conflict")))?;
            let (chosen, side) = match winner {
                Winner::Pos => (&drift.pos_value, "POS price"),
                _ => (&drift.store_value, "store price"),
            };
            let Some(price) = chosen.clone() else {
                return Err(AppError::Rejected(format!(
                    "{sku}: the conflict has no {side} to take"
                )));
            };
            // Recorded in cents, as the price pass records a policy's settlement.
            let cents = merge::cents_from_money(&price);
            let resolution = how.as_str();
            let now = now_ms();
            inventory::resolve(tx, drift.id, &actor, resolution, cents, now)?;
            let reason = format!(
                "price_drift resolved by {actor} ({}): POS {}, store {}",
                Policy::said(resolution),
                drift.pos_value.as_deref().unwrap_or("-"),
                drift.store_value.as_deref().unwrap_or("-"),
            );
            sync_log::record(
                tx,
                &Change {
                    source: "operator",
                    entity: "price",
                    entity_key: &drift.sku,
                    field: "conflict.resolution",
                    old_value: drift.store_value.as_deref(),
                    new_value: Some(&price),
                    reason: Some(&reason),
                    actor: Some(&actor),
                    ..Default::default()
                },
                now,
            )?;
            // The POS price reaches the store with the next price pass: ask for it now.
            let job_id = if winner == Winner::Pos && config.stock.enabled {
                let kind = STOCK_PRICES;
                let max_attempts = config.jobs.max_attempts_for(kind);
                Some(jobs::run_now(tx, kind.as_str(), max_attempts, now)?.0)
            } else {
                None
            };
            Ok(ResolvedPrice {
                sku: drift.sku.clone(),
                conflict_id: drift.id,
                resolution,
                price,
                pos_price: drift.pos_value.clone(),
                store_price: drift.store_value.clone(),
                resolved_by: actor.clone(),
                job_id,
            })
        })
    }

    /// Resolves by SKU alone: its open stock conflicts when it has any (a quantity resolution), else its
    /// open price_drift.
    pub fn resolve_any_conflict(&mut self, sku: &str, how: Resolution) -> Result<Resolved> {
        self.require(Permission::ResolveConflicts)?;
        let open = {
            let conn = self.store.conn();
            let store_sku = store_sku(conn, sku)?;
            let mut open = inventory::open_conflicts_for(conn, &store_sku)?;
            open.extend(inventory::open_conflicts_for(conn, sku)?);
            open
        };
        if !open.is_empty() && open.iter().all(StockConflict::is_price) {
            self.resolve_price_conflict(sku, how).map(Resolved::Price)
        } else {
            self.resolve_conflict(sku, how).map(Resolved::Stock)
        }
    }
}
