//! `syncdesk serve`: the engine (and, as connectors land, the webhook receiver) without a console.

use super::{CliResult, Context, Failure};
use crate::engine::{Engine, default_handlers};

pub fn run(context: &Context) -> CliResult {
    let config = context.config()?;
    // Open once in the foreground so a bad database fails here with a clear message, and statuses are seeded.
    drop(context.app()?);
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| Failure::failed(format!("runtime: {e}")))?;
    runtime.block_on(async {
        let engine = Engine::new(&context.db_path, config.clone(), default_handlers(&config));
        let handle = engine.spawn().map_err(|e| Failure::failed(e.to_string()))?;
        eprintln!("syncdesk engine {} on {} — Ctrl-C to stop", handle.holder(), context.db_path.display());
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
        handle.shutdown().await.map_err(|e| Failure::failed(e.to_string()))
    })
}
