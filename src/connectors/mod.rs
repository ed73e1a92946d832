//! One module per external system, behind a small trait. Connectors speak the real protocol and hold no
//! business rules: the engine decides what to send, the connector only knows how.

pub mod cartona;
pub mod counterpoint;
pub mod email;
pub(crate) mod lenient;
pub mod metakocka;
pub mod pos_csv;
pub mod retry_after;
pub mod transport;
pub mod woo;
