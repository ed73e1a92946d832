//! Cartona, one test binary: the real client against the simulator, and Cartona as a sales channel end to
//! end through the engine.

mod client;
mod flows;

// The support this area's tests share (tests/support/), declared once for the whole binary.
#[path = "../support/flow_rig.rs"]
mod flow_rig;
#[path = "../support/sim_config.rs"]
mod sim_config;
