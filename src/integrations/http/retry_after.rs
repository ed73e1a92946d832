//! `Retry-After` in both of its HTTP forms, for every HTTP connector. (The backoff itself is
//! `domain::backoff`, shared with the engine.)

use chrono::{DateTime, Utc};
use std::time::Duration;

/// Parses `Retry-After`: delta-seconds (`120`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`).
/// A date in the past means "now". Anything else is ignored (`None`) and normal backoff applies.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_after_seconds() {
        assert_eq!(
            parse_retry_after("2", Utc::now()),
            Some(Duration::from_secs(2))
        );
        assert_eq!(parse_retry_after(" 0 ", Utc::now()), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_http_date() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 27, 30).unwrap();
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(30))
        );
        // Already past: retry at once rather than never.
        let later = Utc.with_ymd_and_hms(2015, 10, 21, 8, 0, 0).unwrap();
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", later),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_garbage_is_ignored() {
        assert_eq!(parse_retry_after("soon", Utc::now()), None);
        assert_eq!(parse_retry_after("-5", Utc::now()), None);
    }
}
