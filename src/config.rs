//! Configuration: a TOML file whose every field has a default, so an empty file (or none) is a working setup.
//! `assets/config.toml` is the commented template `syncdesk init` writes; a test keeps it equal to the defaults.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::domain::alerts::{Severity, Thresholds};
use crate::domain::backoff::Backoff;
use crate::domain::inventory::{ConflictKind, Policy};
use crate::domain::{Status, StatusKind, Workflow};

mod fields;
mod toml_error;
pub use crate::integrations::cartona::{CartonaSection, OtpPolicy};
pub(crate) use fields::check_api_url;

/// The commented default configuration, embedded in the binary.
pub const TEMPLATE: &str = include_str!("../assets/config.toml");

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

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusDef {
    pub id: i64,
    pub name: String,
    pub kind: StatusKind,
    #[serde(default = "yes")]
    pub pickable: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatusesConfig {
    pub status: Vec<StatusDef>,
    /// Status name → the statuses an operator may move to from it.
    pub transitions: BTreeMap<String, Vec<String>>,
}

impl Default for StatusesConfig {
    fn default() -> Self {
        let def = |id, name: &str, kind, pickable| StatusDef {
            id,
            name: name.into(),
            kind,
            pickable,
        };
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Self {
            status: vec![
                def(1, "Pending", StatusKind::Open, true),
                def(2, "Processing", StatusKind::Open, true),
                def(3, "Ready to Ship", StatusKind::Open, true),
                def(4, "Shipped", StatusKind::Shipped, true),
                def(5, "Completed", StatusKind::Completed, false),
                def(6, "Cancelled", StatusKind::Cancelled, true),
                def(7, "Backorder", StatusKind::Backorder, true),
            ],
            transitions: BTreeMap::from([
                (
                    "Pending".into(),
                    names(&["Processing", "Backorder", "Cancelled"]),
                ),
                (
                    "Processing".into(),
                    names(&["Ready to Ship", "Backorder", "Cancelled"]),
                ),
                (
                    "Backorder".into(),
                    names(&["Processing", "Ready to Ship", "Cancelled"]),
                ),
                ("Ready to Ship".into(), names(&["Shipped", "Cancelled"])),
            ]),
        }
    }
}

impl StatusesConfig {
    /// Checks the table and builds the workflow; errors name the offending field.
    pub fn to_workflow(&self) -> Result<Workflow, String> {
        if self.status.is_empty() {
            return Err("statuses.status: at least one status is required".into());
        }
        let mut statuses: Vec<Status> = Vec::new();
        for (i, def) in self.status.iter().enumerate() {
            let name = def.name.trim();
            if name.is_empty() {
                return Err(format!("statuses.status[{i}].name: must not be empty"));
            }
            if statuses.iter().any(|s| s.id == def.id) {
                return Err(format!("statuses.status[{i}].id: {} is used twice", def.id));
            }
            if statuses.iter().any(|s| s.name.eq_ignore_ascii_case(name)) {
                return Err(format!("statuses.status[{i}].name: '{name}' is used twice"));
            }
            if def.kind == StatusKind::Completed && def.pickable {
                return Err(format!(
                    "statuses.status[{i}].pickable: '{name}' is a completed status; orders complete through shipments, so it cannot be pickable"
                ));
            }
            statuses.push(Status {
                id: def.id,
                name: name.to_string(),
                kind: def.kind,
                pickable: def.pickable,
            });
        }
        for kind in [StatusKind::Completed, StatusKind::Cancelled] {
            if !statuses.iter().any(|s| s.kind == kind) {
                return Err(format!(
                    "statuses.status: one status must have kind = \"{}\"",
                    kind.as_str()
                ));
            }
        }
        let probe = Workflow::new(statuses.clone(), BTreeMap::new());
        let mut transitions = BTreeMap::new();
        for (from, tos) in &self.transitions {
            let from_s = probe
                .by_name(from)
                .map_err(|_| format!("statuses.transitions.\"{from}\": unknown status"))?;
            if from_s.kind.is_final() {
                return Err(format!(
                    "statuses.transitions.\"{from}\": {} is final; no moves may leave it",
                    from_s.name
                ));
            }
            let mut ids = Vec::new();
            for to in tos {
                let to_s = probe.by_name(to).map_err(|_| {
                    format!("statuses.transitions.\"{from}\": unknown status '{to}'")
                })?;
                ids.push(to_s.id);
            }
            transitions.insert(from_s.id, ids);
        }
        Ok(Workflow::new(statuses, transitions))
    }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP: only for a relay on the same host or a test sink.
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: Secret,
    pub from: String,
    /// Who hears about backorders.
    pub purchasing: Vec<String>,
    pub timeout_secs: u64,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            security: SmtpSecurity::None,
            username: String::new(),
            password: Secret::default(),
            from: "syncdesk <syncdesk@localhost>".into(),
            purchasing: vec!["purchasing@localhost".into()],
            timeout_secs: 15,
        }
    }
}

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

    fn validate(&self) -> Result<(), String> {
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

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// How long a claimed job is reserved; renewed while it runs, re-queued if its process dies.
    pub lease_secs: u64,
    pub backoff_base_ms: u64,
    pub backoff_cap_secs: u64,
    /// A failing job gets at least this many tries, however short its retry budget.
    pub max_attempts: u32,
    pub max_attempts_by_kind: BTreeMap<String, u32>,
    /// How long (seconds) after its first failure a job is still retried when its failures are transient
    /// (outages, throttling, timeouts); then it is dead. Permanent errors and refusals end it at once.
    pub retry_for_secs: u64,
    pub retry_for_secs_by_kind: BTreeMap<String, u64>,
    /// How many jobs of one kind may run at once; kinds not listed use `default_concurrency`.
    pub concurrency: BTreeMap<String, usize>,
    pub default_concurrency: usize,
    /// How often an idle engine looks for due jobs (it is also woken at once by its own process).
    pub poll_ms: u64,
    /// A job running longer than this is stopped and retried.
    pub timeout_secs: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            lease_secs: 30,
            backoff_base_ms: 1000,
            backoff_cap_secs: 300,
            max_attempts: 8,
            max_attempts_by_kind: BTreeMap::from([("email.backorder".into(), 20)]),
            retry_for_secs: DEFAULT_RETRY_FOR_SECS,
            retry_for_secs_by_kind: BTreeMap::new(),
            concurrency: BTreeMap::from([("email.backorder".into(), 2)]),
            default_concurrency: 8,
            poll_ms: 250,
            timeout_secs: 300,
        }
    }
}

