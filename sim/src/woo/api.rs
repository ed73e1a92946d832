//! The `/wp-json/wc/v3/` routes — orders (list, read, create with `set_paid`, update, delete, batch),
//! notes, products and variations (list, read, create, update, delete, batch) and webhooks — behind one
//! middleware that counts requests, injects faults, authenticates (a visitor is refused by the route's
//! permission check) and may lose the answer after the work is done. Parameters are read as PHP reads
//! them (one value per key, the last), errors and headers (`Link`, `X-WP-Total`, `Location`) are shaped
//! like WooCommerce 10.0.2's, and an unknown route is `rest_no_route`.

use super::auth::{Outcome, RequestView};
use super::error::ApiError;
use super::php::{self, PhpArray, PhpValue};
use super::shared::Shared;
use super::store::ORDER_STATUSES;
use super::webhooks::WebhookFields;
use super::writes::{Check, ProductFields, invalid_product_id};
use crate::faults::{ConnKill, Fault};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};
use std::sync::Arc;

pub(crate) const API_PREFIX: &str = "/wp-json/wc/v3";
const MAX_BATCH_ITEMS: usize = 100;
/// Form bodies are read for OAuth (`$_POST`); nothing the API takes is larger.
const MAX_FORM_BODY: usize = 1 << 20;

type ApiResult = Result<Response, ApiError>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/orders", get(list_orders).post(create_order))
        .route("/orders/batch", post(batch_orders).put(batch_orders))
        .route(
            "/orders/{id}",
            get(get_order)
                .put(update_order)
                .patch(update_order)
                .post(update_order)
                .delete(delete_order),
        )
        .route("/orders/{id}/notes", get(list_notes).post(add_note))
        .route("/products", get(list_products).post(create_product))
        .route("/products/batch", post(batch_products).put(batch_products))
        .route(
            "/products/{id}",
            get(get_product)
                .put(update_product)
                .patch(update_product)
                .post(update_product)
                .delete(delete_product),
        )
        .route(
            "/products/{id}/variations",
            get(list_variations).post(create_variation),
        )
        .route(
            "/products/{id}/variations/batch",
            post(batch_variations).put(batch_variations),
        )
        .route(
            "/products/{id}/variations/{variation}",
            get(get_variation)
                .put(update_variation)
                .patch(update_variation)
                .post(update_variation)
                .delete(delete_variation),
        )
        .route("/webhooks", get(list_webhooks).post(create_webhook))
        .route(
            "/webhooks/{id}",
            get(get_webhook)
                .put(update_webhook)
                .patch(update_webhook)
                .post(update_webhook)
                .delete(delete_webhook),
        )
        .method_not_allowed_fallback(no_route);
    // Layered outside `nest` so the guard sees the full path, which OAuth signatures cover.
    Router::new()
        .nest(API_PREFIX, api)
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

async fn no_route() -> Response {
    ApiError::new(
        404,
        "rest_no_route",
        "No route was found matching the URL and request method.",
    )
    .into_response()
}

/// What a visitor (no credentials) is told by a route's permission check; `None` if there is no such route.
fn visitor_refusal(method: &Method, route: &str) -> Option<ApiError> {
    const COLLECTIONS: &[&str] = &[
        "/orders",
        "/orders/{id}/notes",
        "/products",
        "/products/{id}/variations",
        "/webhooks",
    ];
    const ITEMS: &[&str] = &[
        "/orders/{id}",
        "/products/{id}",
        "/products/{id}/variations/{id}",
        "/webhooks/{id}",
    ];
    let batch = route.ends_with("/batch");
    let (code, message) = if batch && [Method::POST, Method::PUT, Method::PATCH].contains(method) {
        (
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed to batch manipulate this resource.",
        )
    } else if COLLECTIONS.contains(&route) && *method == Method::GET {
        (
            "woocommerce_rest_cannot_view",
            "Sorry, you cannot list resources.",
        )
    } else if COLLECTIONS.contains(&route) && *method == Method::POST {
        (
            "woocommerce_rest_cannot_create",
            "Sorry, you are not allowed to create resources.",
        )
    } else if ITEMS.contains(&route) && *method == Method::GET {
        (
            "woocommerce_rest_cannot_view",
            "Sorry, you cannot view this resource.",
        )
    } else if ITEMS.contains(&route) && [Method::PUT, Method::PATCH, Method::POST].contains(method)
    {
        (
            "woocommerce_rest_cannot_edit",
            "Sorry, you are not allowed to edit this resource.",
        )
    } else if ITEMS.contains(&route) && *method == Method::DELETE {
        (
            "woocommerce_rest_cannot_delete",
            "Sorry, you are not allowed to delete this resource.",
        )
    } else {
        return None;
    };
    Some(ApiError::new(401, code, message))
}

