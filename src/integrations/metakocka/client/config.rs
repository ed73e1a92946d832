//! Connection settings for one Metakocka company. `Debug` is written by hand so the secret key never
//! reaches a log line (the company id is shown: it identifies, it does not authenticate).

use std::fmt;
use std::time::Duration;

#[derive(Clone)]
pub struct MetakockaConfig {
    /// Host root (`https://main.metakocka.si`) or the API root (`…/rest/eshop/v1`); both are accepted.
    pub base_url: String,
    pub company_id: String,
    pub secret_key: String,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// Attempts per call, first one included ("requests may need resending while Metakocka is down for an
    /// update").
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// A `Retry-After` longer than this is returned as an error instead of being slept through.
    pub max_retry_after: Duration,
    /// `search` window (Metakocka's maximum is 50).
    pub search_limit: u32,
    /// `warehouse_stock` window (Metakocka's maximum is 1000).
    pub stock_limit: u32,
}

impl MetakockaConfig {
    pub fn new(
        base_url: impl Into<String>,
        company_id: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            company_id: company_id.into(),
            secret_key: secret_key.into(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            max_attempts: 4,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            search_limit: 50,
            stock_limit: 1000,
        }
    }
}

impl fmt::Debug for MetakockaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetakockaConfig")
            .field("base_url", &self.base_url)
            .field("company_id", &self.company_id)
            .field("secret_key", &"<redacted>")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_cap", &self.backoff_cap)
            .field("max_retry_after", &self.max_retry_after)
            .field("search_limit", &self.search_limit)
            .field("stock_limit", &self.stock_limit)
            .finish()
    }
}

impl crate::integrations::http::retry::RetrySettings for MetakockaConfig {
    fn retry_settings(&self) -> (u32, Duration, Duration, Duration) {
        (
            self.max_attempts,
            self.max_retry_after,
            self.backoff_base,
            self.backoff_cap,
        )
    }
}
