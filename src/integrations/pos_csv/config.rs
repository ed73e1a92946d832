//! `[pos_csv]`: a POS that only exchanges files.

use serde::Deserialize;

use crate::domain::Workflow;

/// A POS that only exchanges files: syncdesk reads its stock export and writes reductions files for it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PosCsvSection {
    pub enabled: bool,
    /// How often a reductions file is written (only when some order line is due).
    pub write_every_secs: u64,
    /// Orders from these channels reduce the POS's stock…
    pub channels: Vec<String>,
    /// …once they have entered one of these statuses (a paid order); a later cancellation puts it back.
    pub sale_statuses: Vec<String>,
    /// Where the files are and how they are laid out.
    pub files: crate::integrations::pos_csv::client::PosCsvConfig,
}

impl Default for PosCsvSection {
    fn default() -> Self {
        Self {
            enabled: false,
            write_every_secs: 60,
            channels: crate::integrations::default_order_channels(),
            sale_statuses: vec![
                "Processing".into(),
                "Ready to Ship".into(),
                "Shipped".into(),
                "Completed".into(),
            ],
            files: Default::default(),
        }
    }
}

impl PosCsvSection {
    /// This section's numeric fields with their allowed ranges (part of the one range table).
    pub(crate) fn ranges(&self, t: &mut crate::config::Ranges) {
        use crate::config::units::*;
        t.whole(
            "pos_csv.write_every_secs",
            self.write_every_secs,
            1,
            DAY,
            SECS,
        );
    }

    pub(crate) fn validate(&self, workflow: &Workflow) -> Result<(), String> {
        for name in &self.sale_statuses {
            workflow
                .by_name(name)
                .map_err(|_| format!("pos_csv.sale_statuses: unknown status '{name}'"))?;
        }
        self.files
            .validate(self.enabled)
            .map_err(|e| format!("pos_csv.files.{e}"))
    }
}
