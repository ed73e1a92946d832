//! Writes a file of online-sale reductions for the POS to import, atomically (temporary name, then rename).
//!
//! Format: UTF-8 without BOM, CRLF line ends, the configured delimiter, a header line, then one line per
//! order line: `order_number,line_no,sku,quantity,reason`
//! - `sku` is the POS SKU (the store SKU translated through the SKU alignment, or as-is when unaligned);
//! - `quantity` is how much to take OFF the POS's stock: positive for an online sale, negative for a
//!   cancelled sale put back into stock;
//! - `reason` is `<channel> order <number>` or `<channel> order <number> cancelled` (the channel's
//!   name, e.g. `shop order 1001`), for the POS's reports (the seed marks these as online sales).
//!
//! Fields holding the delimiter, a quote or a line break are quoted (`""` for a quote). Which order lines
//! go into which file is decided by the engine and recorded in the store, so no line is written twice.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::PosCsvError;

pub const REDUCTION_COLUMNS: [&str; 5] = ["order_number", "line_no", "sku", "quantity", "reason"];

/// One order line's effect on the POS's stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reduction {
    pub order_number: String,
    pub line_no: i64,
    pub sku: String,
    /// Positive: sold online (take off stock). Negative: a cancelled sale returned to stock.
    pub qty: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    pub path: PathBuf,
    pub lines: usize,
}

/// The file name of a batch: `{batch}` in the pattern becomes the zero-padded batch number.
pub fn file_name_for(pattern: &str, batch: i64) -> String {
    pattern.replace("{batch}", &format!("{batch:08}"))
}

/// Writes `reductions` to `dir/file_name`: first to a hidden temporary name the POS's import ignores, synced
/// to disk, then renamed into place, so the POS never sees a partial file. An existing file is replaced.
/// The folder must exist.
pub fn write_reductions(
    dir: &Path,
    file_name: &str,
    delimiter: char,
    reductions: &[Reduction],
) -> Result<WrittenFile, PosCsvError> {
    // The folder is the POS's: creating it would hide an unmounted share behind a local folder.
    if !dir.is_dir() {
        return Err(PosCsvError::NoFolder {
            path: dir.to_path_buf(),
        });
    }
    let path = dir.join(file_name);
    let temp = dir.join(format!(".{file_name}.tmp"));
    let mut text = String::with_capacity(64 * (reductions.len() + 1));
    push_line(&mut text, delimiter, REDUCTION_COLUMNS.map(String::from));
    for r in reductions {
        push_line(
            &mut text,
            delimiter,
            [
                r.order_number.clone(),
                r.line_no.to_string(),
                r.sku.clone(),
                r.qty.to_string(),
                r.reason.clone(),
            ],
        );
    }
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        // Durable before it becomes visible: a crash must not leave an empty file under the real name.
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, &path)?;
        sync_dir(dir)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&temp);
        return Err(PosCsvError::io(&path, e));
    }
    Ok(WrittenFile {
        path,
        lines: reductions.len(),
    })
}

fn push_line<const N: usize>(out: &mut String, delimiter: char, cells: [String; N]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        if cell.contains([delimiter, '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(cell);
        }
    }
    out.push_str("\r\n");
}

/// Makes the rename itself durable (the directory entry), where the platform allows opening a directory.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
