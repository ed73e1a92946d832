//! The parts of Metakocka documents and stock rows that sync needs. Metakocka sends numbers as strings
//! ("2", "4.88"), so numeric fields are parsed leniently; unknown fields are ignored.

use crate::integrations::http::lenient;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Buyer or receiver of a document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partner {
    #[serde(default, deserialize_with = "lenient::string")]
    pub customer: String,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub street: String,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub post_number: String,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub place: String,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub country: String,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub email: String,
}

/// One line of a new sales order: product `code` (Metakocka code or the shop SKU), amount, unit price.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLine {
    pub code: String,
    pub amount: f64,
    pub price: f64,
}

/// A sales order as syncdesk creates it (`put_document`, `doc_type: sales_order`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewSalesOrder {
    /// The shop's order number; Metakocka can find the order by it.
    pub buyer_order: String,
    pub doc_date: Option<NaiveDate>,
    pub partner: Partner,
    pub lines: Vec<NewLine>,
    /// Warehouse (id or label) the order reserves from; the company default when `None`.
    pub warehouse: Option<String>,
    /// Initial per-company status label; the company default when `None`.
    pub status_code: Option<String>,
    pub currency_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PutResult {
    #[serde(deserialize_with = "lenient::string")]
    pub mk_id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub count_code: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MkLine {
    #[serde(default, deserialize_with = "lenient::string")]
    pub mk_id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub mk_row_id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub code: String,
    #[serde(deserialize_with = "lenient::number")]
    pub amount: f64,
    #[serde(default, deserialize_with = "lenient::number")]
    pub price: f64,
}

/// A document as `get_document` and `search` (`result: doc`) return it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MkDocument {
    #[serde(deserialize_with = "lenient::string")]
    pub mk_id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub doc_type: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub count_code: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub buyer_order: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub status_code: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub doc_date: String,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub partner: Partner,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub product_list: Vec<MkLine>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub tracking_code: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub delivery_type: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub shipped_date: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub notes: String,
}

/// How an operation names the order: Metakocka's id or the shop's order number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocRef {
    MkId(String),
    BuyerOrder(String),
}

/// The fields `update_document` may change on a sales order; `None` leaves a field alone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocumentUpdate {
    pub status_code: Option<String>,
    /// Required by Metakocka when `status_code` is the company's shipped status.
    pub shipped_date: Option<NaiveDate>,
    pub tracking_code: Option<String>,
    pub delivery_type: Option<String>,
    /// The document's notes (a shipment's details, a cancellation's reason).
    pub notes: Option<String>,
}

/// One product's stock in one warehouse. `reserved_amount`/`free_amount` exist only for companies that
/// use reservations.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StockRow {
    #[serde(deserialize_with = "lenient::string")]
    pub warehouse_id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub mk_id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub count_code: String,
    /// The product code (shop SKU) when Metakocka sends one.
    #[serde(default, deserialize_with = "lenient::string")]
    pub code: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub title: String,
    #[serde(deserialize_with = "lenient::number")]
    pub amount: f64,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub reserved_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub free_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub unit: String,
}
