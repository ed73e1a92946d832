//! Request authentication as WooCommerce 10's `WC_REST_Authentication` does it, written from its behaviour
//! and independent of the product's client (a bug they shared would otherwise pass unseen):
//! - over TLS (`treat_as_https`): the `consumer_key`/`consumer_secret` query pair, else HTTP Basic; an
//!   unknown key is simply not a login, a wrong secret is "Consumer secret is invalid."; then OAuth;
//! - otherwise one-legged OAuth 1.0a only: parameters from `$_GET`, `$_POST` (form bodies) and an
//!   `Authorization: OAuth …` header (which wins), PHP's one-value-per-key view of them, HMAC-SHA1 or
//!   HMAC-SHA256 over `METHOD&rawurlencode(home URL + path)&…` with every parameter but the signature, key
//!   `secret&`, a 15-minute timestamp window and nonces remembered per timestamp, as core stores them.
//!
//! No credentials at all is not an error here: WordPress then serves the request as a visitor's, whose
//! permission checks refuse it (see `Outcome::Visitor`).

use super::error::ApiError;
use super::php::{self, PhpArray, PhpValue};
use axum::http::{HeaderMap, Method, header};
use base64::Engine;
use hmac::{Hmac, Mac};
use std::collections::BTreeMap;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

const TIMESTAMP_WINDOW_SECS: i64 = 15 * 60;
const REQUIRED: [&str; 5] = [
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
];

/// What the authentication step concluded.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    /// The API key's user.
    Authenticated,
    /// No credentials WooCommerce looks at: the request runs as a visitor and is refused by the route's
    /// permission check (or answered 404 if there is no such route).
    Visitor,
}

/// One request as PHP sees it.
pub(crate) struct RequestView<'a> {
    pub method: &'a Method,
    /// The path as sent (not decoded), e.g. `/wp-json/wc/v3/orders`.
    pub path: &'a str,
    /// The raw query string, if any.
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    /// A form-encoded body (`$_POST`), if the request had one.
    pub form_body: Option<&'a str>,
}

pub(crate) struct Authenticator {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub treat_as_https: bool,
    /// Core's `nonces` column of the API key: timestamp → the last nonce used with it.
    nonces: Mutex<BTreeMap<i64, String>>,
}

fn auth_error(message: &str) -> ApiError {
    ApiError::new(401, "woocommerce_rest_authentication_error", message)
}

fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

fn text(value: Option<&PhpValue>) -> String {
    value.and_then(PhpValue::as_str).unwrap_or("").to_string()
}

