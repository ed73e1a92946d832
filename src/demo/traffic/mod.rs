//! The shop's day, generated: web orders checked out in the store (they reach syncdesk by signed webhook),
//! sales rung up at the counter, Counterpoint taking in staged web orders and shipping them, and now and then
//! the store going down for a few seconds; retailers ordering on the Cartona marketplace and the warehouse
//! moving those orders on (pushed to Cartona, or held back when Cartona delivers them itself). A tracker
//! watches the database for what the engine made of it and reports each notable outcome once: orders
//! arriving, shipments completing orders, conflicts, failing jobs.
//!
//! `generate` drives the simulators, `warehouse` moves marketplace orders on as an operator would, `track`
//! narrates what the engine made of it all, `summary` closes the run.

mod generate;
mod summary;
mod track;
mod warehouse;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::Sender;

use syncdesk_sim::cartona::CartonaSim;
use syncdesk_sim::counterpoint::CounterpointSim;
use syncdesk_sim::smtp::SmtpSink;
use syncdesk_sim::woo::WooSim;

use super::feed::Feed;
use super::seed::{Item, MarketplaceOrder};
use crate::app::App;

pub use generate::generate;
pub use summary::summary;
pub use track::track;

/// Everything the generator drives.
pub struct Traffic {
    pub woo: Arc<WooSim>,
    pub cp: Arc<CounterpointSim>,
    pub cartona: Arc<CartonaSim>,
    /// The marketplace orders seeded in Cartona, for the tracker to report their import.
    pub marketplace: Vec<MarketplaceOrder>,
    /// The number of the next marketplace order a retailer places (`C-…`).
    pub next_marketplace_order: u32,
    pub smtp: Arc<SmtpSink>,
    pub app: App,
    pub skus: Arc<Vec<Item>>,
    pub locked_sku: String,
    pub feed: Feed,
    pub expect: Sender<Expect>,
    pub stopping: Arc<AtomicBool>,
}

/// What the generator did, for the closing summary.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub web_orders: usize,
    pub store_sales: usize,
    pub documents: usize,
    pub shipped: usize,
    pub outages: usize,
    pub marketplace_orders: usize,
    /// Cartona orders the warehouse moved to another status.
    pub warehouse_moves: usize,
}

/// What the tracker saw of Cartona pushes, for the closing summary.
#[derive(Debug, Default, Clone)]
pub struct Narrated {
    pub cartona_pushed: usize,
    pub cartona_blocked: usize,
    pub cartona_failed: usize,
}

/// An outcome the tracker should report once it shows in the database.
#[derive(Debug)]
pub enum Expect {
    WebOrder {
        woo_id: u64,
        lines: usize,
        customer: String,
    },
    Shipped {
        web_id: String,
        doc_id: i64,
    },
    DocumentDeleted {
        web_id: String,
    },
    /// The seeded marketplace orders, imported by the first pull.
    MarketplaceBacklog {
        orders: Vec<MarketplaceOrder>,
    },
    MarketplaceOrder {
        order: MarketplaceOrder,
    },
    /// The warehouse moved a Cartona order to `status`; the push pass should send `cartona_status`.
    CartonaPush {
        number: String,
        status: String,
        cartona_status: String,
    },
    /// The move is held back by the delivered_by rule (the link shows `blocked`).
    CartonaBlocked {
        number: String,
        status: String,
    },
}
