//! Order endpoints: the incremental `modified_after` poll, single reads, status changes and notes.

use super::error::WooError;
use super::http::WooClient;
use super::types::{WooOrder, WooOrderNote};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::json;

impl WooClient {
    /// Every order modified strictly after `after` (all orders when `None`), oldest change first, all pages.
    /// The store compares whole seconds and excludes `after` itself: callers should poll with an overlap
    /// window and de-duplicate on (id, date_modified_gmt).
    pub async fn list_orders_modified_after(
        &self,
        after: Option<DateTime<Utc>>,
    ) -> Result<Vec<WooOrder>, WooError> {
        let mut query = vec![
            ("orderby".to_string(), "modified".to_string()),
            ("order".to_string(), "asc".to_string()),
            ("dates_are_gmt".to_string(), "true".to_string()),
        ];
        if let Some(after) = after {
            // ISO 8601 without offset: with dates_are_gmt the store reads it as UTC.
            let text = after.to_rfc3339_opts(SecondsFormat::Secs, true);
            query.push((
                "modified_after".to_string(),
                text.trim_end_matches('Z').to_string(),
            ));
        }
        self.get_all("orders", &query).await
    }

    pub async fn get_order(&self, id: u64) -> Result<WooOrder, WooError> {
        let answer = self
            .call(Method::GET, &format!("orders/{id}"), &[], None)
            .await?;
        Self::decode(&answer)
    }

    /// Sets the order's status (`completed`, `cancelled`, a custom one…) and returns the order as stored.
    pub async fn update_order_status(&self, id: u64, status: &str) -> Result<WooOrder, WooError> {
        let body = json!({ "status": status });
        let answer = self
            .call(Method::PUT, &format!("orders/{id}"), &[], Some(&body))
            .await?;
        Self::decode(&answer)
    }

    /// Adds a note; `customer_note: true` makes it visible to (and emailed to) the customer.
    ///
    /// Not idempotent: a retry after a connection lost mid-request can add the note twice.
    pub async fn add_order_note(
        &self,
        id: u64,
        note: &str,
        customer_note: bool,
    ) -> Result<WooOrderNote, WooError> {
        let body = json!({ "note": note, "customer_note": customer_note });
        let answer = self
            .call(
                Method::POST,
                &format!("orders/{id}/notes"),
                &[],
                Some(&body),
            )
            .await?;
        Self::decode(&answer)
    }

    pub async fn list_order_notes(&self, id: u64) -> Result<Vec<WooOrderNote>, WooError> {
        let query = [("type".to_string(), "any".to_string())];
        let answer = self
            .call(Method::GET, &format!("orders/{id}/notes"), &query, None)
            .await?;
        Self::decode(&answer)
    }
}
