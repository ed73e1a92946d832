//! The Metakocka ERP flows, as job handlers. `metakocka.sync_order` brings one order's sales order in line
//! with the order as it is when the job runs: create it (after checking the warehouse's free stock; the
//! sales order reserves it), then send status changes, the shipment (tracking, carrier, shipped date: the
//! reservation is consumed) or the cancellation (reason: the reservation is released). Every change is
//! checked against our workflow and the company's status mapping before anything is sent.
//! `metakocka.pull_orders` imports sales orders entered in Metakocka through the channel import.
//!
//! A `put_document` that went unanswered may have created the order: the link then says `sending`, and the
//! next attempt looks the order up by `buyer_order` before it would create anything.

use crate::domain::LinkState;
use crate::engine::job_payload;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::SYSTEM;
use super::outbound::{PENDING_PREFIX, is_pending};
use crate::app::channel_orders::{self, ChannelOrder, ImportOutcome};
use crate::app::{AppError, Result as AppResult};
use crate::config::{Config, MetakockaSection};
use crate::domain::time::now_ms;
use crate::domain::{Status, StatusKind, Workflow};
use crate::engine::{BoxFuture, JobContext, JobError, JobHandler, SharedClient, job_error};
use crate::integrations::metakocka::client::{
    DocRef, DocumentUpdate, MetakockaClient, MetakockaConfig, MetakockaError, MkDocument, NewLine,
    NewSalesOrder, Partner,
};
use crate::store::sync_log::{self, Change};
use crate::store::{Job, StoreError, inventory, links, orders, statuses, watermarks};

const SALES_ORDER: &str = "sales_order";
/// The highest mk_id the pull has considered: unlinked documents above it are new.
const WATERMARK: &str = "metakocka.orders.mk_id";

/// Builds the API client from config.
pub fn client(cfg: &MetakockaSection) -> Result<MetakockaClient, MetakockaError> {
    let mut c = MetakockaConfig::new(
        cfg.base_url.trim(),
        cfg.company_id.trim(),
        cfg.secret_key.expose(),
    );
    c.timeout = std::time::Duration::from_secs(cfg.timeout_secs.max(1));
    c.max_attempts = cfg.max_attempts.max(1);
    MetakockaClient::new(c)
}

fn db(e: impl std::fmt::Display) -> JobError {
    JobError::retry(e.to_string())
}

/// A connector error with what we were doing, keeping Metakocka's own `opr_code`/`opr_desc` text.
fn failed(context: &str, e: MetakockaError) -> JobError {
    let mut error = job_error(e);
    error.message = format!("{context}: {}", error.message);
    error
}

type Mk = SharedClient<MetakockaClient>;

/// Per-order serialisation: two jobs for one order (a running one and its successor) never interleave.
#[derive(Default)]
struct OrderLocks(Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>);

impl OrderLocks {
    fn get(&self, order_id: i64) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, lock| Arc::strong_count(lock) > 1);
        map.entry(order_id).or_default().clone()
    }
}

pub struct SyncOrder {
    client: Mk,
    locks: OrderLocks,
}
pub struct PullOrders(Mk);

impl SyncOrder {
    pub fn new(config: &Config) -> Self {
        SyncOrder {
            client: SharedClient::new(client(&config.metakocka)),
            locks: OrderLocks::default(),
        }
    }
}
impl PullOrders {
    pub fn new(config: &Config) -> Self {
        PullOrders(SharedClient::new(client(&config.metakocka)))
    }
}

/// Everything the decision needs about one order, read in one transaction.
#[derive(Clone)]
struct OrderView {
    id: i64,
    number: String,
    customer: Option<String>,
    status: Status,
    link: Option<links::Link>,
    /// (Metakocka product code, quantity), merged per code.
    lines: Vec<(String, i64)>,
    shipments: Vec<orders::Shipment>,
    /// The note of the move into the current status (a cancellation's reason).
    last_note: Option<String>,
}

