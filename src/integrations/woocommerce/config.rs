//! `[woocommerce]`: the store — connection, trust, status mappings, the order poll and its first import.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::Secret;
use crate::domain::Workflow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WooAuth {
    /// Basic over https://, OAuth 1.0a over http://.
    #[default]
    Auto,
    Basic,
    Oauth,
    /// consumer_key/consumer_secret in the query, for hosts that strip the Authorization header (https only).
    Query,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WooCommerceConfig {
    pub enabled: bool,
    /// The store's root URL, e.g. https://shop.example.
    pub url: String,
    pub consumer_key: Secret,
    pub consumer_secret: Secret,
    pub auth: WooAuth,
    pub timeout_secs: u64,
    /// Tries per API call inside the client before the job engine takes over retrying.
    pub max_attempts: u32,
    /// The secret set on the store's webhooks; deliveries with another signature are refused.
    pub webhook_secret: Secret,
    /// The reconciliation poll (the source of truth; webhooks are only hints).
    pub poll_secs: u64,
    /// How far back each poll re-reads, since the store's dates are whole seconds and clocks differ.
    pub overlap_secs: u64,
    /// What the first import reads (later polls read what changed since): `"30d"` = open orders plus
    /// everything changed in the last 30 days, `"2025-01-01"` = open orders plus everything changed since
    /// that day, `"all"` = the whole history. Orders already final in that history are kept as history:
    /// their stock is never counted again (no POS reductions, no stock sales).
    pub import_since: String,
    /// PEM file of the CA that signed the store's certificate, when it is not one the platform trusts.
    pub ca_file: String,
    /// Trust exactly this certificate (`sha256:…`, as `syncdesk check` prints it): a self-signed store.
    pub pinned_cert: String,
    /// The address the store delivers webhooks to (what `check` looks for among the store's webhooks);
    /// empty: `http://<server.listen>/webhooks/woocommerce`.
    pub webhook_url: String,
    /// WooCommerce status → syncdesk status, for orders coming in.
    pub status_in: BTreeMap<String, String>,
    /// syncdesk status → WooCommerce status, for pushes; a status not listed pushes nothing.
    pub status_out: BTreeMap<String, String>,
}

impl Default for WooCommerceConfig {
    fn default() -> Self {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        Self {
            enabled: false,
            url: String::new(),
            consumer_key: Secret::default(),
            consumer_secret: Secret::default(),
            auth: WooAuth::Auto,
            timeout_secs: 30,
            max_attempts: 4,
            webhook_secret: Secret::default(),
            poll_secs: 60,
            overlap_secs: 30,
            import_since: "30d".into(),
            ca_file: String::new(),
            pinned_cert: String::new(),
            webhook_url: String::new(),
            status_in: map(&[
                ("pending", "Pending"),
                ("processing", "Processing"),
                // Real stores park unpaid bank-transfer and cheque orders here: waiting, not backordered.
                ("on-hold", "Pending"),
                ("completed", "Completed"),
                ("cancelled", "Cancelled"),
                ("refunded", "Cancelled"),
                ("failed", "Cancelled"),
            ]),
            status_out: map(&[
                ("Shipped", "completed"),
                ("Completed", "completed"),
                ("Cancelled", "cancelled"),
                ("Backorder", "on-hold"),
            ]),
        }
    }
}

impl WooCommerceConfig {
    /// This section's numeric fields with their allowed ranges (part of the one range table).
    pub(crate) fn ranges(&self, t: &mut crate::config::Ranges) {
        use crate::config::units::*;
        t.whole(
            "woocommerce.timeout_secs",
            self.timeout_secs,
            1,
            10 * MINUTE,
            SECS,
        )
        .whole(
            "woocommerce.max_attempts",
            self.max_attempts,
            1,
            20,
            "tries",
        )
        .whole("woocommerce.poll_secs", self.poll_secs, 1, DAY, SECS)
        .whole("woocommerce.overlap_secs", self.overlap_secs, 0, DAY, SECS);
    }

    pub(crate) fn validate(&self, workflow: &Workflow) -> Result<(), String> {
        for (remote, local) in &self.status_in {
            workflow.by_name(local).map_err(|_| {
                format!("woocommerce.status_in.\"{remote}\": unknown syncdesk status '{local}'")
            })?;
        }
        for local in self.status_out.keys() {
            workflow.by_name(local).map_err(|_| {
                format!("woocommerce.status_out.\"{local}\": unknown syncdesk status")
            })?;
        }
        if self.enabled || !self.url.trim().is_empty() {
            crate::config::check_api_url(
                "woocommerce.url",
                &self.url,
                " (or http:// for OAuth 1.0a)",
            )?;
        }
        if !self.webhook_url.trim().is_empty() {
            crate::config::check_webhook_url("woocommerce.webhook_url", &self.webhook_url)?;
        }
        if self.enabled && (self.consumer_key.is_empty() || self.consumer_secret.is_empty()) {
            return Err("woocommerce.consumer_key / consumer_secret: required when enabled".into());
        }
        ImportSince::parse(&self.import_since)
            .map_err(|e| format!("woocommerce.import_since: {e}"))?;
        if !self.pinned_cert.trim().is_empty() {
            crate::integrations::woocommerce::client::trust::parse_fingerprint(&self.pinned_cert)
                .map_err(|e| format!("woocommerce.pinned_cert: {e}"))?;
        }
        if self.enabled {
            let plain_http = self.url.trim().starts_with("http://");
            if plain_http && matches!(self.auth, WooAuth::Basic | WooAuth::Query) {
                return Err(format!(
                    "woocommerce.auth: '{}' sends the consumer secret in clear text over http://, and WooCommerce refuses it there (401 woocommerce_rest_cannot_view); use an https:// url, or auth = \"oauth\" (or \"auto\") for http",
                    if self.auth == WooAuth::Basic {
                        "basic"
                    } else {
                        "query"
                    }
                ));
            }
            if plain_http
                && (!self.ca_file.trim().is_empty() || !self.pinned_cert.trim().is_empty())
            {
                return Err(
                    "woocommerce.ca_file / pinned_cert: only apply to an https:// url".into(),
                );
            }
        }
        Ok(())
    }

    /// `import_since`, parsed (validated at load).
    pub fn import_since(&self) -> ImportSince {
        ImportSince::parse(&self.import_since).unwrap_or(ImportSince::Days(30))
    }

    /// The syncdesk status a WooCommerce status maps to, if any (WooCommerce statuses compare case-insensitively).
    pub fn inbound(&self, remote: &str) -> Option<&str> {
        let remote = remote.trim().trim_start_matches("wc-");
        self.status_in
            .iter()
            .find(|(r, _)| r.eq_ignore_ascii_case(remote))
            .map(|(_, l)| l.as_str())
    }

    /// The WooCommerce status to push for a syncdesk status, if mapped.
    pub fn outbound(&self, local: &str) -> Option<&str> {
        self.status_out
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(local))
            .map(|(_, r)| r.as_str())
    }
}

/// How far back a first import of a channel's orders reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportSince {
    /// Open orders, plus every order changed in the last N days.
    Days(u32),
    /// Open orders, plus every order changed since this day (UTC midnight).
    Date(chrono::NaiveDate),
    /// The whole history.
    All,
}

impl ImportSince {
    pub fn parse(text: &str) -> Result<ImportSince, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("all") {
            return Ok(ImportSince::All);
        }
        if let Some(days) = t.strip_suffix('d').or_else(|| t.strip_suffix('D')) {
            return days
                .trim()
                .parse::<u32>()
                .map(ImportSince::Days)
                .map_err(|_| format!("'{text}': expected a number of days like \"30d\""));
        }
        chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(ImportSince::Date)
            .map_err(|_| {
                format!("'{text}': expected \"30d\" (days), a date \"2025-01-01\", or \"all\"")
            })
    }

    /// The oldest modification a first import reads (open orders aside), or `None` for everything.
    pub fn cutoff(
        self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        match self {
            ImportSince::Days(n) => Some(now - chrono::Duration::days(i64::from(n))),
            ImportSince::Date(d) => Some(d.and_hms_opt(0, 0, 0)?.and_utc()),
            ImportSince::All => None,
        }
    }
}
