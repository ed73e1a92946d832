//! What can go wrong talking to Metakocka. Refusals come as HTTP 200 with `opr_code` > 0 and `opr_desc`;
//! outages ("down for an update"), 5xx and network trouble are the retryable class. Every variant names
//! the operation's endpoint.

use crate::integrations::http::failure::{Failure, HttpFailure};
use crate::integrations::http::transport::TransportKind;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum MetakockaError {
    /// Metakocka refused the operation (`opr_code` > 0), with its own description.
    #[error("{endpoint}: opr_code {opr_code}: {opr_desc}")]
    Api {
        endpoint: String,
        opr_code: String,
        opr_desc: String,
    },
    /// A non-2xx HTTP answer (maintenance page, proxy error, throttling).
    #[error("{endpoint}: HTTP {status}: {message}")]
    Http {
        endpoint: String,
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("{endpoint}: {kind}: {detail}")]
    Transport {
        endpoint: String,
        kind: TransportKind,
        detail: String,
    },
    /// A 2xx whose body is not JSON at all (a maintenance or proxy page): nobody really answered, so it
    /// is worth resending.
    #[error("{endpoint}: HTTP {status} without a JSON body: {snippet}")]
    NotJson {
        endpoint: String,
        status: u16,
        snippet: String,
    },
    /// JSON of the wrong shape.
    #[error("{endpoint}: malformed response at `{field}`: {detail}")]
    Malformed {
        endpoint: String,
        field: String,
        detail: String,
    },
    #[error("invalid Metakocka configuration: {0}")]
    Config(String),
}

impl MetakockaError {
    /// Worth resending later unchanged: outage/update windows, 5xx, throttling, network trouble. An
    /// `opr_code` refusal is about the request itself and is not.
    pub fn is_retryable(&self) -> bool {
        self.failure().is_retryable()
    }

    pub fn retry_after(&self) -> Option<Duration> {
        self.failure().retry_after()
    }

    /// `(opr_code, opr_desc)` for refusals.
    pub fn opr(&self) -> Option<(&str, &str)> {
        match self {
            MetakockaError::Api {
                opr_code, opr_desc, ..
            } => Some((opr_code, opr_desc)),
            _ => None,
        }
    }
}

impl HttpFailure for MetakockaError {
    fn failure(&self) -> Failure {
        match self {
            MetakockaError::Http {
                status,
                retry_after,
                ..
            } => Failure::of_status(*status, *retry_after),
            MetakockaError::Transport { kind, .. } => Failure::of_transport(*kind),
            // A maintenance page instead of an answer: the operation did not run.
            MetakockaError::NotJson { .. } => Failure::NotApplied { retry_after: None },
            MetakockaError::Api { .. }
            | MetakockaError::Malformed { .. }
            | MetakockaError::Config(_) => Failure::Final,
        }
    }
}
