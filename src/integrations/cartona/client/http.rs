//! The HTTP plumbing every Cartona endpoint goes through: URL building, the token header, retries with
//! backoff and `Retry-After`, and turning bodies into typed values or precise errors.

use super::config::CartonaConfig;
use super::error::CartonaError;
use crate::integrations::http::decode::decode_json;
use crate::integrations::http::failure::retry_after_of;
use crate::integrations::http::retry::{Resend, RetryBudget, with_retries};
use crate::integrations::http::transport::{TransportKind, client_builder, exchange};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;

const API_PATH: &str = "api/v1";

/// A Cartona client for one supplier account. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct CartonaClient {
    http: reqwest::Client,
    cfg: CartonaConfig,
    api_root: Url,
    auth_name: HeaderName,
    auth_value: HeaderValue,
}

impl std::fmt::Debug for CartonaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CartonaClient")
            .field("api_root", &self.api_root.as_str())
            .field("auth_header", &self.auth_name.as_str())
            .finish_non_exhaustive()
    }
}

/// A successful answer, body not yet decoded.
pub(crate) struct Answer {
    pub endpoint: String,
    pub body: bytes::Bytes,
}

impl CartonaClient {
    pub fn new(cfg: CartonaConfig) -> Result<Self, CartonaError> {
        let api_root = api_root(&cfg.base_url)?;
        if cfg.max_attempts == 0 {
            return Err(CartonaError::Config(
                "max_attempts must be at least 1".into(),
            ));
        }
        if cfg.per_page == 0 {
            return Err(CartonaError::Config("per_page must be at least 1".into()));
        }
        let auth_name = HeaderName::from_bytes(cfg.auth_header.as_bytes()).map_err(|_| {
            CartonaError::Config(format!("bad auth header name {:?}", cfg.auth_header))
        })?;
        let mut auth_value = HeaderValue::from_str(&format!("{}{}", cfg.auth_prefix, cfg.token))
            .map_err(|_| CartonaError::Config("the token is not a valid header value".into()))?;
        auth_value.set_sensitive(true);
        let http = client_builder(cfg.connect_timeout, cfg.timeout)
            .build()
            .map_err(|e| CartonaError::Config(format!("HTTP client: {}", e.without_url())))?;
        Ok(Self {
            http,
            cfg,
            api_root,
            auth_name,
            auth_value,
        })
    }

    pub fn config(&self) -> &CartonaConfig {
        &self.cfg
    }

    /// Sends one API call, retrying transient failures within the configured budget.
    /// `path` is relative to `/api/v1/`, e.g. `order/update-order-status`.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, CartonaError> {
        let budget = RetryBudget::of(&self.cfg);
        with_retries(&budget, "Cartona", Resend::Safe, || {
            self.call_once(method.clone(), path, query, body)
        })
        .await
    }

    async fn call_once(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, CartonaError> {
        let url = self
            .api_root
            .join(path.trim_start_matches('/'))
            .map_err(|e| CartonaError::Config(format!("bad API path {path:?}: {e}")))?;
        let endpoint = format!("{method} {}", url.path());
        let mut request = self
            .http
            .request(method, url)
            .header(self.auth_name.clone(), self.auth_value.clone());
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = exchange(request)
            .await
            .map_err(|(kind, detail)| transport_error(&endpoint, kind, detail))?;
        if answer.is_success() {
            return Ok(Answer {
                endpoint,
                body: answer.body,
            });
        }
        Err(CartonaError::Api {
            endpoint,
            status: answer.status,
            message: error_message(&answer.body),
            retry_after: retry_after_of(answer.status, &answer.headers),
        })
    }

    /// Decodes a JSON body, naming the endpoint and the JSON path of the first bad field on failure.
    pub(crate) fn decode<T: DeserializeOwned>(answer: &Answer) -> Result<T, CartonaError> {
        decode_json(&answer.body).map_err(|bad| CartonaError::Malformed {
            endpoint: answer.endpoint.clone(),
            field: bad.field_or("(body)"),
            detail: bad.detail,
        })
    }
}

fn api_root(base_url: &str) -> Result<Url, CartonaError> {
    crate::integrations::http::transport::api_root(base_url, API_PATH, &format!("{base_url:?}"))
        .map_err(CartonaError::Config)
}

fn transport_error(endpoint: &str, kind: TransportKind, detail: String) -> CartonaError {
    CartonaError::Transport {
        endpoint: endpoint.to_string(),
        kind,
        detail,
    }
}

/// The message of an error body (`{"message": …}` or `{"error": …}`), else the start of the body.
pub(crate) fn error_message(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        for key in ["message", "error", "errors"] {
            match value.get(key) {
                Some(serde_json::Value::String(text)) => return text.clone(),
                Some(other) if !other.is_null() => return other.to_string(),
                _ => {}
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    text.trim().chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_root_accepts_host_or_api_url() {
        assert_eq!(
            api_root("https://c.example").unwrap().as_str(),
            "https://c.example/api/v1/"
        );
        assert_eq!(
            api_root("https://c.example/api/v1/").unwrap().as_str(),
            "https://c.example/api/v1/"
        );
        assert!(api_root("ftp://c.example").is_err());
    }
}