/// Counts the request under its route, applies injected faults, authenticates, runs the route, and loses
/// the answer if told to.
async fn guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let route_path = route_of(request.uri().path());
    let route = format!("{} {route_path}", request.method());
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
    // `$_POST` is filled from form bodies only; JSON bodies are not part of the OAuth signature.
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let (body, form) = if is_form {
        match axum::body::to_bytes(body, MAX_FORM_BODY).await {
            Ok(bytes) => {
                let form = String::from_utf8_lossy(&bytes).into_owned();
                (Body::from(bytes), Some(form))
            }
            Err(_) => {
                return ApiError::new(413, "rest_too_large", "Request too large.").into_response();
            }
        }
    } else {
        (body, None)
    };
    let outcome = shared.auth.check(
        &RequestView {
            method: &parts.method,
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
            form_body: form.as_deref(),
        },
        Utc::now().timestamp(),
    );
    match outcome {
        Err(error) => return with_api_link(error.into_response(), &shared),
        Ok(Outcome::Visitor) => {
            if let Some(refusal) = visitor_refusal(&parts.method, &route_path) {
                return with_api_link(refusal.into_response(), &shared);
            }
        }
        Ok(Outcome::Authenticated) => {}
    }
    let response = next.run(Request::from_parts(parts, body)).await;
    // The store has done the work; the answer is lost on the way back.
    if shared.faults.take_lost_answer(&route)
        && let Some(kill) = &kill
    {
        kill.kill();
        return StatusCode::BAD_GATEWAY.into_response();
    }
    with_api_link(response, &shared)
}

/// Every answer that has no paging `Link` carries WordPress' API discovery link.
fn with_api_link(mut response: Response, shared: &Shared) -> Response {
    if !response.headers().contains_key(header::LINK)
        && let Ok(value) = HeaderValue::from_str(&format!(
            "<{}/wp-json/>; rel=\"https://api.w.org/\"",
            shared.base_url
        ))
    {
        response.headers_mut().insert(header::LINK, value);
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

/// The query as PHP's `$_GET` holds it.
struct Params(PhpArray);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Params(php::parse_query(parts.uri.query().unwrap_or(""))))
    }
}

impl Params {
    fn text(&self, name: &str) -> Option<&str> {
        php::get(&self.0, name).and_then(PhpValue::as_str)
    }

    /// A list parameter: `a,b`, or `name[]=a&name[]=b` (WordPress' `wp_parse_list`).
    fn list(&self, name: &str) -> Option<Vec<String>> {
        match php::get(&self.0, name)? {
            PhpValue::Str(s) => Some(
                s.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect(),
            ),
            PhpValue::Array(items) => Some(
                items
                    .iter()
                    .filter_map(|(_, v)| v.as_str().map(str::to_string))
                    .collect(),
            ),
        }
    }

    fn integer(&self, name: &str, default: i64) -> Result<i64, ApiError> {
        match self.text(name) {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse::<i64>()
                .map_err(|_| ApiError::invalid_type(name, "integer")),
        }
    }

    fn date(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        let Some(text) = self.text(name) else {
            return Ok(None);
        };
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
            .map(|d| d.and_utc())
            .or_else(|_| DateTime::parse_from_rfc3339(text).map(|d| d.with_timezone(&Utc)))
            .map(Some)
            .map_err(|_| {
                ApiError::invalid_param_detail(
                    name,
                    "Invalid date.".into(),
                    "rest_invalid_date",
                    Value::Null,
                )
            })
    }

