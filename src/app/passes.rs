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

impl App {
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
