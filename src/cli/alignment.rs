//! Live alignment commands: `alignment suggest` (proposals for what is unaligned, and coverage) and
//! `alignment test SKU` (both sides of one pair, as they are right now). Both read the systems directly.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Serialize;

use super::{CliResult, Context, Failure, output};
use crate::config::Config;
use crate::domain::alignment;
use crate::domain::time::to_short;
use crate::engine::stock_flows::PosSide;
use crate::integrations::woocommerce::orders as woo_orders;

/// The back office stock passes read and the store.
fn clients(
    config: &Config,
) -> Result<(PosSide, crate::integrations::woocommerce::client::WooClient), Failure> {
    if !(config.woocommerce.enabled && config.has_stock_back_office()) {
        return Err(Failure::rejected(
            "alignment needs [woocommerce] and a back office ([counterpoint], [metakocka] or [pos_csv]) enabled",
        ));
    }
    let pos = PosSide::from_config(config).map_err(Failure::rejected)?;
    let woo =
        woo_orders::client(&config.woocommerce).map_err(|e| Failure::rejected(e.to_string()))?;
    Ok((pos, woo))
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Runtime::new().map_err(|e| Failure::failed(format!("runtime: {e}")))
}

#[derive(Serialize)]
struct Suggestions {
    pos_items: usize,
    aligned: usize,
    coverage_percent: f64,
    suggestions: Vec<alignment::Alignment>,
}

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
    let config = context.config()?;
    let (pos, woo) = clients(&config)?;
    let mut app = context.app()?;
    let aligned = app.alignment()?;
    let (pos_items, store_skus) = runtime()?.block_on(async {
        let items: Vec<String> = pos
            .levels()
            .await
            .map_err(Failure::failed)?
            .into_iter()
            .map(|l| l.item_no)
            .collect();
        let mut skus = Vec::new();
        for p in woo
            .list_products()
            .await
            .map_err(|e| Failure::failed(e.to_string()))?
        {
            if !p.variations.is_empty() {
                skus.extend(
                    woo.list_variations(p.id)
                        .await
                        .map_err(|e| Failure::failed(e.to_string()))?
                        .into_iter()
                        .map(|v| v.sku),
                );
            }
            skus.push(p.sku);
        }
        Ok::<_, Failure>((items, skus))
    })?;
    let taken_pos: BTreeSet<&str> = aligned.iter().map(|a| a.pos_sku.as_str()).collect();
    let taken_woo: BTreeSet<&str> = aligned.iter().map(|a| a.woo_sku.as_str()).collect();
    let free_pos: Vec<String> = pos_items
        .iter()
        .filter(|i| !taken_pos.contains(i.as_str()))
        .cloned()
        .collect();
    let free_woo: Vec<String> = store_skus
        .into_iter()
        .filter(|s| !s.is_empty() && !taken_woo.contains(s.as_str()))
        .collect();
    let suggestions = alignment::suggest(&free_pos, &free_woo, min_confidence);
    let covered = pos_items
        .iter()
        .filter(|i| taken_pos.contains(i.as_str()))
        .count();
    let report = Suggestions {
        pos_items: pos_items.len(),
        aligned: covered,
        coverage_percent: if pos_items.is_empty() {
            0.0
        } else {
            100.0 * covered as f64 / pos_items.len() as f64
        },
        suggestions,
    };
    if let Some(path) = &out {
        let mut csv = String::from("POS SKU,WooCommerce SKU,Match Type,Confidence\n");
        for s in &report.suggestions {
            csv.push_str(&format!(
                "{},{},{},{:.2}\n",
                quote(&s.pos_sku),
                quote(&s.woo_sku),
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
        &["POS SKU", "WOOCOMMERCE SKU", "MATCH", "CONF"],
        report
            .suggestions
            .iter()
            .map(|s| {
                vec![
                    s.pos_sku.clone(),
                    s.woo_sku.clone(),
                    s.match_type.clone(),
                    format!("{:.2}", s.confidence),
                ]
            })
            .collect(),
    );
    println!(
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
    );
    Ok(())
}

fn quote(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[derive(Serialize)]
struct PairNow {
    pos_sku: String,
    woo_sku: String,
    pos_quantity: Option<String>,
    pos_price: Option<String>,
    store_quantity: Option<i64>,
    store_price: Option<String>,
    store_manages_stock: Option<bool>,
    merge_base: Option<crate::domain::inventory::MergeBase>,
    sync_state: String,
    last_error: Option<String>,
    last_pass: Option<String>,
}

/// Both sides of one aligned pair, read live, next to what syncdesk remembers.
pub fn test(context: &Context, sku: &str, json: bool) -> CliResult {
    let config = context.config()?;
    let (pos, woo) = clients(&config)?;
    let mut app = context.app()?;
    let pair = app
        .alignment()?
        .into_iter()
        .find(|a| a.pos_sku.eq_ignore_ascii_case(sku) || a.woo_sku.eq_ignore_ascii_case(sku))
        .ok_or_else(|| {
            Failure::rejected(format!(
                "{sku} is not aligned; see `syncdesk alignment suggest`"
            ))
        })?;
    let (level, price, product) = runtime()?.block_on(async {
        let level = pos
            .levels()
            .await
            .map_err(Failure::failed)?
            .into_iter()
            .find(|l| l.item_no.eq_ignore_ascii_case(&pair.pos_sku));
        // Only Counterpoint is read for prices here (Metakocka's stock carries none).
        let price = match &pos {
            PosSide::Counterpoint(client) => client
                .prices(None)
                .await
                .map_err(|e| Failure::failed(e.to_string()))?
                .into_iter()
                .find(|p| p.item_no.eq_ignore_ascii_case(&pair.pos_sku)),
            _ => None,
        };
        let product = woo
            .find_products_by_sku(std::slice::from_ref(&pair.woo_sku))
            .await
            .map_err(|e| Failure::failed(e.to_string()))?
            .into_iter()
            .next();
        Ok::<_, Failure>((level, price, product))
    })?;
    let now = PairNow {
        pos_sku: pair.pos_sku.clone(),
        woo_sku: pair.woo_sku.clone(),
        pos_quantity: level.map(|l| l.qty_avail.normalize().to_string()),
        pos_price: price
            .and_then(|p| p.prc_1.or(p.reg_prc))
            .map(|d| d.round_dp(2).to_string()),
        store_quantity: product.as_ref().and_then(|p| p.stock_quantity),
        store_price: product.as_ref().map(|p| p.regular_price.clone()),
        store_manages_stock: product.as_ref().map(|p| p.manage_stock),
        merge_base: pair.base,
        sync_state: pair.sync_state.clone(),
        last_error: pair.last_error.clone(),
        last_pass: pair.last_pass_at.map(to_short),
    };
    if json {
        return output::json(&now);
    }
    let show = |v: Option<String>| v.unwrap_or_else(|| "— (missing)".into());
    println!(
        "{:<14} {:<24} {:<24}",
        "",
        format!("POS ({})", pos.name()),
        "store (WooCommerce)"
    );
    println!("{:<14} {:<24} {:<24}", "SKU", now.pos_sku, now.woo_sku);
    println!(
        "{:<14} {:<24} {:<24}",
        "quantity",
        show(now.pos_quantity.clone()),
        show(now.store_quantity.map(|q| q.to_string()))
    );
    println!(
        "{:<14} {:<24} {:<24}",
        "price",
        show(now.pos_price.clone()),
        show(now.store_price.clone())
    );
    match now.merge_base {
        Some(b) => println!(
            "merge base    agreed {}, POS then {}, store then {}",
            b.agreed, b.pos_seen, b.woo_seen
        ),
        None => println!("merge base    none yet (the next pass is a first sync)"),
    }
    println!(
        "sync state    {}{}",
        now.sync_state,
        now.last_error.map(|e| format!(": {e}")).unwrap_or_default()
    );
    println!(
        "last pass     {}",
        now.last_pass.unwrap_or_else(|| "never".into())
    );
    if now.store_manages_stock == Some(false) {
        println!("note          the store does not manage this product's stock; passes skip it");
    }
    Ok(())
}