    /// `include` / `exclude`: lists of ids (`None` when absent); a non-integer is `rest_invalid_param`.
    fn ids(&self, name: &str) -> Result<Option<Vec<u64>>, ApiError> {
        let Some(list) = self.list(name) else {
            return Ok(None);
        };
        list.iter()
            .enumerate()
            .map(|(i, id)| {
                id.parse::<u64>().map_err(|_| {
                    ApiError::invalid_type(&format!("{name}[{i}]"), "integer").for_param(name)
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn force(&self) -> bool {
        matches!(self.text("force"), Some("true" | "1" | "True" | "yes"))
    }
}

fn out_of_bounds(name: &str, message: &str) -> ApiError {
    ApiError::invalid_param_detail(name, message.to_string(), "rest_out_of_bounds", Value::Null)
}

/// Ordering requested by `orderby`/`order` (default: newest first). Like the real store (SQL `ORDER BY` on a
/// date with no tie-breaker), items sharing a date come back in an order that changes from one request to
/// the next, so reading page by page can repeat some and skip others; `orderby=id` is stable.
struct Sort {
    key: String,
    descending: bool,
}

impl Sort {
    fn from(params: &Params, allowed: &[&str]) -> Result<Self, ApiError> {
        let descending = match params.text("order").unwrap_or("desc") {
            "desc" => true,
            "asc" => false,
            _ => return Err(ApiError::not_in_enum("order", &["asc", "desc"])),
        };
        let key = params.text("orderby").unwrap_or("date").to_string();
        if !allowed.contains(&key.as_str()) {
            return Err(ApiError::not_in_enum("orderby", allowed));
        }
        Ok(Self { key, descending })
    }

    fn apply<T>(
        &self,
        items: &mut [T],
        created: impl Fn(&T) -> DateTime<Utc>,
        modified: impl Fn(&T) -> DateTime<Utc>,
        id: impl Fn(&T) -> u64,
        rng: Option<fastrand::Rng>,
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
        let Some(mut rng) = rng else { return };
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

/// `add_query_arg`'s view of the request's parameters, PHP-`urlencode`d, with `page` set to `page`
/// (in place if the request had it, else appended).
fn link_query(params: &Params, page: i64) -> String {
    let mut pairs = Vec::new();
    let mut had_page = false;
    fn flatten(key: &str, value: &PhpValue, out: &mut Vec<String>) {
        match value {
            PhpValue::Str(v) => out.push(format!("{key}={}", php::urlencode(v))),
            PhpValue::Array(items) => {
                for (sub, inner) in items {
                    flatten(&format!("{key}%5B{sub}%5D"), inner, out);
                }
            }
        }
    }
    for (key, value) in &params.0 {
        if key == "page" {
            had_page = true;
            pairs.push(format!("page={page}"));
        } else {
            flatten(&php::urlencode(key), value, &mut pairs);
        }
    }
    if !had_page {
        pairs.push(format!("page={page}"));
    }
    pairs.join("&")
}

/// One page of `items` with `X-WP-Total`, `X-WP-TotalPages` and a `Link` header that repeats every query
/// parameter of the request (credentials included) with the page changed, as WordPress builds it.
fn paged(items: Vec<Value>, params: &Params, path: &str, base_url: &str) -> ApiResult {
    let per_page = params.integer("per_page", 10)?;
    if !(1..=100).contains(&per_page) {
        return Err(out_of_bounds(
            "per_page",
            "per_page must be between 1 (inclusive) and 100 (inclusive)",
        ));
    }
    let page = params.integer("page", 1)?;
    if page < 1 {
        return Err(out_of_bounds(
            "page",
            "page must be greater than or equal to 1",
        ));
    }
    let total = items.len() as i64;
    let total_pages = (total + per_page - 1) / per_page;
    let body: Vec<Value> = items
        .into_iter()
        .skip(((page - 1) * per_page) as usize)
        .take(per_page as usize)
        .collect();
    let link_to = |n: i64| format!("<{base_url}{API_PREFIX}{path}?{}>", link_query(params, n));
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!(
            "{}; rel=\"prev\"",
            link_to((page - 1).min(total_pages))
        ));
    }
    if total_pages > page {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
    }
    let mut headers = HeaderMap::new();
    headers.insert("X-WP-Total", HeaderValue::from(total));
    headers.insert("X-WP-TotalPages", HeaderValue::from(total_pages));
    if !links.is_empty()
        && let Ok(link) = HeaderValue::from_str(&links.join(", "))
    {
        headers.insert(header::LINK, link);
    }
    Ok((headers, axum::Json(body)).into_response())
}

fn parse_body(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::new(
            400,
            "rest_invalid_json",
            "Invalid JSON body passed.",
        )),
    }
}

/// 201 with `Location`, as every create answers.
fn created(body: Value, location: String) -> ApiResult {
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

fn api_root(shared: &Shared) -> String {
    format!("{}{API_PREFIX}", shared.base_url)
}

fn json(value: Value) -> ApiResult {
    Ok(axum::Json(value).into_response())
}

// ---- orders -----------------------------------------------------------------------------------------

const ORDER_ORDERBY: &[&str] = &["date", "id", "include", "title", "slug", "modified"];

async fn list_orders(State(shared): State<Arc<Shared>>, params: Params) -> ApiResult {
    let modified_after = params.date("modified_after")?;
    let modified_before = params.date("modified_before")?;
    let after = params.date("after")?;
    let before = params.date("before")?;
    let sort = Sort::from(&params, ORDER_ORDERBY)?;
    // "any" means everything but trash.
    let statuses = params.list("status").unwrap_or_default();
    for (index, status) in statuses.iter().enumerate() {
        if status != "any" && status != "trash" && !ORDER_STATUSES.contains(&status.as_str()) {
            let mut allowed = vec!["any", "trash"];
            allowed.extend(ORDER_STATUSES);
            return Err(
                ApiError::not_in_enum(&format!("status[{index}]"), &allowed).for_param("status")
            );
        }
    }
    let statuses: Vec<String> = statuses.into_iter().filter(|s| s != "any").collect();
    let include = params.ids("include")?;
    let exclude = params.ids("exclude")?.unwrap_or_default();
    let mut orders = shared.read(|store| {
        store
            .orders
            .values()
            .filter(|o| include.as_ref().is_none_or(|ids| ids.contains(&o.id)))
            .filter(|o| !exclude.contains(&o.id))
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
        shared.tie_rng(),
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
    json(order)
}

async fn create_order(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let body = parse_body(&body)?;
    let order = shared.change(|store| {
        let id = store.create_order_from_api(&body, Check::Schema)?;
        store.order_json_by_id(id).ok_or_else(|| invalid_order(500))
    })?;
    let location = format!("{}/orders/{}", api_root(&shared), order["id"]);
    created(order, location)
}

async fn update_order(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body)?;
    let order = shared.change(|store| {
        store.update_order_from_api(id, &body, Check::Schema, invalid_order(400))?;
        store.order_json_by_id(id).ok_or_else(|| invalid_order(400))
    })?;
    json(order)
}

async fn delete_order(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    params: Params,
) -> ApiResult {
    let force = params.force();
    json(shared.change(|store| store.delete_order(id, force))?)
}

async fn batch_orders(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let body = parse_body(&body)?;
    let lists = batch_lists(&body)?;
    let mut response = Map::new();
    shared.change(|store| {
        if let Some(items) = &lists.create {
            let done = items
                .iter()
                .map(|item| {
                    let fields = item.as_object().cloned().unwrap_or_default();
                    match store.create_order_from_api(&fields, Check::Lenient) {
                        Ok(id) => store.order_json_by_id(id).unwrap_or_default(),
                        Err(error) => item_error(json!(0), error),
                    }
                })
                .collect();
            response.insert("create".into(), Value::Array(done));
        }
        if let Some(items) = &lists.update {
            let done = items
                .iter()
                .map(|item| {
                    let fields = item.as_object().cloned().unwrap_or_default();
                    let id = fields.get("id").and_then(Value::as_u64).unwrap_or(0);
                    match store.update_order_from_api(
                        id,
                        &fields,
                        Check::Lenient,
                        invalid_order(400),
                    ) {
                        Ok(()) => store.order_json_by_id(id).unwrap_or_default(),
                        Err(error) => item_error(json!(id), error),
                    }
                })
                .collect();
            response.insert("update".into(), Value::Array(done));
        }
        if let Some(items) = &lists.delete {
            let done = items
                .iter()
                .map(|item| {
                    let id = item.as_u64().unwrap_or(0);
                    match store.delete_order(id, true) {
                        Ok(order) => order,
                        Err(error) => item_error(json!(id), error),
                    }
                })
                .collect();
            response.insert("delete".into(), Value::Array(done));
        }
    });
    json(batch_answer(response))
}

async fn list_notes(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    params: Params,
) -> ApiResult {
    let wanted = params.text("type").unwrap_or("any").to_string();
    let notes = shared.read(|store| {
        if !store.orders.contains_key(&id) {
            return Err(ApiError::new(
                404,
                "woocommerce_rest_shop_order_invalid_id",
                "Invalid order ID.",
            ));
        }
        // Newest first by date; notes of the same second in the order they were added, as the store lists them.
        let mut notes: Vec<&super::model::Note> = store
            .notes
            .get(&id)
            .map(|n| n.iter().collect())
            .unwrap_or_default();
        notes.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
        Ok(notes
            .into_iter()
            .filter(|n| match wanted.as_str() {
                "customer" => n.customer_note,
                "internal" => !n.customer_note,
                _ => true,
            })
            .map(|n| n.to_json())
            .collect::<Vec<_>>())
    })?;
    json(Value::Array(notes))
}

async fn add_note(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body)?;
    let note = match body.get("note") {
        None | Some(Value::Null) => {
            return Err(ApiError::new(
                400,
                "rest_missing_callback_param",
                "Missing parameter(s): note",
            )
            .with_data("params", json!(["note"])));
        }
        Some(Value::String(note)) => note.clone(),
        Some(_) => return Err(ApiError::invalid_type("note", "string")),
    };
    let customer_note = match body.get("customer_note") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::invalid_type("customer_note", "boolean")),
    };
    let note = shared.change(|store| store.add_note(id, note, customer_note))?;
    let location = format!("{}/orders/{id}/notes/{}", api_root(&shared), note.id);
    created(note.to_json(), location)
}

// ---- products ---------------------------------------------------------------------------------------

const PRODUCT_ORDERBY: &[&str] = &[
    "date",
    "modified",
    "id",
    "include",
    "title",
    "slug",
    "price",
    "popularity",
    "rating",
    "menu_order",
];

async fn list_products(State(shared): State<Arc<Shared>>, params: Params) -> ApiResult {
    let sort = Sort::from(&params, PRODUCT_ORDERBY)?;
    let modified_after = params.date("modified_after")?;
    // `?sku=a,b`: each entry as given (spaces after commas are kept), matched case-insensitively.
    let skus: Option<Vec<String>> = params
        .text("sku")
        .map(|s| s.split(',').map(str::to_string).collect());
    let include = params.ids("include")?;
    let exclude = params.ids("exclude")?.unwrap_or_default();
    let mut products = shared.read(|store| {
        let candidates: Vec<&super::model::Product> = match &skus {
            // Exact match on any listed SKU, variations included.
            Some(skus) => {
                let mut found: Vec<&super::model::Product> = skus
                    .iter()
                    .filter_map(|sku| store.product_by_sku(sku))
                    .collect();
                found.sort_by_key(|p| p.id);
                found.dedup_by_key(|p| p.id);
                found
            }
            None => store
                .products
                .values()
                .filter(|p| p.kind != "variation")
                .collect(),
        };
        candidates
            .into_iter()
            .filter(|p| include.as_ref().is_none_or(|ids| ids.contains(&p.id)))
            .filter(|p| !exclude.contains(&p.id))
            .filter(|p| p.status != "trash")
            .filter(|p| modified_after.is_none_or(|t| p.modified > t))
            .cloned()
            .collect::<Vec<_>>()
    });
    sort.apply(
        &mut products,
        |p| p.created,
        |p| p.modified,
        |p| p.id,
        shared.tie_rng(),
    );
    let products = shared.read(|store| products.iter().map(|p| store.product_json(p)).collect());
    paged(products, &params, "/products", &shared.base_url)
}

async fn get_product(State(shared): State<Arc<Shared>>, Path(id): Path<u64>) -> ApiResult {
    let product = shared
        .read(|s| s.product_json_by_id(id))
        .ok_or_else(|| invalid_product_id(404))?;
    json(product)
}

async fn create_product(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let body = parse_body(&body)?;
    let fields = ProductFields::parse(&body, Check::Schema)?;
    let product = shared.change(|store| {
        let id = store.create_product(fields, None)?;
        store
            .product_json_by_id(id)
            .ok_or_else(|| invalid_product_id(500))
    })?;
    let location = format!("{}/products/{}", api_root(&shared), product["id"]);
    created(product, location)
}

async fn update_product(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body)?;
    let fields = ProductFields::parse(&body, Check::Schema)?;
    json(shared.change(|store| {
        store.update_product(id, fields, None, invalid_product_id(400))?;
        store
            .product_json_by_id(id)
            .ok_or_else(|| invalid_product_id(400))
    })?)
}

async fn delete_product(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    params: Params,
) -> ApiResult {
    let force = params.force();
    json(shared.change(|store| store.delete_product(id, force, invalid_product_id(404)))?)
}

async fn list_variations(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    params: Params,
) -> ApiResult {
    let sort = Sort::from(&params, PRODUCT_ORDERBY)?;
    // A product that does not exist simply has no variations: 200 with [].
    let mut variations = shared.read(|store| {
        store
            .products
            .values()
            .filter(|p| p.parent_id == id && p.kind == "variation" && p.status != "trash")
            .cloned()
            .collect::<Vec<_>>()
    });
    sort.apply(
        &mut variations,
        |p| p.created,
        |p| p.modified,
        |p| p.id,
        shared.tie_rng(),
    );
    let variations =
        shared.read(|store| variations.iter().map(|p| store.product_json(p)).collect());
    let path = format!("/products/{id}/variations");
    paged(variations, &params, &path, &shared.base_url)
}

fn invalid_variation(status: u16) -> ApiError {
    ApiError::new(
        status,
        "woocommerce_rest_product_variation_invalid_id",
        "Invalid ID.",
    )
}

async fn get_variation(
    State(shared): State<Arc<Shared>>,
    Path((parent, id)): Path<(u64, u64)>,
) -> ApiResult {
    let variation = shared
        .read(|s| {
            s.products
                .get(&id)
                .filter(|p| p.kind == "variation" && p.parent_id == parent)
                .map(|p| s.product_json(p))
        })
        .ok_or_else(|| invalid_variation(404))?;
    json(variation)
}

async fn create_variation(
    State(shared): State<Arc<Shared>>,
    Path(parent): Path<u64>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body)?;
    let fields = ProductFields::parse(&body, Check::Schema)?;
    let variation = shared.change(|store| {
        let id = store.create_product(fields, Some(parent))?;
        store
            .product_json_by_id(id)
            .ok_or_else(|| invalid_variation(500))
    })?;
    let location = format!(
        "{}/products/{parent}/variations/{}",
        api_root(&shared),
        variation["id"]
    );
    created(variation, location)
}

