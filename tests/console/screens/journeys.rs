//! Journeys that must not break (#15 point 1): Shipped is reached by recording a shipment, never by the
//! status alone (the picker leads to the shipment dialog, `app` refuses it for the CLI too); a dialog the app
//! would refuse is refused before the operator types into it; a channel's rule known in advance is named in
//! the status picker before the operator commits — keys in, the store asserted.

use crossterm::event::KeyCode;
use syncdesk::store::links;
use syncdesk::store::marketplace::{self, DeliveredBy};
use syncdesk::tui::state::Modal;

use super::{Fixture, HOUR, NOW, keys, last_toast, press, select, shot};

/// R-2 walked on to Ready to Ship with nothing shipped.
fn ready_with_nothing_shipped(f: &Fixture) {
    f.app("bob")
        .change_status("R-2", "Ready to Ship", None, None)
        .unwrap();
}

#[test]
fn choosing_shipped_with_nothing_shipped_opens_the_shipment_dialog_and_the_shipment_moves_the_order()
 {
    let f = Fixture::new();
    ready_with_nothing_shipped(&f);
    let before = f.app("x").order("R-2").unwrap();
    let mut c = f.console();
    select(&mut c, "R-2");
    keys(&mut c, "s");
    match &c.ui.modal {
        Some(Modal::StatusPicker(p)) => {
            assert_eq!(p.options, ["Shipped", "Cancelled"]);
            let said = p.warnings[0].as_deref().unwrap_or("");
            assert!(said.contains("opens the shipment dialog (F)"), "{said}");
        }
        other => panic!("expected the picker, got {other:?}"),
    }
    press(&mut c, KeyCode::Enter); // Shipped
    assert!(
        matches!(c.ui.modal, Some(Modal::Fulfil(_))),
        "Shipped leads to the shipment dialog: {:?} / {}",
        c.ui.modal,
        last_toast(&c)
    );
    let unchanged = f.app("x").order("R-2").unwrap();
    assert_eq!(
        unchanged.status, "Ready to Ship",
        "nothing changes before the shipment"
    );
    assert_eq!(unchanged.version, before.version);
    keys(&mut c, "1Z555");
    press(&mut c, KeyCode::Enter);
    assert!(c.ui.modal.is_none(), "{}", last_toast(&c));
    let after = f.app("x").order("R-2").unwrap();
    assert_eq!(after.status, "Completed");
    assert_eq!(after.shipments.len(), 1);
    assert_eq!(after.shipments[0].tracking.as_deref(), Some("1Z555"));
    assert_eq!(after.shipments[0].created_by, "carol");
}

#[test]
fn the_app_refuses_shipped_with_nothing_shipped_and_names_the_key() {
    let f = Fixture::new();
    ready_with_nothing_shipped(&f);
    let mut app = f.app("dave");
    let before = app.order("R-2").unwrap();
    let err = app
        .change_status("R-2", "shipped", None, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("order R-2: nothing is shipped yet"), "{err}");
    assert!(err.contains("record the shipment: F"), "{err}");
    assert!(err.contains("syncdesk orders fulfill R-2"), "{err}");
    let after = app.order("R-2").unwrap();
    assert_eq!(
        (after.status.as_str(), after.version, after.history.len()),
        ("Ready to Ship", before.version, before.history.len()),
        "a refused move changes nothing"
    );
    // Once part of it has left, Shipped says so truthfully and is accepted.
    app.ship(
        "R-2",
        &[("SKU-C".into(), 1)],
        &syncdesk::app::ShipmentDetails::default(),
        None,
    )
    .unwrap();
    let moved = app.change_status("R-2", "shipped", None, None).unwrap();
    assert_eq!(moved.to, "Shipped");
}

#[test]
fn a_shipped_order_says_press_f_and_its_cancel_is_refused_before_a_reason_is_typed() {
    let f = Fixture::new();
    // R-4 has one unit shipped: Shipped is allowed, and from there only shipments move it on.
    f.app("bob")
        .change_status("R-4", "Shipped", None, None)
        .unwrap();
    let before = f.app("x").order("R-4").unwrap();
    let mut c = f.console();
    select(&mut c, "R-4");
    keys(&mut c, "s");
    assert!(c.ui.modal.is_none());
    assert!(
        last_toast(&c).contains("record the shipment: F"),
        "{}",
        last_toast(&c)
    );
    keys(&mut c, "c");
    assert!(
        c.ui.modal.is_none(),
        "no reason is asked for a cancellation that cannot happen: {:?}",
        c.ui.modal
    );
    let toast = last_toast(&c);
    assert!(toast.starts_with("cannot cancel: order R-4"), "{toast}");
    assert!(toast.contains("record the shipment: F"), "{toast}");
    let after = f.app("x").order("R-4").unwrap();
    assert_eq!(
        (after.status.as_str(), after.version),
        ("Shipped", before.version)
    );
    // F is the way on: the rest of the order ships and completes it.
    keys(&mut c, "F");
    press(&mut c, KeyCode::Enter);
    assert_eq!(f.app("x").order("R-4").unwrap().status, "Completed");
}

