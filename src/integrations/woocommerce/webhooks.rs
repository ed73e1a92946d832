//! The store's webhooks that deliver to syncdesk's receiver, as `check` reports them. A store disables a
//! webhook after more than five failed deliveries and tells nobody: changes then arrive only with the
//! poll. `check` says so, and `check --enable-webhooks` switches ours back on.

use serde::Serialize;

use crate::config::Config;
use crate::integrations::woocommerce::client::{WooClient, WooWebhook};

/// The address the store should deliver to, as configured (or derived from `server.listen`).
pub fn receiver_url(config: &Config) -> String {
    let configured = config.woocommerce.webhook_url.trim();
    if !configured.is_empty() {
        return configured.to_string();
    }
    format!(
        "http://{}/webhooks/woocommerce",
        config.server.listen.trim()
    )
}

/// What the store's registrations say about our receiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookHealth {
    pub receiver: String,
    /// Ours: (id, topic, status) — status `active`, `paused` or `disabled`.
    pub ours: Vec<(u64, String, String)>,
    /// Ours that were switched back on by this check.
    pub enabled_now: Vec<u64>,
}

impl WebhookHealth {
    /// Ours that do not deliver.
    pub fn not_delivering(&self) -> Vec<&(u64, String, String)> {
        self.ours.iter().filter(|(_, _, s)| s != "active").collect()
    }

    /// One line for `check`: Ok when every one of ours delivers (or, with a note, when there are none:
    /// webhooks only make changes arrive sooner); Err naming the ones the store stopped delivering.
    pub fn verdict(&self) -> Result<String, String> {
        if self.ours.is_empty() {
            return Ok(format!(
                "none delivers to {} — changes arrive with the poll only (every woocommerce.poll_secs); for changes within seconds add order.created/order.updated/product.updated webhooks with woocommerce.webhook_secret",
                self.receiver
            ));
        }
        let listed = self
            .ours
            .iter()
            .map(|(id, topic, status)| format!("{topic} #{id} {status}"))
            .collect::<Vec<_>>()
            .join(", ");
        let broken = self.not_delivering();
        if broken.is_empty() {
            let enabled = if self.enabled_now.is_empty() {
                String::new()
            } else {
                format!(" (switched back on: {:?})", self.enabled_now)
            };
            Ok(format!("{listed} → {}{enabled}", self.receiver))
        } else {
            Err(format!(
                "{listed} → {}: the store stopped delivering {} webhook(s) (it disables one after 5 failed deliveries); changes arrive only with the poll until `syncdesk check --enable-webhooks` switches them back on",
                self.receiver,
                broken.len()
            ))
        }
    }
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim()
        .trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim().trim_end_matches('/'))
}

/// Lists the store's webhooks, picks ours (by delivery URL), and with `enable` re-activates those not
/// active.
pub async fn check(
    client: &WooClient,
    config: &Config,
    enable: bool,
) -> Result<WebhookHealth, String> {
    let receiver = receiver_url(config);
    let all: Vec<WooWebhook> = client.list_webhooks().await.map_err(|e| e.to_string())?;
    let mut health = WebhookHealth {
        receiver: receiver.clone(),
        ours: Vec::new(),
        enabled_now: Vec::new(),
    };
    for hook in all
        .into_iter()
        .filter(|h| same_url(&h.delivery_url, &receiver))
    {
        let mut status = hook.status.clone();
        if enable && status != "active" {
            let updated = client
                .set_webhook_status(hook.id, "active")
                .await
                .map_err(|e| format!("webhook #{} could not be switched on: {e}", hook.id))?;
            status = updated.status;
            health.enabled_now.push(hook.id);
        }
        health.ours.push((hook.id, hook.topic, status));
    }
    Ok(health)
}
