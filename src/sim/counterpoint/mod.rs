//! NCR Counterpoint simulator: a TDS 7.4 (SQL Server wire protocol) endpoint on loopback that `tiberius`
//! connects to, backed by SQLite holding Counterpoint's tables; it also plays the shop and injects faults.
//! The T-SQL subset is documented on `sql::parse_batch`, the result type mapping on `engine::column_meta`.

mod engine;
mod shop;
mod sql;
mod tds;
mod types;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use shop::{ProcessedOrder, STORE_LOC, Shop, ShopError, ShopItem, WEB_LOC};

use engine::{Catalog, Request, Session};
use tds::{DoneKind, TokenWriter, WireError};

/// Largest request message accepted; bigger ones close the connection.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;
/// A client that has not logged in by then is disconnected.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// The database name reported at login.
pub const DATABASE: &str = "CPSQL";

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    pub user: String,
    pub password: String,
    /// Number of seeded items (each with IM_ITEM, IM_PRC, two IM_INV rows and one or two barcodes).
    pub items: usize,
    /// Seed for the catalogue, so runs are reproducible.
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            user: "cpsync".into(),
            password: "Counterpoint!2026".into(),
            items: 200,
            seed: 1,
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
    /// syncdesk's `[counterpoint.connection]` pointing at this simulator (no TLS: loopback only).
    pub fn syncdesk_connection(&self) -> crate::connectors::counterpoint::CounterpointConfig {
        crate::connectors::counterpoint::CounterpointConfig {
            host: self.addr().ip().to_string(),
            port: self.addr().port(),
            user: self.user().to_string(),
            password: crate::config::Secret::new(self.password()),
            database: self.database().to_string(),
            encryption: crate::connectors::counterpoint::Encryption::Off,
            ..Default::default()
        }
    }

    /// Creates and seeds the shop database, then listens for TDS clients.
    pub async fn start(config: SimConfig) -> Result<CounterpointSim, SimError> {
        let db_path = unique_db_path();
        let (shop, catalog) = {
            let path = db_path.clone();
            tokio::task::spawn_blocking(move || -> Result<(Shop, Catalog), SimError> {
                remove_db_files(&path);
                let shop = Shop::create(&path, config.items, config.seed)?;
                let catalog = Catalog::load(&rusqlite::Connection::open(&path)?)?;
                Ok((shop, catalog))
            })
            .await
            .map_err(|e| SimError::Io(std::io::Error::other(e)))??
        };
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(ServerState {
            user: config.user,
            password: config.password,
            db_path,
            catalog: Arc::new(catalog),
            faults: Faults::new(config.seed),
            queries: AtomicU64::new(0),
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let accept_task = tokio::spawn(accept_loop(listener, Arc::clone(&state), shutdown_rx));
        tracing::info!(%addr, "Counterpoint simulator listening");
        Ok(CounterpointSim {
            addr,
            state,
            shop,
            shutdown,
            accept_task: Some(accept_task),
        })
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

/// Starts the simulator, prints where and how to connect, and runs until Ctrl-C.
pub async fn run_standalone(config: SimConfig) -> Result<(), SimError> {
    let sim = CounterpointSim::start(config).await?;
    println!(
        "Counterpoint simulator (TDS 7.4, no encryption) listening on {}",
        sim.addr()
    );
    println!(
        "  user: {}  password: {}  database: {}",
        sim.user(),
        sim.password(),
        sim.database()
    );
    println!("  tiberius: EncryptionLevel::NotSupported; press Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
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
    #[error("opening the session database: {0}")]
    Session(#[from] rusqlite::Error),
    #[error("session task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Reads one whole message (packets until end-of-message); `None` on a clean close between messages.
async fn read_message(stream: &mut TcpStream) -> Result<Option<(u8, Vec<u8>)>, ConnectionError> {
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

async fn send(stream: &mut TcpStream, tokens: &[u8], packet_size: usize) -> std::io::Result<()> {
    stream
        .write_all(&tds::packetize(tds::PACKET_TABULAR, tokens, packet_size))
        .await
}

/// Sends a login failure (error token, then DONE with the error bit); the caller closes the socket.
async fn refuse_login(
    stream: &mut TcpStream,
    number: u32,
    class: u8,
    message: &str,
) -> std::io::Result<()> {
    let mut w = TokenWriter::new();
    w.error(number, 1, class, message);
    w.done(DoneKind::Done, tds::DONE_ERROR, 0);
    send(stream, &w.finish(), 4096).await
}

async fn serve_connection(
    mut stream: TcpStream,
    state: Arc<ServerState>,
) -> Result<(), ConnectionError> {
    stream.set_nodelay(true)?;
    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(&mut stream, &state)).await;
    let Some((session, packet_size)) = handshake.map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "no login within the handshake timeout",
        )
    })??
    else {
        return Ok(());
    };
    serve_requests(stream, &state, session, packet_size).await
}

/// PRELOGIN and LOGIN7; `None` when the client left or was refused.
async fn handshake(
    stream: &mut TcpStream,
    state: &ServerState,
) -> Result<Option<(Session, usize)>, ConnectionError> {
    let Some((kind, payload)) = read_message(stream).await? else {
        return Ok(None);
    };
    if kind != tds::PACKET_PRELOGIN {
        return Err(ConnectionError::UnexpectedPacket(kind));
    }
    tds::parse_prelogin(&payload)?;
    send(stream, &tds::prelogin_response(), 4096).await?;

    let Some((kind, payload)) = read_message(stream).await? else {
        return Ok(None);
    };
    if kind != tds::PACKET_LOGIN7 {
        return Err(ConnectionError::UnexpectedPacket(kind));
    }
    let login = tds::parse_login7(&payload)?;
    if login.user != state.user
        || login.password != state.password
        || state.faults.rejecting_logins()
    {
        let message = format!("Login failed for user '{}'.", login.user);
        refuse_login(stream, 18456, 14, &message).await?;
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
        refuse_login(stream, 4060, 11, &message).await?;
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
    let session = {
        let (path, catalog) = (state.db_path.clone(), Arc::clone(&state.catalog));
        tokio::task::spawn_blocking(move || Session::open(&path, catalog, database)).await??
    };
    let mut w = TokenWriter::new();
    w.env_database(session.database());
    w.env_collation();
    w.login_ack();
    w.env_packet_size(packet_size as u32);
    w.done(DoneKind::Done, 0, 0);
    send(stream, &w.finish(), packet_size).await?;
    Ok(Some((session, packet_size)))
}

/// Serves SQL batches, RPCs and transaction requests until the client leaves or a fault drops it.
async fn serve_requests(
    mut stream: TcpStream,
    state: &ServerState,
    mut session: Session,
    packet_size: usize,
) -> Result<(), ConnectionError> {
    while let Some((kind, payload)) = read_message(&mut stream).await? {
        let request = match kind {
            tds::PACKET_SQL_BATCH => Request::Batch(tds::parse_sql_batch(&payload)?),
            tds::PACKET_RPC => Request::Rpc(tds::parse_rpc(&payload)?),
            tds::PACKET_TRANSACTION_MANAGER => {
                Request::Transaction(tds::parse_transaction_manager(&payload)?)
            }
            tds::PACKET_ATTENTION => {
                // Requests run to completion before the next is read, so there is nothing left to cancel.
                let mut w = TokenWriter::new();
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
            tracing::info!("Counterpoint simulator dropped a connection (fault injection)");
            return Ok(());
        }
        stream.write_all(&packets).await?;
    }
    Ok(())
}
