//! The one facade every face (CLI, console, HTTP) goes through. Commands change state in exactly one store
//! transaction, appending history and enqueuing jobs in that same transaction; queries return plain snapshots.
//! Nothing here touches the network: side effects are jobs the engine runs later.

pub mod alerts;
pub mod alignment;
pub mod channel_orders;
pub mod console;
mod effects;
pub mod inbound;
pub mod job_targets;
pub mod jobs;
pub mod orders;
pub mod panels;
mod passes;
pub mod preview;
pub mod report;
mod roles;
pub mod settle;
pub mod stock;
pub mod trace;

use std::path::Path;

use crate::config::Config;
use crate::domain::{Role, ShipmentError, TransitionError, Workflow};
use crate::store::{Store, StoreError, StoreOptions, statuses};

pub use alerts::{ALERTS_DIGEST, ALERTS_EMAIL_IMMEDIATE, raise_and_notify};
pub use channel_orders::{ChannelOrder, ImportOutcome};
pub(crate) use effects::push_again;
pub use jobs::{SyncPass, SyncRequested};
pub use orders::{HistoryView, OrderDetail, ShipmentDetails, StatusChange, StatusSummary};
pub use passes::{PassHere, check_all};
pub use preview::StatusPreview;
pub use settle::{Keep, Settled};
pub use stock::{
    Resolution, Resolved, ResolvedConflict, ResolvedPrice, STOCK_APPLY_RESOLUTION, STOCK_FULL,
    STOCK_INCREMENTAL, STOCK_PRICES, Winner,
};

/// Who is acting, and through what: an operator at the console, the engine, or a channel's inbound event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    /// `operator`, `engine`, or a channel/system name (an integration's `name`).
    pub source: String,
    /// What this actor may do. `None`: settled when an App takes the actor on — an operator's from `[roles]`,
    /// the engine's and a system's admin; a face pins one with [`Actor::with_role`] (`--readonly`: viewer).
    pub role: Option<Role>,
}

impl Actor {
    pub fn operator(name: impl Into<String>) -> Self {
        Actor {
            name: name.into(),
            source: "operator".into(),
            role: None,
        }
    }

    /// The same actor pinned to `role`, whatever `[roles]` says.
    pub fn with_role(self, role: Role) -> Self {
        Actor {
            role: Some(role),
            ..self
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request was understood and refused (bad input, forbidden move): exit code 2.
    #[error("{0}")]
    Rejected(String),
    #[error("no order {0}")]
    OrderNotFound(String),
    #[error("no job {0}")]
    JobNotFound(i64),
    /// Another process changed the order after the caller loaded it.
    #[error("order {number} changed since you loaded it (by {by} at {at})")]
    Stale {
        number: String,
        by: String,
        at: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    /// 2 for anything the caller can fix by asking differently, 1 for failures.
    pub fn exit_code(&self) -> i32 {
        match self {
            AppError::Store(_) => 1,
            _ => 2,
        }
    }

    fn rejected(context: &str, err: impl std::fmt::Display) -> Self {
        AppError::Rejected(format!("{context}: {err}"))
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::Store(StoreError::from(e))
    }
}

impl From<TransitionError> for AppError {
    fn from(e: TransitionError) -> Self {
        AppError::Rejected(e.to_string())
    }
}

impl From<ShipmentError> for AppError {
    fn from(e: ShipmentError) -> Self {
        AppError::Rejected(e.to_string())
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

pub struct App {
    store: Store,
    workflow: Workflow,
    config: Config,
    actor: Actor,
}

impl App {
    /// Opens the database, migrates it and seeds the configured statuses.
    pub fn open(db: &Path, config: Config, actor: Actor) -> Result<App> {
        let mut store = Store::open_with(db, &StoreOptions::from_config(&config.store))?;
        let wanted = config.statuses.to_workflow().map_err(AppError::Rejected)?;
        // Written only when the config changed them, so reading works on a locked or read-only database.
        let workflow = match statuses::load(store.conn())? {
            current if current == wanted => current,
            _ => store.write(|tx| -> Result<Workflow> {
                if statuses::load(tx)? != wanted {
                    statuses::seed(tx, &wanted)?;
                }
                Ok(statuses::load(tx)?)
            })?,
        };
        let actor = roles::with_role(actor, &config);
        Ok(App {
            store,
            workflow,
            config,
            actor,
        })
    }

    pub fn workflow(&self) -> &Workflow {
        &self.workflow
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Acts as `actor` from now on, in the role `[roles]` gives them (or the one pinned on them).
    pub fn set_actor(&mut self, actor: Actor) {
        self.actor = roles::with_role(actor, &self.config);
    }

    pub fn store(&mut self) -> &mut Store {
        &mut self.store
    }
}
