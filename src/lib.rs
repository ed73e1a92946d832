//! syncdesk: keeps orders, fulfilment and stock in agreement between sales channels and the back office.
//! See `DESIGN.md` in the shared folder for how the layers fit.

pub mod connectors;
pub mod sim;
