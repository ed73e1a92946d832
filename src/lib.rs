//! syncdesk: keeps orders, fulfilment and stock in agreement between sales channels and the back office.
//! Layers (see docs/DESIGN.md): `domain` (pure rules) ← `store` (SQLite) ← `app` (the facade every face
//! uses) ← `integrations` (one folder per external system, listed in one registry) and `engine`
//! (background jobs); `cli`, `tui` and `server` are faces; `demo` (feature `demo`) runs it all on the simulators of the
//! `syncdesk-sim` crate.

pub mod app;
pub mod cli;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod domain;
pub mod engine;
pub mod integrations;
pub mod server;
pub mod stock;
pub mod store;
pub mod tui;
