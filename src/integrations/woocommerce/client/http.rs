//! The HTTP plumbing every endpoint goes through: URL building, authentication, retries with backoff and
//! `Retry-After`, paging over `X-WP-TotalPages`, and turning bodies into typed values or precise errors.

use super::config::{AuthMode, WooConfig};
use super::error::WooError;
use super::oauth;
use super::redact::redact_url;
use crate::integrations::http::decode::decode_json;
use crate::integrations::http::failure::retry_after_of;
use crate::integrations::http::retry::{Resend, RetryBudget, with_retries};
use crate::integrations::http::transport::{TransportKind, client_builder, exchange};
use reqwest::header::HeaderMap;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const API_PATH: &str = "wp-json/wc/v3";
/// WooCommerce's maximum page size.
pub(crate) const PER_PAGE: usize = 100;
/// Stops a store that keeps reporting more pages from looping us forever.
const MAX_PAGES: u32 = 100_000;

/// Authentication after `Auto` has been resolved against the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthScheme {
    Basic,
    OAuth,
    QueryString,
}

/// Counts the HTTP requests a piece of work really sent (retries and pages included), for pass reports.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<AtomicUsize>);

impl RequestCounter {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// A WooCommerce REST API v3 client for one store. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct WooClient {
    http: reqwest::Client,
    cfg: WooConfig,
    api_root: Url,
    auth: AuthScheme,
    counter: Option<RequestCounter>,
}

impl std::fmt::Debug for WooClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WooClient")
            .field("api_root", &redact_url(&self.api_root))
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// A whole list read page by page.
pub(crate) struct Pages<T> {
    pub items: Vec<T>,
    /// The list had the same size on its first and last page.
    pub stable: bool,
}

/// A successful answer, body not yet decoded.
pub(crate) struct Answer {
    pub endpoint: String,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl WooClient {
    pub fn new(cfg: WooConfig) -> Result<Self, WooError> {
        let api_root = api_root(&cfg.base_url)?;
        let https = api_root.scheme() == "https";
        let auth = match cfg.auth {
            AuthMode::Auto if https => AuthScheme::Basic,
            AuthMode::Auto | AuthMode::OAuth => AuthScheme::OAuth,
            AuthMode::Basic => AuthScheme::Basic,
            AuthMode::QueryString => AuthScheme::QueryString,
        };
        if cfg.max_attempts == 0 {
            return Err(WooError::Config("max_attempts must be at least 1".into()));
        }
        let builder = client_builder(cfg.connect_timeout, cfg.timeout);
        let http = super::trust::apply(builder, &cfg.trust)
            .map_err(WooError::Config)?
            .build()
            .map_err(|e| WooError::Config(format!("HTTP client: {}", e.without_url())))?;
        Ok(Self {
            http,
            cfg,
            api_root,
            auth,
            counter: None,
        })
    }

    /// The same client, also counting every request it sends into `counter`.
    pub fn counting(&self, counter: &RequestCounter) -> WooClient {
        WooClient {
            counter: Some(counter.clone()),
            ..self.clone()
        }
    }

    pub fn config(&self) -> &WooConfig {
        &self.cfg
    }

    /// Sends one API call, retrying transient failures within the configured budget.
    /// `path` is relative to `/wp-json/wc/v3/`, e.g. `orders/12/notes`.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, WooError> {
        self.send(Resend::Safe, method, path, query, body).await
    }

