//! The Counterpoint simulator driven by a real tiberius client over loopback: types, errors, batches,
//! transactions, idempotent staging, shop actions and injected faults.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use syncdesk_sim::counterpoint::{CounterpointSim, STORE_LOC, SimConfig, WEB_LOC};
use tiberius::{AuthMethod, Client, ColumnData, Config, EncryptionLevel, Row, error::Error};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

type Cp = Client<Compat<TcpStream>>;

async fn start() -> CounterpointSim {
    CounterpointSim::start(SimConfig {
        items: 30,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

async fn connect_as(sim: &CounterpointSim, user: &str, password: &str) -> tiberius::Result<Cp> {
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(sim.addr().port());
    config.authentication(AuthMethod::sql_server(user, password));
    config.encryption(EncryptionLevel::NotSupported);
    config.trust_cert();
    let tcp = TcpStream::connect(sim.addr()).await?;
    tcp.set_nodelay(true)?;
    Client::connect(config, tcp.compat_write()).await
}

async fn connect(sim: &CounterpointSim) -> Cp {
    connect_as(sim, sim.user(), sim.password())
        .await
        .expect("login succeeds")
}

fn server_code(err: Error) -> u32 {
    match err {
        Error::Server(token) => token.code(),
        other => panic!("expected a server error, got {other:?}"),
    }
}

async fn one_row(client: &mut Cp, sql: &str, params: &[&dyn tiberius::ToSql]) -> Row {
    client
        .query(sql, params)
        .await
        .expect("query sent")
        .into_row()
        .await
        .expect("query runs")
        .expect("one row")
}

async fn count(client: &mut Cp, sql: &str, params: &[&dyn tiberius::ToSql]) -> i32 {
    one_row(client, sql, params)
        .await
        .get::<i32, _>(0)
        .expect("count")
}

/// The server error of a statement, whether tiberius reports it when sending or when reading results.
async fn query_error(client: &mut Cp, sql: &str, params: &[&dyn tiberius::ToSql]) -> u32 {
    let outcome = match client.query(sql, params).await {
        Ok(stream) => stream.into_results().await.map(|_| ()),
        Err(e) => Err(e),
    };
    server_code(outcome.expect_err("the statement must fail"))
}

fn dt(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").expect("valid datetime")
}

#[tokio::test]
async fn parameters_round_trip_every_type() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    let nvarchar = "Žemlja ćevapi 東京";
    let datetime2 = dt("2026-01-05 13:45:10.1234567");
    // A legacy DATETIME parameter: days since 1900 and 1/300 s ticks (13:45:10 and 100/300 s).
    let days = (NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
        - NaiveDate::from_ymd_opt(1900, 1, 1).unwrap())
    .num_days();
    let datetime = ColumnData::DateTime(Some(tiberius::time::DateTime::new(
        days as i32,
        (13 * 3600 + 45 * 60 + 10) * 300 + 100,
    )));
    let row = one_row(
        &mut c,
        "SELECT @P1 AS i, @P2 AS big, @P3 AS flag, @P4 AS f, @P5 AS d, @P6 AS v, @P7 AS nv, @P8 AS dt2, @P9 AS dt",
        &[&42i32, &9_000_000_000i64, &true, &3.25f64, &Decimal::new(123_456_789, 4), &"SKU-10001", &nvarchar, &datetime2, &datetime],
    )
    .await;
    assert_eq!(row.get::<i32, _>("i"), Some(42));
    assert_eq!(row.get::<i64, _>("big"), Some(9_000_000_000));
    assert_eq!(row.get::<bool, _>("flag"), Some(true));
    assert_eq!(row.get::<f64, _>("f"), Some(3.25));
    assert_eq!(
        row.get::<Decimal, _>("d"),
        Some(Decimal::new(123_456_789, 4))
    );
    assert_eq!(row.get::<&str, _>("v"), Some("SKU-10001"));
    assert_eq!(row.get::<&str, _>("nv"), Some(nvarchar));
    assert_eq!(row.get::<NaiveDateTime, _>("dt2"), Some(datetime2));
    assert_eq!(
        row.get::<NaiveDateTime, _>("dt"),
        Some(dt("2026-01-05 13:45:10.333333333"))
    );

    let row = one_row(
        &mut c,
        "SELECT @P1, @P2, @P3, @P4, @P5, @P6, @P7",
        &[
            &None::<i32>,
            &None::<i64>,
            &None::<bool>,
            &None::<f64>,
            &None::<Decimal>,
            &None::<&str>,
            &None::<NaiveDateTime>,
        ],
    )
    .await;
    assert_eq!(row.get::<i32, _>(0), None);
    assert_eq!(row.get::<i64, _>(1), None);
    assert_eq!(row.get::<bool, _>(2), None);
    assert_eq!(row.get::<f64, _>(3), None);
    assert_eq!(row.get::<Decimal, _>(4), None);
    assert_eq!(row.get::<&str, _>(5), None);
    assert_eq!(row.get::<NaiveDateTime, _>(6), None);
}

#[tokio::test]
async fn long_strings_and_statements_travel_as_plp() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    let long: String = "Žemlja ćevapi 東京 ".repeat(700);
    let padding = format!("/* {} */", "x".repeat(9000));
    let sql = format!("SELECT @P1 AS long_text, LEN(@P1) AS n {padding}");
    let row = one_row(&mut c, &sql, &[&long.as_str()]).await;
    assert_eq!(row.get::<&str, _>("long_text"), Some(long.as_str()));
    assert_eq!(
        row.get::<i32, _>("n"),
        Some(long.trim_end().chars().count() as i32)
    );
}

#[tokio::test]
async fn table_columns_come_back_with_counterpoint_types() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    let doc_id = 555_000_000_123i64;
    let tkt_dt = dt("2026-01-05 09:30:00.000");
    let inserted = c
        .execute(
            "INSERT INTO PS_DOC_HDR (DOC_ID, DOC_TYP, TKT_NO, STR_ID, STA_ID, CUST_NO, TKT_DT, CUST_PO_NO, LST_MAINT_DT)
             VALUES (@P1, 'O', N'O101-000365', '1', 'WEB', NULL, @P2, @P3, GETDATE())",
            &[&doc_id, &tkt_dt, &"Žemlja ćevapi"],
        )
        .await
        .expect("insert runs");
    assert_eq!(inserted.rows_affected(), &[1]);
    c.execute(
        "INSERT INTO PS_DOC_LIN (DOC_ID, LIN_SEQ_NO, ITEM_NO, LIN_TYP, QTY_SOLD, PRC, EXT_PRC, STK_LOC_ID)
         VALUES (@P1, 1, 'SKU-10001', 'O', @P2, 12.5, 25, 'WEB')",
        &[&doc_id, &Decimal::new(2, 0)],
    )
    .await
    .expect("line insert runs");
    let row = one_row(
        &mut c,
        "SELECT h.[DOC_ID], h.TKT_DT, h.SHIP_DAT, h.CUST_NO, h.CUST_PO_NO, l.QTY_SOLD, l.PRC, l.ITEM_NO, l.LIN_SEQ_NO
         FROM dbo.PS_DOC_HDR h WITH (NOLOCK) JOIN PS_DOC_LIN l ON l.DOC_ID = h.DOC_ID WHERE h.DOC_ID = @P1",
        &[&doc_id],
    )
    .await;
    assert_eq!(row.get::<i64, _>("DOC_ID"), Some(doc_id));
    assert_eq!(row.get::<NaiveDateTime, _>("TKT_DT"), Some(tkt_dt));
    assert_eq!(row.get::<NaiveDateTime, _>("SHIP_DAT"), None);
    assert_eq!(row.get::<&str, _>("CUST_NO"), None);
    // varchar columns use code page 1252, as a CP1_CI_AS database does: characters outside it become '?'.
    assert_eq!(row.get::<&str, _>("CUST_PO_NO"), Some("Žemlja ?evapi"));
    assert_eq!(row.get::<Decimal, _>("QTY_SOLD"), Some(Decimal::new(2, 0)));
    assert_eq!(row.get::<f64, _>("PRC"), Some(12.5));
    assert_eq!(row.get::<&str, _>("ITEM_NO"), Some("SKU-10001"));
    assert_eq!(row.get::<i32, _>("LIN_SEQ_NO"), Some(1));
    let columns = row.columns();
    assert_eq!(columns[0].column_type(), tiberius::ColumnType::Int8);
    assert_eq!(columns[5].column_type(), tiberius::ColumnType::Decimaln);
    assert_eq!(columns[7].column_type(), tiberius::ColumnType::BigVarChar);
}

