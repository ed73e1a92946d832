//! `[console]`: the operator console's keys, colours, mouse and refresh tick (its key and theme types are the
//! console's own).

use serde::Deserialize;

/// `[console]`: the operator console's keys, colours, mouse and refresh tick.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Start with mouse capture on (it can be toggled at any time).
    pub mouse: bool,
    /// How often (ms) the console checks whether another process changed the database.
    pub tick_ms: u64,
    pub keys: crate::tui::keymap::KeyConfig,
    pub theme: crate::tui::theme::ThemeConfig,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            mouse: false,
            tick_ms: 250,
            keys: Default::default(),
            theme: Default::default(),
        }
    }
}

impl ConsoleConfig {
    /// This section's numeric fields with their allowed ranges (part of the one range table).
    pub(crate) fn ranges(&self, t: &mut crate::config::Ranges) {
        use crate::config::units::*;
        t.whole("console.tick_ms", self.tick_ms, 50, 1000, MS);
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        crate::tui::keymap::Keymap::from_config(&self.keys)?;
        crate::tui::theme::Theme::from_config(&self.theme)?;
        Ok(())
    }
}
