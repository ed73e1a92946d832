//! The HTTP client core the HTTP integrations share: one exchange (transport), the classification of a
//! failed one (failure), the one retry loop with `Retry-After` and backoff (retry), decoding answers with
//! the path of a bad field (decode), and field parsers tolerant of what real stores send (lenient). Each
//! client keeps only what is its own: authentication, base URL, and how its errors look.

pub mod decode;
pub mod failure;
pub(crate) mod lenient;
pub mod retry;
pub mod retry_after;
pub mod transport;
