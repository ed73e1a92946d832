//! The one place where the conformance suite knows which store it talks to. With `SYNCDESK_WOO_URL`,
//! `SYNCDESK_WOO_KEY` and `SYNCDESK_WOO_SECRET` set it is that (real) store; otherwise a simulator started in
//! process, configured like a plain-http store (OAuth only, the store's own notes on). Everything a test
//! needs that the two do differently — how webhook deliveries are driven, where a webhook receiver may
//! listen — is a method here; the tests themselves are the same for both.
//!
//! The real store is shared: every test works on products and orders it creates under its own SKU prefix
//! and deletes what it can afterwards; nothing assumes the store is empty.

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::Duration;
use syncdesk::integrations::woocommerce::client::{WooClient, WooConfig};
use syncdesk_sim::woo::{WooSim, WooSimConfig};

pub const SIM_KEY: &str = "ck_conformance_0000000000000000000000000000";
pub const SIM_SECRET: &str = "cs_conformance_0000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Real,
    Sim,
}

/// An answer: status, headers, JSON body (`Null` if not JSON).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    pub fn id(&self) -> u64 {
        self.body["id"]
            .as_u64()
            .unwrap_or_else(|| panic!("no id in {} {}", self.status, self.body))
    }
}

pub struct Target {
    pub kind: Kind,
    /// Store root, no trailing slash: `http://127.0.0.1:8089`.
    pub base_url: String,
    pub key: String,
    pub secret: String,
    sim: Option<WooSim>,
    http: reqwest::Client,
    /// Unique to this test: every SKU it creates starts with it.
    pub prefix: String,
    /// Products and orders this test created through `call`, deleted by `cleanup`.
    made_products: std::sync::Mutex<Vec<u64>>,
    made_orders: std::sync::Mutex<Vec<u64>>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Target {
    /// The real store if the environment names one, else a fresh simulator.
    pub async fn start(test: &str) -> Self {
        let prefix = format!(
            "CONF-{}-{}",
            test.to_uppercase()
                .replace('_', "")
                .chars()
                .take(10)
                .collect::<String>(),
            fastrand::u32(..).wrapping_add(std::process::id()) % 1_000_000
        );
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("HTTP client");
        if let (Some(url), Some(key), Some(secret)) = (
            env("SYNCDESK_WOO_URL"),
            env("SYNCDESK_WOO_KEY"),
            env("SYNCDESK_WOO_SECRET"),
        ) {
            return Self {
                kind: Kind::Real,
                base_url: url.trim_end_matches('/').to_string(),
                key,
                secret,
                sim: None,
                http,
                prefix,
                made_products: Default::default(),
                made_orders: Default::default(),
            };
        }
        let sim = WooSim::start(WooSimConfig {
            consumer_key: SIM_KEY.into(),
            consumer_secret: SIM_SECRET.into(),
            products: 10,
            orders: 10,
            treat_as_https: false,
            system_notes: true,
            webhook_coalesce: Duration::from_millis(100),
            seed: fastrand::u64(..),
            ..WooSimConfig::default()
        })
        .await
        .expect("simulator starts");
        Self {
            kind: Kind::Sim,
            base_url: sim.base_url(),
            key: SIM_KEY.into(),
            secret: SIM_SECRET.into(),
            sim: Some(sim),
            http,
            prefix,
            made_products: Default::default(),
            made_orders: Default::default(),
        }
    }

    pub fn sku(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.prefix)
    }

    /// syncdesk's own client, configured as a user would for this store (auth chosen from the URL).
    pub fn client(&self) -> WooClient {
        let mut cfg = WooConfig::new(self.base_url.clone(), self.key.clone(), self.secret.clone());
        cfg.timeout = Duration::from_secs(120);
        cfg.backoff_base = Duration::from_millis(50);
        cfg.backoff_cap = Duration::from_millis(500);
        WooClient::new(cfg).expect("client builds")
    }

    pub fn api_url(&self, path: &str) -> String {
        format!(
            "{}/wp-json/wc/v3/{}",
            self.base_url,
            path.trim_start_matches('/')
        )
    }

