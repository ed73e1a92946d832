//! The Counterpoint flows, as job handlers: stage a web order once (a retry finds it staged), read what
//! shipped since a watermark and record it as shipments — per line, as deltas against what syncdesk already
//! has, so re-reading the overlap window never ships twice — and check that staged documents still exist.
//! A pass costs O(changed documents): the connector issues a constant number of queries per pass.

use crate::domain::LinkState;
use crate::engine::job_payload;
use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::app::orders::ship_in;
use crate::app::{Actor, AppError, ShipmentDetails};
use crate::config::{Config, CounterpointSection};
use crate::domain::time::now_ms;
pub use crate::engine::job_error;
use crate::engine::{BoxFuture, JobContext, JobError, JobHandler, SharedClient};
use crate::integrations::counterpoint::client::{
    CounterpointClient, CounterpointError, DocPresence, DocumentChange, StageOutcome, StagedLine,
    StagedOrder,
};
use crate::store::sync_log::{self, Change};
use crate::store::{Job, Store, inventory, links, orders, statuses, watermarks};

pub const SYSTEM: &str = "counterpoint";
const WATERMARK: &str = "counterpoint.fulfilment";
const WATERMARK_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3f";

pub fn client(cfg: &CounterpointSection) -> Result<CounterpointClient, CounterpointError> {
    CounterpointClient::new(cfg.connection.clone())
}

fn db(e: impl std::fmt::Display) -> JobError {
    JobError::retry(e.to_string())
}

type Cp = SharedClient<CounterpointClient>;

pub struct StageOrderJob(Cp);
pub struct FulfilmentPass(Cp);
pub struct VerifyDocuments(Cp);

impl StageOrderJob {
    pub fn new(config: &Config) -> Self {
        StageOrderJob(SharedClient::new(client(&config.counterpoint)))
    }
}
impl FulfilmentPass {
    pub fn new(config: &Config) -> Self {
        FulfilmentPass(SharedClient::new(client(&config.counterpoint)))
    }
}
impl VerifyDocuments {
    pub fn new(config: &Config) -> Self {
        VerifyDocuments(SharedClient::new(client(&config.counterpoint)))
    }
}

#[derive(Deserialize)]
struct StagePayload {
    order_id: i64,
}

impl JobHandler for StageOrderJob {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let p: StagePayload = job_payload(job)?;
            let order_id = p.order_id;
            let staged = ctx
                .with_store(move |s| {
                    let conn = s.conn();
                    let Some(order) = orders::get(conn, order_id).map_err(db)? else {
                        return Ok(None);
                    };
                    let all = links::for_local(conn, "order", order_id).map_err(db)?;
                    if all.iter().any(|l| l.system == SYSTEM) {
                        return Ok(None); // staged before: the link is the proof
                    }
                    // The web order's own id keys the staging row, so the shop can find it in either system.
                    let web_order_id = all
                        .iter()
                        .find(|l| l.system != SYSTEM)
                        .map(|l| l.external_id.clone())
                        .unwrap_or(order.number.clone());
                    let lines = orders::lines(conn, order_id).map_err(db)?;
                    Ok(Some(StagedOrder {
                        web_order_id,
                        cust_no: None,
                        ship_via: None,
                        cust_po_no: Some(order.number.clone()),
                        lines: lines
                            .iter()
                            .map(|l| {
                                // The store's SKU becomes the POS item number through the alignment, when aligned.
                                let item_no = inventory::find(conn, &l.sku)
                                    .ok()
                                    .flatten()
                                    .filter(|a| a.store_sku == l.sku)
                                    .map_or(l.sku.clone(), |a| a.pos_sku);
                                StagedLine {
                                    item_no,
                                    qty: Decimal::from(l.quantity),
                                    price: None,
                                }
                            })
                            .collect(),
                    }))
                })
                .await?;
            let Some(staged) = staged else { return Ok(()) };
            let outcome = self
                .0
                .get()?
                .stage_order(&staged)
                .await
                .map_err(job_error)?;
            let job_id = job.id;
            ctx.with_store(move |s| {
                s.write(|tx| {
                    let now = now_ms();
                    let (state, doc) = match &outcome {
                        StageOutcome::Staged => ("staged".to_string(), None),
                        StageOutcome::AlreadyStaged { status, doc_id } => {
                            (format!("staged ({status})"), *doc_id)
                        }
                    };
                    if links::by_external(tx, "order", SYSTEM, &staged.web_order_id)?.is_none() {
                        links::insert(
                            tx,
                            "order",
                            order_id,
                            SYSTEM,
                            &staged.web_order_id,
                            Some("staged"),
                            doc.map(|d| d.to_string()).as_deref(),
                            now,
                        )?;
                    }
                    let number = orders::get(tx, order_id)?
                        .map(|o| o.number)
                        .unwrap_or_default();
                    sync_log::record(
                        tx,
                        &Change {
                            source: "engine",
                            entity: "order",
                            entity_key: &number,
                            field: "counterpoint.staging",
                            new_value: Some(&state),
                            reason: Some("web order staged in USER_ORDER_STAGING"),
                            job_id: Some(job_id),
                            ..Default::default()
                        },
                        now,
                    )?;
                    Ok::<_, crate::store::StoreError>(())
                })
                .map_err(db)
            })
            .await
        })
    }
}

