//! `syncdesk sync run …` (one pass now, optionally as a dry run) and `syncdesk check` (can we reach
//! every configured system?).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Subcommand, ValueEnum};

use super::{CliResult, Context, Failure, output};
use crate::app::ImportOutcome;
use crate::config::{Config, PriceSource};
use crate::connectors::email::Mailer;
use crate::connectors::woo::WooClient;
use crate::engine::JobContext;
use crate::engine::price_flows;
use crate::engine::stock_flows::{self, PassMode, PosSide};
use crate::engine::{counterpoint_flows, woo_orders};
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
    let config = context.config()?;
    let runtime = runtime()?;
    let mut failures = 0;
    let mut report = |name: &str, result: Result<String, String>| match result {
        Ok(ok) => println!("ok    {name}: {ok}"),
        Err(e) => {
            failures += 1;
            println!("FAIL  {name}: {e}");
        }
    };
    report(
        "database",
        context
            .app()
            .map(|_| context.db_path.display().to_string())
            .map_err(|e| e.message),
    );
    if config.woocommerce.enabled {
        let reached = runtime.block_on(check_woo(&config));
        let ok = reached.is_ok();
        report("woocommerce", reached);
        if ok {
            report(
                "webhooks",
                runtime.block_on(check_woo_webhooks(&config, enable_webhooks)),
            );
        }
    } else {
        println!("-     woocommerce: not enabled");
    }
    if config.counterpoint.enabled {
        report(
            "counterpoint",
            runtime.block_on(check_counterpoint(&config)),
        );
    } else {
        println!("-     counterpoint: not enabled");
    }
    if config.metakocka.enabled {
        let checked = runtime.block_on(crate::engine::metakocka_flows::check(&config.metakocka));
        report("metakocka", checked);
    } else {
        println!("-     metakocka: not enabled");
    }
    if config.cartona.enabled {
        report(
            "cartona",
            runtime.block_on(super::marketplace::check(&config)),
        );
    } else {
        println!("-     cartona: not enabled");
    }
    report("smtp", runtime.block_on(check_smtp(&config)));
    if failures > 0 {
        Err(Failure::failed(format!("{failures} check(s) failed")))
    } else {
        Ok(())
    }
}

async fn check_woo(config: &Config) -> Result<String, String> {
    let client = woo_orders::client(&config.woocommerce).map_err(|e| e.to_string())?;
    let start = Instant::now();
    // A read that returns (almost) nothing: proves auth and the orders endpoint without paging a shop.
    let since = chrono::Utc::now() - chrono::Duration::minutes(1);
    let orders = match client.list_orders_modified_after(Some(since)).await {
        Ok(orders) => orders,
        Err(e) => return Err(explain_woo_failure(config, e).await),
    };
    Ok(format!(
        "{} — authenticated, read orders ({} changed in the last minute) in {} ms",
        config.woocommerce.url,
        orders.len(),
        start.elapsed().as_millis()
    ))
}

/// The error, and what to do about it where syncdesk can tell: a certificate the platform does not trust
/// is shown with its fingerprint, so the operator can pin exactly that one.
async fn explain_woo_failure(config: &Config, error: crate::connectors::woo::WooError) -> String {
    let text = error.to_string();
    let about_certificate = text.contains("certificate") || text.contains("UnknownIssuer");
    let url = reqwest::Url::parse(config.woocommerce.url.trim()).ok();
    match (about_certificate, url) {
        (true, Some(url)) if url.scheme() == "https" => {
            let host = url.host_str().unwrap_or_default().to_string();
            let port = url.port_or_known_default().unwrap_or(443);
            match crate::connectors::woo::trust::presented_fingerprint(&host, port).await {
                Ok(fingerprint) => format!(
                    "{text}\n      the store presents the certificate {fingerprint}: if that is the shop's own certificate, set woocommerce.pinned_cert = \"{fingerprint}\""
                ),
                Err(_) => text,
            }
        }
        _ => text,
    }
}

async fn check_woo_webhooks(config: &Config, enable: bool) -> Result<String, String> {
    let client = woo_orders::client(&config.woocommerce).map_err(|e| e.to_string())?;
    crate::engine::woo_webhooks::check(&client, config, enable)
        .await?
        .verdict()
}

async fn check_counterpoint(config: &Config) -> Result<String, String> {
    let client = counterpoint_flows::client(&config.counterpoint).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let version = client.ping().await.map_err(|e| e.to_string())?;
    let c = &config.counterpoint.connection;
    let first_line = version
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    Ok(format!(
        "{}:{} — logged in as {} in {} ms ({first_line})",
        c.host,
        c.port,
        c.user,
        start.elapsed().as_millis()
    ))
}

async fn check_smtp(config: &Config) -> Result<String, String> {
    let mailer = Mailer::new(&config.email).map_err(|e| e.to_string())?;
    mailer.test_connection().await.map_err(|e| e.to_string())?;
    Ok(format!(
        "{}:{}",
        config.email.smtp_host, config.email.smtp_port
    ))
}
