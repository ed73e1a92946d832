//! The background engine: claims due jobs from the store and runs them through registered handlers,
//! at least once, with per-kind concurrency, leases, backoff and a single-engine lease per database.
//!
//! The loop batches its bookkeeping: outcomes of finished jobs, lease renewals, re-queuing of expired
//! leases and new claims share one write transaction per turn, which is what makes thousands of jobs per
//! second possible on one SQLite file.
//!
//! Which handlers and schedules exist is not decided here: every integration of the registry registers
//! its own, and the stock passes theirs.

mod handler;
pub mod passes;
pub mod price_flows;
pub mod retry;
mod runner;
pub mod stock_flows;

pub use handler::{
    BoxFuture, ConnectorFailure, ErrorClass, HandlerRegistry, JobContext, JobError, JobHandler,
    SharedClient, handler_fn, job_error, job_payload,
};
pub use runner::{Engine, EngineHandle, EngineStatus, Schedule, hostname};

use crate::config::Config;
use crate::integrations::REGISTRY;

/// The handlers this build knows, with their production dependencies: each integration's (those not
/// enabled register nothing: their jobs wait, visibly, until configured) and the stock passes'.
pub fn default_handlers(config: &Config) -> HandlerRegistry {
    let mut registry = HandlerRegistry::default();
    for integration in REGISTRY {
        (integration.handlers)(config, &mut registry);
    }
    stock_flows::register(config, &mut registry);
    registry
}

/// The recurring jobs the configuration asks for.
pub fn default_schedules(config: &Config) -> Vec<Schedule> {
    let mut schedules = Vec::new();
    for integration in REGISTRY {
        schedules.extend((integration.schedules)(config));
    }
    schedules.extend(stock_flows::schedules(config));
    schedules
}
