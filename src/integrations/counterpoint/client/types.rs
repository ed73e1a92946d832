//! What the connector hands to and receives from the engine: plain data, no behaviour.

use chrono::NaiveDateTime;
use rust_decimal::Decimal;

/// A web order to put into USER_ORDER_STAGING for Counterpoint's own procedures to turn into a document.
#[derive(Debug, Clone, PartialEq)]
pub struct StagedOrder {
    pub web_order_id: String,
    pub cust_no: Option<String>,
    pub ship_via: Option<String>,
    pub cust_po_no: Option<String>,
    pub lines: Vec<StagedLine>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StagedLine {
    pub item_no: String,
    pub qty: Decimal,
    /// None lets Counterpoint price the line.
    pub price: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageOutcome {
    /// This call wrote the order.
    Staged,
    /// The web order id was already in the staging table (possibly from an earlier attempt of this very call
    /// whose answer was lost); nothing was written.
    AlreadyStaged { status: String, doc_id: Option<i64> },
}

/// One USER_ORDER_STAGING row as Counterpoint's procedures left it (STATUS is their code: N new,
/// P processed, E error in the store's current procedures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagingStatus {
    pub web_order_id: String,
    pub status: String,
    pub doc_id: Option<i64>,
    pub error: Option<String>,
}

/// A document line as last seen.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentLine {
    pub lin_seq_no: i32,
    pub item_no: String,
    pub qty_ordered: Decimal,
    pub qty_shipped: Decimal,
}

/// An order document that changed (open in PS_DOC_HDR) or was posted (moved to PS_TKT_HIST).
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentChange {
    pub doc_id: i64,
    /// USER_ORDER_STAGING.WEB_ORDER_ID of the staged order that became this document, if any.
    pub web_order_id: Option<String>,
    pub ship_date: Option<NaiveDateTime>,
    /// SHIP_VIA_COD: the carrier / shipping method code.
    pub ship_via: Option<String>,
    /// The configured tracking column's value (None when no column is configured).
    pub tracking: Option<String>,
    pub lines: Vec<DocumentLine>,
    /// True when the document was read from history: it was posted (invoiced), not lost.
    pub posted: bool,
    pub lst_maint_dt: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FulfilmentChanges {
    /// One entry per document, ordered by DOC_ID.
    pub changes: Vec<DocumentChange>,
    /// The largest LST_MAINT_DT seen (or the given watermark when nothing was seen): pass it next time.
    pub watermark: NaiveDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocPresence {
    /// Still in PS_DOC_HDR.
    Open,
    /// In PS_TKT_HIST.
    Posted,
    /// In neither: cancelled or deleted in Counterpoint.
    Missing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocState {
    pub doc_id: i64,
    pub state: DocPresence,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StockLevel {
    pub item_no: String,
    /// QTY_AVAIL summed over the configured locations.
    pub qty_avail: Decimal,
    /// The newest LST_MAINT_DT among the item's IM_INV rows at those locations.
    pub lst_maint_dt: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemPrice {
    pub item_no: String,
    pub reg_prc: Option<Decimal>,
    pub prc_1: Option<Decimal>,
    /// True when the prices came from IM_PRC for the configured location, false when from IM_ITEM.
    pub from_price_table: bool,
    /// The newer of IM_PRC.LST_MAINT_DT and IM_ITEM.LST_MAINT_DT.
    pub lst_maint_dt: Option<NaiveDateTime>,
}

/// One page of a keyset-paged read; `next_after` is the last ITEM_NO, None when the read is complete.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub next_after: Option<String>,
}
