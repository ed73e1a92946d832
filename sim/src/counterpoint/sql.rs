//! Translation of the T-SQL subset a Counterpoint connector sends into SQLite: tokenizing, splitting a batch
//! into statements, rewriting dialect (parameters, TOP, OFFSET/FETCH, hints, brackets, functions) and typing
//! hints for expression columns. Anything outside the subset is a SQL Server style error, never a panic.

use std::collections::HashMap;

use super::functions::COLLATION;
use super::types::SqlType;

/// A SQL Server error as it goes into an ERROR token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Msg {number}, Level {class}, State {state}: {message}")]
pub struct SqlError {
    pub number: u32,
    pub state: u8,
    pub class: u8,
    pub message: String,
}

impl SqlError {
    pub fn new(number: u32, message: impl Into<String>) -> Self {
        SqlError {
            number,
            state: 1,
            class: 16,
            message: message.into(),
        }
    }

    pub fn syntax(near: &str) -> Self {
        SqlError::new(102, format!("Incorrect syntax near '{near}'."))
    }

    /// Errors that end the whole batch even with XACT_ABORT OFF: conversion errors and what SQL Server
    /// finds while compiling (syntax, unknown objects, columns, functions, variables).
    pub fn aborts_batch(&self) -> bool {
        matches!(
            self.number,
            102 | 105
                | 110
                | 137
                | 155
                | 174
                | 195
                | 207
                | 208
                | 209
                | 213
                | 235
                | 241
                | 243
                | 245
                | 8114
                | 8169
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Str(String),
    Num(String),
    Var(String),
    SysVar(String),
    Sym(&'static str),
}

impl Tok {
    fn is_word(&self, w: &str) -> bool {
        matches!(self, Tok::Word(x) if x.eq_ignore_ascii_case(w))
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self, Tok::Sym(x) if *x == s)
    }

    fn upper_word(&self) -> Option<String> {
        match self {
            Tok::Word(w) => Some(w.to_ascii_uppercase()),
            _ => None,
        }
    }

    /// The text SQL Server would quote in "Incorrect syntax near".
    fn display(&self) -> String {
        match self {
            Tok::Word(w) | Tok::Num(w) | Tok::Var(w) => w.clone(),
            Tok::Quoted(q) => q.clone(),
            Tok::Str(s) => s.clone(),
            Tok::SysVar(v) => format!("@@{v}"),
            Tok::Sym(s) => (*s).to_string(),
        }
    }
}

const SYMBOLS: [&str; 18] = [
    "<>", "!=", "<=", ">=", "(", ")", ",", ".", ";", "=", "<", ">", "+", "-", "*", "/", "%", "|",
];

fn tokenize(sql: &str) -> Result<Vec<Tok>, SqlError> {
    let chars: Vec<char> = sql.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let take_until = |start: usize, close: char, what: &str| -> Result<(String, usize), SqlError> {
        let mut out = String::new();
        let mut j = start;
        loop {
            match chars.get(j) {
                None => {
                    return Err(SqlError::new(
                        105,
                        format!("Unclosed quotation mark after the character string '{what}'."),
                    ));
                }
                Some(&c) if c == close => {
                    if chars.get(j + 1) == Some(&close) {
                        out.push(close);
                        j += 2;
                    } else {
                        return Ok((out, j + 1));
                    }
                }
                Some(&c) => {
                    out.push(c);
                    j += 1;
                }
            }
        }
    };
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && next == Some('-') {
            while chars.get(i).is_some_and(|c| *c != '\n') {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '\'' || ((c == 'N' || c == 'n') && next == Some('\'')) {
            let start = if c == '\'' { i + 1 } else { i + 2 };
            let (s, end) = take_until(
                start,
                '\'',
                &chars[start..].iter().take(20).collect::<String>(),
            )?;
            toks.push(Tok::Str(s));
            i = end;
        } else if c == '[' {
            let (s, end) = take_until(i + 1, ']', "[")?;
            toks.push(Tok::Quoted(s));
            i = end;
        } else if c == '"' {
            let (s, end) = take_until(i + 1, '"', "\"")?;
            toks.push(Tok::Quoted(s));
            i = end;
        } else if c == '@' {
            let sys = next == Some('@');
            let start = if sys { i + 2 } else { i + 1 };
            let mut j = start;
            while chars
                .get(j)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
            {
                j += 1;
            }
            let name: String = chars[start..j].iter().collect();
            if name.is_empty() {
                return Err(SqlError::syntax("@"));
            }
            toks.push(if sys {
                Tok::SysVar(name.to_ascii_uppercase())
            } else {
                Tok::Var(format!("@{name}"))
            });
            i = j;
        } else if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) {
            let mut j = i;
            while chars
                .get(j)
                .is_some_and(|c| c.is_ascii_digit() || *c == '.')
            {
                j += 1;
            }
            if chars.get(j).is_some_and(|c| *c == 'e' || *c == 'E') {
                j += 1;
                if chars.get(j).is_some_and(|c| *c == '+' || *c == '-') {
                    j += 1;
                }
                while chars.get(j).is_some_and(|c| c.is_ascii_digit()) {
                    j += 1;
                }
            }
            toks.push(Tok::Num(chars[i..j].iter().collect()));
            i = j;
        } else if c.is_alphabetic() || c == '_' || c == '#' {
            let mut j = i;
            while chars
                .get(j)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '#' || *c == '$')
            {
                j += 1;
            }
            toks.push(Tok::Word(chars[i..j].iter().collect()));
            i = j;
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if let Some(sym) = SYMBOLS.iter().find(|s| s.len() == 2 && two == **s) {
                toks.push(Tok::Sym(sym));
                i += 2;
            } else if let Some(sym) = SYMBOLS.iter().find(|s| s.len() == 1 && s.starts_with(c)) {
                toks.push(Tok::Sym(sym));
                i += 1;
            } else {
                return Err(SqlError::syntax(&c.to_string()));
            }
        }
    }
    Ok(toks)
}

const STATEMENT_KEYWORDS: [&str; 17] = [
    "SELECT", "INSERT", "UPDATE", "DELETE", "SET", "BEGIN", "COMMIT", "ROLLBACK", "SAVE", "IF",
    "DECLARE", "MERGE", "CREATE", "DROP", "ALTER", "EXEC", "EXECUTE",
];

/// T-SQL needs no `;` between statements, so a statement keyword at depth 0 also starts a new one.
fn split_statements(tokens: Vec<Tok>) -> Vec<Vec<Tok>> {
    let mut statements = Vec::new();
    let mut current: Vec<Tok> = Vec::new();
    let mut depth = 0usize;
    let mut lead: Option<String> = None;
    let mut if_awaiting_body = false;
    let mut saw_set = false;
    let mut saw_select = false;
    for tok in tokens {
        if depth == 0 && tok.is_sym(";") {
            if !current.is_empty() {
                statements.push(std::mem::take(&mut current));
            }
            (lead, if_awaiting_body, saw_set, saw_select) = (None, false, false, false);
            continue;
        }
        if let Some(kw) = tok
            .upper_word()
            .filter(|w| depth == 0 && STATEMENT_KEYWORDS.contains(&w.as_str()))
        {
            let after_set_operator = current.last().is_some_and(|t| {
                ["UNION", "ALL", "EXCEPT", "INTERSECT"]
                    .iter()
                    .any(|w| t.is_word(w))
            });
            let starts_new = match lead.as_deref() {
                None => false,
                Some(_) if if_awaiting_body => {
                    if_awaiting_body = kw == "IF";
                    lead = Some(kw.clone());
                    false
                }
                Some("UPDATE") if kw == "SET" && !saw_set => {
                    saw_set = true;
                    false
                }
                Some("INSERT") if kw == "SELECT" && !saw_select => {
                    saw_select = true;
                    false
                }
                Some(_) if kw == "SELECT" && after_set_operator => false,
                Some(_) => true,
            };
            if starts_new {
                statements.push(std::mem::take(&mut current));
                (saw_set, saw_select) = (false, false);
                lead = None;
            }
            if lead.is_none() {
                if_awaiting_body = kw == "IF";
                lead = Some(kw);
            }
        }
        if tok.is_sym("(") {
            depth += 1;
        } else if tok.is_sym(")") {
            depth = depth.saturating_sub(1);
        }
        current.push(tok);
    }
    if !current.is_empty() {
        statements.push(current);
    }
    statements
}

/// A `SET` option the session keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOption {
    NoCount(bool),
    /// XACT_ABORT ON: any run-time error ends the batch and rolls the transaction back.
    XactAbort(bool),
    /// Accepted and ignored (ANSI_NULLS, TEXTSIZE, DATEFORMAT, TRANSACTION ISOLATION LEVEL, …).
    Other,
}

