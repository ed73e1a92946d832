//! The real WooCommerce client against the simulator over loopback HTTP: auth, paging, batches, retries,
//! parsing, secrecy, webhooks and stock rules.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};
use syncdesk::integrations::woocommerce::client::{
    AuthMode, ItemKey, ProductUpdate, TransportKind, WooClient, WooConfig, WooError, oauth,
};
use syncdesk_sim::woo::{SimProduct, WebhookTarget, WooSim, WooSimConfig};
use tokio::sync::mpsc;

const KEY: &str = "ck_test_key_1234";
const SECRET: &str = "cs_test_secret_5678";

fn sim_config() -> WooSimConfig {
    WooSimConfig {
        consumer_key: KEY.into(),
        consumer_secret: SECRET.into(),
        products: 40,
        orders: 30,
        // Most tests here talk Basic, as to a store behind TLS.
        treat_as_https: true,
        ..WooSimConfig::default()
    }
}

async fn start(cfg: WooSimConfig) -> WooSim {
    WooSim::start(cfg).await.expect("simulator starts")
}

/// Fast retries so tests do not wait on production backoff.
fn client_config(sim: &WooSim, auth: AuthMode) -> WooConfig {
    let mut cfg = WooConfig::new(sim.base_url(), KEY, SECRET);
    cfg.auth = auth;
    cfg.backoff_base = Duration::from_millis(20);
    cfg.backoff_cap = Duration::from_millis(100);
    cfg.timeout = Duration::from_secs(10);
    cfg
}

fn client(sim: &WooSim, auth: AuthMode) -> WooClient {
    WooClient::new(client_config(sim, auth)).expect("client builds")
}

