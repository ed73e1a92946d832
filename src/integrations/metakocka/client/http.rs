//! The plumbing every Metakocka operation goes through: one JSON POST per operation with the credentials in
//! the body, retries with backoff and `Retry-After`, and `opr_code`/`opr_desc` turned into errors.

use super::config::MetakockaConfig;
use super::error::MetakockaError;
use crate::domain::backoff::Backoff;
use crate::integrations::http::retry_after::parse_retry_after;
use crate::integrations::http::transport::{
    RetryBudget, TransportKind, describe, is_retryable_status, with_retries,
};
use reqwest::Url;
use reqwest::header::RETRY_AFTER;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

const API_PATH: &str = "rest/eshop/v1";

/// A Metakocka client for one company. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct MetakockaClient {
    http: reqwest::Client,
    cfg: MetakockaConfig,
    api_root: Url,
}

impl std::fmt::Debug for MetakockaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetakockaClient")
            .field("api_root", &self.api_root.as_str())
            .field("company_id", &self.cfg.company_id)
            .finish_non_exhaustive()
    }
}

/// Whether resending after an ambiguous failure (the request may have been applied) is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Reads and updates: repeating them is safe.
    Safe,
    /// Creations: resend only when the request surely was not applied (no connection, 503, 429).
    OnlyIfNotApplied,
}

/// An `opr_code` 0 answer, with the endpoint for decoding errors.
pub(crate) struct Answer {
    pub endpoint: String,
    pub body: Value,
}

impl MetakockaClient {
    pub fn new(cfg: MetakockaConfig) -> Result<Self, MetakockaError> {
        let api_root = api_root(&cfg.base_url)?;
        if cfg.max_attempts == 0 {
            return Err(MetakockaError::Config(
                "max_attempts must be at least 1".into(),
            ));
        }
        if !(1..=50).contains(&cfg.search_limit) || !(1..=1000).contains(&cfg.stock_limit) {
            return Err(MetakockaError::Config(
                "search_limit must be 1..=50 and stock_limit 1..=1000".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.timeout)
            .user_agent(concat!("syncdesk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MetakockaError::Config(format!("HTTP client: {}", e.without_url())))?;
        Ok(Self {
            http,
            cfg,
            api_root,
        })
    }

    pub fn config(&self) -> &MetakockaConfig {
        &self.cfg
    }

    /// Calls one operation (`put_document`, `search`, …) with `params`, retrying transient failures.
    pub(crate) async fn call(
        &self,
        op: &str,
        params: Map<String, Value>,
        resend: Resend,
    ) -> Result<Answer, MetakockaError> {
        let mut body = params;
        body.insert(
            "secret_key".into(),
            Value::String(self.cfg.secret_key.clone()),
        );
        body.insert(
            "company_id".into(),
            Value::String(self.cfg.company_id.clone()),
        );
        let body = Value::Object(body);
        let budget = RetryBudget {
            max_attempts: self.cfg.max_attempts,
            max_retry_after: self.cfg.max_retry_after,
            backoff: Backoff {
                base: self.cfg.backoff_base,
                cap: self.cfg.backoff_cap,
            },
        };
        let resendable = |error: &MetakockaError| match (error, resend) {
            (_, Resend::Safe) => error.is_retryable(),
            (MetakockaError::Transport { kind, .. }, Resend::OnlyIfNotApplied) => {
                *kind == TransportKind::Connect
            }
            (MetakockaError::Http { status, .. }, Resend::OnlyIfNotApplied) => {
                *status == 503 || *status == 429
            }
            // A maintenance page instead of an answer: the operation did not run.
            (MetakockaError::NotJson { .. }, Resend::OnlyIfNotApplied) => true,
            _ => false,
        };
        with_retries(
            &budget,
            "Metakocka",
            || self.call_once(op, &body),
            resendable,
            MetakockaError::retry_after,
        )
        .await
    }

    async fn call_once(&self, op: &str, body: &Value) -> Result<Answer, MetakockaError> {
        let url = self
            .api_root
            .join(op)
            .map_err(|e| MetakockaError::Config(format!("bad operation {op:?}: {e}")))?;
        let endpoint = format!("POST {}", url.path());
        let response = self
            .http
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(|e| transport_error(&endpoint, e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_error(&endpoint, e))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes);
            return Err(MetakockaError::Http {
                endpoint,
                status: status.as_u16(),
                message: text.trim().chars().take(200).collect(),
                retry_after: retry_after.filter(|_| is_retryable_status(status.as_u16())),
            });
        }
        let body: Value = match serde_json::from_slice(&bytes) {
            Ok(body) => body,
            Err(_) => {
                let text = String::from_utf8_lossy(&bytes);
                return Err(MetakockaError::NotJson {
                    endpoint,
                    status: status.as_u16(),
                    snippet: text.trim().chars().take(200).collect(),
                });
            }
        };
        let opr_code = match body.get("opr_code") {
            Some(Value::String(code)) => code.trim().to_string(),
            Some(Value::Number(code)) => code.to_string(),
            _ => {
                return Err(MetakockaError::Malformed {
                    endpoint,
                    field: "opr_code".into(),
                    detail: "missing or not a string/number".into(),
                });
            }
        };
        if opr_code != "0" {
            let opr_desc = match body.get("opr_desc") {
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            return Err(MetakockaError::Api {
                endpoint,
                opr_code,
                opr_desc,
            });
        }
        if let Some(ms) = body.get("opr_time_ms") {
            tracing::trace!(op, opr_time_ms = %ms, "Metakocka call");
        }
        Ok(Answer { endpoint, body })
    }

    /// Decodes (part of) an answer, naming the JSON path of the first bad field on failure.
    pub(crate) fn decode<T: DeserializeOwned>(
        answer: &Answer,
        prefix: &str,
        value: Value,
    ) -> Result<T, MetakockaError> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let field = match (prefix.is_empty(), path == ".") {
                (true, true) => "(body)".to_string(),
                (true, false) => path,
                (false, true) => prefix.to_string(),
                (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
                (false, false) => format!("{prefix}.{path}"),
            };
            MetakockaError::Malformed {
                endpoint: answer.endpoint.clone(),
                field,
                detail: e.into_inner().to_string(),
            }
        })
    }
}

fn api_root(base_url: &str) -> Result<Url, MetakockaError> {
    crate::integrations::http::transport::api_root(base_url, API_PATH, &format!("{base_url:?}"))
        .map_err(MetakockaError::Config)
}

fn transport_error(endpoint: &str, error: reqwest::Error) -> MetakockaError {
    let (kind, detail) = describe(error);
    MetakockaError::Transport {
        endpoint: endpoint.to_string(),
        kind,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_root_accepts_host_or_api_url() {
        assert_eq!(
            api_root("https://main.metakocka.si").unwrap().as_str(),
            "https://main.metakocka.si/rest/eshop/v1/"
        );
        assert_eq!(
            api_root("https://main.metakocka.si/rest/eshop/v1/")
                .unwrap()
                .as_str(),
            "https://main.metakocka.si/rest/eshop/v1/"
        );
    }
}