#[tokio::test]
async fn wrong_password_gets_error_18456_and_rejected_logins_recover() {
    let sim = start().await;
    let err = connect_as(&sim, sim.user(), "not-the-password")
        .await
        .expect_err("login must fail");
    match err {
        Error::Server(token) => {
            assert_eq!(token.code(), 18456);
            assert_eq!(
                token.message(),
                format!("Login failed for user '{}'.", sim.user())
            );
        }
        other => panic!("expected a server error, got {other:?}"),
    }
    sim.reject_logins_for(Duration::from_secs(60));
    let err = connect_as(&sim, sim.user(), sim.password())
        .await
        .expect_err("rejected while the fault is on");
    assert_eq!(server_code(err), 18456);
    sim.clear_faults();
    let mut c = connect(&sim).await;
    assert_eq!(count(&mut c, "SELECT 1", &[]).await, 1);
}

#[tokio::test]
async fn sql_errors_reach_the_caller_with_their_numbers() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    assert_eq!(
        query_error(&mut c, "SELECT * FROM NO_SUCH_TABLE", &[]).await,
        208
    );
    let err = c
        .execute(
            "UPDATE IM_INV SET QTY_AVAIL = 5 WHERE ITEM_NO = @P1",
            &[&"SKU-10001"],
        )
        .await
        .unwrap_err();
    assert_eq!(server_code(err), 271);
    let err = c
        .execute(
            "INSERT INTO IM_ITEM (ITEM_NO, DESCR) VALUES (@P1, 'dup')",
            &[&"SKU-10001"],
        )
        .await
        .unwrap_err();
    assert_eq!(server_code(err), 2627);
    assert_eq!(query_error(&mut c, "MERGE IM_ITEM USING x", &[]).await, 102);
    // The connection stays usable after errors.
    assert_eq!(count(&mut c, "SELECT COUNT(*) FROM IM_ITEM", &[]).await, 30);
}

