//! What can go wrong talking to Counterpoint's SQL Server, classified so the job engine can tell "try again
//! later" from "needs a person". Messages come from the server or the driver and never carry the password.

use std::time::Duration;

use super::config::{CounterpointConfig, Encryption};

#[derive(Debug, thiserror::Error)]
pub enum CounterpointError {
    /// The server refused the login (18456 bad credentials, 4060 unknown database, …).
    #[error("Counterpoint login refused (Msg {number}): {message}")]
    Login { number: u32, message: String },
    /// A statement failed on the server; `number` is SQL Server's error number.
    #[error("Counterpoint SQL error (Msg {number}): {message}")]
    Sql { number: u32, message: String },
    /// No usable connection: refused, reset or closed mid-response, TLS failure, protocol desync.
    #[error("Counterpoint connection failed: {0}")]
    Transport(String),
    /// The server did not answer within the configured time; the connection was discarded.
    #[error("Counterpoint did not answer in time")]
    Timeout,
    #[error("invalid Counterpoint configuration: {0}")]
    Config(String),
    /// The server's TLS certificate was not accepted; names why and what was trusted.
    #[error("Counterpoint server certificate not trusted: {0}")]
    Certificate(String),
    /// A value the server sent does not have the type or shape we rely on.
    #[error("unexpected value in column {column}: {detail}")]
    Malformed { column: String, detail: String },
}

/// SQL Server errors that go away when the statement is simply run again.
const RETRYABLE_SQL: [u32; 2] = [
    1205, // chosen as deadlock victim
    1222, // lock request time out
];

impl CounterpointError {
    /// Worth trying again later without changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            CounterpointError::Transport(_) | CounterpointError::Timeout => true,
            CounterpointError::Sql { number, .. } => RETRYABLE_SQL.contains(number),
            CounterpointError::Login { .. }
            | CounterpointError::Config(_)
            | CounterpointError::Certificate(_)
            | CounterpointError::Malformed { .. } => false,
        }
    }

    /// SQL Server sends no retry hint; a lock conflict is worth a short pause before the next try.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CounterpointError::Sql { number, .. } if RETRYABLE_SQL.contains(number) => {
                Some(Duration::from_secs(1))
            }
            _ => None,
        }
    }

    /// SQL Server's error number, for login and statement errors.
    pub fn number(&self) -> Option<u32> {
        match self {
            CounterpointError::Login { number, .. } | CounterpointError::Sql { number, .. } => {
                Some(*number)
            }
            _ => None,
        }
    }

    /// The connection this error came from cannot be trusted for another request.
    pub(crate) fn breaks_connection(&self) -> bool {
        matches!(
            self,
            CounterpointError::Transport(_) | CounterpointError::Timeout
        )
    }

    /// A statement error from the driver (after login).
    pub(crate) fn from_driver(err: tiberius::error::Error) -> Self {
        use tiberius::error::Error;
        match err {
            Error::Server(token) => CounterpointError::Sql {
                number: token.code(),
                message: token.message().to_string(),
            },
            Error::Io {
                kind: std::io::ErrorKind::TimedOut,
                ..
            } => CounterpointError::Timeout,
            Error::Io { message, .. } => CounterpointError::Transport(message),
            // After a protocol or TLS error the byte stream is out of step; only a new connection helps.
            Error::Protocol(detail) => CounterpointError::Transport(format!("protocol: {detail}")),
            Error::Tls(detail) => CounterpointError::Transport(format!("TLS: {detail}")),
            Error::Routing { host, port } => CounterpointError::Transport(format!(
                "server redirected the connection to {host}:{port}, which is not supported"
            )),
            other => CounterpointError::Malformed {
                column: String::new(),
                detail: other.to_string(),
            },
        }
    }

    /// An error while connecting and logging in: server errors there are login refusals, TLS errors name
    /// the certificate problem, and a connection the server closes gets a hint from the encryption setting.
    pub(crate) fn from_login(err: tiberius::error::Error, config: &CounterpointConfig) -> Self {
        use tiberius::error::Error;
        match err {
            Error::Server(token) => CounterpointError::Login {
                number: token.code(),
                message: token.message().to_string(),
            },
            // Encryption settings that do not match the server's will not match on the next try either.
            Error::Protocol(detail) if detail.contains("encryption") => {
                CounterpointError::Config(format!(
                    "counterpoint.encryption = \"{}\" does not match the server, which cannot encrypt ({detail})",
                    config.encryption.name()
                ))
            }
            Error::Tls(detail) => match certificate_problem(&detail, &config.host) {
                Some(problem) => {
                    CounterpointError::Certificate(format!("{problem} ({})", trusted_roots(config)))
                }
                None => CounterpointError::Transport(format!("TLS: {detail}")),
            },
            Error::Io { message, .. } if message.contains("CA source") => {
                CounterpointError::Config(format!("counterpoint.trust_cert_ca: {message}"))
            }
            Error::Io {
                kind:
                    std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe,
                message,
            } => CounterpointError::Transport(format!(
                "the server closed the connection during login ({message}); {}",
                closed_during_login_hint(config.encryption)
            )),
            other => Self::from_driver(other),
        }
    }
}

