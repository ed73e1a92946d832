//! Live alignment queries: proposals for what is unaligned (and coverage), and both sides of one pair as
//! they are right now. Both read the systems through the stock passes' sides.

use std::collections::BTreeSet;

use serde::Serialize;

use super::App;
use crate::domain::alignment;
use crate::domain::inventory::MergeBase;
use crate::domain::time::to_short;
use crate::engine::passes::PassError;
use crate::engine::stock_flows;

/// What `alignment suggest` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestions {
    pub pos_items: usize,
    pub aligned: usize,
    pub coverage_percent: f64,
    pub suggestions: Vec<alignment::Alignment>,
}

/// One aligned pair, both sides read now, next to what syncdesk remembers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairNow {
    #[serde(skip)]
    pub pos_name: &'static str,
    pub pos_sku: String,
    pub store_sku: String,
    pub pos_quantity: Option<String>,
    pub pos_price: Option<String>,
    pub store_quantity: Option<i64>,
    pub store_price: Option<String>,
    pub store_manages_stock: Option<bool>,
    pub merge_base: Option<MergeBase>,
    pub sync_state: String,
    pub last_error: Option<String>,
    pub last_pass: Option<String>,
}

fn store_error(e: super::AppError) -> PassError {
    PassError {
        rejected: e.exit_code() == 2,
        message: e.to_string(),
    }
}

impl App {
    /// Proposes pairs for unaligned SKUs (exact, normalised, fuzzy down to `min_confidence`) and reports
    /// coverage.
    pub async fn alignment_suggestions(
        &mut self,
        min_confidence: f64,
    ) -> Result<Suggestions, PassError> {
        let aligned = self.alignment().map_err(store_error)?;
        let (pos_items, store_skus) = stock_flows::catalogue(&self.config).await?;
        let taken_pos: BTreeSet<&str> = aligned.iter().map(|a| a.pos_sku.as_str()).collect();
        let taken_store: BTreeSet<&str> = aligned.iter().map(|a| a.store_sku.as_str()).collect();
        let free_pos: Vec<String> = pos_items
            .iter()
            .filter(|i| !taken_pos.contains(i.as_str()))
            .cloned()
            .collect();
        let free_store: Vec<String> = store_skus
            .into_iter()
            .filter(|s| !s.is_empty() && !taken_store.contains(s.as_str()))
            .collect();
        let suggestions = alignment::suggest(&free_pos, &free_store, min_confidence);
        let covered = pos_items
            .iter()
            .filter(|i| taken_pos.contains(i.as_str()))
            .count();
        Ok(Suggestions {
            pos_items: pos_items.len(),
            aligned: covered,
            coverage_percent: if pos_items.is_empty() {
                0.0
            } else {
                100.0 * covered as f64 / pos_items.len() as f64
            },
            suggestions,
        })
    }

    /// Both sides of the pair `sku` (either side's SKU) read now, next to what syncdesk remembers.
    pub async fn alignment_test(&mut self, sku: &str) -> Result<PairNow, PassError> {
        let pair = self
            .alignment()
            .map_err(store_error)?
            .into_iter()
            .find(|a| a.pos_sku.eq_ignore_ascii_case(sku) || a.store_sku.eq_ignore_ascii_case(sku))
            .ok_or_else(|| {
                PassError::rejected(format!(
                    "{sku} is not aligned; see `syncdesk alignment suggest`"
                ))
            })?;
        let sides = stock_flows::pair_sides(&self.config, &pair.pos_sku, &pair.store_sku).await?;
        let product = sides.store.as_ref();
        Ok(PairNow {
            pos_name: sides.pos_name,
            pos_sku: pair.pos_sku.clone(),
            store_sku: pair.store_sku.clone(),
            pos_quantity: sides.pos_quantity.clone(),
            pos_price: sides.pos_price.clone(),
            store_quantity: product.and_then(|p| p.stock_quantity),
            store_price: product.map(|p| p.regular_price.clone()),
            store_manages_stock: product.map(|p| p.manage_stock),
            merge_base: pair.base,
            sync_state: pair.sync_state.clone(),
            last_error: pair.last_error.clone(),
            last_pass: pair.last_pass_at.map(to_short),
        })
    }
}
