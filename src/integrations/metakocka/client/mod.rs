//! Metakocka ERP client (`/rest/eshop/v1/<op>`): sales orders (put, get, update, status changes), search
//! and warehouse stock with paging, errors reported in `opr_code`/`opr_desc`, and the stock webhook check.

mod config;
mod documents;
mod error;
mod http;
mod stock;
mod types;
mod webhook;

pub use config::MetakockaConfig;
pub use error::MetakockaError;
pub use http::MetakockaClient;
pub use types::{
    DocRef, DocumentUpdate, MkDocument, MkLine, NewLine, NewSalesOrder, Partner, PutResult,
    StockRow,
};
pub use webhook::{
    STOCK_EVENT, StockWebhook, WEBHOOK_REPLY_OK, parse_stock_webhook, verify_webhook_signature,
    webhook_signature,
};
