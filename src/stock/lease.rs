//! One stock pass at a time per database. Two passes planning from the same merge base count the same
//! sale twice and can write a stale quantity over a newer one, and they can come from different
//! processes (the engine's jobs, a foreground `sync run`, the console). So every pass that writes, and
//! every operator resolution, first takes the "stock" pass lease (`store::pass_lease`), renews it while it
//! works, checks it still holds it before writing, and gives it up at the end. A waiting pass waits.

use std::time::Duration;

use super::load::db;
use crate::domain::time::now_ms;
use crate::engine::{JobContext, JobError};
use crate::store::StoreError;
use crate::store::pass_lease;

const NAME: &str = "stock";
/// How often a waiting pass looks again.
const POLL: Duration = Duration::from_millis(200);
/// How long a pass waits for another before it gives up (and its job is retried later).
const WAIT_AT_MOST: Duration = Duration::from_secs(15 * 60);

/// The stock lease, held until `release` (or until it expires, `[engine] lease_secs` after the holder
/// stopped renewing it: a crashed process blocks the next pass that long, no longer).
pub struct StockLease {
    holder: String,
    ttl_ms: i64,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl StockLease {
    /// Waits for the lease and takes it for `who` ("job 72", "sync run"), renewing it every third of its
    /// time to live until released.
    pub async fn take(ctx: &JobContext, who: &str) -> Result<StockLease, JobError> {
        let holder = format!(
            "{who} (pid {} on {}, {:04x})",
            std::process::id(),
            crate::engine::hostname(),
            fastrand::u16(..)
        );
        let ttl_ms = (ctx.config.engine.lease_secs * 1000) as i64;
        let waited_since = tokio::time::Instant::now();
        loop {
            let (taken, other) = {
                let holder = holder.clone();
                ctx.with_store(move |s| {
                    s.write(|tx| {
                        let now = now_ms();
                        if pass_lease::take(tx, NAME, &holder, ttl_ms, now)? {
                            return Ok((true, None));
                        }
                        Ok::<_, StoreError>((false, pass_lease::current(tx, NAME)?))
                    })
                    .map_err(db)
                })
                .await?
            };
            if taken {
                break;
            }
            if waited_since.elapsed() < POLL {
                let by = other.as_ref().map_or("another pass", |l| l.holder.as_str());
                tracing::info!(held_by = by, "waiting for the stock pass that is running");
            }
            if waited_since.elapsed() >= WAIT_AT_MOST {
                let by = other.map_or_else(|| "another pass".to_string(), |l| l.holder);
                return Err(JobError::retry(format!(
                    "another stock pass has been running for over {} minutes ({by}); this one waits for it",
                    WAIT_AT_MOST.as_secs() / 60
                )));
            }
            tokio::time::sleep(POLL).await;
        }
        let heartbeat = tokio::spawn({
            let ctx = ctx.clone();
            let holder = holder.clone();
            async move {
                let every = Duration::from_millis((ttl_ms / 3).max(1) as u64);
                loop {
                    tokio::time::sleep(every).await;
                    let _ = renew(&ctx, &holder, ttl_ms).await;
                }
            }
        });
        Ok(StockLease {
            holder,
            ttl_ms,
            heartbeat,
        })
    }

    /// Renews the lease, failing if it was lost (this process stalled past its expiry and another pass
    /// took it): a pass calls this right before it writes, so a pass that lost the lease writes nothing.
    pub async fn still_held(&self, ctx: &JobContext) -> Result<(), JobError> {
        let held = renew(ctx, &self.holder, self.ttl_ms).await?;
        if held {
            Ok(())
        } else {
            Err(JobError::retry(
                "the stock pass lease expired while this pass was reading (another pass took it); nothing written, trying again",
            ))
        }
    }

    /// Gives the lease up for the next pass.
    pub async fn release(self, ctx: &JobContext) {
        self.heartbeat.abort();
        let holder = self.holder.clone();
        let _ = ctx
            .with_store(move |s| {
                s.write(|tx| pass_lease::release(tx, NAME, &holder))
                    .map_err(db)
            })
            .await;
    }
}

/// Renews `holder`'s lease; false if it lost it.
async fn renew(ctx: &JobContext, holder: &str, ttl_ms: i64) -> Result<bool, JobError> {
    let holder = holder.to_string();
    ctx.with_store(move |s| {
        s.write(|tx| pass_lease::take(tx, NAME, &holder, ttl_ms, now_ms()))
            .map_err(db)
    })
    .await
}

impl Drop for StockLease {
    /// A pass that panicked or was cancelled stops renewing, so its lease expires.
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}
