//! Metakocka, one test binary: the real client against the simulator, Metakocka as the back office through
//! the engine, and as the POS side of the stock pass.

mod client;
mod flows;
mod stock;
