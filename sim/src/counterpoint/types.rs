//! SQL Server data types as the simulator names, declares and encodes them: type names from DDL and
//! sp_executesql declarations, TYPE_INFO bytes for COLMETADATA, and value bytes for ROW tokens.

use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use rusqlite::types::Value;
use rust_decimal::Decimal;

/// Marker for `(max)` lengths in TYPE_INFO; such values travel as PLP chunks.
pub const MAX_LEN: u16 = 0xFFFF;

/// SQL_Latin1_General_CP1_CI_AS: LCID 0x0409, case/kana/width-insensitive flags, sort id 52 (code page 1252).
pub const COLLATION: [u8; 5] = [0x09, 0x04, 0xD0, 0x00, 0x34];

/// The SQL Server types the simulator speaks. Lengths are in bytes as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Bit,
    Real,
    Float,
    Decimal { precision: u8, scale: u8 },
    Money,
    VarChar { max_len: u16 },
    NVarChar { max_len: u16 },
    DateTime,
    DateTime2 { scale: u8 },
    Date,
    Time { scale: u8 },
    UniqueIdentifier,
    VarBinary { max_len: u16 },
}

/// A value that cannot be represented in the target type (SQL Server Msg 245 / 8115).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversionError {
    #[error("Conversion failed when converting the value '{value}' to data type {target}.")]
    Invalid { value: String, target: String },
    #[error("Arithmetic overflow error converting expression to data type {target}.")]
    Overflow { target: String },
}

impl ConversionError {
    pub fn number(&self) -> u32 {
        match self {
            ConversionError::Invalid { .. } => 245,
            ConversionError::Overflow { .. } => 8115,
        }
    }
}

fn parse_len(arg: Option<&str>, default: u32, unit: u32) -> u16 {
    match arg {
        Some(a) if a.eq_ignore_ascii_case("max") => MAX_LEN,
        Some(a) => a
            .trim()
            .parse::<u32>()
            .ok()
            .map(|n| (n * unit).min(8000) as u16)
            .unwrap_or(MAX_LEN),
        None => (default * unit).min(8000) as u16,
    }
}

impl SqlType {
    /// Parses a T-SQL type name such as `decimal(15,4)`, `varchar(20)`, `nvarchar(max)` or `float(53)`.
    pub fn parse(name: &str) -> Option<SqlType> {
        let lower = name.trim().to_ascii_lowercase();
        let (base, args) = match lower.find('(') {
            Some(open) => {
                let inner = lower[open + 1..].trim_end().trim_end_matches(')');
                (
                    lower[..open].trim(),
                    inner.split(',').map(str::trim).collect::<Vec<_>>(),
                )
            }
            None => (lower.as_str(), Vec::new()),
        };
        let first = args.first().copied();
        let number = |i: usize, default: u8| -> u8 {
            args.get(i)
                .and_then(|a| a.parse::<u8>().ok())
                .unwrap_or(default)
        };
        Some(match base {
            "tinyint" => SqlType::TinyInt,
            "smallint" => SqlType::SmallInt,
            "int" | "integer" => SqlType::Int,
            "bigint" => SqlType::BigInt,
            "bit" => SqlType::Bit,
            "real" => SqlType::Real,
            "float" if number(0, 53) <= 24 => SqlType::Real,
            "float" => SqlType::Float,
            "decimal" | "numeric" | "dec" => SqlType::Decimal {
                precision: number(0, 18).clamp(1, 38),
                scale: number(1, 0).min(number(0, 18)),
            },
            "money" | "smallmoney" => SqlType::Money,
            "varchar" | "char" | "text" => SqlType::VarChar {
                max_len: if base == "text" {
                    MAX_LEN
                } else {
                    parse_len(first, 8000, 1)
                },
            },
            "nvarchar" | "nchar" | "ntext" | "sysname" => SqlType::NVarChar {
                max_len: if base == "ntext" {
                    MAX_LEN
                } else {
                    parse_len(first, 4000, 2)
                },
            },
            "datetime" | "smalldatetime" => SqlType::DateTime,
            "datetime2" => SqlType::DateTime2 {
                scale: number(0, 7).min(7),
            },
            "date" => SqlType::Date,
            "time" => SqlType::Time {
                scale: number(0, 7).min(7),
            },
            "uniqueidentifier" => SqlType::UniqueIdentifier,
            "varbinary" | "binary" | "image" => SqlType::VarBinary {
                max_len: if base == "image" {
                    MAX_LEN
                } else {
                    parse_len(first, 8000, 1)
                },
            },
            _ => return None,
        })
    }