    /// A request signed with one-legged OAuth 1.0a (HMAC-SHA256), signed by this file's own code.
    pub async fn call(&self, method: Method, path_and_query: &str, body: Option<Value>) -> Answer {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let params = parse_query(query);
        let url = self.api_url(path);
        let signed = oauth_params(
            &method,
            &url,
            &params,
            &self.key,
            &self.secret,
            "HMAC-SHA256",
        );
        let creates = method == Method::POST;
        let answer = self.send(method, &url, &params, &signed, body).await;
        if creates {
            self.remember(path, &answer.body);
        }
        answer
    }

    /// Notes the ids of what a create made, so `cleanup` can delete it.
    fn remember(&self, path: &str, body: &Value) {
        let made = |value: &Value| -> Vec<u64> {
            match value {
                Value::Object(map) if !map.contains_key("error") => {
                    map.get("id").and_then(Value::as_u64).into_iter().collect()
                }
                Value::Array(items) => items
                    .iter()
                    .filter(|i| i.get("error").is_none())
                    .filter_map(|i| i["id"].as_u64())
                    .collect(),
                _ => Vec::new(),
            }
        };
        let (list, ids) = match path.trim_start_matches('/') {
            "orders" => (&self.made_orders, made(body)),
            "orders/batch" => (&self.made_orders, made(&body["create"])),
            "products" => (&self.made_products, made(body)),
            "products/batch" => (&self.made_products, made(&body["create"])),
            _ => return,
        };
        list.lock().unwrap().extend(ids);
    }

