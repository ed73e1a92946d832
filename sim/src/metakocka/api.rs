//! `POST /rest/eshop/v1/<op>` (also under `…/v1/json/<op>`): every operation is a JSON body with
//! `secret_key` and `company_id`; refusals are HTTP 200 with `opr_code` > 0. A middleware counts requests
//! per operation and injects faults (an outage is Metakocka "down for an update").

use super::shared::Shared;
use super::store::{AUTH, INVALID, NOT_FOUND, OprError, opr, value_number, value_text};
use crate::faults::{ConnKill, Fault};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Instant;

pub(crate) const API_PREFIX: &str = "/rest/eshop/v1";
const SEARCH_MAX: usize = 50;
const STOCK_MAX: usize = 1000;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(&format!("{API_PREFIX}/{{op}}"), post(operation))
        .route(&format!("{API_PREFIX}/json/{{op}}"), post(operation))
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

/// Counts the request under its operation and applies injected faults.
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let op = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    shared.count(op);
    let (delay, fault) = shared.faults.draw();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match fault {
        Some(Fault::Outage) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "<html><body><h1>MetaKocka is being updated</h1><p>Please try again in a few minutes.</p></body></html>",
        )
            .into_response(),
        Some(Fault::Throttle(seconds)) => {
            let mut response =
                (StatusCode::TOO_MANY_REQUESTS, "Too many requests").into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            response
        }
        Some(Fault::Reset) => {
            if let Some(ConnectInfo(kill)) = request.extensions().get::<ConnectInfo<ConnKill>>() {
                kill.kill();
            }
            StatusCode::BAD_GATEWAY.into_response()
        }
        Some(Fault::ServerError(status)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "Internal Server Error",
        )
            .into_response(),
        None => next.run(request).await,
    }
}

fn answer(started: Instant, result: Result<Map<String, Value>, OprError>) -> Response {
    let elapsed = started.elapsed().as_millis().to_string();
    let body = match result {
        Ok(mut fields) => {
            fields.insert("opr_code".into(), json!("0"));
            fields.insert("opr_time_ms".into(), json!(elapsed));
            Value::Object(fields)
        }
        Err(error) => {
            json!({ "opr_code": error.code, "opr_desc": error.desc, "opr_time_ms": elapsed })
        }
    };
    axum::Json(body).into_response()
}

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn window(body: &Value, max: usize) -> Result<(usize, usize), OprError> {
    let read = |key: &str, default: usize| -> Result<usize, OprError> {
        match body.get(key) {
            None => Ok(default),
            Some(v) => value_number(v)
                .filter(|n| *n >= 0.0 && n.fract() == 0.0)
                .map(|n| n as usize)
                .ok_or_else(|| opr(INVALID, format!("{key} must be a whole number."))),
        }
    };
    Ok((read("offset", 0)?, read("limit", max)?.clamp(1, max)))
}

async fn operation(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnKill>,
    Path(op): Path<String>,
    raw: Bytes,
) -> Response {
    let started = Instant::now();
    let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
        return answer(started, Err(opr(INVALID, "Request is not valid JSON.")));
    };
    let given = |key: &str| body.get(key).and_then(value_text).unwrap_or_default();
    let company_ok = given("company_id") == shared.company_id;
    let secret_ok = {
        use subtle::ConstantTimeEq;
        bool::from(
            given("secret_key")
                .as_bytes()
                .ct_eq(shared.secret_key.as_bytes()),
        )
    };
    if !company_ok || !secret_ok {
        return answer(started, Err(opr(AUTH, "Wrong secret_key or company_id.")));
    }
    let result = match op.as_str() {
        "put_document" => shared.change(|s| s.put_sales_order(&body)).map(|mk_id| {
            let count_code = shared.read(|s| s.docs[&mk_id].count_code.clone());
            fields(json!({ "mk_id": mk_id, "count_code": count_code }))
        }),
        "get_document" => shared.read(|s| s.find(&body).map(|id| fields(s.docs[&id].to_json()))),
        "update_document" => shared
            .change(|s| s.update_document(&body))
            .map(|mk_id| fields(json!({ "mk_id": mk_id }))),
        "change_document_status" => shared
            .change(|s| s.change_status(&body))
            .map(|ids| fields(json!({ "mk_id_list": ids.join(",") }))),
        "search" => search(&shared, &body),
        "warehouse_stock" => warehouse_stock(&shared, &body),
        other => Err(opr(NOT_FOUND, format!("Unknown operation '{other}'."))),
    };
    if shared.take_lost_answer(&op) {
        // Applied, but the caller never hears back (a timeout after sending).
        conn.kill();
        return StatusCode::BAD_GATEWAY.into_response();
    }
    answer(started, result)
}

fn search(shared: &Shared, body: &Value) -> Result<Map<String, Value>, OprError> {
    let doc_type = body
        .get("doc_type")
        .and_then(value_text)
        .unwrap_or_default();
    if doc_type.is_empty() {
        return Err(opr(INVALID, "doc_type is required."));
    }
    let query = body.get("query").and_then(value_text).unwrap_or_default();
    let whole = body.get("result").and_then(Value::as_str) == Some("doc");
    let (offset, limit) = window(body, SEARCH_MAX)?;
    shared.read(|s| {
        let found = s.search(&doc_type, &query);
        let page: Vec<Value> = found
            .iter()
            .skip(offset)
            .take(limit)
            .map(|d| {
                if whole {
                    d.to_json()
                } else {
                    json!({ "mk_id": d.mk_id, "opr_code": "0", "count_code": d.count_code })
                }
            })
            .collect();
        Ok(fields(json!({
            "result_all_records": found.len().to_string(),
            "result_count": page.len().to_string(),
            "offset": offset.to_string(),
            "limit": limit.to_string(),
            "result": page,
        })))
    })
}

fn warehouse_stock(shared: &Shared, body: &Value) -> Result<Map<String, Value>, OprError> {
    let list = |key: &str| -> Vec<String> {
        body.get(key)
            .and_then(value_text)
            .map(|text| {
                text.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let warehouses = list("wh_id_list");
    let codes = list("product_code_list");
    let (offset, limit) = window(body, STOCK_MAX)?;
    shared.read(|s| {
        let rows: Vec<Value> = s
            .stock
            .iter()
            .filter(|((wh, code), _)| {
                (warehouses.is_empty() || warehouses.contains(wh))
                    && (codes.is_empty() || codes.contains(code))
            })
            .skip(offset)
            .take(limit)
            .map(|(key, rec)| s.stock_row(key, rec))
            .collect();
        let mut out = fields(json!({
            "offset": offset.to_string(),
            "limit": limit.to_string(),
            "stock_list": rows,
        }));
        if !warehouses.is_empty() {
            out.insert("wh_id_list".into(), json!(warehouses.join(",")));
        }
        Ok(out)
    })
}
