//! The Restock workflow through the app facade: every transition rule, shipments, auto-completion,
//! archiving, history, and stale edits from a second process.

use syncdesk::app::{App, AppError, ShipmentDetails};
use syncdesk::store::JobState;

use crate::support::Scratch;

const STATUSES: [&str; 7] = [
    "Pending",
    "Processing",
    "Ready to Ship",
    "Shipped",
    "Completed",
    "Cancelled",
    "Backorder",
];

/// The seed's rules, written out independently of the config so a config change cannot hide a regression.
fn seed_allows(from: &str, to: &str) -> bool {
    let allowed: &[&str] = match from {
        "Pending" => &["Processing", "Backorder", "Cancelled"],
        "Processing" => &["Ready to Ship", "Backorder", "Cancelled"],
        "Backorder" => &["Processing", "Ready to Ship", "Cancelled"],
        "Ready to Ship" => &["Shipped", "Cancelled"],
        _ => &[],
    };
    allowed.contains(&to)
}

/// Creates an order and walks it into `status` by allowed moves.
fn order_in(app: &mut App, number: &str, status: &str) {
    app.add_order(
        number,
        Some("Test Customer"),
        "manual",
        &[("A".into(), 2), ("B".into(), 1)],
    )
    .unwrap();
    let path: &[&str] = match status {
        "Pending" => &[],
        "Processing" => &["Processing"],
        "Ready to Ship" => &["Processing", "Ready to Ship"],
        "Shipped" => &["Processing", "Ready to Ship", "Shipped"],
        "Backorder" => &["Backorder"],
        "Cancelled" => &["Cancelled"],
        "Completed" => {
            app.fulfill(number, &ShipmentDetails::default(), None)
                .unwrap();
            &[]
        }
        other => panic!("no path to {other}"),
    };
    for step in path {
        if *step == "Shipped" {
            // A shipped status needs something shipped (#15): one unit leaves first.
            app.ship(
                number,
                &[("A".into(), 1)],
                &ShipmentDetails::default(),
                None,
            )
            .unwrap();
        }
        app.change_status(number, step, Some("setup"), None)
            .unwrap();
    }
    assert_eq!(app.order(number).unwrap().status, status);
}

#[test]
fn every_transition_follows_the_seed() {
    let scratch = Scratch::new();
    let mut app = scratch.app("alice");
    let mut n = 0;
    for from in STATUSES {
        for to in STATUSES {
            n += 1;
            let number = format!("T-{n}");
            order_in(&mut app, &number, from);
            if to == "Shipped" && seed_allows(from, to) {
                // Allowed once something has shipped (#15): with nothing shipped it is refused first.
                let refused = app
                    .change_status(&number, to, Some("moved by test"), None)
                    .expect_err("Shipped with nothing shipped");
                assert!(
                    refused.to_string().contains("nothing is shipped yet"),
                    "{refused}"
                );
                app.ship(
                    &number,
                    &[("A".into(), 1)],
                    &ShipmentDetails::default(),
                    None,
                )
                .unwrap();
            }
            let before = app.order(&number).unwrap();
            let result = app.change_status(&number, to, Some("moved by test"), None);
            let after = app.order(&number).unwrap();
            if seed_allows(from, to) {
                let change =
                    result.unwrap_or_else(|e| panic!("{from} → {to} should be allowed: {e}"));
                assert_eq!((change.from.as_str(), change.to.as_str()), (from, to));
                assert_eq!(after.status, to);
                assert_eq!(after.version, before.version + 1);
                assert_eq!(after.history.len(), before.history.len() + 1);
            } else {
                let err = result.expect_err(&format!("{from} → {to} should be refused"));
                assert!(
                    matches!(err, AppError::Rejected(_)),
                    "{from} → {to}: {err:?}"
                );
                assert_eq!(err.exit_code(), 2);
                assert_eq!(after.status, from, "a refused move changes nothing");
                assert_eq!(after.version, before.version);
                assert_eq!(after.history.len(), before.history.len());
            }
        }
    }
}

#[test]
fn refusals_explain_themselves() {
    let scratch = Scratch::new();
    let mut app = scratch.app("alice");
    order_in(&mut app, "R-1", "Pending");
    let err = app
        .change_status("R-1", "shipped", None, None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "order R-1: cannot move from Pending to Shipped; allowed: Processing, Backorder, Cancelled"
    );
    let err = app
        .change_status("R-1", "completed", None, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("set automatically when every line is shipped"),
        "{err}"
    );
    let err = app
        .change_status("R-1", "lost in transit", None, None)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "unknown status 'lost in transit'");
    order_in(&mut app, "R-2", "Cancelled");
    let err = app
        .change_status("R-2", "processing", None, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Cancelled, which is final"), "{err}");
}

