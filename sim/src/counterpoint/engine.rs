//! Runs one client's requests against the SQLite shop database as SQL Server would: batches that go on
//! after statement-level errors, named transactions and savepoints, XACT_ABORT, typing of result columns
//! (declared schema type, else SQL Server's type of the expression, else the values), and SQLite's errors
//! turned into SQL Server's numbers and texts.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rusqlite::types::Value;

use super::functions;
use super::sql::{self, SelectItem, SetOption, SqlError, Statement, Translated};
use super::tds::{self, ColumnMeta, DoneKind, RpcCall, RpcProc, TokenWriter, TransactionRequest};
use super::tls::SessionEncryption;
use super::types::{MAX_LEN, SqlType};

/// How long a statement waits for another session's write transaction before Msg 1222.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// Declared column types and primary keys of the shop schema, read once from SQLite.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Column name (upper case) to its declared type; the first table declaring a name wins.
    pub columns: HashMap<String, SqlType>,
    /// Table name (upper case) to its primary-key columns (upper case), in key order.
    pub primary_keys: HashMap<String, Vec<String>>,
}

impl Catalog {
    pub fn load(db: &rusqlite::Connection) -> rusqlite::Result<Catalog> {
        let mut catalog = Catalog::default();
        let tables: Vec<String> = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for table in tables {
            let mut info = db.prepare("SELECT name, type, pk FROM pragma_table_xinfo(?1)")?;
            let mut pk: Vec<(i64, String)> = Vec::new();
            for row in info.query_map([&table], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })? {
                let (name, decl, pk_index) = row?;
                if let Some(ty) = SqlType::parse(&decl) {
                    catalog
                        .columns
                        .entry(name.to_ascii_uppercase())
                        .or_insert(ty);
                }
                if pk_index > 0 {
                    pk.push((pk_index, name.to_ascii_uppercase()));
                }
            }
            pk.sort();
            catalog.primary_keys.insert(
                table.to_ascii_uppercase(),
                pk.into_iter().map(|(_, n)| n).collect(),
            );
        }
        Ok(catalog)
    }
}

pub enum Request {
    Batch(String),
    Rpc(RpcCall),
    Transaction(TransactionRequest),
}

/// Who a session is, fixed at login.
#[derive(Debug, Clone)]
pub struct SessionIdentity {
    pub database: String,
    /// `@@SPID`.
    pub spid: u32,
    /// The TDS version agreed in LOGINACK.
    pub tds_version: u32,
    pub encryption: SessionEncryption,
}

/// One TDS client's view of the database: its own SQLite connection, so transactions are per client.
pub struct Session {
    db: rusqlite::Connection,
    catalog: Arc<Catalog>,
    identity: SessionIdentity,
    /// `@@TRANCOUNT`, shared with the `cp_trancount()` function the translator calls it through.
    trancount: Arc<AtomicU32>,
    /// The outermost transaction's name, which `ROLLBACK TRAN name` may use.
    transaction_name: Option<String>,
    /// Savepoints of the open transaction, oldest first.
    savepoints: Vec<String>,
    nocount: bool,
    xact_abort: bool,
    transaction_descriptor: u64,
}

impl Session {
    pub fn open(
        path: &Path,
        catalog: Arc<Catalog>,
        identity: SessionIdentity,
    ) -> rusqlite::Result<Session> {
        let db = functions::open(path)?;
        db.busy_timeout(LOCK_TIMEOUT)?;
        let trancount = Arc::new(AtomicU32::new(0));
        let shared = Arc::clone(&trancount);
        db.create_scalar_function(
            "cp_trancount",
            0,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8,
            move |_| Ok(i64::from(shared.load(Ordering::Relaxed))),
        )?;
        // sys.dm_exec_connections shows this session's own row: how it is encrypted and which TDS it speaks.
        db.execute_batch(
            "ATTACH DATABASE ':memory:' AS sys;
             CREATE TABLE sys.dm_exec_connections (session_id SMALLINT, net_transport NVARCHAR(40),
               protocol_type NVARCHAR(40), protocol_version INT, encrypt_option NVARCHAR(40),
               auth_scheme NVARCHAR(40), client_net_address VARCHAR(48));",
        )?;
        db.execute(
            "INSERT INTO sys.dm_exec_connections VALUES (?1, 'TCP', 'TSQL', ?2, ?3, 'SQL', '127.0.0.1')",
            rusqlite::params![
                identity.spid,
                identity.tds_version,
                identity.encryption.encrypt_option()
            ],
        )?;
        Ok(Session {
            db,
            catalog,
            identity,
            trancount,
            transaction_name: None,
            savepoints: Vec::new(),
            nocount: false,
            xact_abort: false,
            transaction_descriptor: 0,
        })
    }

