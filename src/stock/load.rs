//! The load step of a stock pass: what the store remembers (aligned pairs, the last pass, hints, online
//! sales since, the POS source's own marks), and from it which products and POS items to look at.

use std::collections::{BTreeSet, HashMap};

use super::{PassMode, PosSource, SourceMemo, StoreSide};
use crate::app;
use crate::engine::{JobContext, JobError};
use crate::store::inventory::{self as stock_rows, AlignedSku};
use crate::store::{StoreError, jobs, watermarks};

/// When the last pass recorded its results (ms).
pub(super) const LAST_PASS: &str = "stock.last_pass_at";

/// What a pass starts from.
pub(super) struct Loaded {
    /// Aligned pairs, less those whose operator resolution is still to be written.
    pub pairs: Vec<AlignedSku>,
    pub last_pass: Option<i64>,
    /// Store products hinted at (by webhook) since the last pass.
    pub hints: Vec<i64>,
    pub memo: SourceMemo,
    /// Units sold online since the last pass, by upper-cased store SKU.
    pub sales: HashMap<String, i64>,
}

pub(super) fn db(e: StoreError) -> JobError {
    JobError::retry(e.to_string())
}

/// Everything a pass starts from, in one read of the store.
pub(super) async fn load(
    ctx: &JobContext,
    pos: &dyn PosSource,
    channel: &'static str,
) -> Result<Loaded, JobError> {
    let memo_rows = pos.memo_rows();
    let (pairs, last_pass, hints, sales, memo) = ctx
        .with_store(move |s| {
            let conn = s.conn();
            let last_pass = watermarks::get(conn, LAST_PASS)
                .map_err(db)?
                .and_then(|v| v.parse::<i64>().ok());
            let pending: BTreeSet<String> =
                jobs::pending_keys(conn, app::STOCK_APPLY_RESOLUTION.as_str())
                    .map_err(db)?
                    .into_iter()
                    .collect();
            let hints = stock_rows::hints(conn).map_err(db)?;
            // A pair whose operator resolution is not written yet would only raise its conflict again.
            let pairs: Vec<AlignedSku> = stock_rows::aligned(conn)
                .map_err(db)?
                .into_iter()
                .filter(|p| !pending.contains(&format!("stock:{}", p.store_sku)))
                .collect();
            let memo = (memo_rows.load)(conn, channel).map_err(db)?;
            let sales = stock_rows::channel_sales_since(conn, channel, last_pass.unwrap_or(0))
                .map_err(db)?
                .into_iter()
                .map(|(k, v)| (k.to_uppercase(), v))
                .collect();
            Ok((pairs, last_pass, hints, sales, memo))
        })
        .await?;
    Ok(Loaded {
        pairs,
        last_pass,
        hints,
        memo,
        sales,
    })
}

/// The store's products worth a look: the hints, and on an incremental pass the products changed since the
/// last pass (the poll half of the hints: webhooks are one attempt and can be disabled), with an overlap for
/// whole-second dates. One request when little changed.
pub(super) async fn hinted(
    store: &dyn StoreSide,
    mode: PassMode,
    loaded: &Loaded,
) -> Result<BTreeSet<i64>, JobError> {
    let mut hinted: BTreeSet<i64> = loaded.hints.iter().copied().collect();
    if mode == PassMode::Incremental
        && let Some(last) = loaded
            .last_pass
            .and_then(chrono::DateTime::from_timestamp_millis)
    {
        let changed = store
            .changed_after(last - chrono::Duration::seconds(30))
            .await?;
        hinted.extend(changed.iter().map(|id| *id as i64));
    }
    Ok(hinted)
}

/// For a source without a change watermark, on an incremental pass: the POS items to re-read — hinted,
/// sold online, in a web order not yet accounted for, or never synced. Empty otherwise.
pub(super) fn wanted(
    pos: &dyn PosSource,
    mode: PassMode,
    loaded: &Loaded,
    hinted: &BTreeSet<i64>,
) -> Vec<String> {
    if !(pos.reads_by_item() && mode == PassMode::Incremental) {
        return Vec::new();
    }
    let ordered: BTreeSet<String> = loaded
        .memo
        .linked
        .iter()
        .flat_map(|o| o.lines.iter().map(|(sku, _)| sku.to_uppercase()))
        .collect();
    loaded
        .pairs
        .iter()
        .filter(|p| {
            let sku = p.store_sku.to_uppercase();
            p.base.is_none()
                || p.store_product_id.is_some_and(|id| hinted.contains(&id))
                || loaded.sales.contains_key(&sku)
                || ordered.contains(&sku)
        })
        .map(|p| p.pos_sku.clone())
        .collect()
}