#[test]
fn shipments_complete_the_order_only_when_every_line_is_covered() {
    let scratch = Scratch::new();
    let mut app = scratch.app("wendy");
    order_in(&mut app, "R-1", "Processing");
    let details = ShipmentDetails {
        tracking: Some("1Z1".into()),
        carrier: Some("UPS".into()),
        notes: Some("box 1".into()),
    };

    let first = app.ship("R-1", &[("A".into(), 1)], &details, None).unwrap();
    assert!(!first.completed);
    let o = app.order("R-1").unwrap();
    assert_eq!((o.status.as_str(), o.archived), ("Processing", false));
    assert_eq!(
        o.lines
            .iter()
            .map(|l| l.quantity_shipped)
            .collect::<Vec<_>>(),
        [1, 0]
    );

    let second = app.ship("R-1", &[("b".into(), 1)], &details, None).unwrap();
    assert!(!second.completed, "A still has one open");

    let last = app
        .ship("R-1", &[("A".into(), 1)], &ShipmentDetails::default(), None)
        .unwrap();
    assert!(last.completed);
    let o = app.order("R-1").unwrap();
    assert_eq!((o.status.as_str(), o.archived), ("Completed", true));
    assert_eq!(o.shipments.len(), 3);
    assert_eq!(o.shipments[0].tracking.as_deref(), Some("1Z1"));
    assert_eq!(o.shipments[0].carrier.as_deref(), Some("UPS"));
    let h = o.history.last().unwrap();
    assert_eq!(
        (h.from.as_deref(), h.to.as_str(), h.by.as_str()),
        (Some("Processing"), "Completed", "wendy")
    );
    assert!(
        h.note
            .as_deref()
            .unwrap_or("")
            .contains("every line shipped")
    );
}

#[test]
fn over_shipment_is_refused_and_changes_nothing() {
    let scratch = Scratch::new();
    let mut app = scratch.app("alice");
    order_in(&mut app, "R-1", "Ready to Ship");
    app.ship("R-1", &[("A".into(), 1)], &ShipmentDetails::default(), None)
        .unwrap();
    let before = app.order("R-1").unwrap();
    let err = app
        .ship("R-1", &[("A".into(), 2)], &ShipmentDetails::default(), None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "order R-1: line A: cannot ship 2, only 1 still open (over-shipment)"
    );
    let err = app
        .ship(
            "R-1",
            &[("ZZZ".into(), 1)],
            &ShipmentDetails::default(),
            None,
        )
        .unwrap_err();
    assert!(err.to_string().contains("no such SKU"));
    let after = app.order("R-1").unwrap();
    assert_eq!(after.version, before.version);
    assert_eq!(after.shipments.len(), 1);
    assert_eq!(after.lines, before.lines);
}

