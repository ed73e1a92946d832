//! The plumbing every Metakocka operation goes through: one JSON POST per operation with the credentials in
//! the body, retries with backoff and `Retry-After`, and `opr_code`/`opr_desc` turned into errors.

use super::config::MetakockaConfig;
use super::error::MetakockaError;
use crate::integrations::http::decode::decode;
use crate::integrations::http::failure::retry_after_of;
pub(crate) use crate::integrations::http::retry::Resend;
use crate::integrations::http::retry::{RetryBudget, with_retries};
use crate::integrations::http::transport::{TransportKind, client_builder, exchange};
use reqwest::Url;
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
        let http = client_builder(cfg.connect_timeout, cfg.timeout)
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
        let budget = RetryBudget::of(&self.cfg);
        with_retries(&budget, "Metakocka", resend, || self.call_once(op, &body)).await
    }

    async fn call_once(&self, op: &str, body: &Value) -> Result<Answer, MetakockaError> {
        let url = self
            .api_root
            .join(op)
            .map_err(|e| MetakockaError::Config(format!("bad operation {op:?}: {e}")))?;
        let endpoint = format!("POST {}", url.path());
        let answer = exchange(self.http.post(url).json(body))
            .await
            .map_err(|(kind, detail)| transport_error(&endpoint, kind, detail))?;
        let snippet = || -> String {
            let text = String::from_utf8_lossy(&answer.body);
            text.trim().chars().take(200).collect()
        };
        if !answer.is_success() {
            return Err(MetakockaError::Http {
                endpoint,
                status: answer.status,
                message: snippet(),
                retry_after: retry_after_of(answer.status, &answer.headers),
            });
        }
        let Ok(body) = serde_json::from_slice::<Value>(&answer.body) else {
            return Err(MetakockaError::NotJson {
                endpoint,
                status: answer.status,
                snippet: snippet(),
            });
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
        decode(value).map_err(|bad| {
            let path = bad.path;
            let field = match (prefix.is_empty(), path.is_empty()) {
                (true, true) => "(body)".to_string(),
                (true, false) => path,
                (false, true) => prefix.to_string(),
                (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
                (false, false) => format!("{prefix}.{path}"),
            };
            MetakockaError::Malformed {
                endpoint: answer.endpoint.clone(),
                field,
                detail: bad.detail,
            }
        })
    }
}

fn api_root(base_url: &str) -> Result<Url, MetakockaError> {
    crate::integrations::http::transport::api_root(base_url, API_PATH, &format!("{base_url:?}"))
        .map_err(MetakockaError::Config)
}

fn transport_error(endpoint: &str, kind: TransportKind, detail: String) -> MetakockaError {
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
