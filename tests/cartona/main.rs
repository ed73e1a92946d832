//! Cartona, one test binary: the real client against the simulator, and Cartona as a sales channel end to
//! end through the engine.

mod client;
mod flows;
