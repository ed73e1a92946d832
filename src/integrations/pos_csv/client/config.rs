//! Where the POS's files live and how they are laid out, embeddable as `[pos_csv.files]`. Column names
//! default to the seed's export (`sku`, `quantity`, `retail_price`) and match ignoring case and spacing.

use std::path::PathBuf;

use serde::Deserialize;

/// The files exchanged with the POS. Files are UTF-8, with or without a byte-order mark.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PosCsvConfig {
    /// The stock export the POS rewrites (hourly in the seed).
    pub export_path: PathBuf,
    /// Header of the column holding the POS SKU.
    pub sku_column: String,
    /// Header of the column holding the quantity on hand (a whole number; `5.000` reads as 5).
    pub quantity_column: String,
    /// Header of the price column; optional in the file (prices are then unknown).
    pub price_column: String,
    /// Field separator of both the export and the reductions files.
    pub delimiter: char,
    /// The folder the POS imports from; syncdesk writes its reductions files there.
    pub reductions_dir: PathBuf,
    /// Name of a reductions file; `{batch}` becomes the batch number (zero-padded), so names sort in order.
    pub file_pattern: String,
}

impl Default for PosCsvConfig {
    fn default() -> Self {
        PosCsvConfig {
            export_path: PathBuf::new(),
            sku_column: "sku".into(),
            quantity_column: "quantity".into(),
            price_column: "retail_price".into(),
            delimiter: ',',
            reductions_dir: PathBuf::new(),
            file_pattern: "syncdesk-reductions-{batch}.csv".into(),
        }
    }
}

impl PosCsvConfig {
    /// Checks what can be checked without touching the disk; `enabled` also requires the paths.
    pub fn validate(&self, enabled: bool) -> Result<(), String> {
        if matches!(self.delimiter, '"' | '\r' | '\n') {
            return Err(format!(
                "delimiter: {:?} cannot separate fields",
                self.delimiter
            ));
        }
        for (name, value) in [
            ("sku_column", &self.sku_column),
            ("quantity_column", &self.quantity_column),
        ] {
            if crate::domain::alignment::squash(value).is_empty() {
                return Err(format!("{name}: must name a column"));
            }
        }
        if !self.file_pattern.contains("{batch}") {
            return Err("file_pattern: must contain {batch}".into());
        }
        if self.file_pattern.contains(['/', '\\']) {
            return Err("file_pattern: a file name, not a path".into());
        }
        if enabled && self.export_path.as_os_str().is_empty() {
            return Err("export_path: required when enabled".into());
        }
        if enabled && self.reductions_dir.as_os_str().is_empty() {
            return Err("reductions_dir: required when enabled".into());
        }
        Ok(())
    }
}