    /// Sends a write that must not be repeated blindly: it adds something (a note), or sets values a sale
    /// may have changed since (a stock batch). It is resent only when it surely did not reach the store
    /// (the connection was never made, or the store answered 429/503); after a timeout or a lost answer
    /// the caller looks at the store before deciding to send it again.
    pub(crate) async fn call_unrepeated(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, WooError> {
        self.send(Resend::OnlyIfNotApplied, method, path, query, body)
            .await
    }

    async fn send(
        &self,
        resend: Resend,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, WooError> {
        let budget = RetryBudget::of(&self.cfg);
        with_retries(&budget, "WooCommerce", resend, || {
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
    ) -> Result<Answer, WooError> {
        let url = self.signed_url(&method, path, query)?;
        let endpoint = format!("{method} {}", redact_url(&url));
        if let Some(counter) = &self.counter {
            counter.0.fetch_add(1, Ordering::Relaxed);
        }
        let mut request = self.http.request(method, url);
        if self.auth == AuthScheme::Basic {
            request = request.basic_auth(&self.cfg.consumer_key, Some(&self.cfg.consumer_secret));
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = exchange(request)
            .await
            .map_err(|(kind, detail)| transport_error(&endpoint, kind, &detail))?;
        if answer.is_success() {
            return Ok(Answer {
                endpoint,
                headers: answer.headers,
                body: answer.body,
            });
        }
        let mut error = api_error(endpoint, answer.status, &answer.headers, &answer.body);
        // A store sees key/secret over plain http as no credentials at all: say why, not just "cannot view".
        if let WooError::Api {
            status: 401,
            message,
            ..
        } = &mut error
            && self.api_root.scheme() == "http"
            && self.auth != AuthScheme::OAuth
        {
            message.push_str(
                " (WooCommerce accepts Basic or query-string keys only over https; over http it needs OAuth 1.0a — auth = \"oauth\")",
            );
        }
        Err(error)
    }

    /// The full URL for one attempt, with credentials or a fresh OAuth signature when the mode needs them.
    fn signed_url(
        &self,
        method: &Method,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Url, WooError> {
        let mut url = self
            .api_root
            .join(path.trim_start_matches('/'))
            .map_err(|e| WooError::Config(format!("bad API path {path:?}: {e}")))?;
        let mut params = query.to_vec();
        match self.auth {
            AuthScheme::Basic => {}
            AuthScheme::QueryString => {
                params.push(("consumer_key".into(), self.cfg.consumer_key.clone()));
                params.push(("consumer_secret".into(), self.cfg.consumer_secret.clone()));
            }
            AuthScheme::OAuth => {
                let oauth = oauth::oauth_query_params(
                    method.as_str(),
                    url.as_str(),
                    query,
                    &self.cfg.consumer_key,
                    &self.cfg.consumer_secret,
                    chrono::Utc::now().timestamp(),
                    &oauth::new_nonce(),
                );
                params.extend(oauth);
            }
        }
        if !params.is_empty() {
            url.query_pairs_mut().extend_pairs(params);
        }
        Ok(url)
    }

    /// Decodes a JSON body, naming the endpoint and the JSON path of the first bad field on failure.
    pub(crate) fn decode<T: DeserializeOwned>(answer: &Answer) -> Result<T, WooError> {
        decode_json(&answer.body).map_err(|bad| WooError::Malformed {
            endpoint: answer.endpoint.clone(),
            field: bad.field_or("(body)"),
            detail: bad.detail,
        })
    }

    /// GETs every page of a list endpoint at the maximum page size and concatenates them.
    pub(crate) async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Vec<T>, WooError> {
        Ok(self.get_pages(path, query).await?.items)
    }

    /// Every page of a list endpoint, and whether the list's size (`X-WP-Total`) stayed the same from the
    /// first page to the last: when it did not, items may have shifted between pages while they were read.
    pub(crate) async fn get_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Pages<T>, WooError> {
        let mut all = Vec::new();
        let mut first_total = None;
        let mut page = 1u32;
        loop {
            let mut page_query = query.to_vec();
            page_query.push(("per_page".into(), PER_PAGE.to_string()));
            page_query.push(("page".into(), page.to_string()));
            let answer = self.call(Method::GET, path, &page_query, None).await?;
            let items: Vec<T> = Self::decode(&answer)?;
            let got = items.len();
            all.extend(items);
            let total_pages = header_u32(&answer.headers, "x-wp-totalpages");
            let total = header_u32(&answer.headers, "x-wp-total");
            let first = *first_total.get_or_insert(total);
            // Without the header, a short page is the last one.
            let more = match total_pages {
                Some(total) => page < total,
                None => got == PER_PAGE,
            };
            if !more || got == 0 || page >= MAX_PAGES {
                return Ok(Pages {
                    items: all,
                    stable: first == total,
                });
            }
            page += 1;
        }
    }
}

fn api_root(base_url: &str) -> Result<Url, WooError> {
    crate::integrations::http::transport::api_root(
        base_url,
        API_PATH,
        &super::redact::redact_url_str(base_url),
    )
    .map_err(WooError::Config)
}

fn header_u32(headers: &HeaderMap, name: &str) -> Option<u32> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// A transport failure, with a hint when it was the store's certificate (see `trust`).
fn transport_error(endpoint: &str, kind: TransportKind, detail: &str) -> WooError {
    WooError::Transport {
        endpoint: endpoint.to_string(),
        kind,
        detail: super::trust::explain(detail),
    }
}

/// Builds the error for a non-2xx answer from WooCommerce's `{code, message}` body when there is one.
fn api_error(endpoint: String, status: u16, headers: &HeaderMap, body: &[u8]) -> WooError {
    #[derive(serde::Deserialize)]
    struct WooErrorBody {
        code: String,
        #[serde(default)]
        message: String,
    }
    let (code, message) = match serde_json::from_slice::<WooErrorBody>(body) {
        Ok(parsed) => (parsed.code, parsed.message),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let snippet: String = text.trim().chars().take(200).collect();
            (format!("http_{status}"), snippet)
        }
    };
    WooError::Api {
        endpoint,
        status,
        code,
        message,
        retry_after: retry_after_of(status, headers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_root_accepts_store_or_api_url() {
        assert_eq!(
            api_root("https://shop.example").unwrap().as_str(),
            "https://shop.example/wp-json/wc/v3/"
        );
        assert_eq!(
            api_root("https://shop.example/wp-json/wc/v3/")
                .unwrap()
                .as_str(),
            "https://shop.example/wp-json/wc/v3/"
        );
        assert!(api_root("ftp://shop.example").is_err());
    }

    #[test]
    fn auto_auth_follows_the_scheme() {
        let https = WooClient::new(WooConfig::new("https://s.example", "ck", "cs")).unwrap();
        assert_eq!(https.auth, AuthScheme::Basic);
        let http = WooClient::new(WooConfig::new("http://s.example", "ck", "cs")).unwrap();
        assert_eq!(http.auth, AuthScheme::OAuth);
    }
}