async fn update_variation(
    State(shared): State<Arc<Shared>>,
    Path((parent, id)): Path<(u64, u64)>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body)?;
    let fields = ProductFields::parse(&body, Check::Schema)?;
    json(shared.change(|store| {
        store.update_product(id, fields, Some(parent), invalid_variation(400))?;
        store
            .product_json_by_id(id)
            .ok_or_else(|| invalid_variation(400))
    })?)
}

async fn delete_variation(
    State(shared): State<Arc<Shared>>,
    Path((parent, id)): Path<(u64, u64)>,
    params: Params,
) -> ApiResult {
    let force = params.force();
    let belongs = shared.read(|s| {
        s.products
            .get(&id)
            .is_some_and(|p| p.kind == "variation" && p.parent_id == parent)
    });
    if !belongs {
        return Err(invalid_variation(404));
    }
    json(shared.change(|store| store.delete_product(id, force, invalid_variation(404)))?)
}

async fn batch_products(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    batch(&shared, None, &body)
}

async fn batch_variations(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    body: Bytes,
) -> ApiResult {
    batch(&shared, Some(id), &body)
}

/// The three lists of a batch body; more than 100 items in all is refused whole.
struct BatchLists {
    create: Option<Vec<Value>>,
    update: Option<Vec<Value>>,
    delete: Option<Vec<Value>>,
}

