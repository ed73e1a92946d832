//! The Counterpoint connector against the simulator over loopback: idempotent staging (repeated, concurrent,
//! across dropped connections), fulfilment read-back through shipping and posting, document presence,
//! constant query count, stock and prices, and errors that never show the password.

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use syncdesk::config::Secret;
use syncdesk::integrations::counterpoint::client::{
    CounterpointClient, CounterpointConfig, CounterpointError, DocPresence, Encryption,
    FulfilmentSignal, StageOutcome, StagedLine, StagedOrder,
};
use syncdesk_sim::counterpoint::{
    CounterpointSim, STORE_LOC, ServerEncryption, SimConfig, WEB_LOC,
};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

type Raw = Client<Compat<TcpStream>>;

async fn start(items: usize) -> CounterpointSim {
    CounterpointSim::start(SimConfig {
        items,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

fn config_for(sim: &CounterpointSim) -> CounterpointConfig {
    CounterpointConfig {
        host: "127.0.0.1".into(),
        port: sim.addr().port(),
        database: sim.database().into(),
        user: sim.user().into(),
        password: Secret::new(sim.password()),
        encryption: Encryption::Off,
        connect_timeout_secs: 5,
        query_timeout_secs: 20,
        ..CounterpointConfig::default()
    }
}

fn client(sim: &CounterpointSim) -> CounterpointClient {
    CounterpointClient::new(config_for(sim)).expect("valid config")
}

/// A plain tiberius connection for checking what the connector wrote.
async fn raw(sim: &CounterpointSim) -> Raw {
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(sim.addr().port());
    config.authentication(AuthMethod::sql_server(sim.user(), sim.password()));
    config.encryption(EncryptionLevel::NotSupported);
    let tcp = TcpStream::connect(sim.addr()).await.expect("tcp");
    Client::connect(config, tcp.compat_write())
        .await
        .expect("login")
}

async fn count(c: &mut Raw, sql: &str, params: &[&dyn tiberius::ToSql]) -> i32 {
    c.query(sql, params)
        .await
        .expect("query sent")
        .into_row()
        .await
        .expect("query runs")
        .expect("one row")
        .get::<i32, _>(0)
        .expect("count")
}

async fn decimal(c: &mut Raw, sql: &str, params: &[&dyn tiberius::ToSql]) -> Decimal {
    c.query(sql, params)
        .await
        .expect("query sent")
        .into_row()
        .await
        .expect("query runs")
        .expect("one row")
        .get::<Decimal, _>(0)
        .expect("a decimal")
}

async fn staged_rows(c: &mut Raw, web_order_id: &str) -> (i32, i32) {
    let headers = count(
        c,
        "SELECT COUNT(*) FROM USER_ORDER_STAGING WHERE WEB_ORDER_ID = @P1",
        &[&web_order_id],
    )
    .await;
    let lines = count(
        c,
        "SELECT COUNT(*) FROM USER_ORDER_STAGING_LIN WHERE WEB_ORDER_ID = @P1",
        &[&web_order_id],
    )
    .await;
    (headers, lines)
}

fn order(web_order_id: &str, lines: &[(&str, i64)]) -> StagedOrder {
    StagedOrder {
        web_order_id: web_order_id.into(),
        cust_no: Some("C01000".into()),
        ship_via: Some("UPS".into()),
        cust_po_no: Some(format!("WEB {web_order_id}")),
        lines: lines
            .iter()
            .map(|(item, qty)| StagedLine {
                item_no: (*item).into(),
                qty: Decimal::from(*qty),
                price: None,
            })
            .collect(),
    }
}

fn long_ago() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("valid date")
}

const OVERLAP: Duration = Duration::from_secs(2);

#[tokio::test]
async fn staging_twice_writes_once() {
    let sim = start(30).await;
    let cp = client(&sim);
    let mut check = raw(&sim).await;
    let mut o = order("WC-1001", &[("SKU-10001", 2), ("SKU-10002", 1)]);
    o.lines[0].price = Some(Decimal::new(1250, 2));
    assert_eq!(cp.stage_order(&o).await.unwrap(), StageOutcome::Staged);
    assert_eq!(
        cp.stage_order(&o).await.unwrap(),
        StageOutcome::AlreadyStaged {
            status: "N".into(),
            doc_id: None
        }
    );
    assert_eq!(staged_rows(&mut check, "WC-1001").await, (1, 2));
    let row = check
        .query(
            "SELECT QTY, PRC FROM USER_ORDER_STAGING_LIN WHERE WEB_ORDER_ID = @P1 ORDER BY LIN_SEQ_NO",
            &[&"WC-1001"],
        )
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    assert_eq!(row[0].get::<Decimal, _>("QTY"), Some(Decimal::new(2, 0)));
    assert_eq!(row[0].get::<f64, _>("PRC"), Some(12.5));
    assert_eq!(row[1].get::<f64, _>("PRC"), None);

    let processed = sim.shop().process_staged_orders().unwrap();
    let doc_id = processed[0].doc_id.expect("document created");
    assert_eq!(
        cp.stage_order(&o).await.unwrap(),
        StageOutcome::AlreadyStaged {
            status: "P".into(),
            doc_id: Some(doc_id)
        }
    );
    let status = cp
        .staging_status(&["WC-1001".into(), "WC-NEVER".into()])
        .await
        .unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].web_order_id, "WC-1001");
    assert_eq!(status[0].status, "P");
    assert_eq!(status[0].doc_id, Some(doc_id));
    assert_eq!(status[0].error, None);
}