/// What a statement of the batch asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Set(SetOption),
    /// `BEGIN TRAN[SACTION] [name]`.
    BeginTransaction {
        name: Option<String>,
    },
    /// `COMMIT [TRAN[SACTION] [name] | WORK]`; SQL Server ignores the name.
    Commit,
    /// `ROLLBACK [TRAN[SACTION] [name] | WORK]`; a name is the transaction's or a savepoint's.
    Rollback {
        name: Option<String>,
    },
    /// `SAVE TRAN[SACTION] name`.
    Save {
        name: String,
    },
    Query(Translated),
    /// `IF <condition> <statement>`; the condition is a query yielding 1 or 0.
    If {
        condition: Translated,
        body: Box<Statement>,
    },
}

/// A statement rewritten for SQLite, with per-column typing hints for its result.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    pub sql: String,
    /// One entry per select-list item of a top-level SELECT; `None` when the list has `*` or no SELECT.
    pub select_items: Option<Vec<SelectItem>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SelectItem {
    /// The type SQL Server would report for an expression column (parameter, CAST, aggregate of a column).
    pub hint: Option<SqlType>,
    /// Expression columns without an alias have no name in SQL Server.
    pub named: bool,
}

/// What the translator knows about the request: parameter names/types, the schema's column types and the
/// session (for `DB_NAME()` and `@@SPID`).
pub struct Context<'a> {
    pub params: &'a [(String, Option<SqlType>)],
    pub columns: &'a HashMap<String, SqlType>,
    pub database: &'a str,
    pub spid: u32,
    /// `CONNECTIONPROPERTY('encrypt_option')`: TRUE when the whole session is encrypted.
    pub encrypt_option: &'a str,
}

/// SQLite text for "now", in the same millisecond form the simulator stores datetimes.
pub const NOW_SQL: &str = "strftime('%Y-%m-%d %H:%M:%f','now')";
pub const VERSION: &str =
    "Microsoft SQL Server 2019 (RTM) - 15.0.2000.5 (X64) (syncdesk Counterpoint simulator)";

const TABLE_HINTS: [&str; 15] = [
    "NOLOCK",
    "UPDLOCK",
    "HOLDLOCK",
    "ROWLOCK",
    "READPAST",
    "XLOCK",
    "TABLOCK",
    "TABLOCKX",
    "PAGLOCK",
    "SERIALIZABLE",
    "READCOMMITTED",
    "READUNCOMMITTED",
    "REPEATABLEREAD",
    "NOWAIT",
    "INDEX",
];

/// Parses a batch into statements, all before any runs (a syntax error anywhere runs nothing, as in SQL
/// Server). The supported subset:
///
/// - Statements: `SELECT`, `INSERT [INTO]`, `UPDATE … SET … [FROM …]`, `DELETE [FROM]`, `SET NOCOUNT ON|OFF`
///   (other `SET` options are accepted and ignored), `BEGIN TRAN[SACTION]`, `COMMIT`/`ROLLBACK`
///   `[TRAN|TRANSACTION|WORK]`, and `IF <condition> <one statement>` (e.g. `IF NOT EXISTS (SELECT …) INSERT …`).
///   Statements may be separated by `;` or just follow each other.
/// - Names: `[bracketed]` and `"quoted"` identifiers, `dbo.` and `DB.dbo.` / `DB..` prefixes dropped.
/// - Literals and parameters: `N'…'`, `'…'`, numbers, `@P1…@Pn` (any `@name` bound by sp_executesql),
///   `@@VERSION`, `@@SERVERNAME`, `@@SPID`.
/// - Clauses: `TOP n` / `TOP (n)` (also in subqueries), `ORDER BY … OFFSET n ROWS [FETCH NEXT|FIRST m ROWS
///   ONLY]`, table hints `WITH (NOLOCK | UPDLOCK | HOLDLOCK | ROWLOCK | …)` dropped, `GROUP BY`/`HAVING`,
///   joins, subqueries, `UNION`, `CASE`, `EXISTS`, `IN`, `LIKE` — whatever SQLite shares with T-SQL.
/// - Functions: `GETDATE()`, `SYSDATETIME()`, `GETUTCDATE()`, `CURRENT_TIMESTAMP` (all UTC, millisecond
///   text), `ISNULL`, `LEN`, `SUBSTRING`, `LEFT`, `RIGHT`, `CHARINDEX`, `DATEADD`, `DATEDIFF` (whole units),
///   `CAST(x AS type)`, `CONVERT(type, x[, style])` (style ignored), aggregates, `COALESCE`, `UPPER`, …;
///   `'a' + x` next to a string literal concatenates.
///
/// Anything else (`MERGE`, `EXEC`, `DECLARE`, `BEGIN … END`, `ELSE`, `TOP … PERCENT`, `OUTPUT`,
/// `SCOPE_IDENTITY()`, temp tables, …) is Msg 102 "Incorrect syntax near …" or SQLite's own error mapped
/// to the matching SQL Server number.
pub fn parse_batch(sql: &str, ctx: &Context<'_>) -> Result<Vec<Statement>, SqlError> {
    split_statements(tokenize(sql)?)
        .into_iter()
        .map(|tokens| classify(&tokens, ctx))
        .collect()
}

