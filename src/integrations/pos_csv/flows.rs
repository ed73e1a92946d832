//! The file-only POS flow, as a job handler: collect the web-order lines that became sales (or whose sale
//! was cancelled) since the last run, record them as one batch, and write that batch's file for the POS.
//! The store decides which lines go into which file before any file exists, so a line is never written twice.

use std::path::PathBuf;

use crate::config::Config;
use crate::domain::StatusKind;
use crate::domain::time::{Millis, now_ms};
use crate::integrations::pos_csv::client::{
    PosCsvError, Reduction, file_name_for, write_reductions,
};
use crate::store::pos_reductions::{self, Batch, LineKind, RECORDED, SaleRules, WRITTEN};
use crate::store::{Job, Store, StoreError, statuses};

use crate::engine::{BoxFuture, JobContext, JobError, JobHandler};

pub use super::WRITE_REDUCTIONS;

#[derive(Debug, thiserror::Error)]
pub enum PosCsvFlowError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Files(#[from] PosCsvError),
    #[error("pos_csv: {0}")]
    Config(String),
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReductionRun {
    /// The batch recorded by this run, if any order line was due.
    pub new_batch: Option<i64>,
    /// Files written: this run's batch, and any batch recorded earlier whose file never reached the folder.
    pub written: Vec<PathBuf>,
    /// Recorded batches whose file was already in the folder (a crash after the rename): left as is.
    pub already_present: Vec<PathBuf>,
    /// Written batches whose file has left the folder since: the POS took them in.
    pub taken: Vec<i64>,
}

/// One run: record the due lines as a batch, bring every recorded batch's file into the folder, and note
/// the files the POS has taken.
///
/// Crash safety: a batch is committed before its file is written. A crash before the rename leaves the
/// batch `recorded` with no file, and the next run writes it with the same content; a crash after the
/// rename leaves the file, which the next run keeps. The one window left is a crash after the rename AND
/// the POS taking the file before syncdesk restarts: that file would be written again.
pub fn run_write_reductions(
    store: &mut Store,
    config: &Config,
    now: Millis,
) -> Result<ReductionRun, PosCsvFlowError> {
    let section = &config.pos_csv;
    let files = &section.files;
    let mut run = ReductionRun::default();
    let new_batch = store.write(|tx| -> Result<Option<Batch>, PosCsvFlowError> {
        let rules = sale_rules(tx, config)?;
        let mut due = pos_reductions::pending_sales(tx, &rules)?;
        due.extend(pos_reductions::pending_returns(tx, &rules)?);
        if due.is_empty() {
            return Ok(None);
        }
        let lines: Vec<_> = due
            .into_iter()
            .map(|l| {
                let reason = match l.kind {
                    LineKind::Sale => format!("{} order {}", l.channel, l.order_number),
                    LineKind::Return => {
                        format!("{} order {} cancelled", l.channel, l.order_number)
                    }
                };
                (l, reason)
            })
            .collect();
        let batch = pos_reductions::record_batch(
            tx,
            &lines,
            |id| file_name_for(&files.file_pattern, id),
            now,
        )?;
        Ok(Some(batch))
    })?;
    run.new_batch = new_batch.map(|b| b.id);

    let recorded = store.snapshot(|tx| pos_reductions::batches_in(tx, RECORDED))?;
    for batch in recorded {
        let path = files.reductions_dir.join(&batch.file_name);
        let present = path.try_exists().map_err(|e| PosCsvError::Io {
            path: path.clone(),
            source: e,
        })?;
        if present {
            run.already_present.push(path);
        } else {
            let reductions: Vec<Reduction> = batch
                .lines
                .iter()
                .map(|l| Reduction {
                    order_number: l.order_number.clone(),
                    line_no: l.line_no,
                    sku: l.sku.clone(),
                    qty: l.quantity,
                    reason: l.reason.clone(),
                })
                .collect();
            let written = write_reductions(
                &files.reductions_dir,
                &batch.file_name,
                files.delimiter,
                &reductions,
            )?;
            run.written.push(written.path);
        }
        store.write(|tx| pos_reductions::mark_written(tx, batch.id, now))?;
    }

    // A folder that is gone (an unmounted share) says nothing about the files in it.
    if !files.reductions_dir.is_dir() {
        return Ok(run);
    }
    let written = store.snapshot(|tx| pos_reductions::batches_in(tx, WRITTEN))?;
    for batch in written {
        let path = files.reductions_dir.join(&batch.file_name);
        // An unreadable folder says nothing about the file: only a clear "not there" counts as taken.
        if matches!(path.try_exists(), Ok(false)) {
            store.write(|tx| pos_reductions::mark_taken(tx, batch.id, now))?;
            run.taken.push(batch.id);
        }
    }
    Ok(run)
}

/// The configured channels and sale statuses, as the store's status ids; cancelled = every status of kind
/// cancelled.
fn sale_rules(conn: &rusqlite::Connection, config: &Config) -> Result<SaleRules, PosCsvFlowError> {
    let workflow = statuses::load(conn)?;
    let sale_status_ids = config
        .pos_csv
        .sale_statuses
        .iter()
        .map(|name| {
            workflow
                .by_name(name)
                .map(|s| s.id)
                .map_err(|_| PosCsvFlowError::Config(format!("unknown sale status '{name}'")))
        })
        .collect::<Result<_, _>>()?;
    Ok(SaleRules {
        channels: config.pos_csv.channels.clone(),
        sale_status_ids,
        cancelled_status_ids: workflow
            .statuses()
            .iter()
            .filter(|s| s.kind == StatusKind::Cancelled)
            .map(|s| s.id)
            .collect(),
    })
}

/// `pos_csv.write_reductions`: one run per job (scheduled every `write_every_secs`).
pub struct WriteReductions;

impl JobHandler for WriteReductions {
    fn run<'a>(
        &'a self,
        _job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let config = ctx.config.clone();
            let run = ctx
                .with_store(move |store| {
                    run_write_reductions(store, &config, now_ms()).map_err(|e| match e {
                        PosCsvFlowError::Config(m) => JobError::permanent(m),
                        // The database is busy or the folder is unavailable: both pass.
                        other => JobError::retry(other.to_string()),
                    })
                })
                .await?;
            if !run.written.is_empty() || !run.taken.is_empty() {
                tracing::info!(
                    written = run.written.len(),
                    taken = run.taken.len(),
                    "pos reductions files"
                );
            }
            Ok(())
        })
    }
}
