//! The real Metakocka client against the simulator over loopback HTTP: body credentials and `opr_code`
//! refusals, sales orders and their stock reservations, the shipped-date rule, cancellation, search and
//! stock paging, update outages, stock webhooks (signature and retries) and secrecy.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use chrono::NaiveDate;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use syncdesk::integrations::metakocka::client::{
    DocRef, DocumentUpdate, MetakockaClient, MetakockaConfig, MetakockaError, NewLine,
    NewSalesOrder, Partner, STOCK_EVENT, WEBHOOK_REPLY_OK, parse_stock_webhook,
    verify_webhook_signature,
};
use syncdesk_sim::metakocka::{MetakockaSim, MetakockaSimConfig, MkWebhookTarget};

const COMPANY: &str = "4242";
const SECRET: &str = "mk_secret_do_not_log_1234";
const MAIN: &str = "1600000001";
const HOOK_SECRET: &str = "hook_client_secret_777";

fn sim_config() -> MetakockaSimConfig {
    MetakockaSimConfig {
        company_id: COMPANY.into(),
        secret_key: SECRET.into(),
        webhook_retry_delay: Duration::from_millis(50),
        ..MetakockaSimConfig::default()
    }
}

async fn start() -> MetakockaSim {
    MetakockaSim::start(sim_config())
        .await
        .expect("simulator starts")
}

fn config(sim: &MetakockaSim, secret: &str) -> MetakockaConfig {
    let mut cfg = MetakockaConfig::new(sim.base_url(), COMPANY, secret);
    cfg.backoff_base = Duration::from_millis(20);
    cfg.backoff_cap = Duration::from_millis(100);
    cfg.timeout = Duration::from_secs(10);
    cfg
}

fn client(sim: &MetakockaSim) -> MetakockaClient {
    MetakockaClient::new(config(sim, SECRET)).expect("client builds")
}

fn order(number: &str, code: &str, amount: f64) -> NewSalesOrder {
    NewSalesOrder {
        buyer_order: number.into(),
        partner: Partner {
            customer: "Janez Novak".into(),
            street: "Slovenska 1".into(),
            post_number: "1000".into(),
            place: "Ljubljana".into(),
            country: "Slovenia".into(),
            email: "janez@example.si".into(),
        },
        lines: vec![NewLine {
            code: code.into(),
            amount,
            price: 12.5,
        }],
        ..NewSalesOrder::default()
    }
}

/// (amount, reserved, free) as the client reads it.
async fn stock_of(mk: &MetakockaClient, code: &str) -> (f64, f64, f64) {
    let rows = mk
        .warehouse_stock(&[MAIN.to_string()], &[code.to_string()])
        .await
        .expect("stock");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    (
        row.amount,
        row.reserved_amount.expect("reservations"),
        row.free_amount.expect("reservations"),
    )
}

