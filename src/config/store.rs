//! `[store]`: the database file's busy timeout, size limit and integrity check.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// How long a write waits for another process's write to finish before failing.
    pub busy_timeout_ms: u64,
    /// When to check the file's integrity (`PRAGMA quick_check`) on open; a damaged file is refused.
    pub quick_check: QuickCheck,
    /// The largest the database may grow to, in MiB (0: no limit); past it, writes wait as on a full disk.
    pub max_size_mb: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            busy_timeout_ms: 5000,
            quick_check: QuickCheck::Serve,
            max_size_mb: 0,
        }
    }
}

/// When the store's integrity is checked. The check reads the whole file (about a second per GB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuickCheck {
    /// Never.
    Off,
    /// When the engine starts (`syncdesk serve`, the demo): once per start of the long-running writer.
    Serve,
    /// On every open, commands and the console included.
    Always,
}

impl StoreConfig {
    /// This section's numeric fields with their allowed ranges (part of the one range table).
    pub(crate) fn ranges(&self, t: &mut crate::config::Ranges) {
        use crate::config::units::*;
        t.whole(
            "store.busy_timeout_ms",
            self.busy_timeout_ms,
            1,
            10 * MINUTE * 1000,
            MS,
        )
        // 1 TiB: far past any shop's database, low enough that SQLite's page count cannot overflow.
        .whole(
            "store.max_size_mb",
            self.max_size_mb,
            0,
            1 << 20,
            "MiB (0: no limit)",
        );
    }
}
