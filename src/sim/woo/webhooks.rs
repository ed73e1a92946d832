//! Webhook delivery the way WooCommerce does it: one signed POST per (webhook, topic, resource), coalesced
//! while queued and built at send time, one attempt, success = 200..=302, disabled after more than 5
//! consecutive failures, and an unsigned form-encoded ping on creation. Runs on a background task.

use super::store::Event;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;

/// Consecutive failures tolerated; one more disables the webhook.
const MAX_CONSECUTIVE_FAILURES: u32 = 5;

/// Where and what to deliver.
#[derive(Clone)]
pub struct WebhookTarget {
    pub url: String,
    pub secret: String,
    /// e.g. `order.updated`, `order.created`, `product.updated`.
    pub topics: Vec<String>,
}

impl WebhookTarget {
    /// A target for the topics sync listens to: `order.created`, `order.updated`, `product.updated`.
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            secret: secret.into(),
            topics: ["order.created", "order.updated", "product.updated"]
                .map(String::from)
                .to_vec(),
        }
    }
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("topics", &self.topics)
            .finish()
    }
}

/// A webhook's state as the store's admin screen would show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookState {
    pub id: u64,
    pub active: bool,
    pub consecutive_failures: u32,
}

/// One delivery attempt (pings included, with topic `ping`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub webhook_id: u64,
    pub topic: String,
    pub resource_id: u64,
    /// HTTP status, `None` when no answer came (refused, timed out).
    pub status: Option<u16>,
    pub success: bool,
}

struct Webhook {
    id: u64,
    target: WebhookTarget,
    active: bool,
    consecutive_failures: u32,
}

#[derive(Default)]
struct HubState {
    webhooks: Vec<Webhook>,
    next_id: u64,
    /// (webhook id, topic, resource id): a set, so repeated changes before sending coalesce into one.
    queued: BTreeSet<(u64, &'static str, u64)>,
    log: Vec<Delivery>,
}

pub(crate) struct WebhookHub {
    state: Mutex<HubState>,
    wake: Notify,
    http: reqwest::Client,
    /// Store root, sent as `X-WC-Webhook-Source`.
    source: String,
    /// How long queued events wait for more changes to the same resource before sending.
    coalesce: Duration,
}

/// Builds the payload for (topic, resource id) from the current store state; `None` if it is gone.
pub(crate) type PayloadFn = dyn Fn(&str, u64) -> Option<Value> + Send + Sync;

impl WebhookHub {
    pub fn new(source: String, timeout: Duration, coalesce: Duration) -> reqwest::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            // 3xx up to 302 counts as delivered; following redirects would hide that.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("WooCommerce/9.4.0 Hookshot (WordPress/6.7)")
            .build()?;
        Ok(Self {
            state: Mutex::new(HubState {
                next_id: 1,
                ..HubState::default()
            }),
            wake: Notify::new(),
            http,
            source,
            coalesce,
        })
    }

