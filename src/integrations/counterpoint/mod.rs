//! NCR Counterpoint on SQL Server: the back office. Web orders are staged there once, what it ships comes
//! back as shipments, its documents are checked to still exist, and a stock pass reads its inventory and
//! prices.

pub mod client;
mod config;
pub mod flows;
pub mod stock_source;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use config::CounterpointSection;
pub use flows::{SYSTEM, client};

use crate::app::SyncPass;
use crate::config::Config;
use crate::domain::JobKind;
use crate::engine::passes::{PassEntry, PassError, PassOptions, PassReport, dry_note};
use crate::engine::{BoxFuture, ConnectorFailure, HandlerRegistry, JobContext, Schedule};
use crate::integrations::{CheckLine, CheckOptions, Integration, Outbound, Role, StatusEntered};
use crate::store::{StoreError, orders};

/// Put a web order into Counterpoint's staging table (once).
pub const STAGE_ORDER: JobKind = JobKind::new("counterpoint.stage_order");
/// Read what Counterpoint shipped since the watermark.
pub const FULFILMENT_PASS: JobKind = JobKind::new("counterpoint.fulfilment_pass");
/// Check staged documents of open orders still exist.
pub const VERIFY_DOCUMENTS: JobKind = JobKind::new("counterpoint.verify_documents");

pub static INTEGRATION: Integration = Integration {
    name: SYSTEM,
    title: "Counterpoint",
    enabled: |c| c.counterpoint.enabled,
    role: Role::System,
    job_kinds: &[FULFILMENT_PASS, STAGE_ORDER, VERIFY_DOCUMENTS],
    passes: &[PassEntry {
        pass: SyncPass::Fulfillments,
        kind: FULFILMENT_PASS,
        run: |ctx, options| Box::pin(fulfilments_pass(ctx, options)),
    }],
    handlers,
    schedules,
    check: Some(check),
    channel: None,
    on_status: Some(on_status),
    holds_lines: true,
    webhook: None,
    stock_source: Some(crate::stock::StockSide::Pos {
        build: stock_source::build,
        prices: true,
    }),
};

fn handlers(config: &Config, registry: &mut HandlerRegistry) {
    if !config.counterpoint.enabled {
        return;
    }
    registry.register(STAGE_ORDER, flows::StageOrderJob::new(config));
    registry.register(FULFILMENT_PASS, flows::FulfilmentPass::new(config));
    registry.register(VERIFY_DOCUMENTS, flows::VerifyDocuments::new(config));
}

fn schedules(config: &Config) -> Vec<Schedule> {
    let cp = &config.counterpoint;
    if !cp.enabled {
        return Vec::new();
    }
    vec![
        Schedule::every(
            FULFILMENT_PASS,
            Duration::from_secs(cp.fulfilment_poll_secs),
        ),
        Schedule::every(VERIFY_DOCUMENTS, Duration::from_secs(cp.verify_secs)),
    ]
}

/// An order of a staged channel entering `counterpoint.stage_on` is staged, once.
fn on_status(
    conn: &rusqlite::Connection,
    config: &Config,
    event: &StatusEntered,
) -> Result<Outbound, StoreError> {
    let cp = &config.counterpoint;
    if !cp.enabled
        || !event.status.name.eq_ignore_ascii_case(&cp.stage_on)
        || event.own_link.is_some()
    {
        return Ok(Outbound::Nothing);
    }
    let channel = orders::get(conn, event.order_id)?
        .map(|o| o.channel)
        .unwrap_or_default();
    if !cp
        .stage_channels
        .iter()
        .any(|c| c.eq_ignore_ascii_case(&channel))
    {
        return Ok(Outbound::Nothing);
    }
    Ok(Outbound::Job {
        kind: STAGE_ORDER,
        key: Some(format!("order:{}", event.order_id)),
        payload: serde_json::json!({ "order_id": event.order_id }),
    })
}

/// What shipped since the last pass, recorded (or, dry, shown), in the foreground.
async fn fulfilments_pass(ctx: JobContext, options: PassOptions) -> Result<PassReport, PassError> {
    let config = &ctx.config.counterpoint;
    if !config.enabled {
        return Err(PassError::rejected(
            "counterpoint is not enabled: set [counterpoint] enabled = true and [counterpoint.connection]",
        ));
    }
    let client = client(config).map_err(PassError::rejected)?;
    let dry_run = options.dry_run;
    let outcomes = flows::fulfilment_pass(&client, &ctx, dry_run)
        .await
        .map_err(PassError::failed)?;
    Ok(fulfilment_report(&outcomes, dry_run))
}

/// What a fulfilment pass did, as `sync run fulfillments` prints it (and its job records the last line).
fn fulfilment_report(outcomes: &[flows::FulfilmentOutcome], dry_run: bool) -> PassReport {
    let verb = if dry_run { "would record" } else { "recorded" };
    let mut lines: Vec<String> = outcomes
        .iter()
        .map(|o| {
            let shipped: Vec<String> = o
                .shipped
                .iter()
                .map(|(sku, q)| format!("{sku}×{q}"))
                .collect();
            format!(
                "{verb} a shipment on {} from document {}{}: {}{}",
                o.order,
                o.doc_id,
                if o.posted { " (posted)" } else { "" },
                shipped.join(", "),
                if o.completed {
                    " — completes the order"
                } else {
                    ""
                }
            )
        })
        .collect();
    lines.push(format!(
        "{} shipment(s){}",
        outcomes.len(),
        dry_note(dry_run, "written")
    ));
    PassReport::of(dry_run, "outcomes", outcomes, lines)
}

impl ConnectorFailure for client::CounterpointError {
    fn is_retryable(&self) -> bool {
        self.is_retryable()
    }
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after()
    }
}

/// Logs in and asks the server's version.
fn check(config: Arc<Config>, _options: CheckOptions) -> BoxFuture<'static, Vec<CheckLine>> {
    Box::pin(async move {
        if !config.counterpoint.enabled {
            return vec![CheckLine::off(SYSTEM)];
        }
        vec![CheckLine::of(SYSTEM, check_server(&config).await)]
    })
}

async fn check_server(config: &Config) -> Result<String, String> {
    let client = client(&config.counterpoint).map_err(|e| e.to_string())?;
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
