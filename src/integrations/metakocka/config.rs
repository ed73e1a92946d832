//! `[metakocka]`: the ERP as the back office.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::Secret;
use crate::domain::Workflow;

/// Metakocka ERP as the back office: orders become sales orders that reserve stock, shipments and
/// cancellations update them, orders entered in Metakocka are pulled in, and its stock webhook is received.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetakockaSection {
    pub enabled: bool,
    /// Host root (https://main.metakocka.si) or the API root (…/rest/eshop/v1).
    pub base_url: String,
    pub company_id: String,
    pub secret_key: Secret,
    /// The webhook's client_secret: stock webhooks with another signature are refused.
    pub webhook_secret: Secret,
    /// The warehouse id sales orders reserve from and availability is checked in.
    pub warehouse: String,
    /// Orders from these channels become Metakocka sales orders…
    pub channels: Vec<String>,
    /// …when they enter this status (availability is checked and stock reserved then).
    pub create_on: String,
    /// syncdesk status → this company's Metakocka status code; a status not listed sends nothing.
    pub status_out: BTreeMap<String, String>,
    /// Metakocka status code → syncdesk status, for orders pulled from Metakocka.
    pub status_in: BTreeMap<String, String>,
    /// How often sales orders entered in Metakocka are pulled in.
    pub poll_secs: u64,
    pub timeout_secs: u64,
    /// Tries per API call inside the client before the job engine takes over retrying.
    pub max_attempts: u32,
}

impl Default for MetakockaSection {
    fn default() -> Self {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        Self {
            enabled: false,
            base_url: "https://main.metakocka.si".into(),
            company_id: String::new(),
            secret_key: Secret::default(),
            webhook_secret: Secret::default(),
            warehouse: String::new(),
            channels: crate::integrations::default_order_channels(),
            create_on: "Processing".into(),
            status_out: map(&[
                ("Processing", "in_progress"),
                ("Ready to Ship", "in_progress"),
                ("Backorder", "draft"),
                ("Shipped", "shipped"),
                ("Completed", "shipped"),
                ("Cancelled", "cancelled"),
            ]),
            status_in: map(&[
                ("draft", "Pending"),
                ("in_progress", "Processing"),
                ("shipped", "Shipped"),
                ("delivered", "Completed"),
                ("cancelled", "Cancelled"),
            ]),
            poll_secs: 300,
            timeout_secs: 60,
            max_attempts: 4,
        }
    }
}

impl MetakockaSection {
    /// This section's numeric fields with their allowed ranges (part of the one range table).
    pub(crate) fn ranges(&self, t: &mut crate::config::Ranges) {
        use crate::config::units::*;
        t.whole("metakocka.poll_secs", self.poll_secs, 1, DAY, SECS)
            .whole(
                "metakocka.timeout_secs",
                self.timeout_secs,
                1,
                10 * MINUTE,
                SECS,
            )
            .whole("metakocka.max_attempts", self.max_attempts, 1, 20, "tries");
    }

    pub(crate) fn validate(&self, workflow: &Workflow) -> Result<(), String> {
        workflow
            .by_name(&self.create_on)
            .map_err(|_| format!("metakocka.create_on: unknown status '{}'", self.create_on))?;
        for (local, code) in &self.status_out {
            workflow.by_name(local).map_err(|_| {
                format!("metakocka.status_out.\"{local}\": unknown syncdesk status")
            })?;
            if code.trim().is_empty() {
                return Err(format!(
                    "metakocka.status_out.\"{local}\": the Metakocka status code must not be empty"
                ));
            }
        }
        for (code, local) in &self.status_in {
            workflow.by_name(local).map_err(|_| {
                format!("metakocka.status_in.\"{code}\": unknown syncdesk status '{local}'")
            })?;
        }
        if self.enabled || !self.base_url.trim().is_empty() {
            crate::config::check_api_url("metakocka.base_url", &self.base_url, "")?;
        }
        if self.enabled {
            if self.company_id.trim().is_empty() || self.secret_key.is_empty() {
                return Err("metakocka.company_id / secret_key: required when enabled".into());
            }
            if self.warehouse.trim().is_empty() {
                return Err(
                    "metakocka.warehouse: required when enabled (the warehouse id orders reserve from)"
                        .into(),
                );
            }
        }
        Ok(())
    }

    /// The Metakocka status code to send for a syncdesk status, if mapped (names compare case-insensitively).
    pub fn outbound(&self, local: &str) -> Option<&str> {
        self.status_out
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(local))
            .map(|(_, code)| code.as_str())
    }

    /// The syncdesk status a Metakocka status code maps to, if any (codes are the company's exact labels).
    pub fn inbound(&self, code: &str) -> Option<&str> {
        self.status_in.get(code.trim()).map(String::as_str)
    }
}
