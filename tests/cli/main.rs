//! The `syncdesk` command line as a user runs it, one test binary: the built executable on scratch folders,
//! its ERP and sync subcommands against simulators, and `syncdesk demo`.

mod commands;
// `syncdesk demo` exists only with the `demo` feature.
#[cfg(feature = "demo")]
mod demo;
mod erp;
mod polish;
mod roles;
mod sync;

// The support this area's tests share (tests/support/), declared once for the whole binary.
#[path = "../support/cli.rs"]
mod cli_support;
