//! `syncdesk alignment …`, `syncdesk conflicts …` and `syncdesk stock trace`: the SKU pairs stock sync works
//! on, what it could not settle by itself, and why a SKU's stock is what it is.

use std::path::PathBuf;

use clap::{ArgGroup, Subcommand, ValueEnum};

use super::{CliResult, Context, Failure, output, sync};
use crate::app::{Resolution, Resolved, Winner};
use crate::domain::time::to_short;

#[derive(Subcommand, Debug)]
pub enum AlignmentCommand {
    /// Import POS SKU ↔ store SKU pairs from a CSV (POS SKU, <store> SKU, Match Type, Confidence).
    Import {
        file: PathBuf,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Propose pairs for unaligned SKUs (exact, normalised, fuzzy) and report coverage.
    Suggest {
        /// Lowest similarity a fuzzy proposal may have (0–1).
        #[arg(long, default_value_t = 0.8)]
        min_confidence: f64,
        /// Write the proposals as an import CSV to review.
        #[arg(long, value_name = "FILE.csv")]
        out: Option<PathBuf>,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show both sides of one pair now: SKU, quantity, price, merge base, sync state.
    Test {
        sku: String,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
    List {
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConflictsCommand {
    /// Stock conflicts waiting for a decision (newest first).
    List {
        /// Include resolved ones.
        #[arg(long)]
        all: bool,
        /// At most this many conflicts, newest first.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Settle a SKU's open conflicts: side with the POS, the store or the merge, or set a counted quantity.
    /// The store is written by the engine (job `stock.apply_resolution`). A SKU with only a price conflict
    /// takes --winner pos (the POS price goes to the store) or --winner store (the store keeps its price).
    #[command(group(ArgGroup::new("how").required(true).args(["winner", "qty"])))]
    Resolve {
        /// Store or POS SKU.
        sku: String,
        /// Side with this one: pos, store or merge.
        #[arg(long, value_enum)]
        winner: Option<WinnerArg>,
        /// Set this counted quantity on both sides instead.
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        qty: Option<i64>,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// A dry-run full stock pass: the conflicts it would raise (nothing is written on either side).
    Detect {
        /// Also write them to FILE (sku,type,pos,store,base,proposed,detail).
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum StockCommand {
    /// Why a SKU's stock is what it is: every change on either side (POS sale, web order, store edit, pass,
    /// resolution) with its time, old → new and the job, newest first. Either side's SKU.
    Trace {
        sku: String,
        /// How many changes to show (the newest).
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum WinnerArg {
    Pos,
    /// Its word from before the store side was renamed is still accepted.
    #[value(alias = crate::config::LEGACY_STORE_WINNER)]
    Store,
    Merge,
}

pub fn alignment(context: &Context, command: AlignmentCommand) -> CliResult {
    match command {
        AlignmentCommand::Suggest {
            min_confidence,
            out,
            json,
        } => super::alignment::suggest(context, min_confidence, out, json),
        AlignmentCommand::Test { sku, json } => super::alignment::test(context, &sku, json),
        AlignmentCommand::Import { file, json } => {
            let mut app = context.app()?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::rejected(format!("{}: {e}", file.display())))?;
            let report = app
                .import_alignment(&text)
                .map_err(|e| Failure::rejected(format!("{}: {e}", file.display())))?;
            if json {
                output::json(&report)?;
            } else {
                let mut moved = Vec::new();
                if !report.repointed.is_empty() {
                    moved.push(format!(
                        "{} re-pointed to another store SKU",
                        report.repointed.len()
                    ));
                }
                if !report.unaligned.is_empty() {
                    moved.push(format!(
                        "{} pair(s) no longer aligned",
                        report.unaligned.len()
                    ));
                }
                let moved = if moved.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", moved.join(", "))
                };
                output::outln!(
                    "{}: {} added, {} updated, {} unchanged{moved}",
                    file.display(),
                    report.added,
                    report.updated,
                    report.unchanged
                )?;
                for note in report.notes() {
                    output::outln!("{}: {note}", file.display())?;
                }
                for e in &report.errors {
                    eprintln!("{}: {e}", file.display());
                }
            }
            if report.errors.is_empty() {
                Ok(())
            } else {
                Err(Failure::rejected(format!(
                    "{} line(s) rejected; the valid lines were imported",
                    report.errors.len()
                )))
            }
        }
        AlignmentCommand::List { json } => {
            let mut app = context.app()?;
            let pairs = app.alignment()?;
            if json {
                return output::json(&pairs);
            }
            output::table(
                &[
                    "POS SKU",
                    &format!("{} SKU", crate::stock::store_label().to_uppercase()),
                    "MATCH",
                    "CONF",
                    "BASE",
                    "STATE",
                    "LAST PASS",
                ],
                pairs
                    .iter()
                    .map(|p| {
                        vec![
                            p.pos_sku.clone(),
                            p.store_sku.clone(),
                            p.match_type.clone(),
                            format!("{:.2}", p.confidence),
                            p.base
                                .map(|b| b.agreed.to_string())
                                .unwrap_or_else(|| "-".into()),
                            p.sync_state.clone(),
                            p.last_pass_at
                                .map(to_short)
                                .unwrap_or_else(|| "never".into()),
                        ]
                    })
                    .collect(),
            )?;
            Ok(())
        }
    }
}

pub fn conflicts(context: &Context, command: ConflictsCommand) -> CliResult {
    match command {
        ConflictsCommand::List { all, limit, json } => list(context, all, limit, json),
        ConflictsCommand::Resolve {
            sku,
            winner,
            qty,
            json,
        } => {
            let how = match (winner, qty) {
                (Some(w), None) => Resolution::Winner(match w {
                    WinnerArg::Pos => Winner::Pos,
                    WinnerArg::Store => Winner::Store,
                    WinnerArg::Merge => Winner::Merge,
                }),
                (None, Some(q)) => Resolution::Quantity(q),
                _ => return Err(Failure::rejected("give exactly one of --winner, --qty")),
            };
            let done = context.app()?.resolve_any_conflict(&sku, how)?;
            if json {
                return output::json(&done);
            }
            match done {
                Resolved::Stock(done) => output::outln!(
                    "{}: {} resolved by {} ({}): the store will be set to {} (job {})",
                    done.sku,
                    done.kinds.join(", "),
                    done.resolved_by,
                    crate::domain::inventory::Policy::said(done.resolution),
                    done.quantity,
                    done.job_id
                )?,
                Resolved::Price(done) => match done.job_id {
                    Some(job) => output::outln!("{} (price pass: job {job})", done.summary())?,
                    None => output::outln!("{}", done.summary())?,
                },
            }
            Ok(())
        }
        ConflictsCommand::Detect { csv, json } => detect(context, csv, json),
    }
}

/// A CSV field, quoted when it needs to be.
fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

fn detect(context: &Context, csv: Option<PathBuf>, json: bool) -> CliResult {
    let app = context.app()?;
    let report = sync::runtime()?.block_on(app.detect_conflicts())?;
    let found = &report.detected;
    if let Some(path) = &csv {
        let mut text = String::from("sku,type,pos,store,base,proposed,detail\n");
        let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        for c in found {
            let row = [
                c.sku.clone(),
                c.kind.to_string(),
                num(c.pos),
                num(c.store),
                num(c.base),
                num(c.proposed),
                c.detail.clone(),
            ];
            let row: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
            text.push_str(&row.join(","));
            text.push('\n');
        }
        std::fs::write(path, text)
            .map_err(|e| Failure::failed(format!("{}: {e}", path.display())))?;
    }
    if json {
        return output::json(&found);
    }
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
    output::table(
        &["SKU", "TYPE", "POS", "STORE", "BASE", "PROPOSED", "DETAIL"],
        found
            .iter()
            .map(|c| {
                vec![
                    c.sku.clone(),
                    c.kind.to_string(),
                    num(c.pos),
                    num(c.store),
                    num(c.base),
                    num(c.proposed),
                    c.detail.clone(),
                ]
            })
            .collect(),
    )?;
    output::outln!(
        "{} conflict(s) over {} examined SKU(s){} — dry run, nothing written",
        found.len(),
        report.examined,
        csv.as_ref()
            .map(|p| format!(", written to {}", p.display()))
            .unwrap_or_default()
    )?;
    Ok(())
}

fn list(context: &Context, all: bool, limit: i64, json: bool) -> CliResult {
    if limit <= 0 {
        return Err(Failure::rejected("--limit: must be positive"));
    }
    let list = context.app()?.stock_conflicts(all, limit)?;
    if json {
        return output::json(&list);
    }
    if list.is_empty() {
        output::outln!("no {}stock conflicts", if all { "" } else { "open " })?;
        return Ok(());
    }
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
    // JSON keeps the raw column (a price_drift's `proposed` is in cents); the table reads as money.
    output::table(
        &[
            "ID", "SKU", "TYPE", "POS", "STORE", "BASE", "PROPOSED", "DETECTED", "DETAIL",
        ],
        list.iter()
            .map(|c| {
                vec![
                    c.id.to_string(),
                    c.sku.clone(),
                    c.kind.clone(),
                    show(&c.pos_value),
                    show(&c.store_value),
                    num(c.base),
                    show(&c.proposal()),
                    to_short(c.detected_at),
                    c.detail.clone(),
                ]
            })
            .collect(),
    )?;
    Ok(())
}

pub fn stock(context: &Context, command: StockCommand) -> CliResult {
    match command {
        StockCommand::Trace { sku, limit, json } => {
            if limit <= 0 {
                return Err(Failure::rejected("--limit: must be positive"));
            }
            let trace = context.app()?.stock_trace(&sku, limit, 0)?;
            if json {
                return output::json(&trace);
            }
            print_trace(&trace)
        }
    }
}

fn print_trace(t: &crate::app::trace::StockTrace) -> CliResult {
    let p = &t.pair;
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
    output::outln!(
        "{} (store) ↔ {} (POS){}",
        p.store_sku,
        p.pos_sku,
        p.name
            .as_deref()
            .map(|n| format!(" · {n}"))
            .unwrap_or_default()
    )?;
    output::outln!(
        "now: POS {} · store {} · base {} · {} · last pass {}",
        num(p.pos),
        num(p.store),
        num(p.base),
        p.sync_state,
        p.last_pass_at
            .map(to_short)
            .unwrap_or_else(|| "never".into())
    )?;
    for c in &t.open_conflicts {
        output::outln!(
            "open conflict: {} (POS {}, store {}) since {}: {}",
            c.kind,
            c.pos_value.as_deref().unwrap_or("-"),
            c.store_value.as_deref().unwrap_or("-"),
            to_short(c.detected_at),
            c.detail
        )?;
    }
    if t.entries.is_empty() {
        return output::outln!("no change on record yet (the first pass records them)");
    }
    output::outln!(
        "{} change(s) on record{}, newest first:",
        t.total,
        if (t.entries.len() as i64) < t.total {
            format!(" ({} shown)", t.entries.len())
        } else {
            String::new()
        }
    )?;
    output::table(
        &["TIME", "SIDE", "SOURCE", "CHANGE", "JOB", "WHY"],
        t.entries
            .iter()
            .map(|e| {
                vec![
                    to_short(e.at),
                    e.side.label().to_string(),
                    e.source_label(),
                    format!(
                        "{} → {}",
                        e.old.as_deref().unwrap_or("-"),
                        e.new.as_deref().unwrap_or("-")
                    ),
                    e.job_id
                        .map(|j| j.to_string())
                        .unwrap_or_else(|| "-".into()),
                    e.why.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    )
}
