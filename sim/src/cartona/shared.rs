//! State shared by the HTTP handlers and the test/demo handle: the store, auth, faults and request counts.

use super::store::Store;
use crate::faults::FaultControls;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

pub(crate) struct Shared {
    store: Mutex<Store>,
    pub auth_header: String,
    /// The whole expected header value (prefix + token).
    pub auth_value: String,
    pub max_per_page: usize,
    pub faults: FaultControls,
    counts: Mutex<BTreeMap<String, u64>>,
    pub base_url: String,
}

impl Shared {
    pub fn new(
        store: Store,
        auth_header: String,
        auth_value: String,
        max_per_page: usize,
        base_url: String,
    ) -> Self {
        Self {
            store: Mutex::new(store),
            auth_header,
            auth_value,
            max_per_page,
            faults: FaultControls::default(),
            counts: Mutex::new(BTreeMap::new()),
            base_url,
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.store.lock().unwrap_or_else(PoisonError::into_inner))
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
