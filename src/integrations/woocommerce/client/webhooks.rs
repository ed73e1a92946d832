//! The store's webhook registrations (`/webhooks`): a store disables a webhook after more than five failed
//! deliveries and never says so to the receiver, so `check` lists them and can switch ours back on.

use super::error::WooError;
use super::http::WooClient;
use crate::integrations::http::lenient;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

/// One webhook as the store lists it (the secret is never returned).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WooWebhook {
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    /// `active`, `paused` or `disabled` (the store sets `disabled` after repeated failed deliveries).
    #[serde(default, deserialize_with = "lenient::string")]
    pub status: String,
    /// e.g. `order.updated`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub topic: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub delivery_url: String,
}

impl WooClient {
    pub async fn list_webhooks(&self) -> Result<Vec<WooWebhook>, WooError> {
        self.get_all("webhooks", &[]).await
    }

    /// Sets a webhook's status (`active` re-enables one the store disabled).
    pub async fn set_webhook_status(&self, id: u64, status: &str) -> Result<WooWebhook, WooError> {
        let body = json!({ "status": status });
        let answer = self
            .call(Method::PUT, &format!("webhooks/{id}"), &[], Some(&body))
            .await?;
        Self::decode(&answer)
    }
}
