//! The `/wp-json/wc/v3/` routes: orders, notes, products, variations and batches, behind one middleware
//! that counts requests, injects faults and authenticates, in that order.

use super::error::ApiError;
use super::shared::Shared;
use super::webhooks::WebhookFields;
use crate::sim::faults::{ConnKill, Fault};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Value, json};
use std::sync::Arc;

pub(crate) const API_PREFIX: &str = "/wp-json/wc/v3";
const MAX_BATCH_ITEMS: usize = 100;

type Params = Query<Vec<(String, String)>>;
type ApiResult = Result<Response, ApiError>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/orders", get(list_orders))
        .route("/orders/{id}", get(get_order).put(update_order))
        .route("/orders/{id}/notes", get(list_notes).post(add_note))
        .route("/products", get(list_products))
        .route("/products/batch", post(batch_products))
        .route("/products/{id}", get(get_product))
        .route("/products/{id}/variations", get(list_variations))
        .route("/products/{id}/variations/batch", post(batch_variations))
        .route("/webhooks", get(list_webhooks).post(create_webhook))
        .route(
            "/webhooks/{id}",
            get(get_webhook)
                .put(update_webhook)
                .patch(update_webhook)
                .post(update_webhook)
                .delete(delete_webhook),
        );
    // Layered outside `nest` so the guard sees the full path, which OAuth signatures cover.
    Router::new()
        .nest(API_PREFIX, api)
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

/// Counts the request under its route, applies injected faults, then authenticates.
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let route = format!("{} {}", request.method(), route_of(request.uri().path()));
    shared.count(route.clone());
    let kill = request
        .extensions()
        .get::<ConnectInfo<ConnKill>>()
        .map(|ConnectInfo(kill)| kill.clone());
    let (delay, fault) = shared.faults.draw();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match fault {
        Some(Fault::Outage) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "<html><body>503 Service Unavailable</body></html>",
            )
                .into_response();
        }
        Some(Fault::Throttle(seconds)) => {
            let mut response =
                ApiError::new(429, "too_many_requests", "Too many requests, slow down.")
                    .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
        Some(Fault::Reset) => {
            if let Some(kill) = &kill {
                kill.kill();
            }
            // Never written: the connection fails first.
            return StatusCode::BAD_GATEWAY.into_response();
        }
        Some(Fault::ServerError(status)) => {
            return ApiError::new(
                status,
                "internal_server_error",
                "There has been a critical error on this website.",
            )
            .into_response();
        }
        None => {}
    }
    let (parts, body) = request.into_parts();
    if let Err(error) = shared.auth.check(
        &parts.method,
        &parts.uri,
        &parts.headers,
        Utc::now().timestamp(),
    ) {
        return error.into_response();
    }
    let response = next.run(Request::from_parts(parts, body)).await;
    // The store has done the work; the answer is lost on the way back.
    if shared.faults.take_lost_answer(&route)
        && let Some(kill) = &kill
    {
        kill.kill();
        return StatusCode::BAD_GATEWAY.into_response();
    }
    response
}