    /// The T-SQL spelling, for error messages.
    pub fn name(&self) -> String {
        let len = |l: u16, unit: u16| {
            if l == MAX_LEN {
                "max".to_string()
            } else {
                (l / unit).to_string()
            }
        };
        match *self {
            SqlType::TinyInt => "tinyint".into(),
            SqlType::SmallInt => "smallint".into(),
            SqlType::Int => "int".into(),
            SqlType::BigInt => "bigint".into(),
            SqlType::Bit => "bit".into(),
            SqlType::Real => "real".into(),
            SqlType::Float => "float".into(),
            SqlType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
            SqlType::Money => "money".into(),
            SqlType::VarChar { max_len } => format!("varchar({})", len(max_len, 1)),
            SqlType::NVarChar { max_len } => format!("nvarchar({})", len(max_len, 2)),
            SqlType::DateTime => "datetime".into(),
            SqlType::DateTime2 { scale } => format!("datetime2({scale})"),
            SqlType::Date => "date".into(),
            SqlType::Time { scale } => format!("time({scale})"),
            SqlType::UniqueIdentifier => "uniqueidentifier".into(),
            SqlType::VarBinary { max_len } => format!("varbinary({})", len(max_len, 1)),
        }
    }

    /// TYPE_INFO as sent in COLMETADATA.
    pub fn write_type_info(&self, out: &mut Vec<u8>) {
        match *self {
            SqlType::TinyInt => out.extend_from_slice(&[0x26, 1]),
            SqlType::SmallInt => out.extend_from_slice(&[0x26, 2]),
            SqlType::Int => out.extend_from_slice(&[0x26, 4]),
            SqlType::BigInt => out.extend_from_slice(&[0x26, 8]),
            SqlType::Bit => out.extend_from_slice(&[0x68, 1]),
            SqlType::Real => out.extend_from_slice(&[0x6D, 4]),
            SqlType::Float => out.extend_from_slice(&[0x6D, 8]),
            SqlType::Decimal { precision, scale } => {
                out.extend_from_slice(&[0x6A, decimal_len(precision), precision, scale])
            }
            SqlType::Money => out.extend_from_slice(&[0x6E, 8]),
            SqlType::VarChar { max_len } => {
                out.push(0xA7);
                out.extend_from_slice(&max_len.to_le_bytes());
                out.extend_from_slice(&COLLATION);
            }
            SqlType::NVarChar { max_len } => {
                out.push(0xE7);
                out.extend_from_slice(&max_len.to_le_bytes());
                out.extend_from_slice(&COLLATION);
            }
            SqlType::DateTime => out.extend_from_slice(&[0x6F, 8]),
            SqlType::DateTime2 { scale } => out.extend_from_slice(&[0x2A, scale]),
            SqlType::Date => out.push(0x28),
            SqlType::Time { scale } => out.extend_from_slice(&[0x29, scale]),
            SqlType::UniqueIdentifier => out.extend_from_slice(&[0x24, 16]),
            SqlType::VarBinary { max_len } => {
                out.push(0xA5);
                out.extend_from_slice(&max_len.to_le_bytes());
            }
        }
    }

