//! The HTTP face of `syncdesk serve`: `/health` and, at `/webhooks/<name>`, the webhook receiver of every
//! integration of the registry that has one.
//! A delivery is verified on its raw bytes, de-duplicated and turned into a durable "refresh" job in one
//! transaction BEFORE the 2xx goes out; the webhook body is only a hint, the job re-reads the resource.
//!
//! The receiver faces the network, so nobody can starve it: headers must arrive within
//! `server.header_read_timeout_secs` (an idle connection is closed after as long), bodies are read under
//! [`body::BodyLimits`] (cap, deadline, a shared memory budget), and at most `server.max_connections`
//! connections are served (fewer when the process may not open that many files). A connection past the limit
//! is answered within a second — `/health` normally, anything else 503 — so a full receiver costs refusals,
//! not memory or file descriptors, and monitoring still sees it.

mod body;
mod memory;

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, oneshot, watch};

use crate::config::Config;
use crate::domain::time::{now_ms, to_rfc3339};
use crate::engine::EngineStatus;
use crate::integrations::REGISTRY;
use crate::store::{Store, engine_lease, jobs};

pub use body::{BodyLimits, Refusal};

/// What request handlers share.
pub struct ServerState {
    pub store: Arc<Mutex<Store>>,
    pub config: Arc<Config>,
    /// The in-process engine, if any: woken after an enqueue, reported by `/health`.
    pub engine: Option<(Arc<Notify>, watch::Receiver<EngineStatus>)>,
}

pub fn router(state: Arc<ServerState>) -> Router {
    let limits = Arc::new(BodyLimits::from_config(&state.config.server));
    routes(state, limits)
}

fn routes(state: Arc<ServerState>, limits: Arc<BodyLimits>) -> Router {
    let mut router = Router::new().route("/health", get(health));
    for integration in REGISTRY {
        if let Some(webhook) = &integration.webhook {
            let handler = webhook.handler;
            router = router.route(
                &format!("/webhooks/{}", integration.name),
                post(
                    move |State(state): State<Arc<ServerState>>,
                          Extension(limits): Extension<Arc<BodyLimits>>,
                          headers: axum::http::HeaderMap,
                          body: axum::body::Body| {
                        handler(state, limits, headers, body)
                    },
                ),
            );
        }
    }
    router.layer(Extension(limits)).with_state(state)
}

/// Most a connection buffers of what it has not handed on yet (headers included): hyper's read buffer.
const CONNECTION_BUFFER_BYTES: usize = 64 * 1024;
/// Connections past `max_connections` looked at, for up to [`OVERFLOW_PEEK`] each, to answer `/health`; when
/// all are taken the one waiting longest gives way, so a request that comes at once is always looked at.
const OVERFLOW_SLOTS: usize = 32;
/// `/health` requests answered past `max_connections` at once (each within [`OVERFLOW_PEEK`]).
const OVERFLOW_HEALTH_SLOTS: usize = 8;
/// How long a connection past the limit may take to show it is `GET /health`.
const OVERFLOW_PEEK: Duration = Duration::from_secs(1);
/// File descriptors kept for the rest of the process (database, connections to the shop's systems, logs).
const RESERVED_FDS: u64 = 64;

/// Serves until `shutdown` resolves, then lets each connection finish its request and waits for them.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ServerState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max_connections = connection_capacity(state.config.server.max_connections);
    let header_timeout = Duration::from_secs(state.config.server.header_read_timeout_secs.max(1));
    let limits = Arc::new(BodyLimits::from_config(&state.config.server));
    let app = routes(state, limits.clone());
    let memory = tokio::spawn(memory::give_back_after_bursts(limits));
    let connections = Arc::new(Semaphore::new(max_connections));
    let mut overflow = Overflow::default();
    let health_slots = Arc::new(Semaphore::new(OVERFLOW_HEALTH_SLOTS));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                // The peer gave up before we took it: nothing to do.
                Err(e) if is_connection_error(&e) => continue,
                // Out of file descriptors or similar: accepting again at once would spin.
                Err(e) => {
                    tracing::warn!("webhook receiver: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    continue;
                }
            },
        };
        let connection = Connection {
            app: app.clone(),
            stop: stop_rx.clone(),
        };
        if let Ok(permit) = connections.clone().try_acquire_owned() {
            tokio::spawn(connection.serve(stream, permit, true, header_timeout));
        } else {
            let give_way = overflow.admit();
            tokio::spawn(connection.overflow(
                stream,
                give_way,
                health_slots.clone(),
                max_connections,
            ));
        }
    }
    drop(listener);
    memory.abort();
    let _ = stop_tx.send(true);
    // Every connection holds a permit until it is closed.
    let _all = connections.acquire_many(max_connections as u32).await;
    Ok(())
}

