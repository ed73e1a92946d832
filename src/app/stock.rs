//! Stock sync commands an operator runs directly: importing the SKU alignment and reading conflicts.
//! (The passes themselves are engine jobs.)

use serde::Serialize;

use super::{App, AppError, Result};
use crate::domain::alignment::{self, LineError};
use crate::domain::time::now_ms;
use crate::store::inventory::{self, AlignedSku, StockConflict, Upsert};

/// What an alignment import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AlignmentImport {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Lines that were not imported, with line and column.
    pub errors: Vec<LineError>,
}

impl App {
    /// Imports the alignment CSV (POS SKU, WooCommerce SKU, Match Type, Confidence). Valid lines are stored
    /// (re-importing updates them) even when other lines are rejected; all in one transaction.
    pub fn import_alignment(&mut self, csv: &str) -> Result<AlignmentImport> {
        let (rows, errors) =
            alignment::parse_csv(csv).map_err(|e| AppError::Rejected(e.to_string()))?;
        self.store.write(|tx| {
            let now = now_ms();
            let mut report = AlignmentImport {
                errors,
                ..Default::default()
            };
            for row in &rows {
                match inventory::upsert_alignment(tx, row, now)? {
                    Upsert::Added => report.added += 1,
                    Upsert::Updated => report.updated += 1,
                    Upsert::Unchanged => report.unchanged += 1,
                }
            }
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
}
