//! Console round 2 (#15): the Inventory panel and a SKU's trace (snapshots at 160×45 and 80×24), `/`
//! filtering the panel it is typed on, Esc leaving the cursor on its row, an alert in full and
//! acknowledge-all — keys in, the store asserted.

use crossterm::event::KeyCode;
use syncdesk::store::trace::{FIELD_POS, SOURCE_POS, SOURCE_WEB_ORDER, store_field};
use syncdesk::tui::state::{Modal, Tab};

use super::{Fixture, HOUR, MIN, NOW, keys, last_toast, press, screen};

/// One sync log row: at, source, field, old, new, why, job, actor.
type LogRow<'a> = (
    i64,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Option<i64>,
    Option<&'a str>,
);

impl Fixture {
    /// Three aligned SKUs as passes left them (SKU-A with an open negative_stock conflict once
    /// `raise_conflicts` ran, SKU-G never synced), and SKU-A's trace: a POS sale, web order R-1, the pass
    /// that merged them (job 77) and an operator's resolution.
    pub(super) fn align(&self) {
        let store = store_field("woocommerce");
        self.app("x")
            .store()
            .write(|tx| -> syncdesk::store::Result<()> {
                for (pos_sku, store_sku, name, pos, web, base, pass) in [
                    ("P-A", "SKU-A", "Linen apron", Some(8), Some(9), Some(9), Some(NOW - HOUR)),
                    ("P-C", "SKU-C", "Cast iron pan", Some(7), Some(7), Some(7), Some(NOW - HOUR)),
                    ("P-G", "SKU-G", "", None, None, None, None),
                ] {
                    tx.execute(
                        "INSERT INTO sku_alignment (pos_sku, store_sku, match_type, confidence, product_name,
                             pos_seen, store_seen, agreed, last_pass_at, sync_state, updated_at)
                         VALUES (?1, ?2, 'exact', 1.0, ?3, ?4, ?5, ?6, ?7, 'synced', ?8)",
                        (pos_sku, store_sku, name, pos, web, base, pass, NOW - 2 * HOUR),
                    )?;
                }
                let log = "INSERT INTO sync_log (at, source, entity, entity_key, field, old_value, new_value,
                               reason, job_id, actor)
                           VALUES (?1, ?2, 'stock', 'SKU-A', ?3, ?4, ?5, ?6, ?7, ?8)";
                let rows: [LogRow<'_>; 4] = [
                    (NOW - 3 * HOUR, SOURCE_POS, FIELD_POS, "12", "10", "POS sale", None, None),
                    (NOW - 2 * HOUR, SOURCE_WEB_ORDER, &store, "12", "11", "web order", None, Some("R-1")),
                    (NOW - HOUR, "stock_pass", &store, "11", "9", "merged both sides' sales", Some(77), None),
                    (NOW - 30 * MIN, "operator", "conflict.resolution", "9", "8", "counted on the shelf", None, Some("carol")),
                ];
                for (at, source, field, old, new, why, job, actor) in rows {
                    tx.execute(log, (at, source, field, old, new, why, job, actor))?;
                }
                Ok(())
            })
            .unwrap();
    }
}

/// A snapshot kept with the console's others, in tests/console/snapshots/ (`console__screens__round2__*`).
macro_rules! snapshot {
    ($screen:expr) => {
        insta::with_settings!({ snapshot_path => "../snapshots" }, {
            insta::assert_snapshot!($screen);
        })
    };
}

fn sized(c: &mut syncdesk::tui::Console, w: u16, h: u16) -> String {
    screen(c, w, h).backend().to_string()
}

#[test]
fn inventory_panel_lists_every_aligned_sku_at_160x45() {
    let f = Fixture::new();
    f.align();
    f.raise_conflicts();
    let mut c = f.console();
    keys(&mut c, "6");
    assert_eq!(c.ui.tab, Tab::Inventory);
    let skus: Vec<_> = c
        .snapshot()
        .inventory
        .iter()
        .map(|r| r.store_sku.clone())
        .collect();
    assert_eq!(skus, ["SKU-A", "SKU-C", "SKU-G"]);
    snapshot!(sized(&mut c, 160, 45));
}

