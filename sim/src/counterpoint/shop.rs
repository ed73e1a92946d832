//! The shop behind the simulated Counterpoint: the schema (Counterpoint table and column names and types),
//! seeding a believable catalogue, and the shop's own actions (orders, shipping, posting, sales, restock).

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use rust_decimal::Decimal;

use super::engine::LOCK_TIMEOUT;
use super::functions;
use super::types::{MAX_LEN, SqlType, format_datetime};

/// Where web orders are picked from and in-store sales ring up.
pub const WEB_LOC: &str = "WEB";
pub const STORE_LOC: &str = "MAIN";
const STORE_ID: &str = "1";

/// First DOC_ID handed out; Counterpoint document ids are large, not IDENTITY values.
const FIRST_DOC_ID: i64 = 102_455_000_000_001;

/// SQLite DDL with SQL Server type names, so declared types reach COLMETADATA. Text columns carry SQL
/// Server's default collation (`functions::COLLATION`: case-insensitive, trailing spaces ignored).
const SCHEMA: &str = "
CREATE TABLE PS_DOC_HDR (
  DOC_ID BIGINT NOT NULL PRIMARY KEY, DOC_GUID UNIQUEIDENTIFIER NULL,
  DOC_TYP VARCHAR(1) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS, TKT_NO VARCHAR(15) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  STR_ID VARCHAR(10) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS, STA_ID VARCHAR(10) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  CUST_NO VARCHAR(15) NULL COLLATE SQL_Latin1_General_CP1_CI_AS, TKT_DT DATETIME NOT NULL, SHIP_DAT DATETIME NULL,
  SHIP_VIA_COD VARCHAR(10) NULL COLLATE SQL_Latin1_General_CP1_CI_AS, CUST_PO_NO VARCHAR(20) NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  LST_MAINT_DT DATETIME NULL, LST_MAINT_USR_ID VARCHAR(10) NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  ORD_LINS INT NOT NULL DEFAULT 0, SAL_LINS INT NOT NULL DEFAULT 0,
  HAS_PCKD_LINS VARCHAR(1) NOT NULL DEFAULT 'N', HAS_INVCD_LINS VARCHAR(1) NOT NULL DEFAULT 'N',
  HAS_RLSD_LINS VARCHAR(1) NOT NULL DEFAULT 'N');
CREATE TABLE PS_DOC_LIN (
  DOC_ID BIGINT NOT NULL, LIN_SEQ_NO INT NOT NULL, ITEM_NO VARCHAR(20) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  DESCR VARCHAR(250) NULL COLLATE SQL_Latin1_General_CP1_CI_AS, LIN_TYP VARCHAR(1) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  QTY_SOLD DECIMAL(15,4) NOT NULL DEFAULT 0, QTY_SHIPPED DECIMAL(15,4) NOT NULL DEFAULT 0,
  QTY_INVCD DECIMAL(15,4) NOT NULL DEFAULT 0, QTY_TO_REL DECIMAL(15,4) NOT NULL DEFAULT 0,
  PRC MONEY NOT NULL DEFAULT 0, EXT_PRC DECIMAL(15,2) NOT NULL DEFAULT 0,
  STK_LOC_ID VARCHAR(10) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS, PRIMARY KEY (DOC_ID, LIN_SEQ_NO));
CREATE TABLE PS_DOC_HDR_TOT (
  DOC_ID BIGINT NOT NULL, TOT_TYP VARCHAR(1) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS, SUB_TOT DECIMAL(15,2) NOT NULL DEFAULT 0,
  TAX_AMT DECIMAL(15,2) NOT NULL DEFAULT 0, TOT DECIMAL(15,2) NOT NULL DEFAULT 0,
  AMT_DUE DECIMAL(15,2) NOT NULL DEFAULT 0, PRIMARY KEY (DOC_ID, TOT_TYP));
CREATE TABLE PS_TKT_HIST (
  DOC_ID BIGINT NOT NULL PRIMARY KEY, TKT_NO VARCHAR(15) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  DOC_TYP VARCHAR(1) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS, BUS_DAT DATETIME NOT NULL, TKT_DT DATETIME NOT NULL,
  STR_ID VARCHAR(10) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS, STA_ID VARCHAR(10) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  CUST_NO VARCHAR(15) NULL COLLATE SQL_Latin1_General_CP1_CI_AS, SHIP_DAT DATETIME NULL, SHIP_VIA_COD VARCHAR(10) NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  CUST_PO_NO VARCHAR(20) NULL COLLATE SQL_Latin1_General_CP1_CI_AS, SUB_TOT DECIMAL(15,2) NOT NULL DEFAULT 0,
  TAX_AMT DECIMAL(15,2) NOT NULL DEFAULT 0, TOT DECIMAL(15,2) NOT NULL DEFAULT 0, LST_MAINT_DT DATETIME NULL);
CREATE TABLE PS_TKT_HIST_LIN (
  DOC_ID BIGINT NOT NULL, LIN_SEQ_NO INT NOT NULL, ITEM_NO VARCHAR(20) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  DESCR VARCHAR(250) NULL COLLATE SQL_Latin1_General_CP1_CI_AS, LIN_TYP VARCHAR(1) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  QTY_SOLD DECIMAL(15,4) NOT NULL DEFAULT 0, QTY_SHIPPED DECIMAL(15,4) NOT NULL DEFAULT 0,
  PRC MONEY NOT NULL DEFAULT 0, EXT_PRC DECIMAL(15,2) NOT NULL DEFAULT 0,
  STK_LOC_ID VARCHAR(10) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS, PRIMARY KEY (DOC_ID, LIN_SEQ_NO));
