//! NCR Counterpoint, one test binary: the simulator through tiberius and through an independent driver, the
//! connector, TLS against every kind of server, SQL Server's semantics, and the flows through the engine.

mod connector;
mod drivers;
mod flows;
mod sim;
// Runs `syncdesk sim counterpoint` through the built binary, which has it only with the `demo` feature.
#[cfg(feature = "demo")]
mod sql_server;
mod tls;

// The support this area's tests share (tests/support/), declared once for the whole binary.
#[path = "../support/flow_rig.rs"]
mod flow_rig;
#[path = "../support/sim_config.rs"]
mod sim_config;
