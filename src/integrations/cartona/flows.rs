//! Cartona as a sales channel, as job handlers. The pull imports marketplace orders (paged, by creation
//! window from the last pull minus the overlap) and acknowledges them with `synced` once stored. The push
//! pass collects every due status push into bulk requests, re-reads to catch items Cartona skipped silently
//! (re-sending those one by one to get Cartona's own reason), and records each outcome on its link.
//! Both are idempotent, so at-least-once running is safe.

use crate::domain::LinkState;
use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::app::channel_orders::{self, ChannelOrder, ImportOutcome};
use crate::config::{CartonaSection, Config};
use crate::domain::time::now_ms;
use crate::engine::passes::PassReport;
use crate::engine::{
    BoxFuture, ConnectorFailure, ErrorClass, JobContext, JobError, JobHandler, SharedClient,
};
use crate::integrations::cartona::client::{
    CancellationReason, CartonaClient, CartonaError, CartonaOrder, ItemOutcome, OrderStatus,
    StatusUpdate,
};
use crate::integrations::cartona::outbound::{self as plans, PushPlan, SYSTEM};
use crate::integrations::cartona::rules::{DeliveredBy, Verdict};
use crate::store::sync_log::{self, Change};
use crate::store::{Job, Store, StoreError, links, marketplace, statuses, watermarks};

/// The end of the last pull's creation window.
const WATERMARK: &str = "cartona.orders.pulled_to";
/// Orders imported per write transaction.
const IMPORT_CHUNK: usize = 200;

fn job_error(e: CartonaError) -> JobError {
    crate::engine::job_error(e)
}

fn db(e: impl std::fmt::Display) -> JobError {
    JobError::retry(e.to_string())
}

/// Builds the API client from config.
pub fn client(cfg: &CartonaSection) -> Result<CartonaClient, CartonaError> {
    CartonaClient::new(cfg.client_config())
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A Cartona order reduced to what syncdesk keeps. Cartona has no order number: the hashed id serves.
pub fn channel_order(o: &CartonaOrder) -> ChannelOrder {
    ChannelOrder {
        system: SYSTEM.into(),
        external_id: o.hashed_id.clone(),
        number: o.hashed_id.clone(),
        customer: Some(o.retailer.name.trim().to_string()).filter(|n| !n.is_empty()),
        remote_status: o.status.as_str().to_string(),
        remote_version: o.updated_at.map(stamp),
        ship_to: None,
        read_at: 0,
        history: false,
        lines: o
            .lines
            .iter()
            .filter(|l| !l.cancelled && l.quantity > 0)
            .map(|l| {
                let sku = [&l.internal_product_id, &l.supplier_product_id]
                    .into_iter()
                    .map(|s| s.trim())
                    .find(|s| !s.is_empty())
                    .map_or_else(|| format!("cartona-line-{}", l.id), str::to_string);
                (
                    sku,
                    Some(l.name.clone()).filter(|n| !n.is_empty()),
                    l.quantity,
                )
            })
            .collect(),
    }
}

/// What a pull did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PullReport {
    pub outcomes: Vec<ImportOutcome>,
    /// Hashed ids acknowledged with `synced` (stored orders only).
    pub acknowledged: usize,
}