fn classify(tokens: &[Tok], ctx: &Context<'_>) -> Result<Statement, SqlError> {
    let first = tokens.first().ok_or_else(|| SqlError::syntax(";"))?;
    let kw = first.upper_word().unwrap_or_default();
    let word_at = |i: usize| tokens.get(i).and_then(Tok::upper_word).unwrap_or_default();
    match kw.as_str() {
        "SET" => {
            let switch = |option: &str| match word_at(2).as_str() {
                "ON" if tokens.len() == 3 => Ok(true),
                "OFF" if tokens.len() == 3 => Ok(false),
                _ => Err(SqlError::syntax(
                    &tokens.get(2).map_or(option.to_string(), Tok::display),
                )),
            };
            match (word_at(1).as_str(), tokens.get(1)) {
                ("NOCOUNT", _) => Ok(Statement::Set(SetOption::NoCount(switch("NOCOUNT")?))),
                ("XACT_ABORT", _) => {
                    Ok(Statement::Set(SetOption::XactAbort(switch("XACT_ABORT")?)))
                }
                (_, Some(Tok::Word(_))) => Ok(Statement::Set(SetOption::Other)),
                (_, Some(other)) => Err(SqlError::syntax(&other.display())),
                (_, None) => Err(SqlError::syntax("SET")),
            }
        }
        "BEGIN" | "SAVE" | "COMMIT" | "ROLLBACK"
            if tokens.len() <= 3 && (kw == "COMMIT" || kw == "ROLLBACK" || tokens.len() >= 2) =>
        {
            if tokens.len() > 1
                && !matches!(word_at(1).as_str(), "TRAN" | "TRANSACTION")
                && !(matches!(kw.as_str(), "COMMIT" | "ROLLBACK")
                    && word_at(1) == "WORK"
                    && tokens.len() == 2)
            {
                return Err(SqlError::syntax(&tokens[1].display()));
            }
            let name = match tokens.get(2) {
                None => None,
                Some(Tok::Word(n) | Tok::Quoted(n)) => Some(n.clone()),
                Some(other) => return Err(SqlError::syntax(&other.display())),
            };
            Ok(match kw.as_str() {
                "BEGIN" => Statement::BeginTransaction { name },
                "COMMIT" => Statement::Commit,
                "ROLLBACK" => Statement::Rollback { name },
                _ => Statement::Save {
                    name: name.ok_or_else(|| SqlError::syntax(&tokens[1].display()))?,
                },
            })
        }
        "IF" => {
            let mut depth = 0usize;
            let body_at = tokens.iter().enumerate().skip(1).find_map(|(i, t)| {
                if t.is_sym("(") {
                    depth += 1;
                } else if t.is_sym(")") {
                    depth = depth.saturating_sub(1);
                } else if depth == 0
                    && t.upper_word()
                        .is_some_and(|w| STATEMENT_KEYWORDS.contains(&w.as_str()))
                {
                    return Some(i);
                }
                None
            });
            let body_at =
                body_at.ok_or_else(|| SqlError::syntax(&tokens[tokens.len() - 1].display()))?;
            if body_at == 1 {
                return Err(SqlError::syntax(&tokens[1].display()));
            }
            let mut condition_tokens = vec![
                Tok::Word("SELECT".into()),
                Tok::Word("CASE".into()),
                Tok::Word("WHEN".into()),
            ];
            condition_tokens.extend_from_slice(&tokens[1..body_at]);
            condition_tokens.extend(["THEN", "1", "ELSE", "0", "END"].map(|w| {
                if w.chars().all(|c| c.is_ascii_digit()) {
                    Tok::Num(w.into())
                } else {
                    Tok::Word(w.into())
                }
            }));
            let condition = translate(&condition_tokens, ctx)?;
            let body = classify(&tokens[body_at..], ctx)?;
            Ok(Statement::If {
                condition,
                body: Box::new(body),
            })
        }
        "SELECT" | "INSERT" | "UPDATE" | "DELETE" => Ok(Statement::Query(translate(tokens, ctx)?)),
        _ => Err(SqlError::syntax(&first.display())),
    }
}

