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
pub mod listing;
pub mod marketplace;
pub mod orders;
pub mod panels;
pub mod pass_lease;
pub mod pos_reductions;
pub mod report;
pub mod schema;
pub mod statuses;
pub mod sync_log;
pub mod trace;
pub mod watermarks;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::ffi::ErrorCode;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use serde::Serialize;

use crate::domain::time::{Millis, now_ms};

pub use jobs::{Job, JobState, NewJob};
pub use orders::{
    HistoryEntry, NewOrder, OrderFilter, OrderLine, OrderRow, OrderSummary, Shipment, ShipmentLine,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}", describe_sqlite(.0))]
    Sqlite(#[from] rusqlite::Error),
    /// Opening failed; names the file so a wrong `--db` or a permission problem is obvious.
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        source: Box<StoreError>,
    },
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
    #[error(
        "the database {path} is read-only and was written by an older syncdesk (schema {found}, this build needs {known}); open it once with write access so it can be upgraded"
    )]
    ReadOnlyOutdated {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    /// `PRAGMA quick_check` found damage: nothing is written to a damaged file.
    #[error(
        "the database {path} is damaged (quick_check: {detail}); syncdesk will not use it. Restore it from a backup, or recover what is readable with `sqlite3 {path} .recover`; [store] quick_check = \"off\" opens it anyway"
    )]
    Damaged { path: PathBuf, detail: String },
    #[error("the database holds a value this build does not understand: {0}")]
    Corrupt(String),
}

/// Why the store cannot take writes right now: conditions to wait out, not reasons to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unavailable {
    /// Another process holds the write lock longer than `busy_timeout_ms`.
    Locked,
    /// The disk (or the configured size limit) is full.
    DiskFull,
    /// The disk answered with an I/O error, or the file can no longer be opened.
    Io,
    /// The file or its disk became read-only (permissions, a filesystem remounted read-only).
    ReadOnly,
    /// Writes fail for another reason (the engine still waits and tries again; the detail says why).
    Failing,
}

impl Unavailable {
    pub fn as_str(self) -> &'static str {
        match self {
            Unavailable::Locked => "locked by another process",
            Unavailable::DiskFull => "disk full",
            Unavailable::Io => "disk I/O error",
            Unavailable::ReadOnly => "read-only",
            Unavailable::Failing => "writes failing",
        }
    }

    fn of(code: ErrorCode) -> Option<Unavailable> {
        match code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Some(Unavailable::Locked),
            ErrorCode::DiskFull => Some(Unavailable::DiskFull),
            ErrorCode::SystemIoFailure
            | ErrorCode::CannotOpen
            | ErrorCode::FileLockingProtocolFailed => Some(Unavailable::Io),
            ErrorCode::ReadOnly | ErrorCode::PermissionDenied => Some(Unavailable::ReadOnly),
            _ => None,
        }
    }
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A store error in words an operator can act on: what is wrong with the file, not SQLite's code name.
fn describe_sqlite(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code().and_then(Unavailable::of) {
        Some(Unavailable::Locked) => format!(
            "the database is locked: another process held its write lock longer than [store] busy_timeout_ms ({e})"
        ),
        Some(Unavailable::DiskFull) => format!(
            "disk full: the database cannot grow (no space left on its disk, or [store] max_size_mb reached) ({e})"
        ),
        Some(Unavailable::Io) => format!("disk I/O error on the database ({e})"),
        Some(Unavailable::ReadOnly) => format!(
            "the database is read-only (file permissions, or its disk was remounted read-only) ({e})"
        ),
        Some(Unavailable::Failing) | None => format!("database: {e}"),
    }
}

impl StoreError {
    /// The condition behind this error when it is one to wait out (locked, full, I/O, read-only).
    pub fn unavailable(&self) -> Option<Unavailable> {
        match self {
            StoreError::Sqlite(e) => e.sqlite_error_code().and_then(Unavailable::of),
            StoreError::Open { source, .. } => source.unavailable(),
            _ => None,
        }
    }
}

/// Since when and why the store has refused writes (kept by whoever writes: the engine, the receiver).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreOutage {
    pub since: Millis,
    pub condition: Unavailable,
    /// The last error, in words.
    pub detail: String,
    /// When a write was last tried and failed.
    pub last_try: Millis,
}

