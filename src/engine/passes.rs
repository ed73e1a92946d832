//! The one entry for a pass run now, in the foreground (`syncdesk sync run X`, `conflicts detect`), and for
//! `check`. Each pass is declared once, by the integration that runs it (or by the stock passes), with the
//! job kind the engine runs on schedule and when `:sync X` asks: the face only says which pass and prints
//! the report, so the console, the CLI and the engine cannot disagree about what a pass is.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};

use super::{BoxFuture, JobContext, JobError};
use crate::app::{ImportOutcome, SyncPass};
use crate::config::{Config, ImportSince};
use crate::domain::JobKind;
use crate::integrations::{CheckLine, CheckOptions, REGISTRY};
use crate::store::jobs;

/// How a pass is asked to run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassOptions {
    /// Show what would change and write nothing.
    pub dry_run: bool,
    /// A pull of one order only (a pass that can say which).
    pub order: Option<String>,
    /// History to read instead of what changed since the last pass (an order poll).
    pub since: Option<ImportSince>,
}

/// What a pass did (or, dry, would do): the lines an operator reads and the same as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct PassReport {
    pub json: Value,
    pub lines: Vec<String>,
    /// Why the pass counts as failed (some items failed), if it does.
    pub failed: Option<String>,
    /// Whether that failure also fails a `--json` run (some passes report failed items only in the JSON).
    pub failed_in_json: bool,
}

/// Why a pass could not run: `rejected` when asking differently would help (not configured, bad input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassError {
    pub message: String,
    pub rejected: bool,
}

impl PassError {
    pub fn rejected(message: impl std::fmt::Display) -> Self {
        PassError {
            message: message.to_string(),
            rejected: true,
        }
    }

    pub fn failed(error: JobError) -> Self {
        PassError {
            message: error.message,
            rejected: false,
        }
    }
}

pub type PassFn = fn(JobContext, PassOptions) -> BoxFuture<'static, Result<PassReport, PassError>>;

/// One pass an operator can run now.
pub struct PassEntry {
    pub pass: SyncPass,
    /// The job the engine runs for it (on schedule, and when `:sync` asks).
    pub kind: JobKind,
    pub run: PassFn,
}

/// Every pass: the integrations' and the stock passes'.
pub fn entries() -> impl Iterator<Item = &'static PassEntry> {
    REGISTRY
        .iter()
        .flat_map(|i| i.passes.iter())
        .chain(super::stock_flows::PASSES.iter())
}

/// The entry of `pass`.
pub fn entry(pass: SyncPass) -> Option<&'static PassEntry> {
    entries().find(|e| e.pass == pass)
}

/// Runs `pass` now on `ctx`.
pub async fn run_pass(
    ctx: &JobContext,
    pass: SyncPass,
    options: PassOptions,
) -> Result<PassReport, PassError> {
    let entry = entry(pass)
        .ok_or_else(|| PassError::rejected(format!("no pass '{}' in this build", pass.name())))?;
    (entry.run)(ctx.clone(), options).await
}

/// Every integration's `check`, in registry order.
pub async fn check_all(config: Arc<Config>, options: CheckOptions) -> Vec<CheckLine> {
    let mut lines = Vec::new();
    for integration in REGISTRY {
        if let Some(check) = integration.check {
            lines.extend(check(config.clone(), options).await);
        }
    }
    lines
}

/// Records `summary` (a pass's counts, as its report ends) as the outcome of the pass job `job_id`. The
/// pass's work is already recorded: a failure to note its counts is logged, not a reason to run it again.
pub async fn record_outcome(ctx: &JobContext, job_id: i64, summary: Option<&str>) {
    let Some(summary) = summary.map(str::to_string) else {
        return;
    };
    let written = ctx
        .with_store(move |s| {
            s.write(|tx| jobs::set_outcome(tx, job_id, &summary))
                .map_err(|e| JobError::store(&e))
        })
        .await;
    if let Err(e) = written {
        tracing::warn!(job_id, error = %e.message, "pass outcome not recorded");
    }
}

/// `3 changes, 1 conflicts, 120 examined` — a pass's counts (`stock::summarize`) as `sync run` prints them.
pub fn counts_line<'a>(counts: impl IntoIterator<Item = (&'a &'a str, &'a usize)>) -> String {
    let parts: Vec<String> = counts
        .into_iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    parts.join(", ")
}

/// ` — dry run, nothing written` after a dry run's summary.
pub fn dry_note(dry_run: bool, what: &str) -> String {
    if dry_run {
        format!(" — dry run, nothing {what}")
    } else {
        String::new()
    }
}

impl PassReport {
    /// The counts the report ends with (what `sync run` prints last): what a finished pass job records
    /// as its outcome.
    pub fn summary(&self) -> Option<&str> {
        self.lines.last().map(String::as_str)
    }

    /// A report of `value` under `key` (`{"dry_run": …, key: value}`), with these lines.
    pub fn of(dry_run: bool, key: &str, value: impl Serialize, lines: Vec<String>) -> Self {
        let mut json = json!({ "dry_run": dry_run });
        json[key] = serde_json::to_value(value).unwrap_or(Value::Null);
        PassReport {
            json,
            lines,
            failed: None,
            failed_in_json: false,
        }
    }

    /// What an order pull did (or would do): one line per change, then a count. `remote` prefixes the
    /// remote id ("store #", "ERP "); `noun` names what was read.
    pub fn imports(outcomes: &[ImportOutcome], dry_run: bool, remote: &str, noun: &str) -> Self {
        let verb = if dry_run { "would" } else { "did" };
        let mut lines: Vec<String> = outcomes
            .iter()
            .filter_map(|o| o.describe(remote))
            .map(|line| format!("{verb} {line}"))
            .collect();
        lines.push(format!(
            "{} {noun} read, {} change(s){}",
            outcomes.len(),
            lines.len(),
            dry_note(dry_run, "written")
        ));
        PassReport::of(dry_run, "outcomes", outcomes, lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pass_has_exactly_one_runner_and_it_runs_the_passes_job_kind() {
        for pass in SyncPass::ALL {
            let runners: Vec<_> = entries().filter(|e| e.pass == pass).collect();
            assert_eq!(runners.len(), 1, "pass {}", pass.name());
            assert_eq!(runners[0].kind, pass.job_kind(), "pass {}", pass.name());
        }
    }
}
