//! What a failing job is about and why it first failed, as an operator reads it: the order number or SKU
//! behind its key and payload (keys carry internal ids such as `order:131`, or a channel's own id), and the
//! first failed attempt of its history — the root cause, where later attempts often only met an outage.
//! The same resolution says what an alert is about, so the console can open that order or SKU.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;

use super::{App, Result};
use crate::domain::alerts::AlertKind;
use crate::integrations::{Integration, REGISTRY};
use crate::store::alerts::Alert;
use crate::store::jobs::{self, Attempt};
use crate::store::{Job, StoreError, links, orders};

/// What a job or an alert is about, when the store names it: an order, or a SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Order { id: i64, number: String },
    Sku(String),
}

/// A failing job as the Errors panel lists it beside its row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobExplained {
    /// `order R-1001`, `SKU LIN-APR`, or what the key says when nothing in the store names it.
    pub target: String,
    /// The order or SKU behind `target`, when there is one (the console jumps to it).
    pub subject: Option<Subject>,
    /// The first failed attempt (the root cause), oldest first across the jobs it superseded.
    pub first_failure: Option<Attempt>,
}

impl App {
    /// Each job's target and first failure, by job id.
    pub fn explain_jobs(&mut self, page: &[Job]) -> Result<BTreeMap<i64, JobExplained>> {
        self.store.snapshot(|tx| {
            let mut out = BTreeMap::new();
            for job in page {
                let (target, subject) = target_of(tx, job)?;
                let explained = JobExplained {
                    target,
                    subject,
                    first_failure: first_failure(&jobs::history(tx, job.id)?).cloned(),
                };
                out.insert(job.id, explained);
            }
            Ok(out)
        })
    }

    /// The order or SKU an alert is about, from its key (`backorder:R-9`, `negative_stock:SKU`,
    /// `sync_failure:<system>:<job key>`); None when it names neither.
    pub fn alert_subject(&mut self, alert: &Alert) -> Result<Option<Subject>> {
        let Some((kind, what)) = alert.dedupe_key.as_deref().and_then(|k| k.split_once(':')) else {
            return Ok(None);
        };
        let conn = self.store.conn();
        Ok(match AlertKind::parse(kind) {
            Some(AlertKind::Backorder) => orders::find(conn, what)?.map(|o| Subject::Order {
                id: o.id,
                number: o.number,
            }),
            Some(AlertKind::SyncFailure) => {
                // `<system>:<job key>`, the system being the failed job's kind's first part.
                let (system, key) = what.split_once(':').unwrap_or(("", what));
                let owner = REGISTRY.iter().find(|i| {
                    i.name == system
                        || i.job_kinds
                            .iter()
                            .any(|k| k.as_str().split('.').next() == Some(system))
                });
                // A failed stock write names its SKU as `stock SKU`.
                match key.strip_prefix("stock ") {
                    Some(sku) => Some(Subject::Sku(sku.to_string())),
                    None => key_subject(conn, owner.copied(), key)?.1,
                }
            }
            Some(_) => Some(Subject::Sku(what.to_string())),
            None => None,
        })
    }
}

/// The first attempt that did not succeed.
pub fn first_failure(history: &[Attempt]) -> Option<&Attempt> {
    history.iter().find(|a| a.outcome != "done")
}

/// The order number or SKU a job works on, resolved through the store (as text, and as a subject).
fn target_of(
    conn: &Connection,
    job: &Job,
) -> std::result::Result<(String, Option<Subject>), StoreError> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
    if let Some(id) = payload.get("order_id").and_then(|v| v.as_i64()) {
        return local_order(conn, id);
    }
    if let Some(sku) = payload.get("sku").and_then(|v| v.as_str()) {
        return Ok(sku_target(sku));
    }
    let Some(key) = job.key.as_deref() else {
        return Ok(("—".into(), None));
    };
    let owner = REGISTRY
        .iter()
        .find(|i| i.job_kinds.iter().any(|k| *k == job.kind.as_str()));
    key_subject(conn, owner.copied(), key)
}

/// What a job key (`order:131`, `order:R-7`, `sku:X`) names; `owner` is the integration whose job it is.
fn key_subject(
    conn: &Connection,
    owner: Option<&Integration>,
    key: &str,
) -> std::result::Result<(String, Option<Subject>), StoreError> {
    if let Some(sku) = key.strip_prefix("sku:") {
        return Ok(sku_target(sku));
    }
    let Some(order) = key.strip_prefix("order:") else {
        return Ok((key.to_string(), None));
    };
    // Without an `order_id`, a number in the key is the id the job's own system gave the order.
    if let Some(owner) = owner {
        if let Some(link) = links::by_external(conn, "order", owner.name, order)? {
            return local_order(conn, link.local_id);
        }
        if order.parse::<i64>().is_ok() {
            return Ok((
                format!("{} order {order} (not imported)", owner.title),
                None,
            ));
        }
    }
    Ok(match orders::find(conn, order)? {
        Some(row) => (
            format!("order {}", row.number),
            Some(Subject::Order {
                id: row.id,
                number: row.number,
            }),
        ),
        None => (format!("order {order}"), None),
    })
}

fn sku_target(sku: &str) -> (String, Option<Subject>) {
    (format!("SKU {sku}"), Some(Subject::Sku(sku.to_string())))
}

fn local_order(
    conn: &Connection,
    id: i64,
) -> std::result::Result<(String, Option<Subject>), StoreError> {
    Ok(match orders::get(conn, id)? {
        Some(row) => (
            format!("order {}", row.number),
            Some(Subject::Order {
                id,
                number: row.number,
            }),
        ),
        None => (format!("order #{id} (deleted)"), None),
    })
}
