//! Stock and prices, one test binary: stock and price passes between the POS and the store, the file-only
//! POS, a SKU's trace, operator resolution of conflicts, and the alignment import.

mod alignment_import;
mod conflicts;
mod one_pass_at_a_time;
mod outcomes;
mod passes;
mod pos_csv;
mod prices;
mod trace;

// The support this area's tests share (tests/support/), declared once for the whole binary.
#[path = "../support/cli.rs"]
mod cli_support;
#[path = "../support/flow_rig.rs"]
mod flow_rig;
#[path = "../support/sim_config.rs"]
mod sim_config;
#[path = "../support/stock_rig.rs"]
mod stock_rig;
