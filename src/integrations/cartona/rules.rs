//! The marketplace's status-out rules (seed: order-status-sync-marketplace), pure so they can be tested
//! alone and shared by the push, its dry run and the outbox: map a syncdesk status (basic) or a status plus
//! delivery state (enhanced) to a marketplace status, then apply the delivery-responsibility rule —
//! supplier-delivered orders may sync any mapped status, marketplace-delivered orders only cancellation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::store::marketplace::DeliveredBy;

/// Who delivers, from Cartona's `delivered_by`: an unknown or missing value is the supplier (the seed's
/// safe default on import).
pub fn delivered_by(text: &str) -> DeliveredBy {
    match text.trim() {
        "marketplace" | "cartona" | "delivered_by_cartona" => DeliveredBy::Marketplace,
        _ => DeliveredBy::Supplier,
    }
}

/// How far the goods have got, from the recorded shipments (the enhanced mapping's second key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Nothing shipped yet.
    Confirmed,
    /// Some quantity shipped, not every line.
    Shipped,
    /// Every line shipped.
    Delivered,
}

impl DeliveryState {
    pub const NAMES: [&'static str; 3] = ["confirmed", "shipped", "delivered"];

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// From (ordered, shipped) quantities per line.
    pub fn of_lines(lines: impl IntoIterator<Item = (i64, i64)>) -> Self {
        let (mut any, mut all, mut seen) = (false, true, false);
        for (ordered, shipped) in lines {
            seen = true;
            any |= shipped > 0;
            all &= shipped >= ordered;
        }
        match (seen && all, any) {
            (true, _) => DeliveryState::Delivered,
            (false, true) => DeliveryState::Shipped,
            (false, false) => DeliveryState::Confirmed,
        }
    }
}

/// Which table maps syncdesk to the marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MappingKind {
    /// By syncdesk status alone.
    #[default]
    Basic,
    /// By syncdesk status and delivery state (`"*"`: any state).
    Enhanced,
}

/// The marketplace statuses a supplier may send.
pub const SUPPLIER_STATUSES: [&str; 6] = [
    "pending",
    "approved",
    "assigned_to_salesman",
    "delivered",
    "cancelled_by_supplier",
    "returned",
];

/// The marketplace status that cancels, the only one a marketplace-delivered order may sync.
pub const CANCELLED: &str = "cancelled_by_supplier";
/// The marketplace status that may need the retailer's OTP.
pub const DELIVERED: &str = "delivered";

/// What the rules say about pushing an order's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Verdict {
    /// Send `status`.
    Allowed { status: String },
    /// Mapped to `status`, but the delivery-responsibility rule forbids it.
    Blocked { status: String, reason: String },
    /// No mapping for this status (and delivery state): nothing is sent.
    Unmapped { reason: String },
}

impl Verdict {
    /// The short name `sync run marketplace` prints for the deciding rule.
    pub fn rule(&self) -> &'static str {
        match self {
            Verdict::Allowed { .. } => "allowed",
            Verdict::Blocked { .. } => "blocked by delivered_by=marketplace",
            Verdict::Unmapped { .. } => "unmapped",
        }
    }
}

/// Why Cartona will refuse moving an order from `from` to `to`, when that is known in advance: it answers
/// "Cannot change order status from pending to delivered" (422) — a supplier takes a pending order only
/// to approved or cancels it. Other moves are left to Cartona to judge.
pub fn move_refused(from: Option<&str>, to: &str) -> Option<String> {
    let from = from?;
    if from.eq_ignore_ascii_case("pending") && !["approved", CANCELLED].contains(&to) {
        return Some(format!(
            "cartona takes a pending order only to approved or {CANCELLED}, not {to}: approve it first \
             (a status mapped to approved, or on cartona); the push is tried again"
        ));
    }
    None
}

/// Looks `key` up case-insensitively among `table`'s keys.
fn lookup<'a>(table: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    table
        .iter()
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// Enhanced mapping: syncdesk status → delivery state (or `*`) → marketplace status.
pub type EnhancedTable = BTreeMap<String, BTreeMap<String, String>>;

/// The marketplace status for a syncdesk status (basic) or status plus delivery state (enhanced).
pub fn map_status(
    kind: MappingKind,
    basic: &BTreeMap<String, String>,
    enhanced: &EnhancedTable,
    status: &str,
    delivery: DeliveryState,
) -> Option<String> {
    match kind {
        MappingKind::Basic => lookup(basic, status),
        MappingKind::Enhanced => enhanced
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(status))
            .and_then(|(_, states)| {
                lookup(states, delivery.as_str()).or_else(|| lookup(states, "*"))
            }),
    }
    .map(str::to_string)
}

/// Maps, then applies the delivery-responsibility rule.
pub fn decide(
    kind: MappingKind,
    basic: &BTreeMap<String, String>,
    enhanced: &EnhancedTable,
    status: &str,
    delivery: DeliveryState,
    delivered_by: DeliveredBy,
) -> Verdict {
    let Some(remote) = map_status(kind, basic, enhanced, status, delivery) else {
        let key = match kind {
            MappingKind::Basic => format!("cartona.status_out.\"{status}\""),
            MappingKind::Enhanced => format!(
                "cartona.status_out_enhanced.\"{status}\".{}",
                delivery.as_str()
            ),
        };
        return Verdict::Unmapped {
            reason: format!("status {status} has no cartona mapping ({key}); nothing pushed"),
        };
    };
    if delivered_by == DeliveredBy::Marketplace && remote != CANCELLED {
        return Verdict::Blocked {
            reason: format!(
                "blocked by rule delivered_by=marketplace: the marketplace delivers this order, so only \
                 cancellation is synced (not {remote})"
            ),
            status: remote,
        };
    }
    Verdict::Allowed { status: remote }
}

