//! Mail (SMTP): purchasing hears about backorders, operators about alerts. Every mail is a job, sent once:
//! the server's acceptance is recorded with the job, and a resend after a crash carries the same Message-ID.

pub mod alerts;
pub mod backorder;
pub mod client;
mod config;

use std::sync::Arc;
use std::time::Duration;

pub use alerts::AlertEmail;
pub use backorder::BackorderEmail;
pub use config::{EmailConfig, SmtpSecurity};

use crate::app::{ALERTS_DIGEST, ALERTS_EMAIL_IMMEDIATE};
use crate::config::Config;
use crate::domain::{JobKind, StatusKind};
use crate::engine::{BoxFuture, ConnectorFailure, HandlerRegistry, Schedule};
use crate::integrations::{CheckLine, CheckOptions, Integration, Outbound, Role, StatusEntered};
use crate::store::StoreError;

pub const SYSTEM: &str = "email";
/// Tell purchasing an order went to backorder.
pub const BACKORDER_EMAIL: JobKind = JobKind::new("email.backorder");
/// How often urgent alerts are swept for mail even when nothing asked (`raise_and_notify` asks at once).
pub const ALERTS_IMMEDIATE_EVERY: Duration = Duration::from_secs(10);

pub static INTEGRATION: Integration = Integration {
    name: SYSTEM,
    title: "Mail",
    enabled: |c| !c.email.smtp_host.is_empty(),
    role: Role::Notifier,
    job_kinds: &[BACKORDER_EMAIL, ALERTS_EMAIL_IMMEDIATE, ALERTS_DIGEST],
    passes: &[],
    handlers,
    schedules,
    check: Some(check),
    channel: None,
    on_status: Some(on_status),
    holds_lines: false,
    webhook: None,
    stock_source: None,
};

/// Mail never depends on a setting to be queued: alerts come from every flow, and a mail waits (visibly)
/// until the server takes it.
fn handlers(config: &Config, registry: &mut HandlerRegistry) {
    registry.register(BACKORDER_EMAIL, BackorderEmail::new(&config.email));
    let (immediate, digest) = AlertEmail::pair(config);
    registry.register(ALERTS_EMAIL_IMMEDIATE, immediate);
    registry.register(ALERTS_DIGEST, digest);
}

/// The immediate sweep also catches alerts raised without `raise_and_notify` (or whose job died).
fn schedules(config: &Config) -> Vec<Schedule> {
    vec![
        Schedule::every(ALERTS_EMAIL_IMMEDIATE, ALERTS_IMMEDIATE_EVERY),
        Schedule::every(
            ALERTS_DIGEST,
            Duration::from_secs(config.alerts.digest_every_secs),
        ),
    ]
}

/// Entering a backorder status mails purchasing.
fn on_status(
    _conn: &rusqlite::Connection,
    _config: &Config,
    event: &StatusEntered,
) -> Result<Outbound, StoreError> {
    Ok(match event.status.kind {
        StatusKind::Backorder => Outbound::Job {
            kind: BACKORDER_EMAIL,
            key: None,
            payload: serde_json::json!({ "order_id": event.order_id }),
        },
        _ => Outbound::Nothing,
    })
}

impl ConnectorFailure for client::MailError {
    fn is_retryable(&self) -> bool {
        self.is_retryable()
    }
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// Connects to the mail server (always: mail is how alerts reach people).
fn check(config: Arc<Config>, _options: CheckOptions) -> BoxFuture<'static, Vec<CheckLine>> {
    Box::pin(async move {
        let checked = async {
            let mailer = client::Mailer::new(&config.email).map_err(|e| e.to_string())?;
            mailer.test_connection().await.map_err(|e| e.to_string())?;
            Ok(format!(
                "{}:{}",
                config.email.smtp_host, config.email.smtp_port
            ))
        };
        vec![CheckLine::of("smtp", checked.await)]
    })
}