    pub fn database(&self) -> &str {
        &self.identity.database
    }

    pub fn tds_version(&self) -> u32 {
        self.identity.tds_version
    }

    fn trancount(&self) -> u32 {
        self.trancount.load(Ordering::Relaxed)
    }

    fn set_trancount(&self, n: u32) {
        self.trancount.store(n, Ordering::Relaxed);
    }

    /// Serves one SQL batch, RPC or transaction request and returns the complete response token stream.
    pub fn execute(&mut self, request: Request) -> Vec<u8> {
        let mut w = TokenWriter::for_version(self.identity.tds_version);
        match request {
            Request::Batch(text) => {
                self.run_batch(&text, &[], DoneKind::Done, &mut w);
                if !w.has_done() {
                    w.done(DoneKind::Done, 0, 0);
                }
            }
            Request::Rpc(call) => {
                let failed = match rpc_statement(call) {
                    Ok((text, params)) => {
                        !self.run_batch(&text, &params, DoneKind::DoneInProc, &mut w)
                    }
                    Err(e) => {
                        write_error(&mut w, &e);
                        true
                    }
                };
                w.return_status(i32::from(failed));
                w.done(
                    DoneKind::DoneProc,
                    if failed { tds::DONE_ERROR } else { 0 },
                    0,
                );
            }
            Request::Transaction(request) => {
                let named = |name: String| (!name.is_empty()).then_some(name);
                let (statement, begin_after) = match request {
                    TransactionRequest::Begin { name } => {
                        (Statement::BeginTransaction { name: named(name) }, false)
                    }
                    TransactionRequest::Commit { begin_after, .. } => {
                        (Statement::Commit, begin_after)
                    }
                    TransactionRequest::Rollback { name, begin_after } => {
                        (Statement::Rollback { name: named(name) }, begin_after)
                    }
                    TransactionRequest::Save { name } => (Statement::Save { name }, false),
                };
                let mut outcome = self.run(&statement, &[], DoneKind::Done, &mut w);
                if outcome.is_ok() && begin_after {
                    outcome = self.run(
                        &Statement::BeginTransaction { name: None },
                        &[],
                        DoneKind::Done,
                        &mut w,
                    );
                }
                if let Err(e) = outcome {
                    write_error(&mut w, &e);
                    w.done(DoneKind::Done, tds::DONE_ERROR, 0);
                }
            }
        }
        w.finish()
    }

    /// Runs a batch as SQL Server does: a compile error runs nothing; a run-time error ends only its
    /// statement (XACT_ABORT OFF, the default) unless it is one that aborts the batch (conversion errors,
    /// missing objects); with XACT_ABORT ON any error ends the batch and rolls the transaction back.
    /// Returns false when any statement failed.
    fn run_batch(
        &mut self,
        text: &str,
        params: &[Param],
        kind: DoneKind,
        w: &mut TokenWriter,
    ) -> bool {
        let meta: Vec<(String, Option<SqlType>)> = params
            .iter()
            .map(|p| (p.name.clone(), p.sql_type))
            .collect();
        let values: Vec<Value> = params.iter().map(|p| p.value.clone()).collect();
        let ctx = sql::Context {
            params: &meta,
            columns: &self.catalog.columns,
            database: &self.identity.database,
            spid: self.identity.spid,
            encrypt_option: self.identity.encryption.encrypt_option(),
        };
        let statements = match sql::parse_batch(text, &ctx) {
            Ok(statements) => statements,
            Err(e) => {
                write_error(w, &e);
                w.done(kind, tds::DONE_ERROR, 0);
                return false;
            }
        };
        let mut clean = true;
        for statement in &statements {
            let Err(e) = self.run(statement, &values, kind, w) else {
                continue;
            };
            clean = false;
            write_error(w, &e);
            w.done(kind, tds::DONE_ERROR, 0);
            if self.xact_abort || e.number == 1205 {
                self.abandon_transaction(w);
                return false;
            }
            if e.aborts_batch() {
                return false;
            }
        }
        clean
    }

