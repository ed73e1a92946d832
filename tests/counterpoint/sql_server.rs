//! The simulator behaves as SQL Server does where a driver can see it, checked through tiberius over a fully
//! encrypted session: batches that go on after a statement-level error (XACT_ABORT OFF) and stop and roll
//! back with XACT_ABORT ON, named transactions and savepoints, exact decimal and money arithmetic, SQL
//! Server's conversion / divide-by-zero / truncation errors, trailing-space equality, @@TRANCOUNT,
//! DB_NAME(), @@VERSION, LOGINACK's TDS version, SQL Server's message texts, a seeded shop, and SIGTERM.
//! `tests/drivers/tedious` checks the same through an independent driver (tests/counterpoint/drivers.rs).

use std::io::{Read, Write};

use rust_decimal::Decimal;
use syncdesk_sim::counterpoint::{CounterpointSim, ServerEncryption, SimConfig};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel, Row, error::Error};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

type Cp = Client<Compat<TcpStream>>;

async fn start() -> CounterpointSim {
    CounterpointSim::start(SimConfig {
        items: 10,
        encryption: ServerEncryption::Required,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

async fn connect(sim: &CounterpointSim) -> Cp {
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(sim.addr().port());
    config.authentication(AuthMethod::sql_server(sim.user(), sim.password()));
    config.encryption(EncryptionLevel::Required);
    config.trust_cert_ca_bundle(sim.certificate_pem().expect("certificate").as_bytes());
    let tcp = TcpStream::connect(sim.addr()).await.expect("tcp");
    Client::connect(config, tcp.compat_write())
        .await
        .expect("login")
}

async fn rows(c: &mut Cp, sql: &str) -> Vec<Row> {
    c.simple_query(sql)
        .await
        .expect("sent")
        .into_first_result()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn one(c: &mut Cp, sql: &str) -> Row {
    rows(c, sql).await.into_iter().next().expect("a row")
}

/// The first server error a batch reports (number, message).
async fn error_of(c: &mut Cp, sql: &str) -> (u32, String) {
    let outcome = match c.simple_query(sql).await {
        Ok(stream) => stream.into_results().await.map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Err(Error::Server(token)) => (token.code(), token.message().to_string()),
        other => panic!("{sql}: expected a server error, got {other:?}"),
    }
}

async fn count(c: &mut Cp, sql: &str) -> i32 {
    one(c, sql).await.get::<i32, _>(0).expect("a count")
}

#[tokio::test]
async fn a_batch_goes_on_after_a_statement_error_unless_xact_abort_is_on() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    // XACT_ABORT OFF: the duplicate key ends its own statement only; the next insert still runs.
    let (number, message) = error_of(
        &mut c,
        "INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('C01000', 'Duplicate'); \
         INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('CX-AFTER', 'After the error')",
    )
    .await;
    assert_eq!(number, 2627);
    assert_eq!(
        message,
        "Violation of PRIMARY KEY constraint 'PK_AR_CUST'. Cannot insert duplicate key in object 'dbo.AR_CUST'."
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM AR_CUST WHERE CUST_NO = 'CX-AFTER'"
        )
        .await,
        1
    );
    // Inside a transaction with XACT_ABORT OFF the transaction survives the error.
    let (number, _) = error_of(
        &mut c,
        "BEGIN TRAN; INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('CX-KEPT', 'kept'); \
         INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('C01000', 'dup'); COMMIT",
    )
    .await;
    assert_eq!(number, 2627);
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM AR_CUST WHERE CUST_NO = 'CX-KEPT'"
        )
        .await,
        1
    );
    // XACT_ABORT ON: the error ends the batch and rolls the whole transaction back.
    let (number, _) = error_of(
        &mut c,
        "SET XACT_ABORT ON; BEGIN TRAN; INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('CX-GONE', 'gone'); \
         INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('C01000', 'dup'); \
         INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('CX-NEVER', 'never'); COMMIT",
    )
    .await;
    assert_eq!(number, 2627);
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM AR_CUST WHERE CUST_NO IN ('CX-GONE', 'CX-NEVER')"
        )
        .await,
        0
    );
    assert_eq!(count(&mut c, "SELECT @@TRANCOUNT").await, 0);
    // A conversion error aborts the batch even with XACT_ABORT OFF, as in SQL Server.
    let (number, _) = error_of(
        &mut c,
        "SET XACT_ABORT OFF; SELECT CAST('x' AS INT); INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('CX-SKIPPED', 's')",
    )
    .await;
    assert_eq!(number, 245);
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM AR_CUST WHERE CUST_NO = 'CX-SKIPPED'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn named_transactions_savepoints_and_trancount() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    let row = one(
        &mut c,
        "BEGIN TRAN outer_tx; \
         INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('CS-1', 'before the savepoint'); \
         SAVE TRANSACTION sp1; \
         INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('CS-2', 'after the savepoint'); \
         ROLLBACK TRANSACTION sp1; \
         SELECT @@TRANCOUNT AS tc, (SELECT COUNT(*) FROM AR_CUST WHERE CUST_NO LIKE 'CS-%') AS n",
    )
    .await;
    assert_eq!(
        row.get::<i32, _>("tc"),
        Some(1),
        "a savepoint rollback keeps the transaction"
    );
    assert_eq!(row.get::<i32, _>("n"), Some(1));
    rows(&mut c, "COMMIT TRAN outer_tx").await;
    assert_eq!(count(&mut c, "SELECT @@TRANCOUNT").await, 0);
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM AR_CUST WHERE CUST_NO LIKE 'CS-%'"
        )
        .await,
        1
    );
    // Nesting counts; the outer name rolls everything back.
    let tc = count(&mut c, "BEGIN TRAN t1; BEGIN TRAN; SELECT @@TRANCOUNT").await;
    assert_eq!(tc, 2);
    rows(
        &mut c,
        "INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('CS-3', 'x')",
    )
    .await;
    rows(&mut c, "ROLLBACK TRAN t1").await;
    assert_eq!(count(&mut c, "SELECT @@TRANCOUNT").await, 0);
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM AR_CUST WHERE CUST_NO = 'CS-3'"
        )
        .await,
        0
    );
    // Errors SQL Server gives for misuse.
    assert_eq!(
        error_of(&mut c, "SAVE TRANSACTION nowhere").await,
        (
            628,
            "Cannot issue SAVE TRANSACTION when there is no active transaction.".into()
        )
    );
    rows(&mut c, "BEGIN TRAN").await;
    assert_eq!(
        error_of(&mut c, "ROLLBACK TRAN nosuch").await,
        (
            6401,
            "Cannot roll back nosuch. No transaction or savepoint of that name was found.".into()
        )
    );
    rows(&mut c, "ROLLBACK").await;
    // tiberius' own transaction-manager requests (unnamed) still work.
    c.begin_transaction().await.expect("TM begin");
    assert_eq!(count(&mut c, "SELECT @@TRANCOUNT").await, 1);
    c.rollback_transaction().await.expect("TM rollback");
    assert_eq!(count(&mut c, "SELECT @@TRANCOUNT").await, 0);
}

