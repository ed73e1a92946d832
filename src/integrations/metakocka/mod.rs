//! Metakocka, the ERP: a back office. Orders of the configured channels become sales orders there (stock
//! checked and reserved, statuses, shipment and cancellation sent), sales orders entered there are pulled
//! in, its stock webhook hints the stock pass, and a stock pass reads one warehouse.

pub mod client;
mod config;
pub mod flows;
pub mod outbound;
mod receiver;
pub mod stock_source;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use config::MetakockaSection;
pub use flows::client;

use crate::app::SyncPass;
use crate::app::channel_orders::ImportOutcome;
use crate::config::Config;
use crate::domain::JobKind;
use crate::engine::passes::{PassEntry, PassError, PassOptions, PassReport};
use crate::engine::{
    BoxFuture, ConnectorFailure, ErrorClass, HandlerRegistry, JobContext, Schedule,
};
use crate::integrations::{CheckLine, CheckOptions, Integration, Role, Webhook};

/// The link system (and channel of orders pulled from there) of Metakocka.
pub const SYSTEM: &str = "metakocka";
/// Bring one order's Metakocka sales order in line with the order (create, update, ship, cancel); key
/// `order:ID`, so a newer change replaces a waiting one.
pub const SYNC_ORDER: JobKind = JobKind::new("metakocka.sync_order");
/// Pull sales orders entered in Metakocka.
pub const PULL_ORDERS: JobKind = JobKind::new("metakocka.pull_orders");

pub static INTEGRATION: Integration = Integration {
    name: SYSTEM,
    title: "Metakocka",
    enabled: |c| c.metakocka.enabled,
    role: Role::System,
    job_kinds: &[PULL_ORDERS, SYNC_ORDER],
    passes: &[PassEntry {
        pass: SyncPass::Erp,
        kind: PULL_ORDERS,
        run: |ctx, options| Box::pin(erp_pass(ctx, options)),
    }],
    handlers,
    schedules,
    check: Some(check),
    channel: None,
    on_status: Some(outbound::on_status),
    holds_lines: true,
    webhook: Some(Webhook {
        handler: |state, limits, headers, body| {
            Box::pin(receiver::metakocka(state, limits, headers, body))
        },
    }),
    stock_source: Some(crate::stock::StockSide::Pos {
        build: stock_source::build,
        prices: false,
    }),
};

fn handlers(config: &Config, registry: &mut HandlerRegistry) {
    if !config.metakocka.enabled {
        return;
    }
    registry.register(SYNC_ORDER, flows::SyncOrder::new(config));
    registry.register(PULL_ORDERS, flows::PullOrders::new(config));
}

fn schedules(config: &Config) -> Vec<Schedule> {
    if !config.metakocka.enabled {
        return Vec::new();
    }
    vec![Schedule::every(
        PULL_ORDERS,
        Duration::from_secs(config.metakocka.poll_secs),
    )]
}

/// Sales orders entered in Metakocka (or only `options.order`: an mk_id, number or buyer_order), pulled now.
async fn erp_pass(ctx: JobContext, options: PassOptions) -> Result<PassReport, PassError> {
    let config = &ctx.config.metakocka;
    if !config.enabled {
        return Err(PassError::rejected(
            "metakocka is not enabled: set [metakocka] enabled = true, company_id, secret_key and warehouse",
        ));
    }
    let client = client(config).map_err(PassError::rejected)?;
    let outcomes = flows::pull(&client, &ctx, options.order.as_deref(), options.dry_run)
        .await
        .map_err(|e| PassError {
            rejected: !e.is_retryable(),
            message: e.message,
        })?;
    Ok(pull_report(&outcomes, options.dry_run))
}

/// What a pull of sales orders did, as `sync run erp` prints it (and its job records the last line).
fn pull_report(outcomes: &[ImportOutcome], dry_run: bool) -> PassReport {
    PassReport::imports(outcomes, dry_run, "Metakocka ", "sales order(s)")
}

impl ConnectorFailure for client::MetakockaError {
    fn is_retryable(&self) -> bool {
        self.is_retryable()
    }
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after()
    }
    /// An `opr_code` answer is Metakocka's own rule saying no.
    fn class(&self) -> ErrorClass {
        match self {
            _ if self.is_retryable() => ErrorClass::Transient,
            client::MetakockaError::Api { .. } => ErrorClass::Refused,
            _ => ErrorClass::Permanent,
        }
    }
}

fn check(config: Arc<Config>, _options: CheckOptions) -> BoxFuture<'static, Vec<CheckLine>> {
    Box::pin(async move {
        if !config.metakocka.enabled {
            return vec![CheckLine::off(SYSTEM)];
        }
        vec![CheckLine::of(SYSTEM, check_api(&config.metakocka).await)]
    })
}

/// Proves credentials and the warehouse with one cheap read (a stock lookup of a code that matches nothing).
async fn check_api(cfg: &MetakockaSection) -> Result<String, String> {
    let client = client(cfg).map_err(|e| e.to_string())?;
    let start = Instant::now();
    client
        .warehouse_stock(
            &[cfg.warehouse.trim().to_string()],
            &["syncdesk-connection-check".to_string()],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "{} company {} — authenticated, read warehouse {} in {} ms",
        cfg.base_url.trim(),
        cfg.company_id.trim(),
        cfg.warehouse.trim(),
        start.elapsed().as_millis()
    ))
}
