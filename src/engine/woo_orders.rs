//! The WooCommerce order flows, as job handlers: refresh one order (a webhook's hint), reconcile by polling
//! `modified_after` with an overlap window (the source of truth), and push a syncdesk status to the store
//! with a note carrying carrier and tracking. Each is idempotent, so at-least-once running is safe.

use super::handler::job_payload;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;

pub use super::handler::job_error;
use super::handler::{BoxFuture, JobContext, JobError, JobHandler, SharedClient};
use crate::app::channel_orders::{self, ChannelOrder, ImportOutcome};
use crate::config::{Config, WooAuth, WooCommerceConfig};
use crate::connectors::woo::{AuthMode, WooClient, WooConfig, WooError, WooOrder};
use crate::domain::StatusKind;
use crate::domain::time::{now_ms, to_rfc3339};
use crate::store::sync_log::{self, Change};
use crate::store::{Job, Store, links, orders, statuses, watermarks};

pub const SYSTEM: &str = "woocommerce";
const WATERMARK: &str = "woocommerce.orders.modified_after";
/// Orders imported per write transaction during a poll, so a first big import never holds the lock long.
const IMPORT_CHUNK: usize = 200;

/// Builds the API client from config.
pub fn client(cfg: &WooCommerceConfig) -> Result<WooClient, WooError> {
    let mut c = WooConfig::new(
        cfg.url.trim(),
        cfg.consumer_key.expose(),
        cfg.consumer_secret.expose(),
    );
    c.auth = match cfg.auth {
        WooAuth::Auto => AuthMode::Auto,
        WooAuth::Basic => AuthMode::Basic,
        WooAuth::Oauth => AuthMode::OAuth,
        WooAuth::Query => AuthMode::QueryString,
    };
    c.timeout = Duration::from_secs(cfg.timeout_secs.max(1));
    c.max_attempts = cfg.max_attempts.max(1);
    // 100 SKUs per lookup: a stock pass reads N SKUs in ⌈N/100⌉ requests (URLs stay around 2 KB).
    c.sku_chunk = 100;
    WooClient::new(c)
}

/// A WooCommerce order reduced to what syncdesk keeps.
pub fn channel_order(o: &WooOrder) -> ChannelOrder {
    let name = |a: &crate::connectors::woo::WooAddress| {
        let full = format!("{} {}", a.first_name.trim(), a.last_name.trim())
            .trim()
            .to_string();
        if !full.is_empty() {
            Some(full)
        } else {
            Some(a.company.trim().to_string()).filter(|c| !c.is_empty())
        }
    };
    ChannelOrder {
        system: SYSTEM.into(),
        external_id: o.id.to_string(),
        number: o.number.clone(),
        customer: name(&o.billing).or_else(|| name(&o.shipping)),
        remote_status: o.status.clone(),
        remote_version: o
            .date_modified_gmt
            .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true)),
        lines: o
            .line_items
            .iter()
            .filter(|l| l.quantity > 0)
            .map(|l| {
                let sku = if l.sku.trim().is_empty() {
                    // Stores allow empty SKUs; keep the line traceable to its product.
                    format!(
                        "woo-product-{}",
                        if l.variation_id > 0 {
                            l.variation_id
                        } else {
                            l.product_id
                        }
                    )
                } else {
                    l.sku.trim().to_string()
                };
                (
                    sku,
                    Some(l.name.clone()).filter(|n| !n.is_empty()),
                    l.quantity,
                )
            })
            .collect(),
    }
}

/// Imports orders in one transaction (really, or as a dry run rolled back at the end).
pub fn import_all(
    store: &mut Store,
    config: &Config,
    orders: &[ChannelOrder],
    dry_run: bool,
) -> Result<Vec<ImportOutcome>, JobError> {
    let run = |tx: &rusqlite::Transaction<'_>| -> Result<Vec<ImportOutcome>, crate::app::AppError> {
        let workflow = statuses::load(tx)?;
        let inbound = |remote: &str| config.woocommerce.inbound(remote).map(String::from);
        let now = now_ms();
        orders
            .iter()
            .map(|o| channel_orders::import(tx, &workflow, config, &inbound, o, now))
            .collect()
    };
    let result = if dry_run {
        store.dry_run(run)
    } else {
        store.write(run)
    };
    result.map_err(|e| JobError::retry(e.to_string()))
}

