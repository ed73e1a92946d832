//! NCR Counterpoint simulator: a SQL Server (TDS 7.x, and TDS 8.0 "strict") endpoint on loopback that any TDS
//! driver connects to — with a certificate and TLS negotiated as SQL Server does it — backed by SQLite
//! holding Counterpoint's tables, seeded like a shop; it also plays the shop and injects faults.
//! The T-SQL subset is documented on `sql::parse_batch`, the result type mapping on `engine::column_meta`,
//! the encryption modes on `ServerEncryption`.

mod engine;
mod functions;
mod shop;
mod sql;
mod tds;
mod tls;
mod types;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use shop::{ProcessedOrder, STORE_LOC, SeededDocuments, Shop, ShopError, ShopItem, WEB_LOC};
pub use tls::{CertificateError, ServerCertificate, ServerEncryption, SessionEncryption};

use engine::{Catalog, Request, Session, SessionIdentity};
use tds::{DoneKind, TokenWriter, WireError};
use tls::{PreloginFraming, TlsAcceptors};

/// Largest request message accepted; bigger ones close the connection.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;
/// A client that has not logged in by then is disconnected.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// The database name reported at login.
pub const DATABASE: &str = "CPSQL";
/// SQL Server numbers user sessions from 51; each connection takes the next.
const FIRST_SPID: u32 = 51;

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    pub user: String,
    pub password: String,
    /// Number of seeded items (each with IM_ITEM, IM_PRC, two IM_INV rows and one or two barcodes).
    pub items: usize,
    /// Seeded order documents: some left open, some shipped (partly or fully), some posted to history.
    pub documents: usize,
    /// Seed for the catalogue, so runs are reproducible.
    pub seed: u64,
    /// Which kind of SQL Server to be as far as TLS goes.
    pub encryption: ServerEncryption,
    /// The server certificate; `None` makes a self-signed one for localhost, 127.0.0.1 and ::1 at start
    /// (as SQL Server does at install). Ignored with `ServerEncryption::NotSupported`.
    pub certificate: Option<ServerCertificate>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            user: "cpsync".into(),
            password: "Counterpoint!2026".into(),
            items: 200,
            documents: 0,
            seed: 1,
            encryption: ServerEncryption::Off,
            certificate: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Shop(#[from] ShopError),
    #[error("reading the schema: {0}")]
    Schema(#[from] rusqlite::Error),
    #[error("server certificate: {0}")]
    Certificate(#[from] CertificateError),
}

/// Faults switched on and off at run time through the handle.
struct Faults {
    query_delay_ms: AtomicU64,
    /// Requests left before one is dropped; negative means off.
    drop_after: AtomicI64,
    /// Probability of dropping any request, in parts per million.
    drop_ppm: AtomicU64,
    reject_logins_until: Mutex<Option<Instant>>,
    rng: Mutex<fastrand::Rng>,
}

impl Faults {
    fn new(seed: u64) -> Self {
        Faults {
            query_delay_ms: AtomicU64::new(0),
            drop_after: AtomicI64::new(-1),
            drop_ppm: AtomicU64::new(0),
            reject_logins_until: Mutex::new(None),
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
        }
    }

    fn should_drop(&self) -> bool {
        let countdown = self
            .drop_after
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                if n >= 0 { Some(n - 1) } else { None }
            })
            .is_ok_and(|n| n == 0);
        let ppm = self.drop_ppm.load(Ordering::Relaxed);
        let random = ppm > 0 && self.rng.lock().is_ok_and(|mut r| r.u64(..1_000_000) < ppm);
        countdown || random
    }

    fn rejecting_logins(&self) -> bool {
        self.reject_logins_until
            .lock()
            .is_ok_and(|until| until.is_some_and(|t| Instant::now() < t))
    }
}

/// What every connection task shares.
struct ServerState {
    user: String,
    password: String,
    db_path: PathBuf,
    catalog: Arc<Catalog>,
    faults: Faults,
    queries: AtomicU64,
    encryption: ServerEncryption,
    /// `None` for a server without a certificate.
    tls: Option<TlsAcceptors>,
    certificate: Option<ServerCertificate>,
    next_spid: AtomicU32,
    /// How each successful login's session was encrypted, in order.
    logins: Mutex<Vec<SessionEncryption>>,
}

