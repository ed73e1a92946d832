//! Connection settings for one WooCommerce store. `Debug` is written by hand so the consumer secret (and
//! the key, which is half of the credential) never reach a log line.

use std::fmt;
use std::time::Duration;

/// How requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// Basic over `https://`, OAuth 1.0a over `http://` — what WooCommerce itself accepts on each.
    #[default]
    Auto,
    /// HTTP Basic with key/secret; the store honours it only over TLS.
    Basic,
    /// One-legged OAuth 1.0a (HMAC-SHA256), parameters in the query string.
    OAuth,
    /// `consumer_key`/`consumer_secret` query parameters, for servers that strip `Authorization` (TLS only).
    QueryString,
}

#[derive(Clone)]
pub struct WooConfig {
    /// Store root (`https://shop.example`) or the API root (`…/wp-json/wc/v3`); both are accepted.
    pub base_url: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub auth: AuthMode,
    /// Time allowed to open the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Time allowed for one whole request, body included.
    pub timeout: Duration,
    /// Attempts per call, first one included, before a retryable error is handed back to the caller.
    pub max_attempts: u32,
    /// First backoff step; step n waits a random time in `0..=min(cap, base * 2^n)` (full jitter).
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// A `Retry-After` longer than this is not slept through inside the client: the error is returned so the
    /// job engine can reschedule instead of holding a worker.
    pub max_retry_after: Duration,
    /// SKUs per `?sku=` lookup, to keep URLs short.
    pub sku_chunk: usize,
    /// Certificates trusted beyond the platform's roots (a shop's own CA, a pinned self-signed certificate).
    pub trust: super::trust::StoreTrust,
}

impl WooConfig {
    pub fn new(
        base_url: impl Into<String>,
        consumer_key: impl Into<String>,
        consumer_secret: impl Into<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            consumer_key: consumer_key.into(),
            consumer_secret: consumer_secret.into(),
            auth: AuthMode::Auto,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            max_attempts: 4,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
            sku_chunk: 50,
            trust: Default::default(),
        }
    }
}

impl fmt::Debug for WooConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WooConfig")
            .field("base_url", &super::redact::redact_url_str(&self.base_url))
            .field("consumer_key", &"<redacted>")
            .field("consumer_secret", &"<redacted>")
            .field("auth", &self.auth)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_cap", &self.backoff_cap)
            .field("max_retry_after", &self.max_retry_after)
            .field("sku_chunk", &self.sku_chunk)
            .field("trust", &self.trust)
            .finish()
    }
}

impl crate::integrations::http::retry::RetrySettings for WooConfig {
    fn retry_settings(&self) -> (u32, Duration, Duration, Duration) {
        (
            self.max_attempts,
            self.max_retry_after,
            self.backoff_base,
            self.backoff_cap,
        )
    }
}
