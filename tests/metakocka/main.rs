//! Metakocka, one test binary: the real client against the simulator, Metakocka as the back office through
//! the engine, and as the POS side of the stock pass.

mod client;
mod flows;
mod stock;

// The support this area's tests share (tests/support/), declared once for the whole binary.
#[path = "../support/cli.rs"]
mod cli_support;
#[path = "../support/flow_rig.rs"]
mod flow_rig;
#[path = "../support/sim_config.rs"]
mod sim_config;
