//! Shipment arithmetic: how a requested shipment spreads over an order's lines, over-shipment refusal, and
//! when an order counts as completely shipped.

use std::collections::BTreeMap;

/// What one order line has asked for and received so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProgress {
    pub line_id: i64,
    pub sku: String,
    pub ordered: i64,
    pub shipped: i64,
}

impl LineProgress {
    pub fn remaining(&self) -> i64 {
        (self.ordered - self.shipped).max(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShipmentError {
    #[error("nothing to ship: give at least one line")]
    Empty,
    #[error("line {sku}: quantity must be positive, got {qty}")]
    NotPositive { sku: String, qty: i64 },
    #[error("line {sku}: the order has no such SKU")]
    UnknownSku { sku: String },
    #[error("line {sku}: cannot ship {qty}, only {remaining} still open (over-shipment)")]
    OverShipment {
        sku: String,
        qty: i64,
        remaining: i64,
    },
    #[error("every line is already shipped")]
    NothingOpen,
}

/// Spreads `request` (SKU → quantity) over the lines in line order and returns (line id, quantity) pairs.
/// SKUs match case-insensitively; a SKU on several lines fills them in order.
pub fn plan_shipment(
    lines: &[LineProgress],
    request: &[(String, i64)],
) -> Result<Vec<(i64, i64)>, ShipmentError> {
    if request.is_empty() {
        return Err(ShipmentError::Empty);
    }
    // Sum repeated SKUs in the request first, so `--line A=1 --line A=1` means two of A.
    let mut wanted: BTreeMap<String, (String, i64)> = BTreeMap::new();
    for (sku, qty) in request {
        if *qty <= 0 {
            return Err(ShipmentError::NotPositive {
                sku: sku.clone(),
                qty: *qty,
            });
        }
        wanted
            .entry(sku.to_lowercase())
            .or_insert_with(|| (sku.clone(), 0))
            .1 += qty;
    }
    let mut plan = Vec::new();
    for (key, (sku, qty)) in wanted {
        let matching: Vec<&LineProgress> = lines
            .iter()
            .filter(|l| l.sku.to_lowercase() == key)
            .collect();
        if matching.is_empty() {
            return Err(ShipmentError::UnknownSku { sku });
        }
        let remaining: i64 = matching.iter().map(|l| l.remaining()).sum();
        if qty > remaining {
            return Err(ShipmentError::OverShipment {
                sku,
                qty,
                remaining,
            });
        }
        let mut left = qty;
        for line in matching {
            let take = left.min(line.remaining());
            if take > 0 {
                plan.push((line.line_id, take));
                left -= take;
            }
        }
    }
    plan.sort_unstable();
    Ok(plan)
}

/// Everything still open, for "fulfil the whole order".
pub fn plan_remaining(lines: &[LineProgress]) -> Result<Vec<(i64, i64)>, ShipmentError> {
    let plan: Vec<(i64, i64)> = lines
        .iter()
        .filter(|l| l.remaining() > 0)
        .map(|l| (l.line_id, l.remaining()))
        .collect();
    if plan.is_empty() {
        Err(ShipmentError::NothingOpen)
    } else {
        Ok(plan)
    }
}

/// An order is complete when shipments cover every line's ordered quantity.
pub fn is_fully_shipped(lines: &[LineProgress]) -> bool {
    !lines.is_empty() && lines.iter().all(|l| l.shipped >= l.ordered)
}

/// Whether no unit of the order has shipped yet: a shipped status then claims a parcel nobody recorded.
pub fn is_unshipped(lines: &[LineProgress]) -> bool {
    lines.iter().all(|l| l.shipped == 0)
}

/// One parcel as a customer or a back office reads it: "UPS, tracking 1Z999, 2026-12-06".
pub fn parcel_line(carrier: Option<&str>, tracking: Option<&str>, shipped_on: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(
        carrier
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from),
    );
    parts.extend(
        tracking
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| format!("tracking {t}")),
    );
    parts.push(shipped_on.to_string());
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines() -> Vec<LineProgress> {
        vec![
            LineProgress {
                line_id: 1,
                sku: "A".into(),
                ordered: 3,
                shipped: 0,
            },
            LineProgress {
                line_id: 2,
                sku: "B".into(),
                ordered: 1,
                shipped: 1,
            },
            LineProgress {
                line_id: 3,
                sku: "A".into(),
                ordered: 2,
                shipped: 0,
            },
        ]
    }

    #[test]
    fn repeated_sku_fills_lines_in_order() {
        let plan = plan_shipment(&lines(), &[("a".into(), 4)]).unwrap();
        assert_eq!(plan, vec![(1, 3), (3, 1)]);
    }

    #[test]
    fn over_shipment_is_refused_with_what_is_left() {
        let err = plan_shipment(&lines(), &[("B".into(), 1)]).unwrap_err();
        assert_eq!(
            err,
            ShipmentError::OverShipment {
                sku: "B".into(),
                qty: 1,
                remaining: 0
            }
        );
        let err = plan_shipment(&lines(), &[("A".into(), 3), ("A".into(), 3)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line A: cannot ship 6, only 5 still open (over-shipment)"
        );
    }

    #[test]
    fn bad_requests_are_named() {
        assert_eq!(
            plan_shipment(&lines(), &[]).unwrap_err(),
            ShipmentError::Empty
        );
        assert!(matches!(
            plan_shipment(&lines(), &[("Z".into(), 1)]),
            Err(ShipmentError::UnknownSku { .. })
        ));
        assert!(matches!(
            plan_shipment(&lines(), &[("A".into(), 0)]),
            Err(ShipmentError::NotPositive { .. })
        ));
    }

    #[test]
    fn complete_iff_every_line_covered() {
        let mut l = lines();
        assert!(!is_fully_shipped(&l));
        assert_eq!(plan_remaining(&l).unwrap(), vec![(1, 3), (3, 2)]);
        l[0].shipped = 3;
        l[2].shipped = 2;
        assert!(is_fully_shipped(&l));
        assert_eq!(plan_remaining(&l).unwrap_err(), ShipmentError::NothingOpen);
        assert!(!is_fully_shipped(&[]));
    }
}
