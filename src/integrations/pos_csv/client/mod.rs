//! A POS that only exchanges files: syncdesk reads its hourly stock export (CSV) and writes files of
//! online-sale reductions for it to import. No business rules inside: the engine decides what to write.

mod config;
mod error;
mod export;
mod reductions;

pub use config::PosCsvConfig;
pub use error::PosCsvError;
pub use export::{ExportFingerprint, ExportLevel, StockExport, fingerprint, read_stock};
pub use reductions::{REDUCTION_COLUMNS, Reduction, WrittenFile, file_name_for, write_reductions};