#[tokio::test]
async fn wrong_secret_is_an_opr_error_and_not_retryable() {
    let sim = start().await;
    let bad = MetakockaClient::new(config(&sim, "wrong-secret")).unwrap();
    let error = bad.search("sales_order", None).await.unwrap_err();
    let (code, desc) = error.opr().expect("opr error");
    assert_eq!(code, "1");
    assert_eq!(desc, "Wrong secret_key or company_id.");
    assert!(!error.is_retryable());
    assert!(
        error.to_string().contains("POST /rest/eshop/v1/search"),
        "{error}"
    );
    assert!(error.to_string().contains("opr_code 1"), "{error}");
    assert_eq!(sim.request_count("search"), 1);

    let mut other_company = config(&sim, SECRET);
    other_company.company_id = "99".into();
    let error = MetakockaClient::new(other_company)
        .unwrap()
        .warehouse_stock(&[], &[])
        .await
        .unwrap_err();
    assert!(matches!(error, MetakockaError::Api { .. }), "{error:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn put_document_reserves_stock_and_reads_back() {
    let sim = start().await;
    sim.set_stock(MAIN, "SKU-A", 10.0);
    let mk = client(&sim);
    let put = mk
        .put_document(&order("WOO-1001", "SKU-A", 3.0))
        .await
        .expect("put");
    assert!(!put.mk_id.is_empty());
    assert_eq!(stock_of(&mk, "SKU-A").await, (10.0, 3.0, 7.0));

    let doc = mk
        .get_document("sales_order", &DocRef::MkId(put.mk_id.clone()))
        .await
        .expect("get");
    assert_eq!(doc.buyer_order, "WOO-1001");
    assert_eq!(doc.status_code, "in_progress");
    assert_eq!(doc.partner.customer, "Janez Novak");
    assert_eq!(doc.product_list[0].code, "SKU-A");
    assert_eq!(doc.product_list[0].amount, 3.0);
    let by_number = mk
        .get_document("sales_order", &DocRef::BuyerOrder("WOO-1001".into()))
        .await
        .expect("get by buyer_order");
    assert_eq!(by_number.mk_id, put.mk_id);

    let error = mk
        .put_document(&order("WOO-1002", "NOPE", 1.0))
        .await
        .unwrap_err();
    assert_eq!(error.opr().unwrap().0, "3");
    assert!(error.opr().unwrap().1.contains("NOPE"));
    assert_eq!(sim.document_count(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn shipped_needs_shipped_date_and_consumes_the_reservation() {
    let sim = start().await;
    sim.set_stock(MAIN, "SKU-A", 10.0);
    let mk = client(&sim);
    let mk_id = mk
        .put_document(&order("WOO-1", "SKU-A", 3.0))
        .await
        .unwrap()
        .mk_id;
    let doc = DocRef::MkId(mk_id.clone());

    let error = mk
        .update_document(
            &doc,
            &DocumentUpdate {
                status_code: Some("shipped".into()),
                ..DocumentUpdate::default()
            },
        )
        .await
        .unwrap_err();
    let (code, desc) = error.opr().expect("opr error");
    assert_eq!(code, "2");
    assert!(desc.contains("shipped_date"), "{desc}");
    assert!(!error.is_retryable());
    assert_eq!(sim.document(&mk_id).unwrap().status_code, "in_progress");
    assert_eq!(stock_of(&mk, "SKU-A").await, (10.0, 3.0, 7.0));

    let shipped = DocumentUpdate {
        status_code: Some("shipped".into()),
        shipped_date: Some(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()),
        tracking_code: Some("JJ123456789SI".into()),
        delivery_type: Some("GLS".into()),
        notes: Some("2 parcels".into()),
    };
    mk.update_document(&doc, &shipped).await.expect("shipped");
    let stored = sim.document(&mk_id).unwrap();
    assert_eq!(stored.status_code, "shipped");
    assert!(stored.shipped_date.starts_with("2026-11-21"));
    assert_eq!(stored.tracking_code, "JJ123456789SI");
    assert_eq!(stored.delivery_type, "GLS");
    assert_eq!(stored.notes, "2 parcels");
    assert_eq!(stock_of(&mk, "SKU-A").await, (7.0, 0.0, 7.0));

    // Repeating the update is safe: nothing moves twice.
    mk.update_document(&DocRef::BuyerOrder("WOO-1".into()), &shipped)
        .await
        .expect("repeat");
    assert_eq!(stock_of(&mk, "SKU-A").await, (7.0, 0.0, 7.0));
    sim.shutdown().await;
}

#[tokio::test]
async fn cancelling_releases_the_reservation() {
    let sim = start().await;
    sim.set_stock(MAIN, "SKU-B", 20.0);
    let mk = client(&sim);
    let a = mk
        .put_document(&order("A", "SKU-B", 2.0))
        .await
        .unwrap()
        .mk_id;
    let b = mk
        .put_document(&order("B", "SKU-B", 5.0))
        .await
        .unwrap()
        .mk_id;
    let c = mk
        .put_document(&order("C", "SKU-B", 1.0))
        .await
        .unwrap()
        .mk_id;
    assert_eq!(stock_of(&mk, "SKU-B").await, (20.0, 8.0, 12.0));

    mk.change_document_status("sales_order", "cancelled", std::slice::from_ref(&a))
        .await
        .expect("cancel one");
    assert_eq!(stock_of(&mk, "SKU-B").await, (20.0, 6.0, 14.0));
    mk.change_document_status("sales_order", "cancelled", &[b.clone(), c.clone()])
        .await
        .expect("cancel a list");
    assert_eq!(stock_of(&mk, "SKU-B").await, (20.0, 0.0, 20.0));
    assert_eq!(sim.document(&b).unwrap().status_code, "cancelled");

    // Unknown labels and ids are refused without changing anything.
    let error = mk
        .change_document_status("sales_order", "teleported", std::slice::from_ref(&a))
        .await
        .unwrap_err();
    assert!(error.opr().unwrap().1.contains("teleported"));
    let error = mk
        .change_document_status("sales_order", "in_progress", &[a.clone(), "404".into()])
        .await
        .unwrap_err();
    assert_eq!(error.opr().unwrap().0, "3");
    assert_eq!(sim.document(&a).unwrap().status_code, "cancelled");
    assert_eq!(stock_of(&mk, "SKU-B").await, (20.0, 0.0, 20.0));
    sim.shutdown().await;
}

#[tokio::test]
async fn search_pages_through_120_documents_in_3_requests() {
    let sim = start().await;
    for i in 0..120 {
        let customer = if i % 10 == 0 {
            "Ana Kovač"
        } else {
            "Marko Horvat"
        };
        sim.add_sales_order(&format!("SHOP-{i:04}"), customer, &[])
            .unwrap();
    }
    let mk = client(&sim);
    let docs = mk.search("sales_order", None).await.expect("search");
    assert_eq!(docs.len(), 120);
    let mut numbers: Vec<_> = docs.iter().map(|d| d.buyer_order.clone()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 120);
    assert_eq!(sim.request_count("search"), 3);

    let ana = mk.search("sales_order", Some("kovač")).await.unwrap();
    assert_eq!(ana.len(), 12);
    assert!(
        mk.search("sales_bill_domestic", None)
            .await
            .unwrap()
            .is_empty()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn warehouse_stock_pages_by_1000() {
    let sim = start().await;
    for i in 0..1250 {
        sim.set_stock(MAIN, &format!("P-{i:05}"), i as f64);
    }
    for i in 0..1000 {
        sim.set_stock("1600000002", &format!("P-{i:05}"), 1.0);
    }
    let mk = client(&sim);
    let main = mk
        .warehouse_stock(&[MAIN.to_string()], &[])
        .await
        .expect("stock");
    assert_eq!(main.len(), 1250);
    assert!(main.iter().all(|r| r.warehouse_id == MAIN));
    assert_eq!(sim.request_count("warehouse_stock"), 2);
    let row = main.iter().find(|r| r.code == "P-00042").unwrap();
    assert_eq!((row.amount, row.free_amount), (42.0, Some(42.0)));

    sim.reset_request_counts();
    let all = mk.warehouse_stock(&[], &[]).await.unwrap();
    assert_eq!(all.len(), 2250);
    assert_eq!(sim.request_count("warehouse_stock"), 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn down_for_update_is_retryable_then_recovers() {
    let sim = start().await;
    sim.set_stock(MAIN, "SKU-A", 5.0);
    sim.down_for_update(Duration::from_secs(60));
    let mut cfg = config(&sim, SECRET);
    cfg.max_attempts = 2;
    let mk = MetakockaClient::new(cfg).unwrap();
    let error = mk.warehouse_stock(&[], &[]).await.unwrap_err();
    assert!(
        matches!(error, MetakockaError::Http { status: 503, .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(error.to_string().contains("being updated"), "{error}");
    assert_eq!(sim.request_count("warehouse_stock"), 2);
    sim.faults().end_outage();
    assert_eq!(mk.warehouse_stock(&[], &[]).await.unwrap().len(), 1);

    // A short update window is ridden out inside the retry budget.
    sim.down_for_update(Duration::from_millis(150));
    let mut cfg = config(&sim, SECRET);
    cfg.max_attempts = 20;
    let patient = MetakockaClient::new(cfg).unwrap();
    assert_eq!(patient.warehouse_stock(&[], &[]).await.unwrap().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn put_document_is_not_resent_after_an_ambiguous_failure_but_updates_are() {
    let sim = start().await;
    sim.set_stock(MAIN, "SKU-A", 5.0);
    let mk = client(&sim);
    sim.faults().reset_next(1);
    let error = mk
        .put_document(&order("X-1", "SKU-A", 1.0))
        .await
        .unwrap_err();
    assert!(
        matches!(error, MetakockaError::Transport { .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(sim.request_count("put_document"), 1);

    let mk_id = mk
        .put_document(&order("X-1", "SKU-A", 1.0))
        .await
        .unwrap()
        .mk_id;
    sim.faults().reset_next(1);
    mk.update_document(
        &DocRef::MkId(mk_id),
        &DocumentUpdate {
            tracking_code: Some("T1".into()),
            ..DocumentUpdate::default()
        },
    )
    .await
    .expect("update resent after the reset");
    assert_eq!(sim.request_count("update_document"), 2);
    sim.shutdown().await;
}

/// A webhook receiver on loopback that records what it gets and answers `reply`.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
}

async fn receiver(reply: &'static str) -> Receiver {
    type Got = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;
    async fn hook(
        State((got, reply)): State<(Got, &'static str)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> String {
        got.lock().unwrap().push((headers, body));
        reply.to_string()
    }
    let got: Got = Arc::default();
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state((got.clone(), reply));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver {
        url: format!("http://{addr}/hook"),
        got,
    }
}

async fn wait_for(mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting");
}

#[tokio::test]
async fn stock_webhook_is_signed_and_verifiable() {
    let sim = start().await;
    let hook = receiver(WEBHOOK_REPLY_OK).await;
    sim.set_webhook(Some(MkWebhookTarget {
        url: hook.url.clone(),
        client_secret: HOOK_SECRET.into(),
    }));
    sim.set_stock(MAIN, "SKU-W", 9.0);
    wait_for(|| !hook.got.lock().unwrap().is_empty()).await;
    let (headers, body) = hook.got.lock().unwrap()[0].clone();
    assert_eq!(headers["x-metakocka-event"], STOCK_EVENT);
    assert!(!headers["x-metakocka-id"].is_empty());
    let signature = headers["x-metakocka-signature"].to_str().unwrap();
    assert!(verify_webhook_signature(&body, signature, HOOK_SECRET));
    assert!(!verify_webhook_signature(&body, signature, "wrong-secret"));
    let mut tampered = body.to_vec();
    tampered[5] ^= 1;
    assert!(!verify_webhook_signature(&tampered, signature, HOOK_SECRET));
    assert!(!verify_webhook_signature(&body, "deadbeef", HOOK_SECRET));
    let payload = parse_stock_webhook(&body).expect("payload");
    assert_eq!(payload.stock_list[0].code, "SKU-W");
    assert_eq!(payload.stock_list[0].amount, 9.0);

    // Accepted at once: a single attempt.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let deliveries = sim.webhook_deliveries();
    assert_eq!(deliveries.len(), 1);
    assert!(deliveries[0].accepted);

    // An order's reservation is announced too.
    let mk = client(&sim);
    mk.put_document(&order("H-1", "SKU-W", 4.0)).await.unwrap();
    wait_for(|| hook.got.lock().unwrap().len() == 2).await;
    let body = hook.got.lock().unwrap()[1].1.clone();
    let row = &parse_stock_webhook(&body).unwrap().stock_list[0];
    assert_eq!(
        (row.reserved_amount, row.free_amount),
        (Some(4.0), Some(5.0))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn stock_webhook_retries_twice_unless_the_exact_json_comes_back() {
    for wrong in [
        r#"{"ok":true}"#,
        r#"{"check_respond_status_json_ok":true}"#,
        "true",
        "",
    ] {
        let sim = start().await;
        let hook = receiver(wrong).await;
        sim.set_webhook(Some(MkWebhookTarget {
            url: hook.url.clone(),
            client_secret: HOOK_SECRET.into(),
        }));
        sim.set_stock(MAIN, "SKU-R", 1.0);
        wait_for(|| sim.webhook_deliveries().len() == 3).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let deliveries = sim.webhook_deliveries();
        assert_eq!(deliveries.len(), 3, "reply {wrong:?}");
        assert!(
            deliveries
                .iter()
                .all(|d| !d.accepted && d.status == Some(200))
        );
        assert_eq!(
            deliveries.iter().map(|d| d.attempt).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        // Same event each time.
        assert!(
            deliveries
                .iter()
                .all(|d| d.event_id == deliveries[0].event_id)
        );
        assert_eq!(hook.got.lock().unwrap().len(), 3);
        sim.shutdown().await;
    }

    // A receiver that is down is retried the same way.
    let sim = start().await;
    sim.set_webhook(Some(MkWebhookTarget {
        url: "http://127.0.0.1:9/hook".into(),
        client_secret: HOOK_SECRET.into(),
    }));
    sim.set_stock(MAIN, "SKU-R", 1.0);
    wait_for(|| sim.webhook_deliveries().len() == 3).await;
    assert!(sim.webhook_deliveries().iter().all(|d| d.status.is_none()));
    sim.shutdown().await;
}

#[tokio::test]
async fn secrets_never_reach_debug_or_display() {
    let sim = start().await;
    let cfg = config(&sim, SECRET);
    assert!(!format!("{cfg:?}").contains(SECRET));
    let mk = MetakockaClient::new(cfg).unwrap();
    assert!(!format!("{mk:?}").contains(SECRET));
    let sim_cfg = sim_config();
    assert!(!format!("{sim_cfg:?}").contains(SECRET));
    let target = MkWebhookTarget {
        url: "http://x/".into(),
        client_secret: HOOK_SECRET.into(),
    };
    assert!(!format!("{target:?}").contains(HOOK_SECRET));

    let refused = MetakockaClient::new(config(&sim, "other"))
        .unwrap()
        .search("sales_order", None)
        .await
        .unwrap_err();
    sim.down_for_update(Duration::from_secs(60));
    let mut one = config(&sim, SECRET);
    one.max_attempts = 1;
    let down = MetakockaClient::new(one)
        .unwrap()
        .warehouse_stock(&[], &[])
        .await
        .unwrap_err();
    for error in [refused, down] {
        let shown = format!("{error} {error:?}");
        assert!(
            !shown.contains(SECRET) && !shown.contains("other\""),
            "{shown}"
        );
    }
    sim.shutdown().await;
}

/// A fake Metakocka answering every operation with `body`.
async fn fake_metakocka(body: &'static str) -> MetakockaClient {
    let app = Router::new().route(
        "/rest/eshop/v1/{op}",
        post(move || async move { ([("content-type", "application/json")], body) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    MetakockaClient::new(MetakockaConfig::new(
        format!("http://{addr}"),
        COMPANY,
        SECRET,
    ))
    .unwrap()
}

#[tokio::test]
async fn malformed_answers_name_the_field() {
    let mk = fake_metakocka(
        r#"{"opr_code": "0", "stock_list": [{"warehouse_id": "1", "amount": "12"}, {"warehouse_id": "1", "amount": "lots"}]}"#,
    )
    .await;
    match mk.warehouse_stock(&[], &[]).await.unwrap_err() {
        MetakockaError::Malformed {
            field, endpoint, ..
        } => {
            assert_eq!(field, "stock_list[1].amount");
            assert!(endpoint.ends_with("/warehouse_stock"));
        }
        other => panic!("expected Malformed, got {other:?}"),
    }

    let mk = fake_metakocka(r#"{"result": []}"#).await;
    match mk.search("sales_order", None).await.unwrap_err() {
        MetakockaError::Malformed { field, .. } => assert_eq!(field, "opr_code"),
        other => panic!("expected Malformed, got {other:?}"),
    }

    // A numeric opr_code is read like the string one.
    let mk = fake_metakocka(r#"{"opr_code": 7, "opr_desc": "Document is locked."}"#).await;
    let error = mk.search("sales_order", None).await.unwrap_err();
    assert_eq!(error.opr(), Some(("7", "Document is locked.")));
}

#[tokio::test]
async fn a_maintenance_page_with_status_200_is_retryable() {
    let mk = fake_metakocka("<html><body>MetaKocka is being updated</body></html>").await;
    let error = mk.search("sales_order", None).await.unwrap_err();
    assert!(
        matches!(error, MetakockaError::NotJson { status: 200, .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn companies_without_reservations_report_only_the_amount() {
    let sim = MetakockaSim::start(MetakockaSimConfig {
        reservations: false,
        ..sim_config()
    })
    .await
    .unwrap();
    sim.set_stock(MAIN, "SKU-N", 4.0);
    let rows = client(&sim).warehouse_stock(&[], &[]).await.unwrap();
    assert_eq!(rows[0].amount, 4.0);
    assert_eq!((rows[0].reserved_amount, rows[0].free_amount), (None, None));
    sim.shutdown().await;
}
