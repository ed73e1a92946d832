//! Job commands for operators: look at the queue and at one job's attempt history, retry what died, discard
//! what should not run, and run a sync pass now instead of at its next scheduled time.

use serde::Serialize;

use super::stock::{STOCK_FULL, STOCK_INCREMENTAL, STOCK_PRICES};
use super::{App, AppError, Result};
use crate::config::Config;
use crate::domain::JobKind;
use crate::domain::Permission;
use crate::domain::time::now_ms;
use crate::integrations::{Integration, REGISTRY};
use crate::store::jobs::JobDetail;
use crate::store::jobs::RunNow;
use crate::store::sync_log::{self, Change};
use crate::store::{Job, JobState, jobs};

/// A sync pass an operator can ask for (`:sync <name>` in the console).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPass {
    /// Stock over every aligned SKU.
    Full,
    /// Stock for what changed since the last pass.
    Incremental,
    Prices,
    /// The web store's order poll (orders modified since the last one).
    Orders,
    /// What the back office shipped since the watermark.
    Fulfillments,
    /// New marketplace orders (their due status pushes follow on their own).
    Marketplace,
    /// Sales orders entered in the ERP.
    Erp,
}

impl SyncPass {
    pub const ALL: [SyncPass; 7] = [
        SyncPass::Full,
        SyncPass::Incremental,
        SyncPass::Prices,
        SyncPass::Orders,
        SyncPass::Fulfillments,
        SyncPass::Marketplace,
        SyncPass::Erp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SyncPass::Full => "full",
            SyncPass::Incremental => "incremental",
            SyncPass::Prices => "prices",
            SyncPass::Orders => "orders",
            SyncPass::Fulfillments => "fulfillments",
            SyncPass::Marketplace => "marketplace",
            SyncPass::Erp => "erp",
        }
    }

    /// What the pass does, in one line (`sync run --help`).
    pub fn about(self) -> &'static str {
        match self {
            SyncPass::Full => "Stock of every aligned SKU: merge POS and store, write the changes",
            SyncPass::Incremental => "Stock of what changed since the last pass",
            SyncPass::Prices => {
                "Regular prices of every aligned SKU, from the configured price source"
            }
            SyncPass::Orders => {
                "Web store orders modified since the last pass (with the overlap window)"
            }
            SyncPass::Fulfillments => {
                "Back office shipments since the last pass, recorded in syncdesk (and so pushed to the store)"
            }
            SyncPass::Marketplace => {
                "Marketplace: pull new orders, then push due statuses (bulk, verified); a dry run shows, order by order, what would be sent and which rule decides"
            }
            SyncPass::Erp => "Sales orders entered in the ERP, pulled into syncdesk",
        }
    }

    /// Accepts the names above (and `fulfilments`, `stock`).
    pub fn parse(text: &str) -> Option<SyncPass> {
        match text.trim().to_lowercase().as_str() {
            "stock" => Some(SyncPass::Full),
            "fulfilments" => Some(SyncPass::Fulfillments),
            t => SyncPass::ALL.into_iter().find(|p| p.name() == t),
        }
    }

    /// The integration that runs this pass, if one does (the stock passes belong to no single system).
    pub fn owner(self) -> Option<(&'static Integration, JobKind)> {
        REGISTRY.iter().find_map(|i| {
            i.passes
                .iter()
                .find(|entry| entry.pass == self)
                .map(|entry| (*i, entry.kind))
        })
    }

    /// The job kind the engine runs for this pass.
    pub fn job_kind(self) -> JobKind {
        match self {
            SyncPass::Full => STOCK_FULL,
            SyncPass::Incremental => STOCK_INCREMENTAL,
            SyncPass::Prices => STOCK_PRICES,
            _ => match self.owner() {
                Some((_, kind)) => kind,
                None => unreachable!("pass {} is in no integration's list", self.name()),
            },
        }
    }

    /// Why the pass cannot run with this configuration (its integration is off: nothing would handle the
    /// job).
    pub fn disabled_reason(self, config: &Config) -> Option<String> {
        let (enabled, section, what) = match self.owner() {
            Some((integration, _)) => (
                (integration.enabled)(config),
                integration.name,
                integration.title,
            ),
            None => (config.stock.enabled, "stock", "stock sync"),
        };
        (!enabled).then(|| {
            format!(
                "cannot sync {}: {what} is not enabled (set [{section}] enabled = true)",
                self.name()
            )
        })
    }
}

/// What asking for a pass did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncRequested {
    pub pass: SyncPass,
    pub job_id: i64,
    pub how: RunNow,
}

impl App {
    pub fn jobs(&mut self, state: Option<JobState>, limit: i64) -> Result<Vec<Job>> {
        Ok(jobs::list(self.store.conn(), state, limit)?)
    }

    pub fn job_counts(&mut self) -> Result<Vec<(JobState, i64)>> {
        Ok(jobs::count_by_state(self.store.conn())?)
    }

