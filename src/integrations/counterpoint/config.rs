//! `[counterpoint]`: the back office on SQL Server — connection, staging and the fulfilment poll.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::Workflow;

/// NCR Counterpoint as the back office: where web orders are staged and shipments come from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CounterpointSection {
    pub enabled: bool,
    /// How often the fulfilment pass reads what shipped (its cost follows changed documents only).
    pub fulfilment_poll_secs: u64,
    /// How far back each pass re-reads: datetime has ~3 ms resolution and clocks differ.
    pub overlap_secs: u64,
    /// Orders from these channels are staged into Counterpoint…
    pub stage_channels: Vec<String>,
    /// …when they enter this status.
    pub stage_on: String,
    /// How often staged documents of open orders are checked for being cancelled or deleted in Counterpoint.
    pub verify_secs: u64,
    /// SHIP_VIA_COD → the carrier name customers see.
    pub carriers: BTreeMap<String, String>,
    /// How to reach the SQL Server and which tables and columns to use.
    pub connection: crate::integrations::counterpoint::client::CounterpointConfig,
}

impl Default for CounterpointSection {
    fn default() -> Self {
        Self {
            enabled: false,
            fulfilment_poll_secs: 2,
            overlap_secs: 5,
            stage_channels: crate::integrations::default_order_channels(),
            stage_on: "Processing".into(),
            verify_secs: 300,
            carriers: BTreeMap::new(),
            connection: Default::default(),
        }
    }
}

impl CounterpointSection {
    /// This section's numeric fields with their allowed ranges (part of the one range table).
    pub(crate) fn ranges(&self, t: &mut crate::config::Ranges) {
        use crate::config::units::*;
        let conn = &self.connection;
        t.whole(
            "counterpoint.fulfilment_poll_secs",
            self.fulfilment_poll_secs,
            1,
            DAY,
            SECS,
        )
        .whole("counterpoint.overlap_secs", self.overlap_secs, 0, DAY, SECS)
        .whole(
            "counterpoint.verify_secs",
            self.verify_secs,
            1,
            7 * DAY,
            SECS,
        )
        .whole(
            "counterpoint.connection.port",
            conn.port,
            1,
            65_535,
            "a TCP port",
        )
        .whole(
            "counterpoint.connection.page_size",
            conn.page_size,
            1,
            100_000,
            "rows",
        )
        .whole(
            "counterpoint.connection.connect_timeout_secs",
            conn.connect_timeout_secs,
            1,
            10 * MINUTE,
            SECS,
        )
        .whole(
            "counterpoint.connection.query_timeout_secs",
            conn.query_timeout_secs,
            1,
            HOUR,
            SECS,
        );
    }

    pub(crate) fn validate(&self, workflow: &Workflow) -> Result<(), String> {
        workflow
            .by_name(&self.stage_on)
            .map_err(|_| format!("counterpoint.stage_on: unknown status '{}'", self.stage_on))?;
        if self.enabled {
            self.connection
                .validate()
                .map_err(|e| format!("counterpoint.connection: {e}"))?;
        }
        Ok(())
    }
}
