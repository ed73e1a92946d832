//! Conformance: what syncdesk relies on from WooCommerce, written once and run against the real store
//! (`SYNCDESK_WOO_URL`/`_KEY`/`_SECRET`, e.g. `../shared/realwoo`) and against the simulator (otherwise).
//! Mostly through syncdesk's own client, with raw signed requests where the client has no call. Each test
//! asserts a property that holds on the real store; where the simulator disagreed, the simulator was fixed.
//!
//! Run: `cargo test --test woo_conformance` (simulator), or with the three variables exported (real store).

mod target;

use chrono::{DateTime, Duration as Span, NaiveDateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use syncdesk::integrations::woocommerce::client::{ProductUpdate, WooClient, WooConfig, WooError};
use target::{Kind, Target, encode, oauth_params, oauth_params_at};

fn gmt(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a date, got {value}"));
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .and_utc()
}

fn no_offset(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn ids(body: &Value) -> Vec<u64> {
    body.as_array()
        .unwrap_or_else(|| panic!("a list, got {body}"))
        .iter()
        .map(|item| item["id"].as_u64().unwrap())
        .collect()
}

fn api_error(error: &WooError) -> (u16, String) {
    match error {
        WooError::Api { status, code, .. } => (*status, code.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

// ---- authentication ---------------------------------------------------------------------------------

#[tokio::test]
async fn every_authentication_failure_is_the_stores_401() {
    let t = Target::start("auth").await;
    let url = t.api_url("products");
    let page = vec![("per_page".to_string(), "1".to_string())];
    let refused = |answer: &target::Answer, code: &str, message: &str| {
        assert_eq!(
            (
                answer.status,
                answer.code(),
                answer.body["message"].as_str().unwrap_or("")
            ),
            (401, code, message),
            "{}",
            answer.body
        );
    };

    let ok = t
        .send(
            Method::GET,
            &url,
            &page,
            &oauth_params(&Method::GET, &url, &page, &t.key, &t.secret, "HMAC-SHA256"),
            None,
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let sha1 = t
        .send(
            Method::GET,
            &url,
            &page,
            &oauth_params(&Method::GET, &url, &page, &t.key, &t.secret, "HMAC-SHA1"),
            None,
        )
        .await;
    assert_eq!(sha1.status, 200, "HMAC-SHA1 is accepted too: {}", sha1.body);

    let wrong_secret = oauth_params(&Method::GET, &url, &page, &t.key, "cs_wrong", "HMAC-SHA256");
    refused(
        &t.send(Method::GET, &url, &page, &wrong_secret, None).await,
        "woocommerce_rest_authentication_error",
        "Invalid signature - provided signature does not match.",
    );
    let wrong_key = oauth_params(
        &Method::GET,
        &url,
        &page,
        "ck_wrong",
        &t.secret,
        "HMAC-SHA256",
    );
    refused(
        &t.send(Method::GET, &url, &page, &wrong_key, None).await,
        "woocommerce_rest_authentication_error",
        "Consumer key is invalid.",
    );
    let hour_ago = (Utc::now().timestamp() - 3600).to_string();
    let old = oauth_params_at(
        &Method::GET,
        &url,
        &page,
        &t.key,
        &t.secret,
        "HMAC-SHA256",
        &hour_ago,
        &target::nonce(),
    );
    refused(
        &t.send(Method::GET, &url, &page, &old, None).await,
        "woocommerce_rest_authentication_error",
        "Invalid timestamp.",
    );
    // The store remembers one nonce per timestamp (the API key's `nonces`, keyed by timestamp), so use a
    // second in the window that no other client of this shared key is using right now.
    let odd_second = (Utc::now().timestamp() - 300 - i64::from(fastrand::u16(0..500))).to_string();
    let signed_at = |nonce: &str| {
        oauth_params_at(
            &Method::GET,
            &url,
            &page,
            &t.key,
            &t.secret,
            "HMAC-SHA256",
            &odd_second,
            nonce,
        )
    };
    let once = signed_at(&target::nonce());
    assert_eq!(
        t.send(Method::GET, &url, &page, &once, None).await.status,
        200
    );
    refused(
        &t.send(Method::GET, &url, &page, &once, None).await,
        "woocommerce_rest_authentication_error",
        "Invalid nonce - nonce has already been used.",
    );
    // …and forgets it when another request comes with the same timestamp: then the replay goes through.
    assert_eq!(
        t.send(Method::GET, &url, &page, &signed_at(&target::nonce()), None)
            .await
            .status,
        200
    );
    assert_eq!(
        t.send(Method::GET, &url, &page, &once, None).await.status,
        200,
        "a nonce is only remembered until the next request with the same timestamp"
    );
    let mut unsigned = oauth_params(&Method::GET, &url, &page, &t.key, &t.secret, "HMAC-SHA256");
    unsigned.retain(|(k, _)| k != "oauth_signature");
    refused(
        &t.send(Method::GET, &url, &page, &unsigned, None).await,
        "woocommerce_rest_authentication_missing_parameter",
        "Missing OAuth parameter oauth_signature",
    );

    // Over plain http, Basic and query-string keys are not looked at: the request is a visitor's.
    let visitor = "Sorry, you cannot list resources.";
    refused(
        &t.send(Method::GET, &url, &page, &[], None).await,
        "woocommerce_rest_cannot_view",
        visitor,
    );
    let basic = t
        .send_raw(t.http().get(&url).basic_auth(&t.key, Some(&t.secret)), None)
        .await;
    refused(&basic, "woocommerce_rest_cannot_view", visitor);
    let keys = vec![
        ("consumer_key".to_string(), t.key.clone()),
        ("consumer_secret".to_string(), t.secret.clone()),
    ];
    refused(
        &t.send(Method::GET, &url, &keys, &[], None).await,
        "woocommerce_rest_cannot_view",
        visitor,
    );
    let create = t
        .send(Method::POST, &url, &[], &[], Some(json!({"name": "x"})))
        .await;
    refused(
        &create,
        "woocommerce_rest_cannot_create",
        "Sorry, you are not allowed to create resources.",
    );

    // syncdesk's client reports a wrong secret as the store's 401, not as something retryable.
    let mut cfg = WooConfig::new(t.base_url.clone(), t.key.clone(), "cs_wrong".to_string());
    cfg.max_attempts = 3;
    let error = WooClient::new(cfg).unwrap().get_order(1).await.unwrap_err();
    assert_eq!(
        api_error(&error),
        (401, "woocommerce_rest_authentication_error".into())
    );
    assert!(!error.is_retryable());
    t.cleanup(&[]).await;
}

#[tokio::test]
async fn oauth_in_the_header_and_php_one_value_per_key() {
    let t = Target::start("oauthhdr").await;
    let url = t.api_url("products");
    // Parameters in an `Authorization: OAuth …` header instead of the query.
    let page = vec![("per_page".to_string(), "1".to_string())];
    let oauth = oauth_params(&Method::GET, &url, &page, &t.key, &t.secret, "HMAC-SHA256");
    let header = format!(
        "OAuth {}",
        oauth
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", encode(v)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let answer = t
        .send_raw(
            t.http()
                .get(format!("{url}?per_page=1"))
                .header("Authorization", header),
            None,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    // A repeated parameter: PHP keeps the last value, and the signature is checked over that set.
    let repeated = vec![
        ("per_page".to_string(), "1".to_string()),
        ("per_page".to_string(), "2".to_string()),
    ];
    let last_only = vec![("per_page".to_string(), "2".to_string())];
    let php_view = oauth_params(
        &Method::GET,
        &url,
        &last_only,
        &t.key,
        &t.secret,
        "HMAC-SHA256",
    );
    let answer = t.send(Method::GET, &url, &repeated, &php_view, None).await;
    assert_eq!(
        answer.status, 200,
        "signed over the last value: {}",
        answer.body
    );
    assert!(answer.body.as_array().unwrap().len() <= 2);
    let rfc_view = oauth_params(
        &Method::GET,
        &url,
        &repeated,
        &t.key,
        &t.secret,
        "HMAC-SHA256",
    );
    let answer = t.send(Method::GET, &url, &repeated, &rfc_view, None).await;
    assert_eq!(
        (answer.status, answer.code()),
        (401, "woocommerce_rest_authentication_error"),
        "signed over both values (RFC 5849) is refused"
    );
    t.cleanup(&[]).await;
}

// ---- reading ----------------------------------------------------------------------------------------

#[tokio::test]
async fn the_client_reads_orders_products_and_variations() {
    let t = Target::start("reads").await;
    let woo = t.client();
    let product = t.product("R1", 20, "12.50").await;
    let before = Utc::now() - Span::seconds(2);
    let order = t.order(&[(product, 2)], "processing").await;

    let read = woo.get_order(order).await.unwrap();
    assert_eq!((read.id, read.status.as_str()), (order, "processing"));
    assert_eq!(read.line_items.len(), 1);
    let line = &read.line_items[0];
    assert_eq!(
        (
            line.product_id,
            line.variation_id,
            line.quantity,
            line.sku.as_str()
        ),
        (product, 0, 2, t.sku("R1").as_str())
    );
    assert_eq!(line.price, 12.5);
    assert_eq!(line.total, "25.00");
    assert!(read.date_modified_gmt.is_some() && read.date_created_gmt.is_some());

    let recent = woo.list_orders_modified_after(Some(before)).await.unwrap();
    assert!(recent.iter().any(|o| o.id == order));

    let found = woo.find_products_by_sku(&[t.sku("R1")]).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (
            found[0].id,
            found[0].stock_quantity,
            found[0].regular_price.as_str()
        ),
        (product, Some(18), "12.50")
    );
    let single = woo.get_product(product).await.unwrap();
    assert_eq!(single.sku, t.sku("R1"));
    t.cleanup(&[order]).await;
}

#[tokio::test]
async fn orders_in_every_status_read_back_and_filter() {
    let t = Target::start("statuses").await;
    let woo = t.client();
    let product = t.product("S1", 100, "3.00").await;
    let statuses = [
        "pending",
        "processing",
        "on-hold",
        "completed",
        "cancelled",
        "refunded",
        "failed",
    ];
    let mut orders = BTreeMap::new();
    for status in statuses {
        orders.insert(t.order(&[(product, 1)], status).await, status);
    }
    for (id, status) in &orders {
        assert_eq!(woo.get_order(*id).await.unwrap().status, *status);
    }
    let on_hold: Vec<u64> = orders
        .iter()
        .filter(|(_, s)| **s == "on-hold")
        .map(|(id, _)| *id)
        .collect();
    let include = orders
        .keys()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let listed = t
        .get(&format!(
            "orders?status=on-hold&include={include}&per_page=100"
        ))
        .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    // `include` limits the list to those ids, `status` to those in the status.
    assert_eq!(ids(&listed.body), on_hold);
    let excluded = t
        .get(&format!(
            "orders?include={include}&exclude={}&per_page=100",
            on_hold[0]
        ))
        .await;
    let rest: BTreeSet<u64> = ids(&excluded.body).into_iter().collect();
    assert_eq!(rest.len(), orders.len() - 1);
    assert!(!rest.contains(&on_hold[0]));
    let bad = t.get("orders?status=shipped").await;
    assert_eq!((bad.status, bad.code()), (400, "rest_invalid_param"));
    assert_eq!(
        bad.body["data"]["details"]["status"]["code"],
        "rest_not_in_enum"
    );
    t.cleanup(&orders.keys().copied().collect::<Vec<_>>()).await;
}

#[tokio::test]
async fn stock_moves_on_payment_and_back_on_cancellation() {
    let t = Target::start("stockrules").await;
    let woo = t.client();
    let product = t.product("K1", 10, "5.00").await;
    let stock = || async { woo.get_product(product).await.unwrap().stock_quantity };

    let pending = t.order(&[(product, 2)], "pending").await;
    assert_eq!(stock().await, Some(10), "pending takes no stock");
    woo.update_order_status(pending, "processing")
        .await
        .unwrap();
    assert_eq!(stock().await, Some(8));
    woo.update_order_status(pending, "completed").await.unwrap();
    assert_eq!(stock().await, Some(8), "taken once");
    woo.update_order_status(pending, "cancelled").await.unwrap();
    assert_eq!(stock().await, Some(10), "given back");

    let on_hold = t.order(&[(product, 3)], "on-hold").await;
    assert_eq!(
        stock().await,
        Some(7),
        "on-hold (awaiting a bank transfer) takes stock"
    );

    // set_paid: processing at once, stock taken; more than the stock is accepted.
    let paid = t
        .call(
            Method::POST,
            "orders",
            Some(json!({"set_paid": true, "line_items": [{"product_id": product, "quantity": 9}]})),
        )
        .await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(paid.body["status"], "processing");
    assert!(paid.body["date_paid_gmt"].is_string());
    assert_eq!(stock().await, Some(-2));
    t.cleanup(&[pending, on_hold, paid.id()]).await;
}

#[tokio::test]
async fn variations_without_their_own_sku_and_lines_of_deleted_products() {
    let t = Target::start("variations").await;
    let woo = t.client();
    let parent_sku = t.sku("TEE");
    let parent = t
        .call(
            Method::POST,
            "products",
            Some(json!({
                "name": "Conformance tee", "type": "variable", "sku": parent_sku,
                "attributes": [{"name": "Size", "variation": true, "visible": true, "options": ["S", "M"]}],
            })),
        )
        .await;
    assert_eq!(parent.status, 201, "{}", parent.body);
    let parent = parent.id();
    let variation = |sku: Option<String>, size: &str| {
        let mut body = json!({
            "regular_price": "9.00", "manage_stock": true, "stock_quantity": 5,
            "attributes": [{"name": "Size", "option": size}],
        });
        if let Some(sku) = sku {
            body["sku"] = json!(sku);
        }
        body
    };
    let plain = t
        .call(
            Method::POST,
            &format!("products/{parent}/variations"),
            Some(variation(None, "S")),
        )
        .await;
    assert_eq!(plain.status, 201, "{}", plain.body);
    let own = t
        .call(
            Method::POST,
            &format!("products/{parent}/variations"),
            Some(variation(Some(t.sku("TEE-M")), "M")),
        )
        .await;
    let (plain, own) = (plain.id(), own.id());

    // The store shows the parent's SKU on a variation that has none of its own…
    let listed = woo.list_variations(parent).await.unwrap();
    let shown: BTreeMap<u64, String> = listed.iter().map(|v| (v.id, v.sku.clone())).collect();
    assert_eq!(shown.get(&plain), Some(&parent_sku));
    assert_eq!(shown.get(&own), Some(&t.sku("TEE-M")));
    assert!(listed.iter().all(|v| v.parent_id == parent));
    // …but `?sku=` finds only the parent under that SKU.
    let found = woo
        .find_products_by_sku(std::slice::from_ref(&parent_sku))
        .await
        .unwrap();
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), [parent]);

    // An order line for it carries the parent's SKU and the variation id.
    let order = t
        .call(
            Method::POST,
            "orders",
            Some(json!({"line_items": [
                {"product_id": parent, "variation_id": plain, "quantity": 1},
                {"product_id": parent, "variation_id": own, "quantity": 1},
            ]})),
        )
        .await;
    assert_eq!(order.status, 201, "{}", order.body);
    let order = order.id();
    let read = woo.get_order(order).await.unwrap();
    let lines: Vec<(u64, u64, &str)> = read
        .line_items
        .iter()
        .map(|l| (l.product_id, l.variation_id, l.sku.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            (parent, plain, parent_sku.as_str()),
            (parent, own, t.sku("TEE-M").as_str())
        ]
    );

    // Variations of a product that does not exist: an empty list, not an error.
    let none = t.get("products/999999999/variations").await;
    assert_eq!((none.status, none.body.clone()), (200, json!([])));

    // Deleting the product leaves its lines without product and SKU.
    let deleted = t
        .call(
            Method::DELETE,
            &format!("products/{parent}?force=true"),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let read = woo.get_order(order).await.unwrap();
    assert!(
        read.line_items
            .iter()
            .all(|l| l.product_id == 0 && l.variation_id == 0 && l.sku.is_empty()),
        "{:?}",
        read.line_items
    );
    t.cleanup(&[order]).await;
}

// ---- paging and watermarks --------------------------------------------------------------------------

/// Creates `n` orders in batches and then changes them all in back-to-back batches, so many share a
/// modification second (a batch of 100 runs for a second or two on the real store, far less on the
/// simulator). Returns their ids and a time before the changes.
async fn tied_orders(t: &Target, product: u64, n: usize) -> (Vec<u64>, DateTime<Utc>) {
    let mut orders = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let create: Vec<Value> = chunk
            .iter()
            .map(|_| json!({"line_items": [{"product_id": product, "quantity": 1}]}))
            .collect();
        let made = t
            .call(
                Method::POST,
                "orders/batch",
                Some(json!({ "create": create })),
            )
            .await;
        assert_eq!(made.status, 200, "{}", made.body);
        orders.extend(ids(&made.body["create"]));
    }
    assert_eq!(orders.len(), n);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = Utc::now() - Span::seconds(1);
    for chunk in orders.chunks(100) {
        let update: Vec<Value> = chunk
            .iter()
            .map(|id| json!({"id": id, "status": "on-hold"}))
            .collect();
        let changed = t
            .call(
                Method::POST,
                "orders/batch",
                Some(json!({ "update": update })),
            )
            .await;
        assert_eq!(changed.status, 200, "{}", changed.body);
    }
    (orders, before)
}

#[tokio::test]
async fn ties_on_the_modification_date_page_completely_only_by_id() {
    let t = Target::start("ties").await;
    let product = t.product("T1", 1000, "1.00").await;
    let (orders, before) = tied_orders(&t, product, 40).await;
    let mine: BTreeSet<u64> = orders.iter().copied().collect();
    let window = encode(&no_offset(before));

    let mut seconds: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_id = Vec::new();
    let mut totals = BTreeSet::new();
    for page in 1..=20 {
        let answer = t
            .get(&format!(
                "orders?modified_after={window}&dates_are_gmt=true&orderby=id&order=asc&per_page=7&page={page}"
            ))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        totals.insert(answer.header("x-wp-total").to_string());
        for order in answer.body.as_array().unwrap() {
            if mine.contains(&order["id"].as_u64().unwrap()) {
                *seconds
                    .entry(order["date_modified_gmt"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
        }
        let got = ids(&answer.body);
        if got.is_empty() {
            break;
        }
        by_id.extend(got);
    }
    assert!(
        seconds.values().any(|n| *n >= 2),
        "the batch produced ties: {seconds:?}"
    );
    let seen: BTreeSet<u64> = by_id.iter().copied().collect();
    assert!(mine.is_subset(&seen), "orderby=id pages miss none of ours");
    if totals.len() == 1 {
        let ours: Vec<u64> = by_id.into_iter().filter(|id| mine.contains(id)).collect();
        assert_eq!(
            ours.len(),
            mine.len(),
            "and repeat none while the window is stable"
        );
    }

    // Page by page under orderby=modified may repeat and skip tied orders; only report what happened.
    let mut by_modified = Vec::new();
    for page in 1..=20 {
        let answer = t
            .get(&format!(
                "orders?modified_after={window}&dates_are_gmt=true&orderby=modified&order=asc&per_page=7&page={page}"
            ))
            .await;
        let got = ids(&answer.body);
        if got.is_empty() {
            break;
        }
        by_modified.extend(got);
    }
    let distinct: BTreeSet<u64> = by_modified
        .iter()
        .copied()
        .filter(|id| mine.contains(id))
        .collect();
    eprintln!(
        "[{:?}] orderby=modified, 7 a page: {} of {} tied orders seen, {} rows read",
        t.kind,
        distinct.len(),
        mine.len(),
        by_modified.len()
    );
    t.cleanup(&orders).await;
}

#[tokio::test]
async fn modified_after_is_exclusive_in_whole_gmt_seconds() {
    let t = Target::start("window").await;
    let product = t.product("W1", 10, "1.00").await;
    let order = t.order(&[(product, 1)], "pending").await;
    let read = t.get(&format!("orders/{order}")).await;
    let modified = gmt(&read.body["date_modified_gmt"]);
    assert_eq!(
        read.body["date_modified_gmt"].as_str().unwrap().len(),
        19,
        "no offset, no fraction"
    );

    let listed = |after: DateTime<Utc>| {
        let t = &t;
        async move {
            let answer = t
                .get(&format!(
                    "orders?modified_after={}&dates_are_gmt=true&include={order}",
                    encode(&no_offset(after))
                ))
                .await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            ids(&answer.body).contains(&order)
        }
    };
    assert!(
        listed(modified - Span::seconds(1)).await,
        "a second before: included"
    );
    assert!(
        !listed(modified).await,
        "the same second: excluded (the bound is exclusive)"
    );

    // The client's poll uses the same rule: an overlap window is what catches the bound.
    let woo = t.client();
    let polled = woo
        .list_orders_modified_after(Some(modified - Span::seconds(30)))
        .await
        .unwrap();
    assert!(polled.iter().any(|o| o.id == order));
    let bad = t.get("orders?modified_after=yesterday").await;
    assert_eq!((bad.status, bad.code()), (400, "rest_invalid_param"));
    assert_eq!(
        bad.body["data"]["details"]["modified_after"]["code"],
        "rest_invalid_date"
    );
    t.cleanup(&[order]).await;
}

/// The product client's incremental poll under many ties: `orderby=modified` has no tie-breaker, so a poll
/// paging by it reads some orders of a busy second twice and others never; the client pages by id instead.
#[tokio::test]
async fn the_clients_poll_sees_every_order_of_a_busy_second() {
    let t = Target::start("busypoll").await;
    let product = t.product("B1", 10_000, "1.00").await;
    let (orders, before) = tied_orders(&t, product, 150).await;
    let polled = t
        .client()
        .list_orders_modified_after(Some(before))
        .await
        .unwrap();
    let seen: BTreeSet<u64> = polled.iter().map(|o| o.id).collect();
    let missing: Vec<u64> = orders
        .iter()
        .copied()
        .filter(|id| !seen.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} orders never read: {missing:?}",
        missing.len()
    );
    t.cleanup(&orders).await;
}

// ---- writing ----------------------------------------------------------------------------------------

#[tokio::test]
async fn status_and_note_pushes_land_and_list() {
    let t = Target::start("pushes").await;
    let woo = t.client();
    let product = t.product("N1", 10, "2.00").await;
    let order = t.order(&[(product, 1)], "processing").await;
    let before = t.get(&format!("orders/{order}")).await;

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let pushed = woo.update_order_status(order, "completed").await.unwrap();
    assert_eq!(pushed.status, "completed");
    assert!(pushed.date_modified_gmt.unwrap() > gmt(&before.body["date_modified_gmt"]));

    let shipped = format!("Shipped {} — DPD 1Z999", t.prefix);
    let customer = woo.add_order_note(order, &shipped, true).await.unwrap();
    assert!(customer.customer_note);
    assert_eq!(customer.author, "WooCommerce");
    let internal = woo
        .add_order_note(order, "internal marker", false)
        .await
        .unwrap();
    assert!(!internal.customer_note);
    let notes = woo.list_order_notes(order).await.unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.id == customer.id && n.note == shipped && n.customer_note)
    );
    assert!(
        notes
            .iter()
            .any(|n| n.id == internal.id && !n.customer_note)
    );
    let customer_only = t.get(&format!("orders/{order}/notes?type=customer")).await;
    assert!(ids(&customer_only.body).contains(&customer.id));
    assert!(!ids(&customer_only.body).contains(&internal.id));

    // An empty note is accepted; a missing order's notes are a 404.
    let empty = t
        .call(
            Method::POST,
            &format!("orders/{order}/notes"),
            Some(json!({"note": ""})),
        )
        .await;
    assert_eq!(empty.status, 201, "{}", empty.body);
    assert!(
        empty
            .header("location")
            .ends_with(&format!("/orders/{order}/notes/{}", empty.id()))
    );
    let missing = t.get("orders/999999999/notes").await;
    assert_eq!(
        (missing.status, missing.code()),
        (404, "woocommerce_rest_shop_order_invalid_id")
    );
    let error = woo
        .add_order_note(999_999_999, "x", false)
        .await
        .unwrap_err();
    assert_eq!(api_error(&error).0, 404);

    // The order's own customer note is a field of the order.
    let edited = t
        .call(
            Method::PUT,
            &format!("orders/{order}"),
            Some(json!({"customer_note": "leave at the door"})),
        )
        .await;
    assert_eq!(edited.body["customer_note"], "leave at the door");
    assert_eq!(
        woo.get_order(order).await.unwrap().customer_note,
        "leave at the door"
    );

    // A status the store does not know is refused with the list of the ones it does.
    let error = woo.update_order_status(order, "shipped").await.unwrap_err();
    assert_eq!(api_error(&error), (400, "rest_invalid_param".into()));
    let refused = t
        .call(
            Method::PUT,
            &format!("orders/{order}"),
            Some(json!({"status": "shipped"})),
        )
        .await;
    assert_eq!(
        refused.body["data"]["details"]["status"]["code"],
        "rest_not_in_enum"
    );
    assert!(
        refused.body["data"]["params"]["status"]
            .as_str()
            .unwrap()
            .starts_with("status is not one of auto-draft, pending, processing, on-hold, completed, cancelled, refunded, failed")
    );
    let gone = woo
        .update_order_status(999_999_999, "completed")
        .await
        .unwrap_err();
    assert_eq!(
        api_error(&gone),
        (400, "woocommerce_rest_shop_order_invalid_id".into())
    );
    t.cleanup(&[order]).await;
}

#[tokio::test]
async fn stock_and_prices_written_in_batches_read_back() {
    let t = Target::start("stockprices").await;
    let woo = t.client();
    let one = t.product("P1", 5, "10.00").await;
    let two = t.product("P2", 5, "10.00").await;
    let outcome = woo
        .batch_update_products(vec![
            ProductUpdate {
                id: one,
                sku: Some(t.sku("P1")),
                stock_quantity: Some(17),
                regular_price: Some("12.34".into()),
                sale_price: Some("9.99".into()),
                ..ProductUpdate::default()
            },
            ProductUpdate {
                id: two,
                sku: Some(t.sku("P2")),
                stock_quantity: Some(0),
                ..ProductUpdate::default()
            },
        ])
        .await;
    assert!(outcome.is_complete_success(), "{:?}", outcome.failed);
    assert_eq!(outcome.requests, 1);
    let read = woo.get_product(one).await.unwrap();
    assert_eq!(
        (
            read.stock_quantity,
            read.regular_price.as_str(),
            read.sale_price.as_str(),
            read.price.as_str()
        ),
        (Some(17), "12.34", "9.99", "9.99")
    );
    let read = woo.get_product(two).await.unwrap();
    assert_eq!(
        (read.stock_quantity, read.stock_status.as_str()),
        (Some(0), "outofstock")
    );

    // A batch takes values the direct endpoint refuses: "7.6" is stored as 7.
    let lenient = t
        .call(
            Method::POST,
            "products/batch",
            Some(json!({"update": [{"id": one, "stock_quantity": "7.6"}]})),
        )
        .await;
    assert_eq!(lenient.status, 200, "{}", lenient.body);
    assert_eq!(woo.get_product(one).await.unwrap().stock_quantity, Some(7));
    let strict = t
        .call(
            Method::PUT,
            &format!("products/{one}"),
            Some(json!({"stock_quantity": "7.6"})),
        )
        .await;
    assert_eq!((strict.status, strict.code()), (400, "rest_invalid_param"));
    assert_eq!(
        strict.body["data"]["details"]["stock_quantity"]["code"],
        "rest_invalid_type"
    );
    let number_price = t
        .call(
            Method::PUT,
            &format!("products/{one}"),
            Some(json!({"regular_price": 12.5})),
        )
        .await;
    assert_eq!(
        number_price.body["data"]["params"]["regular_price"],
        "regular_price is not of type string."
    );
    t.cleanup(&[]).await;
}

#[tokio::test]
async fn batches_report_every_item_and_refuse_101() {
    let t = Target::start("batches").await;
    let woo = t.client();
    let good = t.product("G1", 5, "1.00").await;
    let outcome = woo
        .batch_update_products(vec![
            ProductUpdate {
                id: good,
                sku: Some(t.sku("G1")),
                stock_quantity: Some(9),
                ..ProductUpdate::default()
            },
            ProductUpdate {
                id: 999_999_999,
                sku: Some(t.sku("GONE")),
                stock_quantity: Some(1),
                ..ProductUpdate::default()
            },
        ])
        .await;
    assert_eq!(outcome.applied.len(), 1);
    assert_eq!(outcome.failed.len(), 1);
    let failed = &outcome.failed[0];
    assert_eq!(
        (
            failed.id,
            failed.code.as_str(),
            failed.status,
            failed.retryable
        ),
        (
            999_999_999,
            "woocommerce_rest_product_invalid_id",
            Some(400),
            false
        )
    );

    // Raw: creates with a duplicate SKU, deletes of a missing id, a variation on the products endpoint.
    let variable = t
        .call(
            Method::POST,
            "products",
            Some(json!({"name": "V", "type": "variable", "sku": t.sku("GV")})),
        )
        .await
        .id();
    let variation = t
        .call(
            Method::POST,
            &format!("products/{variable}/variations"),
            Some(json!({"regular_price": "1.00", "sku": t.sku("GV-1")})),
        )
        .await
        .id();
    let mixed = t
        .call(
            Method::POST,
            "products/batch",
            Some(json!({
                "create": [{"name": "dup", "regular_price": "1.00", "sku": t.sku("G1").to_lowercase()}],
                "update": [{"id": variation, "stock_quantity": 3}],
                "delete": [999_999_998u64],
            })),
        )
        .await;
    assert_eq!(mixed.status, 200, "{}", mixed.body);
    let dup = &mixed.body["create"][0]["error"];
    assert_eq!(
        dup["code"], "product_invalid_sku",
        "SKUs are unique regardless of case: {dup}"
    );
    assert_eq!(dup["data"]["resource_id"], good);
    assert_eq!(
        dup["data"]["unique_sku"],
        format!("{}-1", t.sku("G1").to_lowercase())
    );
    assert_eq!(
        mixed.body["update"][0]["error"]["code"],
        "woocommerce_rest_invalid_product_id"
    );
    assert_eq!(mixed.body["update"][0]["error"]["data"]["status"], 404);
    assert_eq!(
        mixed.body["delete"][0],
        json!({"id": 999_999_998u64, "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": {"status": 404}}})
    );

    let too_many: Vec<Value> = (0..101)
        .map(|_| json!({"id": good, "stock_quantity": 1}))
        .collect();
    let refused = t
        .call(
            Method::POST,
            "products/batch",
            Some(json!({"update": too_many})),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (413, "woocommerce_rest_request_entity_too_large")
    );
    let empty = t
        .call(Method::POST, "products/batch", Some(json!({})))
        .await;
    assert_eq!((empty.status, empty.body.clone()), (200, json!([])));

    let orders = t
        .call(
            Method::POST,
            "orders/batch",
            Some(json!({"update": [{"id": 999_999_999u64, "status": "completed"}]})),
        )
        .await;
    assert_eq!(
        orders.body["update"][0]["error"]["code"],
        "woocommerce_rest_shop_order_invalid_id"
    );
    t.cleanup(&[]).await;
}

// ---- the API's shapes -------------------------------------------------------------------------------

#[tokio::test]
async fn errors_headers_and_paging_are_shaped_like_the_store() {
    let t = Target::start("shapes").await;
    let nothing = t.get("nonexistent").await;
    assert_eq!(
        (
            nothing.status,
            nothing.code(),
            nothing.body["message"].as_str()
        ),
        (
            404,
            "rest_no_route",
            Some("No route was found matching the URL and request method.")
        )
    );
    for per_page in ["101", "0"] {
        let refused = t.get(&format!("products?per_page={per_page}")).await;
        assert_eq!(
            (refused.status, refused.code()),
            (400, "rest_invalid_param")
        );
        assert_eq!(
            refused.body["data"]["params"]["per_page"],
            "per_page must be between 1 (inclusive) and 100 (inclusive)"
        );
        assert_eq!(
            refused.body["data"]["details"]["per_page"]["code"],
            "rest_out_of_bounds"
        );
    }
    let bad_order = t.get("orders?orderby=price").await;
    assert_eq!(
        bad_order.body["data"]["details"]["orderby"]["code"],
        "rest_not_in_enum"
    );
    let missing = t.get("orders/999999999").await;
    assert_eq!(
        (missing.status, missing.code()),
        (404, "woocommerce_rest_shop_order_invalid_id")
    );
    let missing = t.get("products/999999999").await;
    assert_eq!(
        (missing.status, missing.code()),
        (404, "woocommerce_rest_product_invalid_id")
    );

    // Creates answer 201 with Location.
    let a = t.product("L1", 1, "1.00").await;
    let b = t.product("L2", 1, "1.00").await;
    let c = t.product("L3", 1, "1.00").await;
    let created = t
        .call(
            Method::POST,
            "products",
            Some(json!({"name": "L4", "regular_price": "1.00", "sku": t.sku("L4")})),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(
        created.header("location"),
        t.api_url(&format!("products/{}", created.id()))
    );

    // `?sku=` is case-insensitive and keeps the space after a comma (so " X" matches nothing).
    let skus = format!(
        "{},{}, {}",
        t.sku("L1").to_lowercase(),
        t.sku("L2"),
        t.sku("L3")
    );
    let found = t.get(&format!("products?sku={}", encode(&skus))).await;
    let found: BTreeSet<u64> = ids(&found.body).into_iter().collect();
    assert_eq!(found, BTreeSet::from([a, b]));
    assert!(!found.contains(&c));

    // Paging: totals, a Link that repeats every parameter (the OAuth ones too), a page past the end.
    let all = format!(
        "{},{},{},{}",
        t.sku("L1"),
        t.sku("L2"),
        t.sku("L3"),
        t.sku("L4")
    );
    let first = t
        .get(&format!(
            "products?sku={}&per_page=2&orderby=id",
            encode(&all)
        ))
        .await;
    assert_eq!(
        (first.header("x-wp-total"), first.header("x-wp-totalpages")),
        ("4", "2")
    );
    let link = first.header("link");
    assert!(
        link.contains("rel=\"next\"") && !link.contains("rel=\"prev\""),
        "{link}"
    );
    assert!(
        link.contains("per_page=2") && link.contains("page=2"),
        "{link}"
    );
    assert!(
        link.contains("oauth_consumer_key=") && link.contains("oauth_signature="),
        "{link}"
    );
    let past = t
        .get(&format!("products?sku={}&per_page=2&page=9", encode(&all)))
        .await;
    assert_eq!((past.status, past.body.clone()), (200, json!([])));
    let link = past.header("link");
    assert!(
        link.contains("rel=\"prev\"") && link.contains("page=2") && !link.contains("rel=\"next\""),
        "{link}"
    );
    let empty = t.get(&format!("products?sku={}", t.sku("NOPE"))).await;
    assert_eq!(
        (empty.header("x-wp-total"), empty.header("x-wp-totalpages")),
        ("0", "0")
    );
    assert_eq!(
        empty.header("link"),
        format!("<{}/wp-json/>; rel=\"https://api.w.org/\"", t.base_url)
    );
    t.cleanup(&[]).await;
}

// ---- webhooks ---------------------------------------------------------------------------------------

/// A receiver on 127.0.0.1:8080 recording (path, headers, raw body) of every POST.
async fn receiver() -> (
    tokio::sync::mpsc::UnboundedReceiver<(reqwest::header::HeaderMap, Vec<u8>)>,
    tokio::task::JoinHandle<()>,
) {
    use axum::routing::post;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/conformance",
        post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let tx = tx.clone();
                async move {
                    let mut copy = reqwest::header::HeaderMap::new();
                    for (name, value) in &headers {
                        if let (Ok(n), Ok(v)) = (
                            reqwest::header::HeaderName::from_bytes(name.as_str().as_bytes()),
                            reqwest::header::HeaderValue::from_bytes(value.as_bytes()),
                        ) {
                            copy.insert(n, v);
                        }
                    }
                    let _ = tx.send((copy, body.to_vec()));
                    "ok"
                }
            },
        ),
    );
    let mut tries = 0;
    let listener = loop {
        match tokio::net::TcpListener::bind("127.0.0.1:8080").await {
            Ok(listener) => break listener,
            Err(e) if tries < 60 => {
                tries += 1;
                eprintln!("127.0.0.1:8080 busy ({e}); waiting");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("cannot listen on 127.0.0.1:8080: {e}"),
        }
    };
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (rx, server)
}

type Deliveries = tokio::sync::mpsc::UnboundedReceiver<(reqwest::header::HeaderMap, Vec<u8>)>;

async fn next(rx: &mut Deliveries) -> (reqwest::header::HeaderMap, Vec<u8>) {
    tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("a delivery in time")
        .expect("open")
}

#[tokio::test]
async fn webhooks_ping_then_deliver_signed_payloads_built_at_send_time() {
    let _port = target::receiver_port_lock().lock().await;
    let t = Target::start("webhooks").await;
    let (mut rx, server) = receiver().await;
    let secret = format!("whsec-{}", t.prefix);
    let hook = t
        .call(
            Method::POST,
            "webhooks",
            Some(json!({
                "name": t.prefix, "topic": "order.updated",
                "delivery_url": "http://127.0.0.1:8080/conformance", "secret": secret,
            })),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let hook_id = hook.id();
    assert_eq!(
        (
            &hook.body["status"],
            &hook.body["topic"],
            &hook.body["resource"],
            &hook.body["event"]
        ),
        (
            &json!("active"),
            &json!("order.updated"),
            &json!("order"),
            &json!("updated")
        )
    );
    assert!(
        hook.body.get("secret").is_none(),
        "the secret is never shown"
    );
    assert!(
        hook.header("location")
            .ends_with(&format!("/webhooks/{hook_id}"))
    );

    let (ping_headers, ping) = next(&mut rx).await;
    assert_eq!(
        String::from_utf8_lossy(&ping),
        format!("webhook_id={hook_id}")
    );
    assert_eq!(
        ping_headers["user-agent"],
        "WooCommerce/10.0.2 Hookshot (WordPress/6.8.8)"
    );
    assert!(
        ping_headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
    assert!(
        ping_headers
            .keys()
            .all(|k| !k.as_str().starts_with("x-wc-")),
        "no X-WC headers on the ping: {ping_headers:?}"
    );

    let product = t.product("H1", 10, "1.00").await;
    let order = t.order(&[(product, 1)], "pending").await;
    let woo = t.client();
    let noted = t
        .call(
            Method::PUT,
            &format!("orders/{order}"),
            Some(json!({"customer_note": "side door / ring twice, café"})),
        )
        .await;
    assert_eq!(noted.status, 200);
    woo.update_order_status(order, "processing").await.unwrap();
    woo.update_order_status(order, "completed").await.unwrap();
    t.deliver_webhooks().await;
    let (headers, body) = loop {
        let (headers, body) = next(&mut rx).await;
        let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if payload["id"] == order {
            break (headers, body);
        }
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    assert_eq!(
        header("x-wc-webhook-signature"),
        target::webhook_signature(&body, &secret)
    );
    assert_eq!(
        (
            header("x-wc-webhook-topic"),
            header("x-wc-webhook-resource"),
            header("x-wc-webhook-event")
        ),
        ("order.updated", "order", "updated")
    );
    assert_eq!(header("x-wc-webhook-id"), hook_id.to_string());
    assert_eq!(header("x-wc-webhook-source"), format!("{}/", t.base_url));
    assert!(!header("x-wc-webhook-delivery-id").is_empty());
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        payload["status"], "completed",
        "built at send time: the latest state"
    );
    // The body is PHP's JSON: slashes escaped, non-ASCII as \u escapes — the signature covers those bytes.
    let raw = String::from_utf8_lossy(&body);
    assert!(raw.contains(r"side door \/ ring twice, caf\u00e9"), "{raw}");
    assert_eq!(payload["customer_note"], "side door / ring twice, café");
    t.deliver_webhooks().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut more = 0;
    while let Ok((_, body)) = rx.try_recv() {
        let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        more += usize::from(payload["id"] == order);
    }
    assert_eq!(more, 0, "two changes while queued: one delivery");

    let listed = t.get("webhooks?per_page=100").await;
    assert!(ids(&listed.body).contains(&hook_id));
    let paused = t
        .call(
            Method::PUT,
            &format!("webhooks/{hook_id}"),
            Some(json!({"status": "paused"})),
        )
        .await;
    assert_eq!(paused.body["status"], "paused");
    let bad = t
        .call(
            Method::PUT,
            &format!("webhooks/{hook_id}"),
            Some(json!({"status": "sleeping"})),
        )
        .await;
    assert_eq!(
        bad.body["data"]["params"]["status"],
        "status is not one of active, paused, and disabled."
    );
    let trash = t
        .call(Method::DELETE, &format!("webhooks/{hook_id}"), None)
        .await;
    assert_eq!(
        (trash.status, trash.code()),
        (501, "woocommerce_rest_trash_not_supported")
    );
    let deleted = t
        .call(
            Method::DELETE,
            &format!("webhooks/{hook_id}?force=true"),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200);
    let gone = t.get(&format!("webhooks/{hook_id}")).await;
    assert_eq!(
        (gone.status, gone.code()),
        (404, "woocommerce_rest_shop_webhook_invalid_id")
    );
    let bad_topic = t
        .call(
            Method::POST,
            "webhooks",
            Some(json!({"topic": "order.exploded", "delivery_url": "http://127.0.0.1:8080/x"})),
        )
        .await;
    assert_eq!(
        bad_topic.code(),
        "woocommerce_rest_shop_webhook_invalid_topic"
    );
    server.abort();
    t.cleanup(&[order]).await;
}

#[tokio::test]
async fn every_product_write_fires_product_updated() {
    let _port = target::receiver_port_lock().lock().await;
    let t = Target::start("productwh").await;
    let (mut rx, server) = receiver().await;
    let product = t.product("U1", 10, "1.00").await;
    let hook = t
        .call(
            Method::POST,
            "webhooks",
            Some(json!({
                "name": t.prefix, "topic": "product.updated",
                "delivery_url": "http://127.0.0.1:8080/conformance", "secret": "s",
            })),
        )
        .await
        .id();
    // Our own stock write comes back as a product.updated with the new quantity.
    let outcome = t
        .client()
        .batch_update_products(vec![ProductUpdate {
            id: product,
            stock_quantity: Some(4),
            ..ProductUpdate::default()
        }])
        .await;
    assert!(outcome.is_complete_success());
    t.deliver_webhooks().await;
    let payload = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let (headers, body) = rx.recv().await.expect("open");
            let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if payload["id"] == product
                && headers
                    .get("x-wc-webhook-topic")
                    .is_some_and(|v| v == "product.updated")
            {
                return payload;
            }
        }
    })
    .await
    .expect("product.updated for our own write");
    assert_eq!(payload["stock_quantity"], 4);
    let _ = t
        .call(Method::DELETE, &format!("webhooks/{hook}?force=true"), None)
        .await;
    server.abort();
    t.cleanup(&[]).await;
}

#[tokio::test]
async fn the_target_is_the_one_asked_for() {
    // Guards the adapter itself: with the variables set, the suite must not silently test the simulator.
    let t = Target::start("target").await;
    let wanted = std::env::var("SYNCDESK_WOO_URL").is_ok_and(|v| !v.trim().is_empty());
    assert_eq!(t.kind == Kind::Real, wanted);
    let answer = t.get("orders?per_page=1").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    t.cleanup(&[]).await;
}
