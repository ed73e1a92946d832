//! Webhooks the way WooCommerce 10 runs them: each webhook has one topic and a status (active, paused,
//! disabled); a store change queues at most one pending delivery per (webhook, resource) — Action Scheduler's
//! "one pending action per arguments" — which runs after a delay with the payload built at send time; one
//! attempt, success = 200..=302; more than 5 consecutive failures disable the webhook, and re-activating it
//! keeps the count (the next failure disables it again); a creation ping is an unsigned form POST
//! `webhook_id=N` without `X-WC-*` headers. The `/webhooks` REST resource renders them as the real store does.

use super::store::Event;
use base64::Engine;
use chrono::{DateTime, SubsecRound, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;

/// Consecutive failures tolerated; one more disables the webhook.
const MAX_CONSECUTIVE_FAILURES: u32 = 5;
/// What WooCommerce 10.0.2 on WordPress 6.8.8 sends as its User-Agent, pings and deliveries alike.
pub(crate) const USER_AGENT: &str = "WooCommerce/10.0.2 Hookshot (WordPress/6.8.8)";
/// The resources and events a topic may name (`action.*` aside).
const RESOURCES: &[&str] = &["coupon", "customer", "order", "product"];
const EVENTS: &[&str] = &["created", "updated", "deleted", "restored"];

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
    /// True only while the status is `active`.
    pub active: bool,
    /// `active`, `paused` or `disabled` (disabled by the store after repeated failures, or by hand).
    pub status: String,
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
    name: String,
    target: WebhookTarget,
    status: &'static str,
    consecutive_failures: u32,
    created: DateTime<Utc>,
    /// Null until the webhook is first saved again (a delivery, an edit).
    modified: Option<DateTime<Utc>>,
}

impl Webhook {
    fn delivers(&self) -> bool {
        self.status == "active"
    }

    fn to_json(&self, api_root: &str) -> Value {
        let topic = self.target.topics.first().cloned().unwrap_or_default();
        let (resource, event) = topic.split_once('.').unwrap_or((topic.as_str(), ""));
        let gmt = |at: DateTime<Utc>| at.format("%Y-%m-%dT%H:%M:%S").to_string();
        let self_href = format!("{api_root}/webhooks/{}", self.id);
        json!({
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "topic": topic,
            "resource": resource,
            "event": event,
            "hooks": topic_hooks(&topic),
            "delivery_url": self.target.url,
            "date_created": gmt(self.created),
            "date_created_gmt": gmt(self.created),
            "date_modified": self.modified.map(gmt),
            "date_modified_gmt": self.modified.map(gmt),
            "_links": {
                "self": [{
                    "href": self_href,
                    "targetHints": { "allow": ["GET", "POST", "PUT", "PATCH", "DELETE"] },
                }],
                "collection": [{ "href": format!("{api_root}/webhooks") }],
            },
        })
    }
}

/// The WordPress actions a topic listens to, as core lists them in the webhook's `hooks`.
fn topic_hooks(topic: &str) -> Vec<&'static str> {
    match topic {
        "order.created" => vec!["woocommerce_new_order"],
        "order.updated" => vec!["woocommerce_update_order", "woocommerce_order_refunded"],
        "product.created" => vec![
            "woocommerce_process_product_meta",
            "woocommerce_new_product",
            "woocommerce_new_product_variation",
        ],
        "product.updated" => vec![
            "woocommerce_process_product_meta",
            "woocommerce_update_product",
            "woocommerce_update_product_variation",
        ],
        "coupon.created" => vec![
            "woocommerce_process_shop_coupon_meta",
            "woocommerce_new_coupon",
        ],
        "coupon.updated" => vec![
            "woocommerce_process_shop_coupon_meta",
            "woocommerce_update_coupon",
        ],
        "customer.created" => vec![
            "user_register",
            "woocommerce_created_customer",
            "woocommerce_new_customer",
        ],
        "customer.updated" => vec!["profile_update", "woocommerce_update_customer"],
        "customer.deleted" => vec!["delete_user"],
        t if t.ends_with(".deleted") => vec!["wp_trash_post"],
        t if t.ends_with(".restored") => vec!["untrashed_post"],
        _ => Vec::new(),
    }
}

