//! Reads the POS's stock export line by line (a 100k-line file never sits in memory as a whole): header
//! columns by name, one error per bad line naming line and column, and a fingerprint so an unchanged file
//! can be skipped.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::str::FromStr;
use std::time::SystemTime;

use rust_decimal::Decimal;

use super::config::PosCsvConfig;
use super::error::PosCsvError;
use crate::domain::alignment::{LineError, split_csv_line, squash};

/// One item's stock as the POS exported it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportLevel {
    pub sku: String,
    pub qty: i64,
    /// None when the file has no price column or the cell is empty.
    pub price: Option<Decimal>,
    /// The line in the file (1-based), for messages.
    pub line: usize,
}

/// What identifies one version of the export without reading it: the POS rewrites the whole file, which
/// changes its modification time (and usually its size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportFingerprint {
    pub modified: SystemTime,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StockExport {
    pub levels: Vec<ExportLevel>,
    /// One per skipped line; the valid lines are in `levels` regardless.
    pub errors: Vec<LineError>,
    pub modified: SystemTime,
    pub fingerprint: ExportFingerprint,
}

/// The export's fingerprint; a pass that finds it equal to the last one read can skip the file.
pub fn fingerprint(path: &Path) -> Result<ExportFingerprint, PosCsvError> {
    let meta = std::fs::metadata(path).map_err(|e| not_found_or_io(path, e))?;
    from_metadata(path, &meta)
}

fn from_metadata(path: &Path, meta: &std::fs::Metadata) -> Result<ExportFingerprint, PosCsvError> {
    Ok(ExportFingerprint {
        modified: meta.modified().map_err(|e| PosCsvError::io(path, e))?,
        size: meta.len(),
    })
}

fn not_found_or_io(path: &Path, e: std::io::Error) -> PosCsvError {
    if e.kind() == std::io::ErrorKind::NotFound {
        PosCsvError::Missing {
            path: path.to_path_buf(),
        }
    } else {
        PosCsvError::io(path, e)
    }
}

/// Where the wanted columns sit in a line.
struct Columns {
    sku: usize,
    qty: usize,
    price: Option<usize>,
}

/// Reads the export at `path` with the configured columns and delimiter.
///
/// Quantities must be whole numbers: `7` and `7.000` read as 7, `7.5` is a line error (rounding would make
/// stock up). Blank lines are ignored; a SKU seen twice keeps its first line and reports the second.
/// A field quoted across a line break is not supported (the POS exports one item per line).
pub fn read_stock(path: &Path, cfg: &PosCsvConfig) -> Result<StockExport, PosCsvError> {
    let file = File::open(path).map_err(|e| not_found_or_io(path, e))?;
    let before = from_metadata(
        path,
        &file.metadata().map_err(|e| PosCsvError::io(path, e))?,
    )?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    // One buffer reused for every line: memory stays at one line plus the parsed levels.
    let mut buf = Vec::with_capacity(256);
    let mut line_no = 0usize;
    let mut columns: Option<Columns> = None;
    let mut levels = Vec::new();
    let mut errors = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| PosCsvError::io(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                errors.push(LineError {
                    line: line_no,
                    column: "-".into(),
                    message: format!(
                        "not UTF-8 (byte {}); export the file as UTF-8",
                        e.valid_up_to() + 1
                    ),
                });
                continue;
            }
        };
        // A byte-order mark may start the first line only.
        let text = if line_no == 1 {
            text.trim_start_matches('\u{feff}')
        } else {
            text
        };
        if text.trim().is_empty() {
            continue;
        }
        let Some(cols) = &columns else {
            columns = Some(header_columns(path, line_no, text, cfg)?);
            continue;
        };
        if text.matches('"').count() % 2 == 1 {
            errors.push(LineError {
                line: line_no,
                column: "-".into(),
                message: "unterminated quote (a field cannot span lines)".into(),
            });
            continue;
        }
        match parse_line(text, cols, cfg, line_no) {
            Ok(level) => levels.push(level),
            Err(e) => errors.push(e),
        }
    }
    if columns.is_none() {
        return Err(PosCsvError::Empty {
            path: path.to_path_buf(),
        });
    }
    drop_repeated_skus(&mut levels, &mut errors, &cfg.sku_column);
    // The POS may rewrite the file in place while we read: a mix of two versions must not be used.
    if fingerprint(path)? != before {
        return Err(PosCsvError::ChangedWhileReading {
            path: path.to_path_buf(),
        });
    }
    Ok(StockExport {
        levels,
        errors,
        modified: before.modified,
        fingerprint: before,
    })
}

