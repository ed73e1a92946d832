//! Outgoing `warehouse_product_stock_update` webhooks: signed with the client secret, retried twice after
//! `retry_delay` (Metakocka: 60 s) unless the receiver answers `{"check_respond_status_json_ok":"true"}`.
//!
//! The signature: Metakocka documents only "hash body value (HMAC) with client_secret" in
//! `X-MetaKocka-Signature`. The simulator sends HMAC-SHA256 over the raw body, lowercase hex (the
//! reading syncdesk's receiver assumes too — an assumption, not a verified fact).

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Where stock webhooks go.
#[derive(Clone)]
pub struct MkWebhookTarget {
    pub url: String,
    pub client_secret: String,
}

impl std::fmt::Debug for MkWebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MkWebhookTarget")
            .field("url", &self.url)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// One delivery attempt, as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MkDelivery {
    /// `X-MetaKocka-Id`.
    pub event_id: String,
    /// 1 for the first try, up to 3.
    pub attempt: u32,
    /// HTTP status, or `None` when the receiver could not be reached.
    pub status: Option<u16>,
    /// The receiver answered the acknowledgement JSON.
    pub accepted: bool,
}

/// Metakocka tries once and then twice more.
const ATTEMPTS: u32 = 3;

/// `X-MetaKocka-Event` of a stock change.
const STOCK_EVENT: &str = "warehouse_product_stock_update";

/// `X-MetaKocka-Signature`: HMAC-SHA256 of the raw body under the client secret, lowercase hex.
fn signature(raw_body: &[u8], client_secret: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(client_secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(raw_body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) struct WebhookSender {
    http: reqwest::Client,
    target: Mutex<Option<MkWebhookTarget>>,
    retry_delay: Duration,
    deliveries: Mutex<Vec<MkDelivery>>,
    next_id: AtomicU64,
}

impl WebhookSender {
    pub fn new(
        target: Option<MkWebhookTarget>,
        retry_delay: Duration,
        timeout: Duration,
    ) -> reqwest::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            target: Mutex::new(target),
            retry_delay,
            deliveries: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
        })
    }

    pub fn set_target(&self, target: Option<MkWebhookTarget>) {
        *self.target.lock().unwrap_or_else(PoisonError::into_inner) = target;
    }

    pub fn deliveries(&self) -> Vec<MkDelivery> {
        self.deliveries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sends one event for the changed stock rows in the background (nothing without a target).
    pub fn send(self: &Arc<Self>, rows: Vec<Value>) {
        if rows.is_empty() {
            return;
        }
        let Some(target) = self
            .target
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        else {
            return;
        };
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let event_id = format!("mk-evt-{id:08}");
        let body = json!({
            "opr_code": "0",
            "opr_time_ms": "0",
            "stock_list_count": rows.len().to_string(),
            "stock_list": rows,
        })
        .to_string();
        let sender = self.clone();
        tokio::spawn(async move { sender.deliver(target, event_id, body).await });
    }

    async fn deliver(&self, target: MkWebhookTarget, event_id: String, body: String) {
        let signature = signature(body.as_bytes(), &target.client_secret);
        for attempt in 1..=ATTEMPTS {
            let result = self
                .http
                .post(&target.url)
                .header("Content-Type", "application/json; charset=UTF-8")
                .header("X-MetaKocka-Event", STOCK_EVENT)
                .header("X-MetaKocka-Id", &event_id)
                .header("X-MetaKocka-Signature", &signature)
                .body(body.clone())
                .send()
                .await;
            let (status, accepted) = match result {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let reply = response.bytes().await.unwrap_or_default();
                    (Some(status), acknowledged(&reply))
                }
                Err(_) => (None, false),
            };
            self.deliveries
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(MkDelivery {
                    event_id: event_id.clone(),
                    attempt,
                    status,
                    accepted,
                });
            if accepted {
                return;
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(self.retry_delay).await;
            }
        }
    }
}

/// The reply must be JSON with `check_respond_status_json_ok` equal to the string `"true"` (other
/// properties are allowed, as Metakocka documents).
fn acknowledged(reply: &[u8]) -> bool {
    serde_json::from_slice::<Value>(reply)
        .ok()
        .and_then(|v| v.get("check_respond_status_json_ok").cloned())
        == Some(Value::String("true".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hex_hmac_sha256_of_the_raw_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"what do ya want for nothing?", "Jefe"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_the_exact_acknowledgement_stops_retries() {
        assert!(acknowledged(
            br#"{"check_respond_status_json_ok":"true","x":1}"#
        ));
        assert!(!acknowledged(br#"{"check_respond_status_json_ok":true}"#));
        assert!(!acknowledged(b"OK"));
    }
}