/// `server.max_connections`, lowered when the process may not open that many files: a receiver out of file
/// descriptors cannot even accept `/health`.
fn connection_capacity(configured: usize) -> usize {
    let Some(open_files) = open_files_limit() else {
        return configured.max(1);
    };
    let affordable = open_files
        .saturating_sub(RESERVED_FDS + (OVERFLOW_SLOTS + OVERFLOW_HEALTH_SLOTS) as u64)
        .max(8);
    let affordable = usize::try_from(affordable).unwrap_or(usize::MAX);
    if affordable < configured {
        tracing::warn!(
            "server.max_connections = {configured}, but this process may open only {open_files} files: serving at most {affordable} connections (raise `ulimit -n` to serve more)"
        );
    }
    configured.min(affordable).max(1)
}

/// The soft limit on open files (Linux: /proc/self/limits), if known and not unlimited.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The connections past the limit being looked at, oldest first; each is told to give way through its
/// sender, and its sender closes when it is done.
#[derive(Default)]
struct Overflow {
    looking: std::collections::VecDeque<oneshot::Sender<()>>,
}

impl Overflow {
    /// Makes room for one more (the oldest gives way when all slots are taken); returns its give-way signal.
    fn admit(&mut self) -> oneshot::Receiver<()> {
        self.looking.retain(|tx| !tx.is_closed());
        while self.looking.len() >= OVERFLOW_SLOTS {
            if let Some(oldest) = self.looking.pop_front() {
                let _ = oldest.send(());
            }
        }
        let (tx, rx) = oneshot::channel();
        self.looking.push_back(tx);
        rx
    }
}

/// What every connection's task needs.
struct Connection {
    app: Router,
    stop: watch::Receiver<bool>,
}

impl Connection {
    /// HTTP/1 on one connection, under the header timeout, until it closes or the receiver stops.
    async fn serve(
        mut self,
        stream: TcpStream,
        _permit: OwnedSemaphorePermit,
        keep_alive: bool,
        header_timeout: Duration,
    ) {
        let _ = stream.set_nodelay(true);
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .max_buf_size(CONNECTION_BUFFER_BYTES)
            .keep_alive(keep_alive);
        let mut connection =
            pin!(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(self.app)));
        let mut stopping = *self.stop.borrow();
        if stopping {
            connection.as_mut().graceful_shutdown();
        }
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!("webhook receiver: connection ended: {e}");
                    }
                    break;
                }
                changed = self.stop.changed(), if !stopping => {
                    stopping = true;
                    if changed.is_err() || *self.stop.borrow() {
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
        }
    }

    /// A connection past `server.max_connections`: `/health` is still answered (once, then closed), so a
    /// full receiver stays observable; anything else gets 503 without being read.
    async fn overflow(
        self,
        mut stream: TcpStream,
        mut give_way: oneshot::Receiver<()>,
        health_slots: Arc<Semaphore>,
        max_connections: usize,
    ) {
        let health = tokio::select! {
            health = asks_for_health(&stream) => health,
            _ = &mut give_way => return,
        };
        if health && let Ok(permit) = health_slots.try_acquire_owned() {
            // Counted in the health slots now, not among those being looked at.
            drop(give_way);
            return self.serve(stream, permit, false, OVERFLOW_PEEK).await;
        }
        tokio::select! {
            _ = refuse_connection(&mut stream, max_connections) => {}
            _ = give_way => {}
        }
    }
}

