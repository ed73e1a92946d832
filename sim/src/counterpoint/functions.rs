//! What SQLite lacks to behave like SQL Server, added to every connection of the simulator: the
//! SQL_Latin1_General_CP1_CI_AS collation (case-insensitive, trailing spaces ignored by `=`), CAST/CONVERT
//! that fail with SQL Server's conversion errors instead of yielding 0, division that raises Msg 8134, and
//! the length check behind Msg 2628. Their errors travel through SQLite as tagged text (`raise`/`decode`).

use std::cmp::Ordering;
use std::path::Path;
use std::str::FromStr;

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::{Value, ValueRef};
use rust_decimal::Decimal;

use super::types::{self, MAX_LEN, SqlType};

/// SQL Server's default collation, declared on the schema's text columns and added to string literals.
pub const COLLATION: &str = "SQL_Latin1_General_CP1_CI_AS";

/// Marks an error raised by these functions so the engine reports its SQL Server number and text.
const TAG: &str = "\u{1}sqlserver:";

/// A SQL Server error raised from inside SQLite.
fn raise(number: u32, message: String) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(format!("{TAG}{number}:{message}").into())
}

/// The SQL Server number and text of an error raised by `raise`, found in SQLite's error message.
pub fn decode(message: &str) -> Option<(u32, String)> {
    let rest = &message[message.find(TAG)? + TAG.len()..];
    let (number, text) = rest.split_once(':')?;
    Some((number.parse().ok()?, text.to_string()))
}

/// Opens a connection with the collation and functions registered (every connection needs them: the
/// collation orders the primary keys, the length triggers call `cp_check_length`).
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    let db = Connection::open(path)?;
    register(&db)?;
    Ok(db)
}

pub fn register(db: &Connection) -> rusqlite::Result<()> {
    db.create_collation(COLLATION, compare_ci_padded)?;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    db.create_scalar_function("cp_cast", 2, flags, |ctx| {
        let target: String = ctx.get(1)?;
        let ty = SqlType::parse(&target)
            .ok_or_else(|| raise(243, format!("Type {target} is not a defined system type.")))?;
        cast(ctx.get_raw(0), &ty)
    })?;
    db.create_scalar_function("cp_nonzero", 1, flags, |ctx| {
        let value: Value = ctx.get_raw(0).into();
        let zero = match &value {
            Value::Integer(0) => true,
            Value::Real(f) => *f == 0.0,
            Value::Text(t) => t.trim().parse::<f64>().is_ok_and(|f| f == 0.0),
            _ => false,
        };
        if zero {
            return Err(raise(8134, "Divide by zero error encountered.".into()));
        }
        Ok(value)
    })?;
    // cp_check_length(table, column, value, max_chars, column, value, max_chars, …)
    db.create_scalar_function("cp_check_length", -1, flags, |ctx| {
        let table: String = ctx.get(0)?;
        let mut at = 1;
        while at + 2 < ctx.len() {
            let column: String = ctx.get(at)?;
            let max: i64 = ctx.get(at + 2)?;
            if let ValueRef::Text(bytes) = ctx.get_raw(at + 1) {
                let text = String::from_utf8_lossy(bytes);
                // Trailing blanks past the length are dropped silently (ANSI_PADDING), anything else fails.
                let kept = text.trim_end_matches(' ');
                if kept.chars().count() as i64 > max {
                    let truncated: String = text.chars().take(max.max(0) as usize).collect();
                    return Err(raise(
                        2628,
                        format!(
                            "String or binary data would be truncated in table 'CPSQL.dbo.{table}', column '{column}'. Truncated value: '{truncated}'."
                        ),
                    ));
                }
            }
            at += 3;
        }
        Ok(Value::Null)
    })?;
    Ok(())
}

/// Case-insensitive, accent-sensitive, and blind to trailing spaces (SQL Server pads the shorter string).
fn compare_ci_padded(a: &str, b: &str) -> Ordering {
    let a = a.trim_end_matches(' ').chars().flat_map(char::to_lowercase);
    let b = b.trim_end_matches(' ').chars().flat_map(char::to_lowercase);
    a.cmp(b)
}

/// A number or decimal text as an exact decimal (see `types::exact_decimal`).
fn exact_decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::Text(t) => parse_decimal_text(t),
        other => types::exact_decimal(other),
    }
}

