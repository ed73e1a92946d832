//! What can go wrong talking to a store, classified so the job engine can decide between "try again later"
//! and "needs a person". Every variant names the endpoint (method + URL without credentials).

use crate::integrations::http::failure::{Failure, HttpFailure};
pub use crate::integrations::http::transport::TransportKind;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum WooError {
    /// The store (or a proxy in front of it) answered with an error status.
    #[error("{endpoint}: HTTP {status} {code}: {message}")]
    Api {
        endpoint: String,
        status: u16,
        /// WooCommerce's `code` (e.g. `woocommerce_rest_authentication_error`), or `http_<status>` when the body
        /// was not a WooCommerce error (a WAF page, an empty 503).
        code: String,
        message: String,
        retry_after: Option<Duration>,
    },
    /// No usable answer: timeout, refused or reset connection, truncated body.
    #[error("{endpoint}: {kind}: {detail}")]
    Transport {
        endpoint: String,
        kind: TransportKind,
        detail: String,
    },
    /// A 2xx answer whose body does not have the shape we rely on.
    #[error("{endpoint}: malformed response at `{field}`: {detail}")]
    Malformed {
        endpoint: String,
        field: String,
        detail: String,
    },
    #[error("invalid WooCommerce configuration: {0}")]
    Config(String),
}

impl WooError {
    /// Worth trying again later without changing anything: throttling, server trouble, network trouble.
    pub fn is_retryable(&self) -> bool {
        self.failure().is_retryable()
    }

    /// The store's own `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.failure().retry_after()
    }

    /// WooCommerce's error code, for API errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            WooError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            WooError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl HttpFailure for WooError {
    fn failure(&self) -> Failure {
        match self {
            WooError::Api {
                status,
                retry_after,
                ..
            } => Failure::of_status(*status, *retry_after),
            WooError::Transport { kind, .. } => Failure::of_transport(*kind),
            WooError::Malformed { .. } | WooError::Config(_) => Failure::Final,
        }
    }
}
