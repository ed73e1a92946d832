//! The bulk status update followed by a re-read, so a per-item silent failure becomes visible. No business
//! rule here: it only reports what Cartona shows after the update.

use super::error::CartonaError;
use super::http::CartonaClient;
use super::types::{OrderStatus, StatusUpdate};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemResult {
    pub hashed_id: String,
    pub requested: OrderStatus,
    pub outcome: ItemOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// The order now shows the requested status (for `synced`: it is no longer listed).
    Applied,
    /// Cartona accepted the request but the order still shows `observed`.
    NotApplied { observed: OrderStatus },
    /// The order was not in the re-read window, so nothing can be said.
    NotSeen,
}

impl ItemResult {
    pub fn is_applied(&self) -> bool {
        self.outcome == ItemOutcome::Applied
    }
}

impl CartonaClient {
    /// Sends the bulk update, then re-reads the orders through `pull-orders` from `since` (the earliest
    /// creation time among them; Cartona offers no single-order read) and reports every item.
    pub async fn bulk_update_status_verified(
        &self,
        updates: &[StatusUpdate],
        since: DateTime<Utc>,
    ) -> Result<Vec<ItemResult>, CartonaError> {
        let until = Utc::now() + chrono::Duration::minutes(1);
        self.bulk_update_status_verified_between(updates, since, until)
            .await
    }

    /// As `bulk_update_status_verified`, re-reading only orders created in `[from, to]`: a batch of orders
    /// created close together is verified with one page instead of every order since the oldest.
    pub async fn bulk_update_status_verified_between(
        &self,
        updates: &[StatusUpdate],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ItemResult>, CartonaError> {
        if updates.is_empty() {
            return Ok(Vec::new());
        }
        self.update_status_bulk(updates).await?;
        let listed: HashMap<String, OrderStatus> = self
            .pull_orders(Some(from), Some(to))
            .await?
            .into_iter()
            .map(|o| (o.hashed_id, o.status))
            .collect();
        Ok(updates
            .iter()
            .map(|update| {
                let observed = listed.get(&update.hashed_id);
                let outcome = match (&update.status, observed) {
                    (OrderStatus::Synced, None) => ItemOutcome::Applied,
                    (_, None) => ItemOutcome::NotSeen,
                    (requested, Some(now)) if now == requested => ItemOutcome::Applied,
                    (_, Some(now)) => ItemOutcome::NotApplied {
                        observed: now.clone(),
                    },
                };
                ItemResult {
                    hashed_id: update.hashed_id.clone(),
                    requested: update.status.clone(),
                    outcome,
                }
            })
            .collect())
    }
}
