//! The background engine: claims due jobs from the store and runs them through registered handlers,
//! at least once, with per-kind concurrency, leases, backoff and a single-engine lease per database.
//!
//! The loop batches its bookkeeping: outcomes of finished jobs, lease renewals, re-queuing of expired
//! leases and new claims share one write transaction per turn, which is what makes thousands of jobs per
//! second possible on one SQLite file.

mod backorder_email;
mod handler;
mod runner;

pub use backorder_email::BackorderEmail;
pub use handler::{BoxFuture, HandlerRegistry, JobContext, JobError, JobHandler, handler_fn};
pub use runner::{Engine, EngineHandle, EngineStatus};

use crate::config::Config;

/// The handlers this build knows, with their production dependencies.
pub fn default_handlers(config: &Config) -> HandlerRegistry {
    let mut registry = HandlerRegistry::default();
    registry.register(
        crate::app::BACKORDER_EMAIL,
        BackorderEmail::new(&config.email),
    );
    registry
}
