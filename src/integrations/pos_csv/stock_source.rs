//! A file-only POS as a stock pass's POS side: its hourly stock export (CSV), re-read only when the POS
//! wrote a new one, and the reductions files it took in since the export the last pass read.

use rusqlite::Connection;

use super::client::{self as pos_csv, PosCsvConfig};
use crate::config::Config;
use crate::domain::alignment::LineError;
use crate::domain::time::Millis;
use crate::engine::{BoxFuture, JobContext, JobError};
use crate::stock::{
    ItemPrices, MemoRows, PassMode, PosLevel, PosQuery, PosReading, PosSource, SourceMemo,
};
use crate::store::{StoreError, pos_reductions, watermarks};

/// The modification time (ms) of the export the last pass read.
const EXPORT_MARKER: &str = "pos_csv.export_modified";

pub struct ExportStock(pub PosCsvConfig);

/// Builds the source from `[pos_csv]` (the registry's stock-source entry).
pub fn build(config: &Config) -> Result<Box<dyn PosSource>, String> {
    Ok(Box::new(ExportStock(config.pos_csv.files.clone())))
}

/// One read of the export: its modification time (ms), its levels, its rejected lines.
type ExportRead = (i64, Vec<PosLevel>, Vec<LineError>);

fn export_millis(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn read_levels(cfg: &PosCsvConfig) -> Result<pos_csv::StockExport, String> {
    pos_csv::read_stock(&cfg.export_path, cfg).map_err(|e| e.to_string())
}

/// The export's lines as a stock pass reads a POS (the file's SKU is the POS item number).
fn levels_of(export: &pos_csv::StockExport) -> Vec<PosLevel> {
    export
        .levels
        .iter()
        .map(|l| PosLevel {
            item_no: l.sku.clone(),
            qty_avail: l.qty.into(),
        })
        .collect()
}

impl PosSource for ExportStock {
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
        ctx: &'a JobContext,
        query: PosQuery<'a>,
    ) -> BoxFuture<'a, Result<PosReading, JobError>> {
        Box::pin(self.read_pass(ctx, query))
    }

    fn levels(&self) -> BoxFuture<'_, Result<Vec<PosLevel>, String>> {
        Box::pin(async move { read_levels(&self.0).map(|e| levels_of(&e)) })
    }

    /// The export's price column.
    fn prices(&self) -> BoxFuture<'_, Result<ItemPrices, String>> {
        Box::pin(async move {
            let export = read_levels(&self.0)?;
            if self.0.price_column.trim().is_empty() {
                return Err(
                    "pos_csv.files.price_column is empty: the export carries no prices".into(),
                );
            }
            // The export has one price per item, the regular one; lines without a price are not listed.
            Ok(export
                .levels
                .iter()
                .filter_map(|l| l.price.map(|p| (l.sku.clone(), Some(p))))
                .collect())
        })
    }
}

impl ExportStock {
    async fn read_pass(
        &self,
        ctx: &JobContext,
        query: PosQuery<'_>,
    ) -> Result<PosReading, JobError> {
        let marker: Option<i64> = query.memo.mark.as_deref().and_then(|v| v.parse().ok());
        let cfg = self.0.clone();
        let mode = query.mode;
        let read = tokio::task::spawn_blocking(move || -> Result<Option<ExportRead>, String> {
            let modified = export_millis(
                pos_csv::fingerprint(&cfg.export_path)
                    .map_err(|e| e.to_string())?
                    .modified,
            );
            if mode == PassMode::Incremental && Some(modified) == marker {
                return Ok(None); // the POS has not written a new export since the last pass
            }
            let export = read_levels(&cfg)?;
            Ok(Some((
                export_millis(export.modified),
                levels_of(&export),
                export.errors,
            )))
        })
        .await
        .map_err(|e| JobError::retry(e.to_string()))?
        .map_err(JobError::retry)?;
        let Some((modified, levels, rejected)) = read else {
            return Ok(PosReading::default());
        };
        let after = marker.unwrap_or(0);
        let taken = ctx
            .with_store(move |s| {
                pos_reductions::taken_between(s.conn(), after, modified)
                    .map_err(|e| JobError::retry(e.to_string()))
            })
            .await?;
        Ok(PosReading {
            levels,
            absorbed_by_pos_sku: taken
                .into_iter()
                .map(|(sku, q)| (sku.to_uppercase(), q))
                .collect(),
            rejected,
            mark: Some(modified.to_string()),
            ..Default::default()
        })
    }
}

fn load_memo(conn: &Connection, _channel: &str) -> Result<SourceMemo, StoreError> {
    Ok(SourceMemo {
        mark: watermarks::get(conn, EXPORT_MARKER)?,
        ..Default::default()
    })
}

fn remember_mark(tx: &Connection, mark: &str, now: Millis) -> Result<(), StoreError> {
    watermarks::set(tx, EXPORT_MARKER, mark, now)
}