/// A running simulator. Dropping it stops the listener and removes the database file.
pub struct CounterpointSim {
    addr: SocketAddr,
    state: Arc<ServerState>,
    shop: Shop,
    shutdown: watch::Sender<bool>,
    accept_task: Option<JoinHandle<()>>,
}

fn unique_db_path() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!(
        "syncdesk-counterpoint-{}-{}-{nanos}.db",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

fn remove_db_files(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        // Best effort: a missing file is already what we want.
        let _ = std::fs::remove_file(PathBuf::from(file));
    }
}

impl CounterpointSim {
    /// Creates and seeds the shop database, prepares the certificate, then listens for TDS clients.
    pub async fn start(config: SimConfig) -> Result<CounterpointSim, SimError> {
        let db_path = unique_db_path();
        let (shop, catalog) = {
            let path = db_path.clone();
            let (items, documents, seed) = (config.items, config.documents, config.seed);
            tokio::task::spawn_blocking(move || -> Result<(Shop, Catalog), SimError> {
                remove_db_files(&path);
                let shop = Shop::create(&path, items, seed)?;
                shop.seed_documents(documents, seed)?;
                let catalog = Catalog::load(&functions::open(&path)?)?;
                Ok((shop, catalog))
            })
            .await
            .map_err(|e| SimError::Io(std::io::Error::other(e)))??
        };
        let certificate = match (config.encryption.has_certificate(), config.certificate) {
            (false, _) => None,
            (true, Some(given)) => Some(given),
            (true, None) => Some(ServerCertificate::self_signed(&[
                "localhost",
                "127.0.0.1",
                "::1",
            ])?),
        };
        let tls = certificate.as_ref().map(TlsAcceptors::new).transpose()?;
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(ServerState {
            user: config.user,
            password: config.password,
            db_path,
            catalog: Arc::new(catalog),
            faults: Faults::new(config.seed),
            queries: AtomicU64::new(0),
            encryption: config.encryption,
            tls,
            certificate,
            next_spid: AtomicU32::new(FIRST_SPID),
            logins: Mutex::new(Vec::new()),
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let accept_task = tokio::spawn(accept_loop(listener, Arc::clone(&state), shutdown_rx));
        tracing::info!(%addr, encryption = %config.encryption, "Counterpoint simulator listening");
        Ok(CounterpointSim {
            addr,
            state,
            shop,
            shutdown,
            accept_task: Some(accept_task),
        })
    }

    /// The encryption mode this server plays.
    pub fn encryption(&self) -> ServerEncryption {
        self.state.encryption
    }

    /// How each successful login so far was encrypted (clear, login only, full, strict), oldest first.
    pub fn session_encryptions(&self) -> Vec<SessionEncryption> {
        self.state
            .logins
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    /// The server certificate chain (PEM) clients can trust or pin; `None` without a certificate.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.state
            .certificate
            .as_ref()
            .map(|c| c.chain_pem.as_str())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn user(&self) -> &str {
        &self.state.user
    }

    pub fn password(&self) -> &str {
        &self.state.password
    }

    pub fn database(&self) -> &str {
        DATABASE
    }

    /// The shop's own actions (orders, shipping, posting, sales, restock, prices).
    pub fn shop(&self) -> &Shop {
        &self.shop
    }

    /// SQL batches and RPCs served since start (or the last reset).
    pub fn queries_served(&self) -> u64 {
        self.state.queries.load(Ordering::Relaxed)
    }

    pub fn reset_query_count(&self) {
        self.state.queries.store(0, Ordering::Relaxed);
    }

    /// Every request waits this long before it is answered.
    pub fn set_query_delay(&self, delay: Duration) {
        self.state
            .faults
            .query_delay_ms
            .store(delay.as_millis() as u64, Ordering::Relaxed);
    }

    /// After `requests` more requests (on any connection), the next one is executed but its connection is
    /// closed halfway through the response.
    pub fn drop_connection_after(&self, requests: u64) {
        self.state
            .faults
            .drop_after
            .store(requests.min(i64::MAX as u64) as i64, Ordering::SeqCst);
    }

    /// Each request's connection is dropped mid-response with this probability (0.0 turns it off).
    pub fn set_drop_probability(&self, probability: f64) {
        let ppm = (probability.clamp(0.0, 1.0) * 1_000_000.0) as u64;
        self.state.faults.drop_ppm.store(ppm, Ordering::Relaxed);
    }

    /// Logins fail with Msg 18456, even with the right password, for this long.
    pub fn reject_logins_for(&self, duration: Duration) {
        if let Ok(mut until) = self.state.faults.reject_logins_until.lock() {
            *until = Some(Instant::now() + duration);
        }
    }

    pub fn clear_faults(&self) {
        self.set_query_delay(Duration::ZERO);
        self.state.faults.drop_after.store(-1, Ordering::SeqCst);
        self.set_drop_probability(0.0);
        if let Ok(mut until) = self.state.faults.reject_logins_until.lock() {
            *until = None;
        }
    }

    /// Stops accepting, closes client connections and removes the database.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.accept_task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for CounterpointSim {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.accept_task.take() {
            task.abort();
        }
        remove_db_files(&self.state.db_path);
    }
}

/// Starts the simulator, prints where and how to connect, and runs until Ctrl-C or SIGTERM; either way the
/// database and the certificate file it wrote are removed.
pub async fn run_standalone(config: SimConfig) -> Result<(), SimError> {
    let encryption = config.encryption;
    let sim = CounterpointSim::start(config).await?;
    let certificate_file = match sim.certificate_pem() {
        Some(pem) => {
            let path = std::env::temp_dir().join(format!(
                "syncdesk-counterpoint-{}-{}.crt",
                std::process::id(),
                sim.addr().port()
            ));
            std::fs::write(&path, pem)?;
            Some(path)
        }
        None => None,
    };
    let documents = sim.shop().document_counts()?;
    println!(
        "Counterpoint simulator (SQL Server 2019 wire protocol, TDS 7.x and 8.0) listening on {}",
        sim.addr()
    );
    println!(
        "  user: {}  password: {}  database: {}",
        sim.user(),
        sim.password(),
        sim.database()
    );
    println!("  encryption: {encryption} — {}", describe(encryption));
    if let Some(path) = &certificate_file {
        println!(
            "  certificate: {} (self-signed unless given; trust it with trust_cert_ca, or use trust_cert)",
            path.display()
        );
    }
    println!(
        "  shop: {} open documents ({} shipped), {} posted to history",
        documents.open, documents.shipped, documents.posted
    );
    // Listen before saying so: a SIGTERM sent the moment this line is read must find the handler.
    let stop = StopSignals::listen()?;
    println!("  stop with Ctrl-C or SIGTERM");
    stop.wait().await;
    sim.shutdown().await;
    if let Some(path) = certificate_file {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

fn describe(encryption: ServerEncryption) -> &'static str {
    match encryption {
        ServerEncryption::NotSupported => "no certificate; everything in the clear",
        ServerEncryption::Off => {
            "login encrypted; the whole session when the client asks (SQL Server's default)"
        }
        ServerEncryption::On => "the whole session encrypted for every client that can encrypt",
        ServerEncryption::Required => "forced encryption; clients that cannot encrypt are refused",
        ServerEncryption::Strict => "TDS 8.0 only: TLS before the first TDS byte",
    }
}

/// Ctrl-C, or SIGTERM where there is one (what `kill` and service managers send). The handlers are
/// installed by `listen`, before the banner tells anyone how to stop the simulator.
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn listen() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<ServerState>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let state = Arc::clone(&state);
                    let mut stop = shutdown.clone();
                    tokio::spawn(async move {
                        tokio::select! {
                            _ = stop.changed() => {}
                            result = serve_connection(stream, state) => if let Err(e) = result {
                                tracing::warn!(%peer, error = %e, "Counterpoint simulator closed a connection");
                            }
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Counterpoint simulator accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum ConnectionError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("unexpected packet type 0x{0:02X}")]
    UnexpectedPacket(u8),
    #[error("TLS handshake failed: {0}")]
    Tls(std::io::Error),
    /// The server ends the connection as SQL Server would, for the reason given.
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error("opening the session database: {0}")]
    Session(#[from] rusqlite::Error),
    #[error("session task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The connection as the session sees it: plain TCP, TLS whose handshake travelled in PRELOGIN packets,
/// or TDS 8.0 TLS from the first byte.
enum Wire {
    Plain(TcpStream),
    Prelogin(Box<tokio_rustls::server::TlsStream<PreloginFraming<TcpStream>>>),
    Strict(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl AsyncRead for Wire {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            Wire::Prelogin(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
            Wire::Strict(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Wire {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Wire::Plain(s) => std::pin::Pin::new(s).poll_write(cx, data),
            Wire::Prelogin(s) => std::pin::Pin::new(s.as_mut()).poll_write(cx, data),
            Wire::Strict(s) => std::pin::Pin::new(s.as_mut()).poll_write(cx, data),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
            Wire::Prelogin(s) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
            Wire::Strict(s) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            Wire::Prelogin(s) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
            Wire::Strict(s) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Reads one whole message (packets until end-of-message); `None` on a clean close between messages.
async fn read_message<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<Option<(u8, Vec<u8>)>, ConnectionError> {
    let mut payload = Vec::new();
    let mut message_type = None;
    loop {
        let mut header = [0u8; tds::HEADER_LEN];
        match stream.read_exact(&mut header).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && message_type.is_none() => {
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
        let header = tds::parse_header(&header)?;
        if message_type.is_some_and(|t| t != header.packet_type) {
            return Err(WireError::Malformed("packet type changed inside a message".into()).into());
        }
        message_type = Some(header.packet_type);
        let body_len = header.length - tds::HEADER_LEN;
        if payload.len() + body_len > MAX_MESSAGE {
            return Err(WireError::Malformed("message larger than 16 MiB".into()).into());
        }
        let start = payload.len();
        payload.resize(start + body_len, 0);
        stream.read_exact(&mut payload[start..]).await?;
        if header.status & tds::STATUS_EOM != 0 {
            return Ok(Some((header.packet_type, payload)));
        }
    }
}

async fn send<S: AsyncWrite + Unpin>(
    stream: &mut S,
    tokens: &[u8],
    packet_size: usize,
) -> std::io::Result<()> {
    stream
        .write_all(&tds::packetize(tds::PACKET_TABULAR, tokens, packet_size))
        .await?;
    stream.flush().await
}

/// Sends a login failure (error token, then DONE with the error bit); the caller closes the socket.
async fn refuse_login<S: AsyncWrite + Unpin>(
    stream: &mut S,
    tds_version: u32,
    number: u32,
    class: u8,
    message: &str,
) -> std::io::Result<()> {
    let mut w = TokenWriter::for_version(tds_version);
    w.error(number, 1, class, message);
    w.done(DoneKind::Done, tds::DONE_ERROR, 0);
    send(stream, &w.finish(), 4096).await
}

async fn serve_connection(
    stream: TcpStream,
    state: Arc<ServerState>,
) -> Result<(), ConnectionError> {
    stream.set_nodelay(true)?;
    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(stream, &state)).await;
    let Some((wire, session, packet_size)) = handshake.map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "no login within the handshake timeout",
        )
    })??
    else {
        return Ok(());
    };
    serve_requests(wire, &state, session, packet_size).await
}

/// The TLS part of the handshake up to the clear-text PRELOGIN: TDS 8.0 clients open with a TLS
/// ClientHello (record type 0x16) where TDS 7.x clients send a PRELOGIN packet (0x12).
async fn open_wire(
    stream: TcpStream,
    state: &ServerState,
) -> Result<Option<(Wire, bool)>, ConnectionError> {
    let mut first = [0u8; 1];
    if stream.peek(&mut first).await? == 0 {
        return Ok(None);
    }
    const TLS_HANDSHAKE_RECORD: u8 = 0x16;
    if first[0] == TLS_HANDSHAKE_RECORD {
        let Some(acceptors) = &state.tls else {
            return Err(ConnectionError::Refused(
                "a TDS 8.0 (strict) TLS handshake, but this server has no certificate",
            ));
        };
        let tls = acceptors
            .strict
            .accept(stream)
            .await
            .map_err(ConnectionError::Tls)?;
        return Ok(Some((Wire::Strict(Box::new(tls)), true)));
    }
    if state.encryption == ServerEncryption::Strict {
        return Err(ConnectionError::Refused(
            "a TDS 7.x PRELOGIN in the clear, but this server only accepts TDS 8.0 (strict encryption)",
        ));
    }
    Ok(Some((Wire::Plain(stream), false)))
}

/// PRELOGIN (with the TLS handshake it negotiates) and LOGIN7; `None` when the client left or was refused.
async fn handshake(
    stream: TcpStream,
    state: &ServerState,
) -> Result<Option<(Wire, Session, usize)>, ConnectionError> {
    let Some((mut wire, strict)) = open_wire(stream, state).await? else {
        return Ok(None);
    };
    let Some((kind, payload)) = read_message(&mut wire).await? else {
        return Ok(None);
    };
    if kind != tds::PACKET_PRELOGIN {
        return Err(ConnectionError::UnexpectedPacket(kind));
    }
    let client_encryption = tds::parse_prelogin(&payload)?;
    let encryption = if strict {
        // Already inside TLS: nothing left to negotiate, and nothing more to encrypt.
        send(
            &mut wire,
            &tds::prelogin_response(tls::ENCRYPT_NOT_SUP),
            4096,
        )
        .await?;
        SessionEncryption::Strict
    } else {
        let negotiated = tls::negotiate(state.encryption, client_encryption);
        send(&mut wire, &tds::prelogin_response(negotiated.answer), 4096).await?;
        let Some(mut session) = negotiated.session else {
            return Err(ConnectionError::Refused(
                "the client cannot encrypt (ENCRYPT_NOT_SUP) and this server forces encryption",
            ));
        };
        if session == SessionEncryption::LoginOnly {
            // After ENCRYPT_OFF SQL Server also takes a LOGIN7 in the clear (tedious and FreeTDS send one).
            let Wire::Plain(tcp) = &wire else {
                return Err(ConnectionError::Refused(
                    "login-only encryption without TCP",
                ));
            };
            let mut next = [0u8; 1];
            if tcp.peek(&mut next).await? == 1 && next[0] == tds::PACKET_LOGIN7 {
                session = SessionEncryption::Clear;
            }
        }
        if matches!(
            session,
            SessionEncryption::LoginOnly | SessionEncryption::Full
        ) {
            let (Wire::Plain(tcp), Some(acceptors)) = (wire, &state.tls) else {
                return Err(ConnectionError::Refused(
                    "TLS negotiated without a certificate",
                ));
            };
            let mut tls = acceptors
                .prelogin
                .accept(PreloginFraming::new(tcp))
                .await
                .map_err(ConnectionError::Tls)?;
            tls.get_mut().0.handshake_done();
            wire = Wire::Prelogin(Box::new(tls));
        }
        session
    };

    let Some((kind, payload)) = read_message(&mut wire).await? else {
        return Ok(None);
    };
    if kind == tds::PACKET_PRELOGIN && encryption == SessionEncryption::Clear {
        return Err(ConnectionError::Refused(
            "a TLS handshake after this server answered that it cannot encrypt (ENCRYPT_NOT_SUP)",
        ));
    }
    if kind != tds::PACKET_LOGIN7 {
        return Err(ConnectionError::UnexpectedPacket(kind));
    }
    let login = tds::parse_login7(&payload)?;
    if encryption == SessionEncryption::LoginOnly {
        // Login-only encryption: the LOGIN7 packet was the last thing TLS carried.
        let Wire::Prelogin(tls) = wire else {
            return Err(ConnectionError::Refused(
                "login-only encryption without TLS",
            ));
        };
        wire = Wire::Plain(tls.into_inner().0.into_inner());
    }
    let tds_version = tds::negotiate_tds_version(login.tds_version);
    if login.user != state.user
        || login.password != state.password
        || state.faults.rejecting_logins()
    {
        let message = format!("Login failed for user '{}'.", login.user);
        refuse_login(&mut wire, tds_version, 18456, 14, &message).await?;
        return Ok(None);
    }
    let known_database = ["", DATABASE, "master"]
        .iter()
        .any(|d| d.eq_ignore_ascii_case(&login.database));
    if !known_database {
        let message = format!(
            "Cannot open database \"{}\" requested by the login. The login failed.",
            login.database
        );
        refuse_login(&mut wire, tds_version, 4060, 11, &message).await?;
        return Ok(None);
    }
    let packet_size = if login.packet_size == 0 {
        4096
    } else {
        login.packet_size.clamp(512, 32767) as usize
    };
    let database = if login.database.is_empty() {
        DATABASE.to_string()
    } else {
        login.database
    };
    let spid = state.next_spid.fetch_add(1, Ordering::Relaxed);
    let session = {
        let (path, catalog) = (state.db_path.clone(), Arc::clone(&state.catalog));
        let identity = SessionIdentity {
            database,
            spid,
            tds_version,
            encryption,
        };
        tokio::task::spawn_blocking(move || Session::open(&path, catalog, identity)).await??
    };
    let mut w = TokenWriter::for_version(tds_version);
    w.env_database(session.database());
    w.env_collation();
    w.login_ack(tds_version);
    w.env_packet_size(packet_size as u32);
    w.done(DoneKind::Done, 0, 0);
    send(&mut wire, &w.finish(), packet_size).await?;
    if let Ok(mut logins) = state.logins.lock() {
        logins.push(encryption);
    }
    Ok(Some((wire, session, packet_size)))
}

/// Serves SQL batches, RPCs and transaction requests until the client leaves or a fault drops it.
async fn serve_requests(
    mut stream: Wire,
    state: &ServerState,
    mut session: Session,
    packet_size: usize,
) -> Result<(), ConnectionError> {
    let version = session.tds_version();
    while let Some((kind, payload)) = read_message(&mut stream).await? {
        let request = match kind {
            tds::PACKET_SQL_BATCH => Request::Batch(tds::parse_sql_batch(&payload, version)?),
            tds::PACKET_RPC => Request::Rpc(tds::parse_rpc(&payload, version)?),
            tds::PACKET_TRANSACTION_MANAGER => {
                Request::Transaction(tds::parse_transaction_manager(&payload, version)?)
            }
            tds::PACKET_ATTENTION => {
                // Requests run to completion before the next is read, so there is nothing left to cancel.
                let mut w = TokenWriter::for_version(version);
                w.done(DoneKind::Done, tds::DONE_ATTN, 0);
                send(&mut stream, &w.finish(), packet_size).await?;
                continue;
            }
            other => return Err(ConnectionError::UnexpectedPacket(other)),
        };
        state.queries.fetch_add(1, Ordering::Relaxed);
        let delay = state.faults.query_delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let drop_now = state.faults.should_drop();
        let (returned, response) = tokio::task::spawn_blocking(move || {
            let response = session.execute(request);
            (session, response)
        })
        .await?;
        session = returned;
        let packets = tds::packetize(tds::PACKET_TABULAR, &response, packet_size);
        if drop_now {
            // Half a response, then gone: the client sees the connection die in the middle of a batch.
            stream.write_all(&packets[..packets.len() / 2]).await?;
            stream.flush().await?;
            tracing::info!("Counterpoint simulator dropped a connection (fault injection)");
            return Ok(());
        }
        stream.write_all(&packets).await?;
        stream.flush().await?;
    }
    Ok(())
}