/// The retailer's OTP an operator wrote in a note, e.g. `otp 4821`, `OTP: 4821`, `otp=4821`.
pub fn otp_in_note(note: &str) -> Option<String> {
    let lower = note.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("otp") {
        let start = from + at;
        from = start + 3;
        // A word of its own: not the tail of another word.
        if start > 0 && lower.as_bytes()[start - 1].is_ascii_alphanumeric() {
            continue;
        }
        let rest = note[from..].trim_start_matches([' ', ':', '=', '#', '\t']);
        let code: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if !code.is_empty() && code.chars().any(|c| c.is_ascii_digit()) {
            return Some(code);
        }
    }
    None
}

/// A cancellation reason named in the operator's note (one of `reasons`), else `default`.
pub fn reason_in_note(note: Option<&str>, reasons: &[&str], default: &str) -> String {
    let note = note
        .unwrap_or_default()
        .to_ascii_lowercase()
        .replace(' ', "_");
    reasons
        .iter()
        .find(|r| note.contains(*r))
        .map_or(default, |r| r)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn a_pending_order_moves_only_to_approved_or_cancelled() {
        assert!(move_refused(Some("pending"), "delivered").is_some());
        assert!(move_refused(Some("pending"), "assigned_to_salesman").is_some());
        assert_eq!(move_refused(Some("pending"), "approved"), None);
        assert_eq!(move_refused(Some("pending"), CANCELLED), None);
        assert_eq!(move_refused(Some("approved"), "delivered"), None);
        assert_eq!(
            move_refused(None, "delivered"),
            None,
            "unknown: Cartona judges"
        );
    }

    #[test]
    fn marketplace_delivered_orders_sync_only_cancellation() {
        let basic = table(&[("Processing", "approved"), ("Cancelled", CANCELLED)]);
        let none = BTreeMap::new();
        let d = |status, by| {
            decide(
                MappingKind::Basic,
                &basic,
                &none,
                status,
                DeliveryState::Confirmed,
                by,
            )
        };
        assert_eq!(
            d("Processing", DeliveredBy::Supplier),
            Verdict::Allowed {
                status: "approved".into()
            }
        );
        assert!(matches!(
            d("Processing", DeliveredBy::Marketplace),
            Verdict::Blocked { .. }
        ));
        assert_eq!(
            d("Cancelled", DeliveredBy::Marketplace),
            Verdict::Allowed {
                status: CANCELLED.into()
            }
        );
        assert!(matches!(
            d("Backorder", DeliveredBy::Supplier),
            Verdict::Unmapped { .. }
        ));
    }

    #[test]
    fn enhanced_prefers_the_exact_delivery_state_then_the_wildcard() {
        let enhanced = EnhancedTable::from([
            (
                "Shipped".to_string(),
                table(&[
                    ("confirmed", "approved"),
                    ("shipped", "assigned_to_salesman"),
                ]),
            ),
            ("Cancelled".to_string(), table(&[("*", CANCELLED)])),
        ]);
        let none = BTreeMap::new();
        let m = |s, d| map_status(MappingKind::Enhanced, &none, &enhanced, s, d);
        assert_eq!(
            m("shipped", DeliveryState::Confirmed).as_deref(),
            Some("approved")
        );
        assert_eq!(
            m("Shipped", DeliveryState::Shipped).as_deref(),
            Some("assigned_to_salesman")
        );
        assert_eq!(
            m("Cancelled", DeliveryState::Delivered).as_deref(),
            Some(CANCELLED)
        );
        assert_eq!(m("Shipped", DeliveryState::Delivered), None);
    }

    #[test]
    fn delivery_state_from_lines() {
        assert_eq!(
            DeliveryState::of_lines([(2, 0), (1, 0)]),
            DeliveryState::Confirmed
        );
        assert_eq!(
            DeliveryState::of_lines([(2, 1), (1, 0)]),
            DeliveryState::Shipped
        );
        assert_eq!(
            DeliveryState::of_lines([(2, 2), (1, 1)]),
            DeliveryState::Delivered
        );
    }

    #[test]
    fn otp_and_reason_from_notes() {
        assert_eq!(otp_in_note("delivered, OTP: 4821").as_deref(), Some("4821"));
        assert_eq!(otp_in_note("otp=0042 thanks").as_deref(), Some("0042"));
        assert_eq!(otp_in_note("shipped by the depot"), None);
        assert_eq!(otp_in_note("otp pending"), None);
        let reasons = ["out_of_stock", "other"];
        assert_eq!(
            reason_in_note(Some("Out of stock at the depot"), &reasons, "other"),
            "out_of_stock"
        );
        assert_eq!(reason_in_note(None, &reasons, "other"), "other");
    }
}