impl StoreOutage {
    /// `store unavailable since <time>: <condition>`, for logs, `/health` and the console.
    pub fn headline(&self) -> String {
        format!(
            "store unavailable since {}: {}",
            crate::domain::time::to_rfc3339(self.since),
            self.condition
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How a store is opened: the `[store]` settings that apply to a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// How long a write waits for another process's write lock before failing.
    pub busy_timeout: Duration,
    /// Run `PRAGMA quick_check` on open and refuse a damaged file.
    pub quick_check: bool,
    /// The largest the file may grow to, in bytes (0: no limit). Past it writes fail as on a full disk.
    pub max_size_bytes: u64,
}

impl StoreOptions {
    /// Defaults with this busy timeout: no check on open, no size limit.
    pub fn new(busy_timeout: Duration) -> Self {
        StoreOptions {
            busy_timeout,
            quick_check: false,
            max_size_bytes: 0,
        }
    }

    /// The options `[store]` asks for, for a command or the console.
    pub fn from_config(cfg: &crate::config::StoreConfig) -> Self {
        StoreOptions {
            busy_timeout: Duration::from_millis(cfg.busy_timeout_ms),
            quick_check: cfg.quick_check == crate::config::QuickCheck::Always,
            max_size_bytes: cfg.max_size_mb.saturating_mul(1024 * 1024),
        }
    }

    /// The options `[store]` asks for, for the engine (checked unless `quick_check = "off"`).
    pub fn for_engine(cfg: &crate::config::StoreConfig) -> Self {
        StoreOptions {
            quick_check: cfg.quick_check != crate::config::QuickCheck::Off,
            ..Self::from_config(cfg)
        }
    }
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    read_only: bool,
    outage: Option<StoreOutage>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`, without the open-time check.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Store> {
        Self::open_with(path, &StoreOptions::new(busy_timeout))
    }

    /// Opens (creating if needed), checks and migrates the database at `path`. A file this process may
    /// not write (permissions, a read-only disk) is opened for reading: every query works, writes fail
    /// with [`Unavailable::ReadOnly`]. Errors name the file.
    pub fn open_with(path: &Path, options: &StoreOptions) -> Result<Store> {
        Self::open_inner(path, options).map_err(|e| match e {
            e @ (StoreError::TooNew { .. }
            | StoreError::ReadOnlyOutdated { .. }
            | StoreError::Damaged { .. }
            | StoreError::Folder { .. }
            | StoreError::Open { .. }) => e,
            source => StoreError::Open {
                path: path.to_path_buf(),
                source: Box::new(source),
            },
        })
    }

    fn open_inner(path: &Path, options: &StoreOptions) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let writable = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        );
        let conn = match writable {
            Ok(conn) if !conn.is_readonly(rusqlite::MAIN_DB)? => conn,
            // SQLite fell back to reading (the file is write-protected), or could not open it for writing
            // at all: an existing file is still worth reading.
            Ok(_) | Err(_) if path.exists() => Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?,
            Ok(conn) => conn,
            Err(e) => return Err(e.into()),
        };
        let read_only = conn.is_readonly(rusqlite::MAIN_DB)?;
        conn.busy_timeout(options.busy_timeout)?;
        // Refuse a file from a newer build before changing anything about it (even its journal mode).
        let found = schema::check_not_newer(&conn, path)?;
        if options.quick_check {
            check_intact(&conn, path)?;
        }
        if options.max_size_bytes > 0 {
            let page_size: u64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            let pages = (options.max_size_bytes / page_size.max(512)).max(1);
            // SQLite never lowers the limit below the file's current size; it then reports "full" on growth.
            conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))?;
        }
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            read_only,
            outage: None,
        };
        if read_only {
            if found < schema::current_version() {
                return Err(StoreError::ReadOnlyOutdated {
                    path: path.to_path_buf(),
                    found,
                    known: schema::current_version(),
                });
            }
            store.conn.pragma_update(None, "foreign_keys", "ON")?;
            return Ok(store);
        }
        // WAL lets consoles read while the engine writes; NORMAL sync is durable across process crashes
        // (only an OS crash can lose the last commits), which is the trade every WAL deployment makes.
        store.conn.pragma_update(None, "journal_mode", "WAL")?;
        store.conn.pragma_update(None, "synchronous", "NORMAL")?;
        store.conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut store.conn, &store.path)?;
        Ok(store)
    }

    /// True when the file was opened for reading only (writes fail with [`Unavailable::ReadOnly`]).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Since when writes have failed for a reason to wait out, if they do now (see [`Store::note_error`]).
    pub fn outage(&self) -> Option<&StoreOutage> {
        self.outage.as_ref()
    }

    /// Remembers a failed write: an outage starts (or goes on) when the error is one to wait out.
    /// Returns the outage, if the error was one.
    pub fn note_error(&mut self, error: &StoreError) -> Option<&StoreOutage> {
        note_outage(&mut self.outage, error)
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
        let writes = matches!(behavior, TransactionBehavior::Immediate) && commit;
        let tx = match self.conn.transaction_with_behavior(behavior) {
            Ok(tx) => tx,
            Err(e) => {
                let e = StoreError::from(e);
                note_outage(&mut self.outage, &e);
                return Err(e.into());
            }
        };
        let out = f(&tx);
        let ended = match (&out, commit) {
            (Ok(_), true) => tx.commit(),
            // A full disk or an I/O error inside the transaction makes SQLite roll it back by itself: the
            // error that did it says why, not the "no transaction is active" of rolling back again.
            (Err(_), _) if tx.is_autocommit() => Ok(()),
            _ => tx.rollback(),
        };
        if let Err(e) = ended {
            let e = StoreError::from(e);
            note_outage(&mut self.outage, &e);
            if out.is_ok() {
                return Err(e.into());
            }
            tracing::warn!(error = %e, "rolling back a failed transaction failed too");
        }
        if writes
            && out.is_ok()
            && let Some(o) = self.outage.take()
        {
            tracing::info!(since = %crate::domain::time::to_rfc3339(o.since), "the store takes writes again");
        }
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

/// `PRAGMA quick_check`: the file's pages and indexes are consistent (reads every page once, O(size)).
fn check_intact(conn: &Connection, path: &Path) -> Result<()> {
    let mut stmt = conn.prepare("PRAGMA quick_check(5)")?;
    let problems: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect())
        .or_else(|e| match e.sqlite_error_code() {
            // A file too damaged to even run the check is damaged.
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => Ok(vec![e.to_string()]),
            _ => Err(e),
        })?;
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    Err(StoreError::Damaged {
        path: path.to_path_buf(),
        detail: problems.join("; "),
    })
}

/// Starts or continues an outage when `error` is one to wait out.
fn note_outage<'a>(
    outage: &'a mut Option<StoreOutage>,
    error: &StoreError,
) -> Option<&'a StoreOutage> {
    let condition = error.unavailable()?;
    let now = now_ms();
    let since = outage.as_ref().map_or(now, |o| o.since);
    *outage = Some(StoreOutage {
        since,
        condition,
        detail: error.to_string(),
        last_try: now,
    });
    outage.as_ref()
}
