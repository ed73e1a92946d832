//! `[alerts]`: who hears about alerts, how soon, and where the stock rules draw the line.

use serde::Deserialize;

use crate::domain::alerts::{Severity, Thresholds};

/// Who hears about alerts, how soon, and where the stock rules draw the line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Who receives alert mail; empty means alerts are only listed (`syncdesk alerts list`), never mailed.
    pub recipients: Vec<String>,
    /// Severities e-mailed as soon as they are raised; the others wait for the digest.
    pub immediate: Vec<Severity>,
    /// How often the digest of the other severities goes out.
    pub digest_every_secs: u64,
    /// A POS/store difference of more than this many units is a discrepancy.
    pub discrepancy_units: i64,
    /// A price difference of more than this share of the POS price (0.20 = 20%) is raised.
    pub price_difference: f64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            recipients: vec!["ops@localhost".into()],
            immediate: vec![Severity::High],
            digest_every_secs: 86_400,
            discrepancy_units: 10,
            price_difference: 0.20,
        }
    }
}

impl AlertsConfig {
    /// This section's numeric fields with their allowed ranges (part of the one range table).
    pub(crate) fn ranges(&self, t: &mut crate::config::Ranges) {
        use crate::config::units::*;
        t.whole(
            "alerts.digest_every_secs",
            self.digest_every_secs,
            1,
            MONTH,
            SECS,
        )
        .whole(
            "alerts.discrepancy_units",
            self.discrepancy_units,
            0,
            1_000_000_000,
            "units",
        )
        .real(
            "alerts.price_difference",
            self.price_difference,
            0.0,
            10.0,
            "a share: 0.20 = 20%",
        );
    }

    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            discrepancy_units: self.discrepancy_units,
            price_difference: self.price_difference,
        }
    }

    pub fn is_immediate(&self, severity: Severity) -> bool {
        self.immediate.contains(&severity)
    }

    /// The severities the digest carries: every one not sent immediately.
    pub fn digest_severities(&self) -> Vec<Severity> {
        Severity::ALL
            .into_iter()
            .filter(|s| !self.is_immediate(*s))
            .collect()
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        for (i, r) in self.recipients.iter().enumerate() {
            if r.parse::<lettre::Address>().is_err() {
                return Err(format!(
                    "alerts.recipients[{i}]: '{r}' is not an e-mail address"
                ));
            }
        }
        Ok(())
    }
}
