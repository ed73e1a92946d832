//! Outgoing e-mail over SMTP (lettre). Knows how to deliver a text message; what to say is the caller's.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{EmailConfig, SmtpSecurity};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("e-mail settings: {0}")]
    Config(String),
    /// The server refused for good (bad address, auth rejected): retrying will not help.
    #[error("mail server refused: {0}")]
    Refused(String),
    /// Connection failures, timeouts, 4xx replies: worth retrying.
    #[error("mail server unavailable: {0}")]
    Unavailable(String),
}

impl MailError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, MailError::Unavailable(_))
    }
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(cfg: &EmailConfig) -> Result<Mailer, MailError> {
        let host = cfg.smtp_host.as_str();
        let builder = match cfg.security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| MailError::Config(format!("email.smtp_host: {e}")))?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| MailError::Config(format!("email.smtp_host: {e}")))?,
        };
        let mut builder = builder
            .port(cfg.smtp_port)
            .timeout(Some(Duration::from_secs(cfg.timeout_secs.max(1))));
        if !cfg.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                cfg.username.clone(),
                cfg.password.expose().to_string(),
            ));
        }
        let from = cfg
            .from
            .parse()
            .map_err(|e| MailError::Config(format!("email.from: {e}")))?;
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    /// Connects and greets the server (EHLO), sending nothing.
    pub async fn test_connection(&self) -> Result<(), MailError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(MailError::Unavailable(
                "the server did not answer the greeting".into(),
            )),
            Err(e) => Err(MailError::Unavailable(e.to_string())),
        }
    }

    pub async fn send(&self, to: &[String], subject: &str, body: String) -> Result<(), MailError> {
        if to.is_empty() {
            return Err(MailError::Config("no recipients configured".into()));
        }
        let mut message = Message::builder().from(self.from.clone()).subject(subject);
        for recipient in to {
            let mailbox: Mailbox = recipient
                .parse()
                .map_err(|e| MailError::Config(format!("recipient '{recipient}': {e}")))?;
            message = message.to(mailbox);
        }
        let message = message
            .body(body)
            .map_err(|e| MailError::Config(e.to_string()))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| {
            if e.is_permanent() {
                MailError::Refused(e.to_string())
            } else {
                MailError::Unavailable(e.to_string())
            }
        })
    }
}