    /// Writes one value in ROW-token form, converting from what SQLite holds.
    pub fn write_value(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), ConversionError> {
        let var_max = matches!(
            *self,
            SqlType::VarChar { max_len: MAX_LEN }
                | SqlType::NVarChar { max_len: MAX_LEN }
                | SqlType::VarBinary { max_len: MAX_LEN }
        );
        if matches!(value, Value::Null) {
            match self {
                _ if var_max => out.extend_from_slice(&u64::MAX.to_le_bytes()),
                SqlType::VarChar { .. } | SqlType::NVarChar { .. } | SqlType::VarBinary { .. } => {
                    out.extend_from_slice(&MAX_LEN.to_le_bytes())
                }
                _ => out.push(0),
            }
            return Ok(());
        }
        match *self {
            SqlType::TinyInt => {
                let v = u8::try_from(to_i64(value, self)?).map_err(|_| self.overflow())?;
                out.extend_from_slice(&[1, v]);
            }
            SqlType::SmallInt => {
                let v = i16::try_from(to_i64(value, self)?).map_err(|_| self.overflow())?;
                out.push(2);
                out.extend_from_slice(&v.to_le_bytes());
            }
            SqlType::Int => {
                let v = i32::try_from(to_i64(value, self)?).map_err(|_| self.overflow())?;
                out.push(4);
                out.extend_from_slice(&v.to_le_bytes());
            }
            SqlType::BigInt => {
                out.push(8);
                out.extend_from_slice(&to_i64(value, self)?.to_le_bytes());
            }
            SqlType::Bit => out.extend_from_slice(&[1, u8::from(to_i64(value, self)? != 0)]),
            SqlType::Real => {
                out.push(4);
                out.extend_from_slice(&(to_f64(value, self)? as f32).to_le_bytes());
            }
            SqlType::Float => {
                out.push(8);
                out.extend_from_slice(&to_f64(value, self)?.to_le_bytes());
            }
            SqlType::Decimal { precision, scale } => {
                let scaled = fit_decimal(to_decimal(value, self)?, precision, scale)
                    .ok_or_else(|| self.overflow())?;
                let m = scaled.mantissa();
                let len = decimal_len(precision);
                out.push(len);
                out.push(u8::from(m >= 0));
                out.extend_from_slice(&m.unsigned_abs().to_le_bytes()[..usize::from(len - 1)]);
            }
            SqlType::Money => {
                let d =
                    fit_decimal(to_decimal(value, self)?, 19, 4).ok_or_else(|| self.overflow())?;
                let units = i64::try_from(d.mantissa()).map_err(|_| self.overflow())?;
                out.push(8);
                out.extend_from_slice(&((units >> 32) as i32).to_le_bytes());
                out.extend_from_slice(&(units as u32).to_le_bytes());
            }
            // A value never comes back longer than its column (trailing blanks kept by ANSI_PADDING
            // included).
            SqlType::VarChar { max_len } => {
                let mut bytes = cp1252_encode(&to_text(value));
                if !var_max {
                    bytes.truncate(usize::from(max_len));
                }
                write_var_bytes(&bytes, var_max, out)
            }
            SqlType::NVarChar { max_len } => {
                let units = to_text(value).encode_utf16().collect::<Vec<u16>>();
                let keep = if var_max {
                    units.len()
                } else {
                    units.len().min(usize::from(max_len / 2))
                };
                let bytes: Vec<u8> = units[..keep].iter().flat_map(|u| u.to_le_bytes()).collect();
                write_var_bytes(&bytes, var_max, out)
            }
            SqlType::VarBinary { .. } => {
                let bytes = match value {
                    Value::Blob(b) => b.clone(),
                    other => to_text(other).into_bytes(),
                };
                write_var_bytes(&bytes, var_max, out)
            }
            SqlType::DateTime => {
                let dt = to_datetime(value, self)?;
                let (days, ticks) = datetime_parts(dt);
                out.push(8);
                out.extend_from_slice(&days.to_le_bytes());
                out.extend_from_slice(&ticks.to_le_bytes());
            }
            SqlType::DateTime2 { scale } => {
                let dt = to_datetime(value, self)?;
                let time = time_bytes(dt.time(), scale);
                out.push((time.len() + 3) as u8);
                out.extend_from_slice(&time);
                out.extend_from_slice(&date_bytes(dt.date()));
            }
            SqlType::Date => {
                out.push(3);
                out.extend_from_slice(&date_bytes(to_datetime(value, self)?.date()));
            }
            SqlType::Time { scale } => {
                let time = match value {
                    Value::Text(t) => parse_time(t).ok_or_else(|| self.invalid(value))?,
                    _ => return Err(self.invalid(value)),
                };
                let bytes = time_bytes(time, scale);
                out.push(bytes.len() as u8);
                out.extend_from_slice(&bytes);
            }
            SqlType::UniqueIdentifier => {
                let guid = match value {
                    Value::Text(t) => parse_guid(t).ok_or_else(|| self.invalid(value))?,
                    Value::Blob(b) if b.len() == 16 => {
                        let mut g = [0u8; 16];
                        g.copy_from_slice(b);
                        g
                    }
                    _ => return Err(self.invalid(value)),
                };
                out.push(16);
                out.extend_from_slice(&guid);
            }
        }
        Ok(())
    }

