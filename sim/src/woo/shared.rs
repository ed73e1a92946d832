//! State shared by the HTTP handlers, the webhook sender and the test/demo handle.

use super::auth::Authenticator;
use super::store::Store;
use super::webhooks::WebhookHub;
use crate::faults::FaultControls;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

pub(crate) struct Shared {
    store: Mutex<Store>,
    pub auth: Authenticator,
    pub faults: FaultControls,
    counts: Mutex<BTreeMap<String, u64>>,
    pub hub: Arc<WebhookHub>,
    /// `http://addr` — for `Link` headers.
    pub base_url: String,
    /// `WooSimConfig::seed` when ties are shuffled: with `list_requests`, seeds the order of items that tie
    /// on the sort key. `None`: ties keep the id order.
    tie_seed: Option<u64>,
    list_requests: AtomicU64,
}

impl Shared {
    pub fn new(
        store: Store,
        auth: Authenticator,
        hub: Arc<WebhookHub>,
        base_url: String,
        tie_seed: Option<u64>,
    ) -> Self {
        Self {
            store: Mutex::new(store),
            auth,
            faults: FaultControls::default(),
            counts: Mutex::new(BTreeMap::new()),
            hub,
            base_url,
            tie_seed,
            list_requests: AtomicU64::new(0),
        }
    }

    /// A fresh random source for one list request: repeatable for a given seed and request number, different
    /// from one request to the next (the database returns tied rows in no fixed order). `None` when ties are
    /// not shuffled.
    pub fn tie_rng(&self) -> Option<fastrand::Rng> {
        let seed = self.tie_seed?;
        let n = self.list_requests.fetch_add(1, Ordering::Relaxed);
        Some(fastrand::Rng::with_seed(
            seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ))
    }

    /// Reads the store.
    pub fn read<R>(&self, f: impl FnOnce(&Store) -> R) -> R {
        f(&self.store.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Changes the store, then queues the webhook events the change fired (outside the lock).
    pub fn change<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let (result, events) = {
            let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
            let result = f(&mut store);
            (result, store.take_events())
        };
        self.hub.enqueue(events);
        result
    }

    pub fn count(&self, endpoint: String) {
        *self
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(endpoint)
            .or_default() += 1;
    }

    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn reset_counts(&self) {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