#[tokio::test]
async fn decimal_and_money_arithmetic_stays_exact_and_decimal() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    let row = one(
        &mut c,
        "SELECT 0.1 + 0.2 AS a, CAST(2.675 AS DECIMAL(10,3)) * 1 AS b, CAST(10 AS DECIMAL(15,4)) / 4 AS c, \
         CAST(19.99 AS MONEY) * 3 AS m, CAST(1.005 AS DECIMAL(10,3)) * 1.5 AS d",
    )
    .await;
    assert_eq!(row.get::<Decimal, _>("a"), Some(Decimal::new(3, 1)));
    assert_eq!(row.get::<Decimal, _>("b"), Some(Decimal::new(2675, 3)));
    // decimal(15,4) / int: scale max(6, 4 + 10 + 1) = 15, all fifteen places kept.
    let quotient = row.get::<Decimal, _>("c").expect("decimal");
    assert_eq!(quotient, Decimal::new(25, 1));
    assert_eq!(quotient.scale(), 15);
    assert_eq!(row.get::<f64, _>("m"), Some(59.97));
    assert_eq!(row.get::<Decimal, _>("d"), Some(Decimal::new(15075, 4)));
    // A table's decimal column times a literal stays decimal (tiberius reads it as Decimal, not f64).
    let row = one(
        &mut c,
        "SELECT TOP 1 QTY_ON_HND * 1.5 AS q, QTY_ON_HND AS h FROM IM_INV ORDER BY ITEM_NO",
    )
    .await;
    let on_hand = row.get::<Decimal, _>("h").expect("decimal");
    assert_eq!(
        row.get::<Decimal, _>("q"),
        Some((on_hand * Decimal::new(15, 1)).round_dp(5))
    );
}