    /// Rolls back whatever transaction is open (XACT_ABORT, deadlock victim) and tells the client.
    fn abandon_transaction(&mut self, w: &mut TokenWriter) {
        if self.trancount() > 0 {
            let _ = self.db.execute_batch("ROLLBACK");
            self.end_transaction(false, w);
        }
    }

    fn end_transaction(&mut self, committed: bool, w: &mut TokenWriter) {
        self.set_trancount(0);
        self.transaction_name = None;
        self.savepoints.clear();
        w.env_end_transaction(committed, self.transaction_descriptor);
    }

    fn count_flag(&self) -> u16 {
        if self.nocount { 0 } else { tds::DONE_COUNT }
    }

    fn run(
        &mut self,
        statement: &Statement,
        values: &[Value],
        kind: DoneKind,
        w: &mut TokenWriter,
    ) -> Result<(), SqlError> {
        match statement {
            Statement::Set(option) => match option {
                SetOption::NoCount(on) => self.nocount = *on,
                SetOption::XactAbort(on) => self.xact_abort = *on,
                SetOption::Other => {}
            },
            Statement::BeginTransaction { name } => {
                if self.trancount() == 0 {
                    // IMMEDIATE takes the write lock up front, like UPDLOCK: two sessions cannot deadlock upgrading.
                    self.db
                        .execute_batch("BEGIN IMMEDIATE")
                        .map_err(|e| self.map_error(&e))?;
                    self.transaction_descriptor += 1;
                    self.transaction_name = name.clone();
                    w.env_begin_transaction(self.transaction_descriptor);
                }
                self.set_trancount(self.trancount() + 1);
                w.done(kind, 0, 0);
            }
            Statement::Commit => {
                if self.trancount() == 0 {
                    return Err(SqlError::new(
                        3902,
                        "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION.",
                    ));
                }
                if self.trancount() == 1 {
                    self.db
                        .execute_batch("COMMIT")
                        .map_err(|e| self.map_error(&e))?;
                    self.end_transaction(true, w);
                } else {
                    self.set_trancount(self.trancount() - 1);
                }
                w.done(kind, 0, 0);
            }
            Statement::Rollback { name } => {
                if self.trancount() == 0 {
                    return Err(SqlError::new(
                        3903,
                        "The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.",
                    ));
                }
                let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
                let whole = match name {
                    None => true,
                    Some(n) => self.transaction_name.as_deref().is_some_and(|t| same(t, n)),
                };
                if whole {
                    self.db
                        .execute_batch("ROLLBACK")
                        .map_err(|e| self.map_error(&e))?;
                    self.end_transaction(false, w);
                } else {
                    let name = name.as_deref().unwrap_or_default();
                    let Some(at) = self.savepoints.iter().rposition(|s| same(s, name)) else {
                        return Err(SqlError::new(
                            6401,
                            format!(
                                "Cannot roll back {name}. No transaction or savepoint of that name was found."
                            ),
                        ));
                    };
                    self.db
                        .execute_batch(&format!("ROLLBACK TO {}", sql::quote_ident(name)))
                        .map_err(|e| self.map_error(&e))?;
                    // The savepoint itself stays; later ones are gone.
                    self.savepoints.truncate(at + 1);
                }
                w.done(kind, 0, 0);
            }
            Statement::Save { name } => {
                if self.trancount() == 0 {
                    return Err(SqlError::new(
                        628,
                        "Cannot issue SAVE TRANSACTION when there is no active transaction.",
                    ));
                }
                self.db
                    .execute_batch(&format!("SAVEPOINT {}", sql::quote_ident(name)))
                    .map_err(|e| self.map_error(&e))?;
                self.savepoints.push(name.clone());
                w.done(kind, 0, 0);
            }
            Statement::Query(translated) => self.query(translated, values, kind, w)?,
            Statement::If { condition, body } => {
                let holds: i64 = {
                    let mut stmt = self
                        .db
                        .prepare_cached(&condition.sql)
                        .map_err(|e| self.map_error(&e))?;
                    bind(&mut stmt, values).map_err(|e| self.map_error(&e))?;
                    let mut rows = stmt.raw_query();
                    match rows.next().map_err(|e| self.map_error(&e))? {
                        Some(row) => row.get(0).map_err(|e| self.map_error(&e))?,
                        None => 0,
                    }
                };
                if holds != 0 {
                    self.run(body, values, kind, w)?;
                } else {
                    w.done(kind, 0, 0);
                }
            }
        }
        Ok(())
    }