/// Decimal text as SQL Server accepts it for CAST to decimal: optional sign, digits, one point; no exponent.
fn parse_decimal_text(text: &str) -> Option<Decimal> {
    let t = text.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    let valid = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|c| *c == '.').count() <= 1
        && digits.chars().any(|c| c.is_ascii_digit());
    if !valid {
        return None;
    }
    Decimal::from_str(t.trim_start_matches('+')).ok()
}

fn decimal_value(d: Decimal, scale: u8) -> Value {
    if scale == 0
        && let Ok(i) = i64::try_from(d.mantissa())
    {
        return Value::Integer(i);
    }
    Value::Real(d.to_string().parse().unwrap_or(0.0))
}

/// The SQL Server type name of what SQLite holds, for "converting the varchar value …" messages.
fn source_name(value: &ValueRef<'_>) -> &'static str {
    match value {
        ValueRef::Integer(_) => "int",
        ValueRef::Real(_) => "float",
        ValueRef::Blob(_) => "varbinary",
        _ => "varchar",
    }
}

/// CAST/CONVERT with SQL Server's errors: Msg 245 (text to integer), 8114 (text to numeric/float), 8115
/// (overflow), 235 (money), 241 (date/time), 8169 (uniqueidentifier); strings are cut to their length.
fn cast(value: ValueRef<'_>, ty: &SqlType) -> rusqlite::Result<Value> {
    let owned: Value = value.into();
    if owned == Value::Null {
        return Ok(Value::Null);
    }
    let text = types::to_text(&owned);
    let source = source_name(&value);
    let overflow = || {
        raise(
            8115,
            format!(
                "Arithmetic overflow error converting {} to data type {}.",
                if source == "varchar" {
                    "expression"
                } else {
                    source
                },
                match ty {
                    SqlType::Decimal { .. } => "numeric".to_string(),
                    other => other.name(),
                }
            ),
        )
    };
    match *ty {
        SqlType::TinyInt | SqlType::SmallInt | SqlType::Int | SqlType::BigInt => {
            let (min, max) = match ty {
                SqlType::TinyInt => (0, 255),
                SqlType::SmallInt => (i64::from(i16::MIN), i64::from(i16::MAX)),
                SqlType::Int => (i64::from(i32::MIN), i64::from(i32::MAX)),
                _ => (i64::MIN, i64::MAX),
            };
            let n = match &owned {
                Value::Integer(i) => *i,
                Value::Real(f) if f.is_finite() && f.abs() < 9.2e18 => f.trunc() as i64,
                Value::Real(_) => return Err(overflow()),
                _ => text.trim().parse::<i64>().map_err(|_| {
                    raise(
                        245,
                        format!(
                            "Conversion failed when converting the {source} value '{text}' to data type {}.",
                            ty.name()
                        ),
                    )
                })?,
            };
            if n < min || n > max {
                return Err(overflow());
            }
            Ok(Value::Integer(n))
        }
        SqlType::Bit => match &owned {
            Value::Integer(i) => Ok(Value::Integer(i64::from(*i != 0))),
            Value::Real(f) => Ok(Value::Integer(i64::from(*f != 0.0))),
            _ => match text.trim().to_ascii_uppercase().as_str() {
                "TRUE" => Ok(Value::Integer(1)),
                "FALSE" => Ok(Value::Integer(0)),
                t => t
                    .parse::<i64>()
                    .map(|i| Value::Integer(i64::from(i != 0)))
                    .map_err(|_| {
                        raise(
                            245,
                            format!(
                                "Conversion failed when converting the {source} value '{text}' to data type bit."
                            ),
                        )
                    }),
            },
        },
        SqlType::Decimal { precision, scale } => {
            let d = exact_decimal(&owned).ok_or_else(|| {
                raise(
                    8114,
                    format!("Error converting data type {source} to numeric."),
                )
            })?;
            let fitted = types::fit_decimal(d, precision, scale).ok_or_else(overflow)?;
            Ok(decimal_value(fitted, scale))
        }
        SqlType::Money => {
            let d = exact_decimal(&owned).ok_or_else(|| {
                raise(
                    235,
                    "Cannot convert a char value to money. The char value has incorrect syntax."
                        .into(),
                )
            })?;
            let fitted = types::fit_decimal(d, 19, 4).ok_or_else(overflow)?;
            Ok(decimal_value(fitted, 4))
        }
        SqlType::Real | SqlType::Float => match &owned {
            Value::Integer(i) => Ok(Value::Real(*i as f64)),
            Value::Real(f) => Ok(Value::Real(*f)),
            _ => text.trim().parse::<f64>().map(Value::Real).map_err(|_| {
                raise(
                    8114,
                    format!("Error converting data type {source} to float."),
                )
            }),
        },
        SqlType::VarChar { max_len } | SqlType::NVarChar { max_len } => {
            let unit = if matches!(ty, SqlType::NVarChar { .. }) {
                2
            } else {
                1
            };
            let limit = if max_len == MAX_LEN {
                usize::MAX
            } else {
                usize::from(max_len / unit)
            };
            Ok(Value::Text(text.chars().take(limit).collect()))
        }
        SqlType::DateTime | SqlType::DateTime2 { .. } | SqlType::Date => {
            let parsed = match &owned {
                Value::Text(t) => types::parse_datetime(t),
                _ => None,
            }
            .ok_or_else(|| {
                raise(
                    241,
                    "Conversion failed when converting date and/or time from character string."
                        .into(),
                )
            })?;
            Ok(Value::Text(match ty {
                SqlType::Date => parsed.format("%Y-%m-%d").to_string(),
                SqlType::DateTime2 { .. } => types::format_datetime2(&parsed),
                _ => types::format_datetime(&parsed),
            }))
        }
        SqlType::Time { .. } => Ok(Value::Text(text)),
        SqlType::UniqueIdentifier => types::parse_guid(&text)
            .map(|_| Value::Text(text.trim().trim_matches(['{', '}']).to_ascii_uppercase()))
            .ok_or_else(|| {
                raise(
                    8169,
                    "Conversion failed when converting from a character string to uniqueidentifier."
                        .into(),
                )
            }),
        SqlType::VarBinary { .. } => Ok(owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let db = Connection::open_in_memory().unwrap();
        register(&db).unwrap();
        db
    }

    fn error_number(db: &Connection, sql: &str) -> u32 {
        let err = db.query_row(sql, [], |r| r.get::<_, Value>(0)).unwrap_err();
        decode(&err.to_string())
            .unwrap_or_else(|| panic!("not a SQL Server error: {err}"))
            .0
    }

    #[test]
    fn conversions_fail_like_sql_server() {
        let db = db();
        assert_eq!(error_number(&db, "SELECT cp_cast('abc', 'int')"), 245);
        assert_eq!(error_number(&db, "SELECT cp_cast('1.5', 'int')"), 245);
        assert_eq!(
            error_number(&db, "SELECT cp_cast('abc', 'decimal(10,2)')"),
            8114
        );
        assert_eq!(
            error_number(&db, "SELECT cp_cast(1000, 'decimal(4,2)')"),
            8115
        );
        assert_eq!(error_number(&db, "SELECT cp_cast(300, 'tinyint')"), 8115);
        assert_eq!(error_number(&db, "SELECT cp_cast('x', 'datetime')"), 241);
        assert_eq!(error_number(&db, "SELECT 1 / cp_nonzero(0)"), 8134);
        let v: f64 = db
            .query_row("SELECT cp_cast('2.675', 'decimal(10,2)')", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 2.68);
        let v: String = db
            .query_row("SELECT cp_cast('abcdef', 'varchar(3)')", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, "abc");
    }

    #[test]
    fn collation_ignores_case_and_trailing_spaces() {
        let db = db();
        let eq: i64 = db
            .query_row(
                &format!("SELECT 'abc' COLLATE {COLLATION} = 'ABC   '"),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(eq, 1);
        let lt: i64 = db
            .query_row(
                &format!("SELECT 'ab' COLLATE {COLLATION} < 'abc'"),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(lt, 1);
    }

    #[test]
    fn exact_decimals_from_reals() {
        let sum = Value::Real(0.1 + 0.2);
        assert_eq!(
            types::fit_decimal(exact_decimal(&sum).unwrap(), 10, 1),
            Some(Decimal::new(3, 1))
        );
    }
}
