//! The `warehouse_product_stock_update` webhook: signature check (constant time), the exact reply Metakocka
//! needs to stop retrying, and the payload.
//!
//! UNVERIFIED: Metakocka documents only "hash body value (HMAC) with client_secret". We assume
//! HMAC-SHA256 over the raw body, sent hex-encoded; base64 is accepted too.

use super::types::StockRow;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// `X-MetaKocka-Event` of stock changes.
pub const STOCK_EVENT: &str = "warehouse_product_stock_update";

/// The body a receiver must answer with, or Metakocka retries (twice, 60 s apart).
pub const WEBHOOK_REPLY_OK: &str = r#"{"check_respond_status_json_ok":"true"}"#;

/// The signature Metakocka puts in `X-MetaKocka-Signature` (lowercase hex HMAC-SHA256 of the raw body).
pub fn webhook_signature(raw_body: &[u8], client_secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(client_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(raw_body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// True when `header` is the HMAC of `raw_body` under `client_secret` (hex or base64), compared in
/// constant time.
pub fn verify_webhook_signature(raw_body: &[u8], header: &str, client_secret: &str) -> bool {
    let header = header.trim();
    let Some(given) = decode_hex(header).or_else(|| {
        base64::engine::general_purpose::STANDARD
            .decode(header)
            .ok()
    }) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(client_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(raw_body);
    mac.verify_slice(&given).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// The payload of a stock webhook.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StockWebhook {
    #[serde(
        default,
        deserialize_with = "crate::integrations::http::lenient::null_as_default"
    )]
    pub stock_list: Vec<StockRow>,
}

/// Parses a stock webhook body, naming the first bad field.
pub fn parse_stock_webhook(raw_body: &[u8]) -> Result<StockWebhook, String> {
    let mut json = serde_json::Deserializer::from_slice(raw_body);
    serde_path_to_error::deserialize(&mut json).map_err(|e| format!("{}: {}", e.path(), e.inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base64_signatures_verify() {
        let body = br#"{"stock_list":[]}"#;
        let hex = webhook_signature(body, "s3cret");
        assert!(verify_webhook_signature(body, &hex, "s3cret"));
        assert!(verify_webhook_signature(
            body,
            &hex.to_uppercase(),
            "s3cret"
        ));
        let bytes = decode_hex(&hex).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert!(verify_webhook_signature(body, &b64, "s3cret"));
        assert!(!verify_webhook_signature(body, &hex, "other"));
        assert!(!verify_webhook_signature(b"tampered", &hex, "s3cret"));
        assert!(!verify_webhook_signature(body, "", "s3cret"));
    }
}