#[tokio::test]
async fn several_result_sets_in_one_batch() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    let results = c
        .simple_query(
            "SET NOCOUNT ON; SELECT TOP 3 ITEM_NO FROM IM_ITEM ORDER BY ITEM_NO; SELECT COUNT(*) AS n FROM IM_INV
             SELECT @@VERSION",
        )
        .await
        .unwrap()
        .into_results()
        .await
        .unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].len(), 3);
    assert_eq!(results[0][0].get::<&str, _>(0), Some("SKU-10000"));
    assert_eq!(results[1][0].get::<i32, _>("n"), Some(60));
    assert!(
        results[2][0]
            .get::<&str, _>(0)
            .unwrap()
            .starts_with("Microsoft SQL Server")
    );
}

#[tokio::test]
async fn paging_and_sums_use_sql_server_syntax() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    let page = c
        .query(
            "SELECT ITEM_NO FROM IM_ITEM ORDER BY ITEM_NO OFFSET @P1 ROWS FETCH NEXT @P2 ROWS ONLY",
            &[&5i32, &4i32],
        )
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    let items: Vec<&str> = page.iter().filter_map(|r| r.get::<&str, _>(0)).collect();
    assert_eq!(items, ["SKU-10005", "SKU-10006", "SKU-10007", "SKU-10008"]);
    let sums = c
        .query(
            "SELECT LOC_ID, SUM(QTY_ON_HND) AS on_hand, SUM(ISNULL(QTY_COMMIT, 0)) AS committed FROM IM_INV GROUP BY LOC_ID ORDER BY LOC_ID",
            &[],
        )
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    assert_eq!(sums.len(), 2);
    assert_eq!(sums[0].get::<&str, _>("LOC_ID"), Some(STORE_LOC));
    assert!(sums[0].get::<Decimal, _>("on_hand").is_some());
}

#[tokio::test]
async fn rolled_back_transaction_leaves_no_row_and_commit_keeps_it() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    let insert = "INSERT INTO AR_CUST (CUST_NO, NAM, LST_MAINT_DT) VALUES (@P1, @P2, GETDATE())";
    c.simple_query("BEGIN TRAN")
        .await
        .unwrap()
        .into_results()
        .await
        .unwrap();
    c.execute(insert, &[&"WEB-1", &"Rolled Back"])
        .await
        .unwrap();
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM AR_CUST WHERE CUST_NO = @P1",
            &[&"WEB-1"]
        )
        .await,
        1
    );
    c.simple_query("ROLLBACK TRANSACTION")
        .await
        .unwrap()
        .into_results()
        .await
        .unwrap();
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM AR_CUST WHERE CUST_NO = @P1",
            &[&"WEB-1"]
        )
        .await,
        0
    );

    c.simple_query("BEGIN TRANSACTION")
        .await
        .unwrap()
        .into_results()
        .await
        .unwrap();
    c.execute(insert, &[&"WEB-2", &"Committed"]).await.unwrap();
    c.simple_query("COMMIT")
        .await
        .unwrap()
        .into_results()
        .await
        .unwrap();
    let mut other = connect(&sim).await;
    assert_eq!(
        count(
            &mut other,
            "SELECT COUNT(*) FROM AR_CUST WHERE CUST_NO = 'web-2'",
            &[]
        )
        .await,
        1
    );
}

