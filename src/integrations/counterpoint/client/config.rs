//! Connection and mapping settings for one Counterpoint database, embeddable as `[counterpoint]`. Table and
//! column names are configurable because NCR publishes no data dictionary; they are checked as plain
//! identifiers up front since they are the only text ever spliced into SQL.

use std::time::Duration;

use serde::Deserialize;

use super::error::CounterpointError;
use crate::config::Secret;

/// Whether and how the TDS connection is encrypted. The server's certificate is checked against the system
/// roots plus `trust_cert_ca`, unless `trust_cert` accepts any certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encryption {
    /// TLS (rustls) for the whole session, negotiated in PRELOGIN; a server that cannot encrypt is refused.
    /// What production servers expect.
    #[default]
    Required,
    /// TDS 8.0 ("strict", SQL Server 2022+): TLS before the first TDS byte.
    Strict,
    /// Only the login packet (with the password) travels in TLS, the rest in the clear — what SQL Server
    /// does for a driver with Encrypt=false. Needs a server with a certificate.
    LoginOnly,
    /// No TLS at all, not even for the login packet: only for a server on loopback or a test simulator.
    Off,
}

impl Encryption {
    pub fn name(self) -> &'static str {
        match self {
            Encryption::Required => "required",
            Encryption::Strict => "strict",
            Encryption::LoginOnly => "login_only",
            Encryption::Off => "off",
        }
    }
}

/// What marks an open document as (partly) fulfilled, because SHIP_DAT alone can be filled at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentSignal {
    /// `SHIP_DAT IS NOT NULL`.
    ShipDate,
    /// Some line has `QTY_SHIPPED > 0`.
    LineQuantities,
    /// Either of the two.
    Either,
    /// SHIP_DAT set and some line shipped: SHIP_DAT together with line quantities (the default).
    #[default]
    Both,
}

/// Table names, defaulting to the ones in the reference.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CounterpointTables {
    pub staging: String,
    pub staging_lines: String,
    pub doc_header: String,
    pub doc_lines: String,
    pub history_header: String,
    pub history_lines: String,
    pub inventory: String,
    pub items: String,
    pub prices: String,
}

