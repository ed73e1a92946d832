//! The `/api/v1/` routes: pull-orders, status updates (bulk fails silently per item, single reports),
//! order details and stock, behind one middleware that counts requests, injects faults and authenticates.

use super::shared::Shared;
use super::store::Refusal;
use crate::faults::{ConnKill, Fault};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Value, json};
use std::sync::Arc;

pub(crate) const API_PREFIX: &str = "/api/v1";
const SINGLE_STATUS: &str = "/order/update-order-status/";

type Params = Query<Vec<(String, String)>>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/pull-orders", get(pull_orders))
        .route("/order/update-order-status", post(bulk_status))
        .route(
            "/order/update-order-status/{hashed_id}",
            post(single_status),
        )
        .route("/order/update-order-details", post(update_details))
        .route("/base-product/bulk-update-stock", post(bulk_stock));
    Router::new()
        .nest(API_PREFIX, api)
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

fn reply(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

fn refused(refusal: Refusal) -> Response {
    reply(
        refusal.status,
        json!({ "success": false, "message": refusal.message }),
    )
}

fn unprocessable(message: impl Into<String>) -> Response {
    reply(422, json!({ "success": false, "message": message.into() }))
}

/// Counts the request under its route, applies injected faults, then checks the token header.
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let route = match path.find(SINGLE_STATUS) {
        Some(at) => format!("{}{{hashed_id}}", &path[..at + SINGLE_STATUS.len()]),
        None => path.to_string(),
    };
    shared.count(format!(
        "{} {}",
        request.method(),
        route.trim_start_matches(API_PREFIX)
    ));
    let (delay, fault) = shared.faults.draw();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match fault {
        Some(Fault::Outage) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
            )
                .into_response();
        }
        Some(Fault::Throttle(seconds)) => {
            let mut response = reply(429, json!({ "message": "Too Many Attempts." }));
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
        Some(Fault::Reset) => {
            if let Some(ConnectInfo(kill)) = request.extensions().get::<ConnectInfo<ConnKill>>() {
                kill.kill();
            }
            return StatusCode::BAD_GATEWAY.into_response();
        }
        Some(Fault::ServerError(status)) => {
            return reply(status, json!({ "message": "Server Error" }));
        }
        None => {}
    }
    let presented = request
        .headers()
        .get(shared.auth_header.as_str())
        .and_then(|v| v.to_str().ok());
    let ok = presented.is_some_and(|given| {
        use subtle::ConstantTimeEq;
        bool::from(given.as_bytes().ct_eq(shared.auth_value.as_bytes()))
    });
    if !ok {
        return reply(401, json!({ "message": "Unauthenticated." }));
    }
    next.run(request).await
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .0
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|d| d.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

fn number_param(params: &Params, name: &str, default: usize) -> Result<usize, String> {
    match param(params, name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("The {name} must be a positive integer.")),
    }
}

/// Orders created in `[from, to]` (default: the last 24 h), not yet acknowledged, oldest first, paged.
async fn pull_orders(State(shared): State<Arc<Shared>>, params: Params) -> Response {
    let now = Utc::now();
    let mut window = [now - chrono::Duration::hours(24), now];
    for (slot, name) in window.iter_mut().zip(["from", "to"]) {
        if let Some(text) = param(&params, name) {
            match parse_time(text) {
                Some(at) => *slot = at,
                None => return unprocessable(format!("The {name} is not a valid date.")),
            }
        }
    }
    let page = match number_param(&params, "page", 1) {
        Ok(n) => n,
        Err(message) => return unprocessable(message),
    };
    let per_page = match number_param(&params, "per_page", 20) {
        Ok(n) => n.min(shared.max_per_page),
        Err(message) => return unprocessable(message),
    };
    let [from, to] = window;
    let orders: Vec<Value> = shared.with(|store| {
        let mut listed: Vec<_> = store
            .orders
            .values()
            .filter(|o| !o.acknowledged && o.created_at >= from && o.created_at <= to)
            .collect();
        listed.sort_by(|a, b| (a.created_at, &a.hashed_id).cmp(&(b.created_at, &b.hashed_id)));
        listed
            .into_iter()
            .skip((page - 1).saturating_mul(per_page))
            .take(per_page)
            .map(|o| o.to_json())
            .collect()
    });
    axum::Json(Value::Array(orders)).into_response()
}

