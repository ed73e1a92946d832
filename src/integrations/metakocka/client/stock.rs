//! `warehouse_stock`: amounts per product and warehouse (with reservations when the company uses them),
//! paging through Metakocka's 1000-row window.

use super::error::MetakockaError;
use super::http::{MetakockaClient, Resend};
use super::types::StockRow;
use serde_json::{Map, Value};

impl MetakockaClient {
    /// Stock rows for the given warehouses (all when empty), optionally limited to product codes.
    pub async fn warehouse_stock(
        &self,
        wh_ids: &[String],
        product_codes: &[String],
    ) -> Result<Vec<StockRow>, MetakockaError> {
        let limit = self.config().stock_limit as usize;
        let mut all = Vec::new();
        let mut offset = 0usize;
        loop {
            let mut params = Map::new();
            if !wh_ids.is_empty() {
                params.insert("wh_id_list".into(), Value::String(wh_ids.join(",")));
            }
            if !product_codes.is_empty() {
                params.insert(
                    "product_code_list".into(),
                    Value::String(product_codes.join(",")),
                );
            }
            params.insert("offset".into(), Value::String(offset.to_string()));
            params.insert("limit".into(), Value::String(limit.to_string()));
            let answer = self.call("warehouse_stock", params, Resend::Safe).await?;
            let list = answer
                .body
                .get("stock_list")
                .cloned()
                .unwrap_or(Value::Array(Vec::new()));
            let rows: Vec<StockRow> = Self::decode(&answer, "stock_list", list)?;
            let got = rows.len();
            all.extend(rows);
            offset += got;
            // No total in the answer: a short window is the last one.
            if got < limit {
                return Ok(all);
            }
        }
    }
}
