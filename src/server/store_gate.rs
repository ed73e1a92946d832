//! The receivers' writes while the store may be refusing them (locked by another process, disk full, I/O
//! trouble): a refusal is remembered, and for a moment after one every delivery is answered 503 at once
//! instead of queueing behind a write that waits out `busy_timeout_ms`. The sender delivers again later
//! (WooCommerce counts a failure, Metakocka retries), and the polls catch up on anything missed.

use std::time::Duration;

use rusqlite::Transaction;

use crate::domain::time::now_ms;
use crate::store::{Store, StoreError};

/// After a refused write, deliveries within this long are refused without trying the store again.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Runs `f` as one write transaction, or says why the store cannot take it now (for a 503).
pub(super) fn write_or_unavailable<T>(
    store: &mut Store,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
) -> Result<T, String> {
    if let Some(outage) = store.outage()
        && now_ms() - outage.last_try < PROBE_EVERY.as_millis() as i64
    {
        return Err(format!("{} ({})", outage.headline(), outage.detail));
    }
    store.write(f).map_err(|e| match store.note_error(&e) {
        Some(outage) => format!("{} ({})", outage.headline(), outage.detail),
        None => e.to_string(),
    })
}
