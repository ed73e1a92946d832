//! `syncdesk sync run …` (one pass now, optionally as a dry run) and `syncdesk check` (can we reach
//! every configured system?). Both go through `app`: this only parses and prints.

use clap::Subcommand;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use super::{CliResult, Context, Failure, output};
use crate::app::SyncPass;
use crate::config::ImportSince;
use crate::engine::passes::{PassError, PassOptions};
use crate::integrations::CheckOptions;

#[derive(Subcommand, Debug)]
pub enum SyncCommand {
    /// Run one pass of a sync now, in this process.
    Run {
        /// The pass to run.
        #[arg(value_parser = passes())]
        flow: SyncPass,
        /// Show what would change and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// `erp` only: pull just this sales order (the ERP's id, number or buyer_order).
        #[arg(long, value_name = "N")]
        order: Option<String>,
        /// `orders` only: read this much history instead of what changed since the last poll — "90d"
        /// (open orders plus 90 days), a date "2025-01-01", or "all". Orders already final in it are
        /// kept as history (their stock is not counted again).
        #[arg(long, value_name = "SINCE")]
        since: Option<String>,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// The passes, as `sync run` accepts them (each with its one-line help).
fn passes() -> impl TypedValueParser<Value = SyncPass> {
    PossibleValuesParser::new(SyncPass::ALL.map(|p| PossibleValue::new(p.name()).help(p.about())))
        .try_map(|name| SyncPass::parse(&name).ok_or("no such pass"))
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Runtime::new().map_err(|e| Failure::failed(format!("runtime: {e}")))
}

impl From<PassError> for Failure {
    fn from(e: PassError) -> Self {
        if e.rejected {
            Failure::rejected(e.message)
        } else {
            Failure::failed(e.message)
        }
    }
}

pub fn run(context: &Context, command: SyncCommand) -> CliResult {
    let SyncCommand::Run {
        flow,
        dry_run,
        order,
        since,
        json,
    } = command;
    if order.is_some() && flow != SyncPass::Erp {
        return Err(Failure::rejected(
            "--order: only `sync run erp` pulls a single order",
        ));
    }
    let since = match since {
        Some(_) if flow != SyncPass::Orders => {
            return Err(Failure::rejected(
                "--since: only `sync run orders` reads history",
            ));
        }
        Some(text) => Some(
            ImportSince::parse(&text).map_err(|e| Failure::rejected(format!("--since: {e}")))?,
        ),
        None => None,
    };
    let options = PassOptions {
        dry_run,
        order,
        since,
    };
    let app = context.app()?;
    let report = runtime()?.block_on(app.run_pass(flow, options))?;
    if json {
        output::json(&report.json)?;
    } else {
        for line in &report.lines {
            output::outln!("{line}")?;
        }
    }
    match report.failed {
        Some(why) if report.failed_in_json || !json => Err(Failure::failed(why)),
        _ => Ok(()),
    }
}

/// Tries every configured system and says what works.
pub fn check(context: &Context, enable_webhooks: bool) -> CliResult {
    let mut failures = 0;
    let mut report = |name: &str, result: Option<Result<String, String>>| match result {
        Some(Ok(ok)) => output::outln!("ok    {name}: {ok}"),
        Some(Err(e)) => {
            failures += 1;
            output::outln!("FAIL  {name}: {e}")
        }
        None => output::outln!("-     {name}: not enabled"),
    };
    let config = context.config()?;
    report(
        "database",
        Some(
            context
                .app()
                .map(|_| context.db_path.display().to_string())
                .map_err(|e| e.message),
        ),
    )?;
    let options = CheckOptions { enable_webhooks };
    for line in runtime()?.block_on(crate::app::check_all(config, options)) {
        report(&line.name, line.result)?;
    }
    if failures > 0 {
        Err(Failure::failed(format!("{failures} check(s) failed")))
    } else {
        Ok(())
    }
}