#[tokio::test]
async fn tiberius_transaction_api_rolls_back_and_commits() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    let insert = "INSERT INTO AR_CUST (CUST_NO, NAM) VALUES (@P1, @P2)";
    c.begin_transaction().await.unwrap();
    c.execute(insert, &[&"TM-1", &"Rolled Back"]).await.unwrap();
    c.rollback_transaction().await.unwrap();
    c.begin_transaction().await.unwrap();
    c.execute(insert, &[&"TM-2", &"Committed"]).await.unwrap();
    c.commit_transaction().await.unwrap();
    let n = count(
        &mut c,
        "SELECT COUNT(*) FROM AR_CUST WHERE CUST_NO IN (@P1, @P2)",
        &[&"TM-1", &"TM-2"],
    )
    .await;
    assert_eq!(n, 1);
    let err = c.commit_transaction().await.expect_err("nothing to commit");
    assert_eq!(server_code(err), 3902);
}

#[tokio::test]
async fn unknown_database_is_refused_at_login() {
    let sim = start().await;
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(sim.addr().port());
    config.database("NOT_CPSQL");
    config.authentication(AuthMethod::sql_server(sim.user(), sim.password()));
    config.encryption(EncryptionLevel::NotSupported);
    let tcp = TcpStream::connect(sim.addr()).await.unwrap();
    let err = Client::connect(config, tcp.compat_write())
        .await
        .expect_err("unknown database");
    assert_eq!(server_code(err), 4060);
}

#[tokio::test]
async fn malformed_packets_close_only_that_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sim = start().await;
    let garbage: [&[u8]; 3] = [
        &[0x12, 0x01, 0x00, 0x02, 0, 0, 0, 0],
        &[0x12, 0x01, 0x00, 0x0C, 0, 0, 1, 0, 0x00, 0xFF, 0xFF, 0xFF],
        &[0x42; 64],
    ];
    for bytes in garbage {
        let mut raw = TcpStream::connect(sim.addr()).await.unwrap();
        raw.write_all(bytes).await.unwrap();
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(5), raw.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "the server closes a malformed connection"
        );
    }
    let mut c = connect(&sim).await;
    assert_eq!(count(&mut c, "SELECT 1", &[]).await, 1);
}

#[tokio::test]
async fn open_transaction_is_invisible_to_other_connections_until_commit() {
    let sim = start().await;
    let mut writer = connect(&sim).await;
    let mut reader = connect(&sim).await;
    let probe = "SELECT COUNT(*) FROM AR_CUST WHERE CUST_NO = @P1";
    writer.begin_transaction().await.unwrap();
    writer
        .execute(
            "INSERT INTO AR_CUST (CUST_NO, NAM) VALUES (@P1, N'Pending')",
            &[&"ISO-1"],
        )
        .await
        .unwrap();
    assert_eq!(count(&mut reader, probe, &[&"ISO-1"]).await, 0);
    writer.commit_transaction().await.unwrap();
    assert_eq!(count(&mut reader, probe, &[&"ISO-1"]).await, 1);
}