/// Reads a type name (`decimal(15,4)`, `varchar(max)`) starting at `i`; returns the type and the next index.
fn read_type(tokens: &[Tok], i: usize) -> Result<(SqlType, usize), SqlError> {
    let base = match tokens.get(i) {
        Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => w.clone(),
        Some(other) => return Err(SqlError::syntax(&other.display())),
        None => return Err(SqlError::syntax("AS")),
    };
    let mut text = base.clone();
    let mut j = i + 1;
    if tokens.get(j).is_some_and(|t| t.is_sym("(")) {
        text.push('(');
        j += 1;
        while let Some(t) = tokens.get(j) {
            j += 1;
            if t.is_sym(")") {
                break;
            }
            text.push_str(&t.display());
        }
        text.push(')');
    }
    let ty = SqlType::parse(&text)
        .ok_or_else(|| SqlError::new(243, format!("Type {base} is not a defined system type.")))?;
    Ok((ty, j))
}

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Rewrites one DML/SELECT statement token by token.
fn translate(tokens: &[Tok], ctx: &Context<'_>) -> Result<Translated, SqlError> {
    struct Frame {
        limit: Option<String>,
        is_cast: bool,
    }
    let mut out: Vec<String> = Vec::new();
    let mut frames = vec![Frame {
        limit: None,
        is_cast: false,
    }];
    let mut i = 0;
    let param_index = |name: &str| -> Result<String, SqlError> {
        ctx.params
            .iter()
            .position(|(p, _)| p.eq_ignore_ascii_case(name))
            .map(|idx| format!("?{}", idx + 1))
            .ok_or_else(|| {
                SqlError::new(137, format!("Must declare the scalar variable \"{name}\"."))
            })
    };
    let simple = |t: &Tok| -> Result<String, SqlError> {
        match t {
            Tok::Num(n) => Ok(n.clone()),
            Tok::Var(v) => param_index(v),
            other => Err(SqlError::syntax(&other.display())),
        }
    };
    while i < tokens.len() {
        let tok = &tokens[i];
        let next = tokens.get(i + 1);
        match tok {
            Tok::Word(w) => {
                let upper = w.to_ascii_uppercase();
                let followed_by_call = next.is_some_and(|n| n.is_sym("("));
                match upper.as_str() {
                    "GETDATE" | "SYSDATETIME" | "GETUTCDATE" | "SYSUTCDATETIME"
                        if followed_by_call =>
                    {
                        if !tokens.get(i + 2).is_some_and(|t| t.is_sym(")")) {
                            return Err(SqlError::syntax(&upper));
                        }
                        out.push(NOW_SQL.into());
                        i += 3;
                        continue;
                    }
                    "CURRENT_TIMESTAMP" => out.push(NOW_SQL.into()),
                    "ISNULL" if followed_by_call => out.push("IFNULL".into()),
                    "SUBSTRING" if followed_by_call => out.push("SUBSTR".into()),
                    "DATEADD" | "DATEDIFF" | "CONVERT" | "LEFT" | "RIGHT" | "CHARINDEX" | "LEN"
                        if followed_by_call =>
                    {
                        let (args, end) = call_arguments(tokens, i + 1)?;
                        out.push(rewrite_call(&upper, &args, ctx)?);
                        i = end;
                        continue;
                    }
                    "CAST" if followed_by_call => {
                        out.push("cp_cast(".into());
                        frames.push(Frame {
                            limit: None,
                            is_cast: true,
                        });
                        i += 2;
                        continue;
                    }
                    "AS" if frames.last().is_some_and(|f| f.is_cast) => {
                        let (ty, end) = read_type(tokens, i + 1)?;
                        out.push(",".into());
                        out.push(quote_str(&ty.name()));
                        i = end;
                        continue;
                    }
                    "CONNECTIONPROPERTY" if followed_by_call => {
                        let (args, end) = call_arguments(tokens, i + 1)?;
                        let value = match args.as_slice() {
                            [[Tok::Str(property)]] => {
                                match property.to_ascii_lowercase().as_str() {
                                    "encrypt_option" => quote_str(ctx.encrypt_option),
                                    "net_transport" => quote_str("TCP"),
                                    "protocol_type" => quote_str("TSQL"),
                                    "auth_scheme" => quote_str("SQL"),
                                    "client_net_address" | "local_net_address" => {
                                        quote_str("127.0.0.1")
                                    }
                                    _ => "NULL".into(),
                                }
                            }
                            _ => {
                                return Err(SqlError::new(
                                    174,
                                    "The connectionproperty function requires 1 argument(s).",
                                ));
                            }
                        };
                        out.push(value);
                        i = end;
                        continue;
                    }
                    "DB_NAME"
                        if followed_by_call && tokens.get(i + 2).is_some_and(|t| t.is_sym(")")) =>
                    {
                        out.push(quote_str(ctx.database));
                        i += 3;
                        continue;
                    }
                    "SELECT" => {
                        out.push("SELECT".into());
                        i += 1;
                        if tokens
                            .get(i)
                            .is_some_and(|t| t.is_word("DISTINCT") || t.is_word("ALL"))
                        {
                            out.push(tokens[i].display().to_ascii_uppercase());
                            i += 1;
                        }
                        if tokens.get(i).is_some_and(|t| t.is_word("TOP")) {
                            let (limit, end) = match tokens.get(i + 1) {
                                Some(t) if t.is_sym("(") => {
                                    match (tokens.get(i + 2), tokens.get(i + 3)) {
                                        (Some(v), Some(close)) if close.is_sym(")") => {
                                            (simple(v)?, i + 4)
                                        }
                                        _ => return Err(SqlError::syntax("TOP")),
                                    }
                                }
                                Some(v) => (simple(v)?, i + 2),
                                None => return Err(SqlError::syntax("TOP")),
                            };
                            if tokens
                                .get(end)
                                .is_some_and(|t| t.is_word("PERCENT") || t.is_word("WITH"))
                            {
                                return Err(SqlError::syntax(&tokens[end].display()));
                            }
                            if let Some(frame) = frames.last_mut() {
                                frame.limit = Some(limit);
                            }
                            i = end;
                        }
                        continue;
                    }
                    "INSERT" => {
                        out.push("INSERT".into());
                        if !next.is_some_and(|n| n.is_word("INTO")) {
                            out.push("INTO".into());
                        }
                    }
                    "DELETE" => {
                        out.push("DELETE".into());
                        if !next.is_some_and(|n| n.is_word("FROM")) {
                            out.push("FROM".into());
                        }
                    }
                    "WITH" if next.is_some_and(|n| n.is_sym("(")) => {
                        let hinted = tokens
                            .get(i + 2)
                            .and_then(Tok::upper_word)
                            .is_some_and(|h| TABLE_HINTS.contains(&h.as_str()));
                        if !hinted {
                            return Err(SqlError::syntax("WITH"));
                        }
                        let mut depth = 0usize;
                        i += 1;
                        while let Some(t) = tokens.get(i) {
                            i += 1;
                            if t.is_sym("(") {
                                depth += 1;
                            } else if t.is_sym(")") {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                        }
                        continue;
                    }
                    "OFFSET" => {
                        let (offset, mut j) = match (tokens.get(i + 1), tokens.get(i + 2)) {
                            (Some(v), Some(r)) if r.is_word("ROWS") || r.is_word("ROW") => {
                                (simple(v)?, i + 3)
                            }
                            _ => return Err(SqlError::syntax("OFFSET")),
                        };
                        let mut fetch = "-1".to_string();
                        if tokens.get(j).is_some_and(|t| t.is_word("FETCH")) {
                            let ok = tokens
                                .get(j + 1)
                                .is_some_and(|t| t.is_word("NEXT") || t.is_word("FIRST"))
                                && tokens
                                    .get(j + 3)
                                    .is_some_and(|t| t.is_word("ROWS") || t.is_word("ROW"))
                                && tokens.get(j + 4).is_some_and(|t| t.is_word("ONLY"));
                            match tokens.get(j + 2) {
                                Some(v) if ok => fetch = simple(v)?,
                                _ => return Err(SqlError::syntax("FETCH")),
                            }
                            j += 5;
                        }
                        out.push(format!("LIMIT {fetch} OFFSET {offset}"));
                        i = j;
                        continue;
                    }
                    "DBO" if next.is_some_and(|n| n.is_sym(".")) => {
                        i += 2;
                        continue;
                    }
                    _ if next.is_some_and(|n| n.is_sym("."))
                        && tokens
                            .get(i + 2)
                            .is_some_and(|t| t.is_sym(".") || t.is_word("dbo")) =>
                    {
                        // A database prefix (`CPSQL.dbo.X` or `CPSQL..X`): SQLite has one database.
                        i += if tokens.get(i + 2).is_some_and(|t| t.is_sym(".")) {
                            3
                        } else {
                            2
                        };
                        continue;
                    }
                    _ => out.push(w.clone()),
                }
            }
            Tok::Quoted(q)
                if q.eq_ignore_ascii_case("dbo") && next.is_some_and(|n| n.is_sym(".")) =>
            {
                i += 2;
                continue;
            }
            Tok::Quoted(q) => out.push(quote_ident(q)),
            // Literals compare under the server collation, so `'a' = 'A  '` holds as in SQL Server.
            Tok::Str(s) => out.push(format!("{} COLLATE {COLLATION}", quote_str(s))),
            Tok::Num(n) => out.push(n.clone()),
            Tok::Var(v) => {
                let index = param_index(v)?;
                let is_text = ctx.params.iter().any(|(p, ty)| {
                    p.eq_ignore_ascii_case(v)
                        && matches!(ty, Some(SqlType::VarChar { .. } | SqlType::NVarChar { .. }))
                });
                out.push(if is_text {
                    format!("{index} COLLATE {COLLATION}")
                } else {
                    index
                });
            }
            // `/` and `%` check their right operand, so dividing by zero is Msg 8134, not NULL.
            Tok::Sym(op @ ("/" | "%")) => {
                let end = operand_end(tokens, i + 1)?;
                let divisor = translate(&tokens[i + 1..end], ctx)?.sql;
                out.push((*op).to_string());
                out.push(format!("cp_nonzero({divisor})"));
                i = end;
                continue;
            }
            Tok::SysVar(v) => match v.as_str() {
                "VERSION" => out.push(quote_str(VERSION)),
                "SERVERNAME" | "SERVICENAME" => out.push(quote_str("CPSIM")),
                "SPID" => out.push(ctx.spid.to_string()),
                "TRANCOUNT" => out.push("cp_trancount()".into()),
                _ => {
                    return Err(SqlError::new(
                        137,
                        format!("Must declare the scalar variable \"@@{v}\"."),
                    ));
                }
            },
            Tok::Sym("(") => {
                out.push("(".into());
                frames.push(Frame {
                    limit: None,
                    is_cast: false,
                });
            }
            Tok::Sym(")") => {
                let frame = frames.pop().ok_or_else(|| SqlError::syntax(")"))?;
                if frames.is_empty() {
                    return Err(SqlError::syntax(")"));
                }
                if let Some(limit) = frame.limit {
                    out.push(format!("LIMIT {limit}"));
                }
                out.push(")".into());
            }
            // T-SQL concatenates strings with `+`; next to a string literal it can only mean that.
            Tok::Sym("+")
                if matches!(next, Some(Tok::Str(_)))
                    || matches!(
                        i.checked_sub(1).and_then(|p| tokens.get(p)),
                        Some(Tok::Str(_))
                    ) =>
            {
                out.push("||".into())
            }
            Tok::Sym(s) => out.push((*s).to_string()),
        }
        i += 1;
    }
    if frames.len() != 1 {
        return Err(SqlError::syntax(
            &tokens.last().map_or(String::new(), Tok::display),
        ));
    }
    if let Some(limit) = frames.pop().and_then(|f| f.limit) {
        out.push(format!("LIMIT {limit}"));
    }
    Ok(Translated {
        sql: join_tokens(&out),
        select_items: select_items(tokens, ctx),
    })
}

/// Where the operand starting at `start` ends: signs, then a parenthesised group, a call, a qualified
/// name or a single token (the right side of `/` binds no further than that).
fn operand_end(tokens: &[Tok], start: usize) -> Result<usize, SqlError> {
    let mut i = start;
    while tokens
        .get(i)
        .is_some_and(|t| t.is_sym("-") || t.is_sym("+"))
    {
        i += 1;
    }
    let skip_group = |open: usize| -> Result<usize, SqlError> {
        let mut depth = 0usize;
        for (j, t) in tokens.iter().enumerate().skip(open) {
            if t.is_sym("(") {
                depth += 1;
            } else if t.is_sym(")") {
                depth -= 1;
                if depth == 0 {
                    return Ok(j + 1);
                }
            }
        }
        Err(SqlError::syntax(
            &tokens.last().map_or(String::new(), Tok::display),
        ))
    };
    match tokens.get(i) {
        None => Err(SqlError::syntax(
            &tokens.last().map_or(String::new(), Tok::display),
        )),
        Some(t) if t.is_sym("(") => skip_group(i),
        Some(Tok::Word(_) | Tok::Quoted(_)) => {
            if tokens.get(i + 1).is_some_and(|t| t.is_sym("(")) {
                return skip_group(i + 1);
            }
            let mut end = i + 1;
            while tokens.get(end).is_some_and(|t| t.is_sym("."))
                && matches!(tokens.get(end + 1), Some(Tok::Word(_) | Tok::Quoted(_)))
            {
                end += 2;
            }
            Ok(end)
        }
        Some(Tok::Sym(s)) => Err(SqlError::syntax(s)),
        Some(_) => Ok(i + 1),
    }
}

/// Splits the arguments of the call whose `(` is at `open`; returns them and the index after `)`.
fn call_arguments(tokens: &[Tok], open: usize) -> Result<(Vec<&[Tok]>, usize), SqlError> {
    let mut depth = 0usize;
    let mut args = Vec::new();
    let mut start = open + 1;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        if t.is_sym("(") {
            depth += 1;
        } else if t.is_sym(")") {
            depth -= 1;
            if depth == 0 {
                args.push(&tokens[start..i]);
                return Ok((args, i + 1));
            }
        } else if depth == 1 && t.is_sym(",") {
            args.push(&tokens[start..i]);
            start = i + 1;
        }
    }
    Err(SqlError::syntax(
        &tokens.last().map_or(String::new(), Tok::display),
    ))
}

