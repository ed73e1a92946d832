//! The record step of a stock pass, in one transaction: each pair's new base, state, product ids and
//! conflict (settled by policy, or raised with an alert), the trace of each side's movement, the sync log,
//! the web orders now accounted for, and the marks the next pass starts from.

use std::sync::Arc;

use super::apply::Applied;
use super::load::{LAST_PASS, db};
use super::pass::PairStep;
use super::{MemoRows, PosReading, StockChange, remember_product};
use crate::app;
use crate::config::Config;
use crate::domain::LinkState;
use crate::domain::alerts::{self, AlertKind, NewAlert};
use crate::domain::inventory::ConflictKind;
use crate::domain::stock_plan::PlannedConflict;
use crate::domain::time::{Millis, now_ms};
use crate::engine::{JobContext, JobError};
use crate::store::inventory::{self as stock_rows, NewConflict};
use crate::store::sync_log::{self, Change};
use crate::store::{StoreError, watermarks};

/// Everything the pass learned, moved onto the store's thread.
pub(super) struct Recording {
    pub steps: Vec<PairStep>,
    pub applied: Applied,
    pub reading: PosReading,
    /// The writes the store confirmed.
    pub changes: Vec<StockChange>,
    /// The hints this pass took (cleared).
    pub hints: Vec<i64>,
    /// When the last pass ran.
    pub since: Millis,
    /// A full pass: how many POS items it read.
    pub pos_items_read: Option<usize>,
    pub back_office: &'static str,
    /// The store's system: its web orders, the sync log's field prefix.
    pub channel: &'static str,
    pub memo_rows: MemoRows,
    pub job_id: Option<i64>,
}

pub(super) async fn record(ctx: &JobContext, r: Recording) -> Result<(), JobError> {
    let config = ctx.config.clone();
    ctx.with_store(move |s| {
        s.write(|tx| {
            let now = now_ms();
            let orders = &r.reading.orders;
            let trace = app::trace::PassTrace::new(
                tx,
                app::trace::PassSources {
                    back_office: r.back_office,
                    channel: r.channel,
                    since: r.since,
                    taken_in: &orders.absorbed,
                    released: &orders.released,
                    reduction_files: &r.reading.absorbed_by_pos_sku,
                },
            )?;
            for step in &r.steps {
                record_pair(tx, &r, step, &trace, &config, now)?;
            }
            for c in &r.changes {
                log_change(tx, &r, c, now)?;
            }
            record_marks(tx, &r, now)
        })
        .map_err(db)
    })
    .await
}

/// One pair's outcome: a write still unconfirmed, a failure, or its new base and state (and conflict).
fn record_pair(
    tx: &rusqlite::Connection,
    r: &Recording,
    step: &PairStep,
    trace: &app::trace::PassTrace,
    config: &Arc<Config>,
    now: Millis,
) -> Result<(), StoreError> {
    let (pair, plan) = (&step.pair, &step.plan);
    let sku = step.key();
    if let Some(product) = &step.product {
        remember_product(tx, pair, product)?;
    }
    if let Some(u) = r.applied.unconfirmed.get(&sku) {
        stock_rows::set_unconfirmed(tx, pair.id, Some(u))?;
        let message = format!(
            "a write of {} got no answer: the next pass reads the store before merging",
            u.quantity
        );
        return stock_rows::record_pass(tx, pair.id, None, LinkState::Error, Some(&message), now);
    }
    // Past this point the write's fate is known (applied, refused, or not applied).
    if plan.write.is_some()
        || plan.forget_unconfirmed
        || (pair.unconfirmed.is_some() && plan.new_base.is_some())
    {
        stock_rows::set_unconfirmed(tx, pair.id, None)?;
    }
    if let Some(message) = r.applied.failed.get(&sku) {
        return stock_rows::record_pass(tx, pair.id, None, LinkState::Error, Some(message), now);
    }
    if let Some(c) = &plan.conflict {
        record_conflict(tx, r.channel, step, c, config, now)?;
    }
    let state = if plan.conflict.is_some() && plan.new_base.is_none() {
        LinkState::Conflict
    } else {
        LinkState::Synced
    };
    if let (Some(_), Some(base)) = (plan.new_base, plan.merged_from) {
        trace.record(
            tx,
            &pair.pos_sku,
            &pair.store_sku,
            base,
            step.pos,
            step.store_qty(),
            r.job_id,
            now,
        )?;
    }
    stock_rows::record_pass(tx, pair.id, plan.new_base, state, None, now)
}

