//! `syncdesk sync run …` (one pass now, optionally as a dry run) and `syncdesk check` (can we reach
//! every configured system?).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Subcommand, ValueEnum};

use super::{CliResult, Context, Failure, output};
use crate::app::ImportOutcome;
use crate::config::{Config, PriceSource};
use crate::engine::JobContext;
use crate::engine::price_flows;
use crate::engine::stock_flows::{self, PassMode, PosSide};
use crate::integrations::counterpoint::flows as counterpoint_flows;
use crate::integrations::woocommerce::client::WooClient;
use crate::integrations::woocommerce::orders as woo_orders;
use crate::integrations::{CheckOptions, REGISTRY};
use crate::store::Store;

#[derive(Subcommand, Debug)]
pub enum SyncCommand {
    /// Run one pass of a sync now, in this process.
    Run {
        flow: Flow,
        /// Show what would change and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// `erp` only: pull just this sales order (Metakocka mk_id, number or buyer_order).
        #[arg(long, value_name = "N")]
        order: Option<String>,
        /// `orders` only: read this much history instead of what changed since the last poll — "90d"
        /// (open orders plus 90 days), a date "2025-01-01", or "all". Orders already final in it are
        /// kept as history (their stock is not counted again).
        #[arg(long, value_name = "SINCE")]
        since: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Flow {
    /// WooCommerce orders modified since the last pass (with the overlap window).
    Orders,
    /// Counterpoint shipments since the last pass, recorded in syncdesk (and so pushed to the store).
    Fulfillments,
    /// Stock of every aligned SKU: merge POS and store, write the changes.
    Full,
    /// Stock of what changed since the last pass.
    Incremental,
    /// Regular prices of every aligned SKU, from the configured price source.
    Prices,
    /// Sales orders entered in the ERP (Metakocka), pulled into syncdesk.
    Erp,
    /// Cartona: pull new orders, then push due statuses (bulk, verified). A dry run shows, order by order,
    /// what would be sent and which rule decides.
    Marketplace,
}

pub fn run(context: &Context, command: SyncCommand) -> CliResult {
    let SyncCommand::Run {
        flow,
        dry_run,
        order,
        since,
        json,
    } = command;
    if order.is_some() && !matches!(flow, Flow::Erp) {
        return Err(Failure::rejected(
            "--order: only `sync run erp` pulls a single order",
        ));
    }
    let since = match since {
        Some(_) if !matches!(flow, Flow::Orders) => {
            return Err(Failure::rejected(
                "--since: only `sync run orders` reads history",
            ));
        }
        Some(text) => Some(
            crate::config::ImportSince::parse(&text)
                .map_err(|e| Failure::rejected(format!("--since: {e}")))?,
        ),
        None => None,
    };
    match flow {
        Flow::Erp => super::erp::pull(context, order.as_deref(), dry_run, json),
        Flow::Orders => orders(context, since, dry_run, json),
        Flow::Fulfillments => fulfillments(context, dry_run, json),
        Flow::Full => stock(context, PassMode::Full, dry_run, json),
        Flow::Incremental => stock(context, PassMode::Incremental, dry_run, json),
        Flow::Prices => prices(context, dry_run, json),
        Flow::Marketplace => super::marketplace::run(context, dry_run, json),
    }
}

/// A job context on this process's own store connection, for running a pass in the foreground.
pub(super) fn foreground(context: &Context, config: Config) -> Result<JobContext, Failure> {
    drop(context.app()?);
    let store = Store::open(
        &context.db_path,
        Duration::from_millis(config.store.busy_timeout_ms),
    )
    .map_err(|e| Failure::failed(e.to_string()))?;
    Ok(JobContext {
        store: Arc::new(Mutex::new(store)),
        config: Arc::new(config),
    })
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Runtime::new().map_err(|e| Failure::failed(format!("runtime: {e}")))
}

/// The POS side (Counterpoint, Metakocka, or the CSV export when `[pos_csv]` is enabled) and the store, for
/// stock passes.
pub(super) fn stock_sides(context: &Context) -> Result<(PosSide, WooClient, JobContext), Failure> {
    let config = context.config()?;
    if !(config.woocommerce.enabled && config.has_stock_back_office()) {
        return Err(Failure::rejected(
            "stock sync needs [woocommerce] and a back office ([counterpoint], [metakocka] or [pos_csv]) enabled",
        ));
    }
    let pos = PosSide::from_config(&config).map_err(Failure::rejected)?;
    let woo =
        woo_orders::client(&config.woocommerce).map_err(|e| Failure::rejected(e.to_string()))?;
    let ctx = foreground(context, config)?;
    Ok((pos, woo, ctx))
}

fn prices(context: &Context, dry_run: bool, json: bool) -> CliResult {
    let (pos, woo, ctx) = stock_sides(context)?;
    let report = runtime()?
        .block_on(price_flows::price_pass(&pos, &woo, &ctx, dry_run))
        .map_err(|e| Failure::failed(e.message))?;
    if json {
        return output::json(&serde_json::json!({ "dry_run": dry_run, "report": report }));
    }
    let verb = match (report.source, dry_run) {
        (PriceSource::Woo, _) => "differs (set in the POS)",
        (PriceSource::Pos, true) => "would set",
        (PriceSource::Pos, false) => "set",
    };
    for c in &report.changes {
        let old = if c.old.is_empty() { "-" } else { &c.old };
        println!(
            "{verb} {} (POS {}) {old} → {}: {}",
            c.sku, c.pos_sku, c.new, c.why
        );
    }
    for c in &report.conflicts {
        println!("conflict {}: {}", c.sku, c.message);
    }
    for f in &report.failed {
        println!("FAILED {}: {}", f.sku, f.message);
    }
    if let Some(note) = &report.note {
        println!("note: {note}");
    }
    println!(
        "{} examined, {} changes, {} conflicts, {} skipped, {} failed, {} store requests{}",
        report.examined,
        report.changes.len(),
        report.conflicts.len(),
        report.skipped.len(),
        report.failed.len(),
        report.store_requests,
        if dry_run {
            " — dry run, nothing written"
        } else {
            ""
        }
    );
    if report.failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::failed(format!(
            "{} SKU(s) failed",
            report.failed.len()
        )))
    }
}