/// Imports orders in one transaction (or a dry run), keeping who delivers each; returns the outcomes and
/// the hashed ids now stored (the ones safe to acknowledge).
pub fn import_all(
    store: &mut Store,
    config: &Config,
    orders: &[CartonaOrder],
    dry_run: bool,
) -> Result<(Vec<ImportOutcome>, Vec<String>), JobError> {
    let run = |tx: &rusqlite::Transaction<'_>| -> Result<_, crate::app::AppError> {
        let workflow = statuses::load(tx)?;
        let inbound = |remote: &str| config.cartona.inbound(remote).map(String::from);
        let now = now_ms();
        let mut outcomes = Vec::with_capacity(orders.len());
        let mut stored = Vec::new();
        for o in orders {
            let order = channel_order(o);
            // Facts first, so the status-out rule sees them when an imported status enters.
            let link = links::by_external(tx, "order", SYSTEM, &o.hashed_id)?;
            let delivered_by = o.delivered_by.as_ref().map_or(DeliveredBy::Supplier, |d| {
                crate::integrations::cartona::rules::delivered_by(d.as_str())
            });
            let created = o.created_at.map(stamp);
            if let Some(link) = &link {
                marketplace::upsert(
                    tx,
                    link.id,
                    delivered_by,
                    o.requires_otp,
                    created.as_deref(),
                    now,
                )?;
            }
            outcomes.push(channel_orders::import(
                tx, &workflow, config, &inbound, &order, now,
            )?);
            if link.is_none()
                && let Some(link) = links::by_external(tx, "order", SYSTEM, &o.hashed_id)?
            {
                marketplace::upsert(
                    tx,
                    link.id,
                    delivered_by,
                    o.requires_otp,
                    created.as_deref(),
                    now,
                )?;
            }
            if links::by_external(tx, "order", SYSTEM, &o.hashed_id)?.is_some() {
                stored.push(o.hashed_id.clone());
            }
        }
        Ok((outcomes, stored))
    };
    let result = if dry_run {
        store.dry_run(run)
    } else {
        store.write(run)
    };
    result.map_err(db)
}

/// One pull: every order created since the last pull minus the overlap, imported, then acknowledged.
pub async fn pull(
    client: &CartonaClient,
    ctx: &JobContext,
    dry_run: bool,
) -> Result<PullReport, JobError> {
    let cfg = &ctx.config.cartona;
    let overlap = chrono::Duration::seconds(cfg.overlap_secs.min(i64::MAX as u64) as i64);
    let watermark = ctx
        .with_store(|s| watermarks::get(s.conn(), WATERMARK).map_err(db))
        .await?
        .and_then(|w| DateTime::parse_from_rfc3339(&w).ok())
        .map(|d| d.with_timezone(&Utc));
    let to = Utc::now();
    let from = watermark.unwrap_or(to) - overlap;
    let fetched = client
        .pull_orders(Some(from), Some(to))
        .await
        .map_err(job_error)?;
    let config = ctx.config.clone();
    let (outcomes, stored) = ctx
        .with_store(move |store| {
            let mut outcomes = Vec::with_capacity(fetched.len());
            let mut stored = Vec::new();
            for chunk in fetched.chunks(IMPORT_CHUNK) {
                let (o, s) = import_all(store, &config, chunk, dry_run)?;
                outcomes.extend(o);
                stored.extend(s);
            }
            if !dry_run {
                store
                    .write(|tx| watermarks::set(tx, WATERMARK, &stamp(to), now_ms()))
                    .map_err(db)?;
            }
            Ok((outcomes, stored))
        })
        .await?;
    if dry_run {
        return Ok(PullReport {
            outcomes,
            acknowledged: 0,
        });
    }
    // Only after the import is committed: an acknowledged order is never listed again.
    for chunk in stored.chunks(cfg.batch_size.max(1)) {
        client.acknowledge_synced(chunk).await.map_err(job_error)?;
    }
    Ok(PullReport {
        outcomes,
        acknowledged: stored.len(),
    })
}

