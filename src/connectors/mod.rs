//! One module per external system, behind a small trait. Connectors speak the real protocol and hold no
//! business rules: the engine decides what to send, the connector only knows how.

pub mod counterpoint;
pub mod email;
pub mod pos_csv;
pub mod woo;
