//! `syncdesk serve` and the engine as an operator meets them, one test binary: `kill -9` at random moments,
//! store outages, the webhook receiver under abuse, alerts by e-mail, and config values that cannot hurt.

mod alerts;
mod config_ranges;
mod crash;
mod receiver_limits;
mod serve_outages;