/// The next thing to do for an order.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// The sales order already says what the order says.
    Done,
    /// A `put_document` may have gone through unanswered: look it up by `buyer_order` first; create it when
    /// absent and `create` says so.
    LookUp {
        create: bool,
    },
    Create,
    Update {
        link_id: i64,
        doc: DocRef,
        code: String,
        update: DocumentUpdate,
        /// What the status does to the reservation, for the sync log.
        effect: Option<&'static str>,
    },
    /// Not sent, and why (the link says it; the job fails so it shows among errors and can be retried).
    Refuse(String),
    /// Nothing to send for this status (it has no mapping); recorded on the link.
    Unmapped(String),
}

fn load_view(
    conn: &rusqlite::Connection,
    workflow: &Workflow,
    order_id: i64,
) -> Result<Option<OrderView>, StoreError> {
    let Some(order) = orders::get(conn, order_id)? else {
        return Ok(None);
    };
    let Some(status) = workflow.get(order.status_id).cloned() else {
        return Ok(None);
    };
    let link = links::for_local(conn, "order", order_id)?
        .into_iter()
        .find(|l| l.system == SYSTEM);
    let mut merged: BTreeMap<String, i64> = BTreeMap::new();
    for line in orders::lines(conn, order_id)? {
        *merged.entry(product_code(conn, &line.sku)).or_default() += line.quantity;
    }
    let last_note = orders::history(conn, order_id)?
        .last()
        .and_then(|h| h.note.clone());
    Ok(Some(OrderView {
        id: order.id,
        number: order.number,
        customer: order.customer,
        status,
        link,
        lines: merged.into_iter().collect(),
        shipments: orders::shipments(conn, order_id)?,
        last_note,
    }))
}

/// The store's SKU becomes the back office's product code through the alignment, when aligned.
fn product_code(conn: &rusqlite::Connection, sku: &str) -> String {
    inventory::find(conn, sku)
        .ok()
        .flatten()
        .filter(|a| a.store_sku == sku)
        .map_or(sku.to_string(), |a| a.pos_sku)
}

/// Decides the next step from the order, its link and the mapping; pure, so every rule is in one place.
fn decide(view: &OrderView, mk: &MetakockaSection, workflow: &Workflow) -> Step {
    let kind = view.status.kind;
    let shipping = matches!(kind, StatusKind::Shipped | StatusKind::Completed);
    let link = match &view.link {
        Some(link) if !is_pending(link) => link,
        pending => {
            // Not there yet. A cancelled order is not created; anything else that was sent once is.
            let create = kind != StatusKind::Cancelled;
            return match pending {
                Some(link) if link.sync_state == LinkState::Sending => Step::LookUp { create },
                _ if create => Step::Create,
                _ => Step::Done,
            };
        }
    };
    let Some(code) = mk.outbound(&view.status.name) else {
        return Step::Unmapped(format!(
            "status {} has no metakocka mapping (metakocka.status_out); nothing sent",
            view.status.name
        ));
    };
    let remote = link.remote_status.as_deref();
    if remote == Some(code) && !shipping {
        return Step::Done;
    }
    // The document's own state must allow the move: nothing leaves a final status, a shipped order does
    // not go back to an open one.
    if let Some(current) = remote.filter(|r| *r != code)
        && let Some(there) = mk.inbound(current).and_then(|n| workflow.by_name(n).ok())
        && (there.kind.is_final() || (there.kind == StatusKind::Shipped && !shipping))
    {
        return Step::Refuse(format!(
            "Metakocka sales order {} is '{current}' ({}); moving it to '{code}' ({}) is not allowed — nothing sent",
            link.external_id, there.name, view.status.name
        ));
    }
    let mut update = DocumentUpdate {
        status_code: Some(code.to_string()),
        ..DocumentUpdate::default()
    };
    let effect = match kind {
        StatusKind::Shipped | StatusKind::Completed => {
            let shipped_at = view
                .shipments
                .iter()
                .map(|s| s.shipped_at)
                .max()
                .unwrap_or_else(now_ms);
            update.shipped_date = Some(date_of(shipped_at));
            let tracking: Vec<&str> = view
                .shipments
                .iter()
                .filter_map(|s| s.tracking.as_deref())
                .collect();
            update.tracking_code = Some(tracking.join(", ")).filter(|t| !t.is_empty());
            update.delivery_type = view.shipments.iter().rev().find_map(|s| s.carrier.clone());
            update.notes = Some(shipping_notes(&view.shipments));
            Some("reservation consumed (shipped)")
        }
        StatusKind::Cancelled => {
            let reason = view.last_note.as_deref().unwrap_or("no reason given");
            update.notes = Some(format!("Cancelled in syncdesk: {reason}"));
            Some("reservation released (cancelled)")
        }
        _ => None,
    };
    Step::Update {
        link_id: link.id,
        doc: DocRef::MkId(link.external_id.clone()),
        code: code.to_string(),
        update,
        effect,
    }
}

