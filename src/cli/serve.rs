//! `syncdesk serve`: the engine, its schedules and the HTTP receiver (webhooks, /health), without a console.

use std::sync::{Arc, Mutex};

use super::{CliResult, Context, Failure};
use crate::engine::{Engine, default_handlers, default_schedules};
use crate::integrations::REGISTRY;
use crate::server::{self, ServerState};
use crate::store::{Store, StoreOptions};

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
        let store = Store::open_with(&context.db_path, &StoreOptions::from_config(&config.store))
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
        let routes: Vec<String> = REGISTRY
            .iter()
            .filter(|i| i.webhook.is_some())
            .map(|i| format!("POST /webhooks/{}", i.name))
            .collect();
        eprintln!(
            "listening on http://{listen} ({}, GET /health) — Ctrl-C to stop",
            routes.join(", ")
        );
        for off in REGISTRY.iter().filter(|i| i.webhook.is_some() && !(i.enabled)(&config)) {
            eprintln!("{} is not enabled in the config: nothing is polled, its webhooks are refused", off.name);
        }
        let mut status = handle.subscribe();
        let mut reported_lease = None;
        let mut reported_outage: Option<(i64, crate::store::Unavailable)> = None;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                changed = status.changed() => {
                    if changed.is_err() { break; }
                    let now = status.borrow().clone();
                    if reported_lease != Some(now.holds_lease) {
                        eprintln!("{}", if now.holds_lease { "running jobs" } else { "another engine runs jobs for this database; standing by" });
                        reported_lease = Some(now.holds_lease);
                    }
                    // A store that refuses writes is waited out; say when it starts and when it ends.
                    let outage = now.store.as_ref().map(|o| (o.since, o.condition));
                    if outage != reported_outage {
                        match &now.store {
                            Some(o) => eprintln!("{} — {}; waiting, webhooks answered 503 meanwhile", o.headline(), o.detail),
                            None => eprintln!("the store takes writes again; carrying on"),
                        }
                        reported_outage = outage;
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