impl Default for CounterpointTables {
    fn default() -> Self {
        Self {
            staging: "USER_ORDER_STAGING".into(),
            staging_lines: "USER_ORDER_STAGING_LIN".into(),
            doc_header: "PS_DOC_HDR".into(),
            doc_lines: "PS_DOC_LIN".into(),
            history_header: "PS_TKT_HIST".into(),
            history_lines: "PS_TKT_HIST_LIN".into(),
            inventory: "IM_INV".into(),
            items: "IM_ITEM".into(),
            prices: "IM_PRC".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CounterpointConfig {
    pub host: String,
    pub port: u16,
    /// Empty means the login's default database.
    pub database: String,
    pub user: String,
    /// `Secret` prints as `***` in Debug.
    pub password: Secret,
    pub encryption: Encryption,
    /// Accept any server certificate (self-signed certificates are common on shop servers).
    pub trust_cert: bool,
    /// A CA certificate file (`.pem`/`.crt` PEM or `.der`) trusted in addition to the system roots; the
    /// server's own self-signed certificate works too (pinning it). Excludes `trust_cert`.
    pub trust_cert_ca: Option<String>,
    /// IM_INV.LOC_ID values whose QTY_AVAIL is summed into the availability reported for an item.
    pub locations: Vec<String>,
    /// Only items with IM_ITEM.IS_ECOMM_ITEM = 'Y'.
    pub ecommerce_only: bool,
    /// IM_PRC.LOC_ID the prices are read for ('*' is the all-locations row).
    pub price_location: String,
    pub fulfilment_signal: FulfilmentSignal,
    /// Only documents linked to a staged web order (USER_ORDER_STAGING.DOC_ID) are reported as changes;
    /// off, counter orders and in-store tickets come too (with no web order id).
    pub staged_documents_only: bool,
    /// A header column (in both PS_DOC_HDR and PS_TKT_HIST) carrying a tracking number, if the shop keeps one.
    /// None by default: CUST_PO_NO is what staging writes (the web order's PO), so it would echo our own value.
    pub tracking_column: Option<String>,
    /// PS_TKT_HIST column that says when a document was posted (the history watermark).
    pub history_maint_column: String,
    /// PS_TKT_HIST_LIN column with the shipped quantity (UNVERIFIED in real databases); None reports the
    /// sold quantity as shipped, since posting invoices what was sold.
    pub history_qty_shipped_column: Option<String>,
    pub tables: CounterpointTables,
    /// Rows per page for inventory and price reads (OFFSET/FETCH), bounding memory per request.
    pub page_size: u32,
    pub connect_timeout_secs: u64,
    /// Longest wait for any single server response.
    pub query_timeout_secs: u64,
}

impl Default for CounterpointConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 1433,
            database: String::new(),
            user: String::new(),
            password: Secret::default(),
            encryption: Encryption::Required,
            trust_cert: false,
            trust_cert_ca: None,
            locations: vec!["MAIN".into(), "WEB".into()],
            ecommerce_only: false,
            price_location: "*".into(),
            fulfilment_signal: FulfilmentSignal::Both,
            staged_documents_only: true,
            tracking_column: None,
            history_maint_column: "LST_MAINT_DT".into(),
            history_qty_shipped_column: Some("QTY_SHIPPED".into()),
            tables: CounterpointTables::default(),
            page_size: 1000,
            connect_timeout_secs: 15,
            query_timeout_secs: 60,
        }
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*` and at most 128 characters (SQL Server's sysname).
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

impl CounterpointConfig {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs.max(1))
    }

    pub fn query_timeout(&self) -> Duration {
        Duration::from_secs(self.query_timeout_secs.max(1))
    }

    /// Everything that would make a query malformed or unsafe, found before connecting.
    pub fn validate(&self) -> Result<(), CounterpointError> {
        let t = &self.tables;
        let mut names = vec![
            ("tables.staging", &t.staging),
            ("tables.staging_lines", &t.staging_lines),
            ("tables.doc_header", &t.doc_header),
            ("tables.doc_lines", &t.doc_lines),
            ("tables.history_header", &t.history_header),
            ("tables.history_lines", &t.history_lines),
            ("tables.inventory", &t.inventory),
            ("tables.items", &t.items),
            ("tables.prices", &t.prices),
            ("history_maint_column", &self.history_maint_column),
        ];
        if let Some(column) = &self.tracking_column {
            names.push(("tracking_column", column));
        }
        if let Some(column) = &self.history_qty_shipped_column {
            names.push(("history_qty_shipped_column", column));
        }
        for (field, name) in names {
            if !is_identifier(name) {
                return Err(CounterpointError::Config(format!(
                    "counterpoint.{field}: {name:?} is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)"
                )));
            }
        }
        if let Some(ca) = &self.trust_cert_ca {
            let path = std::path::Path::new(ca);
            let known = path.extension().is_some_and(|e| {
                ["pem", "crt", "der"]
                    .iter()
                    .any(|k| e.eq_ignore_ascii_case(k))
            });
            if !known {
                return Err(CounterpointError::Config(format!(
                    "counterpoint.trust_cert_ca: {ca} must end in .pem, .crt or .der"
                )));
            }
            if !path.is_file() {
                return Err(CounterpointError::Config(format!(
                    "counterpoint.trust_cert_ca: {ca} is not a readable file"
                )));
            }
        }
        if self.trust_cert && self.trust_cert_ca.is_some() {
            return Err(CounterpointError::Config(
                "counterpoint.trust_cert and counterpoint.trust_cert_ca: use one or the other"
                    .into(),
            ));
        }
        if self.host.trim().is_empty() {
            return Err(CounterpointError::Config(
                "counterpoint.host: required".into(),
            ));
        }
        if self.user.is_empty() {
            return Err(CounterpointError::Config(
                "counterpoint.user: required".into(),
            ));
        }
        if self.locations.is_empty() || self.locations.iter().any(|l| l.trim().is_empty()) {
            return Err(CounterpointError::Config(
                "counterpoint.locations: at least one non-empty LOC_ID".into(),
            ));
        }
        // Each location is a parameter; stay far below SQL Server's 2,100 parameters per request.
        if self.locations.len() > 100 {
            return Err(CounterpointError::Config(
                "counterpoint.locations: at most 100".into(),
            ));
        }
        if self.page_size == 0 || self.page_size > 100_000 {
            return Err(CounterpointError::Config(
                "counterpoint.page_size: between 1 and 100000".into(),
            ));
        }
        Ok(())
    }
}