/// The route a path matched, with ids as `{id}`: `/products/12/variations` → `/products/{id}/variations`.
fn route_of(path: &str) -> String {
    path.trim_start_matches(API_PREFIX)
        .split('/')
        .map(|segment| {
            if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .0
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn date_param(params: &Params, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(text) = param(params, name) else {
        return Ok(None);
    };
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .map(|d| d.and_utc())
        .or_else(|_| DateTime::parse_from_rfc3339(text).map(|d| d.with_timezone(&Utc)))
        .map(Some)
        .map_err(|_| ApiError::invalid_param(name, "Invalid date."))
}

/// Ordering requested by `orderby`/`order` (default: newest first). Like the real store (SQL `ORDER BY` on a
/// date with no tie-breaker), items sharing a date come back in an order that changes from one request to
/// the next, so reading page by page can repeat some and skip others; `orderby=id` is stable.
struct Sort {
    key: String,
    descending: bool,
}

impl Sort {
    fn from(params: &Params) -> Result<Self, ApiError> {
        let descending = match param(params, "order").unwrap_or("desc") {
            "desc" => true,
            "asc" => false,
            _ => {
                return Err(ApiError::invalid_param(
                    "order",
                    "order is not one of asc, desc.",
                ));
            }
        };
        Ok(Self {
            key: param(params, "orderby").unwrap_or("date").to_string(),
            descending,
        })
    }

    fn apply<T>(
        &self,
        items: &mut [T],
        created: impl Fn(&T) -> DateTime<Utc>,
        modified: impl Fn(&T) -> DateTime<Utc>,
        id: impl Fn(&T) -> u64,
        rng: &mut fastrand::Rng,
    ) {
        let key = |item: &T| match self.key.as_str() {
            "modified" => Some(modified(item)),
            "date" => Some(created(item)),
            _ => None,
        };
        items.sort_by(|a, b| {
            let ordering = match (key(a), key(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => id(a).cmp(&id(b)),
            };
            if self.descending {
                ordering.reverse()
            } else {
                ordering
            }
        });
        // Shuffle every run of items that share the date.
        let mut start = 0;
        while start < items.len() {
            let run_key = key(&items[start]);
            let mut end = start + 1;
            while end < items.len() && run_key.is_some() && key(&items[end]) == run_key {
                end += 1;
            }
            rng.shuffle(&mut items[start..end]);
            start = end;
        }
    }
}

/// One page of `items` with `X-WP-Total`, `X-WP-TotalPages` and a `Link` header (prev/next only).
fn paged(items: Vec<Value>, params: &Params, path: &str, base_url: &str) -> ApiResult {
    let per_page = match param(params, "per_page") {
        None => 10,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                ApiError::invalid_param(
                    "per_page",
                    "per_page must be between 1 (inclusive) and 100 (inclusive)",
                )
            })?,
    };
    let page = match param(params, "page") {
        None => 1,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                ApiError::invalid_param("page", "page must be greater than or equal to 1")
            })?,
    };
    let total = items.len();
    let total_pages = total.div_ceil(per_page);
    let body: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let kept: Vec<String> = params
        .0
        .iter()
        .filter(|(k, _)| {
            k != "page" && k != "consumer_key" && k != "consumer_secret" && !k.starts_with("oauth_")
        })
        .map(|(k, v)| format!("{}={}", k, crate::connectors::woo::oauth::rawurlencode(v)))
        .collect();
    let link_to = |n: usize| {
        let mut query = kept.clone();
        query.push(format!("page={n}"));
        format!("<{base_url}{API_PREFIX}{path}?{}>", query.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 && page <= total_pages + 1 {
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
    }
    if page < total_pages {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
    }
    let mut headers = HeaderMap::new();
    headers.insert("X-WP-Total", HeaderValue::from(total));
    headers.insert("X-WP-TotalPages", HeaderValue::from(total_pages));
    if let Ok(link) = HeaderValue::from_str(&links.join(", "))
        && !links.is_empty()
    {
        headers.insert(header::LINK, link);
    }
    Ok((headers, axum::Json(body)).into_response())
}

fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|_| ApiError::new(400, "rest_invalid_json", "Invalid JSON body passed."))
}

async fn list_orders(State(shared): State<Arc<Shared>>, params: Params) -> ApiResult {
    let modified_after = date_param(&params, "modified_after")?;
    let modified_before = date_param(&params, "modified_before")?;
    let after = date_param(&params, "after")?;
    let before = date_param(&params, "before")?;
    let sort = Sort::from(&params)?;
    // `status=a,b` or repeated `status[]=`; "any" means everything but trash.
    let statuses: Vec<String> = params
        .0
        .iter()
        .filter(|(k, _)| k == "status" || k == "status[]")
        .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|s| s != "any")
        .collect();
    let mut orders = shared.read(|store| {
        store
            .orders
            .values()
            .filter(|o| {
                if statuses.is_empty() {
                    o.status != "trash"
                } else {
                    statuses.contains(&o.status)
                }
            })
            // The store compares whole seconds and excludes the bound itself.
            .filter(|o| modified_after.is_none_or(|t| o.modified > t))
            .filter(|o| modified_before.is_none_or(|t| o.modified < t))
            .filter(|o| after.is_none_or(|t| o.created > t))
            .filter(|o| before.is_none_or(|t| o.created < t))
            .cloned()
            .collect::<Vec<_>>()
    });
    sort.apply(
        &mut orders,
        |o| o.created,
        |o| o.modified,
        |o| o.id,
        &mut shared.tie_rng(),
    );
    let orders = shared.read(|store| orders.iter().map(|o| store.order_json(o)).collect());
    paged(orders, &params, "/orders", &shared.base_url)
}

fn invalid_order(status: u16) -> ApiError {
    super::store::invalid_order_id(status)
}

async fn get_order(State(shared): State<Arc<Shared>>, Path(id): Path<u64>) -> ApiResult {
    let order = shared
        .read(|s| s.order_json_by_id(id))
        .ok_or_else(|| invalid_order(404))?;
    Ok(axum::Json(order).into_response())
}