    fn overflow(&self) -> ConversionError {
        ConversionError::Overflow {
            target: self.name(),
        }
    }

    fn invalid(&self, value: &Value) -> ConversionError {
        ConversionError::Invalid {
            value: to_text(value),
            target: self.name(),
        }
    }
}

/// Byte length of a DECIMALN value (sign byte included) for a precision.
pub fn decimal_len(precision: u8) -> u8 {
    match precision {
        0..=9 => 5,
        10..=19 => 9,
        20..=28 => 13,
        _ => 17,
    }
}

fn write_var_bytes(bytes: &[u8], plp: bool, out: &mut Vec<u8>) {
    if plp {
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        if !bytes.is_empty() {
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        out.extend_from_slice(&0u32.to_le_bytes());
    } else {
        // Non-max columns hold at most 8000 bytes; a longer value is cut like SQL Server's ANSI_WARNINGS OFF.
        let len = bytes.len().min(8000);
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.extend_from_slice(&bytes[..len]);
    }
}

fn to_i64(value: &Value, ty: &SqlType) -> Result<i64, ConversionError> {
    match value {
        Value::Integer(i) => Ok(*i),
        Value::Real(f) if f.is_finite() && f.abs() < 9.2e18 => Ok(f.trunc() as i64),
        Value::Text(t) => {
            let t = t.trim();
            t.parse::<i64>()
                .ok()
                .or_else(|| {
                    t.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .map(|f| f.trunc() as i64)
                })
                .ok_or_else(|| ty.invalid(value))
        }
        _ => Err(ty.invalid(value)),
    }
}

fn to_f64(value: &Value, ty: &SqlType) -> Result<f64, ConversionError> {
    match value {
        Value::Integer(i) => Ok(*i as f64),
        Value::Real(f) => Ok(*f),
        Value::Text(t) => t.trim().parse::<f64>().map_err(|_| ty.invalid(value)),
        _ => Err(ty.invalid(value)),
    }
}

fn to_decimal(value: &Value, ty: &SqlType) -> Result<Decimal, ConversionError> {
    match value {
        Value::Integer(i) => Ok(Decimal::from(*i)),
        Value::Real(_) => exact_decimal(value).ok_or_else(|| ty.overflow()),
        Value::Text(t) => Decimal::from_str(t.trim())
            .or_else(|_| Decimal::from_scientific(t.trim()))
            .map_err(|_| ty.invalid(value)),
        _ => Err(ty.invalid(value)),
    }
}

/// A stored number as an exact decimal. SQLite keeps decimals as REAL; read by their shortest round-trip
/// text (0.3 for 0.1 + 0.2, 2.675 for 2.675) and rounded to the column's scale, they come back exactly as
/// SQL Server's decimal arithmetic would give them — for values of up to 15 significant digits.
pub fn exact_decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::Integer(i) => Some(Decimal::from(*i)),
        Value::Real(f) if f.is_finite() => Decimal::from_str(&f.to_string())
            .ok()
            .or_else(|| Decimal::from_f64_retain(*f)),
        _ => None,
    }
}

