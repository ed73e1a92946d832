//! What entering a status sets in motion, as jobs enqueued in the caller's transaction (the outbox):
//! the engine performs them later, so a mail server or a channel being down never blocks a command.

use rusqlite::Connection;

use crate::config::Config;
use crate::domain::time::Millis;
use crate::domain::{Status, StatusKind};
use crate::store::{NewJob, StoreError, jobs};

pub const BACKORDER_EMAIL: &str = "email.backorder";

/// Enqueues the side effects of `order_id` entering `status`.
pub fn on_status_entered(
    conn: &Connection,
    config: &Config,
    order_id: i64,
    status: &Status,
    now: Millis,
) -> Result<(), StoreError> {
    if status.kind == StatusKind::Backorder {
        jobs::enqueue(
            conn,
            &NewJob {
                kind: BACKORDER_EMAIL.into(),
                key: None,
                payload: serde_json::json!({ "order_id": order_id }).to_string(),
                run_at: now,
                max_attempts: config.jobs.max_attempts_for(BACKORDER_EMAIL),
            },
            now,
        )?;
    }
    Ok(())
}
