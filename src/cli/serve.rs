//! `syncdesk serve`: the engine, its schedules and the HTTP receiver (webhooks, /health), without a console.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{CliResult, Context, Failure};
use crate::engine::{Engine, default_handlers, default_schedules};
use crate::server::{self, ServerState};
use crate::store::Store;

pub fn run(context: &Context) -> CliResult {
    let config = context.config()?;
    // Open once in the foreground so a bad database fails here with a clear message, and statuses are seeded.
    drop(context.app()?);
    let listen = server::parse_listen(&config).map_err(Failure::rejected)?;
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| Failure::failed(format!("runtime: {e}")))?;
    runtime.block_on(async {
        let engine = Engine::new(&context.db_path, config.clone(), default_handlers(&config))
            .with_schedules(default_schedules(&config));
        let handle = engine.spawn().map_err(|e| Failure::failed(e.to_string()))?;
        let store = Store::open(&context.db_path, Duration::from_millis(config.store.busy_timeout_ms))
            .map_err(|e| Failure::failed(e.to_string()))?;
        let state = Arc::new(ServerState {
            store: Arc::new(Mutex::new(store)),
            config: Arc::new(config.clone()),
            engine: Some((handle.waker(), handle.subscribe())),
        });
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Failure::failed(format!("server.listen {listen}: {e}")))?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let http = tokio::spawn(server::serve(listener, state, async {
            let _ = stop_rx.await;
        }));
        eprintln!("syncdesk engine {} on {}", handle.holder(), context.db_path.display());
        eprintln!("listening on http://{listen} (POST /webhooks/woocommerce, GET /health) — Ctrl-C to stop");
        if !config.woocommerce.enabled {
            eprintln!("woocommerce is not enabled in the config: no polling, webhooks are refused");
        }
        let mut status = handle.subscribe();
        let mut reported_lease = None;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                changed = status.changed() => {
                    if changed.is_err() { break; }
                    let holds = status.borrow().holds_lease;
                    if reported_lease != Some(holds) {
                        eprintln!("{}", if holds { "running jobs" } else { "another engine runs jobs for this database; standing by" });
                        reported_lease = Some(holds);
                    }
                }
            }
        }
        eprintln!("stopping: letting running jobs finish…");
        let _ = stop_tx.send(());
        let _ = http.await;
        handle.shutdown().await.map_err(|e| Failure::failed(e.to_string()))
    })
}