/// Rounds half away from zero (SQL Server's rule, not banker's) to `scale`; `None` when the digits left
/// of the point do not fit `precision`.
pub fn fit_decimal(d: Decimal, precision: u8, scale: u8) -> Option<Decimal> {
    let mut rounded = d.round_dp_with_strategy(
        u32::from(scale),
        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
    );
    rounded.rescale(u32::from(scale));
    let limit = 10u128.checked_pow(u32::from(precision))?;
    (rounded.mantissa().unsigned_abs() < limit).then_some(rounded)
}

/// Text form of any stored value, as SQL Server would convert it to varchar.
pub fn to_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(t) => t.clone(),
        Value::Blob(b) => b.iter().map(|x| format!("{x:02X}")).collect(),
    }
}

fn to_datetime(value: &Value, ty: &SqlType) -> Result<NaiveDateTime, ConversionError> {
    match value {
        Value::Text(t) => parse_datetime(t).ok_or_else(|| ty.invalid(value)),
        _ => Err(ty.invalid(value)),
    }
}

/// Accepts the forms the simulator stores and clients send: `YYYY-MM-DD[ T]HH:MM:SS[.fffffff]` or a date.
pub fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim();
    NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f"))
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M:%S%.f").ok()
}

/// How datetime values are stored in SQLite: fixed millisecond text, so text order is time order.
pub fn format_datetime(dt: &NaiveDateTime) -> String {
    dt.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// datetime2 keeps 100 ns precision; trailing zeros past milliseconds are dropped so equal instants
/// compare equal to `format_datetime` text.
pub fn format_datetime2(dt: &NaiveDateTime) -> String {
    // chrono offers 3, 6 or 9 fraction digits; 9 cut to 7 is exact for datetime2's 100 ns units.
    let nine = dt.format("%Y-%m-%d %H:%M:%S%.9f").to_string();
    let full = &nine[..nine.len() - 2];
    let trimmed = full.trim_end_matches('0');
    let min_len = full.len() - 4;
    full[..trimmed.len().max(min_len)].to_string()
}

fn epoch_1900() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default()
}

/// datetime on the wire: days since 1900-01-01 and 1/300 s ticks since midnight.
pub fn datetime_parts(dt: NaiveDateTime) -> (i32, u32) {
    let mut days = (dt.date() - epoch_1900()).num_days() as i32;
    let nanos = u64::from(dt.time().num_seconds_from_midnight()) * 1_000_000_000
        + u64::from(dt.time().nanosecond().min(999_999_999));
    let mut ticks = ((nanos * 3 + 5_000_000) / 10_000_000) as u32;
    if ticks >= 300 * 86_400 {
        ticks = 0;
        days += 1;
    }
    (days, ticks)
}

pub fn datetime_from_parts(days: i32, ticks: u32) -> Option<NaiveDateTime> {
    let date = epoch_1900().checked_add_signed(chrono::Duration::days(i64::from(days)))?;
    let nanos = u64::from(ticks) * 10_000_000 / 3;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(
        (nanos / 1_000_000_000) as u32,
        (nanos % 1_000_000_000) as u32,
    )?;
    Some(date.and_time(time))
}

fn time_bytes(time: NaiveTime, scale: u8) -> Vec<u8> {
    let nanos = u64::from(time.num_seconds_from_midnight()) * 1_000_000_000
        + u64::from(time.nanosecond().min(999_999_999));
    let units = nanos / 10u64.pow(9 - u32::from(scale.min(7)));
    units.to_le_bytes()[..time_len(scale)].to_vec()
}

pub fn time_len(scale: u8) -> usize {
    match scale {
        0..=2 => 3,
        3..=4 => 4,
        _ => 5,
    }
}

pub fn time_from_units(units: u64, scale: u8) -> Option<NaiveTime> {
    let nanos = units.checked_mul(10u64.pow(9 - u32::from(scale.min(7))))?;
    NaiveTime::from_num_seconds_from_midnight_opt(
        (nanos / 1_000_000_000) as u32,
        (nanos % 1_000_000_000) as u32,
    )
}

