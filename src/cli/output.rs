//! Printing for people (aligned tables) and for scripts (JSON with stable field names). Every command
//! writes stdout through here, fallibly: when the reader goes away (`syncdesk orders list | head -1`) the
//! command ends quietly ([`Failure::reader_gone`]) instead of panicking as `println!` would.

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

use super::{CliResult, Failure};

/// Writes text to stdout as it is; a closed pipe ends the command quietly, another error is a failure.
pub fn write(args: fmt::Arguments<'_>) -> CliResult {
    let mut out = io::stdout().lock();
    out.write_fmt(args).map_err(|e| {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::reader_gone()
        } else {
            Failure::failed(format!("writing the output: {e}"))
        }
    })
}

/// `print!` for commands, through [`write`]: `output::out!(…)?`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::write(format_args!($($arg)*))
    };
}

/// `println!` for commands, through [`write`]: `output::outln!(…)?`.
macro_rules! outln {
    () => {
        $crate::cli::output::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};

pub fn json<T: Serialize + ?Sized>(value: &T) -> CliResult {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::failed(format!("JSON output: {e}")))?;
    outln!("{text}")
}

/// Left-aligned columns sized to their widest cell; the last column is not padded.
pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> CliResult {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let text: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.to_string()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        outln!("{}", text.join("  ").trim_end())
    };
    line(headers.to_vec())?;
    for row in &rows {
        line(row.iter().map(String::as_str).collect())?;
    }
    Ok(())
}

/// Says on stderr that a list shows `shown` rows from `offset` of `total` (nothing when it shows them all):
/// "showing 100 of 2,345 — --limit N or --all"; with `--json`, the same as a JSON object
/// (`{"truncated":true,"showing":100,"offset":0,"total":2345}`), stdout keeping only the rows either way.
pub fn cut_note(offset: i64, shown: usize, total: i64, json: bool) {
    let shown = shown as i64;
    if offset + shown >= total {
        return;
    }
    if json {
        let note = serde_json::json!({
            "truncated": true, "showing": shown, "offset": offset, "total": total,
        });
        eprintln!("{note}");
    } else if offset > 0 {
        eprintln!(
            "showing {}–{} of {} — --limit N or --all",
            grouped(offset + 1),
            grouped(offset + shown),
            grouped(total)
        );
    } else {
        eprintln!(
            "showing {} of {} — --limit N or --all",
            grouped(shown),
            grouped(total)
        );
    }
}

/// A count with its thousands grouped: 2345 → "2,345".
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(2345), "2,345");
        assert_eq!(grouped(1_000_000), "1,000,000");
        assert_eq!(grouped(-12345), "-12,345");
    }
}
