//! Configuration: a TOML file whose every field has a default, so an empty file (or none) is a working setup.
//! `assets/config.toml` is the commented template `syncdesk init` writes; a test keeps it equal to the defaults.
//!
//! This module only aggregates: each section's type lives with the part it configures — the product's own
//! sections one file each in this folder, an integration's in its folder, the console's in `tui/` — and
//! is re-exported here under its old name.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod alerts;
mod fields;
mod jobs;
mod roles;
mod server;
mod statuses;
mod stock;
mod store;
mod toml_error;

pub use crate::integrations::cartona::{CartonaSection, OtpPolicy};
pub use crate::integrations::counterpoint::CounterpointSection;
pub use crate::integrations::email::{EmailConfig, SmtpSecurity};
pub use crate::integrations::metakocka::MetakockaSection;
pub use crate::integrations::pos_csv::PosCsvSection;
pub use crate::integrations::woocommerce::{ImportSince, WooAuth, WooCommerceConfig};
pub use crate::tui::ConsoleConfig;
pub use alerts::AlertsConfig;
pub(crate) use fields::{Ranges, check_api_url, check_webhook_url, units};
pub use jobs::{DEFAULT_RETRY_FOR_SECS, EngineConfig, JobsConfig, MAX_RETRY_FOR_SECS};
pub use roles::RolesConfig;
pub use server::ServerConfig;
pub use statuses::{StatusDef, StatusesConfig};
pub use stock::{PriceSource, StockConfig};
pub use store::{QuickCheck, StoreConfig};

/// The store side's word (`--winner`, `price_source`) from before it was called "store": still accepted.
pub const LEGACY_STORE_WINNER: &str = "woo";

/// The store side's policy name from before it was called "store": still accepted in configurations, and
/// still what resolutions are recorded as (conflict history and operators' tools read it back).
pub(crate) const LEGACY_STORE_WINS: &str = "woo_wins";

/// The commented default configuration, embedded in the binary.
pub const TEMPLATE: &str = include_str!("../../assets/config.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: cannot read: {source}")]
    Unreadable {
        file: String,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub statuses: StatusesConfig,
    pub email: EmailConfig,
    pub jobs: JobsConfig,
    pub engine: EngineConfig,
    pub store: StoreConfig,
    pub server: ServerConfig,
    pub woocommerce: WooCommerceConfig,
    pub counterpoint: CounterpointSection,
    pub stock: StockConfig,
    pub console: ConsoleConfig,
    pub pos_csv: PosCsvSection,
    pub alerts: AlertsConfig,
    pub metakocka: MetakockaSection,
    pub cartona: CartonaSection,
    pub roles: RolesConfig,
}

impl Config {
    /// Reads and validates a config file. A missing file is an error only when `required` (named by the user).
    pub fn load(path: &Path, required: bool) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok(Config::default());
            }
            Err(source) => return Err(ConfigError::Unreadable { file, source }),
        };
        Self::parse(&text).map_err(|message| ConfigError::Invalid { file, message })
    }

    /// Parses and validates TOML text; the error names the field and what is wrong, and never repeats the
    /// text of the file (where a secret may be).
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config =
            toml::from_str(text).map_err(|e| toml_error::describe(text, &e, TEMPLATE))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        fields::check_ranges(self)?;
        let workflow = self.statuses.to_workflow()?;
        self.validate_one_back_office()?;
        self.console.validate()?;
        self.woocommerce.validate(&workflow)?;
        self.counterpoint.validate(&workflow)?;
        self.pos_csv.validate(&workflow)?;
        self.metakocka.validate(&workflow)?;
        self.cartona.validate(&workflow)?;
        self.stock.validate()?;
        if self.stock.enabled && !(self.woocommerce.enabled && self.has_stock_back_office()) {
            return Err(
                "stock.enabled: stock sync needs [woocommerce] and a back office ([counterpoint], [metakocka] or [pos_csv]) enabled".into(),
            );
        }
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!(
                "server.listen: '{}' is not an address like 127.0.0.1:8787",
                self.server.listen
            ));
        }
        for (i, r) in self.email.purchasing.iter().enumerate() {
            if r.parse::<lettre::Address>().is_err() {
                return Err(format!(
                    "email.purchasing[{i}]: '{r}' is not an e-mail address"
                ));
            }
        }
        self.alerts.validate()?;
        self.roles.validate()?;
        if self.email.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!(
                "email.from: '{}' is not an e-mail address",
                self.email.from
            ));
        }
        Ok(())
    }
}

/// Where the config lives when neither `--config` nor `$SYNCDESK_CONFIG` says.
pub fn default_config_path() -> PathBuf {
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("syncdesk")
        .join("config.toml")
}

