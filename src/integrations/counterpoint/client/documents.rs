//! Reading fulfilment back: documents changed since a watermark (open ones with their lines, and ones
//! posted to history), and where a set of documents is now (open, posted, or gone). Two requests per pass
//! whatever the number of open documents.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDateTime;
use tiberius::{Query, Row};

use super::connection::{CounterpointClient, Result, with_connection};
use super::error::CounterpointError;
use super::rows;
use super::sql::KEYS_PER_QUERY;
use super::types::{DocPresence, DocState, DocumentChange, DocumentLine, FulfilmentChanges};

impl CounterpointClient {
    /// Documents whose fulfilment may have changed since `watermark`: open documents (PS_DOC_HDR) showing
    /// the configured fulfilment signal with LST_MAINT_DT after `watermark - overlap`, and documents posted
    /// to history (PS_TKT_HIST) after the same instant. A document in both (posted between the two reads) is
    /// reported once, the newest version winning. Expect repeats inside the overlap window.
    pub async fn fulfilment_changes_since(
        &self,
        watermark: NaiveDateTime,
        overlap: Duration,
    ) -> Result<FulfilmentChanges> {
        let overlap = chrono::Duration::from_std(overlap)
            .map_err(|_| CounterpointError::Config("overlap out of range".into()))?;
        let since = watermark - overlap;
        let (open, posted) = with_connection!(self, "fulfilment_changes_since", |conn| async {
            let mut open = Query::new(self.sql.open_changes.as_str());
            open.bind(since);
            let open = open
                .query(conn)
                .await
                .map_err(CounterpointError::from_driver)?
                .into_first_result()
                .await
                .map_err(CounterpointError::from_driver)?;
            let mut posted = Query::new(self.sql.posted_changes.as_str());
            posted.bind(since);
            let posted = posted
                .query(conn)
                .await
                .map_err(CounterpointError::from_driver)?
                .into_first_result()
                .await
                .map_err(CounterpointError::from_driver)?;
            Ok::<_, CounterpointError>((open, posted))
        })?;

        let mut changes: BTreeMap<i64, DocumentChange> = BTreeMap::new();
        for (rows, posted) in [(open, false), (posted, true)] {
            for change in group_documents(&rows, posted)? {
                let merged = match changes.remove(&change.doc_id) {
                    Some(seen) => newest(seen, change),
                    None => change,
                };
                changes.insert(merged.doc_id, merged);
            }
        }
        let watermark = changes
            .values()
            .filter_map(|c| c.lst_maint_dt)
            .fold(watermark, NaiveDateTime::max);
        Ok(FulfilmentChanges {
            changes: changes.into_values().collect(),
            watermark,
        })
    }

    /// Where each document is now: still open, posted to history, or in neither (cancelled or deleted).
    pub async fn documents_state(&self, doc_ids: &[i64]) -> Result<Vec<DocState>> {
        let mut found: BTreeMap<i64, DocPresence> = BTreeMap::new();
        for chunk in doc_ids.chunks(KEYS_PER_QUERY) {
            let sql = self.sql.documents_state(chunk.len());
            let rows = with_connection!(self, "documents_state", |conn| async {
                let mut query = Query::new(sql.as_str());
                for id in chunk {
                    query.bind(*id);
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
                let doc_id = rows::required_int(row, "DOC_ID")?;
                let state = match rows::required_text(row, "STATE")?.as_str() {
                    "P" => DocPresence::Posted,
                    _ => DocPresence::Open,
                };
                // Posted wins: a document caught in both tables was being posted while we looked.
                let entry = found.entry(doc_id).or_insert(state);
                if state == DocPresence::Posted {
                    *entry = state;
                }
            }
        }
        Ok(doc_ids
            .iter()
            .map(|&doc_id| DocState {
                doc_id,
                state: found.get(&doc_id).copied().unwrap_or(DocPresence::Missing),
            })
            .collect())
    }
}

/// The newer of two reads of one document (posted wins a tie); lines come from the older read when the newer,
/// caught half-way through posting, has none yet.
fn newest(a: DocumentChange, b: DocumentChange) -> DocumentChange {
    let (mut newer, older) = if (a.lst_maint_dt, a.posted) > (b.lst_maint_dt, b.posted) {
        (a, b)
    } else {
        (b, a)
    };
    if newer.lines.is_empty() {
        newer.lines = older.lines;
    }
    newer
}

/// Folds one-row-per-line results (ordered by DOC_ID) into documents.
fn group_documents(rows: &[Row], posted: bool) -> Result<Vec<DocumentChange>> {
    let mut docs: Vec<DocumentChange> = Vec::new();
    for row in rows {
        let doc_id = rows::required_int(row, "DOC_ID")?;
        if docs.last().is_none_or(|d| d.doc_id != doc_id) {
            docs.push(DocumentChange {
                doc_id,
                web_order_id: rows::text(row, "WEB_ORDER_ID")?,
                ship_date: rows::datetime(row, "SHIP_DAT")?,
                ship_via: rows::text(row, "SHIP_VIA_COD")?,
                tracking: rows::text(row, "TRACKING")?.filter(|t| !t.is_empty()),
                lines: Vec::new(),
                posted,
                lst_maint_dt: rows::datetime(row, "LST_MAINT_DT")?,
            });
        }
        let Some(seq) = rows::int(row, "LIN_SEQ_NO")? else {
            continue; // a document without lines (LEFT JOIN)
        };
        let seq = i32::try_from(seq).map_err(|_| CounterpointError::Malformed {
            column: "LIN_SEQ_NO".into(),
            detail: format!("{seq} out of range"),
        })?;
        let line = DocumentLine {
            lin_seq_no: seq,
            item_no: rows::required_text(row, "ITEM_NO")?,
            qty_ordered: rows::decimal(row, "QTY_SOLD")?.unwrap_or_default(),
            qty_shipped: rows::decimal(row, "QTY_SHIPPED")?.unwrap_or_default(),
        };
        if let Some(doc) = docs.last_mut()
            && !doc.lines.iter().any(|l| l.lin_seq_no == seq)
        {
            doc.lines.push(line);
        }
    }
    Ok(docs)
}