    fn with<R>(&self, f: impl FnOnce(&mut HubState) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Registers a webhook and pings it in the background. Returns its id.
    pub fn add(self: &Arc<Self>, target: WebhookTarget) -> u64 {
        let id = self.with(|s| {
            let id = s.next_id;
            s.next_id += 1;
            s.webhooks.push(Webhook {
                id,
                target: target.clone(),
                active: true,
                consecutive_failures: 0,
            });
            id
        });
        let hub = Arc::clone(self);
        tokio::spawn(async move { hub.ping(id, &target.url).await });
        id
    }

    async fn ping(&self, id: u64, url: &str) {
        let result = self
            .http
            .post(url)
            .header("X-WC-Webhook-Source", &self.source)
            .header("X-WC-Webhook-ID", id.to_string())
            .form(&[("webhook_id", id.to_string())])
            .send()
            .await;
        let status = result.ok().map(|r| r.status().as_u16());
        // Core refuses to save a webhook whose ping is not exactly 200; the simulator keeps it and records it.
        self.with(|s| {
            s.log.push(Delivery {
                webhook_id: id,
                topic: "ping".into(),
                resource_id: 0,
                status,
                success: status == Some(200),
            })
        });
    }

    pub fn set_active(&self, id: u64, active: bool) -> bool {
        self.with(|s| {
            let Some(hook) = s.webhooks.iter_mut().find(|w| w.id == id) else {
                return false;
            };
            hook.active = active;
            hook.consecutive_failures = 0;
            true
        })
    }

    pub fn state(&self, id: u64) -> Option<WebhookState> {
        self.with(|s| {
            s.webhooks
                .iter()
                .find(|w| w.id == id)
                .map(|w| WebhookState {
                    id: w.id,
                    active: w.active,
                    consecutive_failures: w.consecutive_failures,
                })
        })
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.with(|s| s.log.clone())
    }

    /// Queues store events for every active webhook subscribed to their topic.
    pub fn enqueue(&self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let queued_any = self.with(|s| {
            let mut any = false;
            for event in &events {
                for hook in s.webhooks.iter().filter(|w| w.active) {
                    if hook.target.topics.iter().any(|t| t == event.topic) {
                        any |= s.queued.insert((hook.id, event.topic, event.resource_id));
                    }
                }
            }
            any
        });
        if queued_any {
            self.wake.notify_one();
        }
    }

    /// The delivery loop; runs until the simulator shuts down.
    pub async fn run(self: Arc<Self>, payload: Arc<PayloadFn>) {
        loop {
            self.wake.notified().await;
            tokio::time::sleep(self.coalesce).await;
            let batch = self.with(|s| std::mem::take(&mut s.queued));
            for (webhook_id, topic, resource_id) in batch {
                let target = self.with(|s| {
                    s.webhooks
                        .iter()
                        .find(|w| w.id == webhook_id && w.active)
                        .map(|w| w.target.clone())
                });
                let Some(target) = target else { continue };
                let Some(body) = payload(topic, resource_id) else {
                    continue;
                };
                let status = self.deliver(webhook_id, &target, topic, &body).await;
                self.record(webhook_id, topic, resource_id, status);
            }
        }
    }

    async fn deliver(
        &self,
        webhook_id: u64,
        target: &WebhookTarget,
        topic: &str,
        body: &Value,
    ) -> Option<u16> {
        let raw = serde_json::to_vec(body).ok()?;
        let (resource, event) = topic.split_once('.').unwrap_or((topic, ""));
        let result = self
            .http
            .post(&target.url)
            .header("Content-Type", "application/json")
            .header("X-WC-Webhook-Source", &self.source)
            .header("X-WC-Webhook-Topic", topic)
            .header("X-WC-Webhook-Resource", resource)
            .header("X-WC-Webhook-Event", event)
            .header("X-WC-Webhook-Signature", signature(&raw, &target.secret))
            .header("X-WC-Webhook-ID", webhook_id.to_string())
            .header("X-WC-Webhook-Delivery-ID", delivery_id(webhook_id))
            .body(raw)
            .send()
            .await;
        result.ok().map(|r| r.status().as_u16())
    }

    fn record(&self, webhook_id: u64, topic: &str, resource_id: u64, status: Option<u16>) {
        let success = status.is_some_and(|s| (200..=302).contains(&s));
        self.with(|s| {
            if let Some(hook) = s.webhooks.iter_mut().find(|w| w.id == webhook_id) {
                if success {
                    hook.consecutive_failures = 0;
                } else {
                    hook.consecutive_failures += 1;
                    if hook.consecutive_failures > MAX_CONSECUTIVE_FAILURES {
                        hook.active = false;
                    }
                }
            }
            s.log.push(Delivery {
                webhook_id,
                topic: topic.to_string(),
                resource_id,
                status,
                success,
            });
        });
    }
}

/// base64(HMAC-SHA256(raw body, secret)), as in `X-WC-Webhook-Signature`.
pub fn signature(raw_body: &[u8], secret: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(raw_body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Core hashes the webhook id with the current second: not unique per event, so not a dedupe key.
fn delivery_id(webhook_id: u64) -> String {
    let second = chrono::Utc::now().timestamp();
    let digest = Sha256::digest(format!("{webhook_id}{second}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}