CREATE TABLE IM_ITEM (
  ITEM_NO VARCHAR(20) NOT NULL PRIMARY KEY COLLATE SQL_Latin1_General_CP1_CI_AS, DESCR VARCHAR(250) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  ITEM_TYP VARCHAR(1) NOT NULL DEFAULT 'I', CATEG_COD VARCHAR(10) NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  STAT VARCHAR(1) NOT NULL DEFAULT 'A', PRC_1 MONEY NOT NULL DEFAULT 0, REG_PRC MONEY NOT NULL DEFAULT 0,
  LST_COST MONEY NOT NULL DEFAULT 0, IS_ECOMM_ITEM VARCHAR(1) NOT NULL DEFAULT 'Y', LST_MAINT_DT DATETIME NULL);
CREATE TABLE IM_INV (
  ITEM_NO VARCHAR(20) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS, LOC_ID VARCHAR(10) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  QTY_ON_HND DECIMAL(15,4) NOT NULL DEFAULT 0, QTY_COMMIT DECIMAL(15,4) NOT NULL DEFAULT 0,
  QTY_ON_SO DECIMAL(15,4) NOT NULL DEFAULT 0, QTY_ON_ORD DECIMAL(15,4) NOT NULL DEFAULT 0,
  QTY_AVAIL DECIMAL(16,4) GENERATED ALWAYS AS (QTY_ON_HND - QTY_COMMIT) VIRTUAL,
  LST_MAINT_DT DATETIME NULL, PRIMARY KEY (ITEM_NO, LOC_ID));
CREATE TABLE IM_PRC (
  ITEM_NO VARCHAR(20) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS, LOC_ID VARCHAR(10) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  REG_PRC MONEY NOT NULL DEFAULT 0, PRC_1 MONEY NULL, PRC_2 MONEY NULL, PRC_3 MONEY NULL, PRC_4 MONEY NULL,
  PRC_5 MONEY NULL, PRC_6 MONEY NULL, LST_MAINT_DT DATETIME NULL, PRIMARY KEY (ITEM_NO, LOC_ID));
CREATE TABLE IM_BARCOD (
  ITEM_NO VARCHAR(20) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS, BARCOD VARCHAR(20) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  SEQ_NO INT NOT NULL, PRIMARY KEY (ITEM_NO, SEQ_NO));
CREATE UNIQUE INDEX IX_IM_BARCOD_BARCOD ON IM_BARCOD (BARCOD);
CREATE TABLE AR_CUST (
  CUST_NO VARCHAR(15) NOT NULL PRIMARY KEY COLLATE SQL_Latin1_General_CP1_CI_AS, NAM VARCHAR(40) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  ADRS_1 VARCHAR(40) NULL COLLATE SQL_Latin1_General_CP1_CI_AS, CITY VARCHAR(20) NULL COLLATE SQL_Latin1_General_CP1_CI_AS, STATE VARCHAR(10) NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  ZIP_COD VARCHAR(15) NULL COLLATE SQL_Latin1_General_CP1_CI_AS, PHONE_1 VARCHAR(25) NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  EMAIL_ADRS_1 VARCHAR(50) NULL COLLATE SQL_Latin1_General_CP1_CI_AS, LST_MAINT_DT DATETIME NULL);
CREATE TABLE USER_ORDER_STAGING (
  WEB_ORDER_ID VARCHAR(30) NOT NULL PRIMARY KEY COLLATE SQL_Latin1_General_CP1_CI_AS, CUST_NO VARCHAR(15) NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  SHIP_VIA_COD VARCHAR(10) NULL COLLATE SQL_Latin1_General_CP1_CI_AS, CUST_PO_NO VARCHAR(20) NULL COLLATE SQL_Latin1_General_CP1_CI_AS,
  STATUS VARCHAR(1) NOT NULL DEFAULT 'N' COLLATE SQL_Latin1_General_CP1_CI_AS, DOC_ID BIGINT NULL, ERROR_MSG VARCHAR(250) NULL,
  STAGED_DT DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')), PROCESSED_DT DATETIME NULL);
CREATE TABLE USER_ORDER_STAGING_LIN (
  WEB_ORDER_ID VARCHAR(30) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS, LIN_SEQ_NO INT NOT NULL,
  ITEM_NO VARCHAR(20) NOT NULL COLLATE SQL_Latin1_General_CP1_CI_AS, QTY DECIMAL(15,4) NOT NULL, PRC MONEY NULL,
  PRIMARY KEY (WEB_ORDER_ID, LIN_SEQ_NO));
";

#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error("shop database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("no open document {0}")]
    UnknownDocument(i64),
    #[error("no item {0}")]
    UnknownItem(String),
    #[error("document {doc_id} has no line {line}")]
    UnknownLine { doc_id: i64, line: i32 },
    #[error("the shop database lock was poisoned by a panic")]
    Poisoned,
}

pub type ShopResult<T> = Result<T, ShopError>;

