//! `syncdesk alignment …` and `syncdesk conflicts …`: the SKU pairs stock sync works on, and what it could
//! not settle by itself.

use std::path::PathBuf;

use clap::Subcommand;

use super::{CliResult, Context, Failure, output};
use crate::domain::time::to_short;

#[derive(Subcommand, Debug)]
pub enum AlignmentCommand {
    /// Import POS SKU ↔ WooCommerce SKU pairs from a CSV (POS SKU, WooCommerce SKU, Match Type, Confidence).
    Import {
        file: PathBuf,
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
        #[arg(long)]
        json: bool,
    },
    /// Show both sides of one pair now: SKU, quantity, price, merge base, sync state.
    Test {
        sku: String,
        #[arg(long)]
        json: bool,
    },
    List {
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
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
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
                println!(
                    "{}: {} added, {} updated, {} unchanged",
                    file.display(),
                    report.added,
                    report.updated,
                    report.unchanged
                );
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
                    "WOOCOMMERCE SKU",
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
                            p.woo_sku.clone(),
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
            );
            Ok(())
        }
    }
}

pub fn conflicts(context: &Context, command: ConflictsCommand) -> CliResult {
    let ConflictsCommand::List { all, limit, json } = command;
    if limit <= 0 {
        return Err(Failure::rejected("--limit: must be positive"));
    }
    let list = context.app()?.stock_conflicts(all, limit)?;
    if json {
        return output::json(&list);
    }
    if list.is_empty() {
        println!("no {}stock conflicts", if all { "" } else { "open " });
        return Ok(());
    }
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
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
                    show(&c.woo_value),
                    num(c.base),
                    num(c.proposed),
                    to_short(c.detected_at),
                    c.detail.clone(),
                ]
            })
            .collect(),
    );
    Ok(())
}