/// Whether core accepts `topic` for a webhook.
pub(crate) fn valid_topic(topic: &str) -> bool {
    match topic.split_once('.') {
        Some(("action", action)) => !action.is_empty(),
        Some(("product", "published")) => true,
        Some((resource, event)) => RESOURCES.contains(&resource) && EVENTS.contains(&event),
        None => false,
    }
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
    /// Store root with a trailing slash, sent as `X-WC-Webhook-Source`.
    source: String,
    /// How long queued events wait for more changes to the same resource before sending.
    coalesce: Duration,
}

/// Builds the payload for (topic, resource id) from the current store state; `None` if it is gone.
pub(crate) type PayloadFn = dyn Fn(&str, u64) -> Option<Value> + Send + Sync;

/// The fields of a `POST /webhooks` or `PUT /webhooks/{id}`.
#[derive(Debug, Default)]
pub(crate) struct WebhookFields {
    pub name: Option<String>,
    pub topic: Option<String>,
    pub delivery_url: Option<String>,
    pub secret: Option<String>,
    pub status: Option<&'static str>,
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

impl WebhookHub {
    pub fn new(source: String, timeout: Duration, coalesce: Duration) -> reqwest::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            // 3xx up to 302 counts as delivered; following redirects would hide that.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT)
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

    /// Registers an active webhook and pings it in the background. Returns its id.
    pub fn add(self: &Arc<Self>, target: WebhookTarget) -> u64 {
        let name = format!("Webhook for {}", target.topics.join(", "));
        self.add_named(name, target, "active")
    }

    fn add_named(
        self: &Arc<Self>,
        name: String,
        target: WebhookTarget,
        status: &'static str,
    ) -> u64 {
        let url = target.url.clone();
        let id = self.with(|s| {
            let id = s.next_id;
            s.next_id += 1;
            s.webhooks.push(Webhook {
                id,
                name,
                target,
                status,
                consecutive_failures: 0,
                created: now(),
                modified: None,
            });
            id
        });
        let hub = Arc::clone(self);
        tokio::spawn(async move { hub.ping(id, &url).await });
        id
    }

    /// `POST /webhooks`: validated like core (a valid topic and a delivery URL), pinged, returned as JSON.
    pub fn create(
        self: &Arc<Self>,
        fields: WebhookFields,
        api_root: &str,
    ) -> Result<Value, (u16, &'static str, &'static str)> {
        let topic = fields.topic.filter(|t| valid_topic(t)).ok_or((
            400,
            "woocommerce_rest_shop_webhook_invalid_topic",
            "Webhook topic is required and must be valid.",
        ))?;
        let url = fields.delivery_url.filter(|u| !u.is_empty()).ok_or((
            400,
            "woocommerce_rest_shop_webhook_invalid_delivery_url",
            "Webhook delivery URL must be a valid URL starting with http:// or https://.",
        ))?;
        // Core generates a secret when none is given; it is never shown again.
        let secret = fields.secret.unwrap_or_else(|| {
            std::iter::repeat_with(fastrand::alphanumeric)
                .take(50)
                .collect()
        });
        let name = fields.name.unwrap_or_else(|| {
            format!(
                "Webhook created on {}",
                now().format("%B %-d, %Y @ %-I:%M %p")
            )
        });
        let id = self.add_named(
            name,
            WebhookTarget {
                url,
                secret,
                topics: vec![topic],
            },
            fields.status.unwrap_or("active"),
        );
        self.json(id, api_root)
            .ok_or((500, "woocommerce_rest_cannot_create", "Cannot create."))
    }

    /// `PUT /webhooks/{id}`; `None` if there is no such webhook.
    pub fn update(&self, id: u64, fields: WebhookFields, api_root: &str) -> Option<Value> {
        let found = self.with(|s| {
            let hook = s.webhooks.iter_mut().find(|w| w.id == id)?;
            if let Some(name) = fields.name {
                hook.name = name;
            }
            if let Some(topic) = fields.topic {
                hook.target.topics = vec![topic];
            }
            if let Some(url) = fields.delivery_url {
                hook.target.url = url;
            }
            if let Some(secret) = fields.secret {
                hook.target.secret = secret;
            }
            if let Some(status) = fields.status {
                hook.status = status;
            }
            hook.modified = Some(now());
            Some(())
        });
        found.and_then(|()| self.json(id, api_root))
    }