#[test]
fn fulfil_ships_what_is_left_and_final_orders_take_no_shipment() {
    let scratch = Scratch::new();
    let mut app = scratch.app("alice");
    order_in(&mut app, "R-1", "Processing");
    app.ship("R-1", &[("A".into(), 1)], &ShipmentDetails::default(), None)
        .unwrap();
    let done = app
        .fulfill(
            "R-1",
            &ShipmentDetails {
                tracking: Some("T-9".into()),
                ..Default::default()
            },
            None,
        )
        .unwrap();
    assert!(done.completed);
    assert_eq!(
        done.shipped,
        vec![("A".to_string(), 1), ("B".to_string(), 1)]
    );
    let err = app
        .fulfill("R-1", &ShipmentDetails::default(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Completed, which is final"), "{err}");

    order_in(&mut app, "R-2", "Cancelled");
    let err = app
        .ship("R-2", &[("A".into(), 1)], &ShipmentDetails::default(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Cancelled, which is final"), "{err}");
}

#[test]
fn final_statuses_archive_and_stay_findable() {
    let scratch = Scratch::new();
    let mut app = scratch.app("alice");
    order_in(&mut app, "R-1", "Processing");
    order_in(&mut app, "R-2", "Completed");
    order_in(&mut app, "R-3", "Pending");
    let change = app
        .cancel("R-3", "customer changed their mind", None)
        .unwrap();
    assert!(change.archived);

    let numbers = |list: Vec<syncdesk::store::OrderSummary>| {
        list.into_iter().map(|o| o.number).collect::<Vec<_>>()
    };
    assert_eq!(
        numbers(app.list_orders(None, false, None, 100, 0).unwrap()),
        ["R-1"]
    );
    assert_eq!(
        numbers(app.list_orders(None, true, None, 100, 0).unwrap()),
        ["R-3", "R-2"]
    );
    assert_eq!(
        numbers(
            app.list_orders(Some("cancelled"), false, None, 100, 0)
                .unwrap()
        ),
        ["R-3"]
    );
    assert_eq!(
        app.order("R-3")
            .unwrap()
            .history
            .last()
            .unwrap()
            .note
            .as_deref(),
        Some("customer changed their mind")
    );
    let id = app.order("R-2").unwrap().id;
    assert_eq!(app.order(&format!("#{id}")).unwrap().number, "R-2");

    let err = app.cancel("R-1", "   ", None).unwrap_err();
    assert!(err.to_string().contains("needs a reason"));
    assert_eq!(app.order("R-1").unwrap().status, "Processing");
}

#[test]
fn history_records_who_when_from_to_source_and_note() {
    let scratch = Scratch::new();
    let mut app = scratch.app("alice");
    app.add_order("R-1", None, "manual", &[("A".into(), 1)])
        .unwrap();
    app.change_status("R-1", "Processing", Some("picked up"), None)
        .unwrap();
    let mut bob = scratch.app("bob");
    bob.change_status("R-1", "backorder", None, None).unwrap();
    let h = app.order("R-1").unwrap().history;
    assert_eq!(h.len(), 3);
    assert_eq!(
        (h[0].from.as_deref(), h[0].to.as_str(), h[0].note.as_deref()),
        (None, "Pending", Some("created"))
    );
    assert_eq!(
        (h[1].by.as_str(), h[1].source.as_str(), h[1].note.as_deref()),
        ("alice", "operator", Some("picked up"))
    );
    assert_eq!(
        (h[2].from.as_deref(), h[2].to.as_str(), h[2].by.as_str()),
        (Some("Processing"), "Backorder", "bob")
    );
    assert!(h.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(h[2].at.ends_with('Z'));
}

#[test]
fn a_stale_edit_from_another_process_is_rejected() {
    let scratch = Scratch::new();
    let mut alice = scratch.app("alice");
    let mut bob = scratch.app("bob");
    alice
        .add_order("R-1", None, "manual", &[("A".into(), 1)])
        .unwrap();
    let seen = alice.order("R-1").unwrap();

    bob.change_status("R-1", "processing", None, Some(seen.version))
        .unwrap();
    let err = alice
        .change_status("R-1", "backorder", None, Some(seen.version))
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("order R-1 changed since you loaded it (by bob at 20"),
        "{msg}"
    );
    assert_eq!(err.exit_code(), 2);
    let err = alice
        .ship(
            "R-1",
            &[("A".into(), 1)],
            &ShipmentDetails::default(),
            Some(seen.version),
        )
        .unwrap_err();
    assert!(matches!(err, AppError::Stale { .. }));

    let now = alice.order("R-1").unwrap();
    assert_eq!(now.status, "Processing", "bob's change stands");
    assert!(now.shipments.is_empty());
    alice
        .change_status("R-1", "backorder", None, Some(now.version))
        .unwrap();
}

#[test]
fn entering_backorder_queues_one_email_job_in_the_same_transaction() {
    let scratch = Scratch::new();
    let mut app = scratch.app("alice");
    order_in(&mut app, "R-1", "Backorder");
    order_in(&mut app, "R-2", "Processing");
    let jobs = app.jobs(None, 10).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (jobs[0].kind.as_str(), jobs[0].state),
        ("email.backorder", JobState::Queued)
    );
    app.change_status("R-2", "backorder", None, None).unwrap();
    app.change_status("R-1", "processing", None, None).unwrap();
    app.change_status("R-1", "backorder", None, None).unwrap();
    assert_eq!(
        app.jobs(Some(JobState::Queued), 10).unwrap().len(),
        3,
        "one notice per entry into Backorder"
    );
    let alerts = app.alerts(false, 10).unwrap();
    assert_eq!(
        alerts.iter().filter(|a| a.kind == "backorder").count(),
        2,
        "one open alert per order: {alerts:?}"
    );
}

#[test]
fn bad_new_orders_are_refused_with_the_field_named() {
    let scratch = Scratch::new();
    let mut app = scratch.app("alice");
    app.add_order("R-1", None, "manual", &[("A".into(), 1)])
        .unwrap();
    type Case<'a> = (&'a str, &'a [(String, i64)], &'a str);
    let cases: [Case; 4] = [
        ("R-1", &[("A".into(), 1)], "order R-1 already exists"),
        ("  ", &[("A".into(), 1)], "--number"),
        ("R-2", &[], "at least one line"),
        ("R-3", &[("A".into(), 0)], "quantity must be positive"),
    ];
    for (number, lines, expected) in cases {
        let err = app
            .add_order(number, None, "manual", lines)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{number}: {err}");
    }
    assert_eq!(app.list_orders(None, false, None, 10, 0).unwrap().len(), 1);
}

#[test]
fn cancelling_always_needs_a_reason_and_numbers_cannot_look_like_ids() {
    let scratch = Scratch::new();
    let mut app = scratch.app("alice");
    app.add_order("R-1", None, "manual", &[("A".into(), 1)])
        .unwrap();
    let err = app
        .change_status("R-1", "cancelled", None, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("needs a reason"), "{err}");
    assert_eq!(app.order("R-1").unwrap().status, "Pending");
    app.change_status("R-1", "cancelled", Some("duplicate order"), None)
        .unwrap();
    assert_eq!(
        app.order("R-1").unwrap().history[1].note.as_deref(),
        Some("duplicate order")
    );

    let err = app
        .add_order("#5", None, "manual", &[("A".into(), 1)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("must not start with '#'"), "{err}");
}
