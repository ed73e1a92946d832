//! Product and variation endpoints: full listings, SKU lookups in short chunks, and batch updates split into
//! requests of at most 100 items whose every per-item error is reported.

use super::error::WooError;
use super::http::{PER_PAGE, WooClient};
use super::types::{AppliedItem, BatchOutcome, FailedItem, ItemKey, ProductUpdate, WooProduct};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct BatchEntryError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Option<BatchErrorData>,
}

#[derive(Deserialize)]
struct BatchErrorData {
    #[serde(default)]
    status: Option<u16>,
}

#[derive(Deserialize)]
struct BatchResponse {
    /// Each entry is the updated product, or `{id, error}` for an item the store refused.
    #[serde(default)]
    update: Vec<serde_json::Value>,
}

impl WooClient {
    /// All top-level products (variations are listed per parent with `list_variations`).
    pub async fn list_products(&self) -> Result<Vec<WooProduct>, WooError> {
        let query = [
            ("orderby".to_string(), "id".to_string()),
            ("order".to_string(), "asc".to_string()),
        ];
        self.get_all("products", &query).await
    }

    /// Top-level products modified strictly after `after` (whole seconds; poll with an overlap).
    pub async fn list_products_modified_after(
        &self,
        after: DateTime<Utc>,
    ) -> Result<Vec<WooProduct>, WooError> {
        let text = after.to_rfc3339_opts(SecondsFormat::Secs, true);
        let query = [
            ("orderby".to_string(), "id".to_string()),
            ("order".to_string(), "asc".to_string()),
            ("dates_are_gmt".to_string(), "true".to_string()),
            (
                "modified_after".to_string(),
                text.trim_end_matches('Z').to_string(),
            ),
        ];
        self.get_all("products", &query).await
    }

    pub async fn list_variations(&self, product_id: u64) -> Result<Vec<WooProduct>, WooError> {
        let query = [
            ("orderby".to_string(), "id".to_string()),
            ("order".to_string(), "asc".to_string()),
        ];
        self.get_all(&format!("products/{product_id}/variations"), &query)
            .await
    }

    pub async fn get_product(&self, id: u64) -> Result<WooProduct, WooError> {
        let answer = self
            .call(Method::GET, &format!("products/{id}"), &[], None)
            .await?;
        Self::decode(&answer)
    }

    /// Products and variations whose SKU is exactly one of `skus` (empty SKUs are skipped). Looked up
    /// `sku_chunk` at a time so URLs stay short.
    pub async fn find_products_by_sku(&self, skus: &[String]) -> Result<Vec<WooProduct>, WooError> {
        let wanted: Vec<&str> = skus
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        let mut found = Vec::new();
        for chunk in wanted.chunks(self.config().sku_chunk.clamp(1, PER_PAGE)) {
            let query = [("sku".to_string(), chunk.join(","))];
            found.extend(self.get_all::<WooProduct>("products", &query).await?);
        }
        Ok(found)
    }

    /// Applies `updates` in requests of at most 100 items (variations through their parent's endpoint).
    /// Never fails as a whole: a request that fails marks its items failed with that error (retryable or not),
    /// so the caller always learns which items were applied.
    pub async fn batch_update_products(&self, updates: Vec<ProductUpdate>) -> BatchOutcome {
        let mut by_endpoint: BTreeMap<String, Vec<ProductUpdate>> = BTreeMap::new();
        for update in updates {
            let path = match update.parent_id {
                Some(parent) if parent != 0 => format!("products/{parent}/variations/batch"),
                _ => "products/batch".to_string(),
            };
            by_endpoint.entry(path).or_default().push(update);
        }
        let mut outcome = BatchOutcome::default();
        for (path, items) in by_endpoint {
            for chunk in items.chunks(PER_PAGE) {
                outcome.requests += 1;
                self.batch_chunk(&path, chunk, &mut outcome).await;
            }
        }
        outcome
    }

    async fn batch_chunk(&self, path: &str, chunk: &[ProductUpdate], outcome: &mut BatchOutcome) {
        let body = serde_json::json!({ "update": chunk });
        // Absolute quantities: resent after a sale, they would undo it. The caller reads back instead.
        let parsed = match self
            .call_unrepeated(Method::POST, path, &[], Some(&body))
            .await
        {
            Ok(answer) => Self::decode::<BatchResponse>(&answer).map(|r| (answer.endpoint, r)),
            Err(error) => Err(error),
        };
        let (endpoint, response) = match parsed {
            Ok(ok) => ok,
            Err(error) => {
                for item in chunk {
                    outcome.failed.push(request_failure(item, &error));
                }
                return;
            }
        };
        // Input positions not yet answered; an id may legitimately appear twice in one chunk.
        let mut pending: Vec<Option<&ProductUpdate>> = chunk.iter().map(Some).collect();
        for (index, entry) in response.update.into_iter().enumerate() {
            // WooCommerce answers in request order; when the id disagrees, find the item by id instead.
            let entry_id = entry.get("id").and_then(serde_json::Value::as_u64);
            let same_position = chunk
                .get(index)
                .is_some_and(|u| entry_id.is_none_or(|id| id == u.id));
            let position = if same_position {
                Some(index)
            } else {
                pending
                    .iter()
                    .position(|p| p.is_some_and(|u| Some(u.id) == entry_id))
            };
            let Some(item) = position
                .and_then(|i| pending.get_mut(i))
                .and_then(Option::take)
            else {
                continue;
            };
            let key = item_key(item);
            if let Some(error) = entry.get("error") {
                let error =
                    BatchEntryError::deserialize(error).unwrap_or_else(|e| BatchEntryError {
                        code: "malformed_response".into(),
                        message: format!("{endpoint}: unreadable error for id {}: {e}", item.id),
                        data: None,
                    });
                outcome.failed.push(FailedItem {
                    key,
                    id: item.id,
                    code: error.code,
                    message: error.message,
                    status: error.data.and_then(|d| d.status),
                    retryable: false,
                    retry_after: None,
                });
                continue;
            }
            match serde_path_to_error::deserialize::<_, WooProduct>(entry) {
                Ok(product) => outcome.applied.push(AppliedItem { key, product }),
                Err(e) => outcome.failed.push(FailedItem {
                    key,
                    id: item.id,
                    code: "malformed_response".into(),
                    message: format!(
                        "{endpoint}: malformed response at `update[{index}].{}`: {}",
                        e.path(),
                        e.inner()
                    ),
                    status: None,
                    retryable: false,
                    retry_after: None,
                }),
            }
        }
        // Items the store did not mention were not confirmed: report them rather than assume success.
        for item in pending.into_iter().flatten() {
            outcome.failed.push(FailedItem {
                key: item_key(item),
                id: item.id,
                code: "missing_from_response".into(),
                message: format!(
                    "{endpoint}: the batch response has no entry for id {}",
                    item.id
                ),
                status: None,
                retryable: true,
                retry_after: None,
            });
        }
    }
}

fn item_key(item: &ProductUpdate) -> ItemKey {
    match &item.sku {
        Some(sku) if !sku.is_empty() => ItemKey::Sku(sku.clone()),
        _ => ItemKey::Id(item.id),
    }
}

fn request_failure(item: &ProductUpdate, error: &WooError) -> FailedItem {
    FailedItem {
        key: item_key(item),
        id: item.id,
        code: error.code().unwrap_or("request_failed").to_string(),
        message: error.to_string(),
        status: error.status(),
        retryable: error.is_retryable(),
        retry_after: error.retry_after(),
    }
}
