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
use crate::domain::time::now_ms;
use crate::integrations::metakocka::client::{
    STOCK_EVENT, WEBHOOK_REPLY_OK, parse_stock_webhook, verify_webhook_signature,
};
use crate::server::{BodyLimits, ServerState, store_gate};
use crate::store::sync_log::{self, Change};
use crate::store::{StoreError, inbound, inventory};

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
    let store = state.store.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let mut store = store
            .lock()
            .map_err(|_| "store lock poisoned".to_string())?;
        store_gate::refuse_while_down(&store)?;
        store
            .write(|tx| {
                let now = now_ms();
                if !inbound::record_once(tx, MK_SYSTEM, &event_id, now)? {
                    return Ok(());
                }
                for row in &payload.stock_list {
                    let code = if row.code.is_empty() {
                        &row.count_code
                    } else {
                        &row.code
                    };
                    let free = row.free_amount.unwrap_or(row.amount).to_string();
                    let reason = format!(
                        "stock webhook {event_id}: warehouse {}, amount {}, reserved {}",
                        row.warehouse_id,
                        row.amount,
                        row.reserved_amount.unwrap_or(0.0)
                    );
                    sync_log::record(
                        tx,
                        &Change {
                            source: MK_SYSTEM,
                            entity: "stock",
                            entity_key: code,
                            field: "metakocka.free_amount",
                            new_value: Some(&free),
                            reason: Some(&reason),
                            ..Default::default()
                        },
                        now,
                    )?;
                    if row.warehouse_id != warehouse {
                        continue;
                    }
                    if let Some(product) = inventory::find(tx, code)?
                        .filter(|a| a.pos_sku.eq_ignore_ascii_case(code))
                        .and_then(|a| a.woo_product_id)
                    {
                        inventory::hint_product(tx, product, now)?;
                    }
                }
                Ok::<_, StoreError>(())
            })
            .map_err(|e| store_gate::refused(&mut store, &e))
    })
    .await;
    match stored {
        Ok(Ok(())) => acknowledge(),
        // Not acknowledged: Metakocka sends it again (twice, 60 s apart).
        Ok(Err(e)) => refuse(StatusCode::SERVICE_UNAVAILABLE, &e),
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}