/// SQLite date modifier unit and multiplier for a DATEADD/DATEDIFF datepart.
fn date_part(arg: &[Tok]) -> Result<(&'static str, f64), SqlError> {
    let part = match arg {
        [Tok::Word(w)] => w.to_ascii_uppercase(),
        other => {
            return Err(SqlError::syntax(
                &other.first().map_or(",".into(), Tok::display),
            ));
        }
    };
    Ok(match part.as_str() {
        "YEAR" | "YY" | "YYYY" => ("years", 1.0),
        "MONTH" | "MM" | "M" => ("months", 1.0),
        "DAY" | "DD" | "D" => ("days", 1.0),
        "HOUR" | "HH" => ("hours", 1.0),
        "MINUTE" | "MI" | "N" => ("minutes", 1.0),
        "SECOND" | "SS" | "S" => ("seconds", 1.0),
        "MILLISECOND" | "MS" => ("seconds", 0.001),
        _ => {
            return Err(SqlError::new(
                155,
                format!("'{part}' is not a recognized datepart option."),
            ));
        }
    })
}

/// Rewrites T-SQL functions whose SQLite form reorders or reshapes the arguments.
fn rewrite_call(name: &str, args: &[&[Tok]], ctx: &Context<'_>) -> Result<String, SqlError> {
    let wrong_count = || {
        SqlError::new(
            174,
            format!("The {name} function requires a different number of arguments."),
        )
    };
    let sql = |i: usize| -> Result<String, SqlError> {
        let arg = args
            .get(i)
            .filter(|a| !a.is_empty())
            .ok_or_else(wrong_count)?;
        Ok(translate(arg, ctx)?.sql)
    };
    match name {
        "DATEADD" if args.len() == 3 => {
            let (unit, factor) = date_part(args[0])?;
            Ok(format!(
                "strftime('%Y-%m-%d %H:%M:%f', {}, (({}) * {factor}) || ' {unit}')",
                sql(2)?,
                sql(1)?
            ))
        }
        "DATEDIFF" if args.len() == 3 => {
            // Whole units between the two instants (SQL Server counts boundaries; equal for whole-unit gaps).
            let (unit, factor) = date_part(args[0])?;
            let per_day = match unit {
                "years" => 1.0 / 365.2425,
                "months" => 12.0 / 365.2425,
                "days" => 1.0,
                "hours" => 24.0,
                "minutes" => 1440.0,
                _ => 86_400.0 / factor,
            };
            Ok(format!(
                "CAST(ROUND((julianday({}) - julianday({})) * {per_day}, 6) AS INTEGER)",
                sql(2)?,
                sql(1)?
            ))
        }
        "CONVERT" if args.len() >= 2 => {
            let (ty, end) = read_type(args[0], 0)?;
            if end != args[0].len() {
                return Err(SqlError::syntax(&args[0][end].display()));
            }
            Ok(format!("cp_cast({}, {})", sql(1)?, quote_str(&ty.name())))
        }
        "LEFT" if args.len() == 2 => Ok(format!("SUBSTR({}, 1, {})", sql(0)?, sql(1)?)),
        "RIGHT" if args.len() == 2 => Ok(format!(
            "SUBSTR({0}, MAX(LENGTH({0}) - ({1}) + 1, 1))",
            sql(0)?,
            sql(1)?
        )),
        "CHARINDEX" if args.len() == 2 => Ok(format!("INSTR({}, {})", sql(1)?, sql(0)?)),
        // LEN ignores trailing spaces.
        "LEN" if args.len() == 1 => Ok(format!("LENGTH(RTRIM({}))", sql(0)?)),
        _ => Err(wrong_count()),
    }
}

/// Joins output pieces with spaces, except around `.` and before `(`/`)`/`,`, so SQLite's column names for
/// expressions stay readable.
fn join_tokens(parts: &[String]) -> String {
    let mut sql = String::new();
    for part in parts {
        let glue = sql.ends_with('.') || sql.ends_with('(') || sql.is_empty();
        if !(glue
            || part == "."
            || part == ")"
            || part == ","
            || (part == "(" && !sql.ends_with(' ')))
        {
            sql.push(' ');
        }
        sql.push_str(part);
    }
    sql
}

/// Typing hints for the top-level select list (the only place SQLite cannot tell the declared type).
fn select_items(tokens: &[Tok], ctx: &Context<'_>) -> Option<Vec<SelectItem>> {
    if !tokens.first()?.is_word("SELECT") {
        return None;
    }
    let mut i = 1;
    if tokens
        .get(i)
        .is_some_and(|t| t.is_word("DISTINCT") || t.is_word("ALL"))
    {
        i += 1;
    }
    if tokens.get(i).is_some_and(|t| t.is_word("TOP")) {
        i += if tokens.get(i + 1).is_some_and(|t| t.is_sym("(")) {
            4
        } else {
            2
        };
    }
    let mut items: Vec<Vec<Tok>> = vec![Vec::new()];
    let mut depth = 0usize;
    for t in tokens.iter().skip(i) {
        if depth == 0
            && [
                "FROM",
                "WHERE",
                "GROUP",
                "ORDER",
                "UNION",
                "INTO",
                "HAVING",
                "OFFSET",
                "EXCEPT",
                "INTERSECT",
            ]
            .iter()
            .any(|w| t.is_word(w))
        {
            break;
        }
        if t.is_sym("(") {
            depth += 1;
        } else if t.is_sym(")") {
            depth = depth.saturating_sub(1);
        }
        if depth == 0 && t.is_sym(",") {
            items.push(Vec::new());
        } else if let Some(last) = items.last_mut() {
            last.push(t.clone());
        }
    }
    items.iter().map(|item| select_item(item, ctx)).collect()
}

