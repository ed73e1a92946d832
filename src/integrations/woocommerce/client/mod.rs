//! WooCommerce REST API v3 client: orders, products, variations and batch stock/price updates, with the
//! store's authentication modes, timeouts, retries and tolerant-but-checked parsing.

mod config;
mod error;
mod http;
pub mod oauth;
mod orders;
mod products;
mod redact;
pub mod trust;
mod types;
mod webhooks;

pub use crate::integrations::http::retry_after::parse_retry_after;
pub use config::{AuthMode, WooConfig};
pub use error::{TransportKind, WooError};
pub use http::{RequestCounter, WooClient};
pub use orders::{OrderWindow, WindowRead};
pub use types::{
    AppliedItem, BatchOutcome, FailedItem, ItemKey, ProductUpdate, WooAddress, WooLineItem,
    WooMeta, WooOrder, WooOrderNote, WooProduct, WooShippingLine,
};
pub use webhooks::WooWebhook;