#[tokio::test]
async fn an_unknown_item_comes_back_as_a_staging_error() {
    let sim = start(30).await;
    let cp = client(&sim);
    cp.stage_order(&order("WC-BAD", &[("NO-SUCH-ITEM", 1)]))
        .await
        .unwrap();
    sim.shop().process_staged_orders().unwrap();
    let status = cp.staging_status(&["WC-BAD".into()]).await.unwrap();
    assert_eq!(status[0].status, "E");
    assert_eq!(status[0].doc_id, None);
    assert!(
        status[0]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("NO-SUCH-ITEM")
    );
}

#[tokio::test]
async fn two_clients_staging_the_same_order_at_once_write_it_once() {
    let sim = start(30).await;
    let (a, b) = (client(&sim), client(&sim));
    for round in 0..5 {
        let id = format!("WC-RACE-{round}");
        let o = order(&id, &[("SKU-10003", 1), ("SKU-10004", 2), ("SKU-10005", 3)]);
        let (ra, rb) = tokio::join!(a.stage_order(&o), b.stage_order(&o));
        let outcomes = [ra.unwrap(), rb.unwrap()];
        let staged = outcomes
            .iter()
            .filter(|o| **o == StageOutcome::Staged)
            .count();
        assert_eq!(staged, 1, "exactly one writer wins: {outcomes:?}");
        let mut check = raw(&sim).await;
        assert_eq!(staged_rows(&mut check, &id).await, (1, 3));
    }
}