async fn update_order(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body)?;
    let order = shared.change(|store| {
        if !store.orders.contains_key(&id) {
            return Err(invalid_order(400));
        }
        if let Some(status) = body.get("status") {
            let status = status.as_str().ok_or_else(|| {
                ApiError::invalid_param("status", "status is not of type string.")
            })?;
            store.set_order_status(id, status)?;
        }
        store.order_json_by_id(id).ok_or_else(|| invalid_order(400))
    })?;
    Ok(axum::Json(order).into_response())
}

async fn list_notes(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    params: Params,
) -> ApiResult {
    let wanted = param(&params, "type").unwrap_or("any").to_string();
    let notes = shared.read(|store| {
        if !store.orders.contains_key(&id) {
            return Err(ApiError::new(
                404,
                "woocommerce_rest_order_invalid_id",
                "Invalid order ID.",
            ));
        }
        let notes = store.notes.get(&id).map(Vec::as_slice).unwrap_or_default();
        Ok(notes
            .iter()
            .rev()
            .filter(|n| match wanted.as_str() {
                "customer" => n.customer_note,
                "internal" => !n.customer_note,
                _ => true,
            })
            .map(|n| n.to_json())
            .collect::<Vec<_>>())
    })?;
    Ok(axum::Json(notes).into_response())
}

async fn add_note(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body)?;
    let note = body
        .get("note")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                400,
                "rest_missing_callback_param",
                "Missing parameter(s): note",
            )
        })?
        .to_string();
    let customer_note = body
        .get("customer_note")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let note = shared.change(|store| store.add_note(id, note, customer_note))?;
    Ok((StatusCode::CREATED, axum::Json(note.to_json())).into_response())
}

async fn list_products(State(shared): State<Arc<Shared>>, params: Params) -> ApiResult {
    let sort = Sort::from(&params)?;
    let modified_after = date_param(&params, "modified_after")?;
    let skus: Option<Vec<String>> =
        param(&params, "sku").map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let mut products = shared.read(|store| {
        let candidates: Vec<&super::model::Product> = match &skus {
            // Exact match on any listed SKU, variations included.
            Some(skus) => skus
                .iter()
                .filter_map(|sku| store.product_by_sku(sku))
                .collect(),
            None => store
                .products
                .values()
                .filter(|p| p.kind != "variation")
                .collect(),
        };
        candidates
            .into_iter()
            .filter(|p| modified_after.is_none_or(|t| p.modified > t))
            .cloned()
            .collect::<Vec<_>>()
    });
    sort.apply(
        &mut products,
        |p| p.created,
        |p| p.modified,
        |p| p.id,
        &mut shared.tie_rng(),
    );
    let products = shared.read(|store| products.iter().map(|p| store.product_json(p)).collect());
    paged(products, &params, "/products", &shared.base_url)
}

fn invalid_product() -> ApiError {
    ApiError::new(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
}

async fn get_product(State(shared): State<Arc<Shared>>, Path(id): Path<u64>) -> ApiResult {
    let product = shared
        .read(|s| s.product_json_by_id(id))
        .ok_or_else(invalid_product)?;
    Ok(axum::Json(product).into_response())
}

async fn list_variations(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    params: Params,
) -> ApiResult {
    let sort = Sort::from(&params)?;
    let mut variations = shared.read(|store| {
        if !store.products.contains_key(&id) {
            return Err(invalid_product());
        }
        Ok(store
            .products
            .values()
            .filter(|p| p.parent_id == id && p.kind == "variation")
            .cloned()
            .collect::<Vec<_>>())
    })?;
    sort.apply(
        &mut variations,
        |p| p.created,
        |p| p.modified,
        |p| p.id,
        &mut shared.tie_rng(),
    );
    let variations =
        shared.read(|store| variations.iter().map(|p| store.product_json(p)).collect());
    let path = format!("/products/{id}/variations");
    paged(variations, &params, &path, &shared.base_url)
}

async fn batch_products(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    batch(&shared, None, &body)
}

async fn batch_variations(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    body: Bytes,
) -> ApiResult {
    if !shared.read(|s| s.products.contains_key(&id)) {
        return Err(invalid_product());
    }
    batch(&shared, Some(id), &body)
}

/// `{create, update, delete}` with at most 100 items in total; each item succeeds or fails on its own.
fn batch(shared: &Shared, parent: Option<u64>, body: &Bytes) -> ApiResult {
    let body = parse_body(body)?;
    let list = |name: &str| {
        body.get(name)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (create, update, delete) = (list("create"), list("update"), list("delete"));
    if create.len() + update.len() + delete.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::new(
            413,
            "woocommerce_rest_request_entity_too_large",
            format!("Unable to accept more than {MAX_BATCH_ITEMS} items for this request."),
        ));
    }
    let item_error = |id: Value, error: ApiError| json!({ "id": id, "error": error.body() });
    let unsupported = |what: &str| {
        ApiError::new(
            501,
            "woocommerce_rest_cannot_batch",
            format!("The simulator does not {what} products."),
        )
    };
    let updated: Vec<Value> = shared.change(|store| {
        update
            .iter()
            .map(|item| match store.batch_update_item(item, parent) {
                Ok(product) => product,
                Err(error) => item_error(item.get("id").cloned().unwrap_or(json!(0)), error),
            })
            .collect()
    });
    let mut response = json!({ "update": updated });
    if let Some(map) = response.as_object_mut() {
        if !create.is_empty() {
            let created: Vec<Value> = create
                .iter()
                .map(|_| item_error(json!(0), unsupported("create")))
                .collect();
            map.insert("create".into(), json!(created));
        }
        if !delete.is_empty() {
            let deleted: Vec<Value> = delete
                .iter()
                .map(|id| item_error(id.clone(), unsupported("delete")))
                .collect();
            map.insert("delete".into(), json!(deleted));
        }
    }
    Ok(axum::Json(response).into_response())
}

