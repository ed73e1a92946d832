//! What can go wrong talking to Cartona, classified for the job engine. Every variant names the endpoint
//! (method + path); API errors carry Cartona's own message.

use crate::integrations::http::failure::{Failure, HttpFailure};
use crate::integrations::http::transport::TransportKind;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum CartonaError {
    /// Cartona (or a proxy in front of it) answered with an error status, or with `success: false`.
    #[error("{endpoint}: HTTP {status}: {message}")]
    Api {
        endpoint: String,
        status: u16,
        /// Cartona's `message` (or `error`), or the start of the body when it was not JSON.
        message: String,
        retry_after: Option<Duration>,
    },
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
    #[error("invalid Cartona configuration: {0}")]
    Config(String),
}

impl CartonaError {
    /// Worth trying again later without changing anything: throttling, server trouble, network trouble.
    pub fn is_retryable(&self) -> bool {
        self.failure().is_retryable()
    }

    /// Cartona's own `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.failure().retry_after()
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            CartonaError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Cartona's message for API errors.
    pub fn message(&self) -> Option<&str> {
        match self {
            CartonaError::Api { message, .. } => Some(message),
            _ => None,
        }
    }
}

impl HttpFailure for CartonaError {
    fn failure(&self) -> Failure {
        match self {
            CartonaError::Api {
                status,
                retry_after,
                ..
            } => Failure::of_status(*status, *retry_after),
            CartonaError::Transport { kind, .. } => Failure::of_transport(*kind),
            CartonaError::Malformed { .. } | CartonaError::Config(_) => Failure::Final,
        }
    }
}