/// The SQL Server type of an expression: arithmetic typed by SQL Server's rules (`decimal * 1.5` stays
/// decimal, with the precision and scale SQL Server gives it), down to parameters, literals, CASTs,
/// aggregates and functions of known columns.
fn expression_type(
    expr: &[Tok],
    ctx: &Context<'_>,
    column_type: &dyn Fn(&Tok) -> Option<SqlType>,
) -> Option<SqlType> {
    // The rightmost binary operator at depth 0 of the loosest level splits the expression (left-assoc).
    for level in [&["+", "-"][..], &["*", "/", "%"][..]] {
        let mut depth = 0usize;
        let mut split = None;
        for (i, t) in expr.iter().enumerate() {
            if t.is_sym("(") {
                depth += 1;
            } else if t.is_sym(")") {
                depth = depth.saturating_sub(1);
            } else if depth == 0 && level.iter().any(|op| t.is_sym(op)) {
                // A sign at the start or after another operator is unary, not a split point.
                let unary = i == 0 || matches!(expr[i - 1], Tok::Sym(p) if p != ")");
                if !unary {
                    split = Some(i);
                }
            }
        }
        if let Some(at) = split {
            let left = expression_type(&expr[..at], ctx, column_type)?;
            let right = expression_type(&expr[at + 1..], ctx, column_type)?;
            return arithmetic_type(&expr[at].display(), left, right);
        }
    }
    match expr {
        [sign, rest @ ..] if (sign.is_sym("-") || sign.is_sym("+")) && !rest.is_empty() => {
            expression_type(rest, ctx, column_type)
        }
        [open, inner @ .., close] if open.is_sym("(") && close.is_sym(")") && !inner.is_empty() => {
            expression_type(inner, ctx, column_type)
        }
        [Tok::Num(n)] => Some(number_literal_type(n)),
        [Tok::Str(text)] => Some(SqlType::VarChar {
            max_len: text.len().clamp(1, 8000) as u16,
        }),
        [Tok::Var(v)] => ctx
            .params
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(v))
            .and_then(|(_, ty)| *ty),
        [cast, open, .., close]
            if cast.is_word("CAST") && open.is_sym("(") && close.is_sym(")") =>
        {
            let as_at = expr.iter().rposition(|t| t.is_word("AS"))?;
            read_type(expr, as_at + 1).ok().map(|(ty, _)| ty)
        }
        [func, open, inner @ .., close] if open.is_sym("(") && close.is_sym(")") => {
            let name = func.upper_word()?;
            let first_arg = first_argument(inner);
            let arg = || expression_type(first_arg, ctx, column_type);
            match name.as_str() {
                "SUM" => match arg()? {
                    SqlType::Decimal { scale, .. } => Some(SqlType::Decimal {
                        precision: 38,
                        scale,
                    }),
                    SqlType::Int | SqlType::SmallInt | SqlType::TinyInt | SqlType::Bit => {
                        Some(SqlType::Int)
                    }
                    SqlType::Real => Some(SqlType::Float),
                    other => Some(other),
                },
                "AVG" => match arg()? {
                    SqlType::Decimal { scale, .. } => Some(SqlType::Decimal {
                        precision: 38,
                        scale: scale.max(6),
                    }),
                    SqlType::SmallInt | SqlType::TinyInt | SqlType::Bit => Some(SqlType::Int),
                    other => Some(other),
                },
                "MIN" | "MAX" | "ISNULL" | "COALESCE" | "ABS" => arg(),
                "ROUND" => arg(),
                "COUNT" => Some(SqlType::Int),
                "COUNT_BIG" => Some(SqlType::BigInt),
                "GETDATE" | "SYSDATETIME" | "GETUTCDATE" | "DATEADD" => Some(SqlType::DateTime),
                "DATEDIFF" | "LEN" | "CHARINDEX" => Some(SqlType::Int),
                "DB_NAME" => Some(SqlType::NVarChar { max_len: 256 }),
                "CONNECTIONPROPERTY" => Some(SqlType::NVarChar { max_len: 256 }),
                "CONVERT" => read_type(inner, 0).ok().map(|(ty, _)| ty),
                _ => None,
            }
        }
        [Tok::Word(w)] if w.eq_ignore_ascii_case("CURRENT_TIMESTAMP") => Some(SqlType::DateTime),
        [Tok::SysVar(v)] if v == "TRANCOUNT" => Some(SqlType::Int),
        [Tok::SysVar(v)] if v == "SPID" => Some(SqlType::SmallInt),
        [Tok::SysVar(_)] => Some(SqlType::NVarChar { max_len: 256 }),
        // A (possibly qualified) column: the type of its last name.
        [.., last]
            if expr
                .iter()
                .all(|t| matches!(t, Tok::Word(_) | Tok::Quoted(_)) || t.is_sym(".")) =>
        {
            column_type(last)
        }
        _ => None,
    }
}

/// The tokens of a call's first argument.
fn first_argument(inner: &[Tok]) -> &[Tok] {
    let mut depth = 0usize;
    for (i, t) in inner.iter().enumerate() {
        if t.is_sym("(") {
            depth += 1;
        } else if t.is_sym(")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is_sym(",") {
            return &inner[..i];
        }
    }
    inner
}

/// `12` is int, `12.50` decimal(4,2), `1e3` float, as SQL Server types constants.
fn number_literal_type(text: &str) -> SqlType {
    if text.contains(['e', 'E']) {
        return SqlType::Float;
    }
    match text.split_once('.') {
        None => match text.parse::<i64>() {
            Ok(n) if i32::try_from(n).is_ok() => SqlType::Int,
            Ok(_) => SqlType::BigInt,
            Err(_) => SqlType::Decimal {
                precision: text.len().clamp(1, 38) as u8,
                scale: 0,
            },
        },
        Some((whole, fraction)) => {
            let whole = whole.trim_start_matches('0').len();
            let scale = fraction.len().min(38) as u8;
            SqlType::Decimal {
                precision: (whole + fraction.len()).clamp(usize::from(scale).max(1), 38) as u8,
                scale,
            }
        }
    }
}

/// Precision and scale of a numeric type taking part in decimal arithmetic.
fn decimal_shape(ty: SqlType) -> Option<(u8, u8)> {
    Some(match ty {
        SqlType::Bit => (1, 0),
        SqlType::TinyInt => (3, 0),
        SqlType::SmallInt => (5, 0),
        SqlType::Int => (10, 0),
        SqlType::BigInt => (19, 0),
        SqlType::Money => (19, 4),
        SqlType::Decimal { precision, scale } => (precision, scale),
        _ => return None,
    })
}