fn batch_lists(body: &Map<String, Value>) -> Result<BatchLists, ApiError> {
    let list = |name: &str| body.get(name).and_then(Value::as_array).cloned();
    let lists = BatchLists {
        create: list("create"),
        update: list("update"),
        delete: list("delete"),
    };
    let count = [&lists.create, &lists.update, &lists.delete]
        .into_iter()
        .map(|l| l.as_ref().map_or(0, Vec::len))
        .sum::<usize>();
    if count > MAX_BATCH_ITEMS {
        return Err(ApiError::new(
            413,
            "woocommerce_rest_request_entity_too_large",
            format!("Unable to accept more than {MAX_BATCH_ITEMS} items for this request."),
        ));
    }
    Ok(lists)
}

/// `{create, update, delete}` as answered; an empty batch answers `[]` (PHP's empty array).
fn batch_answer(response: Map<String, Value>) -> Value {
    if response.is_empty() {
        json!([])
    } else {
        Value::Object(response)
    }
}

fn item_error(id: Value, error: ApiError) -> Value {
    json!({ "id": id, "error": error.body() })
}

/// `{create, update, delete}` with at most 100 items in total; each item succeeds or fails on its own.
fn batch(shared: &Shared, parent: Option<u64>, body: &Bytes) -> ApiResult {
    let body = parse_body(body)?;
    let lists = batch_lists(&body)?;
    let missing = |status: u16| match parent {
        Some(_) => invalid_variation(status),
        None => invalid_product_id(status),
    };
    let mut response = Map::new();
    shared.change(|store| {
        if let Some(items) = &lists.create {
            let done = items
                .iter()
                .map(|item| {
                    let fields = item.as_object().cloned().unwrap_or_default();
                    let made = ProductFields::parse(&fields, Check::Lenient)
                        .and_then(|fields| store.create_product(fields, parent));
                    match made {
                        Ok(id) => store.product_json_by_id(id).unwrap_or_default(),
                        Err(error) => item_error(json!(0), error),
                    }
                })
                .collect();
            response.insert("create".into(), Value::Array(done));
        }
        if let Some(items) = &lists.update {
            let done = items
                .iter()
                .map(|item| {
                    let fields = item.as_object().cloned().unwrap_or_default();
                    let id = fields.get("id").and_then(Value::as_u64).unwrap_or(0);
                    // A variation's id on the products endpoint is refused like on the real store.
                    let wrong_kind = parent.is_none()
                        && store.products.get(&id).is_some_and(|p| p.kind == "variation");
                    let applied = if wrong_kind {
                        Err(ApiError::new(
                            404,
                            "woocommerce_rest_invalid_product_id",
                            "To manipulate product variations you should use the /products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.",
                        ))
                    } else {
                        ProductFields::parse(&fields, Check::Lenient)
                            .and_then(|f| store.update_product(id, f, parent, missing(400)))
                    };
                    match applied {
                        Ok(()) => store.product_json_by_id(id).unwrap_or_default(),
                        Err(error) => item_error(json!(id), error),
                    }
                })
                .collect();
            response.insert("update".into(), Value::Array(done));
        }
        if let Some(items) = &lists.delete {
            let done = items
                .iter()
                .map(|item| {
                    let id = item.as_u64().unwrap_or(0);
                    let belongs = store.products.get(&id).is_some_and(|p| match parent {
                        Some(parent) => p.kind == "variation" && p.parent_id == parent,
                        None => p.kind != "variation",
                    });
                    let deleted = if belongs {
                        store.delete_product(id, true, missing(404))
                    } else {
                        Err(missing(404))
                    };
                    match deleted {
                        Ok(product) => product,
                        Err(error) => item_error(json!(id), error),
                    }
                })
                .collect();
            response.insert("delete".into(), Value::Array(done));
        }
    });
    json(batch_answer(response))
}