    fn query(
        &self,
        t: &Translated,
        values: &[Value],
        kind: DoneKind,
        w: &mut TokenWriter,
    ) -> Result<(), SqlError> {
        let mut stmt = self
            .db
            .prepare_cached(&t.sql)
            .map_err(|e| self.map_error(&e))?;
        bind(&mut stmt, values).map_err(|e| self.map_error(&e))?;
        if stmt.column_count() == 0 {
            let changed = stmt.raw_execute().map_err(|e| self.map_error(&e))?;
            w.done(kind, self.count_flag(), changed as u64);
            return Ok(());
        }
        let declared: Vec<(String, Option<String>)> = stmt
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), c.decl_type().map(str::to_string)))
            .collect();
        let mut data: Vec<Vec<Value>> = Vec::new();
        {
            let mut rows = stmt.raw_query();
            while let Some(row) = rows.next().map_err(|e| self.map_error(&e))? {
                let values = (0..declared.len())
                    .map(|i| row.get::<_, Value>(i))
                    .collect::<rusqlite::Result<Vec<_>>>();
                data.push(values.map_err(|e| self.map_error(&e))?);
            }
        }
        let items = t
            .select_items
            .as_ref()
            .filter(|items| items.len() == declared.len());
        let columns: Vec<ColumnMeta> = declared
            .iter()
            .enumerate()
            .map(|(i, (name, decl))| {
                column_meta(
                    name,
                    decl.as_deref(),
                    items.map(|it| &it[i]),
                    data.iter().map(|r| &r[i]),
                )
            })
            .collect();
        w.col_metadata(&columns);
        for row in &data {
            w.row(&columns, row)
                .map_err(|e| SqlError::new(e.number(), e.to_string()))?;
        }
        w.done(kind, self.count_flag(), data.len() as u64);
        Ok(())
    }

    fn map_error(&self, err: &rusqlite::Error) -> SqlError {
        map_sqlite_error(err, &self.catalog)
    }
}

fn write_error(w: &mut TokenWriter, e: &SqlError) {
    w.error(e.number, e.state, e.class, &e.message);
}

fn bind(stmt: &mut rusqlite::Statement<'_>, values: &[Value]) -> rusqlite::Result<()> {
    for index in 1..=stmt.parameter_count() {
        stmt.raw_bind_parameter(index, values.get(index - 1).unwrap_or(&Value::Null))?;
    }
    Ok(())
}

/// A bound `@name` parameter of sp_executesql.
#[derive(Debug, Clone)]
struct Param {
    name: String,
    value: Value,
    sql_type: Option<SqlType>,
}

/// sp_executesql's first argument is the statement, the second the `@P1 int, ...` declaration list.
fn rpc_statement(call: RpcCall) -> Result<(String, Vec<Param>), SqlError> {
    let is_executesql = match &call.procedure {
        RpcProc::Id(id) => *id == tds::PROC_SP_EXECUTESQL,
        RpcProc::Name(name) => name.eq_ignore_ascii_case("sp_executesql"),
    };
    if !is_executesql {
        let name = match call.procedure {
            RpcProc::Id(id) => format!("proc id {id}"),
            RpcProc::Name(name) => name,
        };
        return Err(SqlError::new(
            2812,
            format!("Could not find stored procedure '{name}'."),
        ));
    }
    let mut args = call.params.into_iter();
    let text = match args.next().map(|p| p.value) {
        Some(Value::Text(t)) => t,
        _ => {
            return Err(SqlError::new(
                214,
                "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'.",
            ));
        }
    };
    let declared = match args.next().map(|p| p.value) {
        Some(Value::Text(d)) => parse_declarations(&d),
        _ => HashMap::new(),
    };
    let params = args
        .map(|p| {
            let sql_type = declared
                .get(&p.name.to_ascii_uppercase())
                .copied()
                .or(p.sql_type);
            Param {
                name: p.name,
                value: p.value,
                sql_type,
            }
        })
        .collect();
    Ok((text, params))
}