fn date_bytes(date: NaiveDate) -> [u8; 3] {
    let days = date.num_days_from_ce() - 1;
    let b = (days as u32).to_le_bytes();
    [b[0], b[1], b[2]]
}

pub fn date_from_days(days: u32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(days).ok()? + 1)
}

/// GUID text (`8-4-4-4-12` hex, braces optional) to SQL Server's mixed-endian byte order.
pub fn parse_guid(text: &str) -> Option<[u8; 16]> {
    let hex: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    if hex.len() != 32
        || text
            .chars()
            .any(|c| !(c.is_ascii_hexdigit() || "-{}".contains(c)))
    {
        return None;
    }
    let mut raw = [0u8; 16];
    for (i, byte) in raw.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).ok()?;
    }
    raw[0..4].reverse();
    raw[4..6].reverse();
    raw[6..8].reverse();
    Some(raw)
}

pub fn format_guid(wire: &[u8; 16]) -> String {
    let mut raw = *wire;
    raw[0..4].reverse();
    raw[4..6].reverse();
    raw[6..8].reverse();
    let hex: String = raw.iter().map(|b| format!("{b:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Code page 1252 characters 0x80–0x9F; the rest of the page equals Latin-1.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
];

/// Encodes for a varchar column; characters outside code page 1252 become `?`, as in SQL Server.
pub fn cp1252_encode(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| {
            let code = c as u32;
            if code < 0x80 || (0xA0..=0xFF).contains(&code) {
                code as u8
            } else {
                CP1252_HIGH
                    .iter()
                    .position(|h| *h == c)
                    .map_or(b'?', |i| 0x80 + i as u8)
            }
        })
        .collect()
}

pub fn cp1252_decode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if (0x80..0xA0).contains(&b) {
                CP1252_HIGH[usize::from(b - 0x80)]
            } else {
                char::from(b)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_type_names() {
        assert_eq!(
            SqlType::parse("decimal(15,4)"),
            Some(SqlType::Decimal {
                precision: 15,
                scale: 4
            })
        );
        assert_eq!(
            SqlType::parse("VARCHAR(20)"),
            Some(SqlType::VarChar { max_len: 20 })
        );
        assert_eq!(
            SqlType::parse("nvarchar(max)"),
            Some(SqlType::NVarChar { max_len: MAX_LEN })
        );
        assert_eq!(SqlType::parse("float(24)"), Some(SqlType::Real));
        assert_eq!(
            SqlType::parse("datetime2"),
            Some(SqlType::DateTime2 { scale: 7 })
        );
        assert_eq!(SqlType::parse("geography"), None);
    }

    #[test]
    fn datetime_ticks_round_trip() {
        let dt = parse_datetime("2026-01-05 13:45:10.333").unwrap();
        let (days, ticks) = datetime_parts(dt);
        let back = datetime_from_parts(days, ticks).unwrap();
        assert_eq!(format_datetime(&back), "2026-01-05 13:45:10.333");
    }

    #[test]
    fn datetime2_text_trims_to_milliseconds() {
        let dt = parse_datetime("2026-01-05 13:45:10.5").unwrap();
        assert_eq!(format_datetime2(&dt), "2026-01-05 13:45:10.500");
        let fine = parse_datetime("2026-01-05 13:45:10.1234567").unwrap();
        assert_eq!(format_datetime2(&fine), "2026-01-05 13:45:10.1234567");
    }

    #[test]
    fn guid_round_trip() {
        let text = "6F9619FF-8B86-D011-B42D-00C04FC964FF";
        assert_eq!(format_guid(&parse_guid(text).unwrap()), text);
    }

    #[test]
    fn cp1252_round_trip_and_replacement() {
        assert_eq!(cp1252_decode(&cp1252_encode("Žemlja €")), "Žemlja €");
        assert_eq!(cp1252_encode("東"), b"?");
    }
}