/// What happened to one staged web order when the shop processed the staging table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedOrder {
    pub web_order_id: String,
    pub doc_id: Option<i64>,
    pub error: Option<String>,
}

/// One item as the shop's item lookup shows it: description, selling price and what is available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopItem {
    pub item_no: String,
    pub descr: String,
    /// IM_PRC.PRC_1 ('*' row), else IM_ITEM.PRC_1.
    pub price: Decimal,
    /// QTY_ON_HND − QTY_COMMIT summed over MAIN and WEB.
    pub available: Decimal,
}

/// A USER_ORDER_STAGING header waiting to become a document.
struct StagedOrder {
    web_order_id: String,
    cust_no: Option<String>,
    ship_via: Option<String>,
    cust_po: Option<String>,
}

/// The shop's own connection to the database; the TDS sessions see its changes like any other writer's.
pub struct Shop {
    db: Mutex<Connection>,
}

fn now_text() -> String {
    format_datetime(&chrono::Utc::now().naive_utc())
}

fn dec(d: Decimal) -> String {
    d.normalize().to_string()
}

const ADJECTIVES: [&str; 12] = [
    "Classic", "Organic", "Deluxe", "Rustic", "Vintage", "Alpine", "Coastal", "Heritage", "Smoked",
    "Wild", "Golden", "Nordic",
];
const NOUNS: [&str; 12] = [
    "Coffee Beans",
    "Olive Oil",
    "Wool Socks",
    "Candle",
    "Honey Jar",
    "Tea Tin",
    "Chocolate Bar",
    "Soap Bar",
    "Linen Towel",
    "Ceramic Mug",
    "Spice Mix",
    "Notebook",
];
const SIZES: [&str; 5] = ["250g", "500g", "1kg", "Small", "Large"];
const CATEGORIES: [&str; 6] = ["FOOD", "HOME", "APPAREL", "GIFTS", "BATH", "STATIONERY"];
const FIRST_NAMES: [&str; 10] = [
    "Ana", "Marko", "Lucia", "Tomas", "Eva", "Ivan", "Sara", "Luka", "Nina", "Petra",
];
const LAST_NAMES: [&str; 10] = [
    "Novak", "Horvat", "Kovac", "Babic", "Marin", "Vidal", "Berg", "Lund", "Costa", "Weber",
];
const CITIES: [&str; 6] = [
    "Springfield",
    "Riverton",
    "Lakeside",
    "Fairview",
    "Georgetown",
    "Salem",
];

fn ean13(body: u64) -> String {
    let digits = format!("{:012}", body % 1_000_000_000_000);
    let sum: u32 = digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d } else { d * 3 })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

