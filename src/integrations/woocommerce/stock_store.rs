//! WooCommerce as the web store side of the stock and price passes: products read by SKU, stock and
//! regular prices written in batches, products changed since a time (the poll half of the store's hints).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::client::{ItemKey, ProductUpdate, RequestCounter, WooClient, WooProduct};
use crate::config::Config;
use crate::engine::{BoxFuture, JobError, job_error};
use crate::stock::{StoreProduct, StoreSide, StoreUpdate, WriteFailure};

/// Builds the store side from `[woocommerce]` (the registry's stock-source entry).
pub fn build(config: &Config) -> Result<Box<dyn StoreSide>, String> {
    super::client(&config.woocommerce)
        .map(|c| Box::new(c) as Box<dyn StoreSide>)
        .map_err(|e| e.to_string())
}

impl From<WooProduct> for StoreProduct {
    fn from(p: WooProduct) -> Self {
        StoreProduct {
            id: p.id,
            parent_id: (p.parent_id != 0).then_some(p.parent_id),
            sku: p.sku,
            name: p.name,
            stock_quantity: p.stock_quantity,
            manage_stock: p.manage_stock,
            regular_price: p.regular_price,
        }
    }
}

/// A client that counts its requests, with the counter to read them from.
struct Counted {
    client: WooClient,
    counter: RequestCounter,
}

impl StoreSide for WooClient {
    fn system(&self) -> &'static str {
        super::SYSTEM
    }

    fn counting(&self) -> Box<dyn StoreSide> {
        let counter = RequestCounter::default();
        Box::new(Counted {
            client: WooClient::counting(self, &counter),
            counter,
        })
    }

    fn requests(&self) -> usize {
        0
    }

    fn find_by_sku<'a>(
        &'a self,
        skus: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<StoreProduct>, JobError>> {
        Box::pin(async move {
            let products = self.find_products_by_sku(skus).await.map_err(job_error)?;
            Ok(products.into_iter().map(StoreProduct::from).collect())
        })
    }

    fn changed_after(&self, after: DateTime<Utc>) -> BoxFuture<'_, Result<Vec<u64>, JobError>> {
        Box::pin(async move {
            let changed = self
                .list_products_modified_after(after)
                .await
                .map_err(job_error)?;
            Ok(changed.iter().map(|p| p.id).collect())
        })
    }

    fn write(&self, updates: Vec<StoreUpdate>) -> BoxFuture<'_, Vec<WriteFailure>> {
        Box::pin(batch_write(self, updates))
    }

    fn all_skus(&self) -> BoxFuture<'_, Result<Vec<String>, String>> {
        Box::pin(async move {
            let mut skus = Vec::new();
            for p in self.list_products().await.map_err(|e| e.to_string())? {
                if !p.variations.is_empty() {
                    let variations = self.list_variations(p.id).await;
                    skus.extend(
                        variations
                            .map_err(|e| e.to_string())?
                            .into_iter()
                            .map(|v| v.sku),
                    );
                }
                skus.push(p.sku);
            }
            Ok(skus)
        })
    }
}

impl StoreSide for Counted {
    fn system(&self) -> &'static str {
        super::SYSTEM
    }

    fn counting(&self) -> Box<dyn StoreSide> {
        StoreSide::counting(&self.client)
    }

    fn requests(&self) -> usize {
        self.counter.get()
    }

    fn find_by_sku<'a>(
        &'a self,
        skus: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<StoreProduct>, JobError>> {
        self.client.find_by_sku(skus)
    }

    fn changed_after(&self, after: DateTime<Utc>) -> BoxFuture<'_, Result<Vec<u64>, JobError>> {
        self.client.changed_after(after)
    }

    fn write(&self, updates: Vec<StoreUpdate>) -> BoxFuture<'_, Vec<WriteFailure>> {
        self.client.write(updates)
    }

    fn all_skus(&self) -> BoxFuture<'_, Result<Vec<String>, String>> {
        self.client.all_skus()
    }
}

/// One batch update (split per endpoint by the client); failures named by upper-cased SKU.
async fn batch_write(client: &WooClient, updates: Vec<StoreUpdate>) -> Vec<WriteFailure> {
    let sku_of: HashMap<u64, String> = updates
        .iter()
        .map(|u| (u.id, u.sku.to_uppercase()))
        .collect();
    let updates = updates
        .into_iter()
        .map(|u| ProductUpdate {
            id: u.id,
            parent_id: u.parent_id,
            sku: Some(u.sku),
            stock_quantity: u.stock_quantity,
            regular_price: u.regular_price,
            ..Default::default()
        })
        .collect();
    let outcome = client.batch_update_products(updates).await;
    outcome
        .failed
        .into_iter()
        .map(|f| WriteFailure {
            sku: match &f.key {
                ItemKey::Sku(s) => s.to_uppercase(),
                ItemKey::Id(id) => sku_of.get(id).cloned().unwrap_or_default(),
            },
            message: format!("{}: {}", f.code, f.message),
            // A refusal names the item; a whole request that failed retryably may have been applied.
            unanswered: f.retryable,
            retry_after: f.retry_after,
        })
        .collect()
}
