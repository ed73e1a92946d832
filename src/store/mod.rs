//! The store: the only code that touches SQLite. One file holds every fact (orders, history, jobs, links…)
//! and acts as the bus between the console, the CLI and the engine, even across processes.
//! Writes go through [`Store::write`], one `BEGIN IMMEDIATE` transaction per command, so a command's state
//! change, its history and the jobs it enqueues land together or not at all (transactional outbox).

pub mod alerts;
pub mod back_office;
pub mod bulk;
pub mod console;
pub mod engine_lease;
pub mod inbound;
pub mod inventory;
pub mod jobs;
pub mod links;
pub mod marketplace;
pub mod orders;
pub mod pos_reductions;
pub mod report;
pub mod schema;
pub mod statuses;
pub mod sync_log;
pub mod watermarks;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

pub use jobs::{Job, JobState, NewJob};
pub use orders::{
    HistoryEntry, NewOrder, OrderFilter, OrderLine, OrderRow, OrderSummary, Shipment, ShipmentLine,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the database {path} was written by a newer syncdesk (schema {found}, this build knows {known}); upgrade syncdesk"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("the database holds a value this build does not understand: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(busy_timeout)?;
        // Refuse a file from a newer build before changing anything about it (even its journal mode).
        schema::check_not_newer(&conn, path)?;
        // WAL lets consoles read while the engine writes; NORMAL sync is durable across process crashes
        // (only an OS crash can lose the last commits), which is the trade every WAL deployment makes.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        schema::migrate(&mut store.conn, &store.path)?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`: takes the write lock up front, so two writers
    /// never deadlock on a read-to-write upgrade). Commits on `Ok`, rolls back on `Err`.
    pub fn write<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.transaction(TransactionBehavior::Immediate, true, f)
    }

    /// Runs `f` in a write transaction and always rolls it back: a dry run sees exactly what a real run
    /// would do (same code, same reads of its own writes) and leaves nothing behind.
    pub fn dry_run<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.transaction(TransactionBehavior::Immediate, false, f)
    }

    /// Runs `f` inside a read transaction, so all its queries see one consistent state.
    pub fn snapshot<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.transaction(TransactionBehavior::Deferred, true, f)
    }

    fn transaction<T, E: From<StoreError>>(
        &mut self,
        behavior: TransactionBehavior,
        commit: bool,
        f: impl FnOnce(&Transaction<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self
            .conn
            .transaction_with_behavior(behavior)
            .map_err(StoreError::from)?;
        let out = f(&tx);
        match (&out, commit) {
            (Ok(_), true) => tx.commit(),
            _ => tx.rollback(),
        }
        .map_err(StoreError::from)?;
        out
    }

    /// Read access; a multi-statement read that must be consistent should use [`Store::snapshot`].
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Changes whenever another connection commits; the console polls it to notice other processes' writes.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }
}