/// One reconciliation pass: everything modified since the watermark minus the overlap.
pub async fn reconcile(
    client: &WooClient,
    ctx: &JobContext,
    dry_run: bool,
) -> Result<Vec<ImportOutcome>, JobError> {
    let overlap = chrono::Duration::seconds(ctx.config.woocommerce.overlap_secs as i64);
    let watermark = ctx
        .with_store(|s| {
            watermarks::get(s.conn(), WATERMARK).map_err(|e| JobError::retry(e.to_string()))
        })
        .await?
        .and_then(|w| DateTime::parse_from_rfc3339(&w).ok())
        .map(|d| d.with_timezone(&Utc));
    let after = watermark.map(|w| w - overlap);
    let fetched = client
        .list_orders_modified_after(after)
        .await
        .map_err(job_error)?;
    let newest = fetched.iter().filter_map(|o| o.date_modified_gmt).max();
    let orders: Vec<ChannelOrder> = fetched.iter().map(channel_order).collect();
    let config = ctx.config.clone();
    ctx.with_store(move |store| {
        let mut outcomes = Vec::with_capacity(orders.len());
        for chunk in orders.chunks(IMPORT_CHUNK) {
            outcomes.extend(import_all(store, &config, chunk, dry_run)?);
        }
        if !dry_run && let Some(newest) = newest.filter(|n| Some(*n) > watermark) {
            let value = newest.to_rfc3339_opts(SecondsFormat::Secs, true);
            store
                .write(|tx| watermarks::set(tx, WATERMARK, &value, now_ms()))
                .map_err(|e| JobError::retry(e.to_string()))?;
        }
        Ok(outcomes)
    })
    .await
}

type Woo = SharedClient<WooClient>;

pub struct RefreshOrder(Woo);
pub struct ReconcileOrders(Woo);
pub struct PushStatus(Woo);

impl RefreshOrder {
    pub fn new(config: &Config) -> Self {
        RefreshOrder(SharedClient::new(client(&config.woocommerce)))
    }
}
impl ReconcileOrders {
    pub fn new(config: &Config) -> Self {
        ReconcileOrders(SharedClient::new(client(&config.woocommerce)))
    }
}
impl PushStatus {
    pub fn new(config: &Config) -> Self {
        PushStatus(SharedClient::new(client(&config.woocommerce)))
    }
}

#[derive(Deserialize)]
struct RefreshPayload {
    id: u64,
}

impl JobHandler for RefreshOrder {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let p: RefreshPayload = job_payload(job)?;
            match self.0.get()?.get_order(p.id).await {
                Ok(order) => {
                    let order = channel_order(&order);
                    let config = ctx.config.clone();
                    ctx.with_store(move |s| import_all(s, &config, &[order], false))
                        .await?;
                    Ok(())
                }
                Err(WooError::Api { status: 404, .. }) => {
                    let ext = p.id.to_string();
                    ctx.with_store(move |s| {
                        s.write(|tx| {
                            if let Some(link) = links::by_external(tx, "order", SYSTEM, &ext)? {
                                links::set_state(
                                    tx,
                                    link.id,
                                    "error",
                                    Some("the order no longer exists in woocommerce"),
                                )?;
                            }
                            Ok::<_, crate::store::StoreError>(())
                        })
                        .map_err(|e| JobError::retry(e.to_string()))
                    })
                    .await
                }
                Err(e) => Err(job_error(e)),
            }
        })
    }
}

impl JobHandler for ReconcileOrders {
    fn run<'a>(
        &'a self,
        _job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let outcomes = reconcile(self.0.get()?, ctx, false).await?;
            let changed = outcomes
                .iter()
                .filter(|o| !matches!(o, ImportOutcome::Unchanged { .. }))
                .count();
            tracing::info!(
                read = outcomes.len(),
                changed,
                "woocommerce orders reconciled"
            );
            Ok(())
        })
    }
}

#[derive(Deserialize, Clone, Copy)]
struct PushPayload {
    order_id: i64,
    link_id: i64,
}

/// What a push must achieve, read from the store when the job runs (so it always pushes the latest state).
struct PushPlan {
    external_id: u64,
    number: String,
    remote: String,
    note: Option<(String, bool)>,
}

impl JobHandler for PushStatus {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let p: PushPayload = job_payload(job)?;
            let client = self.0.get()?;
            let config = ctx.config.clone();
            let plan = ctx.with_store(move |s| plan_push(s, &config, &p)).await?;
            let Some(plan) = plan else { return Ok(()) };
            let outcome = push(client, &plan).await;
            let (link_id, job_id) = (p.link_id, job.id);
            let error = outcome.error.clone();
            ctx.with_store(move |s| {
                s.write(|tx| {
                    let now = now_ms();
                    let before = links::get(tx, link_id)?.and_then(|l| l.remote_status);
                    if outcome.status_reached {
                        // Recorded even if the note failed, so the store's echo is never taken for a new change.
                        links::record_remote(
                            tx,
                            link_id,
                            Some(&plan.remote),
                            outcome.stamp.as_deref(),
                            now,
                        )?;
                    }
                    links::set_pushing(tx, link_id, None)?;
                    match &outcome.error {
                        Some(e) => links::set_state(tx, link_id, "error", Some(&e.message))?,
                        None => {
                            sync_log::record(
                                tx,
                                &Change {
                                    source: "engine",
                                    entity: "order",
                                    entity_key: &plan.number,
                                    field: "woocommerce.status",
                                    old_value: before.as_deref(),
                                    new_value: Some(&plan.remote),
                                    reason: Some("pushed to woocommerce"),
                                    job_id: Some(job_id),
                                    ..Default::default()
                                },
                                now,
                            )?;
                        }
                    }
                    Ok::<_, crate::store::StoreError>(())
                })
                .map_err(|e| JobError::retry(e.to_string()))
            })
            .await?;
            error.map_or(Ok(()), Err)
        })
    }
}

