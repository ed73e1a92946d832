//! Property: whatever operators and shipments do, in any order, the workflow's invariants hold —
//! a final status never changes, archived iff final, one history row per change, and
//! completed iff shipments cover every line.

use proptest::prelude::*;
use syncdesk::app::ShipmentDetails;
use syncdesk::domain::StatusKind;

use crate::support::Scratch;

const NAMES: [&str; 7] = [
    "Pending",
    "Processing",
    "Ready to Ship",
    "Shipped",
    "Completed",
    "Cancelled",
    "Backorder",
];

#[derive(Debug, Clone)]
enum Op {
    Move(usize),
    Ship { line: usize, qty: i64 },
    Fulfil,
    Cancel,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..NAMES.len()).prop_map(Op::Move),
        4 => (0..4usize, 1..4i64).prop_map(|(line, qty)| Op::Ship { line, qty }),
        1 => Just(Op::Fulfil),
        1 => Just(Op::Cancel),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn workflow_invariants_hold(quantities in prop::collection::vec(1..5i64, 1..4), ops in prop::collection::vec(op(), 1..25)) {
        let scratch = Scratch::new();
        let mut app = scratch.app("prop");
        let lines: Vec<(String, i64)> = quantities.iter().enumerate().map(|(i, q)| (format!("SKU-{i}"), *q)).collect();
        app.add_order("P-1", None, "manual", &lines).unwrap();
        let mut changes = 1; // the creation row

        for op in ops {
            let before = app.order("P-1").unwrap();
            let result = match &op {
                Op::Move(i) => app.change_status("P-1", NAMES[*i], Some("prop"), None).map(|_| true),
                Op::Ship { line, qty } => {
                    let sku = format!("SKU-{}", line % lines.len());
                    app.ship("P-1", &[(sku, *qty)], &ShipmentDetails::default(), None).map(|o| o.completed)
                }
                Op::Fulfil => app.fulfill("P-1", &ShipmentDetails::default(), None).map(|o| o.completed),
                Op::Cancel => app.cancel("P-1", "prop", None).map(|_| true),
            };
            let after = app.order("P-1").unwrap();
            if matches!(result, Ok(true)) {
                changes += 1;
            }

            // A final status never changes, and every command on it is refused.
            if before.status_kind.is_final() {
                prop_assert!(result.is_err(), "{op:?} accepted on a {} order", before.status);
                prop_assert_eq!(&after.status, &before.status);
                prop_assert_eq!(after.version, before.version);
            }
            // Archived iff final.
            prop_assert_eq!(after.archived, after.status_kind.is_final());
            // One history row per change.
            prop_assert_eq!(after.history.len(), changes);
            // Never shipped more than ordered; completed iff every line covered.
            prop_assert!(after.lines.iter().all(|l| l.quantity_shipped <= l.quantity));
            let covered = after.lines.iter().all(|l| l.quantity_shipped >= l.quantity);
            prop_assert_eq!(after.status_kind == StatusKind::Completed, covered, "{:?} after {:?}", after.status, op);
        }
    }
}