/// What was wrong with the certificate, from tiberius' (rustls') handshake error text.
fn certificate_problem(detail: &str, host: &str) -> Option<String> {
    let known = [
        ("UnknownIssuer", "unknown issuer".to_string()),
        ("NotValidForName", format!("not issued for host {host}")),
        ("not valid for name", format!("not issued for host {host}")),
        ("Expired", "expired".to_string()),
        ("NotValidYet", "not valid yet".to_string()),
        ("BadSignature", "bad signature".to_string()),
        (
            "UnsupportedCertVersion",
            "unsupported X.509 version".to_string(),
        ),
        (
            "CaUsedAsEndEntity",
            "a CA certificate presented as the server's".to_string(),
        ),
    ];
    if !(detail.contains("certificate") || detail.contains("Certificate")) {
        return None;
    }
    known
        .into_iter()
        .find(|(token, _)| detail.contains(token))
        .map(|(_, problem)| problem)
        .or_else(|| {
            Some(
                detail
                    .split(". To connect anyway")
                    .next()
                    .unwrap_or(detail)
                    .to_string(),
            )
        })
}

fn trusted_roots(config: &CounterpointConfig) -> String {
    match &config.trust_cert_ca {
        Some(ca) => format!("trust_cert_ca {ca}"),
        None => "system roots only; set counterpoint.connection.trust_cert_ca to the server's CA or certificate, or trust_cert = true".into(),
    }
}

fn closed_during_login_hint(encryption: Encryption) -> &'static str {
    match encryption {
        Encryption::Off => {
            "a server that forces encryption does that to a client without TLS: try encryption = \"required\" (\"strict\" for a TDS 8.0-only server)"
        }
        Encryption::LoginOnly => {
            "a server without a certificate does that to a TLS handshake (try encryption = \"off\"), a TDS 8.0-only server to anything but TLS first (try \"strict\")"
        }
        Encryption::Strict => {
            "a server that does not speak TDS 8.0 does that to a TLS-first client: try encryption = \"required\""
        }
        Encryption::Required => {
            "a TDS 8.0-only server does that to a PRELOGIN in the clear: try encryption = \"strict\""
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let sql = |number| CounterpointError::Sql {
            number,
            message: String::new(),
        };
        assert!(sql(1205).is_retryable());
        assert!(sql(1222).is_retryable());
        assert!(!sql(2627).is_retryable());
        assert!(CounterpointError::Timeout.is_retryable());
        assert!(CounterpointError::Transport("reset".into()).is_retryable());
        let login = CounterpointError::Login {
            number: 18456,
            message: "Login failed for user 'x'.".into(),
        };
        assert!(!login.is_retryable());
        assert_eq!(login.number(), Some(18456));
    }
}