/// What a fulfilment pass did (or would do) for one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FulfilmentOutcome {
    pub order: String,
    pub doc_id: i64,
    pub posted: bool,
    pub shipped: Vec<(String, i64)>,
    pub completed: bool,
}

/// One pass: read the changes since the watermark, record the new shipments, move the watermark.
pub async fn fulfilment_pass(
    client: &CounterpointClient,
    ctx: &JobContext,
    dry_run: bool,
) -> Result<Vec<FulfilmentOutcome>, JobError> {
    let watermark = ctx
        .with_store(|s| watermarks::get(s.conn(), WATERMARK).map_err(db))
        .await?
        .and_then(|w| NaiveDateTime::parse_from_str(&w, WATERMARK_FORMAT).ok())
        .unwrap_or_default();
    let overlap = Duration::from_secs(ctx.config.counterpoint.overlap_secs);
    let read = client
        .fulfilment_changes_since(watermark, overlap)
        .await
        .map_err(job_error)?;
    let config = ctx.config.clone();
    ctx.with_store(move |s| apply_changes(s, &config, &read.changes, Some(read.watermark), dry_run))
        .await
}

/// Records shipments for the changed documents in one transaction (rolled back for a dry run).
pub fn apply_changes(
    store: &mut Store,
    config: &Config,
    changes: &[DocumentChange],
    new_watermark: Option<NaiveDateTime>,
    dry_run: bool,
) -> Result<Vec<FulfilmentOutcome>, JobError> {
    let run = |tx: &rusqlite::Transaction<'_>| -> Result<Vec<FulfilmentOutcome>, AppError> {
        let workflow = statuses::load(tx)?;
        let actor = Actor {
            name: SYSTEM.into(),
            source: SYSTEM.into(),
            role: None,
        };
        let now = now_ms();
        let mut outcomes = Vec::new();
        for change in changes {
            let Some(web_id) = change.web_order_id.as_deref() else {
                continue;
            };
            let Some(link) = links::by_external(tx, "order", SYSTEM, web_id)? else {
                continue;
            };
            let Some(order) = orders::get(tx, link.local_id)? else {
                continue;
            };
            let state = if change.posted { "posted" } else { "shipped" };
            links::record_remote(
                tx,
                link.id,
                Some(state),
                Some(&change.doc_id.to_string()),
                now,
            )?;
            if workflow
                .get(order.status_id)
                .is_none_or(|s| s.kind.is_final())
            {
                continue;
            }
            let to_local = |item_no: &str| -> String {
                inventory::find(tx, item_no)
                    .ok()
                    .flatten()
                    .filter(|a| a.pos_sku.eq_ignore_ascii_case(item_no))
                    .map_or(item_no.to_string(), |a| a.store_sku)
            };
            let deltas = shipment_deltas(&orders::lines(tx, order.id)?, change, &to_local);
            if deltas.is_empty() {
                continue;
            }
            let carrier = change.ship_via.as_ref().map(|code| {
                config
                    .counterpoint
                    .carriers
                    .get(code)
                    .cloned()
                    .unwrap_or(code.clone())
            });
            let details = ShipmentDetails {
                carrier,
                tracking: change.tracking.clone(),
                notes: Some(format!(
                    "Counterpoint document {}{}",
                    change.doc_id,
                    if change.posted { " (posted)" } else { "" }
                )),
            };
            let out = ship_in(
                tx,
                &workflow,
                config,
                &actor,
                &order,
                Some(&deltas),
                &details,
                now,
            )?;
            outcomes.push(FulfilmentOutcome {
                order: order.number,
                doc_id: change.doc_id,
                posted: change.posted,
                shipped: out.shipped,
                completed: out.completed,
            });
        }
        if let Some(w) = new_watermark {
            watermarks::set(tx, WATERMARK, &w.format(WATERMARK_FORMAT).to_string(), now)?;
        }
        Ok(outcomes)
    };
    let result = if dry_run {
        store.dry_run(run)
    } else {
        store.write(run)
    };
    result.map_err(db)
}

