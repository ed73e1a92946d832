//! Retry timing: exponential backoff with full jitter, and `Retry-After` in both of its HTTP forms.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// Delay before retry number `retry` (0 for the first retry): uniform in `0..=min(cap, base * 2^retry)`.
pub(crate) fn full_jitter(base: Duration, cap: Duration, retry: u32) -> Duration {
    let ceiling = base
        .checked_mul(1u32.checked_shl(retry.min(30)).unwrap_or(u32::MAX))
        .unwrap_or(cap)
        .min(cap);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(fastrand::u64(0..=millis))
}

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

    #[test]
    fn jitter_stays_under_the_cap() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(1);
        for retry in 0..40 {
            assert!(full_jitter(base, cap, retry) <= cap);
        }
        assert!(full_jitter(base, cap, 0) <= base);
    }
}
