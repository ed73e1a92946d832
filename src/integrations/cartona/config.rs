//! The `[cartona]` section: the Cartona marketplace as a sales channel — connection, the order pull, the
//! status mappings (basic and enhanced, both editable), OTP handling and the verified bulk push.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::config::Secret;
use crate::domain::Workflow;
use crate::integrations::cartona::client::CartonaConfig;
use crate::integrations::cartona::rules::{
    DeliveryState, EnhancedTable, MappingKind, SUPPLIER_STATUSES,
};

/// When a `delivered` push must carry the retailer's OTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtpPolicy {
    /// When Cartona's order says `requires_otp`.
    #[default]
    Order,
    /// For every delivered push.
    Always,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CartonaSection {
    pub enabled: bool,
    /// API root, e.g. https://supplier-integrations.cartona.space (`/api/v1/` is added when missing).
    pub base_url: String,
    pub token: Secret,
    /// Header carrying the token, and what precedes the token in it (UNVERIFIED by Cartona's docs).
    pub auth_header: String,
    pub auth_prefix: String,
    pub timeout_secs: u64,
    /// Tries per API call inside the client before the job engine takes over retrying.
    pub max_attempts: u32,
    /// Orders per `pull-orders` page.
    pub per_page: u32,
    /// How often new marketplace orders are pulled.
    pub poll_secs: u64,
    /// How far before the last pull each pull starts again (orders are listed by creation time).
    pub overlap_secs: u64,
    /// Which table maps syncdesk statuses out: basic (status) or enhanced (status + delivery state).
    pub mapping: MappingKind,
    /// Cartona status → syncdesk status, for orders coming in.
    pub status_in: BTreeMap<String, String>,
    /// Basic mapping: syncdesk status → Cartona status.
    pub status_out: BTreeMap<String, String>,
    /// Enhanced mapping: syncdesk status → delivery state (confirmed, shipped, delivered, or * for any) →
    /// Cartona status.
    pub status_out_enhanced: EnhancedTable,
    /// When a delivered push needs the retailer's OTP (order: when Cartona says so; always).
    pub otp: OtpPolicy,
    /// Sent with cancellations whose note names no Cartona reason.
    pub cancellation_reason: String,
    /// Re-read after each bulk update so a silently skipped item becomes a visible error.
    pub bulk_verify: bool,
    /// Status updates per bulk request.
    pub batch_size: usize,
}

impl Default for CartonaSection {
    fn default() -> Self {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        Self {
            enabled: false,
            base_url: "https://supplier-integrations.cartona.space/api/v1/".into(),
            token: Secret::default(),
            auth_header: "Authorization".into(),
            auth_prefix: "Bearer ".into(),
            timeout_secs: 30,
            max_attempts: 4,
            per_page: 50,
            poll_secs: 120,
            overlap_secs: 604_800,
            mapping: MappingKind::Basic,
            status_in: map(&[
                ("pending", "Pending"),
                ("approved", "Processing"),
                ("assigned_to_salesman", "Shipped"),
                ("delivered", "Completed"),
                ("cancelled_by_retailer", "Cancelled"),
                ("cancelled_by_supplier", "Cancelled"),
                ("returned", "Cancelled"),
            ]),
            status_out: map(&[
                ("Pending", "pending"),
                ("Processing", "approved"),
                ("Ready to Ship", "approved"),
                ("Shipped", "assigned_to_salesman"),
                ("Completed", "delivered"),
                ("Cancelled", "cancelled_by_supplier"),
            ]),
            status_out_enhanced: [
                ("Pending", &[("*", "pending")][..]),
                (
                    "Processing",
                    &[
                        ("confirmed", "approved"),
                        ("shipped", "assigned_to_salesman"),
                    ],
                ),
                (
                    "Ready to Ship",
                    &[
                        ("confirmed", "approved"),
                        ("shipped", "assigned_to_salesman"),
                    ],
                ),
                (
                    "Shipped",
                    &[
                        ("confirmed", "approved"),
                        ("shipped", "assigned_to_salesman"),
                    ],
                ),
                ("Completed", &[("*", "delivered")]),
                ("Cancelled", &[("*", "cancelled_by_supplier")]),
            ]
            .into_iter()
            .map(|(status, states)| (status.to_string(), map(states)))
            .collect(),
            otp: OtpPolicy::Order,
            cancellation_reason: "other".into(),
            bulk_verify: true,
            batch_size: 100,
        }
    }
}

