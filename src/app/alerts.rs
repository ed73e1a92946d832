//! Alerts for operators: raise one (and have it e-mailed soon if it is urgent), list them, acknowledge one.
//! Sync flows call [`raise_and_notify`] inside their own transaction; the mail itself is a job.

use rusqlite::Connection;

use super::{App, AppError, Result};
use crate::config::Config;
use crate::domain::JobKind;
use crate::domain::Permission;
use crate::domain::alerts::NewAlert;
use crate::domain::time::{Millis, now_ms, to_short};
use crate::store::alerts::{self, Alert};
use crate::store::{NewJob, StoreError, jobs};

/// E-mails every open, not yet mailed alert of an immediate severity (one mail per run).
pub const ALERTS_EMAIL_IMMEDIATE: JobKind = JobKind::new("alerts.email_immediate");
/// E-mails one digest of every open, not yet mailed alert of the other severities.
pub const ALERTS_DIGEST: JobKind = JobKind::new("alerts.digest");

/// Raises `alert` in the caller's transaction. If it is new and of an immediate severity, enqueues an
/// immediate-mail job due now; the job is keyed, so a burst of alerts in one pass coalesces into one waiting
/// job (and one mail). Returns the new alert's id, or `None` when the same alert is already open.
pub fn raise_and_notify(
    conn: &Connection,
    config: &Config,
    alert: &NewAlert,
    now: Millis,
) -> Result<Option<i64>, StoreError> {
    let id = alerts::raise(conn, alert, now)?;
    if id.is_some() && config.alerts.is_immediate(alert.severity) {
        jobs::enqueue(
            conn,
            &NewJob {
                kind: ALERTS_EMAIL_IMMEDIATE.into(),
                key: Some("alerts".into()),
                payload: "{}".into(),
                run_at: now,
                max_attempts: config.jobs.max_attempts_for(ALERTS_EMAIL_IMMEDIATE),
            },
            now,
        )?;
    }
    Ok(id)
}

impl App {
    /// Raises an alert in its own transaction (see [`raise_and_notify`]).
    pub fn raise_alert(&mut self, alert: &NewAlert) -> Result<Option<i64>> {
        self.require(Permission::RaiseAlerts)?;
        let config = self.config.clone();
        self.store
            .write(|tx| Ok(raise_and_notify(tx, &config, alert, now_ms())?))
    }

    /// Open alerts, or every alert with `include_acknowledged`, newest first.
    pub fn alerts(&mut self, include_acknowledged: bool, limit: i64) -> Result<Vec<Alert>> {
        Ok(alerts::list(
            self.store.conn(),
            include_acknowledged,
            limit,
        )?)
    }

    /// Closes an open alert as the current operator; the same condition can then raise a new one.
    pub fn acknowledge_alert(&mut self, id: i64) -> Result<Alert> {
        self.require(Permission::AcknowledgeAlerts)?;
        let by = self.actor.name.clone();
        self.store.write(|tx| {
            let alert =
                alerts::get(tx, id)?.ok_or_else(|| AppError::Rejected(format!("no alert {id}")))?;
            if let Some(at) = alert.acknowledged_at {
                return Err(AppError::Rejected(format!(
                    "alert {id} was already acknowledged by {} at {}",
                    alert.acknowledged_by.as_deref().unwrap_or("?"),
                    to_short(at)
                )));
            }
            alerts::acknowledge(tx, id, &by, now_ms())?;
            alerts::get(tx, id)?.ok_or_else(|| AppError::Rejected(format!("no alert {id}")))
        })
    }
}
