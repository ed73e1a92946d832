//! Connection settings for one Cartona supplier account. `Debug` is written by hand so the token never
//! reaches a log line.

use std::fmt;
use std::time::Duration;

#[derive(Clone)]
pub struct CartonaConfig {
    /// API root, e.g. `https://supplier-integrations.cartona.space/api/v1/` (a missing `/api/v1` is added).
    pub base_url: String,
    pub token: String,
    /// Header carrying the token. UNVERIFIED: the reference only says "per-supplier token auth"; the
    /// `Authorization: Bearer <token>` default is our assumption, so both parts are configurable.
    pub auth_header: String,
    /// Put before the token in the header value (`"Bearer "`; empty for a bare token).
    pub auth_prefix: String,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// Attempts per call, first one included, before a retryable error is handed back to the caller.
    pub max_attempts: u32,
    /// First backoff step; step n waits a random time in `0..=min(cap, base * 2^n)` (full jitter).
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// A `Retry-After` longer than this is returned as an error instead of being slept through.
    pub max_retry_after: Duration,
    /// Page size for `pull-orders`. Keep it within Cartona's own cap: a page shorter than this is taken as
    /// the last one.
    pub per_page: u32,
}

impl CartonaConfig {
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            token: token.into(),
            auth_header: "Authorization".into(),
            auth_prefix: "Bearer ".into(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            max_attempts: 4,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
            per_page: 50,
        }
    }
}

impl fmt::Debug for CartonaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CartonaConfig")
            .field("base_url", &self.base_url)
            .field("token", &"<redacted>")
            .field("auth_header", &self.auth_header)
            .field("auth_prefix", &self.auth_prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_cap", &self.backoff_cap)
            .field("max_retry_after", &self.max_retry_after)
            .field("per_page", &self.per_page)
            .finish()
    }
}

impl crate::integrations::http::retry::RetrySettings for CartonaConfig {
    fn retry_settings(&self) -> (u32, Duration, Duration, Duration) {
        (
            self.max_attempts,
            self.max_retry_after,
            self.backoff_base,
            self.backoff_cap,
        )
    }
}