fn api_code(error: &WooError) -> (u16, String) {
    match error {
        WooError::Api { status, code, .. } => (*status, code.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn managed_simple(sim: &WooSim) -> Vec<SimProduct> {
    sim.products()
        .into_iter()
        .filter(|p| p.kind == "simple" && p.manage_stock && !p.sku.is_empty())
        .collect()
}

#[tokio::test]
async fn basic_auth_works_when_treated_as_https() {
    let sim = start(sim_config()).await;
    let woo = client(&sim, AuthMode::Basic);
    let orders = woo.list_orders_modified_after(None).await.expect("orders");
    assert_eq!(orders.len(), 30);
    let one = woo.get_order(orders[0].id).await.expect("one order");
    assert_eq!(one.id, orders[0].id);
    sim.shutdown().await;
}

#[tokio::test]
async fn oauth_works_over_plain_http() {
    let sim = start(WooSimConfig {
        treat_as_https: false,
        ..sim_config()
    })
    .await;
    // Auto picks OAuth 1.0a for an http:// store.
    let woo = client(&sim, AuthMode::Auto);
    let all = woo
        .list_orders_modified_after(None)
        .await
        .expect("orders via OAuth");
    assert_eq!(all.len(), 30);
    // A modified_after value with ':' exercises the double encoding of the base string.
    let since = all[0].date_modified_gmt.expect("date") - chrono::Duration::seconds(1);
    let recent = woo
        .list_orders_modified_after(Some(since))
        .await
        .expect("filtered via OAuth");
    assert!(!recent.is_empty());
    let status = woo
        .update_order_status(all[0].id, "completed")
        .await
        .expect("PUT via OAuth");
    assert_eq!(status.status, "completed");
    sim.shutdown().await;
}

#[tokio::test]
async fn basic_is_ignored_over_plain_http() {
    let sim = start(WooSimConfig {
        treat_as_https: false,
        ..sim_config()
    })
    .await;
    let error = client(&sim, AuthMode::Basic)
        .list_products()
        .await
        .unwrap_err();
    assert_eq!(
        api_code(&error),
        (401, "woocommerce_rest_cannot_view".into())
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn wrong_secret_is_an_authentication_error() {
    for (treat_as_https, auth) in [(false, AuthMode::OAuth), (true, AuthMode::Basic)] {
        let sim = start(WooSimConfig {
            treat_as_https,
            ..sim_config()
        })
        .await;
        let mut cfg = client_config(&sim, auth);
        cfg.consumer_secret = "cs_wrong".into();
        let error = WooClient::new(cfg)
            .unwrap()
            .list_products()
            .await
            .unwrap_err();
        assert_eq!(
            api_code(&error),
            (401, "woocommerce_rest_authentication_error".into())
        );
        assert!(!error.is_retryable());
        // A 401 is answered at once: one request, no retries.
        assert_eq!(sim.request_count("GET /products"), 1);
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn missing_oauth_parameter_is_reported() {
    let sim = start(WooSimConfig {
        treat_as_https: false,
        ..sim_config()
    })
    .await;
    let url = format!(
        "{}/wp-json/wc/v3/orders?oauth_consumer_key={KEY}&oauth_timestamp={}",
        sim.base_url(),
        chrono::Utc::now().timestamp()
    );
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["code"],
        "woocommerce_rest_authentication_missing_parameter"
    );
    assert_eq!(body["data"]["status"], 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn replayed_nonce_is_refused() {
    let sim = start(WooSimConfig {
        treat_as_https: false,
        ..sim_config()
    })
    .await;
    let endpoint = format!("{}/wp-json/wc/v3/products", sim.base_url());
    let query = vec![("per_page".to_string(), "5".to_string())];
    let mut signed = query.clone();
    signed.extend(oauth::oauth_query_params(
        "GET",
        &endpoint,
        &query,
        KEY,
        SECRET,
        chrono::Utc::now().timestamp(),
        "same-nonce-twice",
    ));
    let http = reqwest::Client::new();
    let first = http.get(&endpoint).query(&signed).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let second = http.get(&endpoint).query(&signed).send().await.unwrap();
    assert_eq!(second.status(), 401);
    let body: serde_json::Value = second.json().await.unwrap();
    assert_eq!(body["code"], "woocommerce_rest_authentication_error");
    assert!(body["message"].as_str().unwrap().contains("nonce"));
    sim.shutdown().await;
}

#[tokio::test]
async fn oauth_in_the_authorization_header_is_accepted() {
    let sim = start(WooSimConfig {
        treat_as_https: false,
        ..sim_config()
    })
    .await;
    let endpoint = format!("{}/wp-json/wc/v3/products", sim.base_url());
    let query = vec![("per_page".to_string(), "3".to_string())];
    let oauth = oauth::oauth_query_params(
        "GET",
        &endpoint,
        &query,
        KEY,
        SECRET,
        chrono::Utc::now().timestamp(),
        "hdr-1",
    );
    let header = oauth
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", oauth::rawurlencode(v)))
        .collect::<Vec<_>>()
        .join(", ");
    let response = reqwest::Client::new()
        .get(&endpoint)
        .query(&query)
        .header("Authorization", format!("OAuth {header}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn stale_oauth_timestamp_is_refused() {
    let sim = start(WooSimConfig {
        treat_as_https: false,
        ..sim_config()
    })
    .await;
    let endpoint = format!("{}/wp-json/wc/v3/products", sim.base_url());
    let old = chrono::Utc::now().timestamp() - 16 * 60;
    let signed = oauth::oauth_query_params("GET", &endpoint, &[], KEY, SECRET, old, "n-old");
    let response = reqwest::Client::new()
        .get(&endpoint)
        .query(&signed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn query_string_auth_works_and_stays_out_of_errors() {
    let sim = start(sim_config()).await;
    let woo = client(&sim, AuthMode::QueryString);
    assert!(!woo.list_products().await.expect("products").is_empty());
    let error = woo.get_order(999_999).await.unwrap_err();
    assert_eq!(
        api_code(&error),
        (404, "woocommerce_rest_shop_order_invalid_id".into())
    );
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains(SECRET), "{text}");
        assert!(!text.contains(KEY), "{text}");
        assert!(text.contains("/wp-json/wc/v3/orders/999999"), "{text}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn secrets_never_appear_in_debug_or_display() {
    let sim = start(WooSimConfig {
        treat_as_https: false,
        ..sim_config()
    })
    .await;
    let mut cfg = client_config(&sim, AuthMode::OAuth);
    cfg.base_url = format!("http://user:{SECRET}@{}", sim.addr());
    let woo = WooClient::new(cfg.clone()).unwrap();
    let mut texts = vec![
        format!("{cfg:?}"),
        format!("{woo:?}"),
        format!("{:?}", sim_config()),
    ];
    let error = woo.get_order(424_242).await.unwrap_err();
    texts.push(error.to_string());
    texts.push(format!("{error:?}"));
    sim.faults().reset_next(1);
    let mut one_try = client_config(&sim, AuthMode::OAuth);
    one_try.max_attempts = 1;
    let reset = WooClient::new(one_try)
        .unwrap()
        .get_order(1)
        .await
        .unwrap_err();
    texts.push(reset.to_string());
    texts.push(format!("{reset:?}"));
    for text in texts {
        assert!(!text.contains(SECRET), "secret leaked: {text}");
        assert!(
            !text.contains("oauth_signature"),
            "signature leaked: {text}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn pagination_follows_total_pages() {
    let sim = start(WooSimConfig {
        orders: 350,
        ..sim_config()
    })
    .await;
    let woo = client(&sim, AuthMode::Basic);
    let orders = woo
        .list_orders_modified_after(None)
        .await
        .expect("all pages");
    assert_eq!(orders.len(), 350);
    assert_eq!(sim.request_count("GET /orders"), 4);
    // orderby=id&order=asc (ties on `modified` are unstable on real stores): each order once, by id.
    let ids: Vec<u64> = orders.iter().map(|o| o.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(ids.len(), 350);
    sim.shutdown().await;
}

#[tokio::test]
async fn modified_after_is_exclusive_and_whole_seconds() {
    let sim = start(sim_config()).await;
    let woo = client(&sim, AuthMode::Basic);
    let all = woo.list_orders_modified_after(None).await.unwrap();
    let newest = all.last().unwrap();
    let at = newest.date_modified_gmt.unwrap();
    assert_eq!(at.timestamp_subsec_nanos(), 0);
    let after = woo.list_orders_modified_after(Some(at)).await.unwrap();
    assert!(
        after.iter().all(|o| o.id != newest.id),
        "the bound itself is excluded"
    );
    sim.set_order_status(newest.id, "completed").unwrap();
    let changed = woo
        .list_orders_modified_after(Some(at - chrono::Duration::seconds(1)))
        .await
        .unwrap();
    assert!(
        changed
            .iter()
            .any(|o| o.id == newest.id && o.status == "completed")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn sim_enforces_page_and_batch_limits() {
    let sim = start(sim_config()).await;
    let http = reqwest::Client::new();
    let base = format!("{}/wp-json/wc/v3", sim.base_url());
    let too_big_page = http
        .get(format!("{base}/products?per_page=101"))
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big_page.status(), 400);
    let body: serde_json::Value = too_big_page.json().await.unwrap();
    assert_eq!(body["code"], "rest_invalid_param");
    assert!(body["data"]["params"]["per_page"].is_string());

    let updates: Vec<serde_json::Value> =
        (0..101).map(|i| serde_json::json!({ "id": i })).collect();
    let too_big_batch = http
        .post(format!("{base}/products/batch"))
        .basic_auth(KEY, Some(SECRET))
        .json(&serde_json::json!({ "update": updates }))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big_batch.status(), 413);
    let body: serde_json::Value = too_big_batch.json().await.unwrap();
    assert_eq!(body["code"], "woocommerce_rest_request_entity_too_large");

    let page = http
        .get(format!("{base}/products?per_page=10&page=2"))
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["x-wp-total"], "40");
    assert_eq!(page.headers()["x-wp-totalpages"], "4");
    let link = page.headers()["link"].to_str().unwrap().to_string();
    assert!(
        link.contains("page=1>; rel=\"prev\"") && link.contains("page=3>; rel=\"next\""),
        "{link}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn batch_of_250_is_split_into_3_requests() {
    let sim = start(WooSimConfig {
        products: 320,
        orders: 0,
        ..sim_config()
    })
    .await;
    let woo = client(&sim, AuthMode::Basic);
    let targets: Vec<SimProduct> = sim
        .products()
        .into_iter()
        .filter(|p| p.kind != "variation")
        .take(250)
        .collect();
    assert_eq!(targets.len(), 250);
    let updates = targets
        .iter()
        .map(|p| ProductUpdate {
            id: p.id,
            regular_price: Some("19.99".into()),
            ..ProductUpdate::default()
        })
        .collect();
    let outcome = woo.batch_update_products(updates).await;
    assert!(outcome.is_complete_success(), "{:?}", outcome.failed);
    assert_eq!(outcome.applied.len(), 250);
    assert_eq!(outcome.requests, 3);
    assert_eq!(sim.request_count("POST /products/batch"), 3);
    assert!(
        outcome
            .applied
            .iter()
            .all(|a| a.product.regular_price == "19.99")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn one_bad_item_is_reported_by_sku_and_the_other_99_apply() {
    let sim = start(WooSimConfig {
        products: 200,
        orders: 0,
        ..sim_config()
    })
    .await;
    let woo = client(&sim, AuthMode::Basic);
    let good: Vec<SimProduct> = managed_simple(&sim).into_iter().take(99).collect();
    assert_eq!(good.len(), 99);
    let mut updates: Vec<ProductUpdate> = good
        .iter()
        .map(|p| ProductUpdate {
            id: p.id,
            sku: Some(p.sku.clone()),
            stock_quantity: Some(7),
            ..ProductUpdate::default()
        })
        .collect();
    updates.insert(
        50,
        ProductUpdate {
            id: 987_654,
            sku: Some("GHOST-1".into()),
            stock_quantity: Some(3),
            ..ProductUpdate::default()
        },
    );
    let outcome = woo.batch_update_products(updates).await;
    assert_eq!(outcome.requests, 1);
    assert_eq!(outcome.applied.len(), 99);
    assert_eq!(outcome.failed.len(), 1);
    let failed = &outcome.failed[0];
    assert_eq!(failed.key, ItemKey::Sku("GHOST-1".into()));
    assert_eq!(failed.code, "woocommerce_rest_product_invalid_id");
    assert!(!failed.retryable);
    for p in &good {
        assert_eq!(sim.product_stock(p.id), Some(7), "stock of {}", p.sku);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn every_item_is_accounted_for_even_with_repeated_ids() {
    let sim = start(sim_config()).await;
    let woo = client(&sim, AuthMode::Basic);
    let product = &managed_simple(&sim)[0];
    let update = |quantity| ProductUpdate {
        id: product.id,
        stock_quantity: Some(quantity),
        ..Default::default()
    };
    let outcome = woo.batch_update_products(vec![update(5), update(9)]).await;
    assert_eq!(outcome.applied.len() + outcome.failed.len(), 2);
    assert_eq!(outcome.applied.len(), 2);
    // Absolute sets: the last write wins.
    assert_eq!(sim.product_stock(product.id), Some(9));
    sim.shutdown().await;
}

#[tokio::test]
async fn variations_are_batched_through_their_parent_and_reported_by_id() {
    let sim = start(sim_config()).await;
    let woo = client(&sim, AuthMode::Basic);
    let variation = sim
        .products()
        .into_iter()
        .find(|p| p.kind == "variation")
        .unwrap();
    let updates = vec![
        ProductUpdate {
            id: variation.id,
            parent_id: Some(variation.parent_id),
            stock_quantity: Some(11),
            ..Default::default()
        },
        // A simple product's id is not a variation of this parent.
        ProductUpdate {
            id: managed_simple(&sim)[0].id,
            parent_id: Some(variation.parent_id),
            stock_quantity: Some(1),
            ..Default::default()
        },
    ];
    let outcome = woo.batch_update_products(updates).await;
    assert_eq!(outcome.applied.len(), 1);
    assert_eq!(outcome.failed.len(), 1);
    assert!(matches!(outcome.failed[0].key, ItemKey::Id(_)));
    assert_eq!(sim.product_stock(variation.id), Some(11));
    assert_eq!(sim.request_count("POST /products/{id}/variations/batch"), 1);
    let listed = woo.list_variations(variation.parent_id).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|v| v.parent_id == variation.parent_id));
    sim.shutdown().await;
}

#[tokio::test]
async fn find_by_sku_is_chunked_and_finds_variations() {
    let sim = start(WooSimConfig {
        products: 150,
        orders: 0,
        ..sim_config()
    })
    .await;
    let woo = client(&sim, AuthMode::Basic);
    let with_sku: Vec<SimProduct> = sim
        .products()
        .into_iter()
        .filter(|p| !p.sku.is_empty() && p.kind != "variable")
        .take(120)
        .collect();
    assert!(with_sku.iter().any(|p| p.kind == "variation"));
    let mut skus: Vec<String> = with_sku.iter().map(|p| p.sku.clone()).collect();
    skus.push(String::new());
    skus.push("NO-SUCH-SKU".into());
    let found = woo.find_products_by_sku(&skus).await.unwrap();
    assert_eq!(found.len(), 120);
    assert_eq!(sim.request_count("GET /products"), 3);
    assert!(found.iter().any(|p| p.parent_id != 0));
    sim.shutdown().await;
}

#[tokio::test]
async fn catalogue_parses_with_its_irregularities() {
    let sim = start(sim_config()).await;
    let woo = client(&sim, AuthMode::Basic);
    let products = woo.list_products().await.unwrap();
    assert_eq!(products.len(), 40);
    assert!(products.iter().any(|p| p.sku.is_empty()));
    assert!(
        products
            .iter()
            .any(|p| !p.manage_stock && p.stock_quantity.is_none())
    );
    assert!(
        products
            .iter()
            .any(|p| p.product_type == "variable" && p.variations.len() == 3)
    );
    assert!(products.iter().all(|p| p.regular_price.contains('.')));
    let orders = woo.list_orders_modified_after(None).await.unwrap();
    assert!(
        orders
            .iter()
            .all(|o| o.line_items.iter().all(|l| l.price > 0.0 && l.quantity > 0))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn retry_after_2_is_waited_out() {
    let sim = start(sim_config()).await;
    let woo = client(&sim, AuthMode::Basic);
    let id = sim.order_ids()[0];
    sim.faults().throttle_next(1, 2);
    let started = Instant::now();
    let order = woo.get_order(id).await.expect("succeeds after the wait");
    assert_eq!(order.id, id);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sim.request_count("GET /orders/{id}"), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn long_retry_after_is_handed_to_the_caller() {
    let sim = start(sim_config()).await;
    let mut cfg = client_config(&sim, AuthMode::Basic);
    cfg.max_retry_after = Duration::from_secs(5);
    let woo = WooClient::new(cfg).unwrap();
    sim.faults().throttle_next(1, 120);
    let error = woo.list_products().await.unwrap_err();
    assert!(error.is_retryable());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(api_code(&error).0, 429);
    sim.shutdown().await;
}

#[tokio::test]
async fn outage_beyond_the_budget_is_retryable_then_recovers() {
    let sim = start(sim_config()).await;
    let mut cfg = client_config(&sim, AuthMode::Basic);
    cfg.max_attempts = 3;
    let woo = WooClient::new(cfg).unwrap();
    let id = sim.order_ids()[0];
    sim.faults().outage_for(Duration::from_millis(1500));
    let error = woo.get_order(id).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(api_code(&error).0, 503);
    assert_eq!(sim.request_count("GET /orders/{id}"), 3);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(woo.get_order(id).await.expect("after the outage").id, id);
    sim.shutdown().await;
}

#[tokio::test]
async fn connection_resets_are_retried() {
    let sim = start(sim_config()).await;
    let woo = client(&sim, AuthMode::Basic);
    let id = sim.order_ids()[0];
    sim.faults().reset_next(2);
    assert_eq!(
        woo.get_order(id).await.expect("third attempt answers").id,
        id
    );
    assert_eq!(sim.request_count("GET /orders/{id}"), 3);

    let mut cfg = client_config(&sim, AuthMode::Basic);
    cfg.max_attempts = 1;
    sim.faults().reset_next(1);
    let error = WooClient::new(cfg)
        .unwrap()
        .get_order(id)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            WooError::Transport {
                kind: TransportKind::Interrupted,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
    sim.shutdown().await;
}

#[tokio::test]
async fn slow_store_times_out() {
    let sim = start(sim_config()).await;
    let mut cfg = client_config(&sim, AuthMode::Basic);
    cfg.timeout = Duration::from_millis(300);
    cfg.max_attempts = 2;
    sim.faults()
        .set_latency(Duration::from_secs(1), Duration::ZERO);
    let error = WooClient::new(cfg)
        .unwrap()
        .list_products()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            WooError::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
    sim.shutdown().await;
}

/// A fake store answering fixed bodies, for shapes the simulator never produces.
async fn fake_store(order_body: &'static str, list_body: &'static str) -> String {
    let app = Router::new()
        .route(
            "/wp-json/wc/v3/orders/1",
            get(move || async move { order_body }),
        )
        .route(
            "/wp-json/wc/v3/orders",
            get(move || async move { list_body }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn malformed_bodies_name_endpoint_and_field() {
    let base = fake_store(
        r#"{"id":"one","status":"processing"}"#,
        r#"[{"id":1,"status":"wc-xyz","line_items":[{"id":5,"quantity":"two"}]}]"#,
    )
    .await;
    let mut cfg = WooConfig::new(base, KEY, SECRET);
    cfg.auth = AuthMode::Basic;
    let woo = WooClient::new(cfg).unwrap();
    let error = woo.get_order(1).await.unwrap_err();
    match &error {
        WooError::Malformed {
            endpoint, field, ..
        } => {
            assert!(
                endpoint.starts_with("GET ") && endpoint.contains("/wp-json/wc/v3/orders/1"),
                "{endpoint}"
            );
            assert_eq!(field, "id");
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
    assert!(!error.is_retryable());
    let error = woo.list_orders_modified_after(None).await.unwrap_err();
    assert!(
        matches!(&error, WooError::Malformed { field, .. } if field == "[0].line_items[0].quantity"),
        "{error:?}"
    );
}

#[tokio::test]
async fn tolerant_where_stores_vary() {
    let base = fake_store(
        r#"{"id":1,"number":1001,"status":"checkout-draft","date_modified_gmt":"2024-03-01T10:00:00","billing":null,
            "line_items":[{"id":5,"quantity":2,"sku":null,"price":"12.50","product_id":9,"variation_id":0,"extra":{}}],
            "unknown_field":[1,2,3]}"#,
        "[]",
    )
    .await;
    let mut cfg = WooConfig::new(base, KEY, SECRET);
    cfg.auth = AuthMode::Basic;
    let order = WooClient::new(cfg)
        .unwrap()
        .get_order(1)
        .await
        .expect("tolerated");
    assert_eq!(order.number, "1001");
    assert_eq!(order.status, "checkout-draft");
    assert_eq!(order.line_items[0].sku, "");
    assert_eq!(order.line_items[0].price, 12.5);
}

#[tokio::test]
async fn stock_is_reduced_once_and_restored_on_cancel() {
    let sim = start(sim_config()).await;
    let woo = client(&sim, AuthMode::Basic);
    let product = &managed_simple(&sim)[0];
    sim.set_stock(product.id, 50).unwrap();
    let order = sim.create_order(&[(&product.sku, 2)], "pending").unwrap();
    assert_eq!(sim.product_stock(product.id), Some(50));
    woo.update_order_status(order, "processing").await.unwrap();
    assert_eq!(sim.product_stock(product.id), Some(48));
    woo.update_order_status(order, "completed").await.unwrap();
    assert_eq!(sim.product_stock(product.id), Some(48), "reduced once only");
    woo.update_order_status(order, "cancelled").await.unwrap();
    assert_eq!(sim.product_stock(product.id), Some(50));
    assert_eq!(sim.order_status(order).as_deref(), Some("cancelled"));

    woo.add_order_note(order, "Shipped by syncdesk", true)
        .await
        .unwrap();
    woo.add_order_note(order, "internal", false).await.unwrap();
    let notes = sim.order_notes(order);
    assert_eq!(notes.len(), 2);
    assert!(notes[0].customer_note && !notes[1].customer_note);
    assert_eq!(woo.list_order_notes(order).await.unwrap().len(), 2);

    let error = woo
        .update_order_status(order, "not-a-status")
        .await
        .unwrap_err();
    assert_eq!(api_code(&error), (400, "rest_invalid_param".into()));
    sim.shutdown().await;
}

/// A webhook receiver: records (headers, raw body) and answers with a settable status.
struct Receiver {
    url: String,
    calls: mpsc::UnboundedReceiver<(HeaderMap, Bytes)>,
    status: Arc<AtomicU16>,
}

async fn receiver() -> Receiver {
    let (tx, calls) = mpsc::unbounded_channel();
    let status = Arc::new(AtomicU16::new(200));
    let answer = status.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            let answer = answer.clone();
            async move {
                let _ = tx.send((headers, body));
                StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver {
        url: format!("http://{addr}/hook"),
        calls,
        status,
    }
}

async fn next_call(rx: &mut Receiver) -> (HeaderMap, Bytes) {
    tokio::time::timeout(Duration::from_secs(5), rx.calls.recv())
        .await
        .expect("a delivery in time")
        .expect("open")
}

fn expected_signature(body: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn webhook_delivery_is_signed_and_pinged_first() {
    let mut rx = receiver().await;
    let target = WebhookTarget {
        url: rx.url.clone(),
        secret: "whsec".into(),
        topics: vec!["order.updated".into()],
    };
    let sim = start(WooSimConfig {
        webhook: Some(target),
        webhook_coalesce: Duration::from_millis(50),
        ..sim_config()
    })
    .await;

    let (ping_headers, ping_body) = next_call(&mut rx).await;
    assert_eq!(&ping_body[..], b"webhook_id=1");
    assert!(ping_headers.get("x-wc-webhook-signature").is_none());

    let id = sim.order_ids()[3];
    client(&sim, AuthMode::Basic)
        .update_order_status(id, "completed")
        .await
        .unwrap();
    let (headers, body) = next_call(&mut rx).await;
    assert_eq!(
        header(&headers, "x-wc-webhook-signature"),
        expected_signature(&body, "whsec")
    );
    assert_eq!(header(&headers, "x-wc-webhook-topic"), "order.updated");
    assert_eq!(header(&headers, "x-wc-webhook-resource"), "order");
    assert_eq!(header(&headers, "x-wc-webhook-event"), "updated");
    assert_eq!(header(&headers, "x-wc-webhook-id"), "1");
    assert!(!header(&headers, "x-wc-webhook-delivery-id").is_empty());
    assert!(header(&headers, "x-wc-webhook-source").starts_with(&sim.base_url()));
    let payload: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["id"], id);
    assert_eq!(payload["status"], "completed");
    sim.shutdown().await;
}

#[tokio::test]
async fn webhook_deliveries_coalesce_per_resource() {
    let mut rx = receiver().await;
    let target = WebhookTarget {
        url: rx.url.clone(),
        secret: "s".into(),
        topics: vec!["order.updated".into()],
    };
    let sim = start(WooSimConfig {
        webhook: Some(target),
        webhook_coalesce: Duration::from_millis(400),
        ..sim_config()
    })
    .await;
    next_call(&mut rx).await; // ping
    let id = sim.order_ids()[0];
    for status in ["on-hold", "processing", "completed"] {
        sim.set_order_status(id, status).unwrap();
    }
    let (_, body) = next_call(&mut rx).await;
    let payload: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["status"], "completed", "built at send time");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(rx.calls.try_recv().is_err(), "three changes, one delivery");
    sim.shutdown().await;
}

#[tokio::test]
async fn webhook_is_disabled_after_more_than_5_failures() {
    let mut rx = receiver().await;
    rx.status.store(500, Ordering::SeqCst);
    let target = WebhookTarget {
        url: rx.url.clone(),
        secret: "s".into(),
        topics: vec!["order.updated".into()],
    };
    let sim = start(WooSimConfig {
        webhook: Some(target),
        webhook_coalesce: Duration::from_millis(10),
        ..sim_config()
    })
    .await;
    next_call(&mut rx).await; // ping
    for id in sim.order_ids().into_iter().take(8) {
        sim.set_order_status(id, "completed").unwrap();
    }
    for _ in 0..6 {
        next_call(&mut rx).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        rx.calls.try_recv().is_err(),
        "nothing after the 6th failure"
    );
    let state = sim.webhook_state(1).unwrap();
    assert!(!state.active);
    assert_eq!(
        sim.webhook_deliveries()
            .iter()
            .filter(|d| d.topic == "order.updated")
            .count(),
        6
    );

    // Re-enabled by hand, it delivers again.
    rx.status.store(200, Ordering::SeqCst);
    assert!(sim.set_webhook_active(1, true));
    sim.set_order_status(sim.order_ids()[9], "completed")
        .unwrap();
    next_call(&mut rx).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sim.webhook_state(1).unwrap().consecutive_failures, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn paid_order_fires_product_updated_with_the_new_stock() {
    let mut rx = receiver().await;
    let target = WebhookTarget {
        topics: vec!["product.updated".into()],
        ..WebhookTarget::new(rx.url.clone(), "k")
    };
    let sim = start(WooSimConfig {
        webhook: Some(target),
        webhook_coalesce: Duration::from_millis(50),
        ..sim_config()
    })
    .await;
    next_call(&mut rx).await; // ping
    let product = &managed_simple(&sim)[0];
    sim.set_stock(product.id, 10).unwrap();
    let (_, body) = next_call(&mut rx).await;
    let payload: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (payload["id"].as_u64(), payload["stock_quantity"].as_i64()),
        (Some(product.id), Some(10))
    );
    sim.create_order(&[(&product.sku, 3)], "processing")
        .unwrap();
    let (headers, body) = next_call(&mut rx).await;
    assert_eq!(header(&headers, "x-wc-webhook-topic"), "product.updated");
    let payload: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["stock_quantity"], 7);
    sim.shutdown().await;
}

#[tokio::test]
async fn random_server_errors_are_absorbed_by_retries() {
    let sim = start(WooSimConfig {
        orders: 250,
        ..sim_config()
    })
    .await;
    let mut cfg = client_config(&sim, AuthMode::Basic);
    cfg.max_attempts = 8;
    let woo = WooClient::new(cfg).unwrap();
    sim.faults().set_error_rate(0.2);
    let orders = woo
        .list_orders_modified_after(None)
        .await
        .expect("retries absorb 20% errors");
    assert_eq!(orders.len(), 250);
    sim.faults().clear();
    sim.shutdown().await;
}

#[tokio::test]
async fn a_non_json_success_body_is_malformed_not_a_panic() {
    let base = fake_store("<html>maintenance</html>", "[]").await;
    let mut cfg = WooConfig::new(base, KEY, SECRET);
    cfg.auth = AuthMode::Basic;
    let error = WooClient::new(cfg).unwrap().get_order(1).await.unwrap_err();
    assert!(
        matches!(&error, WooError::Malformed { field, .. } if field == "(body)"),
        "{error:?}"
    );
    assert!(error.to_string().contains("/wp-json/wc/v3/orders/1"));
}
