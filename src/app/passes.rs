//! Passes and checks the faces ask for, run now in this process through the engine's one entry
//! (`engine::passes`): the same pass the engine runs on schedule and when `:sync` asks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{App, SyncPass};
use crate::config::Config;
use crate::engine::JobContext;
use crate::engine::passes::{self, PassError, PassOptions, PassReport};
use crate::engine::stock_flows::{self, StockPassReport};
use crate::integrations::{CheckLine, CheckOptions};
use crate::store::Store;

/// Tries every configured system, in registry order (no database needed: a check says what works).
pub async fn check_all(config: Config, options: CheckOptions) -> Vec<CheckLine> {
    passes::check_all(Arc::new(config), options).await
}

/// A pass ready to run in this process on another thread (the console's "run it here"): it holds its own
/// connection and the config, nothing of the `App` that prepared it.
pub struct PassHere {
    pub pass: SyncPass,
    ctx: JobContext,
}

impl PassHere {
    /// Runs the pass through the one entry `sync run` uses, and reports what it did.
    pub async fn run(self) -> Result<PassReport, PassError> {
        passes::run_pass(&self.ctx, self.pass, PassOptions::default()).await
    }
}

impl App {
    /// `pass`, checked (the role, its connector) and ready to run in this process off the caller's
    /// thread — for when no engine runs this database's jobs.
    pub fn pass_here(&self, pass: SyncPass) -> super::Result<PassHere> {
        self.may_sync(pass)?;
        let ctx = self.job_context()?;
        Ok(PassHere { pass, ctx })
    }

    /// Runs `pass` now, in the foreground, and reports what it did (or, dry, would do).
    pub async fn run_pass(
        &self,
        pass: SyncPass,
        options: PassOptions,
    ) -> Result<PassReport, PassError> {
        let ctx = self.job_context().map_err(PassError::rejected)?;
        passes::run_pass(&ctx, pass, options).await
    }

    /// A dry full stock pass: the conflicts it would raise (`detected`), nothing written on either side.
    pub async fn detect_conflicts(&self) -> Result<StockPassReport, PassError> {
        let ctx = self.job_context().map_err(PassError::rejected)?;
        stock_flows::detect(&ctx).await
    }

    /// What a pass runs on: a connection of its own to this database (as the engine has), and the config.
    pub(crate) fn job_context(&self) -> Result<JobContext, crate::store::StoreError> {
        let busy = Duration::from_millis(self.config.store.busy_timeout_ms);
        let store = Store::open(self.store.path(), busy)?;
        Ok(JobContext {
            store: Arc::new(Mutex::new(store)),
            config: Arc::new(self.config.clone()),
        })
    }
}