/// The default retry budget: six hours of transient failures (store and marketplace outages last minutes to
/// hours; with the 5-minute backoff cap that is some 70 tries).
pub const DEFAULT_RETRY_FOR_SECS: u64 = 6 * 3600;
/// The longest retry budget a kind may have: 30 days.
pub const MAX_RETRY_FOR_SECS: u64 = 30 * 86_400;

impl JobsConfig {
    /// How long a job of `kind` is retried after its first failure.
    pub fn retry_for(&self, kind: &str) -> Duration {
        Duration::from_secs(
            self.retry_for_secs_by_kind
                .get(kind)
                .copied()
                .unwrap_or(self.retry_for_secs),
        )
    }

    pub fn backoff(&self) -> Backoff {
        Backoff {
            base: Duration::from_millis(self.backoff_base_ms),
            cap: Duration::from_secs(self.backoff_cap_secs),
        }
    }
    pub fn max_attempts_for(&self, kind: impl AsRef<str>) -> u32 {
        self.max_attempts_by_kind
            .get(kind.as_ref())
            .copied()
            .unwrap_or(self.max_attempts)
    }
    pub fn concurrency_for(&self, kind: impl AsRef<str>) -> usize {
        self.concurrency
            .get(kind.as_ref())
            .copied()
            .unwrap_or(self.default_concurrency)
            .max(1)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// One engine per database: it holds a lease it renews every third of this; another takes over after it.
    pub lease_secs: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self { lease_secs: 10 }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// How long a write waits for another process's write to finish before failing.
    pub busy_timeout_ms: u64,
    /// When to check the file's integrity (`PRAGMA quick_check`) on open; a damaged file is refused.
    pub quick_check: QuickCheck,
    /// The largest the database may grow to, in MiB (0: no limit); past it, writes wait as on a full disk.
    pub max_size_mb: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            busy_timeout_ms: 5000,
            quick_check: QuickCheck::Serve,
            max_size_mb: 0,
        }
    }
}

