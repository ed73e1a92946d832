//! Reading typed values out of result rows without trusting the server: a wrong type or a NULL where a value
//! is required becomes `Malformed` naming the column, never a panic. Numbers are accepted in any numeric
//! wire type because money, decimal and int columns differ between Counterpoint versions.

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use tiberius::{ColumnData, Row};

use super::error::CounterpointError;

type Result<T> = std::result::Result<T, CounterpointError>;

fn malformed(column: &str, detail: impl Into<String>) -> CounterpointError {
    CounterpointError::Malformed {
        column: column.to_string(),
        detail: detail.into(),
    }
}

fn cell<'r>(row: &'r Row, column: &str) -> Result<&'r ColumnData<'static>> {
    row.get_column_data(column)
        .map_err(|e| malformed(column, e.to_string()))
}

pub(super) fn text(row: &Row, column: &str) -> Result<Option<String>> {
    match cell(row, column)? {
        ColumnData::String(s) => Ok(s.as_ref().map(|s| s.trim_end().to_string())),
        ColumnData::I32(Some(n)) => Ok(Some(n.to_string())),
        ColumnData::I64(Some(n)) => Ok(Some(n.to_string())),
        other if is_null(other) => Ok(None),
        other => Err(malformed(column, format!("expected text, got {other:?}"))),
    }
}

pub(super) fn required_text(row: &Row, column: &str) -> Result<String> {
    text(row, column)?.ok_or_else(|| malformed(column, "NULL where a value is required"))
}

pub(super) fn int(row: &Row, column: &str) -> Result<Option<i64>> {
    match cell(row, column)? {
        ColumnData::U8(n) => Ok(n.map(i64::from)),
        ColumnData::I16(n) => Ok(n.map(i64::from)),
        ColumnData::I32(n) => Ok(n.map(i64::from)),
        ColumnData::I64(n) => Ok(*n),
        ColumnData::Numeric(Some(n)) if n.scale() == 0 => i64::try_from(n.value())
            .map(Some)
            .map_err(|_| malformed(column, "integer out of range")),
        other if is_null(other) => Ok(None),
        other => Err(malformed(
            column,
            format!("expected an integer, got {other:?}"),
        )),
    }
}

pub(super) fn required_int(row: &Row, column: &str) -> Result<i64> {
    int(row, column)?.ok_or_else(|| malformed(column, "NULL where a value is required"))
}

pub(super) fn decimal(row: &Row, column: &str) -> Result<Option<Decimal>> {
    match cell(row, column)? {
        ColumnData::Numeric(Some(n)) => {
            Decimal::try_from_i128_with_scale(n.value(), u32::from(n.scale()))
                .map(Some)
                .map_err(|e| malformed(column, e.to_string()))
        }
        // money / smallmoney arrive as floats; four decimals is their exact precision.
        ColumnData::F64(Some(f)) => Decimal::try_from(*f)
            .map(|d| Some(d.round_dp(4)))
            .map_err(|e| malformed(column, e.to_string())),
        ColumnData::F32(Some(f)) => Decimal::try_from(*f)
            .map(|d| Some(d.round_dp(4)))
            .map_err(|e| malformed(column, e.to_string())),
        ColumnData::U8(Some(n)) => Ok(Some(Decimal::from(*n))),
        ColumnData::I16(Some(n)) => Ok(Some(Decimal::from(*n))),
        ColumnData::I32(Some(n)) => Ok(Some(Decimal::from(*n))),
        ColumnData::I64(Some(n)) => Ok(Some(Decimal::from(*n))),
        other if is_null(other) => Ok(None),
        other => Err(malformed(
            column,
            format!("expected a number, got {other:?}"),
        )),
    }
}

pub(super) fn datetime(row: &Row, column: &str) -> Result<Option<NaiveDateTime>> {
    row.try_get::<NaiveDateTime, _>(column)
        .map_err(|e| malformed(column, e.to_string()))
}

fn is_null(data: &ColumnData<'_>) -> bool {
    match data {
        ColumnData::U8(v) => v.is_none(),
        ColumnData::I16(v) => v.is_none(),
        ColumnData::I32(v) => v.is_none(),
        ColumnData::I64(v) => v.is_none(),
        ColumnData::F32(v) => v.is_none(),
        ColumnData::F64(v) => v.is_none(),
        ColumnData::Bit(v) => v.is_none(),
        ColumnData::String(v) => v.is_none(),
        ColumnData::Numeric(v) => v.is_none(),
        ColumnData::Guid(v) => v.is_none(),
        ColumnData::Binary(v) => v.is_none(),
        ColumnData::DateTime(v) => v.is_none(),
        ColumnData::SmallDateTime(v) => v.is_none(),
        _ => false,
    }
}