/// SQL Server's result type of `left op right` ("Precision, scale, and length", Transact-SQL reference),
/// with precision capped at 38 by giving up scale down to 6 digits.
fn arithmetic_type(op: &str, left: SqlType, right: SqlType) -> Option<SqlType> {
    use SqlType::*;
    let is_text = |t: SqlType| matches!(t, VarChar { .. } | NVarChar { .. });
    if op == "+" && (is_text(left) || is_text(right)) {
        return match (left, right) {
            (VarChar { max_len: a }, VarChar { max_len: b }) => Some(VarChar {
                max_len: a.saturating_add(b).min(8000),
            }),
            _ => Some(NVarChar { max_len: 8000 }),
        };
    }
    let integer = |t: SqlType| matches!(t, Bit | TinyInt | SmallInt | Int | BigInt);
    if matches!(left, Float | Real) || matches!(right, Float | Real) {
        return Some(Float);
    }
    if integer(left) && integer(right) {
        return Some(if left == BigInt || right == BigInt {
            BigInt
        } else {
            Int
        });
    }
    if (left == Money && (right == Money || integer(right))) || (integer(left) && right == Money) {
        return Some(Money);
    }
    let (p1, s1) = decimal_shape(left).map(|(p, s)| (i32::from(p), i32::from(s)))?;
    let (p2, s2) = decimal_shape(right).map(|(p, s)| (i32::from(p), i32::from(s)))?;
    let (p, s) = match op {
        "+" | "-" => {
            let s = s1.max(s2);
            ((p1 - s1).max(p2 - s2) + s + 1, s)
        }
        "*" => (p1 + p2 + 1, s1 + s2),
        "/" => {
            let s = 6.max(s1 + p2 + 1);
            (p1 - s1 + s2 + s, s)
        }
        "%" => {
            let s = s1.max(s2);
            ((p1 - s1).min(p2 - s2) + s, s)
        }
        _ => return None,
    };
    let (p, s) = if p > 38 {
        let integral = p - s;
        (38, (38 - integral).max(s.min(6)).max(0))
    } else {
        (p, s)
    };
    Some(Decimal {
        precision: p.clamp(1, 38) as u8,
        scale: s.clamp(0, 38) as u8,
    })
}

