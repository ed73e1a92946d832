//! The WooCommerce simulator's test knobs, as scenario tests use them: answers lost after the store applied
//! the request, a frozen clock, unstable order of ties, admin edits of orders, variations without their own
//! SKU, and the `/webhooks` resource. Behaviour shared with the real store is in `woo_conformance`.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{DateTime, SubsecRound, TimeZone, Utc};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;
use syncdesk_sim::woo::{WooSim, WooSimConfig};
use tokio::sync::mpsc;

async fn start(products: usize, orders: usize) -> WooSim {
    WooSim::start(WooSimConfig {
        products,
        orders,
        webhook_coalesce: Duration::from_millis(30),
        // These tests talk Basic, as to a store behind TLS (the default simulator is a plain-http store).
        treat_as_https: true,
        ..WooSimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// Raw HTTP with Basic auth (the simulator here treats requests as TLS).
struct Api {
    http: reqwest::Client,
    root: String,
    key: String,
    secret: String,
}

impl Api {
    fn new(sim: &WooSim) -> Self {
        let cfg = WooSimConfig::default();
        Self {
            http: reqwest::Client::new(),
            root: format!("{}/wp-json/wc/v3", sim.base_url()),
            key: cfg.consumer_key,
            secret: cfg.consumer_secret,
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Result<(u16, HeaderMap, Value)> {
        let mut request = self
            .http
            .request(method, format!("{}/{path}", self.root))
            .basic_auth(&self.key, Some(&self.secret));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        Ok((
            status,
            headers,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    async fn get(&self, path: &str) -> (u16, HeaderMap, Value) {
        self.send(reqwest::Method::GET, path, None)
            .await
            .expect("answer")
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_lost_answer_still_applies_the_request_and_only_on_its_route() {
    let sim = start(10, 5).await;
    let api = Api::new(&sim);
    let order = sim.order_ids()[0];
    sim.faults().lose_answers_next("POST /orders/{id}/notes", 1);

    // Another route is unaffected.
    let (status, _, _) = api.get(&format!("orders/{order}")).await;
    assert_eq!(status, 200);

    let lost = api
        .send(
            reqwest::Method::POST,
            &format!("orders/{order}/notes"),
            Some(json!({"note": "shipped", "customer_note": false})),
        )
        .await;
    assert!(lost.is_err(), "the client sees no answer: {lost:?}");
    assert_eq!(
        sim.order_notes(order)
            .iter()
            .filter(|n| n.note == "shipped")
            .count(),
        1,
        "but the note was added"
    );

    // Only `n` answers are lost: a blind retry is answered, and the note is now there twice.
    let (status, _, _) = api
        .send(
            reqwest::Method::POST,
            &format!("orders/{order}/notes"),
            Some(json!({"note": "shipped"})),
        )
        .await
        .expect("answered");
    assert_eq!(status, 201);
    assert_eq!(
        sim.order_notes(order)
            .iter()
            .filter(|n| n.note == "shipped")
            .count(),
        2
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_lost_status_push_is_applied_in_the_store() {
    let sim = start(10, 5).await;
    let api = Api::new(&sim);
    let order = sim.create_order(&[("SKU-0001", 1)], "processing").unwrap();
    sim.faults().lose_answers_next("PUT /orders/{id}", 2);
    for _ in 0..2 {
        let lost = api
            .send(
                reqwest::Method::PUT,
                &format!("orders/{order}"),
                Some(json!({"status": "completed"})),
            )
            .await;
        assert!(lost.is_err());
    }
    assert_eq!(sim.order_status(order).as_deref(), Some("completed"));
    let (status, _, body) = api
        .send(
            reqwest::Method::PUT,
            &format!("orders/{order}"),
            Some(json!({"status": "completed"})),
        )
        .await
        .expect("third one answered");
    assert_eq!((status, body["status"].as_str()), (200, Some("completed")));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_frozen_clock_stamps_every_change_with_one_second() {
    let sim = start(10, 0).await;
    let api = Api::new(&sim);
    let frozen = Utc.with_ymd_and_hms(2031, 5, 6, 7, 8, 9).unwrap();
    sim.freeze_clock(Some(frozen));
    let created = sim.create_order(&[("SKU-0001", 1)], "pending").unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, _, pushed) = api
        .send(
            reqwest::Method::PUT,
            &format!("orders/{created}"),
            Some(json!({"status": "processing"})),
        )
        .await
        .unwrap();
    assert_eq!(pushed["date_modified_gmt"], "2031-05-06T07:08:09");
    assert_eq!(pushed["date_created_gmt"], "2031-05-06T07:08:09");
    // The stock the payment took was modified in the same frozen second.
    let product = sim.product_id_by_sku("SKU-0001").unwrap();
    let (_, _, body) = api.get(&format!("products/{product}")).await;
    assert_eq!(body["date_modified_gmt"], "2031-05-06T07:08:09");

    sim.freeze_clock(None);
    sim.set_order_status(created, "completed").unwrap();
    let (_, _, body) = api.get(&format!("orders/{created}")).await;
    let modified = at(&format!("{}Z", body["date_modified_gmt"].as_str().unwrap()));
    assert!((Utc::now().trunc_subsecs(0) - modified).num_seconds().abs() <= 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn ties_on_the_modification_date_come_back_in_an_unstable_order() {
    let sim = start(10, 0).await;
    let api = Api::new(&sim);
    sim.freeze_clock(Some(Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 0).unwrap()));
    let ids: BTreeSet<u64> = (0..30)
        .map(|_| sim.create_order(&[("SKU-0001", 1)], "pending").unwrap())
        .collect();
    let page_ids = |body: &Value| -> Vec<u64> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_u64().unwrap())
            .collect()
    };
    let mut first_pages = BTreeSet::new();
    let mut naive_union = BTreeSet::new();
    for page in 1..=6 {
        let (_, _, body) = api
            .get(&format!(
                "orders?orderby=modified&order=asc&per_page=5&page={page}"
            ))
            .await;
        naive_union.extend(page_ids(&body));
        let (_, _, again) = api
            .get("orders?orderby=modified&order=asc&per_page=5&page=1")
            .await;
        first_pages.insert(page_ids(&again));
    }
    assert!(
        first_pages.len() > 1,
        "the same page read twice differs: {first_pages:?}"
    );
    assert!(
        naive_union.len() < ids.len(),
        "page-by-page reading under ties skips some (got {} of {})",
        naive_union.len(),
        ids.len()
    );

    // With shuffle_ties off (`--stable-ties`), reads repeat exactly.
    let stable = WooSim::start(WooSimConfig {
        products: 10,
        orders: 0,
        shuffle_ties: false,
        treat_as_https: true,
        ..WooSimConfig::default()
    })
    .await
    .unwrap();
    stable.freeze_clock(Some(Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 0).unwrap()));
    for _ in 0..30 {
        stable.create_order(&[("SKU-0001", 1)], "pending").unwrap();
    }
    let stable_api = Api::new(&stable);
    let mut reads = BTreeSet::new();
    for _ in 0..4 {
        let (_, _, body) = stable_api
            .get("orders?orderby=modified&order=asc&per_page=5&page=1")
            .await;
        reads.insert(page_ids(&body));
    }
    assert_eq!(reads.len(), 1, "{reads:?}");
    stable.shutdown().await;

    // orderby=id is stable: every read of the pages gives each order exactly once.
    for _ in 0..2 {
        let mut seen = Vec::new();
        for page in 1..=6 {
            let (_, _, body) = api
                .get(&format!(
                    "orders?orderby=id&order=asc&per_page=5&page={page}"
                ))
                .await;
            seen.extend(page_ids(&body));
        }
        assert_eq!(seen, ids.iter().copied().collect::<Vec<_>>());
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_edits_of_lines_and_shipping_bump_the_order_and_move_stock() {
    let sim = start(10, 0).await;
    let api = Api::new(&sim);
    let one = sim.product_id_by_sku("SKU-0001").unwrap();
    let two = sim.product_id_by_sku("SKU-0002").unwrap();
    sim.set_stock(one, 10).unwrap();
    sim.set_stock(two, 10).unwrap();
    sim.freeze_clock(Some(Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 0).unwrap()));
    let order = sim.create_order(&[("SKU-0001", 3)], "processing").unwrap();
    assert_eq!(sim.product_stock(one), Some(7));

    sim.freeze_clock(Some(Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 5).unwrap()));
    sim.edit_order_lines(order, &[("SKU-0002", 2), ("SKU-0001", 1)])
        .unwrap();
    let (_, _, body) = api.get(&format!("orders/{order}")).await;
    assert_eq!(body["date_modified_gmt"], "2031-01-01T00:00:05");
    let lines: Vec<(String, i64)> = body["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_string(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [("SKU-0002".to_string(), 2), ("SKU-0001".to_string(), 1)]
    );
    assert_eq!(
        (sim.product_stock(one), sim.product_stock(two)),
        (Some(9), Some(8))
    );

    sim.freeze_clock(Some(Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 9).unwrap()));
    sim.set_order_shipping(order, "Grace", "Hopper", "Arlington")
        .unwrap();
    let (_, _, body) = api.get(&format!("orders/{order}")).await;
    assert_eq!(body["date_modified_gmt"], "2031-01-01T00:00:09");
    assert_eq!(
        (&body["shipping"]["first_name"], &body["shipping"]["city"]),
        (&json!("Grace"), &json!("Arlington"))
    );
    assert_eq!(body["billing"]["first_name"], "Walk", "billing unchanged");
    assert!(sim.edit_order_lines(999_999, &[("SKU-0001", 1)]).is_err());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_variation_without_its_own_sku_sells_under_the_parents() {
    let sim = start(10, 0).await;
    let api = Api::new(&sim);
    let (parent, variations) = sim.add_variable_product("TEE", &[(None, 5), (Some("TEE-RED"), 5)]);
    let order = sim
        .create_order_by_ids(&[(variations[0], 1), (variations[1], 2)], "processing")
        .unwrap();
    let (_, _, body) = api.get(&format!("orders/{order}")).await;
    let lines: Vec<(u64, u64, &str)> = body["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["product_id"].as_u64().unwrap(),
                l["variation_id"].as_u64().unwrap(),
                l["sku"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (parent, variations[0], "TEE"),
            (parent, variations[1], "TEE-RED")
        ]
    );
    // The store shows the parent's SKU on the variation itself, and `?sku=` finds only the parent.
    let (_, _, listed) = api.get(&format!("products/{parent}/variations")).await;
    let skus: BTreeSet<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, BTreeSet::from(["TEE", "TEE-RED"]));
    let (_, _, found) = api.get("products?sku=TEE").await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["id"], parent);
    assert_eq!(sim.product_stock(variations[0]), Some(4));
    assert_eq!(sim.shown_sku(variations[0]).as_deref(), Some("TEE"));

    // The seeded catalogue has such variations, and orders selling them.
    let seeded = start(50, 100).await;
    let skuless: Vec<u64> = seeded
        .products()
        .iter()
        .filter(|p| p.kind == "variation" && p.sku.is_empty())
        .map(|p| p.id)
        .collect();
    assert!(!skuless.is_empty());
    let statuses: BTreeSet<String> = seeded
        .order_ids()
        .into_iter()
        .filter_map(|id| seeded.order_status(id))
        .collect();
    assert!(statuses.contains("on-hold"), "{statuses:?}");
    seeded.shutdown().await;
    sim.shutdown().await;
}

/// Records (headers, raw body) of each POST and answers with a settable status.
async fn receiver() -> (
    String,
    mpsc::UnboundedReceiver<(HeaderMap, Bytes)>,
    Arc<AtomicU16>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
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
    (format!("http://{addr}/hook"), rx, status)
}

async fn next_call(rx: &mut mpsc::UnboundedReceiver<(HeaderMap, Bytes)>) -> (HeaderMap, Bytes) {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a delivery in time")
        .expect("open")
}

#[tokio::test]
async fn webhooks_resource_creates_pings_lists_pauses_and_deletes() {
    let sim = start(10, 5).await;
    let api = Api::new(&sim);
    let (url, mut rx, answer) = receiver().await;

    let (status, headers, _) = api.get("webhooks").await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-wp-total"], "0");

    let (status, headers, hook) = api
        .send(
            reqwest::Method::POST,
            "webhooks",
            Some(json!({"name": "sync", "topic": "order.updated", "delivery_url": url, "secret": "s3"})),
        )
        .await
        .unwrap();
    assert_eq!(status, 201);
    let id = hook["id"].as_u64().unwrap();
    assert!(
        headers["location"]
            .to_str()
            .unwrap()
            .ends_with(&format!("/wp-json/wc/v3/webhooks/{id}"))
    );
    assert_eq!(
        (&hook["status"], &hook["resource"], &hook["event"]),
        (&json!("active"), &json!("order"), &json!("updated"))
    );
    assert!(hook.get("secret").is_none(), "the secret is never returned");
    assert_eq!(
        hook["hooks"],
        json!(["woocommerce_update_order", "woocommerce_order_refunded"])
    );

    let (ping_headers, ping) = next_call(&mut rx).await;
    assert_eq!(ping, format!("webhook_id={id}"));
    assert_eq!(
        ping_headers["user-agent"],
        "WooCommerce/10.0.2 Hookshot (WordPress/6.8.8)"
    );
    assert!(
        ping_headers
            .keys()
            .all(|k| !k.as_str().starts_with("x-wc-")),
        "{ping_headers:?}"
    );

    let (_, _, bad) = api
        .send(
            reqwest::Method::POST,
            "webhooks",
            Some(json!({"topic": "order.exploded", "delivery_url": url})),
        )
        .await
        .unwrap();
    assert_eq!(bad["code"], "woocommerce_rest_shop_webhook_invalid_topic");

    // Paused: nothing is delivered.
    let (_, _, paused) = api
        .send(
            reqwest::Method::PUT,
            &format!("webhooks/{id}"),
            Some(json!({"status": "paused"})),
        )
        .await
        .unwrap();
    assert_eq!(paused["status"], "paused");
    let order = sim.order_ids()[0];
    sim.set_order_status(order, "completed").unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.try_recv().is_err(), "a paused webhook delivers nothing");
    let (status, _, refused) = api
        .send(
            reqwest::Method::PUT,
            &format!("webhooks/{id}"),
            Some(json!({"status": "sleeping"})),
        )
        .await
        .unwrap();
    assert_eq!(status, 400);
    assert_eq!(
        refused["data"]["params"]["status"],
        "status is not one of active, paused, and disabled."
    );
    assert_eq!(
        refused["data"]["details"]["status"]["code"],
        "rest_not_in_enum"
    );

    // Active again, failing: disabled after the 6th failure, visible through the API.
    api.send(
        reqwest::Method::PUT,
        &format!("webhooks/{id}"),
        Some(json!({"status": "active"})),
    )
    .await
    .unwrap();
    answer.store(500, Ordering::SeqCst);
    for order in sim.order_ids().into_iter().take(5) {
        sim.set_order_status(order, "on-hold").unwrap();
        next_call(&mut rx).await;
    }
    assert_eq!(
        api.get(&format!("webhooks/{id}")).await.2["status"],
        "active"
    );
    sim.set_order_status(sim.order_ids()[0], "processing")
        .unwrap();
    next_call(&mut rx).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        api.get(&format!("webhooks/{id}")).await.2["status"],
        "disabled"
    );
    // Re-activated, the count is kept: one more failure disables it again.
    assert!(sim.set_webhook_active(id, true));
    assert_eq!(sim.webhook_state(id).unwrap().consecutive_failures, 6);
    sim.set_order_status(sim.order_ids()[1], "completed")
        .unwrap();
    next_call(&mut rx).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sim.webhook_state(id).unwrap().status, "disabled");

    let (status, _, body) = api
        .send(reqwest::Method::DELETE, &format!("webhooks/{id}"), None)
        .await
        .unwrap();
    assert_eq!(
        (status, body["code"].as_str()),
        (501, Some("woocommerce_rest_trash_not_supported"))
    );
    let (status, _, _) = api
        .send(
            reqwest::Method::DELETE,
            &format!("webhooks/{id}?force=true"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (status, _, body) = api.get(&format!("webhooks/{id}")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("woocommerce_rest_shop_webhook_invalid_id"))
    );
    sim.shutdown().await;
}

/// What the lost-answer knob is for: a client that retries a note POST whose answer was lost adds it twice.
#[tokio::test]
async fn the_clients_note_push_survives_a_lost_answer_without_duplicating() {
    let sim = start(10, 5).await;
    let mut cfg = syncdesk::integrations::woocommerce::client::WooConfig::new(
        sim.base_url(),
        WooSimConfig::default().consumer_key,
        WooSimConfig::default().consumer_secret,
    );
    cfg.auth = syncdesk::integrations::woocommerce::client::AuthMode::Basic;
    cfg.backoff_base = Duration::from_millis(10);
    cfg.backoff_cap = Duration::from_millis(50);
    let woo = syncdesk::integrations::woocommerce::client::WooClient::new(cfg).unwrap();
    let order = sim.order_ids()[0];
    sim.faults().lose_answers_next("POST /orders/{id}/notes", 1);
    let _ = woo.add_order_note(order, "Shipped — DPD 1Z1", true).await;
    let copies = sim
        .order_notes(order)
        .iter()
        .filter(|n| n.note == "Shipped — DPD 1Z1")
        .count();
    sim.shutdown().await;
    assert_eq!(
        copies, 1,
        "the customer got the shipping note {copies} times"
    );
}