#[tokio::test]
async fn date_functions_and_conversions_follow_t_sql() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    let watermark = dt("2026-01-05 10:00:00.000");
    let row = one_row(
        &mut c,
        "SELECT DATEADD(SECOND, -5, @P1) AS overlap, DATEADD(DAY, 1, @P1) AS tomorrow,
                DATEDIFF(MINUTE, @P1, DATEADD(HOUR, 2, @P1)) AS minutes,
                CONVERT(varchar(20), @P2) AS text, CAST(@P3 AS decimal(15,4)) AS qty,
                'Item ' + LEFT(N'SKU-10001', 3) AS label",
        &[&watermark, &42i64, &"2.5"],
    )
    .await;
    assert_eq!(
        row.get::<NaiveDateTime, _>("overlap"),
        Some(dt("2026-01-05 09:59:55.000"))
    );
    assert_eq!(
        row.get::<NaiveDateTime, _>("tomorrow"),
        Some(dt("2026-01-06 10:00:00.000"))
    );
    assert_eq!(row.get::<i32, _>("minutes"), Some(120));
    assert_eq!(row.get::<&str, _>("text"), Some("42"));
    assert_eq!(row.get::<Decimal, _>("qty"), Some(Decimal::new(25_000, 4)));
    assert_eq!(row.get::<&str, _>("label"), Some("Item SKU"));
    let utc = chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(watermark, chrono::Utc);
    let row = one_row(&mut c, "SELECT @P1 AS at", &[&utc]).await;
    assert_eq!(row.get::<NaiveDateTime, _>("at"), Some(watermark));
    let recent = "SELECT COUNT(*) FROM IM_ITEM WHERE LST_MAINT_DT > DATEADD(DAY, -365, GETDATE())";
    assert_eq!(count(&mut c, recent, &[]).await, 30);
}

#[tokio::test]
async fn idempotent_staging_run_twice_stages_once() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    let stage = "IF NOT EXISTS (SELECT 1 FROM USER_ORDER_STAGING WITH (UPDLOCK, HOLDLOCK) WHERE WEB_ORDER_ID = @P1)
                 INSERT INTO USER_ORDER_STAGING (WEB_ORDER_ID, CUST_NO) VALUES (@P1, @P2)";
    let line = "IF NOT EXISTS (SELECT 1 FROM USER_ORDER_STAGING_LIN WHERE WEB_ORDER_ID = @P1 AND LIN_SEQ_NO = 1)
                INSERT INTO USER_ORDER_STAGING_LIN (WEB_ORDER_ID, LIN_SEQ_NO, ITEM_NO, QTY) VALUES (@P1, 1, @P2, @P3)";
    for _ in 0..2 {
        c.execute(stage, &[&"WC-1001", &"C01000"]).await.unwrap();
        c.execute(line, &[&"WC-1001", &"SKU-10002", &Decimal::new(3, 0)])
            .await
            .unwrap();
    }
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM USER_ORDER_STAGING WHERE WEB_ORDER_ID = @P1",
            &[&"WC-1001"]
        )
        .await,
        1
    );
    let processed = sim.shop().process_staged_orders().unwrap();
    assert_eq!(processed.len(), 1);
    let doc_id = processed[0].doc_id.expect("document created");
    let row = one_row(
        &mut c,
        "SELECT DOC_ID, STATUS FROM USER_ORDER_STAGING WHERE WEB_ORDER_ID = @P1",
        &[&"WC-1001"],
    )
    .await;
    assert_eq!(row.get::<i64, _>("DOC_ID"), Some(doc_id));
    assert_eq!(row.get::<&str, _>("STATUS"), Some("P"));
    let row = one_row(
        &mut c,
        "SELECT DOC_TYP FROM PS_DOC_HDR WHERE DOC_ID = @P1",
        &[&doc_id],
    )
    .await;
    assert_eq!(row.get::<&str, _>(0), Some("O"));
    let row = one_row(
        &mut c,
        "SELECT QTY_COMMIT FROM IM_INV WHERE ITEM_NO = @P1 AND LOC_ID = @P2",
        &[&"SKU-10002", &WEB_LOC],
    )
    .await;
    assert_eq!(row.get::<Decimal, _>(0), Some(Decimal::new(3, 0)));
}

async fn maint(c: &mut Cp, doc_id: i64) -> NaiveDateTime {
    one_row(
        c,
        "SELECT LST_MAINT_DT FROM PS_DOC_HDR WHERE DOC_ID = @P1",
        &[&doc_id],
    )
    .await
    .get::<NaiveDateTime, _>(0)
    .expect("maintained")
}

