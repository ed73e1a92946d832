//! The Metakocka ERP flows, as job handlers. `metakocka.sync_order` brings one order's sales order in line
//! with the order as it is when the job runs: create it (after checking the warehouse's free stock; the
//! sales order reserves it), then send status changes, the shipment (tracking, carrier, shipped date: the
//! reservation is consumed) or the cancellation (reason: the reservation is released). Every change is
//! checked against our workflow and the company's status mapping before anything is sent.
//! `metakocka.pull_orders` imports sales orders entered in Metakocka through the channel import.
//!
//! A `put_document` that went unanswered may have created the order: the link then says `sending`, and the
//! next attempt looks the order up by `buyer_order` before it would create anything.
//!
//! `plan` reads an order and decides its next step (pure rules), `sync_order` carries the steps out
//! against Metakocka and records them, `pull` brings Metakocka's own sales orders in.

mod plan;
mod pull;
mod sync_order;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::{Config, MetakockaSection};
use crate::engine::{JobError, SharedClient, job_error};
use crate::integrations::metakocka::client::{MetakockaClient, MetakockaConfig, MetakockaError};

pub use pull::{MissingDocument, channel_order, missing_in_syncdesk, pull};
pub use sync_order::sync_order;

pub(super) const SALES_ORDER: &str = "sales_order";
/// The highest mk_id the pull has considered: unlinked documents above it are new.
pub(super) const WATERMARK: &str = "metakocka.orders.mk_id";

/// Builds the API client from config.
pub fn client(cfg: &MetakockaSection) -> Result<MetakockaClient, MetakockaError> {
    let mut c = MetakockaConfig::new(
        cfg.base_url.trim(),
        cfg.company_id.trim(),
        cfg.secret_key.expose(),
    );
    c.timeout = std::time::Duration::from_secs(cfg.timeout_secs.max(1));
    c.max_attempts = cfg.max_attempts.max(1);
    MetakockaClient::new(c)
}

pub(super) fn db(e: impl std::fmt::Display) -> JobError {
    JobError::retry(e.to_string())
}

/// A connector error with what we were doing, keeping Metakocka's own `opr_code`/`opr_desc` text.
pub(super) fn failed(context: &str, e: MetakockaError) -> JobError {
    let mut error = job_error(e);
    error.message = format!("{context}: {}", error.message);
    error
}

type Mk = SharedClient<MetakockaClient>;

/// Per-order serialisation: two jobs for one order (a running one and its successor) never interleave.
#[derive(Default)]
struct OrderLocks(Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>);

impl OrderLocks {
    fn get(&self, order_id: i64) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, lock| Arc::strong_count(lock) > 1);
        map.entry(order_id).or_default().clone()
    }
}

pub struct SyncOrder {
    client: Mk,
    locks: OrderLocks,
}
pub struct PullOrders(Mk);

impl SyncOrder {
    pub fn new(config: &Config) -> Self {
        SyncOrder {
            client: SharedClient::new(client(&config.metakocka)),
            locks: OrderLocks::default(),
        }
    }
}
impl PullOrders {
    pub fn new(config: &Config) -> Self {
        PullOrders(SharedClient::new(client(&config.metakocka)))
    }
}