/// A SKU seen twice keeps its first line; later ones become errors. Done after reading, borrowing the
/// SKUs, so a large export's SKUs are not held twice while it streams in.
fn drop_repeated_skus(levels: &mut Vec<ExportLevel>, errors: &mut Vec<LineError>, column: &str) {
    let mut first_line_of: HashMap<&str, usize> = HashMap::with_capacity(levels.len());
    let mut repeated = Vec::new();
    for (i, level) in levels.iter().enumerate() {
        match first_line_of.entry(&level.sku) {
            Entry::Occupied(first) => repeated.push((i, *first.get())),
            Entry::Vacant(slot) => {
                slot.insert(level.line);
            }
        }
    }
    if repeated.is_empty() {
        return;
    }
    for &(i, first) in &repeated {
        errors.push(LineError {
            line: levels[i].line,
            column: column.to_string(),
            message: format!("'{}' already appeared on line {first}", levels[i].sku),
        });
    }
    errors.sort_by_key(|e| e.line);
    let mut drop = repeated.iter().map(|&(i, _)| i).peekable();
    let mut index = 0;
    levels.retain(|_| {
        let keep = drop.peek() != Some(&index);
        if !keep {
            drop.next();
        }
        index += 1;
        keep
    });
}

fn header_columns(
    path: &Path,
    line: usize,
    text: &str,
    cfg: &PosCsvConfig,
) -> Result<Columns, PosCsvError> {
    let header: Vec<String> = split_csv_line(text, cfg.delimiter)
        .iter()
        .map(|h| squash(h))
        .collect();
    let find = |name: &str| header.iter().position(|h| *h == squash(name));
    let required = |name: &str| {
        find(name).ok_or_else(|| PosCsvError::MissingColumn {
            path: path.to_path_buf(),
            line,
            column: name.to_string(),
            found: split_csv_line(text, cfg.delimiter).join(", "),
        })
    };
    Ok(Columns {
        sku: required(&cfg.sku_column)?,
        qty: required(&cfg.quantity_column)?,
        price: find(&cfg.price_column),
    })
}

fn parse_line(
    text: &str,
    cols: &Columns,
    cfg: &PosCsvConfig,
    line: usize,
) -> Result<ExportLevel, LineError> {
    let cells = split_csv_line(text, cfg.delimiter);
    let cell = |i: usize| cells.get(i).map_or("", |c| c.trim());
    let err = |column: &str, message: String| LineError {
        line,
        column: column.to_string(),
        message,
    };
    let sku = cell(cols.sku);
    if sku.is_empty() {
        return Err(err(&cfg.sku_column, "empty".into()));
    }
    let qty_text = cell(cols.qty);
    let qty = whole_number(qty_text).ok_or_else(|| {
        err(
            &cfg.quantity_column,
            format!("'{qty_text}' is not a whole number"),
        )
    })?;
    let price = match cols.price.map(cell).filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => match Decimal::from_str(p.trim_start_matches('$')) {
            Ok(d) if d >= Decimal::ZERO => Some(d),
            _ => return Err(err(&cfg.price_column, format!("'{p}' is not a price"))),
        },
    };
    Ok(ExportLevel {
        sku: sku.to_string(),
        qty,
        price,
        line,
    })
}

/// `12`, `-3`, `12.000` → Some; `12.5`, `x`, `` → None.
fn whole_number(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let d = Decimal::from_str(s).ok()?;
    if d.fract().is_zero() {
        rust_decimal::prelude::ToPrimitive::to_i64(&d)
    } else {
        None
    }
}
