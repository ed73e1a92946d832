//! Counterpoint as a stock pass's POS side: availability over SQL Server (all items, or those changed since
//! its `LST_MAINT_DT` watermark), the staged web orders it has taken into documents, and its prices.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use rusqlite::Connection;
use rust_decimal::Decimal;

use super::client::{CounterpointClient, StockLevel};
use crate::config::Config;
use crate::domain::time::Millis;
use crate::engine::{BoxFuture, JobContext, JobError, job_error};
use crate::stock::{
    ItemPrices, MemoRows, OrderAccounting, PassMode, PosLevel, PosQuery, PosReading, PosSource,
    SourceMemo,
};
use crate::store::inventory as stock_rows;
use crate::store::{StoreError, watermarks};

/// The newest `LST_MAINT_DT` a pass read.
const WATERMARK: &str = "counterpoint.inventory";
const WATERMARK_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3f";

pub struct CounterpointStock(pub CounterpointClient);

/// Builds the source from `[counterpoint]` (the registry's stock-source entry).
pub fn build(config: &Config) -> Result<Box<dyn PosSource>, String> {
    super::client(&config.counterpoint)
        .map(|c| Box::new(CounterpointStock(c)) as Box<dyn PosSource>)
        .map_err(|e| e.to_string())
}

fn level(l: StockLevel) -> PosLevel {
    PosLevel {
        item_no: l.item_no,
        qty_avail: l.qty_avail,
    }
}

impl PosSource for CounterpointStock {
    fn system(&self) -> &'static str {
        super::SYSTEM
    }

    fn label(&self) -> &'static str {
        super::INTEGRATION.title
    }

    fn memo_rows(&self) -> MemoRows {
        MemoRows {
            load: load_memo,
            remember: remember_mark,
        }
    }

    fn read<'a>(
        &'a self,
        _ctx: &'a JobContext,
        query: PosQuery<'a>,
    ) -> BoxFuture<'a, Result<PosReading, JobError>> {
        Box::pin(self.read_pass(query))
    }

    fn levels(&self) -> BoxFuture<'_, Result<Vec<PosLevel>, String>> {
        Box::pin(async move {
            let levels = self.0.inventory(true, None).await;
            Ok(levels
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(level)
                .collect())
        })
    }

    /// PRC_1 (REG_PRC where an item has no PRC_1).
    fn prices(&self) -> BoxFuture<'_, Result<ItemPrices, String>> {
        Box::pin(async move {
            let prices = self.0.prices(None).await.map_err(|e| e.to_string())?;
            Ok(prices
                .into_iter()
                .map(|p| (p.item_no, p.prc_1.or(p.reg_prc)))
                .collect())
        })
    }

    fn item_price<'a>(
        &'a self,
        item_no: &'a str,
    ) -> BoxFuture<'a, Result<Option<Decimal>, String>> {
        Box::pin(async move {
            let prices = self.0.prices(None).await.map_err(|e| e.to_string())?;
            Ok(prices
                .into_iter()
                .find(|p| p.item_no.eq_ignore_ascii_case(item_no))
                .and_then(|p| p.prc_1.or(p.reg_prc)))
        })
    }
}

impl CounterpointStock {
    async fn read_pass(&self, query: PosQuery<'_>) -> Result<PosReading, JobError> {
        let watermark = query
            .memo
            .mark
            .as_deref()
            .and_then(|w| NaiveDateTime::parse_from_str(w, WATERMARK_FORMAT).ok());
        // Full, or what changed since the watermark (minus an overlap; repeats are harmless).
        let since = match query.mode {
            PassMode::Full => None,
            PassMode::Incremental => watermark.map(|w| w - chrono::Duration::seconds(5)),
        };
        let levels = self
            .0
            .inventory(since.is_none(), since)
            .await
            .map_err(job_error)?;
        let newest = levels.iter().filter_map(|l| l.lst_maint_dt).max();
        // Web orders the POS has taken in since they were last accounted for (counted once, see the merge).
        let staged = &query.memo.staged;
        let web_ids: Vec<String> = staged.iter().map(|(_, w)| w.clone()).collect();
        let processed: BTreeSet<String> = if web_ids.is_empty() {
            BTreeSet::new()
        } else {
            self.0
                .staging_status(&web_ids)
                .await
                .map_err(job_error)?
                .into_iter()
                .filter(|s| s.doc_id.is_some())
                .map(|s| s.web_order_id)
                .collect()
        };
        let absorbed = staged
            .iter()
            .filter(|(_, w)| processed.contains(w))
            .map(|(id, _)| *id)
            .collect();
        Ok(PosReading {
            levels: levels.into_iter().map(level).collect(),
            orders: OrderAccounting {
                absorbed,
                ..Default::default()
            },
            mark: newest.map(|w| w.format(WATERMARK_FORMAT).to_string()),
            ..Default::default()
        })
    }
}

fn load_memo(conn: &Connection, _channel: &str) -> Result<SourceMemo, StoreError> {
    Ok(SourceMemo {
        mark: watermarks::get(conn, WATERMARK)?,
        staged: stock_rows::absorption_candidates(conn, super::SYSTEM)?,
        linked: Vec::new(),
    })
}

fn remember_mark(tx: &Connection, mark: &str, now: Millis) -> Result<(), StoreError> {
    watermarks::set(tx, WATERMARK, mark, now)
}
