//! `[server]`: the webhook receiver's address and limits.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Where `syncdesk serve` receives webhooks and answers `/health`. Loopback unless a proxy fronts it.
    pub listen: String,
    /// Larger request bodies are refused with 413: before they are read when their length is declared, and
    /// as soon as the limit is passed otherwise.
    pub max_body_bytes: usize,
    /// Seconds a client has to send a request's headers; also how long an idle connection stays open.
    pub header_read_timeout_secs: u64,
    /// Seconds a client has, once its headers are in, to send the whole body; a slower one gets 408.
    pub body_read_timeout_secs: u64,
    /// Connections served at once; one more is answered 503 at once and closed.
    pub max_connections: usize,
    /// Memory shared by all webhook bodies being received; a body that would take more gets 503 (senders
    /// retry). Taken as bytes arrive, so slow senders hold only what they have sent.
    pub max_buffered_body_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8787".into(),
            max_body_bytes: 1 << 20,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
            max_connections: 512,
            max_buffered_body_bytes: 64 << 20,
        }
    }
}

impl ServerConfig {
    /// This section's numeric fields with their allowed ranges (part of the one range table).
    pub(crate) fn ranges(&self, t: &mut crate::config::Ranges) {
        use crate::config::units::*;
        t.whole(
            "server.max_body_bytes",
            self.max_body_bytes,
            1024,
            64 * MIB,
            "bytes",
        )
        .whole(
            "server.header_read_timeout_secs",
            self.header_read_timeout_secs,
            1,
            5 * MINUTE,
            SECS,
        )
        .whole(
            "server.body_read_timeout_secs",
            self.body_read_timeout_secs,
            1,
            10 * MINUTE,
            SECS,
        )
        .whole(
            "server.max_connections",
            self.max_connections,
            1,
            10_000,
            "connections",
        )
        .whole(
            "server.max_buffered_body_bytes",
            self.max_buffered_body_bytes,
            self.max_body_bytes,
            4u64 << 30,
            "bytes, at least server.max_body_bytes",
        );
    }
}
