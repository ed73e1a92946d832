//! syncdesk: keeps orders, fulfilment and stock in agreement between sales channels and the back office.
//! Layers (see DESIGN.md): `domain` (pure rules) ← `store` (SQLite) ← `app` (the facade every face uses)
//! and `engine` (background jobs) → `connectors` (external systems); `cli` is a face; `sim` simulates peers.

pub mod app;
pub mod cli;
pub mod config;
pub mod connectors;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod server;
pub mod sim;
pub mod store;
pub mod tui;
