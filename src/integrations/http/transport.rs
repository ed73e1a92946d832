//! One HTTP exchange as every HTTP client makes it: the client's timeouts and user agent, the API root under
//! a base URL, sending a request and reading its answer, and a transport failure's kind with a
//! credential-free description.

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

/// A `reqwest` client builder with the timeouts and user agent every HTTP client uses.
pub fn client_builder(
    connect_timeout: std::time::Duration,
    timeout: std::time::Duration,
) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .user_agent(concat!("syncdesk/", env!("CARGO_PKG_VERSION")))
}

/// One answer, whatever its status, with its body read.
pub struct Exchange {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: bytes::Bytes,
}

impl Exchange {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends `request` once and reads the whole answer; a failure on the way is described without the URL.
pub async fn exchange(
    request: reqwest::RequestBuilder,
) -> Result<Exchange, (TransportKind, String)> {
    let response = request.send().await.map_err(describe)?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(describe)?;
    Ok(Exchange {
        status,
        headers,
        body,
    })
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
