//! syncdesk: keeps orders, fulfilment and stock in agreement between sales channels and the back office.
//! Layers (see DESIGN.md): `domain` (pure rules) ← `store` (SQLite) ← `app` (the facade every face uses)
//! and `engine` (background jobs) → `connectors` (external systems); `cli` is a face; `demo` (feature
//! `demo`) runs it all on the simulators of the `syncdesk-sim` crate.

pub mod app;
pub mod cli;
pub mod config;
pub mod connectors;
#[cfg(feature = "demo")]
pub mod demo;
pub mod domain;
pub mod engine;
pub mod server;
pub mod store;
pub mod tui;