/// When the store's integrity is checked. The check reads the whole file (about a second per GB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuickCheck {
    /// Never.
    Off,
    /// When the engine starts (`syncdesk serve`, the demo): once per start of the long-running writer.
    Serve,
    /// On every open, commands and the console included.
    Always,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Where `syncdesk serve` receives webhooks and answers `/health`. Loopback unless a proxy fronts it.
    pub listen: String,
    /// Larger request bodies are refused with 413: before they are read when their length is declared, and
    /// as soon as the limit is passed otherwise.
    pub max_body_bytes: usize,
    /// Seconds a client has to send a request's headers; also how long an idle connection stays open.
    pub header_read_timeout_secs: u64,
    /// Seconds a client has, once its headers are in, to send the whole body; a slower one gets 408.
    pub body_read_timeout_secs: u64,
    /// Connections served at once; one more is answered 503 at once and closed.
    pub max_connections: usize,
    /// Memory shared by all webhook bodies being received; a body that would take more gets 503 (senders
    /// retry). Taken as bytes arrive, so slow senders hold only what they have sent.
    pub max_buffered_body_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8787".into(),
            max_body_bytes: 1 << 20,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
            max_connections: 512,
            max_buffered_body_bytes: 64 << 20,
        }
    }
}

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
    fn validate(&self, workflow: &Workflow) -> Result<(), String> {
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
            fields::check_api_url("woocommerce.url", &self.url, " (or http:// for OAuth 1.0a)")?;
        }
        if !self.webhook_url.trim().is_empty() {
            fields::check_webhook_url("woocommerce.webhook_url", &self.webhook_url)?;
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

/// Stock sync between the back office and the store: the merge, its conflicts and their policies.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StockConfig {
    pub enabled: bool,
    /// Incremental pass: POS changes since the watermark plus store hints.
    pub incremental_secs: u64,
    /// Full pass over every aligned SKU (nightly by default).
    pub full_every_secs: u64,
    /// A side may move this many units beyond the sales that explain it before the merge is distrusted.
    pub threshold: i64,
    /// Conflict kind → pos_wins, woo_wins, merge or manual.
    pub policies: BTreeMap<String, Policy>,
    /// Which side's regular price is the truth: pos (written to the store) or woo (reported only).
    pub price_source: PriceSource,
    /// Share of the POS price (0.20 = 20%) the sides may differ by before the difference is distrusted.
    pub price_drift: f64,
    /// Drift beyond `price_drift` raises a price_drift conflict (settled by its policy) instead of a write.
    pub price_drift_conflict: bool,
    /// Price pass over every aligned SKU (daily by default).
    pub prices_every_secs: u64,
}

/// The side whose prices win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    #[default]
    Pos,
    Woo,
}

impl Default for StockConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            incremental_secs: 5,
            full_every_secs: 86_400,
            threshold: 10,
            policies: BTreeMap::from([
                ("negative_stock".into(), Policy::Manual),
                ("unexplained_change".into(), Policy::Manual),
                ("quantity_mismatch".into(), Policy::PosWins),
                ("price_drift".into(), Policy::Manual),
                ("missing_alignment".into(), Policy::Manual),
                ("unconfirmed_write".into(), Policy::Manual),
            ]),
            price_source: PriceSource::Pos,
            price_drift: 0.20,
            price_drift_conflict: true,
            prices_every_secs: 86_400,
        }
    }
}

impl StockConfig {
    fn validate(&self) -> Result<(), String> {
        for kind in self.policies.keys() {
            if ConflictKind::parse(kind).is_none() {
                let all: Vec<&str> = ConflictKind::ALL.iter().map(|k| k.as_str()).collect();
                return Err(format!(
                    "stock.policies.{kind}: unknown conflict type; one of {}",
                    all.join(", ")
                ));
            }
        }
        Ok(())
    }

    pub fn policy(&self, kind: ConflictKind) -> Policy {
        self.policies
            .get(kind.as_str())
            .copied()
            .unwrap_or(Policy::Manual)
    }
}