/// `@P1 int,@P2 numeric(10,2)` → name (upper case) to type.
fn parse_declarations(list: &str) -> HashMap<String, SqlType> {
    list.split('@')
        .filter_map(|part| {
            let part = part.trim().trim_end_matches(',').trim();
            let (name, ty) = part.split_once(char::is_whitespace)?;
            let ty = ty.trim();
            let ty = ty
                .strip_suffix("OUTPUT")
                .or_else(|| ty.strip_suffix("output"))
                .map_or(ty, str::trim);
            Some((
                format!("@{}", name.to_ascii_uppercase()),
                SqlType::parse(ty)?,
            ))
        })
        .collect()
}

/// How a SQLite result column becomes a TDS column:
/// 1. A column read straight from a table has its declared type (the schema uses SQL Server type names:
///    `BIGINT` → INTN(8) / i64, `DECIMAL(15,4)` → DECIMALN / Decimal, `MONEY` → MONEYN / f64, `DATETIME`
///    → DATETIMEN / NaiveDateTime, `VARCHAR(n)` → BigVarChar code page 1252 / &str, `BIT`, `INT`, …).
/// 2. An expression column takes the type of a parameter it is (`SELECT @P1`), of its `CAST`/`CONVERT`,
///    of the column under `SUM`/`MIN`/`MAX`/`ISNULL`/`COALESCE` (`SUM` of decimal(p,s) is decimal(38,s)),
///    int for `COUNT`, datetime for `GETDATE()`/`DATEADD`.
/// 3. Otherwise the values decide (see `infer_type`). Every column is reported nullable.
fn column_meta<'a>(
    name: &str,
    declared: Option<&str>,
    item: Option<&SelectItem>,
    values: impl Iterator<Item = &'a Value>,
) -> ColumnMeta {
    let declared_type = declared.and_then(SqlType::parse);
    let sql_type = declared_type
        .or(item.and_then(|i| i.hint))
        .unwrap_or_else(|| infer_type(values));
    let unnamed = declared_type.is_none() && item.is_some_and(|i| !i.named);
    ColumnMeta {
        name: if unnamed {
            String::new()
        } else {
            name.to_string()
        },
        sql_type,
        nullable: true,
    }
}

/// Expression columns without a hint: text → nvarchar, any real → float, integers → int or bigint,
/// blobs → varbinary; all-NULL → int, as SQL Server types `SELECT NULL`.
fn infer_type<'a>(values: impl Iterator<Item = &'a Value>) -> SqlType {
    let (mut text_len, mut has_text, mut has_real, mut has_blob, mut wide) =
        (0usize, false, false, false, false);
    for value in values {
        match value {
            Value::Text(t) => {
                has_text = true;
                text_len = text_len.max(t.encode_utf16().count() * 2);
            }
            Value::Real(_) => has_real = true,
            Value::Blob(b) => {
                has_blob = true;
                text_len = text_len.max(b.len());
            }
            Value::Integer(i) => wide |= i32::try_from(*i).is_err(),
            Value::Null => {}
        }
    }
    let max_len = if text_len > 8000 { MAX_LEN } else { 8000 };
    if has_text {
        SqlType::NVarChar { max_len }
    } else if has_blob {
        SqlType::VarBinary { max_len }
    } else if has_real {
        SqlType::Float
    } else if wide {
        SqlType::BigInt
    } else {
        SqlType::Int
    }
}

fn quoted_name(message: &str) -> String {
    message.split('"').nth(1).unwrap_or(message).to_string()
}

