//! WooCommerce, the shop's web store: a sales channel. Orders come in by webhook hint and an id-ordered
//! window poll, statuses go out compare-and-set with a note of every parcel, and the store side of the
//! stock and price passes reads and writes products here.

pub mod client;
mod config;
pub mod orders;
mod outbound;
mod receiver;
pub mod stock_store;
pub mod webhooks;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use config::{ImportSince, WooAuth, WooCommerceConfig};
pub use orders::{SYSTEM, client};
pub use receiver::verify_signature;

use crate::app::SyncPass;
use crate::config::Config;
use crate::domain::JobKind;
use crate::engine::passes::{PassEntry, PassError, PassOptions, PassReport};
use crate::engine::{BoxFuture, ConnectorFailure, HandlerRegistry, JobContext, Schedule};
use crate::integrations::{CheckLine, CheckOptions, Integration, Role, Webhook};

/// Push an order's current status to WooCommerce (keyed per order: a newer push replaces a waiting one).
pub const PUSH_STATUS: JobKind = JobKind::new("woo.push_status");
/// Re-read one order from WooCommerce (a webhook's hint).
pub const REFRESH_ORDER: JobKind = JobKind::new("woo.refresh_order");
/// The window poll that guarantees nothing is missed.
pub const RECONCILE_ORDERS: JobKind = JobKind::new("woo.reconcile_orders");

pub static INTEGRATION: Integration = Integration {
    name: SYSTEM,
    title: "WooCommerce",
    enabled: |c| c.woocommerce.enabled,
    role: Role::System,
    job_kinds: &[RECONCILE_ORDERS, REFRESH_ORDER, PUSH_STATUS],
    passes: &[PassEntry {
        pass: SyncPass::Orders,
        kind: RECONCILE_ORDERS,
        run: |ctx, options| Box::pin(orders_pass(ctx, options)),
    }],
    handlers,
    schedules,
    check: Some(check),
    channel: Some(&outbound::CHANNEL),
    on_status: None,
    holds_lines: false,
    webhook: Some(Webhook {
        handler: |state, limits, headers, body| {
            Box::pin(receiver::woocommerce(state, limits, headers, body))
        },
    }),
    stock_source: Some(crate::stock::StockSide::Store {
        build: stock_store::build,
    }),
};

fn handlers(config: &Config, registry: &mut HandlerRegistry) {
    if !config.woocommerce.enabled {
        return;
    }
    registry.register(REFRESH_ORDER, orders::RefreshOrder::new(config));
    registry.register(RECONCILE_ORDERS, orders::ReconcileOrders::new(config));
    registry.register(PUSH_STATUS, orders::PushStatus::new(config));
}

fn schedules(config: &Config) -> Vec<Schedule> {
    if !config.woocommerce.enabled {
        return Vec::new();
    }
    let every = Duration::from_secs(config.woocommerce.poll_secs);
    vec![Schedule::every(RECONCILE_ORDERS, every)]
}

/// The orders changed since the last poll (or `since` bounds), in the foreground.
async fn orders_pass(ctx: JobContext, options: PassOptions) -> Result<PassReport, PassError> {
    let config = &ctx.config.woocommerce;
    if !config.enabled {
        return Err(PassError::rejected(
            "woocommerce is not enabled: set [woocommerce] enabled = true, url and keys",
        ));
    }
    let client = client(config).map_err(PassError::rejected)?;
    let report = orders::poll(&client, &ctx, options.since, options.dry_run)
        .await
        .map_err(PassError::failed)?;
    Ok(poll_report(&report, options.dry_run))
}

/// What an order poll did, as `sync run orders` prints it (and its job records the last line).
fn poll_report(report: &orders::PollReport, dry_run: bool) -> PassReport {
    let mut out = PassReport::imports(&report.outcomes, dry_run, "woo #", "order(s)");
    out.lines
        .insert(0, format!("{} request(s) to the store", report.requests));
    out
}

impl ConnectorFailure for client::WooError {
    fn is_retryable(&self) -> bool {
        self.is_retryable()
    }
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after()
    }
}

/// The store (authenticated read of the orders endpoint) and, when it answers, our webhooks there.
fn check(config: Arc<Config>, options: CheckOptions) -> BoxFuture<'static, Vec<CheckLine>> {
    Box::pin(async move {
        if !config.woocommerce.enabled {
            return vec![CheckLine::off(SYSTEM)];
        }
        let reached = check_store(&config).await;
        let ok = reached.is_ok();
        let mut lines = vec![CheckLine::of(SYSTEM, reached)];
        if ok {
            let hooks = check_webhooks(&config, options.enable_webhooks).await;
            lines.push(CheckLine::of("webhooks", hooks));
        }
        lines
    })
}

async fn check_store(config: &Config) -> Result<String, String> {
    let client = client(&config.woocommerce).map_err(|e| e.to_string())?;
    let start = Instant::now();
    // A read that returns (almost) nothing: proves auth and the orders endpoint without paging a shop.
    let since = chrono::Utc::now() - chrono::Duration::minutes(1);
    let orders = match client.list_orders_modified_after(Some(since)).await {
        Ok(orders) => orders,
        Err(e) => return Err(explain_failure(config, e).await),
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
async fn explain_failure(config: &Config, error: client::WooError) -> String {
    let text = error.to_string();
    let about_certificate = text.contains("certificate") || text.contains("UnknownIssuer");
    let url = reqwest::Url::parse(config.woocommerce.url.trim()).ok();
    match (about_certificate, url) {
        (true, Some(url)) if url.scheme() == "https" => {
            let host = url.host_str().unwrap_or_default().to_string();
            let port = url.port_or_known_default().unwrap_or(443);
            match client::trust::presented_fingerprint(&host, port).await {
                Ok(fingerprint) => format!(
                    "{text}\n      the store presents the certificate {fingerprint}: if that is the shop's own certificate, set woocommerce.pinned_cert = \"{fingerprint}\""
                ),
                Err(_) => text,
            }
        }
        _ => text,
    }
}

async fn check_webhooks(config: &Config, enable: bool) -> Result<String, String> {
    let client = client(&config.woocommerce).map_err(|e| e.to_string())?;
    webhooks::check(&client, config, enable).await?.verdict()
}
