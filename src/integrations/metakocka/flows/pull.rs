//! `metakocka.pull_orders`: sales orders entered in Metakocka come in through the channel import, and
//! the ones syncdesk does not have are listed for `orders unsynced`.

use super::super::SYSTEM;
use super::super::outbound::PENDING_PREFIX;
use super::sync_order::adopt_in;
use super::{PullOrders, SALES_ORDER, WATERMARK, db, failed};
use crate::app::channel_orders::{self, ChannelOrder, ImportOutcome};
use crate::app::{AppError, Result as AppResult};
use crate::domain::time::now_ms;
use crate::engine::{BoxFuture, JobContext, JobError, JobHandler};
use crate::integrations::metakocka::client::{MetakockaClient, MkDocument};
use crate::store::{Job, links, statuses, watermarks};

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
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let outcomes = pull(self.0.get()?, ctx, None, false).await?;
            let report = super::super::pull_report(&outcomes, false);
            crate::engine::passes::record_outcome(ctx, job.id, report.summary()).await;
            let changed = outcomes
                .iter()
                .filter(|o| !matches!(o, ImportOutcome::Unchanged { .. }))
                .count();
            tracing::info!(read = outcomes.len(), changed, "metakocka orders pulled");
            Ok(())
        })
    }
}
