//! Order endpoints: the paged `pull-orders`, status updates (bulk, single, the `synced` acknowledgement)
//! and `update-order-details`.

use super::error::CartonaError;
use super::http::{Answer, CartonaClient, error_message};
use super::types::{CartonaOrder, LineChange, OrderStatus, StatusUpdate};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;

/// Stops a server that keeps returning full pages from looping us forever.
const MAX_PAGES: u32 = 10_000;

impl CartonaClient {
    /// Every order Cartona lists for the window, all pages. `None` bounds are left to Cartona (whose default
    /// window is the last 24 h). Acknowledged (`synced`) orders are not listed, so acknowledge after the
    /// whole pull: acknowledging between pages shifts the later pages and skips orders.
    pub async fn pull_orders(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<CartonaOrder>, CartonaError> {
        let per_page = self.config().per_page;
        let mut base = Vec::new();
        if let Some(from) = from {
            base.push(("from".to_string(), stamp(from)));
        }
        if let Some(to) = to {
            base.push(("to".to_string(), stamp(to)));
        }
        let mut all = Vec::new();
        let mut seen = HashSet::new();
        for page in 1..=MAX_PAGES {
            let mut query = base.clone();
            query.push(("page".into(), page.to_string()));
            query.push(("per_page".into(), per_page.to_string()));
            let answer = self.call(Method::GET, "pull-orders", &query, None).await?;
            let orders = decode_order_page(&answer)?;
            let got = orders.len();
            let mut new = 0;
            for order in orders {
                if seen.insert(order.hashed_id.clone()) {
                    new += 1;
                    all.push(order);
                }
            }
            // A short page is the last; a page with nothing new means the server ignores `page`.
            if got < per_page as usize || new == 0 {
                break;
            }
        }
        Ok(all)
    }

    /// `POST order/update-order-status` with many items. Cartona answers success even for items it did not
    /// apply (invalid transition, `editing`, missing OTP): `Ok` means "accepted", not "applied". Use
    /// `bulk_update_status_verified` to learn which items took effect.
    pub async fn update_status_bulk(&self, updates: &[StatusUpdate]) -> Result<(), CartonaError> {
        if updates.is_empty() {
            return Ok(());
        }
        let body =
            serde_json::to_value(updates).map_err(|e| CartonaError::Config(e.to_string()))?;
        let answer = self
            .call(Method::POST, "order/update-order-status", &[], Some(&body))
            .await?;
        check_success(&answer)
    }

    /// `POST order/update-order-status/{hashed_id}`: one order, and Cartona's error when it is refused.
    pub async fn update_status(&self, update: &StatusUpdate) -> Result<(), CartonaError> {
        let body = serde_json::to_value(update).map_err(|e| CartonaError::Config(e.to_string()))?;
        let path = format!(
            "order/update-order-status/{}",
            path_segment(&update.hashed_id)
        );
        let answer = self.call(Method::POST, &path, &[], Some(&body)).await?;
        check_success(&answer)
    }

    /// Acknowledges imported orders (status `synced`) so `pull-orders` stops listing them. Sent in bulk, so
    /// an unknown id is ignored by Cartona rather than reported.
    pub async fn acknowledge_synced(&self, hashed_ids: &[String]) -> Result<(), CartonaError> {
        let updates: Vec<StatusUpdate> = hashed_ids
            .iter()
            .map(|id| StatusUpdate::new(id.clone(), OrderStatus::Synced))
            .collect();
        self.update_status_bulk(&updates).await
    }

    /// `POST order/update-order-details`: change quantities, add lines or cancel lines of one order.
    pub async fn update_order_details(
        &self,
        hashed_id: &str,
        changes: &[LineChange],
    ) -> Result<(), CartonaError> {
        let items: Vec<Value> = changes.iter().map(LineChange::to_json).collect();
        let body = json!({ "hashed_id": hashed_id, "order_items": items });
        let answer = self
            .call(Method::POST, "order/update-order-details", &[], Some(&body))
            .await?;
        check_success(&answer)
    }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Hashed ids are opaque: keep anything that could break the path out of it.
fn path_segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A page is a bare array, or an object holding it under `data` or `orders`.
fn decode_order_page(answer: &Answer) -> Result<Vec<CartonaOrder>, CartonaError> {
    let value: Value = CartonaClient::decode(answer)?;
    let (prefix, list) = match value {
        Value::Array(_) => ("", value),
        Value::Object(mut map) => match ["data", "orders"]
            .into_iter()
            .find_map(|key| map.remove(key).map(|v| (key, v)))
        {
            Some((key, list)) => (key, list),
            None => {
                return Err(CartonaError::Malformed {
                    endpoint: answer.endpoint.clone(),
                    field: "(body)".into(),
                    detail: "expected an array of orders or an object with `data`".into(),
                });
            }
        },
        other => {
            return Err(CartonaError::Malformed {
                endpoint: answer.endpoint.clone(),
                field: "(body)".into(),
                detail: format!("expected an array of orders, got {other}"),
            });
        }
    };
    serde_path_to_error::deserialize(list).map_err(|e| CartonaError::Malformed {
        endpoint: answer.endpoint.clone(),
        field: format!("{prefix}{}", e.path())
            .trim_start_matches('.')
            .to_string(),
        detail: e.into_inner().to_string(),
    })
}

/// A 2xx with `"success": false` is a refusal too.
fn check_success(answer: &Answer) -> Result<(), CartonaError> {
    let Ok(value) = serde_json::from_slice::<Value>(&answer.body) else {
        // Empty or non-JSON 2xx bodies carry no verdict; the status code is all there is.
        return Ok(());
    };
    let refused = matches!(value.get("success"), Some(Value::Bool(false)))
        || matches!(value.get("success"), Some(Value::String(s)) if s == "false");
    if refused {
        return Err(CartonaError::Api {
            endpoint: answer.endpoint.clone(),
            status: 200,
            message: error_message(&answer.body),
            retry_after: None,
        });
    }
    Ok(())
}