impl CartonaSection {
    /// This section's numeric fields with their allowed ranges (part of the one range table).
    pub(crate) fn ranges(&self, t: &mut crate::config::Ranges) {
        use crate::config::units::*;
        t.whole(
            "cartona.timeout_secs",
            self.timeout_secs,
            1,
            10 * MINUTE,
            SECS,
        )
        .whole("cartona.max_attempts", self.max_attempts, 1, 20, "tries")
        .whole("cartona.per_page", self.per_page, 1, 1000, "orders")
        .whole("cartona.poll_secs", self.poll_secs, 1, DAY, SECS)
        .whole("cartona.overlap_secs", self.overlap_secs, 0, MONTH, SECS)
        .whole("cartona.batch_size", self.batch_size, 1, 1000, "updates");
    }

    pub(crate) fn validate(&self, workflow: &Workflow) -> Result<(), String> {
        let remote_ok = |field: &str, key: &str, remote: &str| {
            if SUPPLIER_STATUSES.contains(&remote.trim()) {
                Ok(())
            } else {
                Err(format!(
                    "cartona.{field}.{key}: '{remote}' is not a status a supplier may send; one of {}",
                    SUPPLIER_STATUSES.join(", ")
                ))
            }
        };
        for (remote, local) in &self.status_in {
            workflow.by_name(local).map_err(|_| {
                format!("cartona.status_in.\"{remote}\": unknown syncdesk status '{local}'")
            })?;
        }
        for (local, remote) in &self.status_out {
            workflow
                .by_name(local)
                .map_err(|_| format!("cartona.status_out.\"{local}\": unknown syncdesk status"))?;
            remote_ok("status_out", &format!("\"{local}\""), remote)?;
        }
        for (local, states) in &self.status_out_enhanced {
            workflow.by_name(local).map_err(|_| {
                format!("cartona.status_out_enhanced.\"{local}\": unknown syncdesk status")
            })?;
            for (state, remote) in states {
                let key = format!("\"{local}\".{state}");
                if state != "*" && !DeliveryState::NAMES.contains(&state.trim()) {
                    return Err(format!(
                        "cartona.status_out_enhanced.{key}: unknown delivery state; one of {}, *",
                        DeliveryState::NAMES.join(", ")
                    ));
                }
                remote_ok("status_out_enhanced", &key, remote)?;
            }
        }
        if self.cancellation_reason.trim().is_empty() {
            return Err("cartona.cancellation_reason: must not be empty".into());
        }
        if self.enabled || !self.base_url.trim().is_empty() {
            crate::config::check_api_url("cartona.base_url", &self.base_url, "")?;
        }
        if self.enabled && self.token.is_empty() {
            return Err("cartona.token: required when enabled".into());
        }
        Ok(())
    }

    /// The client settings this section describes.
    pub fn client_config(&self) -> CartonaConfig {
        let mut c = CartonaConfig::new(self.base_url.trim(), self.token.expose());
        c.auth_header = self.auth_header.clone();
        c.auth_prefix = self.auth_prefix.clone();
        c.timeout = Duration::from_secs(self.timeout_secs.max(1));
        c.max_attempts = self.max_attempts.max(1);
        c.per_page = self.per_page.max(1);
        c
    }

    /// The syncdesk status a Cartona status maps to, if any.
    pub fn inbound(&self, remote: &str) -> Option<&str> {
        self.status_in
            .iter()
            .find(|(r, _)| r.eq_ignore_ascii_case(remote.trim()))
            .map(|(_, l)| l.as_str())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn errors_name_the_cartona_field() {
        let err = |text: &str| Config::parse(text).unwrap_err();
        assert!(
            err("[cartona.status_out]\n\"Processing\" = \"shipped\"\n")
                .contains("cartona.status_out.\"Processing\": 'shipped' is not a status"),
        );
        assert!(
            err("[cartona.status_out_enhanced]\n\"Shipped\" = { gone = \"approved\" }\n")
                .contains("cartona.status_out_enhanced.\"Shipped\".gone: unknown delivery state"),
        );
        assert!(
            err("[cartona.status_in]\n\"approved\" = \"Nope\"\n")
                .contains("cartona.status_in.\"approved\": unknown syncdesk status 'Nope'"),
        );
        assert!(
            err("[cartona]\nenabled = true\nbase_url = \"http://x\"\n").contains("cartona.token")
        );
        assert!(err("[cartona]\nmapping = \"fancy\"\n").contains("mapping"));
    }
}
