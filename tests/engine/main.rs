//! `syncdesk serve` and the engine as an operator meets them, one test binary: `kill -9` at random moments,
//! store outages, the webhook receiver under abuse, alerts by e-mail, and config values that cannot hurt.

mod alerts;
mod config_ranges;
mod crash;
mod receiver_limits;
mod serve_outages;

// The support this area's tests share (tests/support/), declared once for the whole binary.
#[path = "../support/cli.rs"]
mod cli_support;
#[path = "../support/crash_rig.rs"]
mod crash_rig;
#[path = "../support/serve.rs"]
mod serve_support;