    /// `DELETE /webhooks/{id}?force=true`: the webhook as it was, `None` if there is no such webhook.
    pub fn delete(&self, id: u64, api_root: &str) -> Option<Value> {
        let json = self.json(id, api_root)?;
        self.with(|s| {
            s.webhooks.retain(|w| w.id != id);
            s.queued.retain(|(hook, _, _)| *hook != id);
        });
        Some(json)
    }

    pub fn json(&self, id: u64, api_root: &str) -> Option<Value> {
        self.with(|s| {
            s.webhooks
                .iter()
                .find(|w| w.id == id)
                .map(|w| w.to_json(api_root))
        })
    }

    /// Every webhook with `status` (`all` for every one), newest first as `GET /webhooks` lists them.
    pub fn list_json(&self, status: &str, api_root: &str) -> Vec<Value> {
        self.with(|s| {
            s.webhooks
                .iter()
                .rev()
                .filter(|w| status == "all" || w.status == status)
                .map(|w| w.to_json(api_root))
                .collect()
        })
    }

    async fn ping(&self, id: u64, url: &str) {
        // Core's ping: a form POST with only the webhook id; no signature, no X-WC-* headers.
        let result = self
            .http
            .post(url)
            .form(&[("webhook_id", id.to_string())])
            .send()
            .await;
        let status = result.ok().map(|r| r.status().as_u16());
        // Over REST a failed ping does not stop the webhook from being saved; it is recorded here.
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

    /// Sets a webhook active or disabled by hand; false if there is no such webhook. Like core, the
    /// failure count is kept: a webhook disabled after 6 failures is disabled again by its next failure.
    pub fn set_active(&self, id: u64, active: bool) -> bool {
        self.with(|s| {
            let Some(hook) = s.webhooks.iter_mut().find(|w| w.id == id) else {
                return false;
            };
            hook.status = if active { "active" } else { "disabled" };
            hook.modified = Some(now());
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
                    active: w.delivers(),
                    status: w.status.to_string(),
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
                for hook in s.webhooks.iter().filter(|w| w.delivers()) {
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

    /// The delivery loop (the simulator's Action Scheduler); runs until the simulator shuts down.
    pub async fn run(self: Arc<Self>, payload: Arc<PayloadFn>) {
        loop {
            self.wake.notified().await;
            tokio::time::sleep(self.coalesce).await;
            let batch = self.with(|s| std::mem::take(&mut s.queued));
            for (webhook_id, topic, resource_id) in batch {
                let target = self.with(|s| {
                    s.webhooks
                        .iter()
                        .find(|w| w.id == webhook_id && w.delivers())
                        .map(|w| w.target.clone())
                });
                let Some(target) = target else { continue };
                let body = if topic.ends_with(".deleted") {
                    Some(json!({ "id": resource_id }))
                } else {
                    payload(topic, resource_id)
                };
                let Some(body) = body else { continue };
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
        let raw = php_json(body);
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
                        hook.status = "disabled";
                    }
                }
                hook.modified = Some(now());
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

/// The body as PHP's `wp_json_encode` writes it — `/` as `\/`, non-ASCII as `\uXXXX` — which is what the
/// signature covers: a receiver must verify the raw bytes, not a re-serialisation.
pub(crate) fn php_json(value: &Value) -> Vec<u8> {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            // Both only ever occur inside JSON strings.
            '/' => out.push_str("\\/"),
            c if !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.into_bytes()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_encoded_as_php_does() {
        let body = json!({"url": "http://x/y", "name": "Café ☕ 😀"});
        assert_eq!(
            String::from_utf8(php_json(&body)).unwrap(),
            r#"{"name":"Caf\u00e9 \u2615 \ud83d\ude00","url":"http:\/\/x\/y"}"#
        );
        let back: Value = serde_json::from_slice(&php_json(&body)).unwrap();
        assert_eq!(back, body);
    }
}
