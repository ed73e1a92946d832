//! `[email]`: the mail server and who hears about backorders.

use serde::Deserialize;

use crate::config::Secret;

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

impl EmailConfig {
    /// This section's numeric fields with their allowed ranges (part of the one range table).
    pub(crate) fn ranges(&self, t: &mut crate::config::Ranges) {
        use crate::config::units::*;
        t.whole("email.smtp_port", self.smtp_port, 1, 65_535, "a TCP port")
            .whole(
                "email.timeout_secs",
                self.timeout_secs,
                1,
                10 * MINUTE,
                SECS,
            );
    }
}
