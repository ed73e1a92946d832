//! Cartona supplier-integrations API client (B2B marketplace): order pull with paging, status updates (bulk,
//! single, the `synced` acknowledgement), order detail edits and stock, with a verified bulk update.

mod config;
mod error;
mod http;
mod orders;
mod products;
mod types;
mod verify;

pub use config::CartonaConfig;
pub use error::CartonaError;
pub use http::CartonaClient;
pub use types::{
    CancellationReason, CartonaLine, CartonaOrder, CartonaRetailer, DeliveredBy, LineChange,
    OrderStatus, StatusUpdate, StockOutcome, StockUpdate,
};
pub use verify::{ItemOutcome, ItemResult};