struct StatusItem {
    hashed_id: String,
    status: String,
    otp: Option<String>,
    reason: Option<String>,
}

fn status_item(value: &Value, hashed_id: Option<&str>) -> Option<StatusItem> {
    let text = |key: &str| match value.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Some(StatusItem {
        hashed_id: hashed_id
            .map(str::to_string)
            .or_else(|| text("hashed_id"))?,
        status: text("status")?,
        otp: text("retailer_otp"),
        reason: text("cancellation_reason"),
    })
}

/// Bulk status: a malformed body is an error, but each item that cannot be applied is skipped silently.
async fn bulk_status(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&body) else {
        return unprocessable("The body must be a list of orders.");
    };
    let now = Utc::now();
    shared.with(|store| {
        for item in &items {
            let Some(item) = status_item(item, None) else {
                store
                    .silent_failures
                    .push((String::new(), "item without hashed_id or status".into()));
                continue;
            };
            if let Err(refusal) = store.apply_status(
                &item.hashed_id,
                &item.status,
                item.otp.as_deref(),
                item.reason.as_deref(),
                now,
            ) {
                store
                    .silent_failures
                    .push((item.hashed_id.clone(), refusal.message));
            }
        }
    });
    reply(
        200,
        json!({ "success": true, "message": "Orders status updated successfully" }),
    )
}

async fn single_status(
    State(shared): State<Arc<Shared>>,
    Path(hashed_id): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return unprocessable("The body must be a JSON object.");
    };
    let Some(item) = status_item(&value, Some(&hashed_id)) else {
        return unprocessable("The status field is required.");
    };
    let result = shared.with(|store| {
        store.apply_status(
            &item.hashed_id,
            &item.status,
            item.otp.as_deref(),
            item.reason.as_deref(),
            Utc::now(),
        )
    });
    match result {
        Ok(()) => reply(
            200,
            json!({ "success": true, "message": "Order status updated successfully" }),
        ),
        Err(refusal) => refused(refusal),
    }
}

async fn update_details(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return unprocessable("The body must be a JSON object.");
    };
    let Some(hashed_id) = value.get("hashed_id").and_then(Value::as_str) else {
        return unprocessable("The hashed_id field is required.");
    };
    let Some(items) = value.get("order_items").and_then(Value::as_array) else {
        return unprocessable("The order_items field must be a list.");
    };
    match shared.with(|store| store.update_details(hashed_id, items, Utc::now())) {
        Ok(order) => reply(200, json!({ "success": true, "order": order })),
        Err(refusal) => refused(refusal),
    }
}

async fn bulk_stock(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&body) else {
        return unprocessable("The body must be a list of products.");
    };
    let mut parsed = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let key = ["internal_product_id", "supplier_product_id"]
            .iter()
            .find_map(|k| match item.get(*k) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            });
        let quantity = item.get("available_stock_quantity").and_then(Value::as_i64);
        match (key, quantity) {
            (Some(key), Some(quantity)) => parsed.push((key, quantity)),
            _ => {
                return unprocessable(format!(
                    "[{i}] needs internal_product_id and an integer available_stock_quantity"
                ));
            }
        }
    }
    let (updated, not_found) = shared.with(|store| {
        let mut updated = 0;
        let mut not_found = Vec::new();
        for (key, quantity) in parsed {
            if store.set_stock_units(&key, quantity) {
                updated += 1;
            } else {
                not_found.push(key);
            }
        }
        (updated, not_found)
    });
    reply(
        200,
        json!({ "success": true, "updated": updated, "not_found": not_found }),
    )
}
