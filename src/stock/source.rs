//! Where a stock pass reads the POS: one trait every back office with stock implements in its own
//! integration folder (`integrations/<system>/stock_source.rs`), and the one the configuration enables,
//! found through the registry. The pass itself never learns which back office it reads.

use std::collections::HashMap;

use rusqlite::Connection;
use rust_decimal::Decimal;

use super::PassMode;
use crate::config::Config;
use crate::domain::alignment::LineError;
use crate::domain::time::Millis;
use crate::engine::{BoxFuture, JobContext, JobError};
use crate::integrations::REGISTRY;
use crate::store::StoreError;
use crate::store::inventory::LinkedWebOrder;

/// Every item's selling price by its item number (None: the item has no price).
pub type ItemPrices = Vec<(String, Option<Decimal>)>;

/// One POS item as a pass reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct PosLevel {
    pub item_no: String,
    /// What the POS can still sell.
    pub qty_avail: Decimal,
}

/// What a source remembers between passes (read in the pass's first transaction, from its own rows).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceMemo {
    /// Its change watermark or export marker, as it wrote it.
    pub mark: Option<String>,
    /// Web orders staged in the POS and not accounted for yet: (order id, web order id).
    pub staged: Vec<(i64, String)>,
    /// Web orders linked to its sales orders, not accounted for yet.
    pub linked: Vec<LinkedWebOrder>,
}

/// How a source reads and writes what it remembers between passes: plain functions, so they run on the
/// store's thread without borrowing the source.
#[derive(Clone, Copy)]
pub struct MemoRows {
    /// Reads it in the pass's first read; `channel` is the sales channel whose stock the pass keeps (its
    /// web orders are the ones accounted).
    pub load: fn(&Connection, &str) -> Result<SourceMemo, StoreError>,
    /// Writes `PosReading::mark` with the pass's results.
    pub remember: fn(&Connection, &str, Millis) -> Result<(), StoreError>,
}

/// What a pass asks of the POS side.
pub struct PosQuery<'a> {
    pub mode: PassMode,
    pub memo: &'a SourceMemo,
    /// For a source without a change watermark of its own, on an incremental pass: the POS items the pass
    /// has reason to look at (hinted, sold online, in a web order not yet accounted for, never synced).
    pub wanted: &'a [String],
}

/// What the POS side says on one pass.
#[derive(Debug, Default)]
pub struct PosReading {
    /// Every item (full pass) or those changed since the last read (incremental).
    pub levels: Vec<PosLevel>,
    /// How the web orders the back office holds are counted on this pass.
    pub orders: OrderAccounting,
    /// Units of web orders the POS took in, by its own item numbers (a file-only POS's reductions).
    pub absorbed_by_pos_sku: HashMap<String, i64>,
    /// Lines of the reading that were rejected, and why.
    pub rejected: Vec<LineError>,
    /// What the source remembers for the next pass, written with the pass's results (None: unchanged).
    pub mark: Option<String>,
}

/// Web orders whose units the POS reading includes, so the merge counts each sale exactly once.
#[derive(Debug, Default)]
pub struct OrderAccounting {
    /// Staged web orders now inside POS documents, or web orders whose units the reading already lacks
    /// (reserved, or shipped when the back office reports no reservations).
    pub absorbed: Vec<i64>,
    /// Web orders cancelled before any pass counted them (nothing to count on either side); marked so
    /// later passes do not consider them again.
    pub passed_over: Vec<i64>,
    /// Counted orders since cancelled whose reservation is released: the reading has the units back and
    /// so does the store, so they are counted out once.
    pub released: Vec<(i64, Vec<(String, i64)>)>,
}

/// A back office a stock pass reads.
pub trait PosSource: Send + Sync {
    /// Its integration's name (link `system`, config section).
    fn system(&self) -> &'static str;

    /// How an operator calls it (its integration's title).
    fn label(&self) -> &'static str;

    /// How it keeps what it remembers between passes in the store (run on the store's thread).
    fn memo_rows(&self) -> MemoRows;

    /// Whether it keeps no change watermark of its own: an incremental pass then tells it what to read.
    fn reads_by_item(&self) -> bool {
        false
    }

    /// Reads the POS for one pass.
    fn read<'a>(
        &'a self,
        ctx: &'a JobContext,
        query: PosQuery<'a>,
    ) -> BoxFuture<'a, Result<PosReading, JobError>>;

    /// Every item with the quantity a full pass would read now (live views such as `alignment test`).
    fn levels(&self) -> BoxFuture<'_, Result<Vec<PosLevel>, String>>;

    /// Every item's selling price, as the back office holds it.
    fn prices(&self) -> BoxFuture<'_, Result<ItemPrices, String>>;

    /// One item's price as `alignment test` shows it (None where the source shows none there).
    fn item_price<'a>(
        &'a self,
        _item_no: &'a str,
    ) -> BoxFuture<'a, Result<Option<Decimal>, String>> {
        Box::pin(async { Ok(None) })
    }
}

/// The configured back office's stock source: the enabled integration that has one (configuration allows
/// one back office), else the first that has one (a pass then fails on its connection, visibly).
pub fn pos_source(config: &Config) -> Result<Box<dyn PosSource>, String> {
    let with_stock = || {
        REGISTRY.iter().filter_map(|i| match i.stock_source {
            Some(super::StockSide::Pos { build, .. }) => Some((i, build)),
            _ => None,
        })
    };
    let (_, build) = with_stock()
        .find(|(i, _)| (i.enabled)(config))
        .or_else(|| with_stock().next())
        .ok_or("no integration in this build reads stock")?;
    build(config)
}

/// True when a back office a stock pass can read is enabled.
pub fn has_back_office(config: &Config) -> bool {
    REGISTRY.iter().any(|i| {
        matches!(i.stock_source, Some(super::StockSide::Pos { .. })) && (i.enabled)(config)
    })
}

/// Whether the enabled back office's stock carries prices (a price pass has something to read).
pub fn back_office_has_prices(config: &Config) -> bool {
    !REGISTRY.iter().any(|i| {
        matches!(
            i.stock_source,
            Some(super::StockSide::Pos { prices: false, .. })
        ) && (i.enabled)(config)
    })
}

/// Every back office a stock pass can read, as config sections: "[a], [b] or [c]".
pub fn back_office_sections() -> String {
    let names: Vec<String> = REGISTRY
        .iter()
        .filter(|i| matches!(i.stock_source, Some(super::StockSide::Pos { .. })))
        .map(|i| format!("[{}]", i.name))
        .collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}
