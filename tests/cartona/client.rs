//! The real Cartona client against the simulator over loopback HTTP: auth, paging and window, silent bulk
//! failures and their verification, single updates, OTP, the `synced` acknowledgement, details, stock,
//! throttling, outages and secrecy.

use chrono::{Duration as ChronoDuration, Utc};
use std::time::{Duration, Instant};
use syncdesk::integrations::cartona::client::{
    CancellationReason, CartonaClient, CartonaConfig, CartonaError, DeliveredBy, ItemOutcome,
    LineChange, OrderStatus, StatusUpdate, StockUpdate,
};
use syncdesk_sim::cartona::{CartonaSim, CartonaSimConfig, NewOrder};

const TOKEN: &str = "tok_cartona_test_secret_42";

async fn start() -> CartonaSim {
    CartonaSim::start(CartonaSimConfig {
        token: TOKEN.into(),
        ..CartonaSimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// Fast retries so tests do not wait on production backoff.
fn config(sim: &CartonaSim, token: &str) -> CartonaConfig {
    let mut cfg = CartonaConfig::new(sim.base_url(), token);
    cfg.backoff_base = Duration::from_millis(20);
    cfg.backoff_cap = Duration::from_millis(100);
    cfg.timeout = Duration::from_secs(10);
    cfg.per_page = 20;
    cfg
}

fn client(sim: &CartonaSim) -> CartonaClient {
    CartonaClient::new(config(sim, TOKEN)).expect("client builds")
}

fn order(sim: &CartonaSim, status: &str) -> String {
    sim.create_order(NewOrder {
        status: status.into(),
        created_at: Utc::now() - ChronoDuration::minutes(5),
        ..NewOrder::default()
    })
}

fn since() -> chrono::DateTime<Utc> {
    Utc::now() - ChronoDuration::hours(1)
}

#[tokio::test]
async fn auth_success_and_failure() {
    let sim = start().await;
    let id = order(&sim, "pending");
    let orders = client(&sim).pull_orders(None, None).await.expect("pull");
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].hashed_id, id);
    assert_eq!(orders[0].status, OrderStatus::Pending);
    assert_eq!(orders[0].delivered_by, Some(DeliveredBy::Supplier));
    assert_eq!(orders[0].lines[0].internal_product_id, "SKU-1");

    let bad = CartonaClient::new(config(&sim, "wrong")).unwrap();
    let error = bad.pull_orders(None, None).await.unwrap_err();
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.message(), Some("Unauthenticated."));
    assert!(!error.is_retryable());
    assert!(
        error.to_string().contains("GET /api/v1/pull-orders"),
        "{error}"
    );
    // Not retried: one request for the failed call.
    assert_eq!(sim.request_count("GET /pull-orders"), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn auth_header_name_is_configurable() {
    let sim = CartonaSim::start(CartonaSimConfig {
        token: TOKEN.into(),
        auth_header: "X-Api-Token".into(),
        auth_prefix: String::new(),
        ..CartonaSimConfig::default()
    })
    .await
    .unwrap();
    let mut cfg = config(&sim, TOKEN);
    cfg.auth_header = "X-Api-Token".into();
    cfg.auth_prefix = String::new();
    assert!(
        CartonaClient::new(cfg)
            .unwrap()
            .pull_orders(None, None)
            .await
            .is_ok()
    );
    // The default Bearer header is refused by this account.
    assert_eq!(
        client(&sim)
            .pull_orders(None, None)
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn pull_orders_pages_through_everything() {
    let sim = start().await;
    let now = Utc::now();
    for i in 0..75 {
        sim.create_order(NewOrder {
            created_at: now - ChronoDuration::minutes(100 - i),
            ..NewOrder::default()
        });
    }
    let orders = client(&sim).pull_orders(None, None).await.expect("pull");
    assert_eq!(orders.len(), 75);
    let mut ids: Vec<_> = orders.iter().map(|o| o.hashed_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 75);
    // 20 + 20 + 20 + 15: four pages, the short one ends it.
    assert_eq!(sim.request_count("GET /pull-orders"), 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn pull_orders_honours_the_window_and_the_24h_default() {
    let sim = start().await;
    let now = Utc::now();
    let old = sim.create_order(NewOrder {
        created_at: now - ChronoDuration::hours(30),
        ..NewOrder::default()
    });
    let recent = sim.create_order(NewOrder {
        created_at: now - ChronoDuration::hours(2),
        ..NewOrder::default()
    });
    let c = client(&sim);
    let ids = |orders: Vec<syncdesk::integrations::cartona::client::CartonaOrder>| -> Vec<String> {
        orders.into_iter().map(|o| o.hashed_id).collect()
    };
    assert_eq!(
        ids(c.pull_orders(None, None).await.unwrap()),
        vec![recent.clone()]
    );
    let from = now - ChronoDuration::hours(48);
    assert_eq!(
        ids(c.pull_orders(Some(from), None).await.unwrap()),
        vec![old.clone(), recent.clone()]
    );
    let to = now - ChronoDuration::hours(24);
    assert_eq!(
        ids(c.pull_orders(Some(from), Some(to)).await.unwrap()),
        vec![old]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn verified_bulk_reports_the_silently_failed_item() {
    let sim = start().await;
    let ok = order(&sim, "pending");
    let editing = order(&sim, "editing");
    let bad_transition = order(&sim, "pending");
    let c = client(&sim);
    let results = c
        .bulk_update_status_verified(
            &[
                StatusUpdate::new(&ok, OrderStatus::Approved),
                StatusUpdate::new(&editing, OrderStatus::Approved),
                StatusUpdate::new(&bad_transition, OrderStatus::Returned),
            ],
            since(),
        )
        .await
        .expect("bulk accepted");
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].hashed_id, ok);
    assert_eq!(results[0].outcome, ItemOutcome::Applied);
    assert_eq!(
        results[1].outcome,
        ItemOutcome::NotApplied {
            observed: OrderStatus::Editing
        }
    );
    assert_eq!(
        results[2].outcome,
        ItemOutcome::NotApplied {
            observed: OrderStatus::Pending
        }
    );
    assert_eq!(sim.order_status(&ok).as_deref(), Some("approved"));
    assert_eq!(sim.order_status(&editing).as_deref(), Some("editing"));
    // The bulk endpoint itself said success: only the re-read shows the failures.
    assert_eq!(sim.silent_failures().len(), 2);
    assert_eq!(sim.request_count("POST /order/update-order-status"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn single_update_returns_the_error_for_the_same_case() {
    let sim = start().await;
    let editing = order(&sim, "editing");
    let pending = order(&sim, "pending");
    let c = client(&sim);
    let error = c
        .update_status(&StatusUpdate::new(&editing, OrderStatus::Approved))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(422));
    assert!(error.message().unwrap().contains("being edited"), "{error}");
    assert!(!error.is_retryable());
    assert!(
        error
            .to_string()
            .contains(&format!("/order/update-order-status/{editing}")),
        "{error}"
    );
    let error = c
        .update_status(&StatusUpdate::new(&pending, OrderStatus::Returned))
        .await
        .unwrap_err();
    assert!(
        error
            .message()
            .unwrap()
            .contains("from pending to returned")
    );
    c.update_status(
        &StatusUpdate::new(&pending, OrderStatus::CancelledBySupplier)
            .with_reason(CancellationReason::OutOfStock),
    )
    .await
    .expect("cancel with a reason");
    assert_eq!(
        sim.order_status(&pending).as_deref(),
        Some("cancelled_by_supplier")
    );
    let missing = c
        .update_status(&StatusUpdate::new("nope", OrderStatus::Approved))
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Some(404));
    sim.shutdown().await;
}

#[tokio::test]
async fn delivered_needs_the_retailer_otp_when_the_order_requires_one() {
    let sim = start().await;
    let id = sim.create_order(NewOrder {
        status: "approved".into(),
        requires_otp: true,
        created_at: Utc::now() - ChronoDuration::minutes(5),
        ..NewOrder::default()
    });
    let c = client(&sim);
    let results = c
        .bulk_update_status_verified(&[StatusUpdate::new(&id, OrderStatus::Delivered)], since())
        .await
        .unwrap();
    assert_eq!(
        results[0].outcome,
        ItemOutcome::NotApplied {
            observed: OrderStatus::Approved
        }
    );
    let error = c
        .update_status(&StatusUpdate::new(&id, OrderStatus::Delivered))
        .await
        .unwrap_err();
    assert!(
        error
            .message()
            .unwrap()
            .contains("retailer_otp is required")
    );
    let error = c
        .update_status(&StatusUpdate::new(&id, OrderStatus::Delivered).with_otp("not-it"))
        .await
        .unwrap_err();
    assert!(error.message().unwrap().contains("Invalid retailer_otp"));
    let otp = sim.otp(&id).unwrap();
    let results = c
        .bulk_update_status_verified(
            &[StatusUpdate::new(&id, OrderStatus::Delivered).with_otp(otp)],
            since(),
        )
        .await
        .unwrap();
    assert!(results[0].is_applied());
    assert_eq!(sim.order_status(&id).as_deref(), Some("delivered"));

    // Orders without the flag need no OTP.
    let plain = order(&sim, "approved");
    c.update_status(&StatusUpdate::new(&plain, OrderStatus::Delivered))
        .await
        .expect("no OTP needed");
    sim.shutdown().await;
}

#[tokio::test]
async fn marketplace_delivered_orders_refuse_delivery_statuses() {
    let sim = start().await;
    let id = sim.create_order(NewOrder {
        status: "approved".into(),
        delivered_by: "cartona".into(),
        ..NewOrder::default()
    });
    let c = client(&sim);
    let pulled = c.pull_orders(None, None).await.unwrap();
    assert_eq!(pulled[0].delivered_by, Some(DeliveredBy::Marketplace));
    let error = c
        .update_status(&StatusUpdate::new(&id, OrderStatus::AssignedToSalesman))
        .await
        .unwrap_err();
    assert!(error.message().unwrap().contains("delivered by Cartona"));
    c.update_status(&StatusUpdate::new(&id, OrderStatus::CancelledBySupplier))
        .await
        .expect("cancelling is allowed");
    sim.shutdown().await;
}

#[tokio::test]
async fn synced_removes_the_order_from_pull_orders() {
    let sim = start().await;
    let a = order(&sim, "pending");
    let b = order(&sim, "pending");
    let c = client(&sim);
    c.acknowledge_synced(std::slice::from_ref(&a))
        .await
        .unwrap();
    let listed: Vec<_> = c
        .pull_orders(None, None)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.hashed_id)
        .collect();
    assert_eq!(listed, vec![b.clone()]);
    // The status itself is untouched; only the listing changes.
    assert_eq!(sim.order_status(&a).as_deref(), Some("pending"));
    assert!(sim.order(&a).unwrap().synced);

    let results = c
        .bulk_update_status_verified(&[StatusUpdate::new(&b, OrderStatus::Synced)], since())
        .await
        .unwrap();
    assert!(results[0].is_applied());
    assert!(c.pull_orders(None, None).await.unwrap().is_empty());

    // A retailer change brings the order back.
    sim.set_status(&a, "cancelled_by_retailer").unwrap();
    let back = c.pull_orders(None, None).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].status, OrderStatus::CancelledByRetailer);
    sim.shutdown().await;
}

#[tokio::test]
async fn order_details_change_add_and_cancel_lines() {
    let sim = start().await;
    sim.add_product("SKU-9", 1, 10);
    let id = sim.create_order(NewOrder {
        lines: vec![("SKU-1".into(), 2, 10.0), ("SKU-2".into(), 3, 5.0)],
        ..NewOrder::default()
    });
    let lines = sim.order(&id).unwrap().lines;
    let c = client(&sim);
    c.update_order_details(
        &id,
        &[
            LineChange::SetQuantity {
                line_id: lines[0].id.to_string(),
                quantity: 1,
            },
            LineChange::Cancel {
                line_id: lines[1].id.to_string(),
            },
            LineChange::Add {
                internal_product_id: "SKU-9".into(),
                quantity: 4,
            },
        ],
    )
    .await
    .expect("details updated");
    let after = sim.order(&id).unwrap().lines;
    assert_eq!(after.len(), 3);
    assert_eq!(after[0].quantity, 1);
    assert!(after[1].cancelled);
    assert_eq!(
        (after[2].internal_product_id.as_str(), after[2].quantity),
        ("SKU-9", 4)
    );
    let pulled = c.pull_orders(None, None).await.unwrap();
    assert_eq!(pulled[0].lines.len(), 3);
    assert!(pulled[0].lines[1].cancelled);

    sim.set_status(&id, "editing").unwrap();
    let error = c
        .update_order_details(
            &id,
            &[LineChange::Cancel {
                line_id: lines[0].id.to_string(),
            }],
        )
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(422));
    sim.shutdown().await;
}

#[tokio::test]
async fn stock_is_divided_by_unit_count() {
    let sim = start().await;
    sim.add_product("CASE-24", 24, 0);
    sim.add_product("EACH", 1, 0);
    let outcome = client(&sim)
        .bulk_update_stock(&[
            StockUpdate {
                internal_product_id: "CASE-24".into(),
                quantity: 100,
            },
            StockUpdate {
                internal_product_id: "EACH".into(),
                quantity: 7,
            },
            StockUpdate {
                internal_product_id: "GHOST".into(),
                quantity: 3,
            },
        ])
        .await
        .expect("stock accepted");
    assert_eq!(outcome.updated, 2);
    assert_eq!(outcome.not_found, vec!["GHOST".to_string()]);
    assert_eq!(sim.product_stock("CASE-24"), Some(4));
    assert_eq!(sim.product_stock("EACH"), Some(7));
    sim.shutdown().await;
}

#[tokio::test]
async fn throttling_is_waited_out_with_retry_after() {
    let sim = start().await;
    order(&sim, "pending");
    sim.faults().throttle_next(1, 1);
    let started = Instant::now();
    let orders = client(&sim).pull_orders(None, None).await.expect("pull");
    assert_eq!(orders.len(), 1);
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(sim.request_count("GET /pull-orders"), 2);

    // A Retry-After above the client's limit is handed back instead of slept through.
    sim.faults().throttle_next(1, 3600);
    let error = client(&sim).pull_orders(None, None).await.unwrap_err();
    assert_eq!(error.status(), Some(429));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    assert!(error.is_retryable());
    sim.shutdown().await;
}

#[tokio::test]
async fn outage_is_retryable_and_recovers() {
    let sim = start().await;
    order(&sim, "pending");
    sim.faults().outage_for(Duration::from_secs(60));
    let mut cfg = config(&sim, TOKEN);
    cfg.max_attempts = 2;
    let c = CartonaClient::new(cfg).unwrap();
    let error = c.pull_orders(None, None).await.unwrap_err();
    assert!(
        matches!(error, CartonaError::Api { status: 503, .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(sim.request_count("GET /pull-orders"), 2);
    sim.faults().end_outage();
    assert_eq!(c.pull_orders(None, None).await.unwrap().len(), 1);

    // A dropped connection is a retryable transport error, retried within the budget.
    sim.faults().reset_next(1);
    assert_eq!(c.pull_orders(None, None).await.unwrap().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_token_never_reaches_debug_or_errors() {
    let sim = start().await;
    let cfg = config(&sim, TOKEN);
    assert!(!format!("{cfg:?}").contains(TOKEN));
    let c = CartonaClient::new(cfg).unwrap();
    assert!(!format!("{c:?}").contains(TOKEN));
    let sim_cfg = CartonaSimConfig {
        token: TOKEN.into(),
        ..CartonaSimConfig::default()
    };
    assert!(!format!("{sim_cfg:?}").contains(TOKEN));
    sim.faults().outage_for(Duration::from_secs(60));
    let mut cfg = config(&sim, TOKEN);
    cfg.max_attempts = 1;
    let error = CartonaClient::new(cfg)
        .unwrap()
        .pull_orders(None, None)
        .await
        .unwrap_err();
    assert!(!format!("{error} {error:?}").contains(TOKEN));
    sim.shutdown().await;
}

/// A fake Cartona answering every `pull-orders` with `body`.
async fn fake_cartona(body: &'static str) -> String {
    let app = axum::Router::new().route(
        "/api/v1/pull-orders",
        axum::routing::get(move || async move { ([("content-type", "application/json")], body) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn malformed_bodies_name_the_field_and_odd_shapes_are_tolerated() {
    let url = fake_cartona(
        r#"[{"hashed_id": 123, "status": "pending", "order_items": [{"id": 1, "quantity": "lots"}]}]"#,
    )
    .await;
    let c = CartonaClient::new(CartonaConfig::new(url, TOKEN)).unwrap();
    match c.pull_orders(None, None).await.unwrap_err() {
        CartonaError::Malformed {
            endpoint, field, ..
        } => {
            assert_eq!(field, "[0].order_items[0].quantity");
            assert!(endpoint.contains("pull-orders"));
        }
        other => panic!("expected Malformed, got {other:?}"),
    }

    // Wrapped pages, numeric ids, numeric strings and statuses this client does not know are accepted.
    let url = fake_cartona(
        r#"{"data": [{"hashed_id": 77, "status": "on_hold", "delivered_by": "delivered_by_cartona",
            "total_price": "120.50", "created_at": "2026-11-21T10:00:00Z", "retailer": null,
            "order_items": [{"id": 9, "quantity": "3", "price": "40.1"}]}]}"#,
    )
    .await;
    let c = CartonaClient::new(CartonaConfig::new(url, TOKEN)).unwrap();
    let orders = c.pull_orders(None, None).await.expect("tolerated");
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].hashed_id, "77");
    assert_eq!(orders[0].status, OrderStatus::Other("on_hold".into()));
    assert_eq!(orders[0].delivered_by, Some(DeliveredBy::Marketplace));
    assert_eq!(orders[0].total_price, 120.5);
    assert_eq!(orders[0].lines[0].quantity, 3);

    let url = fake_cartona(r#"{"message": "nothing here"}"#).await;
    let c = CartonaClient::new(CartonaConfig::new(url, TOKEN)).unwrap();
    assert!(matches!(
        c.pull_orders(None, None).await.unwrap_err(),
        CartonaError::Malformed { .. }
    ));
}