impl Authenticator {
    pub fn new(consumer_key: String, consumer_secret: String, treat_as_https: bool) -> Self {
        Self {
            consumer_key,
            consumer_secret,
            treat_as_https,
            nonces: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn check(&self, request: &RequestView<'_>, now: i64) -> Result<Outcome, ApiError> {
        let get = php::parse_query(request.query.unwrap_or(""));
        if self.treat_as_https
            && let Some(outcome) = self.basic(&get, request.headers)?
        {
            return Ok(outcome);
        }
        self.oauth(request, get, now)
    }

    /// `perform_basic_authentication`: `None` when it found no login (OAuth is tried next).
    fn basic(&self, get: &PhpArray, headers: &HeaderMap) -> Result<Option<Outcome>, ApiError> {
        let (mut key, mut secret) = (String::new(), String::new());
        if !php::empty(php::get(get, "consumer_key"))
            && !php::empty(php::get(get, "consumer_secret"))
        {
            key = text(php::get(get, "consumer_key"));
            secret = text(php::get(get, "consumer_secret"));
        }
        if key.is_empty()
            && let Some((user, password)) = basic_credentials(headers)
            && !user.is_empty()
            && !password.is_empty()
        {
            key = user;
            secret = password;
        }
        if key.is_empty() || secret.is_empty() || !same(&key, &self.consumer_key) {
            return Ok(None);
        }
        if !same(&secret, &self.consumer_secret) {
            return Err(auth_error("Consumer secret is invalid."));
        }
        Ok(Some(Outcome::Authenticated))
    }

    /// `perform_oauth_authentication`.
    fn oauth(
        &self,
        request: &RequestView<'_>,
        get: PhpArray,
        now: i64,
    ) -> Result<Outcome, ApiError> {
        // array_merge($_GET, $_POST), then the header's parameters on top.
        let mut params = get;
        for (key, value) in php::parse_query(request.form_body.unwrap_or("")) {
            php::set(&mut params, key, value);
        }
        if let Some(header_params) = oauth_header(request.headers) {
            for (key, value) in header_params {
                php::set(&mut params, key, PhpValue::Str(value));
            }
        }
        let missing: Vec<&str> = REQUIRED
            .into_iter()
            .filter(|name| php::empty(php::get(&params, name)))
            .collect();
        if missing.len() == REQUIRED.len() {
            return Ok(Outcome::Visitor);
        }
        if !missing.is_empty() {
            let noun = if missing.len() == 1 {
                "parameter"
            } else {
                "parameters"
            };
            return Err(ApiError::new(
                401,
                "woocommerce_rest_authentication_missing_parameter",
                format!("Missing OAuth {noun} {}", missing.join(", ")),
            ));
        }
        if !same(
            &text(php::get(&params, "oauth_consumer_key")),
            &self.consumer_key,
        ) {
            return Err(auth_error("Consumer key is invalid."));
        }
        self.check_signature(request, params.clone())?;
        self.check_timestamp_and_nonce(
            &text(php::get(&params, "oauth_timestamp")),
            &text(php::get(&params, "oauth_nonce")),
            now,
        )?;
        Ok(Outcome::Authenticated)
    }

    fn check_signature(
        &self,
        request: &RequestView<'_>,
        mut params: PhpArray,
    ) -> Result<(), ApiError> {
        let scheme = if self.treat_as_https { "https" } else { "http" };
        let host = request
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        // get_home_url(null, $path): home ("scheme://host") + "/" + the path without its leading slash.
        let url = format!("{scheme}://{host}/{}", request.path.trim_start_matches('/'));
        let consumer_signature =
            php::rawurldecode(&text(php::get(&params, "oauth_signature")).replace(' ', "+"));
        params.retain(|(k, _)| k != "oauth_signature");
        // uksort($params, 'strcmp'): by raw key, byte order.
        params.sort_by(|(a, _), (b, _)| a.as_bytes().cmp(b.as_bytes()));
        let method = text(php::get(&params, "oauth_signature_method"));
        let mut pairs = Vec::new();
        for (key, value) in &params {
            join_with_equals_sign(&php::rawurlencode(key), value, &mut pairs);
        }
        let string_to_sign = format!(
            "{}&{}&{}",
            request.method.as_str().to_ascii_uppercase(),
            php::rawurlencode(&url),
            pairs.join("%26")
        );
        let key = format!("{}&", self.consumer_secret);
        let expected = match method.as_str() {
            "HMAC-SHA1" => hmac_base64::<Hmac<sha1::Sha1>>(&key, &string_to_sign),
            "HMAC-SHA256" => hmac_base64::<Hmac<sha2::Sha256>>(&key, &string_to_sign),
            _ => {
                return Err(auth_error(
                    "Invalid signature - signature method is invalid.",
                ));
            }
        };
        if !same(&expected, &consumer_signature) {
            return Err(auth_error(
                "Invalid signature - provided signature does not match.",
            ));
        }
        Ok(())
    }

    fn check_timestamp_and_nonce(
        &self,
        timestamp: &str,
        nonce: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        let timestamp: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| auth_error("Invalid timestamp."))?;
        if timestamp < now - TIMESTAMP_WINDOW_SECS || timestamp > now + TIMESTAMP_WINDOW_SECS {
            return Err(auth_error("Invalid timestamp."));
        }
        let mut used = self
            .nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if used.values().any(|n| n == nonce) {
            return Err(auth_error("Invalid nonce - nonce has already been used."));
        }
        // Keyed by timestamp, like core: a later nonce with the same timestamp replaces the earlier one.
        used.insert(timestamp, nonce.to_string());
        used.retain(|at, _| *at >= now - TIMESTAMP_WINDOW_SECS);
        Ok(())
    }
}

/// core's `join_with_equals_sign` over values already `rawurlencode`d: nested arrays become
/// `key%5Bsub%5D=value`, and every `k=v` is `rawurlencode`d once more.
fn join_with_equals_sign(key: &str, value: &PhpValue, out: &mut Vec<String>) {
    match value {
        PhpValue::Str(v) => out.push(php::rawurlencode(&format!(
            "{key}={}",
            php::rawurlencode(v)
        ))),
        PhpValue::Array(items) => {
            for (sub, inner) in items {
                join_with_equals_sign(&format!("{key}%5B{sub}%5D"), inner, out);
            }
        }
    }
}

fn hmac_base64<M: Mac + hmac::digest::KeyInit>(key: &str, message: &str) -> String {
    let mut mac = <M as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `Authorization: Basic base64(key:secret)` as PHP fills `PHP_AUTH_USER`/`PHP_AUTH_PW`.
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

/// core's `parse_header`: `oauth_*="…"` (or unquoted) pairs of an `Authorization: OAuth …` header,
/// `urldecode`d; other names (`realm`) are ignored.
fn oauth_header(headers: &HeaderMap) -> Option<Vec<(String, String)>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let mut rest = value.strip_prefix("OAuth ")?;
    let mut params = Vec::new();
    while let Some(start) = rest.find("oauth_") {
        rest = &rest[start..];
        let name_len = rest
            .bytes()
            .position(|b| !(b.is_ascii_lowercase() || b == b'_' || b == b'-'))
            .unwrap_or(rest.len());
        let (name, after) = rest.split_at(name_len);
        let Some(after) = after.strip_prefix('=') else {
            rest = after;
            continue;
        };
        let (raw, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            (&quoted[..end], &quoted[(end + 1).min(quoted.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        params.push((name.to_string(), php::urldecode(raw)));
        rest = remaining;
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A known vector computed outside Rust (Python: `urllib.parse.quote(safe='-._~')` of the sorted `k=v`
    /// pairs, `hmac` with SHA-256 and key `secret&`), sent the way a client puts it in a query string.
    #[test]
    fn signature_base_string_of_a_php_request() {
        let auth = Authenticator::new("ck_test".into(), "cs_secret".into(), false);
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        let query = "per_page=100&modified_after=2024-01-02T03%3A04%3A05&page=1&search=a%20b%2Bc\
                     &oauth_consumer_key=ck_test&oauth_timestamp=1700000000&oauth_nonce=abc123\
                     &oauth_signature_method=HMAC-SHA256&oauth_signature=iqLRn5BS%2FLb%2BQWEvnhAH%2BzUTFaJKrGDHdhHpFemLyQU%3D";
        let request = RequestView {
            method: &Method::GET,
            path: "/wp-json/wc/v3/orders",
            query: Some(query),
            headers: &headers,
            form_body: None,
        };
        assert_eq!(
            auth.check(&request, 1_700_000_100),
            Ok(Outcome::Authenticated)
        );
        // The same nonce again is a replay.
        let error = auth.check(&request, 1_700_000_100).unwrap_err();
        assert_eq!(
            error.message,
            "Invalid nonce - nonce has already been used."
        );
    }

    #[test]
    fn header_parameters_are_parsed_like_core() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            r#"OAuth realm="x", oauth_consumer_key="ck%20a", oauth_nonce=n1,oauth_version="1.0""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            oauth_header(&headers).unwrap(),
            vec![
                ("oauth_consumer_key".to_string(), "ck a".to_string()),
                ("oauth_nonce".to_string(), "n1".to_string()),
                ("oauth_version".to_string(), "1.0".to_string()),
            ]
        );
    }
}
