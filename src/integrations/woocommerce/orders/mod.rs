//! The WooCommerce order flows, as job handlers: refresh one order (a webhook's hint), reconcile by polling
//! the orders changed since a watermark with an overlap window (the source of truth), and push a syncdesk
//! status to the store with a note listing every parcel. Each is safe to run more than once:
//! - a poll reads each window in id order, so no order can hide between pages, and the watermark only
//!   moves after every order read has been stored;
//! - a status push is a compare-and-set against the store status syncdesk last saw: if the store moved
//!   since (the shop cancelled, say), nothing is sent and the order waits for an operator;
//! - a note carries a reference, and is looked for before it is ever sent again.

use crate::engine::job_payload;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;

use crate::app::channel_orders::{self, ChannelOrder, ImportOutcome};
use crate::config::{Config, ImportSince, WooAuth, WooCommerceConfig};
use crate::domain::LinkState;
use crate::domain::time::{Millis, now_ms};
pub use crate::engine::job_error;

mod push;
use crate::engine::{BoxFuture, JobContext, JobError, JobHandler, SharedClient};
use crate::integrations::woocommerce::client::{
    AuthMode, OrderWindow, WooAddress, WooClient, WooConfig, WooError, WooOrder, trust,
};
use crate::store::{Job, Store, inventory, links, statuses, watermarks};
pub use push::{PushStatus, shipping_note};

pub const SYSTEM: &str = "woocommerce";
const WATERMARK: &str = "woocommerce.orders.modified_after";
/// Orders imported per write transaction during a poll, so a first big import never holds the lock long.
const IMPORT_CHUNK: usize = 200;
/// How many times a push sends a note whose answer keeps getting lost, looking for it before each resend.
const NOTE_SENDS: usize = 3;

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
    c.trust = trust::StoreTrust {
        ca_file: Some(cfg.ca_file.trim())
            .filter(|p| !p.is_empty())
            .map(Into::into),
        pinned_sha256: Some(cfg.pinned_cert.trim())
            .filter(|p| !p.is_empty())
            .map(trust::parse_fingerprint)
            .transpose()
            .map_err(|e| WooError::Config(format!("woocommerce.pinned_cert: {e}")))?,
    };
    WooClient::new(c)
}

/// "Ann Lee" from an address, or its company when it names no person.
fn person(a: &WooAddress) -> Option<String> {
    let full = format!("{} {}", a.first_name.trim(), a.last_name.trim())
        .trim()
        .to_string();
    if !full.is_empty() {
        Some(full)
    } else {
        Some(a.company.trim().to_string()).filter(|c| !c.is_empty())
    }
}

