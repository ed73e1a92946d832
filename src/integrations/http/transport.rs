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

/// How many times, and how patiently, an HTTP connector repeats a failed call within one job attempt.
pub struct RetryBudget {
    pub max_attempts: u32,
    /// A server asking to wait longer than this gets the wait handed to the job engine instead of holding
    /// a worker.
    pub max_retry_after: std::time::Duration,
    pub backoff: crate::domain::backoff::Backoff,
}

/// Runs `attempt` until it succeeds, `resendable` refuses the error, the budget is spent, or the server asks
/// for a longer wait than the budget allows. Waits honour `Retry-After`, else full-jitter backoff.
pub async fn with_retries<T, E, Fut>(
    budget: &RetryBudget,
    system: &str,
    mut attempt: impl FnMut() -> Fut,
    resendable: impl Fn(&E) -> bool,
    retry_after: impl Fn(&E) -> Option<std::time::Duration>,
) -> Result<T, E>
where
    Fut: std::future::Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let mut retry = 0;
    loop {
        let error = match attempt().await {
            Ok(answer) => return Ok(answer),
            Err(error) => error,
        };
        retry += 1;
        if !resendable(&error) || retry >= budget.max_attempts {
            return Err(error);
        }
        let delay = match retry_after(&error) {
            Some(wait) if wait > budget.max_retry_after => return Err(error),
            Some(wait) => wait,
            None => budget.backoff.delay(retry, None, fastrand::f64()),
        };
        tracing::debug!(error = %error, ?delay, retry, "retrying {system} call");
        tokio::time::sleep(delay).await;
    }
}

/// The API root under a configured base URL: the shop's address or the API's own (`…/API_PATH/`) both work.
/// `shown` is how the base URL may appear in the error (redacted where it can carry credentials).
pub fn api_root(base_url: &str, api_path: &str, shown: &str) -> Result<reqwest::Url, String> {
    let trimmed = base_url.trim().trim_end_matches('/');
    let root = if trimmed.ends_with(api_path) {
        format!("{trimmed}/")
    } else {
        format!("{trimmed}/{api_path}/")
    };
    let url =
        reqwest::Url::parse(&root).map_err(|e| format!("base_url {shown} is not a URL: {e}"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err("base_url must be http or https".into());
    }
    Ok(url)
}
