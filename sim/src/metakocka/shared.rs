//! State shared by the HTTP handlers, the webhook sender and the test/demo handle.

use super::store::Store;
use super::webhooks::WebhookSender;
use crate::faults::FaultControls;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

pub(crate) struct Shared {
    store: Mutex<Store>,
    pub company_id: String,
    pub secret_key: String,
    pub faults: FaultControls,
    counts: Mutex<BTreeMap<String, u64>>,
    /// Operation → how many more calls are applied but never answered.
    lost_answers: Mutex<BTreeMap<String, u32>>,
    pub webhooks: Arc<WebhookSender>,
    pub base_url: String,
}

impl Shared {
    pub fn new(
        store: Store,
        company_id: String,
        secret_key: String,
        webhooks: Arc<WebhookSender>,
        base_url: String,
    ) -> Self {
        Self {
            store: Mutex::new(store),
            company_id,
            secret_key,
            faults: FaultControls::default(),
            counts: Mutex::new(BTreeMap::new()),
            lost_answers: Mutex::new(BTreeMap::new()),
            webhooks,
            base_url,
        }
    }

    pub fn read<R>(&self, f: impl FnOnce(&Store) -> R) -> R {
        f(&self.store.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Changes the store, then sends one stock webhook for the rows the change touched.
    pub fn change<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let (result, rows) = {
            let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
            let result = f(&mut store);
            let changed: BTreeSet<(String, String)> = store.changed.drain(..).collect();
            let rows: Vec<_> = changed
                .iter()
                .filter_map(|key| store.stock.get(key).map(|rec| store.stock_row(key, rec)))
                .collect();
            (result, rows)
        };
        self.webhooks.send(rows);
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

    pub fn lose_answers(&self, op: &str, calls: u32) {
        self.lost_answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(op.to_string(), calls);
    }

    /// True when this call of `op` is applied but its answer must be lost.
    pub fn take_lost_answer(&self, op: &str) -> bool {
        let mut lost = self
            .lost_answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match lost.get_mut(op) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
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