/// What Counterpoint shipped beyond what syncdesk has recorded, per SKU. A posted document counts as fully
/// shipped (invoiced); quantities never exceed what was ordered.
fn shipment_deltas(
    lines: &[orders::OrderLine],
    change: &DocumentChange,
    to_local: &dyn Fn(&str) -> String,
) -> Vec<(String, i64)> {
    let mut shipped: BTreeMap<String, Decimal> = BTreeMap::new();
    for l in &change.lines {
        let qty = if change.posted {
            l.qty_ordered.max(l.qty_shipped)
        } else {
            l.qty_shipped
        };
        *shipped
            .entry(to_local(l.item_no.trim()).to_lowercase())
            .or_default() += qty;
    }
    let mut local: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for l in lines {
        let e = local.entry(l.sku.to_lowercase()).or_default();
        e.0 += l.quantity;
        e.1 += l.quantity_shipped;
    }
    let mut out = Vec::new();
    for (sku, (ordered, have)) in local {
        let cp = shipped
            .get(&sku)
            .and_then(|d| d.trunc().to_i64())
            .unwrap_or(0);
        let delta = cp.min(ordered) - have;
        if delta > 0 {
            let original = lines
                .iter()
                .find(|l| l.sku.to_lowercase() == sku)
                .map(|l| l.sku.clone())
                .unwrap_or(sku);
            out.push((original, delta));
        }
    }
    out
}

impl JobHandler for FulfilmentPass {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let outcomes = fulfilment_pass(self.0.get()?, ctx, false).await?;
            let report = super::fulfilment_report(&outcomes, false);
            crate::engine::passes::record_outcome(ctx, job.id, report.summary()).await;
            if !outcomes.is_empty() {
                tracing::info!(
                    documents = outcomes.len(),
                    "counterpoint shipments recorded"
                );
            }
            Ok(())
        })
    }
}

impl JobHandler for VerifyDocuments {
    fn run<'a>(
        &'a self,
        _job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let client = self.0.get()?;
            let staged = ctx
                .with_store(|s| links::open_orders_in(s.conn(), SYSTEM).map_err(db))
                .await?;
            if staged.is_empty() {
                return Ok(());
            }
            let ids: Vec<String> = staged.iter().map(|l| l.external_id.clone()).collect();
            let statuses = client.staging_status(&ids).await.map_err(job_error)?;
            let doc_ids: Vec<i64> = statuses.iter().filter_map(|s| s.doc_id).collect();
            let states = client.documents_state(&doc_ids).await.map_err(job_error)?;
            ctx.with_store(move |s| {
                s.write(|tx| {
                    for st in &statuses {
                        let Some(link) = staged.iter().find(|l| l.external_id == st.web_order_id) else { continue };
                        let problem = if let Some(err) = st.error.as_deref().filter(|_| st.status == "E") {
                            Some(format!("Counterpoint could not turn the staged order into a document: {err}"))
                        } else {
                            st.doc_id.and_then(|doc| {
                                states.iter().find(|d| d.doc_id == doc && d.state == DocPresence::Missing).map(|_| {
                                    format!("Counterpoint document {doc} was cancelled or deleted; the order was left as it is — check it in Counterpoint")
                                })
                            })
                        };
                        if let Some(problem) = problem {
                            links::set_state(tx, link.id, LinkState::Error, Some(&problem))?;
                        }
                    }
                    Ok::<_, crate::store::StoreError>(())
                })
                .map_err(db)
            })
            .await
        })
    }
}
