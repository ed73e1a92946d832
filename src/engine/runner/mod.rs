//! The engine's main loop. One task owns the bookkeeping; each claimed job runs in its own task and reports
//! back through a channel. Every turn is one write transaction: record outcomes (each attempt with it), (on
//! the heartbeat) hold the engine lease, renew our job leases and put back jobs whose process died, then
//! claim what is due within the limits. A store that cannot take the turn's write (locked, full disk, I/O
//! trouble) is waited out with backoff — outcomes are kept until they can be written — never a reason to stop.
//!
//! This file is the engine's handle and the loop (when to take a turn, what runs); `turn` is the turn's
//! transaction and the store-side rules it applies (dead holders, abandoned jobs, giving up).

mod turn;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;

use super::handler::{HandlerRegistry, JobContext, JobError};
use super::retry::span;
use crate::config::Config;
use crate::domain::time::{Millis, now_ms};
use crate::store::{Job, Store, StoreError, StoreOptions, StoreOutage, engine_lease};
use turn::Refused;

/// Most jobs in flight at once across kinds, whatever the per-kind limits say.
const MAX_IN_FLIGHT: usize = 256;
/// How long a clean shutdown waits for running jobs before leaving them to lease expiry.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The first and the longest wait before trying a write the store refused again.
const STORE_RETRY_FIRST: Duration = Duration::from_millis(100);
const STORE_RETRY_CAP: Duration = Duration::from_secs(5);

/// What the engine is doing, for `serve`, the console and `/health`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineStatus {
    pub holds_lease: bool,
    pub running: usize,
    pub succeeded: u64,
    pub failed: u64,
    /// Set while the store refuses the engine's writes: since when, and why. Jobs wait; nothing is lost.
    pub store: Option<StoreOutage>,
    /// When the engine last wrote to the store (its bookkeeping turn committed). Updated without waking
    /// subscribers: it moves every turn.
    pub last_write: Option<Millis>,
}

pub struct Engine {
    db_path: PathBuf,
    config: Arc<Config>,
    registry: HandlerRegistry,
    schedules: Vec<Schedule>,
    holder: String,
}

/// A recurring job: one is always waiting or running; the next runs `every` after the last one finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub kind: String,
    pub every: Duration,
}

impl Schedule {
    pub fn every(kind: impl AsRef<str>, every: Duration) -> Self {
        Schedule {
            kind: kind.as_ref().to_string(),
            every,
        }
    }
}

/// Controls a running engine.
pub struct EngineHandle {
    wake: Arc<Notify>,
    shutdown: watch::Sender<bool>,
    status: watch::Receiver<EngineStatus>,
    task: tokio::task::JoinHandle<Result<(), StoreError>>,
    holder: String,
}

impl EngineHandle {
    /// Looks for due jobs now instead of at the next poll (call after enqueuing in this process).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn status(&self) -> EngineStatus {
        self.status.borrow().clone()
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The notifier [`EngineHandle::wake`] uses, for other components (the webhook receiver) to hold.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// A receiver that changes whenever the status does (for a console to redraw on).
    pub fn subscribe(&self) -> watch::Receiver<EngineStatus> {
        self.status.clone()
    }

    /// Stops claiming, lets running jobs finish (up to a grace period), records them, releases the lease.
    pub async fn shutdown(self) -> Result<(), StoreError> {
        let _ = self.shutdown.send(true);
        self.task.await.unwrap_or(Ok(()))
    }

    /// Stops at once as if the process died: no outcomes recorded, lease kept until it expires (tests).
    pub fn abort(self) {
        self.task.abort();
    }
}

impl Engine {
    pub fn new(db_path: &Path, config: Config, registry: HandlerRegistry) -> Self {
        let holder = format!(
            "{}:{}:{:04x}",
            hostname(),
            std::process::id(),
            fastrand::u16(..)
        );
        Engine {
            db_path: db_path.to_path_buf(),
            config: Arc::new(config),
            registry,
            schedules: Vec::new(),
            holder,
        }
    }

