//! The one classification of a failed HTTP exchange, shared by every HTTP client: can it be sent again,
//! and was it surely not applied (so even a write that must not be repeated may be resent)? Each client's
//! error type only says which of its variants is which kind of failure.

use super::retry_after::parse_retry_after;
use super::transport::TransportKind;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use std::time::Duration;

/// How a failed exchange stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// It surely never took effect (no connection, throttled with 429, 503 unavailable, a maintenance page
    /// instead of an answer): sending it again is safe even for a write.
    NotApplied { retry_after: Option<Duration> },
    /// Transient, but the server may have acted on it (timeout, broken answer, other 5xx, 408).
    Transient { retry_after: Option<Duration> },
    /// Sending it again unchanged cannot help (a refusal, a bad request, unauthorised, bad config).
    Final,
}

impl Failure {
    /// A non-2xx answer: 408, 429 and 5xx other than 501 are worth repeating; 429 and 503 mean the server
    /// turned the request away before doing anything.
    pub fn of_status(status: u16, retry_after: Option<Duration>) -> Failure {
        match status {
            429 | 503 => Failure::NotApplied { retry_after },
            _ if is_retryable_status(status) => Failure::Transient { retry_after },
            _ => Failure::Final,
        }
    }

    /// A transport failure: only a connection never made is sure not to have reached the server.
    pub fn of_transport(kind: TransportKind) -> Failure {
        match kind {
            TransportKind::Connect => Failure::NotApplied { retry_after: None },
            TransportKind::Timeout | TransportKind::Interrupted => {
                Failure::Transient { retry_after: None }
            }
        }
    }

    pub fn is_retryable(self) -> bool {
        self != Failure::Final
    }

    /// The server's own `Retry-After`, when it sent one with a retryable answer.
    pub fn retry_after(self) -> Option<Duration> {
        match self {
            Failure::NotApplied { retry_after } | Failure::Transient { retry_after } => retry_after,
            Failure::Final => None,
        }
    }
}

/// An HTTP client's error type, as the shared retry loop sees it.
pub trait HttpFailure: std::fmt::Display {
    fn failure(&self) -> Failure;
}

/// 408 and 429 are the only 4xx worth repeating; 501 (not implemented) will not fix itself.
pub fn is_retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || (status >= 500 && status != 501)
}

/// The `Retry-After` of an answer whose status is worth repeating (elsewhere it means nothing to us).
pub fn retry_after_of(status: u16, headers: &HeaderMap) -> Option<Duration> {
    if !is_retryable_status(status) {
        return None;
    }
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, chrono::Utc::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_sort_into_the_three_kinds() {
        let wait = Some(Duration::from_secs(3));
        assert_eq!(
            Failure::of_status(429, wait),
            Failure::NotApplied { retry_after: wait }
        );
        assert_eq!(
            Failure::of_status(503, None),
            Failure::NotApplied { retry_after: None }
        );
        assert_eq!(
            Failure::of_status(502, None),
            Failure::Transient { retry_after: None }
        );
        assert_eq!(Failure::of_status(501, None), Failure::Final);
        assert_eq!(Failure::of_status(401, None), Failure::Final);
        assert!(Failure::of_transport(TransportKind::Timeout).is_retryable());
    }
}
