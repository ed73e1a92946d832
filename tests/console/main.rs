//! The operator console, one test binary. Its snapshots are in `snapshots/` here, named
//! `console__screens__<test>.snap` after the module that asserts them.

mod screens;
#[path = "../support/sim_config.rs"]
mod sim_config;