    /// Adds recurring jobs (only kinds this engine has a handler for make sense).
    pub fn with_schedules(mut self, schedules: Vec<Schedule>) -> Self {
        self.schedules = schedules;
        self
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Opens the engine's own store connection and starts the loop on the current tokio runtime.
    pub fn spawn(self) -> Result<EngineHandle, StoreError> {
        let store = Store::open_with(&self.db_path, &StoreOptions::for_engine(&self.config.store))?;
        let wake = Arc::new(Notify::new());
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (status_tx, status_rx) = watch::channel(EngineStatus::default());
        let holder = self.holder.clone();
        let turn = Loop {
            ctx: JobContext {
                store: Arc::new(Mutex::new(store)),
                config: self.config.clone(),
            },
            registry: self.registry,
            schedules: self.schedules,
            holder: self.holder,
            wake: wake.clone(),
            status: status_tx,
        };
        let task = tokio::spawn(turn.run(shutdown_rx));
        Ok(EngineHandle {
            wake,
            shutdown: shutdown_tx,
            status: status_rx,
            task,
            holder,
        })
    }
}

struct Loop {
    ctx: JobContext,
    registry: HandlerRegistry,
    schedules: Vec<Schedule>,
    holder: String,
    wake: Arc<Notify>,
    status: watch::Sender<EngineStatus>,
}

type Outcome = (Job, Result<(), JobError>);

/// Where finished jobs arrive, and what the loop keeps of them until they are written.
struct Finished<'a> {
    done: &'a mut mpsc::UnboundedReceiver<Outcome>,
    running: &'a mut HashMap<String, usize>,
    outcomes: &'a mut Vec<Outcome>,
}

