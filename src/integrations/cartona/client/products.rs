//! Product endpoints: `base-product/bulk-update-stock` (Cartona divides the quantity by the product's
//! `unit_count`, so the caller sends the supplier's own units).

use super::error::CartonaError;
use super::http::CartonaClient;
use super::types::{StockOutcome, StockUpdate};
use reqwest::Method;

/// Items per request, to keep bodies small.
const STOCK_CHUNK: usize = 100;

impl CartonaClient {
    /// Sets absolute stock levels, in chunks; the outcomes are summed.
    pub async fn bulk_update_stock(
        &self,
        updates: &[StockUpdate],
    ) -> Result<StockOutcome, CartonaError> {
        let mut total = StockOutcome::default();
        for chunk in updates.chunks(STOCK_CHUNK) {
            let body =
                serde_json::to_value(chunk).map_err(|e| CartonaError::Config(e.to_string()))?;
            let answer = self
                .call(
                    Method::POST,
                    "base-product/bulk-update-stock",
                    &[],
                    Some(&body),
                )
                .await?;
            let outcome: StockOutcome = if answer.body.iter().all(u8::is_ascii_whitespace) {
                StockOutcome::default()
            } else {
                Self::decode(&answer)?
            };
            total.updated += outcome.updated;
            total.not_found.extend(outcome.not_found);
        }
        Ok(total)
    }
}
