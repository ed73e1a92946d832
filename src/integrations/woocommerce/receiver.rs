//! `POST /webhooks/woocommerce`: the creation ping gets 200; a signed delivery is checked in constant time
//! over the raw body (mismatch → 401, nothing stored), de-duplicated on (order id, the body's hash) — never on
//! the whole-second stamp alone — and enqueued as a refresh job in the same transaction before the 200 goes out.
//! The signature header is looked at before the body: a request without one (other than the tiny ping) or
//! with no secret configured is refused unread; a signed body is read under the receiver's limits.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{REFRESH_ORDER as WOO_REFRESH_ORDER, SYSTEM};
use crate::app::inbound;
use crate::server::{BodyLimits, Refusal, ServerState};

type Reply = Response;

fn reply(status: StatusCode, body: Value) -> Reply {
    (status, axum::Json(body)).into_response()
}

/// WooCommerce's creation ping is `webhook_id=<id>`, unsigned: an unsigned body longer than this is not one.
const PING_MAX_BYTES: usize = 64;

/// True when `signature` (base64) is the HMAC-SHA256 of `body` under `secret`; compared in constant time.
pub fn verify_signature(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

pub async fn woocommerce(
    state: Arc<ServerState>,
    limits: Arc<BodyLimits>,
    headers: HeaderMap,
    body: Body,
) -> Reply {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let unsigned = || {
        reply(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "missing X-WC-Webhook-Signature" }),
        )
    };
    let Some(signature) = header("x-wc-webhook-signature") else {
        // WooCommerce pings a new webhook with `webhook_id=<id>` and no signature; it must get exactly 200.
        // Nothing larger than a ping is read from a sender that did not sign.
        return match limits.read(&headers, body, PING_MAX_BYTES).await {
            Ok(ping) if ping.starts_with(b"webhook_id=") => {
                reply(StatusCode::OK, json!({ "ok": true, "ping": true }))
            }
            Ok(_) | Err(Refusal::TooLarge { .. }) => unsigned(),
            Err(refusal) => refusal.into_response(),
        };
    };
    let secret = state.config.woocommerce.webhook_secret.expose();
    if secret.is_empty() {
        limits.refuse_unread(&headers, body);
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "no webhook secret configured (woocommerce.webhook_secret)" }),
        );
    }
    let body = match limits.read(&headers, body, limits.max_bytes).await {
        Ok(body) => body,
        Err(refusal) => return refusal.into_response(),
    };
    if !verify_signature(secret.as_bytes(), &body, &signature) {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "signature mismatch" }),
        );
    }
    let resource = header("x-wc-webhook-resource").unwrap_or_default();
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({ "error": "body is not JSON" }),
        );
    };
    let Some(id) = payload.get("id").and_then(Value::as_u64) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({ "error": "body has no numeric `id`" }),
        );
    };
    if resource == "product" {
        return product_hint(&state, id).await;
    }
    if resource != "order" {
        return reply(
            StatusCode::OK,
            json!({ "ok": true, "ignored": format!("resource '{resource}'") }),
        );
    }
    // Stamps are whole seconds: two changes within one second share one. The body says what changed, so
    // only a delivery repeated with the same content is a duplicate.
    let dedupe_key = format!("order:{id}:{:x}", Sha256::digest(&body));
    let config = state.config.clone();
    let stored = inbound::accept_once(state.store.clone(), SYSTEM, dedupe_key, move |tx, now| {
        let payload = json!({ "id": id });
        inbound::enqueue_job(
            tx,
            &config,
            WOO_REFRESH_ORDER,
            format!("order:{id}"),
            payload,
            now,
        )
    })
    .await;
    match stored {
        Ok(Some(job)) => {
            if let Some((wake, _)) = &state.engine {
                wake.notify_one();
            }
            reply(StatusCode::OK, json!({ "ok": true, "job": job }))
        }
        Ok(None) => reply(StatusCode::OK, json!({ "ok": true, "duplicate": true })),
        // 503 makes WooCommerce count a failure; the reconciliation poll still picks the change up.
        Err(e) => reply(StatusCode::SERVICE_UNAVAILABLE, json!({ "error": e })),
    }
}

/// A product changed in the store: remember it for the next incremental stock pass (hints coalesce by id).
async fn product_hint(state: &Arc<ServerState>, id: u64) -> Reply {
    let stored = inbound::write(state.store.clone(), move |tx, now| {
        inbound::hint_product(tx, id as i64, now)
    })
    .await;
    match stored {
        Ok(()) => reply(StatusCode::OK, json!({ "ok": true, "hint": id })),
        Err(e) => reply(StatusCode::SERVICE_UNAVAILABLE, json!({ "error": e })),
    }
}
