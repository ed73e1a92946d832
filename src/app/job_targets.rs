//! What a failing job is about and why it first failed, as an operator reads it: the order number or SKU
//! behind its key and payload (keys carry internal ids such as `order:131`, or a channel's own id), and the
//! first failed attempt of its history — the root cause, where later attempts often only met an outage.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;

use super::{App, Result};
use crate::integrations::REGISTRY;
use crate::store::jobs::{self, Attempt};
use crate::store::{Job, StoreError, links, orders};

/// A failing job as the Errors panel lists it beside its row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobExplained {
    /// `order R-1001`, `SKU LIN-APR`, or what the key says when nothing in the store names it.
    pub target: String,
    /// The first failed attempt (the root cause), oldest first across the jobs it superseded.
    pub first_failure: Option<Attempt>,
}

impl App {
    /// Each job's target and first failure, by job id.
    pub fn explain_jobs(&mut self, page: &[Job]) -> Result<BTreeMap<i64, JobExplained>> {
        self.store.snapshot(|tx| {
            let mut out = BTreeMap::new();
            for job in page {
                let explained = JobExplained {
                    target: target_of(tx, job)?,
                    first_failure: first_failure(&jobs::history(tx, job.id)?).cloned(),
                };
                out.insert(job.id, explained);
            }
            Ok(out)
        })
    }
}

/// The first attempt that did not succeed.
pub fn first_failure(history: &[Attempt]) -> Option<&Attempt> {
    history.iter().find(|a| a.outcome != "done")
}

/// The order number or SKU a job works on, resolved through the store.
fn target_of(conn: &Connection, job: &Job) -> std::result::Result<String, StoreError> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
    if let Some(id) = payload.get("order_id").and_then(|v| v.as_i64()) {
        return local_order(conn, id);
    }
    if let Some(sku) = payload.get("sku").and_then(|v| v.as_str()) {
        return Ok(format!("SKU {sku}"));
    }
    let Some(key) = job.key.as_deref() else {
        return Ok("—".into());
    };
    if let Some(sku) = key.strip_prefix("sku:") {
        return Ok(format!("SKU {sku}"));
    }
    let Some(order) = key.strip_prefix("order:") else {
        return Ok(key.to_string());
    };
    // Without an `order_id`, a number in the key is the id the job's own system gave the order.
    if let Some(system) = REGISTRY
        .iter()
        .find(|i| i.job_kinds.iter().any(|k| *k == job.kind.as_str()))
    {
        if let Some(link) = links::by_external(conn, "order", system.name, order)? {
            return local_order(conn, link.local_id);
        }
        if order.parse::<i64>().is_ok() {
            return Ok(format!("{} order {order} (not imported)", system.title));
        }
    }
    Ok(match orders::find(conn, order)? {
        Some(row) => format!("order {}", row.number),
        None => format!("order {order}"),
    })
}

fn local_order(conn: &Connection, id: i64) -> std::result::Result<String, StoreError> {
    Ok(match orders::get(conn, id)? {
        Some(row) => format!("order {}", row.number),
        None => format!("order #{id} (deleted)"),
    })
}