#[tokio::test]
async fn shop_actions_are_visible_through_sql() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    let shop = sim.shop();
    let doc_id = shop
        .create_order(
            Some("C01001"),
            &[
                ("SKU-10003", Decimal::new(2, 0)),
                ("SKU-10004", Decimal::new(1, 0)),
            ],
        )
        .unwrap();
    let before = maint(&mut c, doc_id).await;
    tokio::time::sleep(Duration::from_millis(5)).await;

    shop.ship_document_lines(doc_id, &[(1, Decimal::new(1, 0))])
        .unwrap();
    let row = one_row(
        &mut c,
        "SELECT SHIP_DAT, LST_MAINT_DT FROM PS_DOC_HDR WHERE DOC_ID = @P1",
        &[&doc_id],
    )
    .await;
    assert!(row.get::<NaiveDateTime, _>("SHIP_DAT").is_some());
    assert!(row.get::<NaiveDateTime, _>("LST_MAINT_DT").unwrap() > before);
    let shipped = c
        .query(
            "SELECT QTY_SHIPPED FROM PS_DOC_LIN WHERE DOC_ID = @P1 ORDER BY LIN_SEQ_NO",
            &[&doc_id],
        )
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    let shipped: Vec<Decimal> = shipped
        .iter()
        .filter_map(|r| r.get::<Decimal, _>(0))
        .collect();
    assert_eq!(shipped, [Decimal::new(1, 0), Decimal::ZERO]);
    shop.ship_document(doc_id).unwrap();
    let shipped = one_row(
        &mut c,
        "SELECT SUM(QTY_SHIPPED) FROM PS_DOC_LIN WHERE DOC_ID = @P1",
        &[&doc_id],
    )
    .await;
    assert_eq!(shipped.get::<Decimal, _>(0), Some(Decimal::new(3, 0)));

    shop.post_document(doc_id).unwrap();
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM PS_DOC_HDR WHERE DOC_ID = @P1",
            &[&doc_id]
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM PS_TKT_HIST WHERE DOC_ID = @P1",
            &[&doc_id]
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM PS_TKT_HIST_LIN WHERE DOC_ID = @P1",
            &[&doc_id]
        )
        .await,
        2
    );

    let avail = "SELECT QTY_AVAIL FROM IM_INV WHERE ITEM_NO = @P1 AND LOC_ID = @P2";
    let before = one_row(&mut c, avail, &[&"SKU-10005", &STORE_LOC])
        .await
        .get::<Decimal, _>(0)
        .unwrap();
    shop.ring_sale("SKU-10005", Decimal::new(2, 0)).unwrap();
    let after = one_row(&mut c, avail, &[&"SKU-10005", &STORE_LOC])
        .await
        .get::<Decimal, _>(0)
        .unwrap();
    assert_eq!(after, before - Decimal::new(2, 0));
    shop.restock("SKU-10005", STORE_LOC, Decimal::new(10, 0))
        .unwrap();
    let restocked = one_row(&mut c, avail, &[&"SKU-10005", &STORE_LOC])
        .await
        .get::<Decimal, _>(0)
        .unwrap();
    assert_eq!(restocked, after + Decimal::new(10, 0));

    let item_maint = "SELECT LST_MAINT_DT FROM IM_ITEM WHERE ITEM_NO = @P1";
    let item_before = one_row(&mut c, item_maint, &[&"SKU-10006"])
        .await
        .get::<NaiveDateTime, _>(0);
    shop.set_price("SKU-10006", Decimal::new(1999, 2)).unwrap();
    let price = one_row(
        &mut c,
        "SELECT PRC_1 FROM IM_PRC WHERE ITEM_NO = @P1",
        &[&"SKU-10006"],
    )
    .await;
    assert_eq!(price.get::<f64, _>(0), Some(19.99));
    assert_eq!(
        one_row(&mut c, item_maint, &[&"SKU-10006"])
            .await
            .get::<NaiveDateTime, _>(0),
        item_before
    );

    let cancelled = shop
        .create_order(None, &[("SKU-10007", Decimal::new(1, 0))])
        .unwrap();
    shop.cancel_document(cancelled).unwrap();
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM PS_DOC_HDR WHERE DOC_ID = @P1",
            &[&cancelled]
        )
        .await,
        0
    );
}

#[tokio::test]
async fn dropped_connection_surfaces_as_error_and_reconnect_works() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    assert_eq!(count(&mut c, "SELECT 1", &[]).await, 1);
    sim.drop_connection_after(0);
    let result = match c.query("SELECT ITEM_NO, DESCR FROM IM_ITEM", &[]).await {
        Ok(stream) => stream.into_first_result().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(result.is_err(), "a dropped connection must be an error");
    let mut fresh = connect(&sim).await;
    assert_eq!(count(&mut fresh, "SELECT 1", &[]).await, 1);

    sim.set_query_delay(Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(count(&mut fresh, "SELECT 2", &[]).await, 2);
    assert!(started.elapsed() >= Duration::from_millis(150));
    sim.clear_faults();
    sim.reset_query_count();
    count(&mut fresh, "SELECT 3", &[]).await;
    assert_eq!(sim.queries_served(), 1);
    sim.shutdown().await;
}
