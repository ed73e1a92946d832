//! Writing web orders into USER_ORDER_STAGING (header and lines in one transaction, checked under an
//! update lock so a retry or a second stager never writes twice) and reading back what Counterpoint made
//! of them.

use tiberius::Query;

use super::connection::{CounterpointClient, Result, Tds, with_connection};
use super::error::CounterpointError;
use super::rows;
use super::sql::{KEYS_PER_QUERY, LINES_PER_INSERT, Statements};
use super::types::{StageOutcome, StagedOrder, StagingStatus};

/// SQL Server's duplicate-key errors: another writer staged the same order between our check and insert.
const DUPLICATE_KEY: [u32; 2] = [2627, 2601];

impl CounterpointClient {
    /// Stages `order` unless its web order id is already staged. Safe to call again after any failure.
    pub async fn stage_order(&self, order: &StagedOrder) -> Result<StageOutcome> {
        if order.web_order_id.trim().is_empty() {
            return Err(CounterpointError::Config(
                "a staged order needs a web order id".into(),
            ));
        }
        let first = with_connection!(self, "stage_order", |conn| stage_in_transaction(
            conn, &self.sql, order
        ));
        match first {
            // Only possible where the lock hints are not honoured; the other writer won, so read its row.
            Err(CounterpointError::Sql { number, .. }) if DUPLICATE_KEY.contains(&number) => {
                with_connection!(self, "stage_order", |conn| stage_in_transaction(
                    conn, &self.sql, order
                ))
            }
            other => other,
        }
    }

    /// The staging rows of these web orders; ids that were never staged are simply absent.
    pub async fn staging_status(&self, web_order_ids: &[String]) -> Result<Vec<StagingStatus>> {
        let mut out = Vec::new();
        for chunk in web_order_ids.chunks(KEYS_PER_QUERY) {
            let sql = self.sql.staging_status(chunk.len());
            let rows = with_connection!(self, "staging_status", |conn| async {
                let mut query = Query::new(sql.as_str());
                for id in chunk {
                    query.bind(id.as_str());
                }
                query
                    .query(conn)
                    .await
                    .map_err(CounterpointError::from_driver)?
                    .into_first_result()
                    .await
                    .map_err(CounterpointError::from_driver)
            })?;
            for row in &rows {
                out.push(StagingStatus {
                    web_order_id: rows::required_text(row, "WEB_ORDER_ID")?,
                    status: rows::text(row, "STATUS")?.unwrap_or_default(),
                    doc_id: rows::int(row, "DOC_ID")?,
                    error: rows::text(row, "ERROR_MSG")?,
                });
            }
        }
        Ok(out)
    }
}

async fn simple(conn: &mut Tds, sql: &str) -> Result<()> {
    conn.simple_query(sql)
        .await
        .map_err(CounterpointError::from_driver)?
        .into_results()
        .await
        .map_err(CounterpointError::from_driver)?;
    Ok(())
}

async fn stage_in_transaction(
    conn: &mut Tds,
    sql: &Statements,
    order: &StagedOrder,
) -> Result<StageOutcome> {
    simple(conn, &sql.begin).await?;
    let outcome = check_and_insert(conn, sql, order).await;
    match outcome {
        Ok(outcome) => {
            simple(conn, &sql.commit).await?;
            Ok(outcome)
        }
        Err(err) => {
            // A statement error leaves the session usable: undo our half-written order. After a transport
            // error the server rolls back by itself when the connection goes.
            if !err.breaks_connection() {
                let _ = simple(conn, &sql.rollback).await;
            }
            Err(err)
        }
    }
}

async fn check_and_insert(
    conn: &mut Tds,
    sql: &Statements,
    order: &StagedOrder,
) -> Result<StageOutcome> {
    let existing = Query::new(sql.staged_row_locked.as_str());
    let mut existing = existing;
    existing.bind(order.web_order_id.as_str());
    let row = existing
        .query(conn)
        .await
        .map_err(CounterpointError::from_driver)?
        .into_row()
        .await
        .map_err(CounterpointError::from_driver)?;
    if let Some(row) = row {
        return Ok(StageOutcome::AlreadyStaged {
            status: rows::text(&row, "STATUS")?.unwrap_or_default(),
            doc_id: rows::int(&row, "DOC_ID")?,
        });
    }
    let mut header = Query::new(sql.insert_staged.as_str());
    header.bind(order.web_order_id.as_str());
    header.bind(order.cust_no.as_deref());
    header.bind(order.ship_via.as_deref());
    header.bind(order.cust_po_no.as_deref());
    header
        .execute(conn)
        .await
        .map_err(CounterpointError::from_driver)?;
    for (chunk_no, chunk) in order.lines.chunks(LINES_PER_INSERT).enumerate() {
        let mut lines = Query::new(sql.insert_staged_lines(chunk.len()));
        lines.bind(order.web_order_id.as_str());
        for (i, line) in chunk.iter().enumerate() {
            let seq = chunk_no * LINES_PER_INSERT + i + 1;
            let seq = i32::try_from(seq).map_err(|_| {
                CounterpointError::Config("too many lines in one staged order".into())
            })?;
            lines.bind(seq);
            lines.bind(line.item_no.as_str());
            lines.bind(line.qty);
            lines.bind(line.price);
        }
        lines
            .execute(conn)
            .await
            .map_err(CounterpointError::from_driver)?;
    }
    Ok(StageOutcome::Staged)
}
