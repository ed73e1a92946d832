//! The HTTP face of `syncdesk serve`: the WooCommerce webhook receiver and `/health`.
//! A delivery is verified on its raw bytes, de-duplicated and turned into a durable "refresh" job in one
//! transaction BEFORE the 2xx goes out; the webhook body is only a hint, the job re-reads the resource.

mod metakocka_webhook;
mod store_gate;
mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::json;
use tokio::sync::{Notify, watch};

use crate::config::Config;
use crate::domain::time::{now_ms, to_rfc3339};
use crate::engine::EngineStatus;
use crate::store::{Store, engine_lease, jobs};

pub use webhooks::verify_signature;

/// What request handlers share.
pub struct ServerState {
    pub store: Arc<Mutex<Store>>,
    pub config: Arc<Config>,
    /// The in-process engine, if any: woken after an enqueue, reported by `/health`.
    pub engine: Option<(Arc<Notify>, watch::Receiver<EngineStatus>)>,
}

pub fn router(state: Arc<ServerState>) -> Router {
    let limit = state.config.server.max_body_bytes;
    Router::new()
        .route("/webhooks/woocommerce", post(webhooks::woocommerce))
        .route("/webhooks/metakocka", post(metakocka_webhook::metakocka))
        .route("/health", get(health))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ServerState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
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
        "connectors": { "woocommerce": { "enabled": state.config.woocommerce.enabled } },
    });
    (axum::http::StatusCode::OK, axum::Json(body))
}