#[tokio::test]
async fn conversion_division_and_truncation_errors_carry_sql_servers_numbers() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    assert_eq!(
        error_of(&mut c, "SELECT CAST('abc' AS INT)").await,
        (
            245,
            "Conversion failed when converting the varchar value 'abc' to data type int.".into()
        )
    );
    assert_eq!(
        error_of(&mut c, "SELECT 1/0").await,
        (8134, "Divide by zero error encountered.".into())
    );
    assert_eq!(
        error_of(&mut c, "SELECT CAST('12x' AS DECIMAL(10,2))")
            .await
            .0,
        8114
    );
    let (number, message) = error_of(
        &mut c,
        "INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('C-1234567890123456', 'too long a customer number')",
    )
    .await;
    assert_eq!(number, 2628);
    assert_eq!(
        message,
        "String or binary data would be truncated in table 'CPSQL.dbo.AR_CUST', column 'CUST_NO'. Truncated value: 'C-1234567890123'."
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM AR_CUST WHERE CUST_NO LIKE 'C-123%'"
        )
        .await,
        0,
        "nothing stored"
    );
}

#[tokio::test]
async fn string_equality_ignores_trailing_spaces_and_case() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    let row = one(
        &mut c,
        "SELECT CASE WHEN 'abc' = 'abc   ' THEN 1 ELSE 0 END AS padded, \
         CASE WHEN 'ABC' = 'abc' THEN 1 ELSE 0 END AS folded, \
         (SELECT COUNT(*) FROM IM_ITEM WHERE ITEM_NO = 'sku-10001  ') AS found",
    )
    .await;
    assert_eq!(row.get::<i32, _>("padded"), Some(1));
    assert_eq!(row.get::<i32, _>("folded"), Some(1));
    assert_eq!(row.get::<i32, _>("found"), Some(1));
}

#[tokio::test]
async fn session_functions_and_messages_are_sql_servers() {
    let sim = start().await;
    let mut c = connect(&sim).await;
    let row = one(
        &mut c,
        "SELECT DB_NAME() AS db, @@VERSION AS v, @@SPID AS spid, \
         CAST(CONNECTIONPROPERTY('encrypt_option') AS NVARCHAR(10)) AS enc",
    )
    .await;
    assert_eq!(row.get::<&str, _>("db"), Some("CPSQL"));
    assert!(
        row.get::<&str, _>("v")
            .is_some_and(|v| v.starts_with("Microsoft SQL Server 2019"))
    );
    assert!(row.get::<i16, _>("spid").is_some_and(|s| s >= 51));
    assert_eq!(row.get::<&str, _>("enc"), Some("TRUE"));
    assert_eq!(
        error_of(&mut c, "SELECT NOPE FROM IM_ITEM").await,
        (207, "Invalid column name 'NOPE'.".into())
    );
    assert_eq!(
        error_of(&mut c, "SELECT * FROM NO_SUCH_TABLE").await,
        (208, "Invalid object name 'NO_SUCH_TABLE'.".into())
    );
    // Errors never show SQLite's wording.
    for sql in [
        "SELECT NOPE FROM IM_ITEM",
        "SELECT * FROM NO_SUCH_TABLE",
        "SELECT ITEM_NO FROM IM_ITEM i JOIN IM_INV v ON v.ITEM_NO = i.ITEM_NO",
        "INSERT INTO AR_CUST (CUST_NO) VALUES ('X1', 'X2')",
    ] {
        let (_, message) = error_of(&mut c, sql).await;
        for word in [
            "sqlite",
            "SQLite",
            "no such",
            "syntax error",
            "values for",
            "offset",
        ] {
            assert!(!message.contains(word), "{sql}: {message}");
        }
    }
}