    /// Sends `params` then `oauth` as the query string (each value form-encoded) with an optional JSON body.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        params: &[(String, String)],
        oauth: &[(String, String)],
        body: Option<Value>,
    ) -> Answer {
        let mut all: Vec<(String, String)> = params.to_vec();
        all.extend(oauth.iter().cloned());
        let query = all
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let full = if query.is_empty() {
            url.to_string()
        } else {
            format!("{url}?{query}")
        };
        self.send_raw(self.http.request(method, full), body).await
    }

    pub async fn send_raw(&self, request: reqwest::RequestBuilder, body: Option<Value>) -> Answer {
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        let response = request.send().await.expect("store answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        Answer {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub async fn get(&self, path_and_query: &str) -> Answer {
        self.call(Method::GET, path_and_query, None).await
    }

    /// A managed-stock simple product with this test's SKU prefix; returns its id.
    pub async fn product(&self, suffix: &str, stock: i64, price: &str) -> u64 {
        let answer = self
            .call(
                Method::POST,
                "products",
                Some(json!({
                    "name": format!("Conformance {suffix}"),
                    "type": "simple",
                    "sku": self.sku(suffix),
                    "regular_price": price,
                    "manage_stock": true,
                    "stock_quantity": stock,
                })),
            )
            .await;
        assert_eq!(answer.status, 201, "create product: {}", answer.body);
        answer.id()
    }

    /// An order through the API: lines are (product or variation id, quantity).
    pub async fn order(&self, lines: &[(u64, i64)], status: &str) -> u64 {
        let items: Vec<Value> = lines
            .iter()
            .map(|(id, quantity)| json!({ "product_id": id, "quantity": quantity }))
            .collect();
        let answer = self
            .call(
                Method::POST,
                "orders",
                Some(json!({
                    "status": status,
                    "billing": { "first_name": "Conf", "last_name": "Ormance", "city": "Austin", "email": "conf@example.com" },
                    "line_items": items,
                })),
            )
            .await;
        assert_eq!(answer.status, 201, "create order: {}", answer.body);
        answer.id()
    }

    /// Makes the store send the webhook deliveries it has queued. The real store queues them in Action
    /// Scheduler, which only runs on site traffic (WP-cron): run its queue from PHP, or load `wp-cron.php`.
    /// The simulator sends them on its own after a short delay.
    pub async fn deliver_webhooks(&self) {
        match self.kind {
            Kind::Sim => tokio::time::sleep(Duration::from_millis(400)).await,
            Kind::Real => {
                let wp = env("SYNCDESK_WOO_WP_DIR").unwrap_or_else(|| {
                    let home = std::env::var("REALWOO").unwrap_or_else(|_| {
                        format!(
                            "{}/.cache/syncdesk-realwoo",
                            std::env::var("HOME").unwrap_or_default()
                        )
                    });
                    format!("{home}/wp")
                });
                let host = self
                    .base_url
                    .trim_start_matches("http://")
                    .trim_start_matches("https://")
                    .to_string();
                if std::path::Path::new(&wp).join("wp-load.php").exists() {
                    let code = format!(
                        "$_SERVER['HTTP_HOST']='{host}'; define('DOING_CRON', true); require 'wp-load.php'; \
                         ActionScheduler_QueueRunner::instance()->run('conformance');"
                    );
                    let dir = wp.clone();
                    let run = tokio::task::spawn_blocking(move || {
                        std::process::Command::new("php")
                            .arg("-r")
                            .arg(code)
                            .current_dir(dir)
                            .output()
                    })
                    .await;
                    if run.is_ok_and(|out| out.is_ok_and(|out| out.status.success())) {
                        return;
                    }
                }
                let _ = self
                    .http
                    .get(format!("{}/wp-cron.php?doing_wp_cron", self.base_url))
                    .send()
                    .await;
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }

    /// Deletes the products and orders this test created (and `orders`), for good; best effort.
    pub async fn cleanup(self, orders: &[u64]) {
        if self.kind == Kind::Real {
            let mut orders = orders.to_vec();
            orders.extend(self.made_orders.lock().unwrap().drain(..));
            orders.sort_unstable();
            orders.dedup();
            for chunk in orders.chunks(100) {
                let _ = self
                    .call(
                        Method::POST,
                        "orders/batch",
                        Some(json!({ "delete": chunk })),
                    )
                    .await;
            }
            let products: Vec<u64> = self.made_products.lock().unwrap().drain(..).collect();
            for chunk in products.chunks(100) {
                let _ = self
                    .call(
                        Method::POST,
                        "products/batch",
                        Some(json!({ "delete": chunk })),
                    )
                    .await;
            }
        }
        if let Some(sim) = self.sim {
            sim.shutdown().await;
        }
    }
}

/// The `oauth_*` parameters (signature last) for `params` sent to `url`: RFC 5849 one-legged, key
/// `secret&`, parameters sorted after RFC 3986 encoding.
pub fn oauth_params(
    method: &Method,
    url: &str,
    params: &[(String, String)],
    key: &str,
    secret: &str,
    signature_method: &str,
) -> Vec<(String, String)> {
    let timestamp = chrono::Utc::now().timestamp().to_string();
    oauth_params_at(
        method,
        url,
        params,
        key,
        secret,
        signature_method,
        &timestamp,
        &nonce(),
    )
}

pub fn nonce() -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(32)
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub fn oauth_params_at(
    method: &Method,
    url: &str,
    params: &[(String, String)],
    key: &str,
    secret: &str,
    signature_method: &str,
    timestamp: &str,
    nonce: &str,
) -> Vec<(String, String)> {
    let mut oauth = vec![
        ("oauth_consumer_key".to_string(), key.to_string()),
        ("oauth_nonce".to_string(), nonce.to_string()),
        (
            "oauth_signature_method".to_string(),
            signature_method.to_string(),
        ),
        ("oauth_timestamp".to_string(), timestamp.to_string()),
    ];
    let mut signed: Vec<(String, String)> = params
        .iter()
        .chain(oauth.iter())
        .map(|(k, v)| (encode(k), encode(v)))
        .collect();
    signed.sort();
    let joined = signed
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let base = format!("{}&{}&{}", method.as_str(), encode(url), encode(&joined));
    let signature = sign(signature_method, &format!("{secret}&"), &base);
    oauth.push(("oauth_signature".to_string(), signature));
    oauth
}

fn sign(method: &str, key: &str, text: &str) -> String {
    let bytes = if method == "HMAC-SHA1" {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(text.as_bytes());
        mac.finalize().into_bytes().to_vec()
    } else {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(text.as_bytes());
        mac.finalize().into_bytes().to_vec()
    };
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `a=1&b=x%20y` → pairs, decoded (`+` is a space).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// RFC 3986 percent-encoding (unreserved characters kept).
pub fn encode(text: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, SET).to_string()
}

/// base64(HMAC-SHA256(raw body, secret)): what `X-WC-Webhook-Signature` must be.
pub fn webhook_signature(body: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Tests that run a webhook receiver on 127.0.0.1:8080 (the one port besides the store's own that the
/// real store delivers to) take turns.
pub fn receiver_port_lock() -> &'static tokio::sync::Mutex<()> {
    static LOCK: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
}
