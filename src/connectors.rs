//! The one product path the simulators still import, kept only until they leave this crate (branch
//! `sim-crate`): delete this file then. Nothing in the product uses it.

pub mod metakocka {
    pub use crate::integrations::metakocka::client::{STOCK_EVENT, webhook_signature};
}
