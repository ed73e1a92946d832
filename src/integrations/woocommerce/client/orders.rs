//! Order endpoints: windows of changed orders read so that no order can hide between pages, single reads,
//! status changes and notes.

use std::collections::BTreeMap;

use super::error::WooError;
use super::http::WooClient;
use super::types::{WooOrder, WooOrderNote};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::json;

/// How many times a window is read again when orders moved between its pages during a read.
const MAX_WINDOW_READS: usize = 4;

/// Which orders to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderWindow {
    /// Orders modified strictly after this (whole seconds, UTC); `None`: no lower bound.
    pub modified_after: Option<DateTime<Utc>>,
    /// Only these store statuses (`processing`, `on-hold`…); empty: every status the store lists by default.
    pub statuses: Vec<String>,
}

/// What listing a window took.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowRead {
    /// Each order once (the newest copy read), by id.
    pub orders: Vec<WooOrder>,
    /// Whole reads of the window (more than one when the list changed under a read).
    pub reads: usize,
}

impl WooClient {
    /// Every order in `window`, each exactly once.
    ///
    /// Real stores sort `orderby=modified` with no tie-breaker, so orders sharing a modification second can
    /// swap places between two page requests and one of them is never seen. Ids are unique and never change,
    /// so pages in id order cannot swap; an order that leaves the window while it is read (trashed, say) could
    /// still shift the rest by one, so when the list's size changed between the first and last page the window
    /// is read again and the reads are united.
    pub async fn list_orders_in(&self, window: &OrderWindow) -> Result<WindowRead, WooError> {
        let mut query = vec![
            ("orderby".to_string(), "id".to_string()),
            ("order".to_string(), "asc".to_string()),
            ("dates_are_gmt".to_string(), "true".to_string()),
        ];
        if let Some(after) = window.modified_after {
            // ISO 8601 without offset: with dates_are_gmt the store reads it as UTC.
            let text = after.to_rfc3339_opts(SecondsFormat::Secs, true);
            query.push((
                "modified_after".to_string(),
                text.trim_end_matches('Z').to_string(),
            ));
        }
        if !window.statuses.is_empty() {
            query.push(("status".to_string(), window.statuses.join(",")));
        }
        let mut by_id: BTreeMap<u64, WooOrder> = BTreeMap::new();
        let mut reads = 0;
        loop {
            let pages = self.get_pages::<WooOrder>("orders", &query).await?;
            reads += 1;
            for order in pages.items {
                let newer = by_id
                    .get(&order.id)
                    .is_none_or(|held| held.date_modified_gmt <= order.date_modified_gmt);
                if newer {
                    by_id.insert(order.id, order);
                }
            }
            if pages.stable || reads >= MAX_WINDOW_READS {
                return Ok(WindowRead {
                    orders: by_id.into_values().collect(),
                    reads,
                });
            }
        }
    }

    /// Every order modified strictly after `after` (all orders when `None`), each once, in id order.
    /// The store compares whole seconds and excludes `after` itself: callers should poll with an overlap.
    pub async fn list_orders_modified_after(
        &self,
        after: Option<DateTime<Utc>>,
    ) -> Result<Vec<WooOrder>, WooError> {
        let window = OrderWindow {
            modified_after: after,
            statuses: Vec::new(),
        };
        Ok(self.list_orders_in(&window).await?.orders)
    }

    pub async fn get_order(&self, id: u64) -> Result<WooOrder, WooError> {
        let answer = self
            .call(Method::GET, &format!("orders/{id}"), &[], None)
            .await?;
        Self::decode(&answer)
    }

    /// Sets the order's status (`completed`, `cancelled`, a custom one…) and returns the order as stored.
    /// Setting a status is idempotent, so this call is retried like a read.
    pub async fn update_order_status(&self, id: u64, status: &str) -> Result<WooOrder, WooError> {
        let body = json!({ "status": status });
        let answer = self
            .call(Method::PUT, &format!("orders/{id}"), &[], Some(&body))
            .await?;
        Self::decode(&answer)
    }

    /// Adds a note; `customer_note: true` makes it visible to (and emailed to) the customer.
    ///
    /// Sent once, never repeated here: a note whose answer was lost has usually been added already, so the
    /// caller must list the notes before sending it again.
    pub async fn add_order_note(
        &self,
        id: u64,
        note: &str,
        customer_note: bool,
    ) -> Result<WooOrderNote, WooError> {
        let body = json!({ "note": note, "customer_note": customer_note });
        let answer = self
            .call_unrepeated(
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
