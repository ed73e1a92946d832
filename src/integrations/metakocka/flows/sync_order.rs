//! `metakocka.sync_order`: carries out the steps [`plan`](super::plan) decides — look the sales order up,
//! create it after checking free stock, adopt it, send an update — and records each on the order's link
//! and in the sync log.

use std::collections::HashMap;

use chrono::Utc;
use serde::Deserialize;

use super::super::SYSTEM;
use super::super::outbound::PENDING_PREFIX;
use super::plan::{OrderView, Step, decide, load_view};
use super::{SALES_ORDER, SyncOrder, db, failed};
use crate::domain::LinkState;
use crate::domain::time::now_ms;
use crate::engine::{BoxFuture, JobContext, JobError, JobHandler, job_payload};
use crate::integrations::metakocka::client::{
    DocRef, DocumentUpdate, MetakockaClient, MkDocument, NewLine, NewSalesOrder, Partner,
};
use crate::store::sync_log::{self, Change};
use crate::store::{Job, StoreError, links, statuses};

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

pub(super) fn adopt_in(
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
