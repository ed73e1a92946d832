//! What the HTTP integrations share: the classification of a failed exchange (transport kinds, statuses
//! worth repeating), `Retry-After` in both its forms, and field parsers tolerant of what real stores send.

pub(crate) mod lenient;
pub mod retry_after;
pub mod transport;
