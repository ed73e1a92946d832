//! `[stock]`: stock sync between the back office and the store — the merge, its conflicts and their
//! policies, prices.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::inventory::{ConflictKind, Policy};

/// Stock sync between the back office and the store: the merge, its conflicts and their policies.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StockConfig {
    pub enabled: bool,
    /// Incremental pass: POS changes since the watermark plus store hints.
    pub incremental_secs: u64,
    /// Full pass over every aligned SKU (nightly by default).
    pub full_every_secs: u64,
    /// A side may move this many units beyond the sales that explain it before the merge is distrusted.
    pub threshold: i64,
    /// Conflict kind → pos_wins, store_wins, merge or manual.
    pub policies: BTreeMap<String, Policy>,
    /// Which side's regular price is the truth: pos (written to the store) or store (reported only).
    pub price_source: PriceSource,
    /// Share of the POS price (0.20 = 20%) the sides may differ by before the difference is distrusted.
    pub price_drift: f64,
    /// Drift beyond `price_drift` raises a price_drift conflict (settled by its policy) instead of a write.
    pub price_drift_conflict: bool,
    /// Price pass over every aligned SKU (daily by default).
    pub prices_every_secs: u64,
}

/// The side whose prices win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    #[default]
    Pos,
    Store,
}

impl<'de> Deserialize<'de> for PriceSource {
    /// `pos` or `store` (also under its name from before the store side was renamed).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "pos" => Ok(PriceSource::Pos),
            "store" | super::LEGACY_STORE_WINNER => Ok(PriceSource::Store),
            other => Err(serde::de::Error::custom(format!(
                "unknown price source '{other}'; one of pos, store"
            ))),
        }
    }
}

impl Default for StockConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            incremental_secs: 5,
            full_every_secs: 86_400,
            threshold: 10,
            policies: BTreeMap::from([
                ("negative_stock".into(), Policy::Manual),
                ("unexplained_change".into(), Policy::Manual),
                ("quantity_mismatch".into(), Policy::PosWins),
                ("price_drift".into(), Policy::Manual),
                ("missing_alignment".into(), Policy::Manual),
                ("unconfirmed_write".into(), Policy::Manual),
            ]),
            price_source: PriceSource::Pos,
            price_drift: 0.20,
            price_drift_conflict: true,
            prices_every_secs: 86_400,
        }
    }
}

impl StockConfig {
    /// This section's numeric fields with their allowed ranges (part of the one range table).
    pub(crate) fn ranges(&self, t: &mut crate::config::Ranges) {
        use crate::config::units::*;
        t.whole(
            "stock.incremental_secs",
            self.incremental_secs,
            1,
            DAY,
            SECS,
        )
        .whole(
            "stock.full_every_secs",
            self.full_every_secs,
            1,
            MONTH,
            SECS,
        )
        .whole("stock.threshold", self.threshold, 0, 1_000_000_000, "units")
        .real(
            "stock.price_drift",
            self.price_drift,
            0.0,
            10.0,
            "a share: 0.20 = 20%",
        )
        .whole(
            "stock.prices_every_secs",
            self.prices_every_secs,
            1,
            MONTH,
            SECS,
        );
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        for kind in self.policies.keys() {
            if ConflictKind::parse(kind).is_none() {
                let all: Vec<&str> = ConflictKind::ALL.iter().map(|k| k.as_str()).collect();
                return Err(format!(
                    "stock.policies.{kind}: unknown conflict type; one of {}",
                    all.join(", ")
                ));
            }
        }
        Ok(())
    }

    pub fn policy(&self, kind: ConflictKind) -> Policy {
        self.policies
            .get(kind.as_str())
            .copied()
            .unwrap_or(Policy::Manual)
    }
}

impl Policy {
    /// As resolutions are recorded and the sync log names it.
    pub fn name(self) -> &'static str {
        match self {
            Policy::PosWins => "pos_wins",
            Policy::StoreWins => super::LEGACY_STORE_WINS,
            Policy::Merge => "merge",
            Policy::Manual => "manual",
        }
    }

    /// How screens and the CLI say it ("store wins"): one word for the store everywhere, whatever the
    /// recorded name (the legacy name stays in the data for the files and scripts that read it).
    pub fn words(self) -> &'static str {
        match self {
            Policy::PosWins => "POS wins",
            Policy::StoreWins => "store wins",
            Policy::Merge => "merge",
            Policy::Manual => "manual",
        }
    }

    /// A recorded resolution (a policy's recorded name, or "quantity") in the words screens use.
    pub fn said(recorded: &str) -> &str {
        match (Policy::parse(recorded), recorded) {
            (Some(p), _) => p.words(),
            (None, "quantity") => "counted quantity",
            (None, other) => other,
        }
    }

    /// A configured or recorded name; `store_wins` and its legacy name are the same policy.
    pub fn parse(name: &str) -> Option<Policy> {
        match name {
            "pos_wins" => Some(Policy::PosWins),
            "store_wins" | super::LEGACY_STORE_WINS => Some(Policy::StoreWins),
            "merge" => Some(Policy::Merge),
            "manual" => Some(Policy::Manual),
            _ => None,
        }
    }
}

impl serde::Serialize for Policy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Policy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Policy::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown policy '{name}'; one of pos_wins, store_wins, merge, manual"
            ))
        })
    }
}
