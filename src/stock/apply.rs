//! The apply step of a stock pass: remember every write as unconfirmed before it is sent, send the writes
//! in batches, and read back those whose answer was lost.

use std::collections::HashMap;

use super::load::db;
use super::pass::PairStep;
use super::{StoreSide, StoreUpdate, WriteFailure, read_products, write_updates};
use crate::domain::inventory::{UnconfirmedWrite, WriteCheck};
use crate::engine::{JobContext, JobError};
use crate::store::StoreError;
use crate::store::inventory as stock_rows;

/// The writes the store did not confirm.
#[derive(Default)]
pub(super) struct Applied {
    /// Refused or not applied, by upper-cased store SKU: "code: message".
    pub failed: HashMap<String, String>,
    /// No answer and no telling from a read-back, by upper-cased store SKU: the next pass checks.
    pub unconfirmed: HashMap<String, UnconfirmedWrite>,
}

/// The unconfirmed write a step's planned write becomes once sent.
fn unconfirmed(step: &PairStep) -> Option<UnconfirmedWrite> {
    Some(UnconfirmedWrite {
        quantity: step.plan.write?,
        prior: step.store_qty(),
        base: step.plan.new_base?,
    })
}

pub(super) async fn apply(
    ctx: &JobContext,
    store: &dyn StoreSide,
    steps: &[PairStep],
) -> Result<Applied, JobError> {
    // Every write is remembered as unconfirmed BEFORE it is sent, so an answer lost to a timeout, a
    // dropped connection or syncdesk stopping mid-pass is checked by reading the store before any base moves.
    let sending: Vec<(i64, UnconfirmedWrite)> = steps
        .iter()
        .filter(|s| s.product.is_some())
        .filter_map(|s| Some((s.pair.id, unconfirmed(s)?)))
        .collect();
    if !sending.is_empty() {
        ctx.with_store(move |s| {
            s.write(|tx| {
                for (id, write) in &sending {
                    stock_rows::set_unconfirmed(tx, *id, Some(write))?;
                }
                Ok::<_, StoreError>(())
            })
            .map_err(db)
        })
        .await?;
    }
    let updates: Vec<StoreUpdate> = steps
        .iter()
        .filter_map(|s| {
            let quantity = s.plan.write?;
            Some(StoreUpdate {
                stock_quantity: Some(quantity),
                ..StoreUpdate::of(s.product.as_ref()?, &s.pair.store_sku)
            })
        })
        .collect();
    let written = write_updates(store, updates).await;
    Ok(confirm_lost_writes(store, steps, written).await)
}

/// Stock writes whose answer was lost are read back before any base moves: a write the store shows is
/// applied; one it does not show failed (and is merged again next pass); one it cannot tell about — or
/// that cannot be read back — is kept as unconfirmed for the next pass to settle.
async fn confirm_lost_writes(
    store: &dyn StoreSide,
    steps: &[PairStep],
    written: HashMap<String, WriteFailure>,
) -> Applied {
    let mut applied = Applied::default();
    for step in steps {
        let sku = step.key();
        let Some(failure) = written.get(&sku) else {
            continue;
        };
        match (failure.unanswered, unconfirmed(step)) {
            (true, Some(write)) => {
                applied.unconfirmed.insert(sku, write);
            }
            _ => {
                applied.failed.insert(sku, failure.message.clone());
            }
        }
    }
    if applied.unconfirmed.is_empty() {
        return applied;
    }
    let skus: Vec<String> = steps
        .iter()
        .filter(|s| applied.unconfirmed.contains_key(&s.key()))
        .map(|s| s.pair.store_sku.clone())
        .collect();
    let Ok(now) = read_products(store, &skus).await else {
        return applied;
    };
    let Applied {
        failed,
        unconfirmed,
    } = &mut applied;
    unconfirmed.retain(|sku, u| {
        let store_now = now.get(sku).and_then(|p| p.stock_quantity);
        match u.check(store_now) {
            // Applied after all: the planned base stands, as if the answer had come.
            WriteCheck::Landed(_) => false,
            WriteCheck::NotLanded => {
                let message = written
                    .get(sku)
                    .map(|f| f.message.clone())
                    .unwrap_or_default();
                failed.insert(
                    sku.clone(),
                    format!("{message} (read back: the store did not apply it)"),
                );
                false
            }
            WriteCheck::Unknown => true,
        }
    });
    applied
}