#[test]
fn inventory_panel_at_80x24() {
    let f = Fixture::new();
    f.align();
    f.raise_conflicts();
    let mut c = f.console();
    keys(&mut c, "6");
    snapshot!(sized(&mut c, 80, 24));
}

#[test]
fn enter_on_a_sku_opens_its_trace_at_160x45() {
    let f = Fixture::new();
    f.align();
    f.raise_conflicts();
    let mut c = f.console();
    keys(&mut c, "6");
    let _ = sized(&mut c, 160, 45);
    press(&mut c, KeyCode::Enter);
    assert!(c.ui.zoom, "Enter opens the trace over the panel");
    let trace = c.snapshot().trace.clone().expect("a trace");
    assert_eq!(trace.pair.store_sku, "SKU-A");
    assert_eq!(trace.total, 4, "every change of SKU-A");
    let sources: Vec<_> = trace.entries.iter().map(|e| e.source_label()).collect();
    assert_eq!(
        sources,
        ["resolution by carol", "pass", "web order R-1", "POS sale"],
        "newest first, each with its source"
    );
    assert_eq!(trace.entries[1].job_id, Some(77));
    snapshot!(sized(&mut c, 160, 45));
    // Esc goes back to the list, on the same SKU.
    press(&mut c, KeyCode::Esc);
    assert!(!c.ui.zoom);
    assert_eq!(c.snapshot().inventory[c.ui.pos().cursor].store_sku, "SKU-A");
}

#[test]
fn the_trace_at_80x24() {
    let f = Fixture::new();
    f.align();
    f.raise_conflicts();
    let mut c = f.console();
    keys(&mut c, "6");
    let _ = sized(&mut c, 80, 24);
    press(&mut c, KeyCode::Enter);
    snapshot!(sized(&mut c, 80, 24));
}

#[test]
fn the_inventory_filter_finds_a_sku_by_its_product_name() {
    let f = Fixture::new();
    f.align();
    let mut c = f.console();
    keys(&mut c, "6/pan");
    press(&mut c, KeyCode::Enter);
    let skus: Vec<_> = c
        .snapshot()
        .inventory
        .iter()
        .map(|r| r.store_sku.clone())
        .collect();
    assert_eq!(skus, ["SKU-C"]);
    assert_eq!(
        c.snapshot()
            .trace
            .as_ref()
            .map(|t| t.pair.store_sku.clone()),
        Some("SKU-C".into()),
        "the trace pane follows the row under the cursor"
    );
}

#[test]
fn slash_filters_the_panel_it_is_typed_on_and_each_panel_keeps_its_own() {
    let f = Fixture::new();
    f.raise_conflicts();
    let mut c = f.console();
    keys(&mut c, "/R-1");
    press(&mut c, KeyCode::Enter);
    keys(&mut c, "3/SKU-A");
    press(&mut c, KeyCode::Enter);
    assert_eq!(
        c.ui.tab,
        Tab::Conflicts,
        "/ on Conflicts stays on Conflicts"
    );
    assert_eq!(
        c.ui.filter(),
        Some("SKU-A"),
        "a fresh filter, not appended to the Orders one"
    );
    let ids = c.snapshot().keys(Tab::Conflicts);
    assert_eq!(ids.len(), 1);
    let mut app = f.app("x");
    let open = app.store().conn();
    let sku: String = open
        .query_row(
            "SELECT sku FROM stock_conflicts WHERE id = ?1",
            [ids[0]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sku, "SKU-A");
    // The Orders panel kept its own filter.
    keys(&mut c, "1");
    assert_eq!(c.ui.filter(), Some("R-1"));
    let numbers: Vec<_> = c
        .snapshot()
        .orders
        .iter()
        .map(|o| o.summary.number.clone())
        .collect();
    assert_eq!(numbers, ["R-1"]);
}

#[test]
fn esc_clears_the_filter_and_the_next_cancel_hits_the_row_the_operator_chose() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "/R-2");
    press(&mut c, KeyCode::Enter);
    assert_eq!(c.snapshot().orders.len(), 1);
    press(&mut c, KeyCode::Esc);
    assert_eq!(c.ui.filter(), None);
    assert!(c.snapshot().orders.len() > 1, "the whole list again");
    let under = &c.snapshot().orders[c.ui.pos().cursor].summary.number;
    assert_eq!(under, "R-2", "the cursor stays on its row, not the top one");
    keys(&mut c, "c");
    keys(&mut c, "duplicate order");
    press(&mut c, KeyCode::Enter);
    let mut app = f.app("x");
    assert_eq!(app.order("R-2").unwrap().status, "Cancelled");
    assert_ne!(
        app.order("R-4").unwrap().status,
        "Cancelled",
        "the top row is untouched"
    );
}

