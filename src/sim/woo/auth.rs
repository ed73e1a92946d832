//! Request authentication as WooCommerce core does it: over TLS the query-string pair, then HTTP Basic; over
//! plain HTTP one-legged OAuth 1.0a with signature, 15-minute timestamp window and single-use nonces.
//! The simulator is plain HTTP, so "TLS" is the `treat_as_https` setting.

use super::error::ApiError;
use crate::connectors::woo::oauth;
use axum::http::{HeaderMap, Method, Uri, header};
use base64::Engine;
use std::collections::HashMap;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

const TIMESTAMP_WINDOW_SECS: i64 = 15 * 60;

pub(crate) struct Authenticator {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub treat_as_https: bool,
    /// Nonces seen within the timestamp window, with their timestamps (single consumer key).
    nonces: Mutex<HashMap<String, i64>>,
}

fn auth_error(message: &str) -> ApiError {
    ApiError::new(401, "woocommerce_rest_authentication_error", message)
}

fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

impl Authenticator {
    pub fn new(consumer_key: String, consumer_secret: String, treat_as_https: bool) -> Self {
        Self {
            consumer_key,
            consumer_secret,
            treat_as_https,
            nonces: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        now: i64,
    ) -> Result<(), ApiError> {
        let query: Vec<(String, String)> = axum::extract::Query::try_from_uri(uri)
            .map(|q: axum::extract::Query<Vec<(String, String)>>| q.0)
            .unwrap_or_default();
        let param = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        // Over TLS the key pair (query, then Basic) is tried first; OAuth works over either.
        let pair = if self.treat_as_https {
            match (param("consumer_key"), param("consumer_secret")) {
                (Some(key), Some(secret)) => Some(self.check_pair(key, secret)),
                _ => basic_credentials(headers).map(|(key, secret)| self.check_pair(&key, &secret)),
            }
        } else {
            None
        };
        let found = if pair.is_some() {
            pair
        } else if let Some(header_params) = oauth_header(headers) {
            // Header parameters are signed together with the query's.
            let mut signed = query.clone();
            signed.extend(header_params);
            Some(self.check_oauth(method, uri, headers, &signed, now))
        } else if query.iter().any(|(k, _)| k.starts_with("oauth_")) {
            Some(self.check_oauth(method, uri, headers, &query, now))
        } else {
            None
        };
        // No credentials WooCommerce would look at: WordPress treats the request as a visitor's.
        found.unwrap_or_else(|| {
            Err(if *method == Method::GET {
                ApiError::new(
                    401,
                    "woocommerce_rest_cannot_view",
                    "Sorry, you cannot list resources.",
                )
            } else {
                ApiError::new(
                    401,
                    "woocommerce_rest_cannot_edit",
                    "Sorry, you are not allowed to edit this resource.",
                )
            })
        })
    }

    fn check_pair(&self, key: &str, secret: &str) -> Result<(), ApiError> {
        if !same(key, &self.consumer_key) {
            return Err(auth_error("Consumer key is invalid."));
        }
        if !same(secret, &self.consumer_secret) {
            return Err(auth_error("Consumer secret is invalid."));
        }
        Ok(())
    }

    fn check_oauth(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        query: &[(String, String)],
        now: i64,
    ) -> Result<(), ApiError> {
        let get = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let mut values = Vec::new();
        for name in [
            "oauth_consumer_key",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_signature",
            "oauth_signature_method",
        ] {
            values.push(get(name).ok_or_else(|| {
                ApiError::new(
                    401,
                    "woocommerce_rest_authentication_missing_parameter",
                    format!("Missing OAuth parameter {name}"),
                )
            })?);
        }
        let [key, timestamp, nonce, signature, signature_method] =
            <[String; 5]>::try_from(values).map_err(|_| auth_error("Missing OAuth parameters."))?;
        if !same(&key, &self.consumer_key) {
            return Err(auth_error("Consumer key is invalid."));
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let url = format!("http://{host}{}", uri.path());
        let signed: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k != "oauth_signature")
            .cloned()
            .collect();
        let base = oauth::signature_base_string(method.as_str(), &url, &signed);
        let expected = match signature_method.as_str() {
            "HMAC-SHA256" => oauth::sign_hmac_sha256(&base, &self.consumer_secret),
            "HMAC-SHA1" => oauth::sign_hmac_sha1(&base, &self.consumer_secret),
            _ => {
                return Err(auth_error(
                    "Invalid signature - signature method is invalid.",
                ));
            }
        };
        if !same(&expected, &signature) {
            return Err(auth_error(
                "Invalid signature - provided signature does not match.",
            ));
        }
        let timestamp: i64 = timestamp
            .parse()
            .map_err(|_| auth_error("Invalid timestamp."))?;
        if (now - timestamp).abs() > TIMESTAMP_WINDOW_SECS {
            return Err(auth_error("Invalid timestamp."));
        }
        let mut nonces = self
            .nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        nonces.retain(|_, seen| now - *seen <= TIMESTAMP_WINDOW_SECS);
        if nonces.contains_key(&nonce) {
            return Err(auth_error("Invalid nonce - nonce has already been used."));
        }
        nonces.insert(nonce, timestamp);
        Ok(())
    }
}

/// `Authorization: Basic base64(key:secret)`, when present and well formed.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (key, secret) = text.split_once(':')?;
    Some((key.to_string(), secret.to_string()))
}

/// `Authorization: OAuth k="v", …` (values percent-encoded), the alternative to `oauth_*` query parameters.
fn oauth_header(headers: &HeaderMap) -> Option<Vec<(String, String)>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let params = value.strip_prefix("OAuth ")?;
    Some(
        params
            .split(',')
            .filter_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                let value = value.trim().trim_matches('"');
                let decoded = percent_encoding::percent_decode_str(value)
                    .decode_utf8()
                    .ok()?;
                Some((key.trim().to_string(), decoded.into_owned()))
            })
            .filter(|(key, _)| {
                key.starts_with("oauth_") && key != "oauth_version" && key != "oauth_realm"
            })
            .collect(),
    )
}