/// Raises (or refreshes) the pair's conflict; settles it by its policy, or alerts someone to decide.
fn record_conflict(
    tx: &rusqlite::Connection,
    channel: &str,
    step: &PairStep,
    c: &PlannedConflict,
    config: &Arc<Config>,
    now: Millis,
) -> Result<(), StoreError> {
    let sku = &step.pair.store_sku;
    let (id, _) = stock_rows::raise(
        tx,
        &NewConflict {
            sku,
            kind: c.kind.as_str(),
            pos_value: step.pos.map(|q| q.to_string()),
            store_value: step.store_qty().map(|q| q.to_string()),
            base: step.pair.base.map(|b| b.agreed),
            merged: c.merged,
            proposed: c.proposed,
            detail: &c.detail,
        },
        now,
    )?;
    match c.settled {
        Some(q) => stock_rows::resolve(
            tx,
            id,
            stock_rows::RESOLVED_BY_POLICY,
            c.policy.name(),
            Some(q),
            now,
        )
        .map(drop),
        // Waiting for an operator: make sure someone hears about it.
        None => match conflict_alert(sku, c, step.pos, step.store_qty(), channel, config) {
            Some(alert) => crate::app::raise_and_notify(tx, config, &alert, now).map(drop),
            None => Ok(()),
        },
    }
}

/// The alert an unsettled conflict raises (price drift is the price pass's to report).
fn conflict_alert(
    sku: &str,
    c: &PlannedConflict,
    pos: Option<i64>,
    store: Option<i64>,
    channel: &str,
    config: &Config,
) -> Option<NewAlert> {
    let detail = &c.detail;
    match c.kind {
        ConflictKind::NegativeStock => Some(NewAlert::new(
            AlertKind::NegativeStock,
            sku,
            format!("Negative stock: {sku}"),
            format!("{sku}: {detail}."),
        )),
        ConflictKind::MissingAlignment => Some(alerts::missing_alignment(
            sku,
            if pos.is_none() {
                "the POS"
            } else {
                "the store"
            },
        )),
        ConflictKind::UnexplainedChange | ConflictKind::QuantityMismatch => {
            alerts::stock_alerts(sku, pos, store, None, None, &config.alerts.thresholds())
                .into_iter()
                .find(|a| a.kind == AlertKind::QuantityDiscrepancy)
        }
        ConflictKind::PriceDrift => None,
        // syncdesk cannot tell what the store holds: someone must look (high, like any sync failure).
        ConflictKind::UnconfirmedWrite => Some(alerts::sync_failure(
            channel,
            &format!("stock {sku}"),
            detail,
        )),
    }
}

fn log_change(
    tx: &rusqlite::Connection,
    r: &Recording,
    c: &StockChange,
    now: Millis,
) -> Result<(), StoreError> {
    sync_log::record(
        tx,
        &Change {
            source: "engine",
            entity: "stock",
            entity_key: &c.sku,
            field: &crate::store::trace::store_field(r.channel),
            old_value: c.old.map(|o| o.to_string()).as_deref(),
            new_value: Some(&c.new.to_string()),
            reason: Some(&c.why),
            job_id: r.job_id,
            ..Default::default()
        },
        now,
    )
    .map(drop)
}

/// The web orders now accounted for, the hints taken, and the marks the next pass starts from.
fn record_marks(tx: &rusqlite::Connection, r: &Recording, now: Millis) -> Result<(), StoreError> {
    let orders = &r.reading.orders;
    for id in &orders.absorbed {
        stock_rows::absorb(tx, *id, now)?;
    }
    for id in &orders.passed_over {
        stock_rows::pass_over(tx, *id, now)?;
    }
    for (id, _) in &orders.released {
        stock_rows::release(tx, *id, now)?;
    }
    if let Some(mark) = &r.reading.mark {
        (r.memo_rows.remember)(tx, mark, now)?;
    }
    stock_rows::clear_hints(tx, &r.hints)?;
    watermarks::set(tx, LAST_PASS, &now.to_string(), now)?;
    if let Some(n) = r.pos_items_read {
        watermarks::set(tx, crate::store::report::POS_ITEMS, &n.to_string(), now)?;
    }
    Ok(())
}