impl Loop {
    async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), StoreError> {
        let config = self.ctx.config.clone();
        let engine_ttl_ms = (config.engine.lease_secs * 1000) as i64;
        let job_lease_ms = (config.jobs.lease_secs * 1000) as i64;
        let heartbeat = Duration::from_millis((engine_ttl_ms.min(job_lease_ms) / 3).max(50) as u64);
        let poll = Duration::from_millis(config.jobs.poll_ms.max(10));
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Outcome>();
        let mut running: HashMap<String, usize> = HashMap::new();
        // Outcomes not yet written (kept across turns the store refused).
        let mut outcomes: Vec<Outcome> = Vec::new();
        let mut holds_lease = false;
        let mut next_heartbeat = Instant::now();
        let mut stopping_since: Option<Instant> = None;
        let mut store_wait = STORE_RETRY_FIRST;

        loop {
            while let Ok(o) = done_rx.try_recv() {
                self.finished(&mut running, &o);
                outcomes.push(o);
            }
            let in_flight: usize = running.values().sum();
            if *shutdown.borrow() && stopping_since.is_none() {
                stopping_since = Some(Instant::now());
            }
            let stopping = stopping_since.is_some();
            let heartbeat_due = Instant::now() >= next_heartbeat;
            // What each kind may still start this turn.
            let capacity = if stopping || (!holds_lease && !heartbeat_due) {
                HashMap::new()
            } else {
                self.capacity(&running)
            };
            let budget = MAX_IN_FLIGHT.saturating_sub(in_flight);
            let turn = match self
                .bookkeeping(
                    outcomes.clone(),
                    heartbeat_due,
                    engine_ttl_ms,
                    job_lease_ms,
                    capacity,
                    budget,
                )
                .await
            {
                Ok(turn) => {
                    outcomes.clear();
                    store_wait = STORE_RETRY_FIRST;
                    self.store_took_the_turn();
                    turn
                }
                Err(refused) => {
                    // Locked, full, failing disk: say so, keep every outcome, try again after a while.
                    self.store_refused(refused, outcomes.len(), in_flight);
                    if let Some(since) = stopping_since
                        && since.elapsed() > SHUTDOWN_GRACE
                    {
                        tracing::warn!(
                            unrecorded = outcomes.len(),
                            "stopping without recording the last outcomes: their jobs run again after their leases expire"
                        );
                        return Ok(());
                    }
                    let finished = Finished {
                        done: &mut done_rx,
                        running: &mut running,
                        outcomes: &mut outcomes,
                    };
                    self.wait_out_the_store(store_wait, finished, &mut shutdown, stopping)
                        .await;
                    store_wait = (store_wait * 2).min(STORE_RETRY_CAP);
                    continue;
                }
            };
            if heartbeat_due {
                next_heartbeat = Instant::now() + heartbeat;
            }
            if let Some(held) = turn.holds_lease {
                if held != holds_lease {
                    tracing::info!(holder = %self.holder, held, "engine lease changed");
                }
                holds_lease = held;
            }
            let claimed_any = !turn.claimed.is_empty();
            for job in turn.claimed {
                *running.entry(job.kind.clone()).or_default() += 1;
                self.start(job, done_tx.clone());
            }
            let in_flight: usize = running.values().sum();
            self.status.send_if_modified(|s| {
                let changed = s.holds_lease != holds_lease || s.running != in_flight;
                s.holds_lease = holds_lease;
                s.running = in_flight;
                changed
            });

            if let Some(since) = stopping_since
                && (in_flight == 0 || since.elapsed() > SHUTDOWN_GRACE)
            {
                if in_flight == 0 {
                    return self.release_lease().await;
                }
                return Ok(());
            }
            if claimed_any {
                continue; // more may be due right away
            }
            let sleep_for = idle_for(poll, next_heartbeat, turn.next_run_at);
            tokio::select! {
                Some(o) = done_rx.recv() => {
                    self.finished(&mut running, &o);
                    outcomes.push(o);
                }
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(sleep_for.max(Duration::from_millis(1))) => {}
                _ = shutdown.changed(), if !stopping => {}
            }
        }
    }

    /// What each kind may still start this turn: its concurrency limit less what runs (kinds with no room
    /// left out).
    fn capacity(&self, running: &HashMap<String, usize>) -> HashMap<String, usize> {
        let config = &self.ctx.config;
        self.registry
            .kinds()
            .map(|k| {
                let used = running.get(k).copied().unwrap_or(0);
                (
                    k.to_string(),
                    config.jobs.concurrency_for(k).saturating_sub(used),
                )
            })
            .filter(|(_, free)| *free > 0)
            .collect()
    }

    /// The turn was written: an outage, if there was one, is over.
    fn store_took_the_turn(&self) {
        if let Some(outage) = self.status.borrow().store.clone() {
            tracing::warn!(
                after = %span(now_ms() - outage.since),
                "the store takes writes again; the engine carries on"
            );
        }
        let wrote = now_ms();
        self.status.send_if_modified(|s| {
            s.last_write = Some(wrote);
            s.store.take().is_some()
        });
    }

    /// The store refused the turn: logged loudly the first time, then quietly; the status shows the outage.
    fn store_refused(&self, refused: Refused, waiting: usize, in_flight: usize) {
        let first = self.status.borrow().store.is_none();
        if first {
            tracing::error!(
                error = %refused.error,
                waiting,
                "{}; the engine waits and tries again",
                refused.outage.headline()
            );
        } else {
            tracing::warn!(error = %refused.error, "the store still refuses writes");
        }
        self.status.send_modify(|s| {
            s.store = Some(refused.outage);
            s.running = in_flight;
        });
    }

    /// Waits `wait` before the store is tried again, still collecting the jobs that finish meanwhile; a
    /// shutdown request cuts the wait short.
    async fn wait_out_the_store(
        &self,
        wait: Duration,
        finished: Finished<'_>,
        shutdown: &mut watch::Receiver<bool>,
        stopping: bool,
    ) {
        let wait = tokio::time::sleep(wait);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                Some(o) = finished.done.recv() => {
                    self.finished(finished.running, &o);
                    finished.outcomes.push(o);
                }
                _ = &mut wait => break,
                _ = shutdown.changed(), if !stopping => break,
            }
        }
    }

    /// A job's task reported back: it no longer counts against its kind's limit.
    fn finished(&self, running: &mut HashMap<String, usize>, (job, result): &Outcome) {
        if let Some(n) = running.get_mut(&job.kind) {
            *n = n.saturating_sub(1);
        }
        self.status.send_modify(|s| match result {
            Ok(()) => s.succeeded += 1,
            Err(_) => s.failed += 1,
        });
    }

    async fn release_lease(&self) -> Result<(), StoreError> {
        let holder = self.holder.clone();
        let store = self.ctx.store.clone();
        let released = tokio::task::spawn_blocking(move || {
            let mut store = store
                .lock()
                .map_err(|_| StoreError::Corrupt("store lock poisoned".into()))?;
            store.write(|tx| engine_lease::release(tx, &holder))
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("engine shutdown task failed: {e}")))?;
        match released {
            // The lease simply runs out when the store cannot take the release.
            Err(e) if e.unavailable().is_some() => {
                tracing::warn!(error = %e, "engine lease not released; it expires by itself");
                Ok(())
            }
            other => other,
        }
    }

    fn start(&self, job: Job, done: mpsc::UnboundedSender<Outcome>) {
        let Some(handler) = self.registry.get(&job.kind) else {
            let _ = done.send((
                job,
                Err(JobError::permanent("no handler for this job kind")),
            ));
            return;
        };
        let ctx = self.ctx.clone();
        let timeout = Duration::from_secs(ctx.config.jobs.timeout_secs.max(1));
        tokio::spawn(async move {
            let result = match tokio::time::timeout(timeout, handler.run(&job, &ctx)).await {
                Ok(r) => r,
                Err(_) => Err(JobError::retry(format!(
                    "timed out after {}s",
                    timeout.as_secs()
                ))),
            };
            let _ = done.send((job, result));
        });
    }
}

/// How long an idle loop sleeps: until the next poll, heartbeat or due job, whichever comes first.
fn idle_for(poll: Duration, next_heartbeat: Instant, next_run_at: Option<Millis>) -> Duration {
    let mut sleep_for = poll.min(next_heartbeat.saturating_duration_since(Instant::now()));
    if let Some(at) = next_run_at {
        sleep_for = sleep_for.min(Duration::from_millis((at - now_ms()).max(0) as u64));
    }
    sleep_for
}

/// This machine's name, for lease holders (who holds it, where).
pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
