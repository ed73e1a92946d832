//! Where a stock pass reads the POS: one trait every back office with stock implements in its own folder
//! (Counterpoint over SQL Server, Metakocka's warehouse stock, a file-only POS's CSV export), and the one
//! the configuration enables, found through the registry.

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
    /// Web orders it holds (staged, or linked to its sales orders) whose units are not accounted for yet.
    pub staged: Vec<(i64, String)>,
    pub linked: Vec<LinkedWebOrder>,
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
    /// Units of web orders the POS took in by its own item numbers (a file-only POS's reductions).
    pub absorbed_by_pos_sku: HashMap<String, i64>,
    /// Lines of the reading that were skipped, and why.
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
    /// Its name, for what the operator reads.
    fn name(&self) -> &'static str;

    /// What it remembers between passes, from the store (in the pass's first transaction); `channel` is
    /// the sales channel whose stock the pass keeps (its web orders are the ones accounted).
    fn load(&self, conn: &Connection, channel: &str) -> Result<SourceMemo, StoreError>;

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

    /// Writes what it remembers for the next pass, with the pass's results.
    fn remember(&self, tx: &Connection, mark: &str, now: Millis) -> Result<(), StoreError>;

    /// Every item with the quantity a full pass would read now (live views such as `alignment test`).
    fn levels(&self) -> BoxFuture<'_, Result<Vec<PosLevel>, String>>;

    /// Every item's selling price, when its stock carries prices.
    fn prices(&self) -> BoxFuture<'_, Result<Vec<(String, Option<Decimal>)>, String>>;

    /// Whether `prices` can answer (a price pass has something to read).
    fn has_prices(&self) -> bool {
        true
    }

    /// One item's price as `alignment test` shows it (None where the source shows none there).
    fn item_price<'a>(&'a self, _item_no: &'a str) -> BoxFuture<'a, Result<Option<Decimal>, String>> {
        Box::pin(async { Ok(None) })
    }
}

/// Builds the stock source of an integration from the configuration.
pub type StockSourceFn = fn(&Config) -> Result<Box<dyn PosSource>, String>;

/// The configured back office's stock source: the enabled integration that has one (configuration allows
/// one back office), else the first that has one (a pass then fails on its connection, visibly).
pub fn pos_source(config: &Config) -> Result<Box<dyn PosSource>, String> {
    let with_stock = || REGISTRY.iter().filter_map(|i| i.stock_source.map(|s| (i, s)));
    let (_, build) = with_stock()
        .find(|(i, _)| (i.enabled)(config))
        .or_else(|| with_stock().next())
        .ok_or("no integration in this build reads stock")?;
    build(config)
}

/// True when a back office a stock pass can read is enabled.
pub fn has_back_office(config: &Config) -> bool {
    REGISTRY
        .iter()
        .any(|i| i.stock_source.is_some() && (i.enabled)(config))
}
