//! Alert rules: what is worth telling a person, how urgently, and under which key it counts as "the same"
//! alert (an open alert is raised once until someone acknowledges it). Pure: observations in, alerts out.

use serde::{Deserialize, Serialize};

use super::inventory::price_drift;

/// How urgent an alert is; decides whether it is e-mailed at once or in the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Low, Severity::Medium, Severity::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A side shows less than zero in stock: something was oversold.
    NegativeStock,
    /// POS and store disagree by more than the configured number of units.
    QuantityDiscrepancy,
    /// POS and store prices differ by more than the configured share of the POS price.
    PriceDifference,
    /// A sync job gave up or keeps failing.
    SyncFailure,
    /// A SKU is aligned but one side has no such item.
    MissingAlignment,
    /// An order went on backorder.
    Backorder,
}

impl AlertKind {
    pub const ALL: [AlertKind; 6] = [
        AlertKind::NegativeStock,
        AlertKind::QuantityDiscrepancy,
        AlertKind::PriceDifference,
        AlertKind::SyncFailure,
        AlertKind::MissingAlignment,
        AlertKind::Backorder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::NegativeStock => "negative_stock",
            AlertKind::QuantityDiscrepancy => "quantity_discrepancy",
            AlertKind::PriceDifference => "price_difference",
            AlertKind::SyncFailure => "sync_failure",
            AlertKind::MissingAlignment => "missing_alignment",
            AlertKind::Backorder => "backorder",
        }
    }

    pub fn parse(s: &str) -> Option<AlertKind> {
        AlertKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The severity the spec's alert table gives each condition.
    pub fn default_severity(self) -> Severity {
        match self {
            AlertKind::NegativeStock | AlertKind::SyncFailure => Severity::High,
            AlertKind::QuantityDiscrepancy | AlertKind::PriceDifference | AlertKind::Backorder => {
                Severity::Medium
            }
            AlertKind::MissingAlignment => Severity::Low,
        }
    }
}

/// An alert about to be raised.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub kind: AlertKind,
    pub severity: Severity,
    pub subject: String,
    pub message: String,
    /// Alerts with the same key are one alert while it is open; `kind:subject-of-the-fact`, e.g. `negative_stock:SKU`.
    pub dedupe_key: String,
}

impl NewAlert {
    /// An alert of `kind` at its default severity, keyed `kind:what`.
    pub fn new(kind: AlertKind, what: &str, subject: String, message: String) -> NewAlert {
        NewAlert {
            kind,
            severity: kind.default_severity(),
            subject,
            message,
            dedupe_key: format!("{}:{what}", kind.as_str()),
        }
    }
}

/// Where the stock rules draw the line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// A POS/store difference of more than this many units is a discrepancy.
    pub discrepancy_units: i64,
    /// A price difference of more than this share of the POS price (0.20 = 20%) is worth a look.
    pub price_difference: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            discrepancy_units: 10,
            price_difference: 0.20,
        }
    }
}

/// The alerts one aligned SKU's observation calls for. `None` on a side means that side has no such item.
pub fn stock_alerts(
    sku: &str,
    pos_qty: Option<i64>,
    store_qty: Option<i64>,
    pos_price: Option<f64>,
    store_price: Option<f64>,
    thresholds: &Thresholds,
) -> Vec<NewAlert> {
    let mut alerts = Vec::new();
    let negative: Vec<String> = [("POS", pos_qty), ("store", store_qty)]
        .into_iter()
        .filter_map(|(side, q)| q.filter(|q| *q < 0).map(|q| format!("{side} {q}")))
        .collect();
    if !negative.is_empty() {
        alerts.push(NewAlert::new(
            AlertKind::NegativeStock,
            sku,
            format!("Negative stock: {sku}"),
            format!(
                "{sku} shows negative stock ({}): more was sold than was on hand.",
                negative.join(", ")
            ),
        ));
    }
    match (pos_qty, store_qty) {
        (Some(pos), Some(store)) if (pos - store).abs() > thresholds.discrepancy_units => {
            alerts.push(NewAlert::new(
                AlertKind::QuantityDiscrepancy,
                sku,
                format!("Stock discrepancy: {sku}"),
                format!(
                    "{sku}: POS shows {pos}, the store shows {store} (a difference of {}, more than {}).",
                    (pos - store).abs(),
                    thresholds.discrepancy_units
                ),
            ));
        }
        (Some(_), None) => alerts.push(missing_alignment(sku, "the store")),
        (None, Some(_)) => alerts.push(missing_alignment(sku, "the POS")),
        (None, None) => alerts.push(missing_alignment(sku, "either side")),
        _ => {}
    }
    if let (Some(pos), Some(store)) = (pos_price, store_price)
        && price_drift(pos, store, thresholds.price_difference)
    {
        alerts.push(NewAlert::new(
            AlertKind::PriceDifference,
            sku,
            format!("Price difference: {sku}"),
            format!(
                "{sku}: POS price {pos:.2}, store price {store:.2} (differ by more than {:.0}%).",
                thresholds.price_difference * 100.0
            ),
        ));
    }
    alerts
}