/// NCR Counterpoint as the back office: where web orders are staged and shipments come from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CounterpointSection {
    pub enabled: bool,
    /// How often the fulfilment pass reads what shipped (its cost follows changed documents only).
    pub fulfilment_poll_secs: u64,
    /// How far back each pass re-reads: datetime has ~3 ms resolution and clocks differ.
    pub overlap_secs: u64,
    /// Orders from these channels are staged into Counterpoint…
    pub stage_channels: Vec<String>,
    /// …when they enter this status.
    pub stage_on: String,
    /// How often staged documents of open orders are checked for being cancelled or deleted in Counterpoint.
    pub verify_secs: u64,
    /// SHIP_VIA_COD → the carrier name customers see.
    pub carriers: BTreeMap<String, String>,
    /// How to reach the SQL Server and which tables and columns to use.
    pub connection: crate::integrations::counterpoint::client::CounterpointConfig,
}

impl Default for CounterpointSection {
    fn default() -> Self {
        Self {
            enabled: false,
            fulfilment_poll_secs: 2,
            overlap_secs: 5,
            stage_channels: vec!["woocommerce".into()],
            stage_on: "Processing".into(),
            verify_secs: 300,
            carriers: BTreeMap::new(),
            connection: Default::default(),
        }
    }
}

impl CounterpointSection {
    fn validate(&self, workflow: &Workflow) -> Result<(), String> {
        workflow
            .by_name(&self.stage_on)
            .map_err(|_| format!("counterpoint.stage_on: unknown status '{}'", self.stage_on))?;
        if self.enabled {
            self.connection
                .validate()
                .map_err(|e| format!("counterpoint.connection: {e}"))?;
        }
        Ok(())
    }
}

/// `[console]`: the operator console's keys, colours, mouse and refresh tick.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Start with mouse capture on (it can be toggled at any time).
    pub mouse: bool,
    /// How often (ms) the console checks whether another process changed the database.
    pub tick_ms: u64,
    pub keys: crate::tui::keymap::KeyConfig,
    pub theme: crate::tui::theme::ThemeConfig,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            mouse: false,
            tick_ms: 250,
            keys: Default::default(),
            theme: Default::default(),
        }
    }
}

impl ConsoleConfig {
    fn validate(&self) -> Result<(), String> {
        crate::tui::keymap::Keymap::from_config(&self.keys)?;
        crate::tui::theme::Theme::from_config(&self.theme)?;
        Ok(())
    }
}

/// A POS that only exchanges files: syncdesk reads its stock export and writes reductions files for it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PosCsvSection {
    pub enabled: bool,
    /// How often a reductions file is written (only when some order line is due).
    pub write_every_secs: u64,
    /// Orders from these channels reduce the POS's stock…
    pub channels: Vec<String>,
    /// …once they have entered one of these statuses (a paid order); a later cancellation puts it back.
    pub sale_statuses: Vec<String>,
    /// Where the files are and how they are laid out.
    pub files: crate::integrations::pos_csv::client::PosCsvConfig,
}

impl Default for PosCsvSection {
    fn default() -> Self {
        Self {
            enabled: false,
            write_every_secs: 60,
            channels: vec!["woocommerce".into()],
            sale_statuses: vec![
                "Processing".into(),
                "Ready to Ship".into(),
                "Shipped".into(),
                "Completed".into(),
            ],
            files: Default::default(),
        }
    }
}

impl PosCsvSection {
    fn validate(&self, workflow: &Workflow) -> Result<(), String> {
        for name in &self.sale_statuses {
            workflow
                .by_name(name)
                .map_err(|_| format!("pos_csv.sale_statuses: unknown status '{name}'"))?;
        }
        self.files
            .validate(self.enabled)
            .map_err(|e| format!("pos_csv.files.{e}"))
    }
}

fn yes() -> bool {
    true
}

impl Config {
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
            channels: vec!["woocommerce".into()],
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
    fn validate(&self, workflow: &Workflow) -> Result<(), String> {
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
            fields::check_api_url("metakocka.base_url", &self.base_url, "")?;
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

#[cfg(test)]
mod tests {
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
