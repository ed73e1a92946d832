//! WooCommerce, one test binary: the real client and the simulator's knobs over loopback, the flows through
//! the engine and the webhook receiver, a store behind HTTPS, and what the real store did to syncdesk.
//! The conformance suite and WooCommerce's own client libraries are their own binaries (`woo_conformance`,
//! `woo_official_clients`): `.ci/run` runs them again against the real store.

mod client;
mod flows;
mod real_world;
mod sim;
mod tls;

// The support this area's tests share (tests/support/), declared once for the whole binary.
#[path = "../support/cli.rs"]
mod cli_support;
#[path = "../support/flow_rig.rs"]
mod flow_rig;
#[path = "../support/sim_config.rs"]
mod sim_config;