fn stock(context: &Context, mode: PassMode, dry_run: bool, json: bool) -> CliResult {
    let (pos, woo, ctx) = stock_sides(context)?;
    let report = runtime()?
        .block_on(stock_flows::stock_pass(&pos, &woo, &ctx, mode, dry_run))
        .map_err(|e| Failure::failed(e.message))?;
    if json {
        return output::json(&serde_json::json!({ "dry_run": dry_run, "report": report }));
    }
    let verb = if dry_run { "would set" } else { "set" };
    for c in &report.changes {
        let old = c.old.map(|o| o.to_string()).unwrap_or_else(|| "-".into());
        println!(
            "{verb} {} (POS {}) {old} → {}: {}",
            c.sku, c.pos_sku, c.new, c.why
        );
    }
    for c in &report.conflicts {
        println!("conflict {}: {}", c.sku, c.message);
    }
    for f in &report.failed {
        println!("FAILED {}: {}", f.sku, f.message);
    }
    let summary: Vec<String> = stock_flows::summarize(&report)
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    println!(
        "{}{}",
        summary.join(", "),
        if dry_run {
            " — dry run, nothing written"
        } else {
            ""
        }
    );
    if report.failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::failed(format!(
            "{} SKU(s) failed",
            report.failed.len()
        )))
    }
}