#[tokio::test]
async fn fulfilment_is_reported_from_shipping_to_posting() {
    let sim = start(30).await;
    let cp = client(&sim);
    let shop = sim.shop();
    cp.stage_order(&order("WC-2001", &[("SKU-10006", 3), ("SKU-10007", 2)]))
        .await
        .unwrap();
    let doc_id = shop.process_staged_orders().unwrap()[0]
        .doc_id
        .expect("document");

    // Created but not shipped: nothing to report.
    let pass = cp
        .fulfilment_changes_since(long_ago(), OVERLAP)
        .await
        .unwrap();
    assert!(pass.changes.is_empty(), "{:?}", pass.changes);
    assert_eq!(pass.watermark, long_ago());

    // Partial shipment: one unit of line 1.
    shop.ship_document_lines(doc_id, &[(1, Decimal::ONE)])
        .unwrap();
    let pass = cp
        .fulfilment_changes_since(long_ago(), OVERLAP)
        .await
        .unwrap();
    assert_eq!(pass.changes.len(), 1);
    let change = &pass.changes[0];
    assert_eq!(change.doc_id, doc_id);
    assert_eq!(change.web_order_id.as_deref(), Some("WC-2001"));
    assert!(change.ship_date.is_some());
    assert_eq!(change.ship_via.as_deref(), Some("UPS"));
    assert_eq!(change.tracking, None);
    assert!(!change.posted);
    let shipped: Vec<(i32, &str, Decimal, Decimal)> = change
        .lines
        .iter()
        .map(|l| {
            (
                l.lin_seq_no,
                l.item_no.as_str(),
                l.qty_ordered,
                l.qty_shipped,
            )
        })
        .collect();
    assert_eq!(
        shipped,
        [
            (1, "SKU-10006", Decimal::from(3), Decimal::ONE),
            (2, "SKU-10007", Decimal::from(2), Decimal::ZERO)
        ]
    );
    assert!(pass.watermark > long_ago());
    assert_eq!(Some(pass.watermark), change.lst_maint_dt);
    let first_mark = pass.watermark;

    // Full shipment, read incrementally from the last watermark.
    tokio::time::sleep(Duration::from_millis(20)).await;
    shop.ship_document(doc_id).unwrap();
    let pass = cp
        .fulfilment_changes_since(first_mark, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(pass.changes.len(), 1);
    let quantities: Vec<(Decimal, Decimal)> = pass.changes[0]
        .lines
        .iter()
        .map(|l| (l.qty_ordered, l.qty_shipped))
        .collect();
    assert_eq!(
        quantities,
        [
            (Decimal::from(3), Decimal::from(3)),
            (Decimal::from(2), Decimal::from(2))
        ]
    );
    assert!(pass.watermark > first_mark);
    let second_mark = pass.watermark;

    // Posting moves it to history: reported as posted, not lost.
    tokio::time::sleep(Duration::from_millis(20)).await;
    shop.post_document(doc_id).unwrap();
    let pass = cp
        .fulfilment_changes_since(second_mark, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(pass.changes.len(), 1, "{:?}", pass.changes);
    let change = &pass.changes[0];
    assert!(change.posted);
    assert_eq!(change.web_order_id.as_deref(), Some("WC-2001"));
    assert_eq!(change.lines.len(), 2);
    assert!(change.lines.iter().all(|l| l.qty_shipped == l.qty_ordered));
    assert!(pass.watermark > second_mark);
    let states = cp.documents_state(&[doc_id]).await.unwrap();
    assert_eq!(states[0].state, DocPresence::Posted);

    // Nothing new after the last watermark (an in-store sale is not a web document).
    shop.ring_sale("SKU-10008", Decimal::ONE).unwrap();
    let later = pass.watermark + chrono::Duration::milliseconds(10);
    let pass = cp
        .fulfilment_changes_since(later, Duration::ZERO)
        .await
        .unwrap();
    assert!(pass.changes.is_empty(), "{:?}", pass.changes);
}

#[tokio::test]
async fn fulfilment_signal_and_tracking_column_are_configurable() {
    let sim = start(30).await;
    let shop = sim.shop();
    let mut config = config_for(&sim);
    config.fulfilment_signal = FulfilmentSignal::Either;
    config.staged_documents_only = false;
    config.tracking_column = Some("CUST_PO_NO".into());
    let cp = CounterpointClient::new(config).unwrap();
    // A counter order (never staged), shipped: reported with no web order id.
    let counter = shop
        .create_order(Some("C01002"), &[("SKU-10009", Decimal::ONE)])
        .unwrap();
    let pass = cp
        .fulfilment_changes_since(long_ago(), OVERLAP)
        .await
        .unwrap();
    assert!(pass.changes.is_empty());
    shop.ship_document(counter).unwrap();
    cp.stage_order(&order("WC-3001", &[("SKU-10010", 1)]))
        .await
        .unwrap();
    let staged = shop.process_staged_orders().unwrap()[0].doc_id.unwrap();
    shop.ship_document(staged).unwrap();
    let pass = cp
        .fulfilment_changes_since(long_ago(), OVERLAP)
        .await
        .unwrap();
    let ids: Vec<(i64, Option<&str>, Option<&str>)> = pass
        .changes
        .iter()
        .map(|c| (c.doc_id, c.web_order_id.as_deref(), c.tracking.as_deref()))
        .collect();
    assert_eq!(
        ids,
        [
            (counter, None, None),
            (staged, Some("WC-3001"), Some("WEB WC-3001"))
        ]
    );
}

#[tokio::test]
async fn cancelled_documents_are_missing_and_open_ones_open() {
    let sim = start(30).await;
    let cp = client(&sim);
    let shop = sim.shop();
    for id in ["WC-4001", "WC-4002"] {
        cp.stage_order(&order(id, &[("SKU-10011", 1)]))
            .await
            .unwrap();
    }
    let docs: Vec<i64> = shop
        .process_staged_orders()
        .unwrap()
        .iter()
        .filter_map(|p| p.doc_id)
        .collect();
    shop.cancel_document(docs[1]).unwrap();
    let states = cp
        .documents_state(&[docs[0], docs[1], 123_456_789])
        .await
        .unwrap();
    let states: Vec<(i64, DocPresence)> = states.iter().map(|s| (s.doc_id, s.state)).collect();
    assert_eq!(
        states,
        [
            (docs[0], DocPresence::Open),
            (docs[1], DocPresence::Missing),
            (123_456_789, DocPresence::Missing)
        ]
    );
    assert!(cp.documents_state(&[]).await.unwrap().is_empty());
}

/// Stages and processes `n` orders, shipping every other one.
async fn open_documents(sim: &CounterpointSim, from: usize, n: usize) {
    let shop = sim.shop();
    for i in from..from + n {
        let item = format!("SKU-{:05}", 10_000 + i % 30);
        shop.stage_order(
            &format!("WC-BULK-{i}"),
            None,
            &[(item.as_str(), Decimal::ONE)],
        )
        .unwrap();
    }
    for (k, processed) in shop.process_staged_orders().unwrap().iter().enumerate() {
        if k % 2 == 0
            && let Some(doc_id) = processed.doc_id
        {
            shop.ship_document(doc_id).unwrap();
        }
    }
}

#[tokio::test]
async fn a_pass_costs_the_same_number_of_requests_for_10_or_1000_open_documents() {
    let sim = start(30).await;
    let cp = client(&sim);
    cp.ping().await.unwrap();
    open_documents(&sim, 0, 10).await;
    let before = sim.queries_served();
    let small = cp
        .fulfilment_changes_since(long_ago(), OVERLAP)
        .await
        .unwrap();
    let small_cost = sim.queries_served() - before;
    open_documents(&sim, 10, 990).await;
    assert_eq!(sim.shop().open_documents().unwrap().len(), 1000);
    let before = sim.queries_served();
    let large = cp
        .fulfilment_changes_since(long_ago(), OVERLAP)
        .await
        .unwrap();
    let large_cost = sim.queries_served() - before;
    assert_eq!(small.changes.len(), 5);
    assert_eq!(large.changes.len(), 500);
    assert_eq!(small_cost, large_cost);
    assert_eq!(large_cost, 2);
}

#[tokio::test]
async fn inventory_full_and_since_a_watermark() {
    let sim = start(30).await;
    let mut config = config_for(&sim);
    config.page_size = 7; // several pages for 30 items
    let cp = CounterpointClient::new(config.clone()).unwrap();
    let mut check = raw(&sim).await;
    let full = cp.inventory(true, None).await.unwrap();
    assert_eq!(full.len(), 30);
    let items: Vec<&str> = full.iter().map(|s| s.item_no.as_str()).collect();
    let mut sorted = items.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(items, sorted, "every item once, in order");
    let sold = "SKU-10012";
    let summed_sql = "SELECT CAST(SUM(QTY_AVAIL) AS DECIMAL(18,4)) FROM IM_INV WHERE ITEM_NO = @P1 AND LOC_ID IN (@P2, @P3)";
    let before = decimal(&mut check, summed_sql, &[&sold, &STORE_LOC, &WEB_LOC]).await;
    let level = full.iter().find(|s| s.item_no == sold).unwrap();
    assert_eq!(level.qty_avail, before);
    let watermark = full.iter().filter_map(|s| s.lst_maint_dt).max().unwrap();

    tokio::time::sleep(Duration::from_millis(20)).await;
    sim.shop().ring_sale(sold, Decimal::from(2)).unwrap();
    let incremental = cp.inventory(false, Some(watermark)).await.unwrap();
    assert!(incremental.len() < 3, "{incremental:?}");
    let level = incremental
        .iter()
        .find(|s| s.item_no == sold)
        .expect("the sold item is in the incremental read");
    assert_eq!(level.qty_avail, before - Decimal::from(2));
    assert!(level.lst_maint_dt.unwrap() > watermark);

    // Only the web location, and only e-commerce items.
    config.locations = vec![WEB_LOC.into()];
    config.ecommerce_only = true;
    let web = CounterpointClient::new(config).unwrap();
    let ecomm = count(
        &mut check,
        "SELECT COUNT(*) FROM IM_ITEM WHERE IS_ECOMM_ITEM = 'Y'",
        &[],
    )
    .await;
    let levels = web.inventory(true, None).await.unwrap();
    assert_eq!(levels.len(), ecomm as usize);
    let first = &levels[0];
    let web_sql =
        "SELECT CAST(QTY_AVAIL AS DECIMAL(18,4)) FROM IM_INV WHERE ITEM_NO = @P1 AND LOC_ID = @P2";
    let web_qty = decimal(&mut check, web_sql, &[&first.item_no.as_str(), &WEB_LOC]).await;
    assert_eq!(first.qty_avail, web_qty);
}

#[tokio::test]
async fn prices_come_from_im_prc_or_fall_back_to_im_item() {
    let sim = start(30).await;
    let cp = client(&sim);
    let mut check = raw(&sim).await;
    sim.shop()
        .set_price("SKU-10013", Decimal::new(1999, 2))
        .unwrap();
    check
        .execute("DELETE FROM IM_PRC WHERE ITEM_NO = @P1", &[&"SKU-10014"])
        .await
        .unwrap();
    check
        .execute(
            "UPDATE IM_ITEM SET PRC_1 = 7.25, REG_PRC = 8.5 WHERE ITEM_NO = @P1",
            &[&"SKU-10014"],
        )
        .await
        .unwrap();
    let prices = cp.prices(None).await.unwrap();
    assert_eq!(prices.len(), 30);
    let repriced = prices.iter().find(|p| p.item_no == "SKU-10013").unwrap();
    assert!(repriced.from_price_table);
    assert_eq!(repriced.prc_1, Some(Decimal::new(1999, 2)));
    let fallback = prices.iter().find(|p| p.item_no == "SKU-10014").unwrap();
    assert!(!fallback.from_price_table);
    assert_eq!(fallback.prc_1, Some(Decimal::new(725, 2)));
    assert_eq!(fallback.reg_prc, Some(Decimal::new(85, 1)));

    // Incremental: only what changed after the newest date seen.
    let watermark = prices.iter().filter_map(|p| p.lst_maint_dt).max().unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    sim.shop()
        .set_price("SKU-10015", Decimal::new(4200, 2))
        .unwrap();
    let changed = cp.prices(Some(watermark)).await.unwrap();
    assert!(changed.len() < 4, "{changed:?}");
    let p = changed.iter().find(|p| p.item_no == "SKU-10015").unwrap();
    assert_eq!(p.prc_1, Some(Decimal::new(4200, 2)));

    // A price location without IM_PRC rows: everything falls back to IM_ITEM.
    let mut config = config_for(&sim);
    config.price_location = STORE_LOC.into();
    let main = CounterpointClient::new(config).unwrap();
    let prices = main.prices(None).await.unwrap();
    assert!(prices.iter().all(|p| !p.from_price_table));
    let item = prices.iter().find(|p| p.item_no == "SKU-10014").unwrap();
    assert_eq!(item.prc_1, Some(Decimal::new(725, 2)));
}

#[tokio::test]
async fn a_dropped_connection_is_reopened_and_nothing_is_staged_twice() {
    let sim = start(30).await;
    let cp = client(&sim);
    let mut check = raw(&sim).await;
    // Staging takes five requests (begin, check, header, lines, commit): drop each one in turn.
    for n in 0..6u64 {
        let id = format!("WC-DROP-{n}");
        let o = order(&id, &[("SKU-10016", 1), ("SKU-10017", 2), ("SKU-10018", 3)]);
        sim.drop_connection_after(n);
        let outcome = cp.stage_order(&o).await.expect("staged despite the drop");
        sim.clear_faults();
        // A drop on the COMMIT's answer (the fifth request) leaves the order committed: the retry finds it.
        let expected = if n == 4 {
            StageOutcome::AlreadyStaged {
                status: "N".into(),
                doc_id: None,
            }
        } else {
            StageOutcome::Staged
        };
        assert_eq!(outcome, expected, "drop after {n}");
        assert_eq!(staged_rows(&mut check, &id).await, (1, 3), "drop after {n}");
        // And once more, cleanly: already there.
        assert!(matches!(
            cp.stage_order(&o).await.unwrap(),
            StageOutcome::AlreadyStaged { .. }
        ));
    }
    // Reads reconnect too.
    sim.drop_connection_after(0);
    assert_eq!(cp.inventory(true, None).await.unwrap().len(), 30);
    sim.drop_connection_after(0);
    assert!(
        cp.fulfilment_changes_since(long_ago(), OVERLAP)
            .await
            .is_ok()
    );
    sim.drop_connection_after(0);
    assert!(cp.ping().await.unwrap().starts_with("Microsoft SQL Server"));
}

#[tokio::test]
async fn two_drops_in_a_row_surface_as_a_retryable_transport_error() {
    let sim = start(30).await;
    let cp = client(&sim);
    cp.ping().await.unwrap();
    sim.set_drop_probability(1.0);
    let err = cp.ping().await.expect_err("every request dropped");
    sim.clear_faults();
    assert!(matches!(err, CounterpointError::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(cp.ping().await.is_ok());
}

#[tokio::test]
async fn a_wrong_password_is_a_login_error_that_is_not_retried() {
    let sim = start(30).await;
    let mut config = config_for(&sim);
    config.password = Secret::new("Wr0ng-Pa55word!");
    let cp = CounterpointClient::new(config.clone()).unwrap();
    let err = cp.ping().await.expect_err("login must fail");
    assert!(
        matches!(err, CounterpointError::Login { number: 18456, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(err.number(), Some(18456));
    for shown in [
        format!("{err}"),
        format!("{err:?}"),
        format!("{config:?}"),
        format!("{cp:?}"),
    ] {
        assert!(!shown.contains("Wr0ng-Pa55word!"), "{shown}");
    }
    let err = cp
        .stage_order(&order("WC-5001", &[("SKU-10001", 1)]))
        .await
        .expect_err("login must fail");
    assert!(!format!("{err} {err:?}").contains("Wr0ng-Pa55word!"));
}

#[tokio::test]
async fn sql_errors_keep_their_number_and_are_not_retryable() {
    let sim = start(30).await;
    let mut config = config_for(&sim);
    config.tables.history_header = "NO_SUCH_TABLE".into();
    let cp = CounterpointClient::new(config).unwrap();
    let err = cp.documents_state(&[1]).await.expect_err("missing table");
    assert!(
        matches!(err, CounterpointError::Sql { number: 208, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn identifiers_with_quotes_are_refused_at_construction() {
    let mut config = CounterpointConfig {
        user: "cpsync".into(),
        ..CounterpointConfig::default()
    };
    config.tables.staging = "USER_ORDER_STAGING'; DROP TABLE IM_ITEM; --".into();
    let err = CounterpointClient::new(config.clone()).expect_err("refused");
    assert!(matches!(err, CounterpointError::Config(_)), "{err:?}");
    config.tables.staging = "USER_ORDER_STAGING".into();
    config.tracking_column = Some("[CUST_PO_NO]".into());
    assert!(CounterpointClient::new(config.clone()).is_err());
    config.tracking_column = Some("USER_TRACKING_NO".into());
    assert!(CounterpointClient::new(config.clone()).is_ok());
    config.trust_cert = true;
    config.trust_cert_ca = Some("/etc/ssl/shop-ca.pem".into());
    assert!(CounterpointClient::new(config.clone()).is_err());
    config.trust_cert_ca = None;
    config.locations.clear();
    assert!(CounterpointClient::new(config).is_err());
}

#[test]
fn config_reads_from_toml_and_hides_the_password() {
    let config: CounterpointConfig = toml::from_str(
        r#"
        host = "cp.shop.local"
        user = "cpsync"
        password = "S3cret-Value"
        encryption = "off"
        locations = ["MAIN"]
        fulfilment_signal = "ship_date"
        tracking_column = "USER_TRACKING"
        [tables]
        staging = "USER_WEB_STAGING"
        "#,
    )
    .unwrap();
    assert_eq!(config.encryption, Encryption::Off);
    assert_eq!(config.fulfilment_signal, FulfilmentSignal::ShipDate);
    assert_eq!(config.tables.staging, "USER_WEB_STAGING");
    assert_eq!(config.tables.doc_header, "PS_DOC_HDR");
    assert_eq!(config.port, 1433);
    assert!(!format!("{config:?}").contains("S3cret-Value"));
    let defaults = CounterpointConfig::default();
    assert_eq!(defaults.locations, ["MAIN", "WEB"]);
    assert_eq!(defaults.encryption, Encryption::Required);
    assert_eq!(defaults.fulfilment_signal, FulfilmentSignal::Both);
    assert!(toml::from_str::<CounterpointConfig>("hots = \"typo\"").is_err());
}

#[tokio::test]
async fn a_slow_server_times_out_and_the_next_call_uses_a_fresh_connection() {
    let sim = start(30).await;
    let mut config = config_for(&sim);
    config.query_timeout_secs = 1;
    let cp = CounterpointClient::new(config).unwrap();
    cp.ping().await.unwrap();
    sim.set_query_delay(Duration::from_millis(1600));
    let err = cp.ping().await.expect_err("slower than the query timeout");
    assert!(matches!(err, CounterpointError::Timeout), "{err:?}");
    assert!(err.is_retryable());
    sim.clear_faults();
    assert!(cp.ping().await.is_ok());
}

#[tokio::test]
async fn required_encryption_against_a_plain_server_fails_cleanly() {
    let sim = CounterpointSim::start(SimConfig {
        items: 30,
        encryption: ServerEncryption::NotSupported,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let mut config = config_for(&sim);
    config.encryption = Encryption::Required;
    config.trust_cert = true;
    let cp = CounterpointClient::new(config).unwrap();
    let err = cp.ping().await.expect_err("the simulator speaks no TLS");
    assert!(matches!(err, CounterpointError::Config(_)), "{err:?}");
    assert!(!err.is_retryable());
    assert!(
        !format!("{err} {err:?}").contains(sim.password()),
        "{err:?}"
    );
}

#[tokio::test]
async fn posted_line_quantities_come_from_the_configured_history_column() {
    let sim = start(30).await;
    let shop = sim.shop();
    let cp = client(&sim);
    cp.stage_order(&order("WC-6001", &[("SKU-10019", 4)]))
        .await
        .unwrap();
    let doc_id = shop.process_staged_orders().unwrap()[0].doc_id.unwrap();
    shop.ship_document_lines(doc_id, &[(1, Decimal::ONE)])
        .unwrap();
    shop.post_document(doc_id).unwrap();
    let pass = cp
        .fulfilment_changes_since(long_ago(), OVERLAP)
        .await
        .unwrap();
    let line = &pass.changes[0].lines[0];
    assert!(pass.changes[0].posted);
    assert_eq!(
        (line.qty_ordered, line.qty_shipped),
        (Decimal::from(4), Decimal::ONE)
    );

    let mut config = config_for(&sim);
    config.history_qty_shipped_column = None;
    let sold_as_shipped = CounterpointClient::new(config).unwrap();
    let pass = sold_as_shipped
        .fulfilment_changes_since(long_ago(), OVERLAP)
        .await
        .unwrap();
    let line = &pass.changes[0].lines[0];
    assert_eq!(
        (line.qty_ordered, line.qty_shipped),
        (Decimal::from(4), Decimal::from(4))
    );
}

#[tokio::test]
async fn a_document_caught_in_both_tables_is_reported_once_as_posted() {
    let sim = start(30).await;
    let shop = sim.shop();
    let cp = client(&sim);
    let mut check = raw(&sim).await;
    cp.stage_order(&order("WC-7001", &[("SKU-10020", 1)]))
        .await
        .unwrap();
    let doc_id = shop.process_staged_orders().unwrap()[0].doc_id.unwrap();
    shop.ship_document(doc_id).unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    // As if posting were half-way: the history row exists while the open document is still there.
    check
        .execute(
            "INSERT INTO PS_TKT_HIST (DOC_ID, TKT_NO, DOC_TYP, BUS_DAT, TKT_DT, STR_ID, STA_ID, SHIP_VIA_COD, LST_MAINT_DT)
             VALUES (@P1, 'O101-000001', 'O', GETDATE(), GETDATE(), '1', 'WEB', 'UPS', GETDATE())",
            &[&doc_id],
        )
        .await
        .unwrap();
    let pass = cp
        .fulfilment_changes_since(long_ago(), OVERLAP)
        .await
        .unwrap();
    assert_eq!(pass.changes.len(), 1, "{:?}", pass.changes);
    assert!(pass.changes[0].posted);
    assert_eq!(pass.changes[0].lines.len(), 1);
    assert_eq!(
        cp.documents_state(&[doc_id]).await.unwrap()[0].state,
        DocPresence::Posted
    );
}

#[tokio::test]
async fn a_long_order_is_staged_in_several_inserts_with_running_line_numbers() {
    let sim = start(30).await;
    let cp = client(&sim);
    let mut check = raw(&sim).await;
    let lines: Vec<(String, i64)> = (0..600)
        .map(|i| (format!("SKU-{:05}", 10_000 + i % 30), 1 + i % 3))
        .collect();
    let refs: Vec<(&str, i64)> = lines.iter().map(|(s, q)| (s.as_str(), *q)).collect();
    let o = order("WC-LONG", &refs);
    assert_eq!(cp.stage_order(&o).await.unwrap(), StageOutcome::Staged);
    assert_eq!(staged_rows(&mut check, "WC-LONG").await, (1, 600));
    let max_seq = count(
        &mut check,
        "SELECT MAX(LIN_SEQ_NO) FROM USER_ORDER_STAGING_LIN WHERE WEB_ORDER_ID = @P1",
        &[&"WC-LONG"],
    )
    .await;
    assert_eq!(max_seq, 600);
    let processed = sim.shop().process_staged_orders().unwrap();
    assert!(processed[0].doc_id.is_some());
}

#[tokio::test]
async fn schema_check_names_a_missing_column() {
    let sim = start(30).await;
    let cp = client(&sim);
    cp.check_schema().await.unwrap();
    let mut config = config_for(&sim);
    config.tracking_column = Some("USER_TRACKING_NO".into());
    let cp = CounterpointClient::new(config).unwrap();
    let err = cp.check_schema().await.expect_err("no such column");
    assert!(
        matches!(&err, CounterpointError::Sql { number: 207, message } if message.contains("USER_TRACKING_NO")),
        "{err:?}"
    );
    // The connection stays usable after a statement error.
    assert!(cp.ping().await.is_ok());
}