impl Shop {
    /// Creates the schema in a fresh database file and seeds `items` items and a few customers.
    pub fn create(path: &Path, items: usize, seed: u64) -> ShopResult<Shop> {
        let db = functions::open(path)?;
        db.busy_timeout(LOCK_TIMEOUT)?;
        // WAL lets client sessions read while another writes, as SQL Server's readers do under NOLOCK.
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "OFF")?;
        db.execute_batch(SCHEMA)?;
        create_length_checks(&db)?;
        let shop = Shop { db: Mutex::new(db) };
        shop.seed(items, seed)?;
        Ok(shop)
    }

    fn lock(&self) -> ShopResult<MutexGuard<'_, Connection>> {
        self.db.lock().map_err(|_| ShopError::Poisoned)
    }

    fn seed(&self, items: usize, seed: u64) -> ShopResult<()> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut db = self.lock()?;
        let tx = db.transaction()?;
        let now = chrono::Utc::now().naive_utc();
        let past = |rng: &mut fastrand::Rng| {
            format_datetime(&(now - chrono::Duration::minutes(rng.i64(60..60 * 24 * 90))))
        };
        for i in 0..items {
            let item_no = format!("SKU-{:05}", 10_000 + i);
            let descr = format!(
                "{} {} {}",
                ADJECTIVES[rng.usize(..ADJECTIVES.len())],
                NOUNS[rng.usize(..NOUNS.len())],
                SIZES[rng.usize(..SIZES.len())]
            );
            let price = Decimal::new(rng.i64(199..19_999), 2);
            let cost = (price * Decimal::new(rng.i64(35..65), 2)).round_dp(2);
            let maint = past(&mut rng);
            tx.execute(
                "INSERT INTO IM_ITEM (ITEM_NO, DESCR, CATEG_COD, PRC_1, REG_PRC, LST_COST, IS_ECOMM_ITEM, LST_MAINT_DT)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)",
                params![item_no, descr, CATEGORIES[rng.usize(..CATEGORIES.len())], dec(price), dec(cost),
                    if rng.u8(..10) < 8 { "Y" } else { "N" }, maint],
            )?;
            tx.execute(
                "INSERT INTO IM_PRC (ITEM_NO, LOC_ID, REG_PRC, PRC_1, LST_MAINT_DT) VALUES (?1, '*', ?2, ?2, ?3)",
                params![item_no, dec(price), maint],
            )?;
            for (loc, max) in [(STORE_LOC, 120), (WEB_LOC, 60)] {
                tx.execute(
                    "INSERT INTO IM_INV (ITEM_NO, LOC_ID, QTY_ON_HND, QTY_ON_ORD, LST_MAINT_DT) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![item_no, loc, rng.i64(0..max), rng.i64(0..3) * 12, past(&mut rng)],
                )?;
            }
            for seq in 1..=rng.i32(1..3) {
                let body = 400_000_000_000 + (i as u64) * 10 + seq as u64;
                tx.execute(
                    "INSERT INTO IM_BARCOD (ITEM_NO, BARCOD, SEQ_NO) VALUES (?1, ?2, ?3)",
                    params![item_no, ean13(body), seq],
                )?;
            }
        }
        for i in 0..25 {
            let first = FIRST_NAMES[rng.usize(..FIRST_NAMES.len())];
            let last = LAST_NAMES[rng.usize(..LAST_NAMES.len())];
            tx.execute(
                "INSERT INTO AR_CUST (CUST_NO, NAM, ADRS_1, CITY, STATE, ZIP_COD, PHONE_1, EMAIL_ADRS_1, LST_MAINT_DT)
                 VALUES (?1, ?2, ?3, ?4, 'CA', ?5, ?6, ?7, ?8)",
                params![
                    format!("C{:05}", 1000 + i),
                    format!("{first} {last}"),
                    format!("{} Main St", rng.u32(1..999)),
                    CITIES[rng.usize(..CITIES.len())],
                    format!("9{:04}", rng.u32(0..10_000)),
                    format!("555-{:04}", rng.u32(0..10_000)),
                    format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase()),
                    past(&mut rng),
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn item_numbers(&self) -> ShopResult<Vec<String>> {
        let db = self.lock()?;
        let mut stmt = db.prepare("SELECT ITEM_NO FROM IM_ITEM ORDER BY ITEM_NO")?;
        let items = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(items)
    }

    /// Every item with its price and availability, by ITEM_NO.
    pub fn items(&self) -> ShopResult<Vec<ShopItem>> {
        let db = self.lock()?;
        let mut stmt = db.prepare(
            "SELECT i.ITEM_NO, i.DESCR, COALESCE(p.PRC_1, i.PRC_1),
               COALESCE((SELECT SUM(v.QTY_ON_HND - v.QTY_COMMIT) FROM IM_INV v WHERE v.ITEM_NO = i.ITEM_NO
                 AND v.LOC_ID IN (?1, ?2)), 0)
             FROM IM_ITEM i LEFT JOIN IM_PRC p ON p.ITEM_NO = i.ITEM_NO AND p.LOC_ID = '*' ORDER BY i.ITEM_NO",
        )?;
        let items = stmt
            .query_map(params![STORE_LOC, WEB_LOC], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, f64>(2)?,
                    r.get::<_, f64>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(items
            .into_iter()
            .map(|(item_no, descr, price, available)| ShopItem {
                item_no,
                descr,
                price: Decimal::from_f64_retain(price)
                    .unwrap_or_default()
                    .round_dp(2),
                available: Decimal::from_f64_retain(available)
                    .unwrap_or_default()
                    .round_dp(4),
            })
            .collect())
    }

    /// Stages a web order the way the connector does (useful for tests and traffic); false if already staged.
    pub fn stage_order(
        &self,
        web_order_id: &str,
        cust_no: Option<&str>,
        lines: &[(&str, Decimal)],
    ) -> ShopResult<bool> {
        let mut db = self.lock()?;
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO USER_ORDER_STAGING (WEB_ORDER_ID, CUST_NO) VALUES (?1, ?2)",
            params![web_order_id, cust_no],
        )?;
        if inserted == 1 {
            for (seq, (item, qty)) in lines.iter().enumerate() {
                tx.execute(
                    "INSERT INTO USER_ORDER_STAGING_LIN (WEB_ORDER_ID, LIN_SEQ_NO, ITEM_NO, QTY) VALUES (?1, ?2, ?3, ?4)",
                    params![web_order_id, seq as i64 + 1, item, dec(*qty)],
                )?;
            }
        }
        tx.commit()?;
        Ok(inserted == 1)
    }

    /// Counterpoint's side of staging: each new staged order becomes an order document (DOC_TYP 'O') with
    /// its inventory committed at the WEB location; unknown items mark the staging row 'E'.
    pub fn process_staged_orders(&self) -> ShopResult<Vec<ProcessedOrder>> {
        let mut db = self.lock()?;
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let staged: Vec<StagedOrder> = tx
            .prepare("SELECT WEB_ORDER_ID, CUST_NO, SHIP_VIA_COD, CUST_PO_NO FROM USER_ORDER_STAGING WHERE STATUS = 'N' ORDER BY STAGED_DT")?
            .query_map([], |r| {
                Ok(StagedOrder { web_order_id: r.get(0)?, cust_no: r.get(1)?, ship_via: r.get(2)?, cust_po: r.get(3)? })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut outcomes = Vec::new();
        for StagedOrder {
            web_order_id,
            cust_no,
            ship_via,
            cust_po,
        } in staged
        {
            let lines: Vec<(String, f64, Option<f64>)> = tx
                .prepare("SELECT ITEM_NO, QTY, PRC FROM USER_ORDER_STAGING_LIN WHERE WEB_ORDER_ID = ?1 ORDER BY LIN_SEQ_NO")?
                .query_map([&web_order_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let lines: Vec<(String, Decimal, Option<Decimal>)> = lines
                .into_iter()
                .map(|(item, qty, prc)| {
                    (
                        item,
                        Decimal::from_f64_retain(qty)
                            .unwrap_or_default()
                            .round_dp(4),
                        prc.and_then(Decimal::from_f64_retain),
                    )
                })
                .collect();
            let outcome = match insert_order(
                &tx,
                cust_no.as_deref(),
                ship_via.as_deref(),
                cust_po.as_deref(),
                &lines,
            )? {
                Ok(doc_id) => {
                    tx.execute(
                        "UPDATE USER_ORDER_STAGING SET STATUS = 'P', DOC_ID = ?2, PROCESSED_DT = ?3 WHERE WEB_ORDER_ID = ?1",
                        params![web_order_id, doc_id, now_text()],
                    )?;
                    ProcessedOrder {
                        web_order_id,
                        doc_id: Some(doc_id),
                        error: None,
                    }
                }
                Err(message) => {
                    tx.execute(
                        "UPDATE USER_ORDER_STAGING SET STATUS = 'E', ERROR_MSG = ?2, PROCESSED_DT = ?3 WHERE WEB_ORDER_ID = ?1",
                        params![web_order_id, message, now_text()],
                    )?;
                    ProcessedOrder {
                        web_order_id,
                        doc_id: None,
                        error: Some(message),
                    }
                }
            };
            outcomes.push(outcome);
        }
        tx.commit()?;
        Ok(outcomes)
    }

    /// An order typed in at the counter: same as a processed staged order, without the staging row.
    pub fn create_order(
        &self,
        cust_no: Option<&str>,
        lines: &[(&str, Decimal)],
    ) -> ShopResult<i64> {
        let mut db = self.lock()?;
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let lines: Vec<(String, Decimal, Option<Decimal>)> = lines
            .iter()
            .map(|(item, qty)| ((*item).to_string(), *qty, None))
            .collect();
        let doc_id =
            insert_order(&tx, cust_no, None, None, &lines)?.map_err(ShopError::UnknownItem)?;
        tx.commit()?;
        Ok(doc_id)
    }

    /// Ships everything not yet shipped on the document.
    pub fn ship_document(&self, doc_id: i64) -> ShopResult<()> {
        self.ship(doc_id, None)
    }

    /// Ships part of a document: `(LIN_SEQ_NO, quantity)` pairs added to QTY_SHIPPED.
    pub fn ship_document_lines(&self, doc_id: i64, lines: &[(i32, Decimal)]) -> ShopResult<()> {
        self.ship(doc_id, Some(lines))
    }

    fn ship(&self, doc_id: i64, lines: Option<&[(i32, Decimal)]>) -> ShopResult<()> {
        let mut db = self.lock()?;
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_document(&tx, doc_id)?;
        match lines {
            None => {
                tx.execute(
                    "UPDATE PS_DOC_LIN SET QTY_SHIPPED = QTY_SOLD WHERE DOC_ID = ?1",
                    [doc_id],
                )?;
            }
            Some(lines) => {
                for (line, qty) in lines {
                    let changed = tx.execute(
                        "UPDATE PS_DOC_LIN SET QTY_SHIPPED = MIN(QTY_SOLD, QTY_SHIPPED + ?3) WHERE DOC_ID = ?1 AND LIN_SEQ_NO = ?2",
                        params![doc_id, line, dec(*qty)],
                    )?;
                    if changed == 0 {
                        return Err(ShopError::UnknownLine {
                            doc_id,
                            line: *line,
                        });
                    }
                }
            }
        }
        let now = now_text();
        tx.execute(
            "UPDATE PS_DOC_HDR SET SHIP_DAT = COALESCE(SHIP_DAT, ?2), HAS_PCKD_LINS = 'Y', LST_MAINT_DT = ?2,
             LST_MAINT_USR_ID = 'SHIPPING' WHERE DOC_ID = ?1",
            params![doc_id, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Posting (invoicing): the document leaves PS_DOC_* for PS_TKT_HIST*, stock leaves the shelf
    /// (shipped quantity, or the sold quantity if nothing was marked shipped) and the commitment is released.
    pub fn post_document(&self, doc_id: i64) -> ShopResult<()> {
        let mut db = self.lock()?;
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_document(&tx, doc_id)?;
        let now = now_text();
        tx.execute(
            "UPDATE IM_INV SET
               QTY_ON_HND = QTY_ON_HND - (SELECT SUM(CASE WHEN l.QTY_SHIPPED > 0 THEN l.QTY_SHIPPED ELSE l.QTY_SOLD END)
                 FROM PS_DOC_LIN l WHERE l.DOC_ID = ?1 AND l.ITEM_NO = IM_INV.ITEM_NO AND l.STK_LOC_ID = IM_INV.LOC_ID),
               QTY_COMMIT = MAX(0, QTY_COMMIT - (SELECT SUM(l.QTY_SOLD) FROM PS_DOC_LIN l
                 WHERE l.DOC_ID = ?1 AND l.ITEM_NO = IM_INV.ITEM_NO AND l.STK_LOC_ID = IM_INV.LOC_ID)),
               LST_MAINT_DT = ?2
             WHERE EXISTS (SELECT 1 FROM PS_DOC_LIN l WHERE l.DOC_ID = ?1 AND l.ITEM_NO = IM_INV.ITEM_NO AND l.STK_LOC_ID = IM_INV.LOC_ID)",
            params![doc_id, now],
        )?;
        tx.execute(
            "INSERT INTO PS_TKT_HIST (DOC_ID, TKT_NO, DOC_TYP, BUS_DAT, TKT_DT, STR_ID, STA_ID, CUST_NO, SHIP_DAT, SHIP_VIA_COD,
               CUST_PO_NO, SUB_TOT, TAX_AMT, TOT, LST_MAINT_DT)
             SELECT h.DOC_ID, h.TKT_NO, h.DOC_TYP, ?2, h.TKT_DT, h.STR_ID, h.STA_ID, h.CUST_NO, h.SHIP_DAT, h.SHIP_VIA_COD,
               h.CUST_PO_NO, COALESCE(t.SUB_TOT, 0), COALESCE(t.TAX_AMT, 0), COALESCE(t.TOT, 0), ?2
             FROM PS_DOC_HDR h LEFT JOIN PS_DOC_HDR_TOT t ON t.DOC_ID = h.DOC_ID AND t.TOT_TYP = 'O' WHERE h.DOC_ID = ?1",
            params![doc_id, now],
        )?;
        tx.execute(
            "INSERT INTO PS_TKT_HIST_LIN (DOC_ID, LIN_SEQ_NO, ITEM_NO, DESCR, LIN_TYP, QTY_SOLD, QTY_SHIPPED, PRC, EXT_PRC, STK_LOC_ID)
             SELECT DOC_ID, LIN_SEQ_NO, ITEM_NO, DESCR, 'S', QTY_SOLD, QTY_SHIPPED, PRC, EXT_PRC, STK_LOC_ID
             FROM PS_DOC_LIN WHERE DOC_ID = ?1",
            [doc_id],
        )?;
        delete_document(&tx, doc_id)?;
        tx.commit()?;
        Ok(())
    }

    /// Cancels an open document: the commitment of its unshipped quantity is released and it is deleted.
    pub fn cancel_document(&self, doc_id: i64) -> ShopResult<()> {
        let mut db = self.lock()?;
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_document(&tx, doc_id)?;
        tx.execute(
            "UPDATE IM_INV SET
               QTY_COMMIT = MAX(0, QTY_COMMIT - (SELECT SUM(l.QTY_SOLD) FROM PS_DOC_LIN l
                 WHERE l.DOC_ID = ?1 AND l.ITEM_NO = IM_INV.ITEM_NO AND l.STK_LOC_ID = IM_INV.LOC_ID)),
               LST_MAINT_DT = ?2
             WHERE EXISTS (SELECT 1 FROM PS_DOC_LIN l WHERE l.DOC_ID = ?1 AND l.ITEM_NO = IM_INV.ITEM_NO AND l.STK_LOC_ID = IM_INV.LOC_ID)",
            params![doc_id, now_text()],
        )?;
        delete_document(&tx, doc_id)?;
        tx.commit()?;
        Ok(())
    }

    /// An in-store sale at MAIN, rung up and posted at once: a ticket in history, QTY_ON_HND down.
    pub fn ring_sale(&self, item_no: &str, qty: Decimal) -> ShopResult<i64> {
        let mut db = self.lock()?;
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (descr, price) =
            item_price(&tx, item_no)?.ok_or_else(|| ShopError::UnknownItem(item_no.to_string()))?;
        let doc_id = next_doc_id(&tx)?;
        let now = now_text();
        let ext = (price * qty).round_dp(2);
        tx.execute(
            "INSERT INTO PS_TKT_HIST (DOC_ID, TKT_NO, DOC_TYP, BUS_DAT, TKT_DT, STR_ID, STA_ID, SUB_TOT, TOT, LST_MAINT_DT)
             VALUES (?1, ?2, 'T', ?3, ?3, ?4, 'POS1', ?5, ?5, ?3)",
            params![doc_id, format!("T{STORE_ID}01-{:06}", doc_id % 1_000_000), now, STORE_ID, dec(ext)],
        )?;
        tx.execute(
            "INSERT INTO PS_TKT_HIST_LIN (DOC_ID, LIN_SEQ_NO, ITEM_NO, DESCR, LIN_TYP, QTY_SOLD, QTY_SHIPPED, PRC, EXT_PRC, STK_LOC_ID)
             VALUES (?1, 1, ?2, ?3, 'S', ?4, ?4, ?5, ?6, ?7)",
            params![doc_id, item_no, descr, dec(qty), dec(price), dec(ext), STORE_LOC],
        )?;
        adjust_on_hand(&tx, item_no, STORE_LOC, -qty, &now)?;
        tx.commit()?;
        Ok(doc_id)
    }

    /// Receiving goods: QTY_ON_HND up at a location.
    pub fn restock(&self, item_no: &str, loc_id: &str, qty: Decimal) -> ShopResult<()> {
        let db = self.lock()?;
        adjust_on_hand(&db, item_no, loc_id, qty, &now_text())
    }

    /// A price change in IM_PRC; per the reference it does not bump IM_ITEM.LST_MAINT_DT.
    pub fn set_price(&self, item_no: &str, price: Decimal) -> ShopResult<()> {
        let db = self.lock()?;
        let changed = db.execute(
            "UPDATE IM_PRC SET PRC_1 = ?2, LST_MAINT_DT = ?3 WHERE ITEM_NO = ?1",
            params![item_no, dec(price), now_text()],
        )?;
        if changed == 0 {
            return Err(ShopError::UnknownItem(item_no.to_string()));
        }
        Ok(())
    }

    /// An edit of the item record itself, which does bump IM_ITEM.LST_MAINT_DT.
    pub fn edit_item_description(&self, item_no: &str, descr: &str) -> ShopResult<()> {
        let db = self.lock()?;
        let changed = db.execute(
            "UPDATE IM_ITEM SET DESCR = ?2, LST_MAINT_DT = ?3 WHERE ITEM_NO = ?1",
            params![item_no, descr, now_text()],
        )?;
        if changed == 0 {
            return Err(ShopError::UnknownItem(item_no.to_string()));
        }
        Ok(())
    }

    /// Seeds order documents the way a shop's day leaves them: about half still open (some of those partly
    /// shipped), a fifth shipped in full and a quarter posted to history. Reproducible for a seed.
    pub fn seed_documents(&self, documents: usize, seed: u64) -> ShopResult<SeededDocuments> {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x5EED_D0C5);
        let items = self.item_numbers()?;
        let customers: Vec<String> = {
            let db = self.lock()?;
            let mut stmt = db.prepare("SELECT CUST_NO FROM AR_CUST ORDER BY CUST_NO")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        if items.is_empty() {
            return self.document_counts();
        }
        for _ in 0..documents {
            let lines: Vec<(&str, Decimal)> = (0..rng.usize(1..=4))
                .map(|_| {
                    (
                        items[rng.usize(..items.len())].as_str(),
                        Decimal::from(rng.i64(1..=3)),
                    )
                })
                .collect();
            let customer = (!customers.is_empty() && rng.u8(..10) < 8)
                .then(|| customers[rng.usize(..customers.len())].as_str());
            let doc_id = self.create_order(customer, &lines)?;
            match rng.u8(..100) {
                0..25 => {
                    self.ship_document(doc_id)?;
                    self.post_document(doc_id)?;
                }
                25..45 => self.ship_document(doc_id)?,
                45..60 => self.ship_document_lines(doc_id, &[(1, Decimal::ONE)])?,
                _ => {}
            }
        }
        self.document_counts()
    }

    /// How many documents are open (and of those, shipped at least in part) and posted to history.
    pub fn document_counts(&self) -> ShopResult<SeededDocuments> {
        let db = self.lock()?;
        let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0));
        Ok(SeededDocuments {
            open: count("SELECT COUNT(*) FROM PS_DOC_HDR")? as usize,
            shipped: count("SELECT COUNT(*) FROM PS_DOC_HDR WHERE SHIP_DAT IS NOT NULL")? as usize,
            posted: count("SELECT COUNT(*) FROM PS_TKT_HIST")? as usize,
        })
    }

    /// Open documents (PS_DOC_HDR) by DOC_ID.
    pub fn open_documents(&self) -> ShopResult<Vec<i64>> {
        let db = self.lock()?;
        let mut stmt = db.prepare("SELECT DOC_ID FROM PS_DOC_HDR ORDER BY DOC_ID")?;
        let docs = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(docs)
    }
}

/// Documents in the shop: open ones (PS_DOC_HDR), those of them shipped at least in part, and posted ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeededDocuments {
    pub open: usize,
    pub shipped: usize,
    pub posted: usize,
}

/// A BEFORE INSERT and a BEFORE UPDATE trigger per table checking every varchar/nvarchar column's length,
/// so an over-long value is Msg 2628 instead of being stored longer than its column.
fn create_length_checks(db: &Connection) -> rusqlite::Result<()> {
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for table in tables {
        let mut checks = Vec::new();
        let mut info = db.prepare("SELECT name, type, hidden FROM pragma_table_xinfo(?1)")?;
        let columns: Vec<(String, String, i64)> = info
            .query_map([&table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (name, decl, hidden) in columns {
            let chars = match SqlType::parse(&decl) {
                _ if hidden != 0 => continue,
                Some(SqlType::VarChar { max_len }) if max_len != MAX_LEN => max_len,
                Some(SqlType::NVarChar { max_len }) if max_len != MAX_LEN => max_len / 2,
                _ => continue,
            };
            checks.push(format!("'{name}', NEW.\"{name}\", {chars}"));
        }
        if checks.is_empty() {
            continue;
        }
        let call = format!("SELECT cp_check_length('{table}', {});", checks.join(", "));
        for event in ["INSERT", "UPDATE"] {
            db.execute_batch(&format!(
                "CREATE TRIGGER \"{table}_LENGTH_{event}\" BEFORE {event} ON \"{table}\" BEGIN {call} END;"
            ))?;
        }
    }
    Ok(())
}

fn require_document(tx: &Connection, doc_id: i64) -> ShopResult<()> {
    let found: Option<i64> = tx
        .query_row(
            "SELECT DOC_ID FROM PS_DOC_HDR WHERE DOC_ID = ?1",
            [doc_id],
            |r| r.get(0),
        )
        .optional()?;
    found.map(|_| ()).ok_or(ShopError::UnknownDocument(doc_id))
}

fn delete_document(tx: &Connection, doc_id: i64) -> ShopResult<()> {
    for table in ["PS_DOC_LIN", "PS_DOC_HDR_TOT", "PS_DOC_HDR"] {
        tx.execute(&format!("DELETE FROM {table} WHERE DOC_ID = ?1"), [doc_id])?;
    }
    Ok(())
}

fn next_doc_id(tx: &Connection) -> ShopResult<i64> {
    let max: Option<i64> = tx.query_row(
        "SELECT MAX(DOC_ID) FROM (SELECT DOC_ID FROM PS_DOC_HDR UNION ALL SELECT DOC_ID FROM PS_TKT_HIST)",
        [],
        |r| r.get(0),
    )?;
    Ok(max.map_or(FIRST_DOC_ID, |m| m + 1))
}

fn item_price(tx: &Connection, item_no: &str) -> ShopResult<Option<(String, Decimal)>> {
    let row: Option<(String, f64)> = tx
        .query_row(
            "SELECT i.DESCR, COALESCE(p.PRC_1, i.PRC_1) FROM IM_ITEM i LEFT JOIN IM_PRC p ON p.ITEM_NO = i.ITEM_NO
             WHERE i.ITEM_NO = ?1",
            [item_no],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row.map(|(d, p)| {
        (
            d,
            Decimal::from_f64_retain(p).unwrap_or_default().round_dp(2),
        )
    }))
}

fn adjust_on_hand(
    tx: &Connection,
    item_no: &str,
    loc_id: &str,
    delta: Decimal,
    now: &str,
) -> ShopResult<()> {
    let changed = tx.execute(
        "UPDATE IM_INV SET QTY_ON_HND = QTY_ON_HND + ?3, LST_MAINT_DT = ?4 WHERE ITEM_NO = ?1 AND LOC_ID = ?2",
        params![item_no, loc_id, dec(delta), now],
    )?;
    if changed == 0 {
        return Err(ShopError::UnknownItem(item_no.to_string()));
    }
    Ok(())
}

/// Writes an order document; the inner `Err` names an unknown item (nothing is written then).
fn insert_order(
    tx: &Connection,
    cust_no: Option<&str>,
    ship_via: Option<&str>,
    cust_po: Option<&str>,
    lines: &[(String, Decimal, Option<Decimal>)],
) -> ShopResult<Result<i64, String>> {
    let mut priced = Vec::new();
    for (item, qty, price) in lines {
        match item_price(tx, item)? {
            Some((descr, list_price)) => {
                priced.push((item, descr, *qty, price.unwrap_or(list_price)))
            }
            None => return Ok(Err(format!("Item {item} does not exist"))),
        }
    }
    let doc_id = next_doc_id(tx)?;
    let now = now_text();
    tx.execute(
        "INSERT INTO PS_DOC_HDR (DOC_ID, DOC_GUID, DOC_TYP, TKT_NO, STR_ID, STA_ID, CUST_NO, TKT_DT, SHIP_VIA_COD, CUST_PO_NO,
           LST_MAINT_DT, LST_MAINT_USR_ID, ORD_LINS) VALUES (?1, ?2, 'O', ?3, ?4, 'WEB', ?5, ?6, ?7, ?8, ?6, 'WEBSYNC', ?9)",
        params![
            doc_id,
            format!("{:08X}-0000-4000-8000-{:012X}", doc_id as u64 >> 32, doc_id as u64 & 0xFFFF_FFFF_FFFF),
            format!("O{STORE_ID}01-{:06}", doc_id % 1_000_000),
            STORE_ID,
            cust_no,
            now,
            ship_via,
            cust_po,
            priced.len() as i64
        ],
    )?;
    let mut sub_total = Decimal::ZERO;
    for (seq, (item, descr, qty, price)) in priced.iter().enumerate() {
        let ext = (*price * *qty).round_dp(2);
        sub_total += ext;
        tx.execute(
            "INSERT INTO PS_DOC_LIN (DOC_ID, LIN_SEQ_NO, ITEM_NO, DESCR, LIN_TYP, QTY_SOLD, QTY_TO_REL, PRC, EXT_PRC, STK_LOC_ID)
             VALUES (?1, ?2, ?3, ?4, 'O', ?5, ?5, ?6, ?7, ?8)",
            params![doc_id, seq as i64 + 1, item, descr, dec(*qty), dec(*price), dec(ext), WEB_LOC],
        )?;
        tx.execute(
            "UPDATE IM_INV SET QTY_COMMIT = QTY_COMMIT + ?3, LST_MAINT_DT = ?4 WHERE ITEM_NO = ?1 AND LOC_ID = ?2",
            params![item, WEB_LOC, dec(*qty), now],
        )?;
    }
    tx.execute(
        "INSERT INTO PS_DOC_HDR_TOT (DOC_ID, TOT_TYP, SUB_TOT, TAX_AMT, TOT, AMT_DUE) VALUES (?1, 'O', ?2, 0, ?2, ?2)",
        params![doc_id, dec(sub_total)],
    )?;
    Ok(Ok(doc_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ean13_check_digit() {
        assert_eq!(ean13(400_638_133_393), "4006381333931");
    }
}
