//! Cartona, the B2B marketplace: a sales channel. Orders are pulled (paged, by creation window) and
//! acknowledged; status pushes go out in verified bulk under the marketplace's own rules (mapping,
//! delivered_by, the retailer's OTP).

pub mod client;
mod config;
pub mod flows;
pub mod outbound;
mod pass;
pub mod rules;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use config::{CartonaSection, OtpPolicy};
pub use outbound::SYSTEM;

use crate::app::SyncPass;
use crate::config::Config;
use crate::domain::JobKind;
use crate::engine::passes::PassEntry;
use crate::engine::{BoxFuture, ConnectorFailure, ErrorClass, HandlerRegistry, Schedule};
use crate::integrations::{CheckLine, CheckOptions, Integration, Role};

/// Pull new and changed Cartona orders (paged, by creation window) and acknowledge them.
pub const PULL_ORDERS: JobKind = JobKind::new("cartona.pull_orders");
/// Send every due Cartona status push in bulk, verified (key `cartona`: one pass collects them all).
pub const PUSH_STATUSES: JobKind = JobKind::new("cartona.push_statuses");

pub static INTEGRATION: Integration = Integration {
    name: SYSTEM,
    title: "Cartona",
    enabled: |c| c.cartona.enabled,
    role: Role::System,
    job_kinds: &[PULL_ORDERS, PUSH_STATUSES],
    passes: &[PassEntry {
        pass: SyncPass::Marketplace,
        kind: PULL_ORDERS,
        run: |ctx, options| Box::pin(pass::run(ctx, options)),
    }],
    handlers,
    schedules,
    check: Some(check),
    channel: Some(&outbound::CHANNEL),
    on_status: None,
    holds_lines: false,
    webhook: None,
    stock_source: None,
};

fn handlers(config: &Config, registry: &mut HandlerRegistry) {
    if !config.cartona.enabled {
        return;
    }
    registry.register(PULL_ORDERS, flows::PullOrders::new(config));
    registry.register(PUSH_STATUSES, flows::PushStatuses::new(config));
}

fn schedules(config: &Config) -> Vec<Schedule> {
    if !config.cartona.enabled {
        return Vec::new();
    }
    let every = Duration::from_secs(config.cartona.poll_secs);
    vec![Schedule::every(PULL_ORDERS, every)]
}

/// Reads one page of orders: proves the URL, the token header and the endpoint.
fn check(config: Arc<Config>, _options: CheckOptions) -> BoxFuture<'static, Vec<CheckLine>> {
    Box::pin(async move {
        if !config.cartona.enabled {
            return vec![CheckLine::off(SYSTEM)];
        }
        vec![CheckLine::of(SYSTEM, check_api(&config).await)]
    })
}

async fn check_api(config: &Config) -> Result<String, String> {
    let client = flows::client(&config.cartona).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let now = chrono::Utc::now();
    let orders = client
        .pull_orders(Some(now - chrono::Duration::minutes(1)), Some(now))
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "{} — authenticated, pulled orders ({} new in the last minute) in {} ms",
        config.cartona.base_url,
        orders.len(),
        start.elapsed().as_millis()
    ))
}

impl ConnectorFailure for client::CartonaError {
    fn is_retryable(&self) -> bool {
        self.is_retryable()
    }
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after()
    }
    /// Cartona answers a request its rules forbid with 422 and its reason ("Cannot change order status
    /// from pending to delivered"): a refusal. The one 422 that passes is an order the retailer is editing.
    fn class(&self) -> ErrorClass {
        match self {
            _ if self.is_retryable() => ErrorClass::Transient,
            client::CartonaError::Api { message, .. } if retailer_editing(message) => {
                ErrorClass::Transient
            }
            client::CartonaError::Api {
                status: 409 | 422, ..
            } => ErrorClass::Refused,
            _ => ErrorClass::Permanent,
        }
    }
}

/// Cartona's answer while the retailer edits an order: the supplier must wait, then it may act again.
fn retailer_editing(message: &str) -> bool {
    message.to_ascii_lowercase().contains("being edited")
}
