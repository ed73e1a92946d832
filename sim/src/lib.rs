//! Wire-level simulators of the external systems syncdesk talks to, for `syncdesk demo`, `syncdesk sim …`,
//! benchmarks and flow tests. Each speaks the real protocol on loopback and behaves as the project's
//! `../shared/reference/` says, failures included. They are external systems: this crate depends on nothing
//! of syncdesk and shares no code with it (a bug shared with the product's client would pass unseen), so a
//! test configures syncdesk from a simulator's address and credentials, as a shop would.

pub mod cartona;
pub mod counterpoint;
pub mod faults;
pub mod metakocka;
pub mod smtp;
pub mod woo;