#[tokio::test]
async fn the_shop_is_seeded_with_documents_in_every_state() {
    let sim = CounterpointSim::start(SimConfig {
        items: 30,
        documents: 40,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let counts = sim.shop().document_counts().expect("counts");
    assert!(
        counts.open > 0 && counts.shipped > 0 && counts.posted > 0,
        "{counts:?}"
    );
    assert!(
        counts.shipped < counts.open,
        "some documents still wait to ship"
    );
    assert_eq!(counts.open + counts.posted, 40);
}

/// LOGIN7 asks for TDS 7.1; the server must answer 7.1 in LOGINACK (and 4-byte DONE row counts).
#[test]
fn loginack_echoes_the_tds_version_the_client_asked_for() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = runtime
        .block_on(CounterpointSim::start(SimConfig {
            items: 1,
            encryption: ServerEncryption::NotSupported,
            ..SimConfig::default()
        }))
        .expect("simulator starts");
    let mut tcp = std::net::TcpStream::connect(sim.addr()).expect("tcp");
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    // PRELOGIN: version + encryption NOT_SUP + terminator.
    let prelogin = [
        0x00, 0x00, 0x0B, 0x00, 0x06, 0x01, 0x00, 0x11, 0x00, 0x01, 0xFF, 0x07, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x02,
    ];
    write_packet(&mut tcp, 0x12, &prelogin);
    read_packet(&mut tcp);
    write_packet(
        &mut tcp,
        0x10,
        &login7(0x7100_0001, sim.user(), sim.password()),
    );
    let response = read_packet(&mut tcp);
    let at = response
        .iter()
        .position(|b| *b == 0xAD)
        .expect("a LOGINACK token");
    assert_eq!(
        &response[at + 4..at + 8],
        &[0x71, 0x00, 0x00, 0x01],
        "LOGINACK's TDS version"
    );
    drop(tcp);
    runtime.block_on(sim.shutdown());
}

fn write_packet(tcp: &mut std::net::TcpStream, kind: u8, body: &[u8]) {
    let len = (body.len() + 8) as u16;
    let mut packet = vec![kind, 0x01, (len >> 8) as u8, len as u8, 0, 0, 1, 0];
    packet.extend_from_slice(body);
    tcp.write_all(&packet).unwrap();
}

fn read_packet(tcp: &mut std::net::TcpStream) -> Vec<u8> {
    let mut header = [0u8; 8];
    tcp.read_exact(&mut header).unwrap();
    let len = usize::from(u16::from_be_bytes([header[2], header[3]])) - 8;
    let mut body = vec![0u8; len];
    tcp.read_exact(&mut body).unwrap();
    body
}

/// A minimal LOGIN7: fixed part, then host, user, password (obfuscated), app, server, …, database.
fn login7(tds_version: u32, user: &str, password: &str) -> Vec<u8> {
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let fields: [Vec<u8>; 9] = [
        utf16("test"),
        utf16(user),
        utf16(password)
            .into_iter()
            .map(|b| b.rotate_left(4) ^ 0xA5)
            .collect(),
        utf16("raw"),
        utf16("127.0.0.1"),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        utf16("CPSQL"),
    ];
    let mut fixed = vec![0u8; 94];
    fixed[4..8].copy_from_slice(&tds_version.to_le_bytes());
    fixed[8..12].copy_from_slice(&4096u32.to_le_bytes());
    let mut data = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        let at = 36 + i * 4;
        fixed[at..at + 2].copy_from_slice(&((94 + data.len()) as u16).to_le_bytes());
        fixed[at + 2..at + 4].copy_from_slice(&((field.len() / 2) as u16).to_le_bytes());
        data.extend_from_slice(field);
    }
    fixed.extend(data);
    let total = fixed.len() as u32;
    fixed[0..4].copy_from_slice(&total.to_le_bytes());
    fixed
}

/// `syncdesk sim counterpoint` stopped by SIGTERM (what `kill` and service managers send) removes its
/// database and certificate files, as Ctrl-C does.
#[cfg(unix)]
#[test]
fn sigterm_leaves_no_files_behind() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_syncdesk"))
        .args([
            "sim",
            "counterpoint",
            "--listen",
            "127.0.0.1:0",
            "--items",
            "5",
            "--documents",
            "6",
        ])
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut printed = String::new();
    while !printed.contains("stop with") {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        printed.push_str(&line);
    }
    assert!(printed.contains("open documents"), "{printed}");
    let files = || -> Vec<String> {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("syncdesk-counterpoint"))
            .collect()
    };
    assert!(
        files().iter().any(|f| f.ends_with(".db")),
        "the database is in TMPDIR: {:?}",
        files()
    );
    assert!(files().iter().any(|f| f.ends_with(".crt")), "{:?}", files());
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = child.wait().expect("the simulator exits");
    assert!(exit.success(), "{exit:?}");
    assert_eq!(files(), Vec::<String>::new(), "files left behind");
}
