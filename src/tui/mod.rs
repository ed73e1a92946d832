//! The operator console (ratatui + crossterm): panels drawn from store snapshots, commands sent through
//! `App`. It never awaits network I/O; it notices other processes' writes by polling `PRAGMA data_version`.

pub mod action;
pub mod commands;
mod config;
pub mod conflicts;
pub mod console;
mod event_loop;
pub mod keymap;
pub mod metrics;
pub mod snapshot;
pub mod state;
pub mod theme;
pub mod view;

pub use config::ConsoleConfig;
pub use console::{Clock, Console, Options};
pub use event_loop::run;