/// SQLite's messages mapped to the SQL Server errors a client would see for the same mistake; nothing of
/// SQLite's wording reaches the client (the original goes to the simulator's log).
pub fn map_sqlite_error(err: &rusqlite::Error, catalog: &Catalog) -> SqlError {
    let message = match err {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        // Without the " in <sql> at offset n" that rusqlite's Display adds.
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    };
    if let Some((number, text)) = functions::decode(&message) {
        return SqlError::new(number, text);
    }
    let after = |prefix: &str| message.strip_prefix(prefix).map(str::trim);
    if let Some(table) = after("no such table:") {
        return SqlError::new(208, format!("Invalid object name '{table}'."));
    }
    if let Some(column) = after("no such column:") {
        let column = column.rsplit('.').next().unwrap_or(column);
        return SqlError::new(207, format!("Invalid column name '{column}'."));
    }
    if message.starts_with("cannot UPDATE generated column")
        || message.starts_with("cannot INSERT into generated column")
    {
        return SqlError::new(
            271,
            format!(
                "The column \"{}\" cannot be modified because it is either a computed column or is the result of a UNION operator.",
                quoted_name(&message)
            ),
        );
    }
    if let Some(cols) = after("UNIQUE constraint failed:") {
        let pairs: Vec<(&str, &str)> = cols
            .split(',')
            .filter_map(|c| c.trim().split_once('.'))
            .collect();
        let table = pairs.first().map_or("", |p| p.0).to_string();
        let columns: Vec<String> = pairs.iter().map(|p| p.1.to_ascii_uppercase()).collect();
        if catalog.primary_keys.get(&table.to_ascii_uppercase()) == Some(&columns) {
            let mut e = SqlError::new(
                2627,
                format!(
                    "Violation of PRIMARY KEY constraint 'PK_{table}'. Cannot insert duplicate key in object 'dbo.{table}'."
                ),
            );
            e.class = 14;
            return e;
        }
        let mut e = SqlError::new(
            2601,
            format!(
                "Cannot insert duplicate key row in object 'dbo.{table}' with unique index 'IX_{table}_{}'.",
                columns.join("_")
            ),
        );
        e.class = 14;
        return e;
    }
    if let Some(col) = after("NOT NULL constraint failed:") {
        let (table, column) = col.split_once('.').unwrap_or(("", col));
        let mut e = SqlError::new(
            515,
            format!(
                "Cannot insert the value NULL into column '{column}', table 'CPSQL.dbo.{table}'; column does not allow nulls. INSERT fails."
            ),
        );
        e.state = 2;
        return e;
    }
    if message.ends_with("syntax error") {
        return SqlError::syntax(&quoted_name(&message));
    }
    if message == "incomplete input" {
        return SqlError::new(102, "Incorrect syntax near the end of the statement.");
    }
    if let Some(function) = after("no such function:") {
        let mut e = SqlError::new(
            195,
            format!("'{function}' is not a recognized built-in function name."),
        );
        e.class = 15;
        return e;
    }
    if message.contains("database is locked") || message.contains("database table is locked") {
        return SqlError::new(1222, "Lock request time out period exceeded.");
    }
    if let Some(name) = after("CHECK constraint failed:") {
        return SqlError::new(
            547,
            format!(
                "The INSERT statement conflicted with the CHECK constraint \"{name}\". The conflict occurred in database \"CPSQL\"."
            ),
        );
    }
    if let Some(column) = after("ambiguous column name:") {
        return SqlError::new(209, format!("Ambiguous column name '{column}'."));
    }
    if let Some(function) = message
        .strip_prefix("wrong number of arguments to function ")
        .map(|f| f.trim_end_matches("()"))
    {
        return SqlError::new(
            174,
            format!(
                "The {} function requires a different number of arguments.",
                function.to_ascii_uppercase()
            ),
        );
    }
    if message.contains("values were supplied") || message.contains("values for") {
        return SqlError::new(
            213,
            "Column name or number of supplied values does not match table definition.",
        );
    }
    if message.starts_with("misuse of aggregate") {
        return SqlError::new(
            147,
            "An aggregate may not appear in the WHERE clause unless it is in a subquery contained in a HAVING clause or a select list, and the column being aggregated is an outer reference.",
        );
    }
    if message.contains("integer overflow") {
        return SqlError::new(
            8115,
            "Arithmetic overflow error converting expression to data type bigint.",
        );
    }
    if message.contains("no such savepoint") {
        return SqlError::new(
            6401,
            "Cannot roll back. No transaction or savepoint of that name was found.",
        );
    }
    tracing::warn!(sqlite = %message, "Counterpoint simulator: an error SQL Server would word differently");
    SqlError::new(
        8180,
        "Statement(s) could not be prepared. The Counterpoint simulator does not support this statement.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_batches_against_the_shop_never_panic() {
        let path = std::env::temp_dir().join(format!("cp-engine-fuzz-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let _shop = super::super::shop::Shop::create(&path, 5, 3).unwrap();
        let catalog = Arc::new(Catalog::load(&functions::open(&path).unwrap()).unwrap());
        let identity = SessionIdentity {
            database: "CPSQL".into(),
            spid: 51,
            tds_version: tds::TDS_74,
            encryption: SessionEncryption::Clear,
        };
        let mut session = Session::open(&path, catalog, identity).unwrap();
        let vocabulary = [
            "SELECT",
            "TOP 2",
            "*",
            "ITEM_NO",
            "QTY_AVAIL",
            "SUM(QTY_ON_HND)",
            "FROM",
            "IM_INV",
            "IM_ITEM",
            "WHERE",
            "=",
            "'SKU-10001'",
            "1",
            "UPDATE",
            "SET",
            "QTY_AVAIL = 1",
            "QTY_COMMIT = 2",
            "BEGIN TRAN",
            "COMMIT",
            "ROLLBACK",
            ";",
            "GROUP BY ITEM_NO",
            "ORDER BY 1",
            "CAST(1 AS bit)",
            "GETDATE()",
            ",",
            "INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('X', 'Y')",
            "DELETE FROM AR_CUST",
            "NULL",
            "'abc'",
        ];
        let mut rng = fastrand::Rng::with_seed(5);
        for _ in 0..400 {
            let len = rng.usize(1..10);
            let text: Vec<&str> = (0..len)
                .map(|_| vocabulary[rng.usize(0..vocabulary.len())])
                .collect();
            let response = session.execute(Request::Batch(text.join(" ")));
            assert!(!response.is_empty());
        }
        drop(session);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    #[test]
    fn declarations_keep_precision_commas() {
        let d = parse_declarations("@P1 int,@P2 numeric(10,2),@P3 nvarchar(4000)");
        assert_eq!(d["@P1"], SqlType::Int);
        assert_eq!(
            d["@P2"],
            SqlType::Decimal {
                precision: 10,
                scale: 2
            }
        );
        assert_eq!(d["@P3"], SqlType::NVarChar { max_len: 8000 });
    }

    #[test]
    fn infers_expression_types() {
        let vals = [Value::Integer(1), Value::Null];
        assert_eq!(infer_type(vals.iter()), SqlType::Int);
        let vals = [Value::Integer(1 << 40)];
        assert_eq!(infer_type(vals.iter()), SqlType::BigInt);
        let vals = [Value::Integer(1), Value::Real(0.5)];
        assert_eq!(infer_type(vals.iter()), SqlType::Float);
        assert_eq!(
            infer_type([Value::Text("x".into())].iter()),
            SqlType::NVarChar { max_len: 8000 }
        );
    }

    #[test]
    fn maps_sqlite_errors() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch(
            "CREATE TABLE T (A INT NOT NULL PRIMARY KEY, B DECIMAL(15,4), C DECIMAL(16,4) GENERATED ALWAYS AS (B * 2) VIRTUAL);
             INSERT INTO T (A, B) VALUES (1, 2);",
        )
        .unwrap();
        let catalog = Catalog::load(&db).unwrap();
        let number =
            |sql: &str| map_sqlite_error(&db.execute_batch(sql).unwrap_err(), &catalog).number;
        assert_eq!(number("SELECT * FROM NOPE"), 208);
        assert_eq!(number("UPDATE T SET C = 1"), 271);
        assert_eq!(number("INSERT INTO T (A) VALUES (1)"), 2627);
        assert_eq!(number("INSERT INTO T (A) VALUES (NULL)"), 515);
        assert_eq!(number("SELECT NOPE FROM T"), 207);
        assert_eq!(
            catalog.columns["C"],
            SqlType::Decimal {
                precision: 16,
                scale: 4
            }
        );
    }
}