fn fulfillments(context: &Context, dry_run: bool, json: bool) -> CliResult {
    let config = context.config()?;
    if !config.counterpoint.enabled {
        return Err(Failure::rejected(
            "counterpoint is not enabled: set [counterpoint] enabled = true and [counterpoint.connection]",
        ));
    }
    let client = counterpoint_flows::client(&config.counterpoint)
        .map_err(|e| Failure::rejected(e.to_string()))?;
    let ctx = foreground(context, config)?;
    let outcomes = runtime()?
        .block_on(counterpoint_flows::fulfilment_pass(&client, &ctx, dry_run))
        .map_err(|e| Failure::failed(e.message))?;
    if json {
        return output::json(&serde_json::json!({ "dry_run": dry_run, "outcomes": outcomes }));
    }
    let verb = if dry_run { "would record" } else { "recorded" };
    for o in &outcomes {
        let lines: Vec<String> = o
            .shipped
            .iter()
            .map(|(sku, q)| format!("{sku}×{q}"))
            .collect();
        println!(
            "{verb} a shipment on {} from document {}{}: {}{}",
            o.order,
            o.doc_id,
            if o.posted { " (posted)" } else { "" },
            lines.join(", "),
            if o.completed {
                " — completes the order"
            } else {
                ""
            }
        );
    }
    println!(
        "{} shipment(s){}",
        outcomes.len(),
        if dry_run {
            " — dry run, nothing written"
        } else {
            ""
        }
    );
    Ok(())
}

fn orders(
    context: &Context,
    since: Option<crate::config::ImportSince>,
    dry_run: bool,
    json: bool,
) -> CliResult {
    let config = context.config()?;
    if !config.woocommerce.enabled {
        return Err(Failure::rejected(
            "woocommerce is not enabled: set [woocommerce] enabled = true, url and keys",
        ));
    }
    let client =
        woo_orders::client(&config.woocommerce).map_err(|e| Failure::rejected(e.to_string()))?;
    let ctx = foreground(context, config)?;
    let report = runtime()?
        .block_on(woo_orders::poll(&client, &ctx, since, dry_run))
        .map_err(|e| Failure::failed(e.message))?;
    if !json {
        println!("{} request(s) to the store", report.requests);
    }
    print_imports(&report.outcomes, dry_run, json, "woo #", "order(s)")
}

/// Prints what an order pull did (or would do): one line per change, then a count; `--json` prints all.
/// `remote` prefixes the remote id ("woo #", "Metakocka "); `noun` names what was read.
pub(super) fn print_imports(
    outcomes: &[ImportOutcome],
    dry_run: bool,
    json: bool,
    remote: &str,
    noun: &str,
) -> CliResult {
    if json {
        return output::json(&serde_json::json!({ "dry_run": dry_run, "outcomes": outcomes }));
    }
    let verb = if dry_run { "would" } else { "did" };
    let mut changed = 0;
    for o in outcomes {
        let Some(line) = o.describe(remote) else {
            continue;
        };
        changed += 1;
        println!("{verb} {line}");
    }
    println!(
        "{} {noun} read, {changed} change(s){}",
        outcomes.len(),
        if dry_run {
            " — dry run, nothing written"
        } else {
            ""
        }
    );
    Ok(())
}

/// Tries every configured system and says what works.
pub fn check(context: &Context, enable_webhooks: bool) -> CliResult {
    let config = std::sync::Arc::new(context.config()?);
    let runtime = runtime()?;
    let mut failures = 0;
    let mut report = |name: &str, result: Option<Result<String, String>>| match result {
        Some(Ok(ok)) => println!("ok    {name}: {ok}"),
        Some(Err(e)) => {
            failures += 1;
            println!("FAIL  {name}: {e}");
        }
        None => println!("-     {name}: not enabled"),
    };
    report(
        "database",
        Some(
            context
                .app()
                .map(|_| context.db_path.display().to_string())
                .map_err(|e| e.message),
        ),
    );
    let options = CheckOptions { enable_webhooks };
    for integration in REGISTRY {
        if let Some(check) = integration.check {
            for line in runtime.block_on(check(config.clone(), options)) {
                report(&line.name, line.result);
            }
        }
    }
    if failures > 0 {
        Err(Failure::failed(format!("{failures} check(s) failed")))
    } else {
        Ok(())
    }
}