/// 503 to a connection past the limit, then what the client still sends is read and dropped for a moment
/// (a lingering close), so it reads the 503 rather than a reset.
async fn refuse_connection(stream: &mut TcpStream, max_connections: usize) {
    let body = format!(
        "{{\"error\":\"{max_connections} connections are open already (server.max_connections); try again\"}}"
    );
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 5\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(OVERFLOW_PEEK, async {
        stream.write_all(reply.as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        let mut seen = 0usize;
        while seen < CONNECTION_BUFFER_BYTES * 16 {
            match stream.read(&mut sink).await? {
                0 => break,
                n => seen += n,
            }
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
}

/// Whether the request waiting on `stream` is `GET /health` (or HEAD), looked at without consuming it.
async fn asks_for_health(stream: &TcpStream) -> bool {
    const PROBES: [&[u8]; 2] = [b"GET /health", b"HEAD /health"];
    let deadline = tokio::time::Instant::now() + OVERFLOW_PEEK;
    let mut seen = [0u8; 16];
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.peek(&mut seen)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return false,
        };
        let head = &seen[..n];
        for probe in PROBES {
            if head.len() > probe.len() && head.starts_with(probe) {
                return matches!(head[probe.len()], b' ' | b'?');
            }
        }
        if !PROBES
            .iter()
            .any(|p| p.starts_with(head) || head.starts_with(p))
        {
            return false;
        }
        // Only part of the request line is in: look again shortly (peeking does not wait for more).
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

pub fn parse_listen(config: &Config) -> Result<SocketAddr, String> {
    config.server.listen.parse().map_err(|_| {
        format!(
            "server.listen: '{}' is not an address",
            config.server.listen
        )
    })
}

/// Engine liveness, the job queue and the store: `ok` is false while no engine holds the lease or while the
/// store refuses writes (`store.unavailable_since` says since when and why; the engine and the receiver wait
/// it out and carry on by themselves).
async fn health(State(state): State<Arc<ServerState>>) -> impl IntoResponse {
    let in_process = state
        .engine
        .as_ref()
        .map(|(_, status)| status.borrow().clone());
    let store = state.store.clone();
    let read = tokio::task::spawn_blocking(move || {
        let store = store
            .lock()
            .map_err(|_| "store lock poisoned".to_string())?;
        let outage = store.outage().cloned();
        let read_only = store.is_read_only();
        let lease = engine_lease::current(store.conn()).map_err(|e| e.to_string())?;
        let counts = jobs::count_by_state(store.conn()).map_err(|e| e.to_string())?;
        Ok::<_, String>((lease, counts, outage, read_only))
    })
    .await;
    let (lease, counts, receiver_outage, read_only) =
        match read.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(v) => v,
            Err(e) => {
                return (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    axum::Json(json!({ "ok": false, "error": e })),
                );
            }
        };
    let now = now_ms();
    let engine_alive = lease.as_ref().is_some_and(|l| l.expires_at > now);
    // The engine's view and the receiver's: the one that noticed first says since when. A receiver's
    // failed write the engine has since written past is over.
    let engine_wrote = in_process.as_ref().and_then(|s| s.last_write);
    let receiver_outage =
        receiver_outage.filter(|o| engine_wrote.is_none_or(|wrote| wrote < o.last_try));
    let outage = [
        in_process.as_ref().and_then(|s| s.store.clone()),
        receiver_outage,
    ]
    .into_iter()
    .flatten()
    .min_by_key(|o| o.since);
    let store = match &outage {
        Some(o) => json!({
            "writable": false,
            "unavailable_since": to_rfc3339(o.since),
            "condition": o.condition,
            "detail": o.detail,
            "message": o.headline(),
        }),
        None => json!({ "writable": !read_only, "read_only": read_only }),
    };
    let body = json!({
        "ok": engine_alive && outage.is_none(),
        "engine": {
            "lease_holder": lease.as_ref().map(|l| l.holder.clone()),
            "lease_expires_at": lease.as_ref().map(|l| to_rfc3339(l.expires_at)),
            "alive": engine_alive,
            "in_process": in_process.map(|s| json!({
                "holds_lease": s.holds_lease,
                "running": s.running,
                "succeeded": s.succeeded,
                "failed": s.failed,
                "store": s.store.as_ref().map(|o| format!("{} ({})", o.headline(), o.detail)),
            })),
        },
        "store": store,
        "jobs": counts.iter().map(|(state, n)| (state.as_str().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "connectors": REGISTRY
            .iter()
            .map(|i| (i.name.to_string(), json!({ "enabled": (i.enabled)(&state.config) })))
            .collect::<serde_json::Map<_, _>>(),
    });
    (axum::http::StatusCode::OK, axum::Json(body))
}
