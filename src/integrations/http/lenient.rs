//! Field parsers that accept the shapes real stores send for the same field (a price as "12.50", "" or 12.5;
//! a SKU as null; a GMT date with or without an offset) while still rejecting values that make no sense.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::Value;

/// A string field that stores may send as null (→ ""), a string, or a number (→ its text).
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(de::Error::custom(format!(
            "expected a string, got {}",
            kind(&other)
        ))),
    }
}

/// A number that may come as a JSON number or a numeric string ("" and null mean 0).
pub(crate) fn number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(0.0),
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| de::Error::custom("number out of range")),
        Value::String(s) if s.trim().is_empty() => Ok(0.0),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| de::Error::custom(format!("expected a number, got {s:?}"))),
        other => Err(de::Error::custom(format!(
            "expected a number, got {}",
            kind(&other)
        ))),
    }
}

/// A whole count that may be null, a number (`3` or `3.0`) or a numeric string.
pub(crate) fn opt_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let value = Value::deserialize(d)?;
    let parsed = match &value {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::Number(n) => n.as_i64().or_else(|| whole(n.as_f64())),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| whole(s.trim().parse().ok())),
        _ => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| de::Error::custom(format!("expected a whole number, got {value}")))
}

/// A whole count that must be present.
pub(crate) fn count<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    opt_count(d)?.ok_or_else(|| de::Error::custom("expected a whole number, got null"))
}

fn whole(value: Option<f64>) -> Option<i64> {
    // Counts travel as floats in some plugins' output; accept them only when they are exact integers.
    value
        .filter(|v| v.fract() == 0.0 && v.abs() < 9.0e15)
        .map(|v| v as i64)
}

/// `manage_stock`: a bool, or "parent" on variations whose stock the parent product manages.
pub(crate) fn manage_stock<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(b),
        Value::String(s) if s == "parent" => Ok(true),
        other => Err(de::Error::custom(format!(
            "expected a bool or \"parent\", got {other}"
        ))),
    }
}

/// `*_gmt` dates: ISO 8601 without offset in UTC; an explicit offset is honoured; null or "" mean unknown.
pub(crate) fn opt_gmt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(naive) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(Some(naive.and_utc()));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|d| Some(d.with_timezone(&Utc)))
        .map_err(|_| de::Error::custom(format!("expected an ISO 8601 date, got {text:?}")))
}

/// Arrays and objects that stores sometimes send as null (e.g. `billing` on draft orders).
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A number that may be absent, null, "" (all → `None`), a JSON number or a numeric string.
pub(crate) fn opt_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        other => number(other).map(Some).map_err(de::Error::custom),
    }
}