/// An aligned SKU that `missing_on` has no item for.
pub fn missing_alignment(sku: &str, missing_on: &str) -> NewAlert {
    NewAlert::new(
        AlertKind::MissingAlignment,
        sku,
        format!("Missing alignment: {sku}"),
        format!("{sku} is aligned, but {missing_on} has no such item; its stock is not synced."),
    )
}

/// A sync that failed for good (or keeps failing); `what` names the job or entity, e.g. `order:R-7`.
pub fn sync_failure(system: &str, what: &str, error: &str) -> NewAlert {
    NewAlert::new(
        AlertKind::SyncFailure,
        &format!("{system}:{what}"),
        format!("Sync failure: {system} {what}"),
        format!("Syncing {what} with {system} failed: {error}"),
    )
}

/// An order that went on backorder.
pub fn backorder(order_number: &str) -> NewAlert {
    NewAlert::new(
        AlertKind::Backorder,
        order_number,
        format!("Backorder: order {order_number}"),
        format!("Order {order_number} is on backorder; purchasing has been asked to restock it."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(alerts: &[NewAlert]) -> Vec<&'static str> {
        alerts.iter().map(|a| a.kind.as_str()).collect()
    }

    #[test]
    fn severities_follow_the_spec_table() {
        assert_eq!(AlertKind::NegativeStock.default_severity(), Severity::High);
        assert_eq!(AlertKind::SyncFailure.default_severity(), Severity::High);
        assert_eq!(
            AlertKind::QuantityDiscrepancy.default_severity(),
            Severity::Medium
        );
        assert_eq!(
            AlertKind::PriceDifference.default_severity(),
            Severity::Medium
        );
        assert_eq!(AlertKind::Backorder.default_severity(), Severity::Medium);
        assert_eq!(
            AlertKind::MissingAlignment.default_severity(),
            Severity::Low
        );
    }

    #[test]
    fn names_round_trip() {
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.as_str()), Some(k));
        }
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        assert_eq!(Severity::parse(" HIGH "), Some(Severity::High));
        assert_eq!(Severity::parse("urgent"), None);
    }

    #[test]
    fn agreeing_sides_raise_nothing() {
        let t = Thresholds::default();
        assert!(stock_alerts("A", Some(5), Some(5), Some(10.0), Some(10.0), &t).is_empty());
        // Exactly at the thresholds is still fine: the rules say "more than".
        assert!(stock_alerts("A", Some(20), Some(10), Some(10.0), Some(8.0), &t).is_empty());
    }

    #[test]
    fn negative_stock_is_one_high_alert_per_sku() {
        let t = Thresholds::default();
        let a = stock_alerts("BEAN", Some(-1), Some(-2), None, None, &t);
        assert_eq!(kinds(&a), ["negative_stock"]);
        assert_eq!(a[0].severity, Severity::High);
        assert_eq!(a[0].dedupe_key, "negative_stock:BEAN");
        assert!(
            a[0].message.contains("POS -1, store -2"),
            "{}",
            a[0].message
        );
    }

    #[test]
    fn discrepancy_and_price_difference_past_the_thresholds() {
        let t = Thresholds::default();
        let a = stock_alerts("CUP", Some(30), Some(19), Some(10.0), Some(7.5), &t);
        assert_eq!(kinds(&a), ["quantity_discrepancy", "price_difference"]);
        assert_eq!(a[0].dedupe_key, "quantity_discrepancy:CUP");
        assert_eq!(a[1].dedupe_key, "price_difference:CUP");
        assert!(a.iter().all(|x| x.severity == Severity::Medium));
        let tight = Thresholds {
            discrepancy_units: 0,
            price_difference: 0.0,
        };
        let a = stock_alerts("CUP", Some(2), Some(1), Some(10.0), Some(9.99), &tight);
        assert_eq!(kinds(&a), ["quantity_discrepancy", "price_difference"]);
    }

    #[test]
    fn a_missing_side_is_a_low_alert() {
        let t = Thresholds::default();
        let a = stock_alerts("MUG", Some(3), None, None, None, &t);
        assert_eq!(kinds(&a), ["missing_alignment"]);
        assert_eq!(a[0].severity, Severity::Low);
        assert!(a[0].message.contains("the store has no such item"));
        let a = stock_alerts("MUG", None, Some(-1), None, None, &t);
        assert_eq!(kinds(&a), ["negative_stock", "missing_alignment"]);
    }

    #[test]
    fn other_rules_have_stable_keys() {
        assert_eq!(
            sync_failure("shop", "order:R-7", "HTTP 500").dedupe_key,
            "sync_failure:shop:order:R-7"
        );
        let b = backorder("R-9");
        assert_eq!(b.dedupe_key, "backorder:R-9");
        assert_eq!(b.severity, Severity::Medium);
    }
}
