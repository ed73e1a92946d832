//! The receivers' writes while the store may be refusing them (locked by another process, disk full, I/O
//! trouble): a refusal is remembered, and for a moment after one every delivery is answered 503 at once
//! instead of queueing behind a write that waits out `busy_timeout_ms`. The sender delivers again later
//! (WooCommerce counts a failure, Metakocka retries), and the polls catch up on anything missed.

use std::time::Duration;

use crate::domain::time::now_ms;
use crate::store::{Store, StoreError};

/// After a refused write, deliveries within this long are refused without trying the store again.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Err (the reason, for a 503) while a write was refused less than [`PROBE_EVERY`] ago.
pub(crate) fn refuse_while_down(store: &Store) -> Result<(), String> {
    match store.outage() {
        Some(outage) if now_ms() - outage.last_try < PROBE_EVERY.as_millis() as i64 => {
            Err(format!("{} ({})", outage.headline(), outage.detail))
        }
        _ => Ok(()),
    }
}

/// A failed write in words for the 503; one the store will get over is remembered as an outage.
pub(crate) fn refused(store: &mut Store, error: &StoreError) -> String {
    match store.note_error(error) {
        Some(outage) => format!("{} ({})", outage.headline(), outage.detail),
        None => error.to_string(),
    }
}
