//! The stock pass, generic over the systems it connects (it lives in `src/stock/`; the engine's job
//! handlers for it are in `engine/stock_flows.rs`). One pass is five small steps:
//! load what the store remembers → read both sides (the POS through [`PosSource`], the web store through
//! [`StoreSide`], each implemented in its integration's folder and found through the registry) → plan each
//! pair (pure: `domain::stock_plan`) → apply the writes → record bases, conflicts and the sync log.
//! A full pass examines every aligned SKU; an incremental one only SKUs the POS changed since its
//! watermark, products the store hinted at, and SKUs sold online since the last pass. The price pass
//! (`engine/price_flows.rs`) shares the store side.

mod apply;
mod lease;
mod load;
mod pass;
mod record;
pub mod source;
pub mod store_side;

use std::collections::BTreeMap;

use serde::Serialize;

pub use lease::StockLease;
pub use pass::{run_stock_pass, stock_pass};
pub use source::{
    ItemPrices, MemoRows, OrderAccounting, PosLevel, PosQuery, PosReading, PosSource, SourceMemo,
    back_office_has_prices, back_office_sections, has_back_office, pos_source,
};
pub use store_side::{
    StoreProduct, StoreSide, StoreUpdate, WriteFailure, read_products, remember_product,
    store_integration, store_label, store_side, write_updates,
};

/// What an integration is to the stock passes (its registry entry's `stock_source`).
#[derive(Clone, Copy)]
pub enum StockSide {
    /// A back office whose stock the store follows; `prices`: whether its stock carries prices.
    Pos {
        build: fn(&crate::config::Config) -> Result<Box<dyn PosSource>, String>,
        prices: bool,
    },
    /// The web store the passes write.
    Store {
        build: fn(&crate::config::Config) -> Result<Box<dyn StoreSide>, String>,
    },
}

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

/// `conflict SKU: …` and `FAILED SKU: …` lines.
pub fn notes(conflicts: &[SkuNote], failed: &[SkuNote]) -> Vec<String> {
    let conflicts = conflicts
        .iter()
        .map(|c| format!("conflict {}: {}", c.sku, c.message));
    let failed = failed
        .iter()
        .map(|f| format!("FAILED {}: {}", f.sku, f.message));
    conflicts.chain(failed).collect()
}

pub fn failed_skus(n: usize) -> Option<String> {
    (n > 0).then(|| format!("{n} SKU(s) failed"))
}
