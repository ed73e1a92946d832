//! The web store side of the stock and price passes: one trait the store's integration implements in its
//! folder (product reads by SKU, batch writes, the products changed since a time), and the reads and writes
//! both passes share on top of it.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt, TryStreamExt};

use crate::config::Config;
use crate::engine::{BoxFuture, JobError};
use crate::integrations::REGISTRY;
use crate::store::StoreError;
use crate::store::inventory::{self as stock_rows, AlignedSku};

/// SKUs per concurrent lookup task (each task still asks for 100 per request).
const STORE_READ_CHUNK: usize = 1_000;
const STORE_READS_IN_FLIGHT: usize = 4;

/// A product or a variation as the passes see it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreProduct {
    pub id: u64,
    /// The parent product of a variation.
    pub parent_id: Option<u64>,
    pub sku: String,
    pub name: String,
    pub stock_quantity: Option<i64>,
    /// Whether the store keeps a count for it at all.
    pub manage_stock: bool,
    /// Money as the store shows it, "" when unset.
    pub regular_price: String,
}

/// One item of a batch write: only the fields that are `Some` are changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreUpdate {
    pub id: u64,
    pub parent_id: Option<u64>,
    /// Names the item's outcome.
    pub sku: String,
    pub stock_quantity: Option<i64>,
    /// Money as the store takes it ("12.50").
    pub regular_price: Option<String>,
}

impl StoreUpdate {
    /// An update of `product` (by its id, under its parent), known by `sku`.
    pub fn of(product: &StoreProduct, sku: &str) -> Self {
        StoreUpdate {
            id: product.id,
            parent_id: product.parent_id,
            sku: sku.to_string(),
            ..Default::default()
        }
    }
}

/// An item of a batch write the store did not confirm applied.
#[derive(Debug, Clone)]
pub struct WriteFailure {
    /// The item's SKU, upper-cased.
    pub sku: String,
    /// "code: message"
    pub message: String,
    /// No answer about it (the request failed on the way, or the answer left it out): the store may have
    /// applied it, and the same request is worth another try.
    pub unanswered: bool,
    pub retry_after: Option<Duration>,
}

/// The web store a pass keeps in step.
pub trait StoreSide: Send + Sync {
    /// Its integration's name: the sales channel its web orders come from, the sync log's field prefix.
    fn system(&self) -> &'static str;

    /// A handle on the same store that counts the HTTP requests made through it.
    fn counting(&self) -> Box<dyn StoreSide>;

    /// Requests made through this handle (0 when it does not count).
    fn requests(&self) -> usize;

    /// Products and variations whose SKU is one of `skus` (100 per request).
    fn find_by_sku<'a>(
        &'a self,
        skus: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<StoreProduct>, JobError>>;

    /// The ids of the products changed after `after`.
    fn changed_after(&self, after: DateTime<Utc>) -> BoxFuture<'_, Result<Vec<u64>, JobError>>;

    /// Writes `updates` in batches of ≤100; returns the items not confirmed applied.
    fn write(&self, updates: Vec<StoreUpdate>) -> BoxFuture<'_, Vec<WriteFailure>>;

    /// Every SKU of every product and variation (`alignment suggest`).
    fn all_skus(&self) -> BoxFuture<'_, Result<Vec<String>, String>>;
}

/// The configured web store, from the registry: the enabled integration with a store side, else the
/// first that has one (a pass then fails on its connection, visibly).
pub fn store_side(config: &Config) -> Result<Box<dyn StoreSide>, String> {
    let with_store = || {
        REGISTRY.iter().filter_map(|i| match i.stock_source {
            Some(super::StockSide::Store { build }) => Some((i, build)),
            _ => None,
        })
    };
    let (_, build) = with_store()
        .find(|(i, _)| (i.enabled)(config))
        .or_else(|| with_store().next())
        .ok_or("no integration in this build is a web store")?;
    build(config)
}

/// The web store's integration, enabled or not: its name (config section) and label.
pub fn store_integration() -> Option<&'static crate::integrations::Integration> {
    REGISTRY
        .iter()
        .copied()
        .find(|i| matches!(i.stock_source, Some(super::StockSide::Store { .. })))
}

/// How an operator calls the web store (its integration's title), for text that names it.
pub fn store_label() -> &'static str {
    store_integration().map_or("store", |i| i.title)
}

/// The store's products and variations for `skus` (by upper-cased SKU), 100 per request, a few lookups in
/// flight at once (at 20 ms per request, 100,000 SKUs read one after another take 20 s).
pub async fn read_products(
    store: &dyn StoreSide,
    skus: &[String],
) -> Result<HashMap<String, StoreProduct>, JobError> {
    let products: Vec<StoreProduct> =
        stream::iter(skus.chunks(STORE_READ_CHUNK).map(<[String]>::to_vec))
            .map(|chunk| async move { store.find_by_sku(&chunk).await })
            .buffer_unordered(STORE_READS_IN_FLIGHT)
            .try_concat()
            .await?;
    Ok(products
        .into_iter()
        .map(|p| (p.sku.to_uppercase(), p))
        .collect())
}

/// Writes `updates` in batches of ≤100; returns the items not confirmed applied, by upper-cased SKU.
pub async fn write_updates(
    store: &dyn StoreSide,
    updates: Vec<StoreUpdate>,
) -> HashMap<String, WriteFailure> {
    if updates.is_empty() {
        return HashMap::new();
    }
    store
        .write(updates)
        .await
        .into_iter()
        .map(|f| (f.sku.clone(), f))
        .collect()
}

/// The store's product (and parent, for a variation) as the pair remembers it.
pub fn remember_product(
    conn: &rusqlite::Connection,
    pair: &AlignedSku,
    product: &StoreProduct,
) -> Result<(), StoreError> {
    stock_rows::set_product_ids(
        conn,
        pair.id,
        product.id as i64,
        product.parent_id.map(|p| p as i64),
    )?;
    crate::store::trace::remember_name(conn, pair.id, &product.name)
}
