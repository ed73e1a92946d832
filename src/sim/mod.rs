//! Wire-level simulators of the external systems, for `syncdesk demo`, benchmarks and flow tests.
//! Each speaks the real protocol on loopback and behaves as `../shared/reference/` says, failures included.

pub mod cartona;
pub mod counterpoint;
pub mod faults;
pub mod metakocka;
pub mod smtp;
pub mod woo;