fn select_item(item: &[Tok], ctx: &Context<'_>) -> Option<SelectItem> {
    // `*` and `t.*` expand to columns nobody can type from here.
    let star = matches!(item, [t] if t.is_sym("*"))
        || matches!(item, [.., dot, t] if dot.is_sym(".") && t.is_sym("*"));
    if item.is_empty() || star {
        return None;
    }
    // Strip `AS alias` or a trailing bare alias after an expression.
    let (expr, named) = match item {
        [
            expr @ ..,
            as_kw,
            Tok::Word(_) | Tok::Quoted(_) | Tok::Str(_),
        ] if as_kw.is_word("AS") => (expr, true),
        [expr @ .., last, Tok::Word(_) | Tok::Quoted(_)]
            if last.is_sym(")") || matches!(last, Tok::Var(_) | Tok::Num(_) | Tok::Str(_)) =>
        {
            (expr, true)
        }
        _ => (item, false),
    };
    let column_type = |t: &Tok| match t {
        Tok::Word(w) | Tok::Quoted(w) => ctx.columns.get(&w.to_ascii_uppercase()).copied(),
        _ => None,
    };
    let is_column_ref = expr
        .iter()
        .all(|t| matches!(t, Tok::Word(_) | Tok::Quoted(_)) || t.is_sym("."));
    let hint = if is_column_ref {
        None
    } else {
        expression_type(expr, ctx, &column_type)
    };
    Some(SelectItem {
        hint,
        named: named || is_column_ref,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_parse(sql: &str) -> Result<Vec<Statement>, SqlError> {
        let params = vec![
            ("@P1".to_string(), Some(SqlType::BigInt)),
            ("@P2".to_string(), Some(SqlType::Int)),
        ];
        let mut columns = HashMap::new();
        columns.insert(
            "QTY_AVAIL".to_string(),
            SqlType::Decimal {
                precision: 16,
                scale: 4,
            },
        );
        parse_batch(
            sql,
            &Context {
                params: &params,
                columns: &columns,
                database: "CPSQL",
                spid: 53,
                encrypt_option: "TRUE",
            },
        )
    }

    fn sql_of(stmt: &Statement) -> &str {
        match stmt {
            Statement::Query(t) => &t.sql,
            other => panic!("not a query: {other:?}"),
        }
    }

    #[test]
    fn rewrites_top_params_brackets_and_hints() {
        let stmts = ctx_parse("SELECT TOP 5 [ITEM_NO], QTY_AVAIL FROM dbo.[IM_INV] WITH (NOLOCK) WHERE LOC_ID = N'MAIN' AND DOC_ID = @P1").unwrap();
        assert_eq!(
            sql_of(&stmts[0]),
            "SELECT \"ITEM_NO\", QTY_AVAIL FROM \"IM_INV\" WHERE LOC_ID = 'MAIN' COLLATE SQL_Latin1_General_CP1_CI_AS AND DOC_ID = ?1 LIMIT 5"
        );
    }

    #[test]
    fn splits_statements_without_semicolons() {
        let stmts =
            ctx_parse("SET NOCOUNT ON BEGIN TRAN UPDATE IM_INV SET QTY_ON_HND = 1 SELECT 1 COMMIT")
                .unwrap();
        assert_eq!(stmts.len(), 5);
        assert_eq!(stmts[0], Statement::Set(SetOption::NoCount(true)));
        assert_eq!(stmts[1], Statement::BeginTransaction { name: None });
        assert_eq!(sql_of(&stmts[2]), "UPDATE IM_INV SET QTY_ON_HND = 1");
        assert_eq!(stmts[4], Statement::Commit);
    }

    #[test]
    fn if_not_exists_insert() {
        let stmts = ctx_parse(
            "IF NOT EXISTS (SELECT 1 FROM USER_ORDER_STAGING WITH (UPDLOCK, HOLDLOCK) WHERE WEB_ORDER_ID = @P1) \
             INSERT USER_ORDER_STAGING (WEB_ORDER_ID) VALUES (@P1)",
        )
        .unwrap();
        match &stmts[0] {
            Statement::If { condition, body } => {
                assert_eq!(
                    condition.sql,
                    "SELECT CASE WHEN NOT EXISTS(SELECT 1 FROM USER_ORDER_STAGING WHERE WEB_ORDER_ID = ?1) THEN 1 ELSE 0 END"
                );
                assert_eq!(
                    sql_of(body),
                    "INSERT INTO USER_ORDER_STAGING(WEB_ORDER_ID) VALUES(?1)"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn offset_fetch_and_functions() {
        let stmts = ctx_parse(
            "SELECT ISNULL(QTY_AVAIL, 0) AS q, GETDATE() FROM IM_INV ORDER BY ITEM_NO OFFSET @P2 ROWS FETCH NEXT 10 ROWS ONLY",
        )
        .unwrap();
        let Statement::Query(t) = &stmts[0] else {
            panic!()
        };
        assert_eq!(
            t.sql,
            format!(
                "SELECT IFNULL(QTY_AVAIL, 0) AS q, {NOW_SQL} FROM IM_INV ORDER BY ITEM_NO LIMIT 10 OFFSET ?2"
            )
        );
        let items = t.select_items.as_ref().unwrap();
        assert_eq!(
            items[0].hint,
            Some(SqlType::Decimal {
                precision: 16,
                scale: 4
            })
        );
        assert!(items[0].named);
        assert_eq!(items[1].hint, Some(SqlType::DateTime));
        assert!(!items[1].named);
    }

    #[test]
    fn param_and_cast_hints() {
        let stmts =
            ctx_parse("SELECT @P1 AS a, CAST(@P2 AS decimal(15,4)), SUM(QTY_AVAIL) FROM IM_INV")
                .unwrap();
        let Statement::Query(t) = &stmts[0] else {
            panic!()
        };
        assert!(t.sql.contains("cp_cast(?2, 'decimal(15,4)')"), "{}", t.sql);
        let hints: Vec<_> = t
            .select_items
            .as_ref()
            .unwrap()
            .iter()
            .map(|i| i.hint)
            .collect();
        assert_eq!(
            hints,
            vec![
                Some(SqlType::BigInt),
                Some(SqlType::Decimal {
                    precision: 15,
                    scale: 4
                }),
                Some(SqlType::Decimal {
                    precision: 38,
                    scale: 4
                })
            ]
        );
    }

    #[test]
    fn unsupported_statements_are_syntax_errors() {
        assert_eq!(ctx_parse("MERGE INTO X").unwrap_err().number, 102);
        assert_eq!(ctx_parse("SELECT 'open").unwrap_err().number, 105);
        assert_eq!(ctx_parse("SELECT @nope").unwrap_err().number, 137);
        assert_eq!(ctx_parse("SELECT (1").unwrap_err().number, 102);
        assert_eq!(ctx_parse("SELECT 1)").unwrap_err().number, 102);
        assert_eq!(ctx_parse("SELECT ~1").unwrap_err().number, 102);
    }

    #[test]
    fn rewrites_reordered_functions_and_concatenation() {
        let stmts = ctx_parse(
            "SELECT DATEADD(SECOND, -5, LST_MAINT_DT) AS w, CONVERT(varchar(20), DOC_ID) AS d, \
             LEFT(ITEM_NO, 3), CHARINDEX('-', ITEM_NO), 'O' + TKT_NO FROM PS_DOC_HDR \
             WHERE DATEDIFF(DAY, TKT_DT, GETDATE()) < 7",
        )
        .unwrap();
        let Statement::Query(t) = &stmts[0] else {
            panic!()
        };
        assert!(
            t.sql
                .contains("strftime('%Y-%m-%d %H:%M:%f', LST_MAINT_DT, ((- 5) * 1) || ' seconds')"),
            "{}",
            t.sql
        );
        assert!(
            t.sql.contains("cp_cast(DOC_ID, 'varchar(20)')"),
            "{}",
            t.sql
        );
        assert!(t.sql.contains("SUBSTR(ITEM_NO, 1, 3)"), "{}", t.sql);
        assert!(t.sql.contains("INSTR(ITEM_NO, '-' COLLATE"), "{}", t.sql);
        assert!(
            t.sql
                .contains("'O' COLLATE SQL_Latin1_General_CP1_CI_AS || TKT_NO"),
            "{}",
            t.sql
        );
        assert!(t.sql.contains("CAST(ROUND((julianday("), "{}", t.sql);
        let hints: Vec<_> = t
            .select_items
            .as_ref()
            .unwrap()
            .iter()
            .map(|i| i.hint)
            .collect();
        assert_eq!(hints[0], Some(SqlType::DateTime));
        assert_eq!(hints[1], Some(SqlType::VarChar { max_len: 20 }));
        assert_eq!(
            ctx_parse("SELECT DATEADD(FORTNIGHT, 1, GETDATE())")
                .unwrap_err()
                .number,
            155
        );
        assert_eq!(ctx_parse("SELECT DATEADD(DAY, 1)").unwrap_err().number, 174);
    }

    #[test]
    fn arithmetic_is_typed_by_sql_server_rules() {
        let stmts = ctx_parse(
            "SELECT QTY_AVAIL * 1.5, 0.1 + 0.2, QTY_AVAIL / 3, 7 / 2, @P1 * 2, @@TRANCOUNT, DB_NAME(), @@SPID, 10 / -(2 + 3)",
        )
        .unwrap();
        let Statement::Query(t) = &stmts[0] else {
            panic!()
        };
        let hints: Vec<_> = t
            .select_items
            .as_ref()
            .unwrap()
            .iter()
            .map(|i| i.hint)
            .collect();
        let dec = |precision, scale| Some(SqlType::Decimal { precision, scale });
        assert_eq!(hints[0], dec(19, 5));
        assert_eq!(hints[1], dec(2, 1));
        assert_eq!(hints[2], dec(27, 15));
        assert_eq!(hints[3], Some(SqlType::Int));
        assert_eq!(hints[4], Some(SqlType::BigInt));
        assert_eq!(hints[5], Some(SqlType::Int));
        assert!(t.sql.contains("cp_trancount()"), "{}", t.sql);
        assert!(t.sql.contains("'CPSQL'"), "{}", t.sql);
        assert!(t.sql.contains(", 53,"), "{}", t.sql);
        assert!(
            t.sql.contains("/ cp_nonzero(-(2 + 3))") || t.sql.contains("/ cp_nonzero(- (2 + 3))"),
            "{}",
            t.sql
        );
    }

    #[test]
    fn transaction_statements_with_names() {
        let stmts =
            ctx_parse("BEGIN TRAN outer_tx SAVE TRANSACTION sp1 ROLLBACK TRAN sp1 COMMIT WORK")
                .unwrap();
        assert_eq!(
            stmts,
            vec![
                Statement::BeginTransaction {
                    name: Some("outer_tx".into())
                },
                Statement::Save { name: "sp1".into() },
                Statement::Rollback {
                    name: Some("sp1".into())
                },
                Statement::Commit,
            ]
        );
        assert_eq!(ctx_parse("SAVE TRAN").unwrap_err().number, 102);
        assert_eq!(
            ctx_parse("SET XACT_ABORT ON").unwrap(),
            vec![Statement::Set(SetOption::XactAbort(true))]
        );
    }

    #[test]
    fn version_and_database_prefixes() {
        let stmts = ctx_parse("SELECT @@VERSION; SELECT * FROM CPSQL.dbo.PS_DOC_HDR").unwrap();
        assert!(sql_of(&stmts[0]).contains("Counterpoint simulator"));
        assert_eq!(sql_of(&stmts[1]), "SELECT * FROM PS_DOC_HDR");
    }

    #[test]
    fn random_token_soup_never_panics() {
        let vocabulary = [
            "SELECT",
            "TOP",
            "(",
            ")",
            "DATEADD",
            "DATEDIFF",
            "CONVERT",
            "LEFT",
            "RIGHT",
            "CHARINDEX",
            "CAST",
            "AS",
            "int",
            "decimal(15,4)",
            ",",
            "@P1",
            "@P2",
            "'x'",
            "N'y'",
            "OFFSET",
            "ROWS",
            "FETCH",
            "NEXT",
            "ONLY",
            "WITH",
            "NOLOCK",
            "IF",
            "NOT",
            "EXISTS",
            "INSERT",
            "INTO",
            "UPDATE",
            "SET",
            "DELETE",
            "FROM",
            "BEGIN",
            "TRAN",
            "COMMIT",
            "ROLLBACK",
            "+",
            "*",
            "1",
            "dbo",
            ".",
            "[x]",
            "@@VERSION",
            "GETDATE",
            "DAY",
            ";",
            "NOCOUNT",
            "ON",
            "SUM",
            "ISNULL",
            "QTY_AVAIL",
            "GROUP",
            "BY",
            "ORDER",
        ];
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..5000 {
            let len = rng.usize(0..16);
            let text: Vec<&str> = (0..len)
                .map(|_| vocabulary[rng.usize(0..vocabulary.len())])
                .collect();
            let _ = ctx_parse(&text.join(" "));
        }
    }

    #[test]
    fn random_text_never_panics() {
        let mut rng = fastrand::Rng::with_seed(7);
        let alphabet: Vec<char> =
            "SELECT TOP()[]'\"@N,.;*-/ 0123456789 IF EXISTS OFFSET FETCH WITH CAST AS"
                .chars()
                .collect();
        for _ in 0..2000 {
            let len = rng.usize(0..40);
            let text: String = (0..len)
                .map(|_| alphabet[rng.usize(0..alphabet.len())])
                .collect();
            let _ = ctx_parse(&text);
        }
    }
}