#[test]
fn a_channel_rule_known_in_advance_is_named_in_the_status_picker() {
    let f = Fixture::new();
    pending_marketplace_order(&f, "M-1", DeliveredBy::Marketplace);
    let mut c = f.console();
    select(&mut c, "M-1");
    keys(&mut c, "s");
    let notes = match &c.ui.modal {
        Some(Modal::StatusPicker(p)) => {
            assert_eq!(p.options, ["Processing", "Backorder", "Cancelled"]);
            p.warnings.clone()
        }
        other => panic!("expected the picker, got {other:?}"),
    };
    let processing = notes[0].as_deref().unwrap_or("");
    assert!(
        processing.contains("Cartona will not take it: blocked by rule delivered_by=marketplace"),
        "{processing}"
    );
    assert_eq!(
        notes[2], None,
        "a cancellation is what the marketplace does take"
    );
    let screen = shot(&mut c);
    assert!(screen.contains("Cartona will not take it"), "{screen}");
    // Seeing it did not change it; committing is still the operator's choice.
    assert_eq!(f.app("x").order("M-1").unwrap().status, "Pending");
}

/// A Cartona order linked as `pending` there, delivered by `delivered_by`.
fn pending_marketplace_order(f: &Fixture, number: &str, delivered_by: DeliveredBy) {
    let mut app = f.app("alice");
    app.add_order(
        number,
        Some("Corner shop"),
        "cartona",
        &[("SKU-A".into(), 3)],
    )
    .unwrap();
    let id = app.order(number).unwrap().id;
    app.store()
        .write(|tx| -> syncdesk::store::Result<()> {
            let link = links::insert(
                tx,
                "order",
                id,
                "cartona",
                &format!("hx-{number}"),
                Some("pending"),
                None,
                NOW - HOUR,
            )?;
            marketplace::upsert(tx, link, delivered_by, false, None, NOW - HOUR)?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_fulfil_dialog_says_before_shipping_that_the_marketplace_refuses_a_pending_order() {
    let f = Fixture::new();
    // The supplier delivers it, so every status syncs: but Cartona refuses pending → delivered, which
    // shipping everything would send.
    pending_marketplace_order(&f, "M-2", DeliveredBy::Supplier);
    let mut c = f.console();
    select(&mut c, "M-2");
    keys(&mut c, "F");
    let warnings = match &c.ui.modal {
        Some(Modal::Fulfil(form)) => form.warnings.clone(),
        other => panic!("expected the fulfil dialog, got {other:?}"),
    };
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("Cartona will refuse it for now: order M-2: cartona takes a pending order only to approved"),
        "{}",
        warnings[0]
    );
    let screen = shot(&mut c);
    assert!(
        screen.contains("Cartona will refuse it for now"),
        "{screen}"
    );
    // Seeing it did not ship anything; recording what left is still the operator's choice.
    assert_eq!(f.app("x").order("M-2").unwrap().status, "Pending");
    press(&mut c, KeyCode::Enter);
    let order = f.app("x").order("M-2").unwrap();
    assert_eq!(order.status, "Completed", "the shipment is recorded here");
}

#[test]
fn the_second_parcel_starts_with_the_first_ones_carrier() {
    let f = Fixture::new();
    f.app("alice")
        .add_order(
            "P-1",
            None,
            "web",
            &[("SKU-A".into(), 2), ("SKU-B".into(), 1)],
        )
        .unwrap();
    let mut c = f.console();
    select(&mut c, "P-1");
    keys(&mut c, "F");
    // Tracking, the carrier, then notes, SKU-A's and SKU-B's quantities: ship SKU-A only.
    keys(&mut c, "TRK1");
    press(&mut c, KeyCode::Tab);
    keys(&mut c, "DHL");
    press(&mut c, KeyCode::Tab);
    press(&mut c, KeyCode::Tab);
    press(&mut c, KeyCode::Tab);
    press(&mut c, KeyCode::Backspace);
    keys(&mut c, "0");
    press(&mut c, KeyCode::Enter);
    let order = f.app("x").order("P-1").unwrap();
    assert_eq!(order.shipments.len(), 1, "{}", last_toast(&c));
    assert_eq!(order.shipments[0].carrier.as_deref(), Some("DHL"));
    assert_ne!(order.status, "Completed", "SKU-B is still open");
    keys(&mut c, "F");
    match &c.ui.modal {
        Some(Modal::Fulfil(form)) => {
            assert_eq!(form.carrier.value(), "DHL");
            assert_eq!(
                form.tracking.value(),
                "",
                "a new parcel has its own tracking"
            );
        }
        other => panic!(
            "expected the fulfil dialog, got {other:?}: {}",
            last_toast(&c)
        ),
    }
}

#[test]
fn a_note_typed_in_the_status_dialog_is_recorded_with_the_change() {
    let f = Fixture::new();
    let mut c = f.console();
    select(&mut c, "R-1");
    keys(&mut c, "s");
    // Tab to the note: letters that move the list elsewhere (j, k) are text here.
    press(&mut c, KeyCode::Tab);
    keys(&mut c, "customer ok'd the jk delay");
    match &c.ui.modal {
        Some(Modal::StatusPicker(p)) => {
            assert_eq!(p.cursor, 0, "typing did not move the list");
            assert_eq!(p.note.value(), "customer ok'd the jk delay");
        }
        other => panic!("expected the picker, got {other:?}"),
    }
    let screen = shot(&mut c);
    assert!(screen.contains("Note (optional)"), "{screen}");
    // The arrows still choose while the note has the keys: Backorder is the second option.
    press(&mut c, KeyCode::Down);
    press(&mut c, KeyCode::Enter);
    let order = f.app("x").order("R-1").unwrap();
    assert_eq!(order.status, "Backorder");
    let last = order.history.last().unwrap();
    assert_eq!(last.note.as_deref(), Some("customer ok'd the jk delay"));
}
