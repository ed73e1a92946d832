//! Live alignment commands: `alignment suggest` (proposals for what is unaligned, and coverage) and
//! `alignment test SKU` (both sides of one pair, as they are right now). Both read the systems live,
//! through `app`.

use std::path::PathBuf;

use super::sync::runtime;
use super::{CliResult, Context, Failure, output};

/// Proposes pairs for unaligned SKUs; `--out` writes them in the import format for review and import.
pub fn suggest(
    context: &Context,
    min_confidence: f64,
    out: Option<PathBuf>,
    json: bool,
) -> CliResult {
    if !(0.0..=1.0).contains(&min_confidence) {
        return Err(Failure::rejected(
            "--min-confidence: must be between 0 and 1",
        ));
    }
    let mut app = context.app()?;
    let report = runtime()?.block_on(app.alignment_suggestions(min_confidence))?;
    if let Some(path) = &out {
        let mut csv = crate::app::stock::alignment_columns().join(",") + "\n";
        for s in &report.suggestions {
            csv.push_str(&format!(
                "{},{},{},{:.2}\n",
                quote(&s.pos_sku),
                quote(&s.store_sku),
                s.match_type,
                s.confidence
            ));
        }
        std::fs::write(path, csv)
            .map_err(|e| Failure::failed(format!("{}: {e}", path.display())))?;
    }
    if json {
        return output::json(&report);
    }
    output::table(
        &[
            "POS SKU",
            &format!("{} SKU", crate::stock::store_label().to_uppercase()),
            "MATCH",
            "CONF",
        ],
        report
            .suggestions
            .iter()
            .map(|s| {
                vec![
                    s.pos_sku.clone(),
                    s.store_sku.clone(),
                    s.match_type.clone(),
                    format!("{:.2}", s.confidence),
                ]
            })
            .collect(),
    )?;
    output::outln!(
        "coverage: {} of {} POS items aligned ({:.1}%); {} suggestion(s){}",
        report.aligned,
        report.pos_items,
        report.coverage_percent,
        report.suggestions.len(),
        out.map(|p| format!(
            " written to {} — review, then `syncdesk alignment import {}`",
            p.display(),
            p.display()
        ))
        .unwrap_or_default()
    )?;
    Ok(())
}

fn quote(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Both sides of one aligned pair, read live, next to what syncdesk remembers.
pub fn test(context: &Context, sku: &str, json: bool) -> CliResult {
    let mut app = context.app()?;
    let now = runtime()?.block_on(app.alignment_test(sku))?;
    if json {
        return output::json(&now);
    }
    let show = |v: Option<String>| v.unwrap_or_else(|| "— (missing)".into());
    output::outln!(
        "{:<14} {:<24} {:<24}",
        "",
        format!("POS ({})", now.pos_name),
        format!("store ({})", crate::stock::store_label())
    )?;
    output::outln!("{:<14} {:<24} {:<24}", "SKU", now.pos_sku, now.store_sku)?;
    output::outln!(
        "{:<14} {:<24} {:<24}",
        "quantity",
        show(now.pos_quantity.clone()),
        show(now.store_quantity.map(|q| q.to_string()))
    )?;
    output::outln!(
        "{:<14} {:<24} {:<24}",
        "price",
        show(now.pos_price.clone()),
        show(now.store_price.clone())
    )?;
    match now.merge_base {
        Some(b) => output::outln!(
            "merge base    agreed {}, POS then {}, store then {}",
            b.agreed,
            b.pos_seen,
            b.store_seen
        )?,
        None => output::outln!("merge base    none yet (the next pass is a first sync)")?,
    }
    output::outln!(
        "sync state    {}{}",
        now.sync_state,
        now.last_error.map(|e| format!(": {e}")).unwrap_or_default()
    )?;
    output::outln!(
        "last pass     {}",
        now.last_pass.unwrap_or_else(|| "never".into())
    )?;
    if now.store_manages_stock == Some(false) {
        output::outln!(
            "note          the store does not manage this product's stock; passes skip it"
        )?;
    }
    Ok(())
}
