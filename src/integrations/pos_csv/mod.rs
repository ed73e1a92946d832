//! A POS that only exchanges files: a back office. A stock pass reads its hourly stock export (CSV); the
//! web orders' sales (and cancelled sales) go to it as files of reductions it imports.

pub mod client;
mod config;
pub mod flows;
pub mod stock_source;

use std::time::Duration;

pub use config::PosCsvSection;

use crate::config::Config;
use crate::domain::JobKind;
use crate::engine::{HandlerRegistry, Schedule};
use crate::integrations::{Integration, Role};

pub const SYSTEM: &str = "pos_csv";
/// Record the web-order lines that became sales since the last run, and write their file for the POS.
pub const WRITE_REDUCTIONS: JobKind = JobKind::new("pos_csv.write_reductions");

pub static INTEGRATION: Integration = Integration {
    name: SYSTEM,
    title: "POS export",
    enabled: |c| c.pos_csv.enabled,
    role: Role::System,
    job_kinds: &[WRITE_REDUCTIONS],
    passes: &[],
    handlers,
    schedules,
    check: None,
    channel: None,
    on_status: None,
    holds_lines: false,
    webhook: None,
    stock_source: Some(crate::stock::StockSide::Pos {
        build: stock_source::build,
        prices: true,
    }),
};

fn handlers(config: &Config, registry: &mut HandlerRegistry) {
    if config.pos_csv.enabled {
        registry.register(WRITE_REDUCTIONS, flows::WriteReductions);
    }
}

fn schedules(config: &Config) -> Vec<Schedule> {
    if !config.pos_csv.enabled {
        return Vec::new();
    }
    vec![Schedule::every(
        WRITE_REDUCTIONS,
        Duration::from_secs(config.pos_csv.write_every_secs),
    )]
}
