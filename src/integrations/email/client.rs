//! Outgoing e-mail over SMTP (lettre). Knows how to deliver a text message; what to say is the caller's.
//! SMTP gives no way to ask a server whether it already took a message, so a sender that may run twice
//! (a job after a crash) gives each message a stable Message-ID — a resend is then recognisably the same
//! message — and records [`EMAIL_ACCEPTED`] the moment the server accepts it.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{EmailConfig, SmtpSecurity};

/// The job effect recorded when the mail server accepted a job's message (detail: Message-ID and answer).
pub const EMAIL_ACCEPTED: &str = "email.accepted";

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

    /// The domain of the sender's address (the right side of every Message-ID this mailer makes).
    pub fn domain(&self) -> &str {
        self.from.email.domain()
    }

    /// A Message-ID that is the same every time for the same `parts` (a job's identity), so a message sent
    /// again after a crash is the same message to every mail system that reads it.
    pub fn stable_message_id(&self, parts: &[&str]) -> String {
        let local: String = parts
            .join(".")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        format!("<syncdesk.{local}@{}>", self.domain())
    }

    /// Sends one message (with a fresh Message-ID).
    pub async fn send(&self, to: &[String], subject: &str, body: String) -> Result<(), MailError> {
        self.send_as(to, subject, body, None).await.map(|_| ())
    }

    /// Sends one message under `message_id` (or a fresh one); returns the server's acceptance.
    pub async fn send_as(
        &self,
        to: &[String],
        subject: &str,
        body: String,
        message_id: Option<String>,
    ) -> Result<String, MailError> {
        if to.is_empty() {
            return Err(MailError::Config("no recipients configured".into()));
        }
        let mut message = Message::builder()
            .from(self.from.clone())
            .subject(subject)
            .message_id(message_id);
        for recipient in to {
            let mailbox: Mailbox = recipient
                .parse()
                .map_err(|e| MailError::Config(format!("recipient '{recipient}': {e}")))?;
            message = message.to(mailbox);
        }
        let message = message
            .body(body)
            .map_err(|e| MailError::Config(e.to_string()))?;
        let response = self.transport.send(message).await.map_err(|e| {
            if e.is_permanent() {
                MailError::Refused(e.to_string())
            } else {
                MailError::Unavailable(e.to_string())
            }
        })?;
        let text: Vec<&str> = response.message().collect();
        Ok(format!("{} {}", response.code(), text.join(" ")))
    }
}