/// Decides what to push; `None` when there is nothing to do. Marks the push in progress on the link.
fn plan_push(
    store: &mut Store,
    config: &Config,
    p: &PushPayload,
) -> Result<Option<PushPlan>, JobError> {
    let db = |e: crate::store::StoreError| JobError::retry(e.to_string());
    store
        .write(|tx| {
            let Some(link) = links::get(tx, p.link_id)? else {
                return Ok(None);
            };
            let Some(order) = orders::get(tx, p.order_id)? else {
                return Ok(None);
            };
            let workflow = statuses::load(tx)?;
            let Some(status) = workflow.get(order.status_id) else {
                return Ok(None);
            };
            let Some(remote) = config.woocommerce.outbound(&status.name) else {
                return Ok(None);
            };
            let Ok(external_id) = link.external_id.parse::<u64>() else {
                return Ok(None);
            };
            let note = match status.kind {
                StatusKind::Shipped | StatusKind::Completed => {
                    orders::shipments(tx, order.id)?.last().map(|s| {
                        (
                            shipping_note(
                                &s.source,
                                s.carrier.as_deref(),
                                s.tracking.as_deref(),
                                s.shipped_at,
                            ),
                            true,
                        )
                    })
                }
                StatusKind::Cancelled => orders::history(tx, order.id)?
                    .last()
                    .and_then(|h| h.note.clone())
                    .map(|reason| (format!("Cancelled in syncdesk: {reason}"), false)),
                _ => None,
            };
            links::set_pushing(tx, link.id, Some(remote))?;
            Ok(Some(PushPlan {
                external_id,
                number: order.number,
                remote: remote.to_string(),
                note,
            }))
        })
        .map_err(db)
}

/// The note a customer sees when the order ships; it names the back office when the shipment came from one.
pub fn shipping_note(
    source: &str,
    carrier: Option<&str>,
    tracking: Option<&str>,
    shipped_at: i64,
) -> String {
    let mut parts = vec![];
    if let Some(c) = carrier {
        parts.push(c.to_string());
    }
    if let Some(t) = tracking {
        parts.push(format!("tracking {t}"));
    }
    parts.push(to_rfc3339(shipped_at)[..10].to_string());
    let from = match source {
        "counterpoint" => " from Counterpoint",
        _ => "",
    };
    format!("Shipped{from} — {}", parts.join(", "))
}

/// How far a push got.
struct PushOutcome {
    status_reached: bool,
    /// The store's modification stamp after the status write.
    stamp: Option<String>,
    error: Option<JobError>,
}

/// Sets the status unless already there, then adds the note unless an identical one exists (so a retry
/// never adds it twice).
async fn push(client: &WooClient, plan: &PushPlan) -> PushOutcome {
    let stamp = |o: &WooOrder| {
        o.date_modified_gmt
            .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
    };
    let failed = |reached, stamp, e| PushOutcome {
        status_reached: reached,
        stamp,
        error: Some(job_error(e)),
    };
    let current = match client.get_order(plan.external_id).await {
        Ok(o) => o,
        Err(e) => return failed(false, None, e),
    };
    let mut version = stamp(&current);
    if current.status != plan.remote {
        match client
            .update_order_status(plan.external_id, &plan.remote)
            .await
        {
            Ok(o) => version = stamp(&o),
            Err(e) => return failed(false, None, e),
        }
    }
    if let Some((note, for_customer)) = &plan.note {
        let notes = match client.list_order_notes(plan.external_id).await {
            Ok(n) => n,
            Err(e) => return failed(true, version, e),
        };
        if !notes.iter().any(|n| n.note.trim() == note.trim())
            && let Err(e) = client
                .add_order_note(plan.external_id, note, *for_customer)
                .await
        {
            return failed(true, version, e);
        }
    }
    PushOutcome {
        status_reached: true,
        stamp: version,
        error: None,
    }
}
