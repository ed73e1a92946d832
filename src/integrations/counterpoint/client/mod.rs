//! NCR Counterpoint over SQL Server (tiberius): stages web orders, reads fulfilment, stock and prices.
//! No business rules inside: the engine decides what to send, the connector only knows how.

mod config;
mod connection;
mod documents;
mod error;
mod rows;
mod sql;
mod staging;
mod stock;
mod types;

pub use config::{
    CounterpointConfig, CounterpointTables, Encryption, FulfilmentSignal, is_identifier,
};
pub use connection::CounterpointClient;
pub use error::CounterpointError;
pub use types::{
    DocPresence, DocState, DocumentChange, DocumentLine, FulfilmentChanges, ItemPrice, Page,
    StageOutcome, StagedLine, StagedOrder, StagingStatus, StockLevel,
};
