//! What the HTTP connectors share about a failed exchange: the transport failure kinds, which statuses are
//! worth repeating, and a credential-free description of a `reqwest` error.

use std::error::Error as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Timeout,
    Connect,
    /// The connection broke after the request went out (reset, closed early, truncated body).
    Interrupted,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransportKind::Timeout => "timed out",
            TransportKind::Connect => "could not connect",
            TransportKind::Interrupted => "connection interrupted",
        })
    }
}

/// 408 and 429 are the only 4xx worth repeating; 501 (not implemented) will not fix itself.
pub fn is_retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || (status >= 500 && status != 501)
}

/// The kind of a `reqwest` failure and its message with every cause, without the URL (which may carry
/// credentials).
pub fn describe(error: reqwest::Error) -> (TransportKind, String) {
    let kind = if error.is_timeout() {
        TransportKind::Timeout
    } else if error.is_connect() {
        TransportKind::Connect
    } else {
        TransportKind::Interrupted
    };
    let error = error.without_url();
    let mut detail = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    (kind, detail)
}
