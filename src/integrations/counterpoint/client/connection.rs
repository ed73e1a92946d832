//! The connection: one tiberius session over tokio, opened lazily, discarded after any transport failure or
//! timeout, and reopened transparently. Every operation is idempotent by design, so one that fails on a
//! broken connection is run once more on a fresh one.

use tiberius::{AuthMethod, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, MutexGuard};
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use super::config::{CounterpointConfig, Encryption};
use super::error::CounterpointError;
use super::sql::Statements;

pub(super) type Tds = tiberius::Client<Compat<TcpStream>>;
pub(super) type Result<T> = std::result::Result<T, CounterpointError>;

/// A client for one Counterpoint database. Operations on one client run one at a time over its single
/// connection; use several clients for parallelism.
pub struct CounterpointClient {
    pub(super) config: CounterpointConfig,
    pub(super) sql: Statements,
    conn: Mutex<Option<Tds>>,
}

impl std::fmt::Debug for CounterpointClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CounterpointClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Runs `$body` (an async expression using `$conn: &mut Tds`) with the client's connection, reconnecting
/// first when there is none, and once more on a fresh connection when the first try hit a transport error.
macro_rules! with_connection {
    ($client:expr, $what:literal, |$conn:ident| $body:expr) => {{
        let client = $client;
        let mut slot = client.lock().await;
        let mut attempt = 1u32;
        loop {
            let result = async {
                let $conn = client.connection(&mut *slot).await?;
                $body.await
            }
            .await;
            match result {
                Ok(value) => break Ok(value),
                Err(err) => {
                    if err.breaks_connection() {
                        *slot = None;
                    }
                    if matches!(err, $crate::integrations::counterpoint::client::CounterpointError::Transport(_))
                        && attempt == 1
                    {
                        tracing::info!(operation = $what, error = %err, "Counterpoint connection lost; retrying on a new connection");
                        attempt += 1;
                        continue;
                    }
                    break Err(err);
                }
            }
        }
    }};
}
pub(super) use with_connection;

impl CounterpointClient {
    /// Checks the configuration (identifiers, locations, page size); connects on first use.
    pub fn new(config: CounterpointConfig) -> Result<Self> {
        config.validate()?;
        let sql = Statements::new(&config);
        Ok(Self {
            config,
            sql,
            conn: Mutex::new(None),
        })
    }

    pub fn config(&self) -> &CounterpointConfig {
        &self.config
    }

    pub(super) async fn lock(&self) -> MutexGuard<'_, Option<Tds>> {
        self.conn.lock().await
    }

    /// The open connection, opening one when there is none.
    pub(super) async fn connection<'s>(&self, slot: &'s mut Option<Tds>) -> Result<&'s mut Tds> {
        if slot.is_none() {
            *slot = Some(self.connect().await?);
        }
        slot.as_mut()
            .ok_or_else(|| CounterpointError::Transport("no connection".into()))
    }

    async fn connect(&self) -> Result<Tds> {
        let c = &self.config;
        let mut config = Config::new();
        config.host(&c.host);
        config.port(c.port);
        if !c.database.is_empty() {
            config.database(&c.database);
        }
        config.application_name("syncdesk");
        config.authentication(AuthMethod::sql_server(&c.user, c.password.expose()));
        config.encryption(match c.encryption {
            Encryption::Required => EncryptionLevel::Required,
            Encryption::Strict => EncryptionLevel::Strict,
            Encryption::LoginOnly => EncryptionLevel::Off,
            Encryption::Off => EncryptionLevel::NotSupported,
        });
        // validate() rules out both at once, which tiberius would answer with a panic.
        if let Some(ca) = &c.trust_cert_ca {
            config.trust_cert_ca(ca);
        } else if c.trust_cert {
            config.trust_cert();
        }
        config.handshake_timeout(Some(c.connect_timeout()));
        config.command_timeout(Some(c.query_timeout()));
        let addr = format!("{}:{}", c.host, c.port);
        let tcp = tokio::time::timeout(c.connect_timeout(), TcpStream::connect(&addr))
            .await
            .map_err(|_| CounterpointError::Timeout)?
            .map_err(|e| CounterpointError::Transport(format!("connecting to {addr}: {e}")))?;
        tcp.set_nodelay(true)
            .map_err(|e| CounterpointError::Transport(e.to_string()))?;
        let client = tokio::time::timeout(
            c.connect_timeout(),
            tiberius::Client::connect(config, tcp.compat_write()),
        )
        .await
        .map_err(|_| CounterpointError::Timeout)?
        .map_err(|e| CounterpointError::from_login(e, c))?;
        tracing::debug!(%addr, "connected to Counterpoint");
        Ok(client)
    }

    /// Drops the connection; the next operation opens a new one.
    pub async fn disconnect(&self) {
        *self.lock().await = None;
    }

    /// `SELECT @@VERSION`: proves login, database and a round trip (for `syncdesk check`).
    pub async fn ping(&self) -> Result<String> {
        with_connection!(self, "ping", |conn| async {
            let row = conn
                .simple_query("SELECT @@VERSION AS VERSION")
                .await
                .map_err(CounterpointError::from_driver)?
                .into_row()
                .await
                .map_err(CounterpointError::from_driver)?;
            match row {
                Some(row) => super::rows::required_text(&row, "VERSION"),
                None => Err(CounterpointError::Malformed {
                    column: "VERSION".into(),
                    detail: "no row".into(),
                }),
            }
        })
    }

    /// Whether the whole session is encrypted, as the server sees it (`CONNECTIONPROPERTY('encrypt_option')`):
    /// false for `encryption = "off"` and for `"login_only"`, where only the login travelled in TLS.
    pub async fn session_encrypted(&self) -> Result<bool> {
        with_connection!(self, "session_encrypted", |conn| async {
            let row = conn
                .simple_query(
                    "SELECT CAST(CONNECTIONPROPERTY('encrypt_option') AS NVARCHAR(10)) AS ENCRYPT_OPTION",
                )
                .await
                .map_err(CounterpointError::from_driver)?
                .into_row()
                .await
                .map_err(CounterpointError::from_driver)?;
            let value = match row {
                Some(row) => super::rows::required_text(&row, "ENCRYPT_OPTION")?,
                None => String::new(),
            };
            Ok::<_, CounterpointError>(value.eq_ignore_ascii_case("TRUE"))
        })
    }

    /// Proves every configured table and column exists (no rows are read); a wrong name comes back as
    /// `Sql { number: 208 | 207, .. }` naming it. For `syncdesk check`, after `ping`.
    pub async fn check_schema(&self) -> Result<()> {
        with_connection!(self, "check_schema", |conn| async {
            conn.simple_query(self.sql.schema_probe.as_str())
                .await
                .map_err(CounterpointError::from_driver)?
                .into_results()
                .await
                .map_err(CounterpointError::from_driver)?;
            Ok::<_, CounterpointError>(())
        })
    }
}
