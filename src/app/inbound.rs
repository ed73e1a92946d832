//! Deliveries from other systems (webhooks), as the store takes them: each is recorded once, in one
//! transaction with what it sets in motion (a job, a stock hint), before the receiver answers.
//!
//! The store may be refusing writes (locked by another process, disk full, I/O trouble): a refusal is
//! remembered, and for a moment after one every delivery is answered at once instead of queueing behind a
//! write that waits out `busy_timeout_ms`. The sender delivers again later (a store counts a failure, an
//! ERP retries), and the polls catch up on anything missed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use crate::config::Config;
use crate::domain::JobKind;
use crate::domain::time::{Millis, now_ms};
use crate::store::sync_log::{self, Change};
use crate::store::{Store, StoreError, inbound, inventory};

/// After a refused write, deliveries within this long are refused without trying the store again.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Records the delivery `(system, dedupe_key)` once and applies `effect` with it, in one transaction on a
/// blocking thread. `Ok(None)`: already recorded, nothing done. `Err`: why the store could not take it (for
/// a 503).
pub async fn accept_once<T, F>(
    store: Arc<Mutex<Store>>,
    system: &'static str,
    dedupe_key: String,
    effect: F,
) -> Result<Option<T>, String>
where
    T: Send + 'static,
    F: FnOnce(&Connection, Millis) -> Result<T, StoreError> + Send + 'static,
{
    write(store, move |tx, now| {
        if !inbound::record_once(tx, system, &dedupe_key, now)? {
            return Ok(None);
        }
        effect(tx, now).map(Some)
    })
    .await
}

/// Applies `effect` in one transaction on a blocking thread, unless the store refused a write a moment ago.
pub async fn write<T, F>(store: Arc<Mutex<Store>>, effect: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(&Connection, Millis) -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let mut store = store
            .lock()
            .map_err(|_| "store lock poisoned".to_string())?;
        refuse_while_down(&store)?;
        store
            .write(|tx| effect(tx, now_ms()))
            .map_err(|e: StoreError| refused(&mut store, &e))
    })
    .await
    .map_err(|e| e.to_string())?
}

/// A job to run because of a delivery (a refresh of what it names): returns the job.
pub fn enqueue_job(
    tx: &Connection,
    config: &Config,
    kind: JobKind,
    key: String,
    payload: serde_json::Value,
    now: Millis,
) -> Result<i64, StoreError> {
    crate::integrations::enqueue(tx, config, kind, Some(key), payload, now)
}

/// A product changed in the store: remembered for the next incremental stock pass (hints coalesce by id).
pub fn hint_product(tx: &Connection, product_id: i64, now: Millis) -> Result<(), StoreError> {
    inventory::hint_product(tx, product_id, now)
}

/// One stock row a back office reported: in the sync log, and a hint for the next incremental pass when it
/// is of the watched warehouse and an aligned POS item.
pub struct StockReport<'a> {
    pub system: &'a str,
    pub code: &'a str,
    /// The sync-log field, e.g. `<system>.free_amount`.
    pub field: &'a str,
    pub value: String,
    pub reason: String,
    pub watched: bool,
}

pub fn stock_reported(tx: &Connection, row: &StockReport, now: Millis) -> Result<(), StoreError> {
    sync_log::record(
        tx,
        &Change {
            source: row.system,
            entity: "stock",
            entity_key: row.code,
            field: row.field,
            new_value: Some(&row.value),
            reason: Some(&row.reason),
            ..Default::default()
        },
        now,
    )?;
    if !row.watched {
        return Ok(());
    }
    if let Some(product) = inventory::find(tx, row.code)?
        .filter(|a| a.pos_sku.eq_ignore_ascii_case(row.code))
        .and_then(|a| a.store_product_id)
    {
        inventory::hint_product(tx, product, now)?;
    }
    Ok(())
}

/// Err (the reason, for a 503) while a write was refused less than [`PROBE_EVERY`] ago.
fn refuse_while_down(store: &Store) -> Result<(), String> {
    match store.outage() {
        Some(outage) if now_ms() - outage.last_try < PROBE_EVERY.as_millis() as i64 => {
            Err(format!("{} ({})", outage.headline(), outage.detail))
        }
        _ => Ok(()),
    }
}

/// A failed write in words for the 503; one the store will get over is remembered as an outage.
fn refused(store: &mut Store, error: &StoreError) -> String {
    match store.note_error(error) {
        Some(outage) => format!("{} ({})", outage.headline(), outage.detail),
        None => error.to_string(),
    }
}