#[test]
fn enter_on_an_alert_shows_it_in_full_and_a_acknowledges_it() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "5");
    let first = c.snapshot().dashboard.as_ref().unwrap().alerts[0].clone();
    press(&mut c, KeyCode::Enter);
    match &c.ui.modal {
        Some(Modal::Alert { alert, .. }) => assert_eq!(alert.id, first.id),
        other => panic!("expected the alert's detail, got {other:?}"),
    }
    let text = sized(&mut c, 120, 36);
    assert!(text.contains(&format!("Alert {}", first.id)), "{text}");
    assert!(
        text.contains(first.message.lines().next().unwrap_or("")),
        "{text}"
    );
    keys(&mut c, "a");
    assert!(c.ui.modal.is_none());
    let mut app = f.app("x");
    let by: Option<String> = app
        .store()
        .conn()
        .query_row(
            "SELECT acknowledged_by FROM alerts WHERE id = ?1",
            [first.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(by.as_deref(), Some("carol"));
}

#[test]
fn acknowledge_all_closes_every_open_alert_the_operator_saw_and_no_newer_one() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "5");
    let open = c.snapshot().open_alerts;
    assert!(open >= 2, "the fixture opens two alerts");
    keys(&mut c, "A");
    assert!(
        matches!(c.ui.modal, Some(Modal::Confirm { .. })),
        "asks first"
    );
    // Raised while the question is on screen: the operator has not seen it.
    f.app("x")
        .store()
        .write(|tx| {
            syncdesk::store::alerts::raise(
                tx,
                &syncdesk::domain::alerts::missing_alignment("SKU-NEW", "the POS"),
                NOW,
            )
        })
        .unwrap();
    keys(&mut c, "y");
    assert!(
        last_toast(&c).contains(&format!("{open} alerts acknowledged by carol")),
        "{}",
        last_toast(&c)
    );
    let mut app = f.app("x");
    let still_open = app.alerts(false, 10).unwrap();
    assert_eq!(
        still_open.len(),
        1,
        "only the alert raised after the question"
    );
    assert!(
        still_open[0].subject.contains("SKU-NEW"),
        "{:?}",
        still_open[0]
    );
    let acked: i64 = app
        .store()
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM alerts WHERE acknowledged_by = 'carol'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(acked, open);
}

#[test]
fn acknowledge_all_after_scrolling_closes_the_newer_alerts_above_the_page_too() {
    let f = Fixture::new();
    f.app("x")
        .store()
        .write(|tx| -> syncdesk::store::Result<()> {
            for i in 0..40 {
                let sku = format!("SKU-SCROLL-{i}");
                syncdesk::store::alerts::raise(
                    tx,
                    &syncdesk::domain::alerts::missing_alignment(&sku, "the POS"),
                    NOW,
                )?;
            }
            Ok(())
        })
        .unwrap();
    let mut c = f.console();
    keys(&mut c, "5");
    let open = c.snapshot().open_alerts;
    assert!(open >= 42, "the fixture's two and forty more: {open}");
    // Scroll well past the first screenful: the page on screen no longer holds the newest alerts.
    for _ in 0..open - 1 {
        keys(&mut c, "j");
    }
    let on_screen = &c.snapshot().dashboard.as_ref().unwrap().alerts;
    let newest_open = f.app("x").alerts(false, 1).unwrap()[0].id;
    assert!(
        on_screen.iter().all(|a| a.id < newest_open),
        "the newest alert is scrolled off the page"
    );
    keys(&mut c, "A");
    keys(&mut c, "y");
    assert!(
        last_toast(&c).contains(&format!("{open} alerts acknowledged by carol")),
        "{}",
        last_toast(&c)
    );
    assert!(
        f.app("x").alerts(false, 10).unwrap().is_empty(),
        "every open alert the question counted is acknowledged"
    );
}
