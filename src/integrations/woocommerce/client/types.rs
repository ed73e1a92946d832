//! The parts of WooCommerce resources that sync needs. Ids must be integers (strict); everything stores are
//! known to vary on is parsed leniently (see `lenient`), and unknown fields are ignored.

use crate::integrations::http::lenient;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WooOrder {
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub number: String,
    /// Kept as sent: core statuses, `checkout-draft`, and store-defined ones alike.
    pub status: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub currency: String,
    #[serde(default, deserialize_with = "lenient::opt_gmt")]
    pub date_created_gmt: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient::opt_gmt")]
    pub date_modified_gmt: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub total: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub customer_note: String,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub billing: WooAddress,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub shipping: WooAddress,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub line_items: Vec<WooLineItem>,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub shipping_lines: Vec<WooShippingLine>,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub meta_data: Vec<WooMeta>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WooLineItem {
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default)]
    pub product_id: u64,
    /// 0 when the item is not a variation.
    #[serde(default)]
    pub variation_id: u64,
    #[serde(deserialize_with = "lenient::count")]
    pub quantity: i64,
    /// May be empty or null in the store; empty here either way.
    #[serde(default, deserialize_with = "lenient::string")]
    pub sku: String,
    /// Unit price; a JSON number in line items (unlike product prices).
    #[serde(default, deserialize_with = "lenient::number")]
    pub price: f64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub subtotal: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub total: String,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct WooAddress {
    #[serde(deserialize_with = "lenient::string")]
    pub first_name: String,
    #[serde(deserialize_with = "lenient::string")]
    pub last_name: String,
    #[serde(deserialize_with = "lenient::string")]
    pub company: String,
    #[serde(deserialize_with = "lenient::string")]
    pub address_1: String,
    #[serde(deserialize_with = "lenient::string")]
    pub address_2: String,
    #[serde(deserialize_with = "lenient::string")]
    pub city: String,
    #[serde(deserialize_with = "lenient::string")]
    pub state: String,
    #[serde(deserialize_with = "lenient::string")]
    pub postcode: String,
    #[serde(deserialize_with = "lenient::string")]
    pub country: String,
    #[serde(deserialize_with = "lenient::string")]
    pub email: String,
    #[serde(deserialize_with = "lenient::string")]
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WooShippingLine {
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub method_title: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub method_id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub total: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WooMeta {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub key: String,
    #[serde(default)]
    pub value: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WooOrderNote {
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub note: String,
    /// true: visible to the customer (and emailed); false: internal.
    #[serde(default)]
    pub customer_note: bool,
    #[serde(default, deserialize_with = "lenient::string")]
    pub author: String,
    #[serde(default, deserialize_with = "lenient::opt_gmt")]
    pub date_created_gmt: Option<DateTime<Utc>>,
}

/// A product or a variation (variations have `parent_id` ≠ 0 and `product_type` "variation").
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WooProduct {
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    /// Empty when the store has no SKU (null or "").
    #[serde(default, deserialize_with = "lenient::string")]
    pub sku: String,
    #[serde(rename = "type", default, deserialize_with = "lenient::string")]
    pub product_type: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub status: String,
    /// Money as the store sends it: a string with the store's decimals, "" when unset.
    #[serde(default, deserialize_with = "lenient::string")]
    pub regular_price: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub sale_price: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub price: String,
    /// "parent" on a variation counts as managed (by its parent).
    #[serde(default, deserialize_with = "lenient::manage_stock")]
    pub manage_stock: bool,
    #[serde(default, deserialize_with = "lenient::opt_count")]
    pub stock_quantity: Option<i64>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub stock_status: String,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub variations: Vec<u64>,
    #[serde(default)]
    pub parent_id: u64,
    #[serde(default, deserialize_with = "lenient::opt_gmt")]
    pub date_modified_gmt: Option<DateTime<Utc>>,
}

/// One item of a product/variation batch update. Only the fields that are `Some` are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProductUpdate {
    pub id: u64,
    /// Set for variations: they are updated through `/products/{parent_id}/variations/batch`.
    #[serde(skip)]
    pub parent_id: Option<u64>,
    /// Used only to report this item's outcome by SKU; not sent (changing SKUs is not a sync operation).
    #[serde(skip)]
    pub sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regular_price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sale_price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manage_stock: Option<bool>,
    /// Absolute: the store overwrites whatever it had (no atomic increments exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock_quantity: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// How a batch item is named in outcomes: by the caller's SKU when given, else by id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKey {
    Sku(String),
    Id(u64),
}

impl std::fmt::Display for ItemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ItemKey::Sku(sku) => write!(f, "SKU {sku}"),
            ItemKey::Id(id) => write!(f, "id {id}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppliedItem {
    pub key: ItemKey,
    pub product: WooProduct,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FailedItem {
    pub key: ItemKey,
    pub id: u64,
    /// Store error code, or the client's classification when the whole request failed.
    pub code: String,
    pub message: String,
    pub status: Option<u16>,
    /// True when the whole request failed for a transient reason; per-item store errors are not retryable.
    pub retryable: bool,
    pub retry_after: Option<std::time::Duration>,
}

/// Result of a batch update: every input item ends up in exactly one of the two lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchOutcome {
    pub applied: Vec<AppliedItem>,
    pub failed: Vec<FailedItem>,
    /// HTTP requests made (one per chunk of ≤100 items, retries not counted).
    pub requests: usize,
}

impl BatchOutcome {
    pub fn is_complete_success(&self) -> bool {
        self.failed.is_empty()
    }
}
