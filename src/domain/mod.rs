//! Pure business rules: statuses and their transitions, shipment arithmetic, retry timing.
//! No I/O and no async here, so every rule can be unit- and property-tested in isolation.

pub mod alerts;
pub mod alignment;
pub mod backoff;
pub mod fulfilment;
pub mod inventory;
pub mod job_kind;
pub mod link_state;
pub mod roles;
pub mod status;
pub mod stock_plan;
pub mod time;

pub use fulfilment::{LineProgress, ShipmentError, plan_shipment};
pub use job_kind::JobKind;
pub use link_state::LinkState;
pub use roles::{Permission, Role};
pub use status::{Status, StatusKind, TransitionError, Workflow};