    /// Runs a dead, cancelled or waiting job again now, with a fresh attempt budget.
    pub fn retry_job(&mut self, id: i64) -> Result<Job> {
        self.require(Permission::ManageJobs)?;
        let by = self.actor.name.clone();
        self.store.write(|tx| {
            let job = jobs::get(tx, id)?.ok_or(AppError::JobNotFound(id))?;
            match job.state {
                JobState::Dead | JobState::Cancelled | JobState::Retrying | JobState::Queued => {
                    let now = now_ms();
                    jobs::requeue(tx, id, now)?;
                    let after = jobs::get(tx, id)?.ok_or(AppError::JobNotFound(id))?;
                    audit(tx, &job, &after, &format!("retried by {by}"), &by, now)?;
                    Ok(after)
                }
                JobState::Running => Err(AppError::Rejected(format!(
                    "job {id} is running; wait for it to finish"
                ))),
                JobState::Done => Err(AppError::Rejected(format!(
                    "job {id} is done; nothing to retry"
                ))),
            }
        })
    }

    pub fn retry_all_dead(&mut self) -> Result<usize> {
        self.require(Permission::ManageJobs)?;
        let by = self.actor.name.clone();
        self.store.write(|tx| {
            let now = now_ms();
            let n = jobs::requeue_dead(tx, now)?;
            if n > 0 {
                sync_log::record(
                    tx,
                    &Change {
                        source: "operator",
                        entity: "job",
                        entity_key: "dead",
                        field: "state",
                        old_value: Some("dead"),
                        new_value: Some("queued"),
                        reason: Some(&format!("{n} dead job(s) retried by {by}")),
                        actor: Some(&by),
                        ..Default::default()
                    },
                    now,
                )?;
            }
            Ok(n)
        })
    }

    /// Cancels a job that has not finished; a running job cannot be pulled back.
    pub fn discard_job(&mut self, id: i64) -> Result<Job> {
        self.require(Permission::ManageJobs)?;
        let by = self.actor.name.clone();
        self.store.write(|tx| {
            let job = jobs::get(tx, id)?.ok_or(AppError::JobNotFound(id))?;
            match job.state {
                JobState::Dead | JobState::Retrying | JobState::Queued => {
                    let now = now_ms();
                    let why = format!("discarded by {by}");
                    jobs::cancel(tx, id, &why, now)?;
                    let after = jobs::get(tx, id)?.ok_or(AppError::JobNotFound(id))?;
                    audit(tx, &job, &after, &why, &by, now)?;
                    Ok(after)
                }
                JobState::Running => Err(AppError::Rejected(format!(
                    "job {id} is running; it cannot be discarded now"
                ))),
                JobState::Done | JobState::Cancelled => Err(AppError::Rejected(format!(
                    "job {id} is already {}",
                    job.state.as_str()
                ))),
            }
        })
    }

    /// Has the engine run `pass` as soon as it can: the waiting scheduled job is moved up (or one enqueued);
    /// a pass already running is reported, not doubled. Refused when the pass's connector is not enabled.
    pub fn run_sync_now(&mut self, pass: SyncPass) -> Result<SyncRequested> {
        self.may_sync(pass)?;
        let kind = pass.job_kind();
        let max_attempts = self.config.jobs.max_attempts_for(kind);
        self.store.write(|tx| {
            let (job_id, how) = jobs::run_now(tx, kind.as_str(), max_attempts, now_ms())?;
            Ok(SyncRequested { pass, job_id, how })
        })
    }

    /// Whether this operator may run `pass` with this configuration (the role, then its connector).
    pub fn may_sync(&self, pass: SyncPass) -> Result<()> {
        self.require(Permission::RunSyncs)?;
        match pass.disabled_reason(&self.config) {
            Some(why) => Err(AppError::Rejected(why)),
            None => Ok(()),
        }
    }

    /// Whether an engine holds this database's lease at `now` (its heartbeat keeps the lease from
    /// expiring): if none does, a queued job waits until one starts.
    pub fn engine_running(&mut self, now: crate::domain::time::Millis) -> Result<bool> {
        Ok(crate::store::engine_lease::current(self.store.conn())?
            .is_some_and(|lease| lease.expires_at >= now))
    }

    /// One job, for following a pass the operator asked for.
    pub fn job(&mut self, id: i64) -> Result<Job> {
        jobs::get(self.store.conn(), id)?.ok_or(AppError::JobNotFound(id))
    }

    /// One job with every attempt it made (start, end, outcome, message) and the effects it recorded.
    pub fn job_detail(&mut self, id: i64) -> Result<JobDetail> {
        self.store
            .snapshot(|tx| jobs::detail(tx, id).map_err(AppError::from))?
            .ok_or(AppError::JobNotFound(id))
    }
}

/// An operator's decision about a job, in the audit log next to the changes the job itself wrote.
pub(crate) fn audit(
    tx: &rusqlite::Connection,
    before: &Job,
    after: &Job,
    why: &str,
    by: &str,
    now: crate::domain::time::Millis,
) -> Result<()> {
    let what = match &before.key {
        Some(key) => format!("{why} ({} {key})", before.kind),
        None => format!("{why} ({})", before.kind),
    };
    sync_log::record(
        tx,
        &Change {
            source: "operator",
            entity: "job",
            entity_key: &before.id.to_string(),
            field: "state",
            old_value: Some(before.state.as_str()),
            new_value: Some(after.state.as_str()),
            reason: Some(&what),
            actor: Some(by),
            job_id: Some(before.id),
        },
        now,
    )?;
    Ok(())
}