/// Where the database lives when neither `--db` nor `$SYNCDESK_DB` says.
pub fn default_db_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("syncdesk")
        .join("syncdesk.db")
}

/// A value that must never reach logs or Debug output.
#[derive(Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

pub(crate) fn yes() -> bool {
    true
}

impl Config {
    /// Every section's numeric fields, in one table (the order is the order errors are looked for).
    fn ranges(&self, t: &mut Ranges) {
        self.store.ranges(t);
        self.email.ranges(t);
        self.alerts.ranges(t);
        self.jobs.ranges(t);
        self.engine.ranges(t);
        self.server.ranges(t);
        self.woocommerce.ranges(t);
        self.counterpoint.ranges(t);
        self.stock.ranges(t);
        self.console.ranges(t);
        self.pos_csv.ranges(t);
        self.metakocka.ranges(t);
        self.cartona.ranges(t);
    }

    /// True when a back office stock passes can read is enabled.
    pub fn has_stock_back_office(&self) -> bool {
        self.counterpoint.enabled || self.metakocka.enabled || self.pos_csv.enabled
    }

    /// A shop has one back office: two would both reserve, stage or reduce stock for the same order.
    fn validate_one_back_office(&self) -> Result<(), String> {
        let enabled: Vec<&str> = [
            ("counterpoint.enabled", self.counterpoint.enabled),
            ("metakocka.enabled", self.metakocka.enabled),
            ("pos_csv.enabled", self.pos_csv.enabled),
        ]
        .into_iter()
        .filter_map(|(field, on)| on.then_some(field))
        .collect();
        if enabled.len() > 1 {
            return Err(format!(
                "{}: exactly one back office per shop; enable only one of [counterpoint], [metakocka], [pos_csv]",
                enabled.join(", ")
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn template_is_the_defaults() {
        assert_eq!(Config::parse(TEMPLATE).unwrap(), Config::default());
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn retry_budgets_and_store_limits_are_range_checked_by_name() {
        assert_eq!(
            Config::parse("[jobs]\nretry_for_secs = 0\n").unwrap_err(),
            "jobs.retry_for_secs: 0 is out of range; allowed 1 to 2592000 (seconds)"
        );
        assert_eq!(
            Config::parse("[jobs.retry_for_secs_by_kind]\n\"woo.push_status\" = 9999999\n")
                .unwrap_err(),
            "jobs.retry_for_secs_by_kind.\"woo.push_status\": 9999999 is out of range; allowed 1 to 2592000 (seconds)"
        );
        let ok =
            Config::parse("[jobs.retry_for_secs_by_kind]\n\"woo.push_status\" = 86400\n").unwrap();
        assert_eq!(
            ok.jobs.retry_for("woo.push_status"),
            Duration::from_secs(86_400)
        );
        assert_eq!(
            ok.jobs.retry_for("email.backorder"),
            Duration::from_secs(6 * 3600)
        );
        assert!(
            Config::parse("[store]\nmax_size_mb = 2000000\n")
                .unwrap_err()
                .starts_with("store.max_size_mb: 2000000 is out of range; allowed 0 to 1048576")
        );
        let err = Config::parse("[store]\nquick_check = \"sometimes\"\n").unwrap_err();
        assert!(err.contains("quick_check"), "{err}");
    }

    #[test]
    fn errors_name_the_field() {
        let err = Config::parse("[jobs]\nlease_secs = \"soon\"\n").unwrap_err();
        assert!(err.contains("lease_secs"), "{err}");
        let err = Config::parse("[jobs]\nleese_secs = 3\n").unwrap_err();
        assert!(err.contains("leese_secs"), "{err}");
        let err =
            Config::parse("[statuses.transitions]\n\"Pendng\" = [\"Processing\"]\n").unwrap_err();
        assert_eq!(err, "statuses.transitions.\"Pendng\": unknown status");
        let err = Config::parse("[email]\npurchasing = [\"nobody\"]\n").unwrap_err();
        assert_eq!(
            err,
            "email.purchasing[0]: 'nobody' is not an e-mail address"
        );
        let err = Config::parse("[alerts]\nrecipients = [\"ops\"]\n").unwrap_err();
        assert_eq!(err, "alerts.recipients[0]: 'ops' is not an e-mail address");
        let err = Config::parse("[alerts]\nimmediate = [\"urgent\"]\n").unwrap_err();
        assert!(err.contains("urgent"), "{err}");
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let c = Config::parse("[email]\npassword = \"hunter2\"\n").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.email.password.expose(), "hunter2");
    }
}