fn date_of(ms: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .date_naive()
}

/// The document's notes for a shipment: what was recorded in syncdesk, one shipment per line.
fn shipping_notes(shipments: &[orders::Shipment]) -> String {
    if shipments.is_empty() {
        return "Shipped in syncdesk".into();
    }
    shipments
        .iter()
        .map(|s| {
            let mut parts = vec![format!("Shipped {}", date_of(s.shipped_at))];
            parts.extend(s.carrier.clone());
            parts.extend(s.tracking.as_ref().map(|t| format!("tracking {t}")));
            parts.extend(s.notes.clone());
            parts.join(", ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Deserialize)]
struct SyncPayload {
    order_id: i64,
}

impl JobHandler for SyncOrder {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let p: SyncPayload = job_payload(job)?;
            let lock = self.locks.get(p.order_id);
            let _held = lock.lock().await;
            sync_order(self.client.get()?, ctx, p.order_id, Some(job.id)).await
        })
    }
}

/// Brings one order's sales order in line with the order (at most a few steps: look up, create, update).
pub async fn sync_order(
    client: &MetakockaClient,
    ctx: &JobContext,
    order_id: i64,
    job_id: Option<i64>,
) -> Result<(), JobError> {
    // Each round does one step; after a lookup or a creation the next round sends what is still missing.
    for _ in 0..4 {
        let config = ctx.config.clone();
        let planned = ctx
            .with_store(move |s| {
                let conn = s.conn();
                let workflow = statuses::load(conn).map_err(db)?;
                Ok(load_view(conn, &workflow, order_id)
                    .map_err(db)?
                    .map(|view| {
                        let step = decide(&view, &config.metakocka, &workflow);
                        (view, step)
                    }))
            })
            .await?;
        let Some((view, step)) = planned else {
            return Ok(());
        };
        match step {
            Step::Done => return Ok(()),
            Step::Unmapped(reason) => {
                record_state(ctx, &view, LinkState::Unmapped, &reason, job_id).await?;
                return Ok(());
            }
            Step::Refuse(reason) => {
                record_state(ctx, &view, LinkState::Refused, &reason, job_id).await?;
                return Err(JobError::permanent(reason));
            }
            Step::LookUp { create: also } => match look_up(client, &view.number).await? {
                Some(doc) => {
                    let reason =
                        "found by buyer_order after an unanswered put_document; not created again";
                    adopt(ctx, &view, doc, reason, job_id).await?;
                }
                None if also => create(client, ctx, &view, job_id).await?,
                None => {
                    let reason = format!(
                        "the order is {}; it was never created in Metakocka",
                        view.status.name
                    );
                    record_state(ctx, &view, LinkState::NotSent, &reason, job_id).await?;
                    return Ok(());
                }
            },
            Step::Create => create(client, ctx, &view, job_id).await?,
            Step::Update {
                link_id,
                doc,
                code,
                update,
                effect,
            } => {
                let sent = Sent {
                    link_id,
                    code,
                    effect,
                    tracking: update.tracking_code.clone(),
                };
                push_update(client, ctx, &view, &doc, &update, sent, job_id).await?;
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The sales order syncdesk created for `number`, if Metakocka has one (search, then exact match).
async fn look_up(client: &MetakockaClient, number: &str) -> Result<Option<MkDocument>, JobError> {
    let found = client
        .search(SALES_ORDER, Some(number))
        .await
        .map_err(|e| failed(&format!("look up sales order {number} in Metakocka"), e))?;
    Ok(found.into_iter().find(|d| d.buyer_order == number))
}

/// Checks the warehouse's free stock, then creates the sales order (which reserves it). Refuses, creating
/// nothing, when any line would drive the free stock negative.
async fn create(
    client: &MetakockaClient,
    ctx: &JobContext,
    view: &OrderView,
    job_id: Option<i64>,
) -> Result<(), JobError> {
    let mk = &ctx.config.metakocka;
    let warehouse = mk.warehouse.trim().to_string();
    let codes: Vec<String> = view.lines.iter().map(|(code, _)| code.clone()).collect();
    let rows = client
        .warehouse_stock(std::slice::from_ref(&warehouse), &codes)
        .await
        .map_err(|e| failed(&format!("check stock for order {}", view.number), e))?;
    let mut free: HashMap<String, f64> = HashMap::new();
    for row in rows {
        let code = if row.code.is_empty() {
            row.count_code
        } else {
            row.code
        };
        *free.entry(code).or_default() += row.free_amount.unwrap_or(row.amount);
    }
    let short: Vec<String> = view
        .lines
        .iter()
        .filter_map(|(code, qty)| match free.get(code) {
            None => Some(format!("{code}: not stocked in warehouse {warehouse}")),
            Some(f) if *f < *qty as f64 => Some(format!("{code}: {f} free, {qty} ordered")),
            Some(_) => None,
        })
        .collect();
    if !short.is_empty() {
        let reason = format!(
            "refused: the order would drive stock negative in Metakocka warehouse {warehouse} ({}); nothing was created",
            short.join("; ")
        );
        record_state(ctx, view, LinkState::Refused, &reason, job_id).await?;
        return Err(JobError::permanent(reason));
    }
    let status_code = mk.outbound(&mk.create_on).map(String::from);
    let order = NewSalesOrder {
        buyer_order: view.number.clone(),
        doc_date: Some(Utc::now().date_naive()),
        partner: Partner {
            customer: view.customer.clone().unwrap_or_else(|| view.number.clone()),
            ..Partner::default()
        },
        // syncdesk keeps no prices on order lines; Metakocka's price lists apply.
        lines: view
            .lines
            .iter()
            .map(|(code, qty)| NewLine {
                code: code.clone(),
                amount: *qty as f64,
                price: 0.0,
            })
            .collect(),
        warehouse: Some(warehouse.clone()),
        status_code: status_code.clone(),
        currency_code: None,
    };
    // Committed before the call: if the answer is lost, the next attempt knows to look the order up.
    let link_id = record_state(ctx, view, LinkState::Sending, "", job_id).await?;
    let context = format!("create sales order {} in Metakocka", view.number);
    match client.put_document(&order).await {
        Ok(put) => {
            let lines: Vec<String> = view.lines.iter().map(|(c, q)| format!("{c}×{q}")).collect();
            let reason = format!(
                "sales order {} created; reserved {} in warehouse {warehouse}",
                if put.count_code.is_empty() {
                    &put.mk_id
                } else {
                    &put.count_code
                },
                lines.join(", ")
            );
            let doc = MkDocument {
                mk_id: put.mk_id,
                doc_type: SALES_ORDER.into(),
                count_code: put.count_code,
                buyer_order: view.number.clone(),
                status_code: status_code.unwrap_or_default(),
                doc_date: String::new(),
                partner: order.partner,
                product_list: Vec::new(),
                tracking_code: String::new(),
                delivery_type: String::new(),
                shipped_date: String::new(),
                notes: String::new(),
            };
            let mut view_link = view.link.clone();
            if view_link.is_none() {
                view_link = ctx
                    .with_store(move |s| links::get(s.conn(), link_id).map_err(db))
                    .await?;
            }
            let view = OrderView {
                link: view_link,
                ..view.clone()
            };
            adopt(ctx, &view, doc, &reason, job_id).await
        }
        Err(e) => {
            // A retryable failure may have reached Metakocka: stay `sending` so the retry looks it up first.
            let state = if e.is_retryable() {
                LinkState::Sending
            } else {
                LinkState::Error
            };
            let error = failed(&context, e);
            let message = error.message.clone();
            ctx.with_store(move |s| {
                s.write(|tx| links::set_state(tx, link_id, state, Some(&message)))
                    .map_err(db)
            })
            .await?;
            Err(error)
        }
    }
}

/// Links the order to the Metakocka document `doc` (found or just created), recording its status.
async fn adopt(
    ctx: &JobContext,
    view: &OrderView,
    doc: MkDocument,
    reason: &str,
    job_id: Option<i64>,
) -> Result<(), JobError> {
    let (order_id, number, link) = (view.id, view.number.clone(), view.link.clone());
    let reason = reason.to_string();
    ctx.with_store(move |s| {
        s.write(|tx| {
            let now = now_ms();
            let link_id = match link {
                Some(l) => l.id,
                None => links::insert(tx, "order", order_id, SYSTEM, &doc.mk_id, None, None, now)?,
            };
            adopt_in(tx, link_id, &doc, now)?;
            sync_log::record(
                tx,
                &Change {
                    source: "engine",
                    entity: "order",
                    entity_key: &number,
                    field: "metakocka.sales_order",
                    new_value: Some(&doc.mk_id),
                    reason: Some(&reason),
                    job_id,
                    ..Default::default()
                },
                now,
            )?;
            Ok::<_, StoreError>(())
        })
        .map_err(db)
    })
    .await
}

fn adopt_in(
    tx: &rusqlite::Connection,
    link_id: i64,
    doc: &MkDocument,
    now: i64,
) -> Result<(), StoreError> {
    links::set_external_id(tx, link_id, &doc.mk_id)?;
    let status = Some(doc.status_code.as_str()).filter(|s| !s.is_empty());
    links::record_remote(tx, link_id, status, None, now)
}

/// Sets a visible state and message on the order's Metakocka link (creating the pending link, keyed by
/// our order number, when there is none) and records it in the sync log; returns the link's id.
async fn record_state(
    ctx: &JobContext,
    view: &OrderView,
    state: LinkState,
    message: &str,
    job_id: Option<i64>,
) -> Result<i64, JobError> {
    let (order_id, number, link) = (view.id, view.number.clone(), view.link.clone());
    let message = message.to_string();
    ctx.with_store(move |s| {
        s.write(|tx| {
            let now = now_ms();
            let link_id = match link {
                Some(l) => l.id,
                None => links::insert(
                    tx,
                    "order",
                    order_id,
                    SYSTEM,
                    &format!("{PENDING_PREFIX}{number}"),
                    None,
                    None,
                    now,
                )?,
            };
            let message = Some(message.as_str()).filter(|m| !m.is_empty());
            links::set_state(tx, link_id, state, message)?;
            if message.is_some() {
                sync_log::record(
                    tx,
                    &Change {
                        source: "engine",
                        entity: "order",
                        entity_key: &number,
                        field: "metakocka.sales_order",
                        new_value: Some(state.as_str()),
                        reason: message,
                        job_id,
                        ..Default::default()
                    },
                    now,
                )?;
            }
            Ok::<_, StoreError>(link_id)
        })
        .map_err(db)
    })
    .await
}

/// What an update sends, for the bookkeeping after it.
struct Sent {
    link_id: i64,
    code: String,
    effect: Option<&'static str>,
    tracking: Option<String>,
}

async fn push_update(
    client: &MetakockaClient,
    ctx: &JobContext,
    view: &OrderView,
    doc: &DocRef,
    update: &DocumentUpdate,
    sent: Sent,
    job_id: Option<i64>,
) -> Result<(), JobError> {
    let (link_id, code) = (sent.link_id, sent.code.clone());
    // Marked first, so the pull never takes our own change coming back for one made in Metakocka.
    ctx.with_store(move |s| {
        s.write(|tx| links::set_pushing(tx, link_id, Some(&code)))
            .map_err(db)
    })
    .await?;
    let result = client.update_document(doc, update).await;
    let number = view.number.clone();
    let before = view.link.as_ref().and_then(|l| l.remote_status.clone());
    let error = result.err().map(|e| {
        failed(
            &format!(
                "update sales order {number} in Metakocka to '{}'",
                sent.code
            ),
            e,
        )
    });
    let message = error.as_ref().map(|e| e.message.clone());
    ctx.with_store(move |s| {
        s.write(|tx| {
            let now = now_ms();
            links::set_pushing(tx, sent.link_id, None)?;
            if let Some(message) = &message {
                return links::set_state(tx, sent.link_id, LinkState::Error, Some(message));
            }
            links::record_remote(tx, sent.link_id, Some(&sent.code), None, now)?;
            let mut reason = sent.effect.unwrap_or("sent to metakocka").to_string();
            if let Some(tracking) = &sent.tracking {
                reason.push_str(&format!("; tracking {tracking}"));
            }
            sync_log::record(
                tx,
                &Change {
                    source: "engine",
                    entity: "order",
                    entity_key: &number,
                    field: "metakocka.status",
                    old_value: before.as_deref(),
                    new_value: Some(&sent.code),
                    reason: Some(&reason),
                    job_id,
                    ..Default::default()
                },
                now,
            )
            .map(|_| ())
        })
        .map_err(db)
    })
    .await?;
    error.map_or(Ok(()), Err)
}

/// A Metakocka sales order reduced to what syncdesk keeps.
pub fn channel_order(doc: &MkDocument) -> ChannelOrder {
    let number = [&doc.buyer_order, &doc.count_code, &doc.mk_id]
        .into_iter()
        .find(|n| !n.trim().is_empty())
        .cloned()
        .unwrap_or_default();
    ChannelOrder {
        system: SYSTEM.into(),
        external_id: doc.mk_id.clone(),
        number,
        customer: Some(doc.partner.customer.trim().to_string()).filter(|c| !c.is_empty()),
        remote_status: doc.status_code.clone(),
        remote_version: None,
        ship_to: None,
        read_at: 0,
        history: false,
        lines: doc
            .product_list
            .iter()
            .filter(|l| l.amount >= 0.5)
            .map(|l| (l.code.clone(), None, l.amount.round() as i64))
            .collect(),
    }
}

/// Pulls sales orders from Metakocka: all of them paged by 50 (`only`: the one with that mk_id, number or
/// buyer_order). Linked ones apply status changes made in Metakocka; unlinked ones above the watermark
/// (or the one asked for) are imported as channel `metakocka` orders; ours whose creation went unanswered
/// are linked. Metakocka's search has no "changed since" filter, so the watermark is the highest mk_id
/// considered: older unlinked documents were skipped on purpose and are listed by `orders unsynced`.
pub async fn pull(
    client: &MetakockaClient,
    ctx: &JobContext,
    only: Option<&str>,
    dry_run: bool,
) -> Result<Vec<ImportOutcome>, JobError> {
    let docs: Vec<MkDocument> = client
        .search(SALES_ORDER, only)
        .await
        .map_err(|e| failed("pull sales orders from Metakocka", e))?
        .into_iter()
        .filter(|d| only.is_none_or(|r| d.mk_id == r || d.count_code == r || d.buyer_order == r))
        .collect();
    if let Some(reference) = only
        && docs.is_empty()
    {
        return Err(JobError::permanent(format!(
            "Metakocka has no sales order {reference} (looked for mk_id, number and buyer_order)"
        )));
    }
    let config = ctx.config.clone();
    let single = only.is_some();
    ctx.with_store(move |store| {
        let run = |tx: &rusqlite::Transaction<'_>| -> AppResult<Vec<ImportOutcome>> {
            let workflow = statuses::load(tx)?;
            let watermark = watermarks::get(tx, WATERMARK)?.and_then(|w| w.parse::<u64>().ok());
            let inbound = |code: &str| config.metakocka.inbound(code).map(String::from);
            let now = now_ms();
            let mut outcomes = Vec::new();
            let mut newest = watermark;
            for doc in &docs {
                let id = doc.mk_id.parse::<u64>().ok();
                newest = newest.max(id);
                if links::by_external(tx, "order", SYSTEM, &doc.mk_id)?.is_none() {
                    let pending = format!("{PENDING_PREFIX}{}", doc.buyer_order);
                    if !doc.buyer_order.is_empty()
                        && let Some(link) = links::by_external(tx, "order", SYSTEM, &pending)?
                    {
                        // Ours, created by a put_document whose answer was lost.
                        adopt_in(tx, link.id, doc, now)?;
                        outcomes.push(ImportOutcome::Unchanged {
                            number: doc.buyer_order.clone(),
                            external_id: doc.mk_id.clone(),
                        });
                        continue;
                    }
                    let new = single
                        || matches!((id, watermark), (Some(i), Some(w)) if i > w)
                        || watermark.is_none();
                    if !new {
                        continue;
                    }
                }
                outcomes.push(channel_orders::import(
                    tx,
                    &workflow,
                    &config,
                    &inbound,
                    &channel_order(doc),
                    now,
                )?);
            }
            if !single && let Some(newest) = newest.filter(|n| Some(*n) > watermark) {
                watermarks::set(tx, WATERMARK, &newest.to_string(), now)?;
            }
            Ok(outcomes)
        };
        let result = if dry_run {
            store.dry_run(run)
        } else {
            store.write(run)
        };
        result.map_err(|e: AppError| db(e))
    })
    .await
}

/// A Metakocka sales order syncdesk does not have, as `orders unsynced` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MissingDocument {
    pub mk_id: String,
    pub number: String,
    pub buyer_order: String,
    pub customer: String,
    pub status_code: String,
    pub reason: String,
}

/// Metakocka sales orders linked to no syncdesk order (read live, paged by 50).
pub async fn missing_in_syncdesk(
    client: &MetakockaClient,
    ctx: &JobContext,
) -> Result<Vec<MissingDocument>, JobError> {
    let docs = client
        .search(SALES_ORDER, None)
        .await
        .map_err(|e| failed("list sales orders in Metakocka", e))?;
    let config = ctx.config.clone();
    ctx.with_store(move |s| {
        let conn = s.conn();
        let watermark = watermarks::get(conn, WATERMARK)
            .map_err(db)?
            .and_then(|w| w.parse::<u64>().ok());
        let mut missing = Vec::new();
        for doc in docs {
            let pending = format!("{PENDING_PREFIX}{}", doc.buyer_order);
            let linked = links::by_external(conn, "order", SYSTEM, &doc.mk_id)
                .map_err(db)?
                .is_some()
                || (!doc.buyer_order.is_empty()
                    && links::by_external(conn, "order", SYSTEM, &pending)
                        .map_err(db)?
                        .is_some());
            if linked {
                continue;
            }
            let order = channel_order(&doc);
            let before_watermark =
                matches!((doc.mk_id.parse::<u64>().ok(), watermark), (Some(i), Some(w)) if i <= w);
            let reason = if config.metakocka.inbound(&doc.status_code).is_none() {
                format!(
                    "status '{}' has no syncdesk mapping (metakocka.status_in)",
                    doc.status_code
                )
            } else if order.lines.is_empty() {
                "the sales order has no lines".to_string()
            } else if before_watermark {
                format!(
                    "skipped by an earlier pull; pull it with `sync run erp --order {}`",
                    doc.mk_id
                )
            } else {
                "not pulled yet (the next pull imports it)".to_string()
            };
            missing.push(MissingDocument {
                number: order.number,
                mk_id: doc.mk_id,
                buyer_order: doc.buyer_order,
                customer: doc.partner.customer,
                status_code: doc.status_code,
                reason,
            });
        }
        Ok(missing)
    })
    .await
}

impl JobHandler for PullOrders {
    fn run<'a>(
        &'a self,
        _job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let outcomes = pull(self.0.get()?, ctx, None, false).await?;
            let changed = outcomes
                .iter()
                .filter(|o| !matches!(o, ImportOutcome::Unchanged { .. }))
                .count();
            tracing::info!(read = outcomes.len(), changed, "metakocka orders pulled");
            Ok(())
        })
    }
}
