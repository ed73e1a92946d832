//! One representation of time in the store: milliseconds since the Unix epoch, UTC.
//! Formatting for people and JSON happens at the edges through these helpers.

use chrono::{DateTime, SecondsFormat, Utc};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

pub fn now_ms() -> Millis {
    Utc::now().timestamp_millis()
}

/// RFC 3339 in UTC with milliseconds, e.g. `2026-11-21T21:41:24.123Z`.
pub fn to_rfc3339(ms: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Short local-free form for tables: `2026-11-21 21:41`.
pub fn to_short(ms: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A compact age such as `45s`, `12m`, `3h`, `5d`.
pub fn age(from: Millis, now: Millis) -> String {
    let secs = ((now - from).max(0)) / 1000;
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_utc_and_stable() {
        assert_eq!(to_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(to_short(90_061_000), "1970-01-02 01:01");
        assert_eq!(age(0, 59_000), "59s");
        assert_eq!(age(0, 3_600_000 * 49), "2d");
    }
}