/// The shipping address on one line, or `None` when the order ships nowhere (virtual goods).
fn ship_to(a: &WooAddress) -> Option<String> {
    let city = format!("{} {}", a.postcode.trim(), a.city.trim())
        .trim()
        .to_string();
    let street = [a.address_1.trim(), a.address_2.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let place = [street, city, a.state.trim().into(), a.country.trim().into()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>();
    if place.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = person(a).into_iter().collect();
    parts.extend(place);
    Some(parts.join(", "))
}

/// A WooCommerce order reduced to what syncdesk keeps. `variation_skus` holds the SKU of every variation
/// its lines name (see [`variation_skus`]): a variation's line carries its PARENT's SKU when the
/// variation has none, so the line's own `sku` is never trusted for variations.
pub fn channel_order(
    o: &WooOrder,
    variation_skus: &HashMap<u64, String>,
    read_at: Millis,
    history: bool,
) -> ChannelOrder {
    ChannelOrder {
        system: SYSTEM.into(),
        external_id: o.id.to_string(),
        number: o.number.clone(),
        customer: person(&o.billing).or_else(|| person(&o.shipping)),
        ship_to: ship_to(&o.shipping),
        remote_status: o.status.clone(),
        remote_version: o
            .date_modified_gmt
            .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true)),
        lines: o
            .line_items
            .iter()
            .filter(|l| l.quantity > 0)
            .map(|l| {
                let sku = if l.variation_id > 0 {
                    variation_skus
                        .get(&l.variation_id)
                        .cloned()
                        .unwrap_or_else(|| unnamed_variation(l.variation_id))
                } else if l.sku.trim().is_empty() {
                    // Stores allow empty SKUs (and deleted products leave lines with product 0).
                    format!("woo-product-{}", l.product_id)
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
        read_at,
        history,
    }
}

/// How a variation without a SKU of its own is named: traceable, and never mistaken for its parent.
fn unnamed_variation(id: u64) -> String {
    format!("woo-variation-{id}")
}

/// The SKU of every variation the orders' lines name. A store shows a variation without a SKU of its own
/// with its PARENT's SKU (on the order line and when the variation is read; SKUs are unique, so a variation
/// can never really share its parent's), so a line's SKU equal to its parent's means "no SKU". Aligned
/// variations come from the SKU alignment; the others need their parent read (one request per parent).
pub async fn variation_skus(
    client: &WooClient,
    ctx: &JobContext,
    orders: &[WooOrder],
) -> Result<HashMap<u64, String>, JobError> {
    // variation id → (parent id, the SKU its line carries)
    let wanted: BTreeMap<u64, (u64, String)> = orders
        .iter()
        .flat_map(|o| o.line_items.iter())
        .filter(|l| l.variation_id > 0)
        .map(|l| (l.variation_id, (l.product_id, l.sku.trim().to_string())))
        .collect();
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = wanted.keys().map(|id| *id as i64).collect();
    let known = ctx
        .with_store(move |s| {
            inventory::store_skus_for_products(s.conn(), &ids)
                .map_err(|e| JobError::retry(e.to_string()))
        })
        .await?;
    let mut skus: HashMap<u64, String> = known
        .into_iter()
        .map(|(id, sku)| (id as u64, sku))
        .collect();
    let mut parent_skus: HashMap<u64, Option<String>> = HashMap::new();
    for (variation, (parent, line_sku)) in wanted {
        if skus.contains_key(&variation) {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = parent_skus.entry(parent) {
            slot.insert(match client.get_product(parent).await {
                Ok(p) => Some(p.sku.trim().to_string()),
                // A deleted parent: its SKU cannot be told apart from the variation's.
                Err(WooError::Api { status: 404, .. }) => None,
                Err(e) => return Err(job_error(e)),
            });
        }
        let own = match parent_skus.get(&parent).cloned().flatten() {
            Some(parent_sku)
                if !line_sku.is_empty() && !line_sku.eq_ignore_ascii_case(&parent_sku) =>
            {
                line_sku
            }
            _ => unnamed_variation(variation),
        };
        skus.insert(variation, own);
    }
    Ok(skus)
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

/// The store statuses that come in as a status still open in syncdesk: a first import reads all of them,
/// however old (an order waiting for payment since spring is still waiting).
fn open_remote_statuses(store: &Store, config: &Config) -> Result<Vec<String>, JobError> {
    let workflow = statuses::load(store.conn()).map_err(|e| JobError::retry(e.to_string()))?;
    Ok(config
        .woocommerce
        .status_in
        .iter()
        .filter(|(_, local)| workflow.by_name(local).is_ok_and(|s| !s.kind.is_final()))
        .map(|(remote, _)| remote.clone())
        .collect())
}

/// What one poll read: the windows it asked for, whether it is a first (history) import, and the
/// orders (each once).
struct PollRead {
    orders: Vec<WooOrder>,
    history: bool,
    read_at: Millis,
    requests: usize,
}

/// Reads the windows of one poll: since the watermark (minus the overlap) when there is one; otherwise
/// the first import's bounds (`since`, else `[woocommerce] import_since`).
async fn read_changed(
    client: &WooClient,
    ctx: &JobContext,
    watermark: Option<DateTime<Utc>>,
    since: Option<ImportSince>,
) -> Result<PollRead, JobError> {
    let overlap = chrono::Duration::seconds(ctx.config.woocommerce.overlap_secs as i64);
    let counter = crate::integrations::woocommerce::client::RequestCounter::default();
    let client = client.counting(&counter);
    let read_at = now_ms();
    let (windows, history) = match (watermark, since) {
        (Some(w), None) => (
            vec![OrderWindow {
                modified_after: Some(w - overlap),
                statuses: Vec::new(),
            }],
            false,
        ),
        (_, since) => {
            let bound = since.unwrap_or_else(|| ctx.config.woocommerce.import_since());
            let windows = match bound.cutoff(Utc::now()) {
                None => vec![OrderWindow::default()],
                Some(cutoff) => {
                    let config = ctx.config.clone();
                    let open = ctx
                        .with_store(move |s| open_remote_statuses(s, &config))
                        .await?;
                    vec![
                        OrderWindow {
                            modified_after: None,
                            statuses: open,
                        },
                        OrderWindow {
                            modified_after: Some(cutoff),
                            statuses: Vec::new(),
                        },
                    ]
                }
            };
            (windows, true)
        }
    };
    let mut by_id: BTreeMap<u64, WooOrder> = BTreeMap::new();
    for window in &windows {
        // No status maps to an open one: an unbounded "open orders" window would read everything.
        if window.statuses.is_empty() && window.modified_after.is_none() && windows.len() > 1 {
            continue;
        }
        let read = client.list_orders_in(window).await.map_err(job_error)?;
        for order in read.orders {
            let newer = by_id
                .get(&order.id)
                .is_none_or(|held| held.date_modified_gmt <= order.date_modified_gmt);
            if newer {
                by_id.insert(order.id, order);
            }
        }
    }
    Ok(PollRead {
        orders: by_id.into_values().collect(),
        history,
        read_at,
        requests: counter.get(),
    })
}

/// One reconciliation pass: everything modified since the watermark minus the overlap (or, the first
/// time, what `[woocommerce] import_since` bounds).
pub async fn reconcile(
    client: &WooClient,
    ctx: &JobContext,
    dry_run: bool,
) -> Result<Vec<ImportOutcome>, JobError> {
    Ok(poll(client, ctx, None, dry_run).await?.outcomes)
}

/// What a poll did.
pub struct PollReport {
    pub outcomes: Vec<ImportOutcome>,
    /// HTTP requests really sent (pages, re-reads, variation lookups, retries).
    pub requests: usize,
}

/// A poll; `since` reads that much history instead of what changed since the watermark (history on
/// request: `sync run orders --since`).
pub async fn poll(
    client: &WooClient,
    ctx: &JobContext,
    since: Option<ImportSince>,
    dry_run: bool,
) -> Result<PollReport, JobError> {
    let watermark = ctx
        .with_store(|s| {
            watermarks::get(s.conn(), WATERMARK).map_err(|e| JobError::retry(e.to_string()))
        })
        .await?
        .and_then(|w| DateTime::parse_from_rfc3339(&w).ok())
        .map(|d| d.with_timezone(&Utc));
    let read = read_changed(client, ctx, watermark, since).await?;
    let counter = crate::integrations::woocommerce::client::RequestCounter::default();
    let variations = variation_skus(&client.counting(&counter), ctx, &read.orders).await?;
    // The watermark may only pass orders that are stored: it moves after the last chunk is.
    let newest = read.orders.iter().filter_map(|o| o.date_modified_gmt).max();
    let orders: Vec<ChannelOrder> = read
        .orders
        .iter()
        .map(|o| channel_order(o, &variations, read.read_at, read.history))
        .collect();
    let config = ctx.config.clone();
    let outcomes = ctx
        .with_store(move |store| {
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
        .await?;
    Ok(PollReport {
        outcomes,
        requests: read.requests + counter.get(),
    })
}

pub(super) type Woo = SharedClient<WooClient>;

pub struct RefreshOrder(Woo);
pub struct ReconcileOrders(Woo);

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

#[derive(Deserialize)]
struct RefreshPayload {
    id: u64,
}

/// Re-reads one order and imports it.
pub async fn refresh(client: &WooClient, ctx: &JobContext, id: u64) -> Result<(), JobError> {
    let read_at = now_ms();
    match client.get_order(id).await {
        Ok(order) => {
            let orders = [order];
            let variations = variation_skus(client, ctx, &orders).await?;
            let order = channel_order(&orders[0], &variations, read_at, false);
            let config = ctx.config.clone();
            ctx.with_store(move |s| import_all(s, &config, &[order], false))
                .await?;
            Ok(())
        }
        Err(WooError::Api { status: 404, .. }) => {
            let ext = id.to_string();
            ctx.with_store(move |s| {
                s.write(|tx| {
                    if let Some(link) = links::by_external(tx, "order", SYSTEM, &ext)? {
                        links::set_state(
                            tx,
                            link.id,
                            LinkState::Error,
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
}

impl JobHandler for RefreshOrder {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let p: RefreshPayload = job_payload(job)?;
            refresh(self.0.get()?, ctx, p.id).await
        })
    }
}

impl JobHandler for ReconcileOrders {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let report = poll(self.0.get()?, ctx, None, false).await?;
            let summary = super::poll_report(&report, false);
            crate::engine::passes::record_outcome(ctx, job.id, summary.summary()).await;
            let changed = report
                .outcomes
                .iter()
                .filter(|o| !matches!(o, ImportOutcome::Unchanged { .. }))
                .count();
            tracing::info!(
                read = report.outcomes.len(),
                changed,
                requests = report.requests,
                "woocommerce orders reconciled"
            );
            Ok(())
        })
    }
}