fn api_root(shared: &Shared) -> String {
    format!("{}{API_PREFIX}", shared.base_url)
}

fn invalid_webhook(status: u16, message: &str) -> ApiError {
    ApiError::new(
        status,
        "woocommerce_rest_shop_webhook_invalid_id",
        message.to_string(),
    )
}

/// The writable fields of a webhook, validated (`status` is one of active, paused, disabled).
fn webhook_fields(body: &Value) -> Result<WebhookFields, ApiError> {
    let text = |name: &str| -> Result<Option<String>, ApiError> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid_type(name, "string")),
        }
    };
    let status = match text("status")?.as_deref() {
        None => None,
        Some("active") => Some("active"),
        Some("paused") => Some("paused"),
        Some("disabled") => Some("disabled"),
        Some(_) => {
            return Err(ApiError::not_in_enum(
                "status",
                &["active", "paused", "disabled"],
            ));
        }
    };
    Ok(WebhookFields {
        name: text("name")?,
        topic: text("topic")?,
        delivery_url: text("delivery_url")?,
        secret: text("secret")?,
        status,
    })
}

async fn list_webhooks(State(shared): State<Arc<Shared>>, params: Params) -> ApiResult {
    let status = param(&params, "status").unwrap_or("all").to_string();
    let hooks = shared.hub.list_json(&status, &api_root(&shared));
    paged(hooks, &params, "/webhooks", &shared.base_url)
}

async fn get_webhook(State(shared): State<Arc<Shared>>, Path(id): Path<u64>) -> ApiResult {
    let hook = shared
        .hub
        .json(id, &api_root(&shared))
        .ok_or_else(|| invalid_webhook(404, "ID is invalid."))?;
    Ok(axum::Json(hook).into_response())
}

async fn create_webhook(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let fields = webhook_fields(&parse_body(&body)?)?;
    let hook = shared
        .hub
        .create(fields, &api_root(&shared))
        .map_err(|(status, code, message)| ApiError::new(status, code, message))?;
    let location = format!(
        "{}/webhooks/{}",
        api_root(&shared),
        hook.get("id").and_then(Value::as_u64).unwrap_or(0)
    );
    created(hook, &location)
}

async fn update_webhook(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    body: Bytes,
) -> ApiResult {
    let fields = webhook_fields(&parse_body(&body)?)?;
    if let Some(topic) = &fields.topic
        && !super::webhooks::valid_topic(topic)
    {
        return Err(ApiError::new(
            400,
            "woocommerce_rest_shop_webhook_invalid_topic",
            "Webhook topic must be valid.",
        ));
    }
    let hook = shared
        .hub
        .update(id, fields, &api_root(&shared))
        .ok_or_else(|| invalid_webhook(400, "ID is invalid."))?;
    Ok(axum::Json(hook).into_response())
}

async fn delete_webhook(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    params: Params,
) -> ApiResult {
    if !matches!(param(&params, "force"), Some("true" | "1" | "True")) {
        return Err(ApiError::new(
            501,
            "woocommerce_rest_trash_not_supported",
            "Webhooks do not support trashing.",
        ));
    }
    let hook = shared
        .hub
        .delete(id, &api_root(&shared))
        .ok_or_else(|| invalid_webhook(404, "Invalid ID."))?;
    Ok(axum::Json(hook).into_response())
}

/// 201 with `Location`, as every create answers.
fn created(body: Value, location: &str) -> ApiResult {
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}
