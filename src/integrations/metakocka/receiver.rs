//! `POST /webhooks/metakocka`: Metakocka's `warehouse_product_stock_update` webhook. The signature
//! (`X-MetaKocka-Signature`, HMAC of the raw body with the client secret) is checked before anything is
//! stored; a request without one, or with no secret configured, is refused before its body is read, and a
//! signed body is read under the receiver's limits (cap, deadline, memory). A mismatch gets 401 and stores
//! nothing. An accepted event is recorded once per `X-MetaKocka-Id`: each stock row goes to the sync log,
//! and rows of aligned SKUs become stock hints for the next incremental pass. The reply is exactly
//! `{"check_respond_status_json_ok":"true"}`, or Metakocka retries.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::SYSTEM as MK_SYSTEM;
use super::client::{STOCK_EVENT, WEBHOOK_REPLY_OK, parse_stock_webhook, verify_webhook_signature};
use crate::app::inbound;
use crate::server::{BodyLimits, ServerState};

fn refuse(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({ "error": error }))).into_response()
}

/// The acknowledgement Metakocka looks for; anything else makes it send the event again.
fn acknowledge() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        WEBHOOK_REPLY_OK,
    )
        .into_response()
}

pub async fn metakocka(
    state: Arc<ServerState>,
    limits: Arc<BodyLimits>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let secret = state.config.metakocka.webhook_secret.expose();
    if secret.is_empty() {
        limits.refuse_unread(&headers, body);
        return refuse(
            StatusCode::UNAUTHORIZED,
            "no webhook secret configured (metakocka.webhook_secret)",
        );
    }
    let Some(signature) = header("x-metakocka-signature") else {
        limits.refuse_unread(&headers, body);
        return refuse(StatusCode::UNAUTHORIZED, "missing X-MetaKocka-Signature");
    };
    let body = match limits.read(&headers, body, limits.max_bytes).await {
        Ok(body) => body,
        Err(refusal) => return refusal.into_response(),
    };
    if !verify_webhook_signature(&body, &signature, secret) {
        return refuse(StatusCode::UNAUTHORIZED, "signature mismatch");
    }
    let event = header("x-metakocka-event").unwrap_or_default();
    if event != STOCK_EVENT {
        // Signed, so it is Metakocka: acknowledged, or it would be sent twice more for nothing.
        return acknowledge();
    }
    let payload = match parse_stock_webhook(&body) {
        Ok(p) => p,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &format!("body: {e}")),
    };
    let event_id = header("x-metakocka-id")
        .filter(|id| !id.trim().is_empty())
        .unwrap_or_else(|| format!("body:{:x}", Sha256::digest(&body)));
    let warehouse = state.config.metakocka.warehouse.trim().to_string();
    let stored = inbound::accept_once(
        state.store.clone(),
        MK_SYSTEM,
        event_id.clone(),
        move |tx, now| {
            for row in &payload.stock_list {
                let code = if row.code.is_empty() {
                    &row.count_code
                } else {
                    &row.code
                };
                let report = inbound::StockReport {
                    system: MK_SYSTEM,
                    code,
                    field: "metakocka.free_amount",
                    value: row.free_amount.unwrap_or(row.amount).to_string(),
                    reason: format!(
                        "stock webhook {event_id}: warehouse {}, amount {}, reserved {}",
                        row.warehouse_id,
                        row.amount,
                        row.reserved_amount.unwrap_or(0.0)
                    ),
                    watched: row.warehouse_id == warehouse,
                };
                inbound::stock_reported(tx, &report, now)?;
            }
            Ok(())
        },
    )
    .await;
    match stored {
        Ok(_) => acknowledge(),
        // Not acknowledged: Metakocka sends it again (twice, 60 s apart).
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, &e),
    }
}