/// One order's line in a push pass (and in `sync run marketplace`).
#[derive(Debug, Clone, Serialize)]
pub struct PushItem {
    #[serde(flatten)]
    pub plan: PushPlan,
    /// `would_send`, `applied`, `failed` (may pass later: sent again by the next pass), `refused` (by
    /// Cartona's rules: not sent again until the status changes), `blocked`, `unmapped`, `already`.
    pub result: String,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PushReport {
    pub items: Vec<PushItem>,
    /// Bulk requests sent (status updates, not counting re-reads).
    pub bulk_requests: usize,
}

impl PushReport {
    /// Pushes that did not happen: failed (to be sent again) or refused.
    pub fn failed(&self) -> impl Iterator<Item = &PushItem> {
        self.items
            .iter()
            .filter(|i| i.result == "failed" || i.result == "refused")
    }
}

/// The plans of due pushes (all active orders too, for a dry run).
fn load_plans(
    store: &mut Store,
    config: &Config,
    dry_run: bool,
) -> Result<Vec<PushPlan>, JobError> {
    store
        .snapshot(|tx| {
            let workflow = statuses::load(tx)?;
            let mut plans = Vec::new();
            for (link, _) in marketplace::order_links(tx, SYSTEM, !dry_run)? {
                if let Some(plan) = plans::plan(tx, &workflow, config, &link)? {
                    plans.push(plan);
                }
            }
            Ok::<_, StoreError>(plans)
        })
        .map_err(db)
}

fn update_for(plan: &PushPlan, status: &str) -> StatusUpdate {
    let mut update = StatusUpdate::new(plan.external_id.clone(), OrderStatus::parse(status));
    if let Some(otp) = &plan.retailer_otp {
        update = update.with_otp(otp.clone());
    }
    if let Some(reason) = &plan.cancellation_reason {
        update = update.with_reason(CancellationReason::parse(reason));
    }
    update
}

/// The creation window a batch's re-read must cover (orders of unknown age: the overlap window).
fn window(batch: &[&PushPlan], overlap_secs: u64) -> (DateTime<Utc>, DateTime<Utc>) {
    let now = Utc::now();
    let created: Vec<DateTime<Utc>> = batch
        .iter()
        .map(|p| {
            p.remote_created_at
                .as_deref()
                .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
                .map(|d| d.with_timezone(&Utc))
        })
        .collect::<Option<_>>()
        .unwrap_or_else(|| vec![now - chrono::Duration::seconds(overlap_secs as i64), now]);
    let from = created.iter().min().copied().unwrap_or(now);
    let to = created.iter().max().copied().unwrap_or(now);
    (
        from - chrono::Duration::seconds(1),
        to + chrono::Duration::seconds(1),
    )
}

/// One item's outcome: applied, or why not (and whether that can pass).
type ItemResult = Result<(), (ErrorClass, String)>;

/// Sends one batch: bulk, then (when verifying) a re-read; items not seen applied are re-sent singly so a
/// refusal carries Cartona's own message. Returns hashed id → Err((class, message)) for the failures.
async fn send_batch(
    client: &CartonaClient,
    cfg: &CartonaSection,
    batch: &[&PushPlan],
) -> Result<HashMap<String, ItemResult>, CartonaError> {
    let updates: Vec<StatusUpdate> = batch
        .iter()
        .filter_map(|p| p.to_send().map(|s| update_for(p, s)))
        .collect();
    let mut results = HashMap::new();
    if !cfg.bulk_verify {
        client.update_status_bulk(&updates).await?;
        for u in &updates {
            results.insert(u.hashed_id.clone(), Ok(()));
        }
        return Ok(results);
    }
    let (from, to) = window(batch, cfg.overlap_secs);
    let items = client
        .bulk_update_status_verified_between(&updates, from, to)
        .await?;
    for (item, update) in items.iter().zip(&updates) {
        let outcome = match &item.outcome {
            ItemOutcome::Applied => Ok(()),
            ItemOutcome::NotApplied { .. } | ItemOutcome::NotSeen => {
                match client.update_status(update).await {
                    Ok(()) => Ok(()),
                    Err(e) if e.is_retryable() => return Err(e),
                    Err(e) => Err((
                        e.class(),
                        match (&item.outcome, e.message()) {
                            (ItemOutcome::NotApplied { observed }, Some(m)) => format!(
                                "cartona did not apply {} (still {observed}): {m}",
                                item.requested
                            ),
                            (_, Some(m)) => format!("cartona refused {}: {m}", item.requested),
                            _ => format!("cartona refused {}: {e}", item.requested),
                        },
                    )),
                }
            }
        };
        results.insert(item.hashed_id.clone(), outcome);
    }
    Ok(results)
}

/// One push pass over every due push (a dry run sends nothing and covers every active order too).
pub async fn push_pass(
    client: &CartonaClient,
    ctx: &JobContext,
    job_id: Option<i64>,
    dry_run: bool,
) -> Result<PushReport, JobError> {
    let config = ctx.config.clone();
    let plans = ctx
        .with_store(move |s| load_plans(s, &config, dry_run))
        .await?;
    let mut report = PushReport::default();
    let mut sendable = Vec::new();
    for plan in plans {
        let (result, message) = match (&plan.verdict, plan.to_send(), &plan.problem) {
            (Verdict::Blocked { reason, .. }, _, _) => ("blocked", Some(reason.clone())),
            (Verdict::Unmapped { reason }, _, _) => ("unmapped", Some(reason.clone())),
            (_, None, _) => ("already", None),
            (_, Some(_), Some(problem)) => ("failed", Some(problem.clone())),
            (_, Some(_), None) if dry_run => ("would_send", None),
            (_, Some(_), None) => {
                sendable.push(plan);
                continue;
            }
        };
        report.items.push(PushItem {
            plan,
            result: result.into(),
            message,
        });
    }
    if dry_run {
        return Ok(report);
    }
    let cfg = &ctx.config.cartona;
    // Mark the pushes in flight so their echo in a concurrent pull is not taken for a change.
    let marking: Vec<(i64, String)> = sendable
        .iter()
        .filter_map(|p| p.to_send().map(|s| (p.link_id, s.to_string())))
        .collect();
    ctx.with_store(move |s| {
        s.write(|tx| {
            for (link_id, status) in &marking {
                links::set_pushing(tx, *link_id, Some(status))?;
            }
            Ok::<_, StoreError>(())
        })
        .map_err(db)
    })
    .await?;
    let mut outcome: HashMap<String, ItemResult> = HashMap::new();
    let mut transport: Option<JobError> = None;
    for batch in sendable.chunks(cfg.batch_size.max(1)) {
        let refs: Vec<&PushPlan> = batch.iter().collect();
        match send_batch(client, cfg, &refs).await {
            Ok(results) => {
                report.bulk_requests += 1;
                outcome.extend(results);
            }
            Err(e) => {
                transport = Some(job_error(e));
                break;
            }
        }
    }
    for plan in sendable {
        let (result, message) = match outcome.get(&plan.external_id) {
            Some(Ok(())) => ("applied", None),
            Some(Err((ErrorClass::Transient, m))) => ("failed", Some(m.clone())),
            Some(Err((_, m))) => ("refused", Some(m.clone())),
            None => ("unsent", None),
        };
        report.items.push(PushItem {
            plan,
            result: result.into(),
            message,
        });
    }
    let items = report.items.clone();
    ctx.with_store(move |s| s.write(|tx| record(tx, &items, job_id)).map_err(db))
        .await?;
    // A status change lists the order again; acknowledge it so the next pull skips it (best effort: an
    // unacknowledged order only comes back as an echo that changes nothing).
    let applied: Vec<String> = report
        .items
        .iter()
        .filter(|i| i.result == "applied")
        .map(|i| i.plan.external_id.clone())
        .collect();
    for chunk in applied.chunks(cfg.batch_size.max(1)) {
        if let Err(e) = client.acknowledge_synced(chunk).await {
            tracing::warn!(error = %e, "acknowledging pushed cartona orders failed");
        }
    }
    if let Some(e) = transport {
        return Err(e);
    }
    Ok(report)
}

/// Writes each item's outcome to its link and the sync log.
fn record(
    tx: &rusqlite::Transaction<'_>,
    items: &[PushItem],
    job_id: Option<i64>,
) -> Result<(), StoreError> {
    let now = now_ms();
    for item in items {
        let p = &item.plan;
        let log = |reason: &str, new: Option<&str>| {
            sync_log::record(
                tx,
                &Change {
                    source: "engine",
                    entity: "order",
                    entity_key: &p.number,
                    field: "cartona.status",
                    old_value: p.remote_status.as_deref(),
                    new_value: new,
                    reason: Some(reason),
                    job_id,
                    ..Default::default()
                },
                now,
            )
        };
        match item.result.as_str() {
            "applied" => {
                let sent = p.to_send().unwrap_or_default();
                links::record_remote(tx, p.link_id, Some(sent), None, now)?;
                links::set_pushing(tx, p.link_id, None)?;
                marketplace::set_push_due(tx, p.link_id, false, now)?;
                let mut why = "pushed to cartona (bulk, verified)".to_string();
                if let Some(r) = &p.cancellation_reason {
                    why.push_str(&format!("; cancellation_reason {r}"));
                }
                if p.retailer_otp.is_some() {
                    why.push_str("; with the retailer's OTP");
                }
                log(&why, Some(sent))?;
            }
            "failed" => {
                let message = item.message.as_deref().unwrap_or("failed");
                links::set_pushing(tx, p.link_id, None)?;
                links::set_state(tx, p.link_id, LinkState::Error, Some(message))?;
                log(message, p.to_send())?;
            }
            "refused" => {
                // Cartona's rules said no: sending it again changes nothing, so it is no longer due (an
                // operator's next status change makes it due again).
                let message = item.message.as_deref().unwrap_or("refused");
                links::set_pushing(tx, p.link_id, None)?;
                links::set_state(tx, p.link_id, LinkState::Error, Some(message))?;
                marketplace::set_push_due(tx, p.link_id, false, now)?;
                log(message, p.to_send())?;
            }
            "unsent" => links::set_pushing(tx, p.link_id, None)?,
            "already" => {
                links::set_state(tx, p.link_id, LinkState::Synced, None)?;
                marketplace::set_push_due(tx, p.link_id, false, now)?;
            }
            state @ ("blocked" | "unmapped") => {
                // The rule changed its mind since the push was queued (e.g. Cartona now delivers it).
                let message = item.message.as_deref().unwrap_or(state);
                let state = match state {
                    "blocked" => LinkState::Blocked,
                    _ => LinkState::Unmapped,
                };
                links::set_state(tx, p.link_id, state, Some(message))?;
                marketplace::set_push_due(tx, p.link_id, false, now)?;
                log(message, None)?;
            }
            _ => {}
        }
    }
    Ok(())
}

type Cartona = SharedClient<CartonaClient>;

pub struct PullOrders(Cartona);
pub struct PushStatuses(Cartona);

impl PullOrders {
    pub fn new(config: &Config) -> Self {
        PullOrders(SharedClient::new(client(&config.cartona)))
    }
}

impl PushStatuses {
    pub fn new(config: &Config) -> Self {
        PushStatuses(SharedClient::new(client(&config.cartona)))
    }
}

impl JobHandler for PullOrders {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let report = pull(self.0.get()?, ctx, false).await?;
            // The job only pulls (pushes are jobs of their own): its counts are the pull's, in the words
            // every order import reports.
            let counts = PassReport::imports(&report.outcomes, false, "cartona ", "order(s)");
            crate::engine::passes::record_outcome(ctx, job.id, counts.summary()).await;
            let changed = report
                .outcomes
                .iter()
                .filter(|o| !matches!(o, ImportOutcome::Unchanged { .. }))
                .count();
            tracing::info!(
                read = report.outcomes.len(),
                changed,
                acknowledged = report.acknowledged,
                "cartona orders pulled"
            );
            Ok(())
        })
    }
}

impl JobHandler for PushStatuses {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let report = push_pass(self.0.get()?, ctx, Some(job.id), false).await?;
            let listed = |result: &str| -> Vec<String> {
                report
                    .items
                    .iter()
                    .filter(|i| i.result == result)
                    .map(|i| {
                        format!(
                            "{}: {}",
                            i.plan.number,
                            i.message.as_deref().unwrap_or(result)
                        )
                    })
                    .collect()
            };
            let (failed, refused) = (listed("failed"), listed("refused"));
            // The pushes that worked are recorded; a retry re-sends only the failed ones (still due).
            if !failed.is_empty() {
                return Err(JobError::retry(format!(
                    "{} of {} cartona status push(es) failed: {}",
                    failed.len(),
                    report.items.len(),
                    failed.join("; ")
                )));
            }
            // Refusals are final: the job ends dead with Cartona's own reasons, and they are not sent again.
            if !refused.is_empty() {
                return Err(JobError::refused(format!(
                    "{} of {} cartona status push(es) refused: {}",
                    refused.len(),
                    report.items.len(),
                    refused.join("; ")
                )));
            }
            Ok(())
        })
    }
}