// ---- webhooks ---------------------------------------------------------------------------------------

fn invalid_webhook(status: u16, message: &str) -> ApiError {
    ApiError::new(
        status,
        "woocommerce_rest_shop_webhook_invalid_id",
        message.to_string(),
    )
}

/// The writable fields of a webhook, validated (`status` is one of active, paused, disabled).
fn webhook_fields(body: &Map<String, Value>) -> Result<WebhookFields, ApiError> {
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
    let status = params.text("status").unwrap_or("all").to_string();
    let hooks = shared.hub.list_json(&status, &api_root(&shared));
    paged(hooks, &params, "/webhooks", &shared.base_url)
}

async fn get_webhook(State(shared): State<Arc<Shared>>, Path(id): Path<u64>) -> ApiResult {
    let hook = shared
        .hub
        .json(id, &api_root(&shared))
        .ok_or_else(|| invalid_webhook(404, "ID is invalid."))?;
    json(hook)
}

async fn create_webhook(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let fields = webhook_fields(&parse_body(&body)?)?;
    let hook = shared
        .hub
        .create(fields, &api_root(&shared))
        .map_err(|(status, code, message)| ApiError::new(status, code, message))?;
    let location = format!("{}/webhooks/{}", api_root(&shared), hook["id"]);
    created(hook, location)
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
    json(hook)
}

async fn delete_webhook(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
    params: Params,
) -> ApiResult {
    if !params.force() {
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
    json(hook)
}
