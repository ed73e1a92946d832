//! The operator console end to end: whole-screen snapshots of every panel and dialog on a fixed scratch
//! database (time injected, timestamps pinned), and scenarios that press keys and then check the store.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};
use syncdesk::app::{Actor, App, ShipmentDetails};
use syncdesk::config::Config;
use syncdesk::domain::LinkState;
use syncdesk::store::{JobState, NewJob, engine_lease, jobs, links};
use syncdesk::tui::state::{Modal, Tab};
use syncdesk::tui::{Clock, Console, Options};

mod errors;
mod journeys;
mod jumps;
mod keys;
mod outcomes;
mod round2;
mod small;

/// 2026-11-21 12:00:00 UTC: every age on screen is measured from here.
const NOW: i64 = 1_795_262_400_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const W: u16 = 120;
const H: u16 = 36;

struct Fixture {
    pub(crate) dir: tempfile::TempDir,
}

impl Fixture {
    /// Orders in several statuses, a shipment, links in each sync state, a dead and a retrying job,
    /// an engine lease, all with timestamps pinned relative to [`NOW`].
    fn new() -> Fixture {
        let f = Fixture {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        let mut alice = f.app("alice");
        let two = |a: &str, b: &str| vec![(a.to_string(), 2), (b.to_string(), 1)];
        alice
            .add_order(
                "R-1",
                Some("Ada Lovelace"),
                "woocommerce",
                &two("SKU-A", "SKU-B"),
            )
            .unwrap();
        alice
            .add_order(
                "R-2",
                Some("Grace Hopper"),
                "woocommerce",
                &two("SKU-C", "SKU-A"),
            )
            .unwrap();
        alice
            .add_order(
                "R-3",
                Some("Alan Turing"),
                "marketplace",
                &two("SKU-D", "SKU-E"),
            )
            .unwrap();
        alice
            .add_order("R-4", None, "manual", &two("SKU-A", "SKU-F"))
            .unwrap();
        alice
            .add_order(
                "R-5",
                Some("Edsger Dijkstra"),
                "woocommerce",
                &two("SKU-B", "SKU-C"),
            )
            .unwrap();
        alice
            .add_order(
                "R-6",
                Some("Barbara Liskov"),
                "woocommerce",
                &two("SKU-G", "SKU-H"),
            )
            .unwrap();
        let mut bob = f.app("bob");
        bob.change_status("R-2", "Processing", None, None).unwrap();
        bob.change_status("R-3", "Backorder", Some("supplier late"), None)
            .unwrap();
        bob.change_status("R-4", "Processing", None, None).unwrap();
        bob.change_status("R-4", "Ready to Ship", None, None)
            .unwrap();
        let details = ShipmentDetails {
            tracking: Some("1Z001".into()),
            carrier: Some("UPS".into()),
            notes: None,
        };
        bob.ship("R-4", &[("SKU-A".into(), 1)], &details, None)
            .unwrap();
        bob.fulfill("R-5", &details, None).unwrap();
        bob.cancel("R-6", "customer changed their mind", None)
            .unwrap();
        let id = |app: &mut App, n: &str| app.order(n).unwrap().id;
        let (r1, r2, r4, r5) = (
            id(&mut bob, "R-1"),
            id(&mut bob, "R-2"),
            id(&mut bob, "R-4"),
            id(&mut bob, "R-5"),
        );
        bob.store()
            .write(|tx| -> syncdesk::store::Result<()> {
                links::insert(tx, "order", r1, "woocommerce", "1001", Some("pending"), None, NOW - HOUR)?;
                let l2 = links::insert(tx, "order", r2, "woocommerce", "1002", Some("processing"), None, NOW - HOUR)?;
                links::set_pushing(tx, l2, Some("processing"))?;
                let l4 = links::insert(tx, "order", r4, "woocommerce", "1004", None, None, NOW - HOUR)?;
                links::set_pushing(tx, l4, Some("completed"))?;
                let l5 = links::insert(tx, "order", r5, "woocommerce", "1005", Some("processing"), None, NOW - HOUR)?;
                links::set_state(tx, l5, LinkState::Error, Some("HTTP 503 from the store (retrying)"))?;
                // One job that died and one waiting to retry, plus the engine's lease.
                for (kind, key, fails) in [("woo.push_status", "order:R-5", 8), ("email.backorder", "order:R-3", 1)] {
                    let job = jobs::enqueue(
                        tx,
                        &NewJob {
                            kind: kind.into(),
                            key: Some(key.into()),
                            payload: "{}".into(),
                            run_at: NOW - 2 * HOUR,
                            max_attempts: 8,
                        },
                        NOW - 2 * HOUR,
                    )?;
                    for i in 0..fails {
                        jobs::claim(tx, kind, 10, "engine-test", 30_000, NOW - HOUR)?;
                        let retry = (i + 1 < 8).then_some(NOW + 5 * MIN);
                        jobs::fail(tx, job, "engine-test", "connection refused (store unreachable)", "connection refused (store unreachable)", jobs::ErrorClass::Transient, retry, NOW - 10 * MIN)?;
                        if retry.is_some() && i + 1 < fails {
                            tx.execute("UPDATE jobs SET run_at = ?1 WHERE id = ?2", (NOW - HOUR, job))?;
                        }
                    }
                }
                // The backorder e-mail R-3 queued: pin its clock too.
                tx.execute("UPDATE jobs SET created_at = ?1, updated_at = ?1, run_at = ?1 WHERE state = 'queued'", [NOW - 3 * HOUR])?;
                engine_lease::acquire(tx, "engine-test:4242", 10_000, NOW - 2_000)?;
                // Some finished work for the throughput line: one job every few minutes.
                for k in 0..8i64 {
                    let at = NOW - (k * 6 + 1) * MIN;
                    let job = jobs::enqueue(
                        tx,
                        &NewJob {
                            kind: "stock.push".into(),
                            key: None,
                            payload: "{}".into(),
                            run_at: at,
                            max_attempts: 8,
                        },
                        at,
                    )?;
                    jobs::claim(tx, "stock.push", 1, "engine-test", 30_000, at)?;
                    jobs::complete(tx, job, "engine-test", at + 500)?;
                }
                // Pin every timestamp commands stamped with the wall clock.
                tx.execute("UPDATE orders SET created_at = ?1 - (10 - id) * ?2, updated_at = ?1 - (10 - id) * ?2 + 30 * ?3", (NOW, HOUR, MIN))?;
                tx.execute("UPDATE status_history SET changed_at = (SELECT created_at FROM orders o WHERE o.id = order_id) + (id - (SELECT MIN(id) FROM status_history h WHERE h.order_id = status_history.order_id)) * 20 * ?1", [MIN])?;
                tx.execute("UPDATE shipments SET shipped_at = ?1 - 30 * ?2", (NOW, MIN))?;
                // R-3's backorder raised an alert; pin it, and add one the stock pass would raise.
                syncdesk::store::alerts::raise(tx, &syncdesk::domain::alerts::missing_alignment("SKU-Z", "the POS"), NOW)?;
                tx.execute("UPDATE alerts SET created_at = ?1 - id * 7 * ?2", (NOW, MIN))?;
                Ok(())
            })
            .unwrap();
        f
    }

    fn app(&self, user: &str) -> App {
        App::open(
            &self.dir.path().join("c.db"),
            Config::default(),
            Actor::operator(user),
        )
        .expect("open app")
    }

    fn console_with(&self, user: &str, readonly: bool, no_color: bool) -> Console {
        let mut c = Console::new(
            self.app(user),
            Options {
                readonly,
                no_color,
                clock: Clock::Fixed(NOW),
            },
        )
        .expect("console");
        c.resize(W, H);
        c
    }

    fn console(&self) -> Console {
        self.console_with("carol", false, false)
    }

    /// Carol's console on a database opened with `config` (e.g. with stock sync on).
    fn console_config(&self, config: Config, readonly: bool) -> Console {
        let app = App::open(
            &self.dir.path().join("c.db"),
            config,
            Actor::operator("carol"),
        )
        .expect("open app");
        let mut c = Console::new(
            app,
            Options {
                readonly,
                no_color: false,
                clock: Clock::Fixed(NOW),
            },
        )
        .expect("console");
        c.resize(W, H);
        c
    }

    /// Two open stock conflicts: SKU-C (newest; POS 7, store 9, merged 8) and SKU-A (negative stock).
    fn raise_conflicts(&self) {
        use syncdesk::store::inventory::{self, NewConflict};
        self.app("x")
            .store()
            .write(|tx| -> syncdesk::store::Result<()> {
                inventory::raise(
                    tx,
                    &NewConflict {
                        sku: "SKU-A",
                        kind: "negative_stock",
                        pos_value: Some("-2".into()),
                        store_value: Some("3".into()),
                        base: Some(4),
                        merged: Some(-3),
                        proposed: None,
                        detail: "merge would go below zero",
                    },
                    NOW - 15 * MIN,
                )?;
                inventory::raise(
                    tx,
                    &NewConflict {
                        sku: "SKU-C",
                        kind: "quantity_mismatch",
                        pos_value: Some("7".into()),
                        store_value: Some("9".into()),
                        base: Some(8),
                        merged: Some(8),
                        proposed: Some(7),
                        detail: "store moved 1 without sales",
                    },
                    NOW - 5 * MIN,
                )?;
                Ok(())
            })
            .unwrap();
    }
}

impl Fixture {
    /// A price_drift on SKU-C beside its quantity_mismatch (the newest row): POS 32.60, store 44.01.
    fn raise_price_drift(&self) {
        use syncdesk::store::inventory::{self, NewConflict};
        self.app("x")
            .store()
            .write(|tx| -> syncdesk::store::Result<()> {
                inventory::raise(
                    tx,
                    &NewConflict {
                        sku: "SKU-C",
                        kind: "price_drift",
                        pos_value: Some("32.60".into()),
                        store_value: Some("44.01".into()),
                        base: None,
                        merged: None,
                        proposed: Some(3260),
                        detail: "POS 32.60 vs store 44.01: more than 20% apart",
                    },
                    NOW - 2 * MIN,
                )?;
                Ok(())
            })
            .unwrap();
    }
}

fn screen(c: &mut Console, w: u16, h: u16) -> Terminal<TestBackend> {
    c.resize(w, h);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| c.render(f)).unwrap();
    t
}

fn shot(c: &mut Console) -> String {
    screen(c, W, H).backend().to_string()
}

fn press(c: &mut Console, code: KeyCode) {
    c.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn keys(c: &mut Console, text: &str) {
    for ch in text.chars() {
        let mods = if ch.is_ascii_uppercase() {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        c.handle_key(KeyEvent::new(KeyCode::Char(ch), mods));
    }
}

/// Filters the Orders table down to one order number and leaves the cursor on it.
fn select(c: &mut Console, number: &str) {
    keys(c, "/");
    keys(c, number);
    press(c, KeyCode::Enter);
    let row = &c.snapshot().orders;
    assert_eq!(row.len(), 1, "filter {number} should match one order");
}

fn last_toast(c: &Console) -> String {
    c.ui.toasts
        .last()
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------------------
// Snapshots

#[test]
fn orders_panel() {
    let f = Fixture::new();
    let mut c = f.console();
    insta::assert_snapshot!(shot(&mut c));
}

#[test]
fn orders_panel_one_status_with_detail_zoomed() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "llll"); // All → Pending → Processing → Ready to Ship
    press(&mut c, KeyCode::Enter);
    insta::assert_snapshot!(shot(&mut c));
}

#[test]
fn fulfilments_panel() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "2");
    insta::assert_snapshot!(shot(&mut c));
}

#[test]
fn enter_on_a_fulfilment_opens_its_order_on_the_orders_panel() {
    let f = Fixture::new();
    let mut c = f.console();
    // A filter on Orders that hides every order: the jump clears it rather than land on nothing.
    keys(&mut c, "/zzz");
    press(&mut c, KeyCode::Enter);
    keys(&mut c, "2");
    let rows = c.snapshot().fulfilments.clone();
    assert!(rows.len() > 1, "the fixture has unsynced fulfilments");
    keys(&mut c, "G");
    let wanted = rows.last().unwrap().number.clone();
    press(&mut c, KeyCode::Enter);
    assert_eq!(c.ui.tab, Tab::Orders);
    assert_eq!(c.ui.filter(), None);
    assert_eq!(c.snapshot().detail.as_ref().unwrap().0.number, wanted);
}

#[test]
fn conflicts_panel() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "3");
    insta::assert_snapshot!(shot(&mut c));
}

#[test]
fn errors_panel() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "4");
    insta::assert_snapshot!(shot(&mut c));
}

#[test]
fn dashboard_panel() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "5");
    insta::assert_snapshot!(shot(&mut c));
}

#[test]
fn help_screen() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "?");
    insta::assert_snapshot!(shot(&mut c));
    press(&mut c, KeyCode::Esc);
    assert!(c.ui.modal.is_none());
}

#[test]
fn status_picker_dialog() {
    let f = Fixture::new();
    let mut c = f.console();
    select(&mut c, "R-4");
    keys(&mut c, "s");
    // Ready to Ship → Shipped or Cancelled; Completed is never offered.
    match &c.ui.modal {
        Some(Modal::StatusPicker(p)) => assert_eq!(p.options, ["Shipped", "Cancelled"]),
        other => panic!("expected the picker, got {other:?}"),
    }
    insta::assert_snapshot!(shot(&mut c));
}

#[test]
fn fulfil_dialog() {
    let f = Fixture::new();
    let mut c = f.console();
    select(&mut c, "R-4");
    keys(&mut c, "F");
    keys(&mut c, "1Z777");
    insta::assert_snapshot!(shot(&mut c));
}

#[test]
fn cancel_dialog() {
    let f = Fixture::new();
    let mut c = f.console();
    select(&mut c, "R-1");
    keys(&mut c, "c");
    keys(&mut c, "out of stock");
    insta::assert_snapshot!(shot(&mut c));
}

#[test]
fn discard_confirmation_dialog() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "4x");
    insta::assert_snapshot!(shot(&mut c));
}

#[test]
fn command_line_completion() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, ":sta");
    press(&mut c, KeyCode::Tab);
    assert_eq!(c.ui.line.as_ref().unwrap().input.value(), "status ");
    // R-4 is Ready to Ship: completion offers only the moves it allows.
    press(&mut c, KeyCode::Tab);
    assert_eq!(c.ui.line.as_ref().unwrap().hint, ["Shipped", "Cancelled"]);
    insta::assert_snapshot!(shot(&mut c));
    keys(&mut c, "s");
    press(&mut c, KeyCode::Tab);
    assert_eq!(c.ui.line.as_ref().unwrap().input.value(), "status shipped");
}

#[test]
fn too_small_screen() {
    let f = Fixture::new();
    let mut c = f.console();
    insta::assert_snapshot!(screen(&mut c, 60, 15).backend().to_string());
}

#[test]
fn no_color_theme() {
    let f = Fixture::new();
    let mut c = f.console_with("carol", false, true);
    let t = screen(&mut c, W, H);
    insta::assert_snapshot!(t.backend().to_string());
    let buffer = t.backend().buffer();
    let mut reversed = 0;
    for cell in buffer.content() {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "NO_COLOR must not colour anything: {cell:?}"
        );
        if cell.modifier.contains(Modifier::REVERSED) {
            reversed += 1;
        }
    }
    assert!(reversed > 0, "the selection is shown in reverse video");
}

#[test]
fn readonly_screen_offers_no_action() {
    let f = Fixture::new();
    let mut c = f.console_with("carol", true, false);
    let text = shot(&mut c);
    assert!(text.contains("READ-ONLY"));
    assert!(!text.contains("fulfil"), "{text}");
    keys(&mut c, "?");
    let help = shot(&mut c);
    assert!(!help.contains("change status"), "{help}");
    assert!(help.contains("read-only"));
}

// ---------------------------------------------------------------------------------------------------------
// Scenarios: keys in, store checked.

#[test]
fn status_change_is_recorded_with_the_operator() {
    let f = Fixture::new();
    let mut c = f.console();
    select(&mut c, "R-1");
    keys(&mut c, "s");
    press(&mut c, KeyCode::Enter); // first option: Processing
    let order = f.app("x").order("R-1").unwrap();
    assert_eq!(order.status, "Processing");
    let last = order.history.last().unwrap();
    assert_eq!(
        (last.by.as_str(), last.source.as_str()),
        ("carol", "operator")
    );
    assert!(
        last_toast(&c).contains("R-1 Pending → Processing"),
        "{}",
        last_toast(&c)
    );
}

#[test]
fn fulfil_records_tracking_and_completes() {
    let f = Fixture::new();
    let mut c = f.console();
    select(&mut c, "R-1");
    keys(&mut c, "F");
    keys(&mut c, "1Z999");
    press(&mut c, KeyCode::Tab);
    keys(&mut c, "DHL");
    press(&mut c, KeyCode::Enter);
    assert!(c.ui.modal.is_none());
    let order = f.app("x").order("R-1").unwrap();
    assert_eq!(order.status, "Completed");
    let s = order.shipments.last().unwrap();
    assert_eq!(s.tracking.as_deref(), Some("1Z999"));
    assert_eq!(s.carrier.as_deref(), Some("DHL"));
    assert_eq!(s.created_by, "carol");
}

#[test]
fn lowering_a_quantity_ships_part_of_the_order() {
    let f = Fixture::new();
    let mut c = f.console();
    select(&mut c, "R-1");
    keys(&mut c, "F");
    for _ in 0..3 {
        press(&mut c, KeyCode::Tab); // tracking → carrier → notes → SKU-A quantity
    }
    press(&mut c, KeyCode::Backspace);
    keys(&mut c, "1");
    press(&mut c, KeyCode::Enter);
    let order = f.app("x").order("R-1").unwrap();
    assert_eq!(order.status, "Pending");
    assert_eq!(order.lines[0].quantity_shipped, 1);
    assert_eq!(
        order.lines[1].quantity_shipped, 1,
        "SKU-B kept its whole open quantity"
    );
    assert!(
        last_toast(&c).contains("partly shipped"),
        "{}",
        last_toast(&c)
    );
}

#[test]
fn cancel_needs_a_reason_and_records_it() {
    let f = Fixture::new();
    let mut c = f.console();
    select(&mut c, "R-1");
    keys(&mut c, "c");
    press(&mut c, KeyCode::Enter);
    assert!(
        matches!(c.ui.modal, Some(Modal::Cancel { .. })),
        "an empty reason keeps the dialog open"
    );
    assert_eq!(f.app("x").order("R-1").unwrap().status, "Pending");
    keys(&mut c, "out of stock");
    press(&mut c, KeyCode::Enter);
    let order = f.app("x").order("R-1").unwrap();
    assert_eq!(order.status, "Cancelled");
    let last = order.history.last().unwrap();
    assert_eq!(last.note.as_deref(), Some("out of stock"));
    assert_eq!(last.by, "carol");
}

#[test]
fn picking_cancelled_in_the_picker_asks_for_the_reason() {
    let f = Fixture::new();
    let mut c = f.console();
    select(&mut c, "R-1");
    keys(&mut c, "s");
    keys(&mut c, "jj"); // Processing, Backorder, Cancelled
    press(&mut c, KeyCode::Enter);
    assert!(matches!(c.ui.modal, Some(Modal::Cancel { .. })));
}

#[test]
fn dead_job_is_retried() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "4");
    let job = c
        .snapshot()
        .jobs
        .iter()
        .find(|j| j.state == JobState::Dead)
        .unwrap()
        .clone();
    while c.snapshot().jobs[c.ui.pos().cursor].id != job.id {
        keys(&mut c, "j");
    }
    keys(&mut c, "r");
    let after = jobs::get(f.app("x").store().conn(), job.id)
        .unwrap()
        .unwrap();
    assert_eq!(after.state, JobState::Queued);
    assert_eq!(after.attempts, 0);
    assert!(
        !c.snapshot().jobs.iter().any(|j| j.id == job.id),
        "the panel re-read after the retry"
    );
}

#[test]
fn discard_asks_first() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "4");
    let id = c.snapshot().jobs[0].id;
    keys(&mut c, "x");
    keys(&mut c, "n");
    assert_ne!(
        jobs::get(f.app("x").store().conn(), id)
            .unwrap()
            .unwrap()
            .state,
        JobState::Cancelled
    );
    keys(&mut c, "xy");
    let job = jobs::get(f.app("x").store().conn(), id).unwrap().unwrap();
    assert_eq!(job.state, JobState::Cancelled);
    assert_eq!(job.last_error.as_deref(), Some("discarded by carol"));
}

#[test]
fn bulk_status_change_of_marked_rows() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "l"); // Pending: R-1 only… add another pending order first
    f.app("alice")
        .add_order(
            "R-7",
            Some("Ken Thompson"),
            "manual",
            &[("SKU-Z".into(), 1)],
        )
        .unwrap();
    c.tick();
    assert_eq!(c.snapshot().orders.len(), 2);
    // R-7 arrived above R-1: the cursor stays on R-1, the row it was on.
    assert_eq!(c.snapshot().orders[c.ui.pos().cursor].summary.number, "R-1");
    keys(&mut c, "g  "); // from the top, mark both (space marks and moves down)
    assert_eq!(c.ui.marked.len(), 2);
    keys(&mut c, "s");
    press(&mut c, KeyCode::Enter);
    let mut app = f.app("x");
    for n in ["R-1", "R-7"] {
        let o = app.order(n).unwrap();
        assert_eq!(o.status, "Processing", "{n}");
        assert_eq!(o.history.last().unwrap().by, "carol");
    }
    assert!(c.ui.marked.is_empty());
}

#[test]
fn stale_edit_is_refused_and_says_who() {
    let f = Fixture::new();
    let mut c = f.console();
    select(&mut c, "R-1");
    // Another operator moves the order after the console loaded it.
    f.app("dave")
        .change_status("R-1", "Backorder", Some("no stock"), None)
        .unwrap();
    keys(&mut c, "s");
    press(&mut c, KeyCode::Enter); // Processing, as offered from the version on screen
    let toast = last_toast(&c);
    assert!(
        toast.starts_with("order R-1 changed since you loaded it (by dave"),
        "{toast}"
    );
    let order = f.app("x").order("R-1").unwrap();
    assert_eq!(order.status, "Backorder");
    assert_eq!(order.history.last().unwrap().by, "dave");
}

#[test]
fn rejected_action_changes_nothing_and_says_why() {
    let f = Fixture::new();
    let mut c = f.console();
    select(&mut c, "R-1");
    keys(&mut c, "F");
    for _ in 0..3 {
        press(&mut c, KeyCode::Tab);
    }
    keys(&mut c, "9"); // "29" of SKU-A: more than is open
    press(&mut c, KeyCode::Enter);
    assert!(
        matches!(c.ui.modal, Some(Modal::Fulfil(_))),
        "the dialog stays open"
    );
    assert!(
        last_toast(&c).contains("SKU-A: quantity must be a number from 0 to 2"),
        "{}",
        last_toast(&c)
    );
    assert!(f.app("x").order("R-1").unwrap().shipments.is_empty());
}

#[test]
fn readonly_keys_do_nothing() {
    let f = Fixture::new();
    let before = (
        f.app("x").order("R-1").unwrap(),
        f.app("x").jobs(None, 100).unwrap(),
    );
    let mut c = f.console_with("carol", true, false);
    keys(&mut c, "/R-1");
    press(&mut c, KeyCode::Enter);
    keys(&mut c, " sFca");
    press(&mut c, KeyCode::Enter);
    keys(&mut c, "4rx");
    keys(&mut c, "y");
    keys(&mut c, ":status processing");
    press(&mut c, KeyCode::Enter);
    assert!(c.ui.modal.is_none());
    assert!(c.ui.marked.is_empty());
    let after = (
        f.app("x").order("R-1").unwrap(),
        f.app("x").jobs(None, 100).unwrap(),
    );
    assert_eq!(before.0.version, after.0.version);
    assert_eq!(before.0.status, after.0.status);
    assert_eq!(before.1.len(), after.1.len());
    for (a, b) in before.1.iter().zip(&after.1) {
        assert_eq!((a.id, a.state), (b.id, b.state));
    }
}

#[test]
fn another_process_change_appears_on_the_next_tick() {
    let f = Fixture::new();
    let mut c = f.console();
    assert!(
        !c.snapshot()
            .orders
            .iter()
            .any(|o| o.summary.number == "R-8")
    );
    c.take_dirty();
    c.tick();
    assert!(!c.take_dirty(), "nothing changed: no re-read, no redraw");
    f.app("erin")
        .add_order("R-8", None, "manual", &[("SKU-A".into(), 1)])
        .unwrap();
    assert!(c.tick(), "the tick noticed the other connection's commit");
    assert!(
        c.snapshot()
            .orders
            .iter()
            .any(|o| o.summary.number == "R-8")
    );
}

#[test]
fn freeze_stops_following_the_database() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "f");
    f.app("erin")
        .add_order("R-8", None, "manual", &[("SKU-A".into(), 1)])
        .unwrap();
    c.tick();
    assert!(
        !c.snapshot()
            .orders
            .iter()
            .any(|o| o.summary.number == "R-8")
    );
    keys(&mut c, "f");
    assert!(
        c.snapshot()
            .orders
            .iter()
            .any(|o| o.summary.number == "R-8")
    );
}

#[test]
fn command_mode_changes_status_and_explains_missing_commands() {
    let f = Fixture::new();
    let mut c = f.console();
    select(&mut c, "R-2");
    keys(&mut c, ":status ready-to-ship");
    press(&mut c, KeyCode::Enter);
    assert_eq!(f.app("x").order("R-2").unwrap().status, "Ready to Ship");
    keys(&mut c, ":sync woo");
    press(&mut c, KeyCode::Enter);
    assert!(
        last_toast(&c).contains(
            "no sync pass 'woo' (usage: :sync full|incremental|prices|orders|fulfillments|marketplace|erp)"
        ),
        "{}",
        last_toast(&c)
    );
    keys(&mut c, ":q");
    press(&mut c, KeyCode::Enter);
    assert!(c.should_quit());
}

#[test]
fn navigation_pages_through_the_store() {
    let f = Fixture::new();
    let mut app = f.app("alice");
    for i in 0..40 {
        app.add_order(&format!("B-{i:02}"), None, "manual", &[("SKU-A".into(), 1)])
            .unwrap();
    }
    let mut c = f.console();
    c.tick();
    let page = c.snapshot().orders.len();
    assert!(page < 44, "only one page is read ({page} rows)");
    keys(&mut c, "G");
    assert_eq!(c.snapshot().orders.last().unwrap().summary.number, "R-1");
    assert!(!c.snapshot().has_more);
    keys(&mut c, "g");
    assert_eq!(c.snapshot().orders[0].summary.number, "B-39");
    press(&mut c, KeyCode::Tab);
    assert_eq!(c.ui.tab, Tab::Fulfilments);
    press(&mut c, KeyCode::BackTab);
    assert_eq!(c.ui.tab, Tab::Orders);
}

#[test]
fn an_engine_in_this_process_shows_in_the_header() {
    let f = Fixture::new();
    let mut c = f.console();
    let (tx, rx) = tokio::sync::watch::channel(syncdesk::engine::EngineStatus::default());
    c.attach_engine(rx);
    tx.send(syncdesk::engine::EngineStatus {
        holds_lease: true,
        running: 3,
        succeeded: 10,
        failed: 1,
        ..Default::default()
    })
    .unwrap();
    assert!(c.tick());
    assert!(
        shot(&mut c)
            .lines()
            .next()
            .unwrap()
            .contains("engine: 3 running")
    );
}

#[test]
fn a_store_the_engine_cannot_write_shows_in_the_header_and_on_the_dashboard() {
    let f = Fixture::new();
    let mut c = f.console();
    let (tx, rx) = tokio::sync::watch::channel(syncdesk::engine::EngineStatus::default());
    c.attach_engine(rx);
    keys(&mut c, "5");
    tx.send(syncdesk::engine::EngineStatus {
        holds_lease: true,
        store: Some(syncdesk::store::StoreOutage {
            since: NOW - 3 * MIN,
            condition: syncdesk::store::Unavailable::DiskFull,
            detail: "disk full: the database cannot grow".into(),
            last_try: NOW,
        }),
        ..Default::default()
    })
    .unwrap();
    assert!(c.tick());
    let screen = shot(&mut c);
    assert!(
        screen.lines().next().unwrap().contains("STORE DISK FULL"),
        "{screen}"
    );
    assert!(screen.contains("STORE UNAVAILABLE: disk full"), "{screen}");
    assert!(
        screen.contains("since 2026-11-21 11:57 (3m ago)"),
        "{screen}"
    );
    // When it takes writes again, the warning goes.
    tx.send(syncdesk::engine::EngineStatus {
        holds_lease: true,
        ..Default::default()
    })
    .unwrap();
    assert!(c.tick());
    let screen = shot(&mut c);
    assert!(!screen.contains("STORE"), "{screen}");
}

#[test]
fn keys_come_from_the_config_and_help_shows_them() {
    let f = Fixture::new();
    let config = Config::parse(
        "[console.keys.normal]\nhelp = [\"f1\"]\nchange_status = [\"S\", \"ctrl-s\"]\n",
    )
    .unwrap();
    let app = App::open(&f.dir.path().join("c.db"), config, Actor::operator("carol")).unwrap();
    let mut c = Console::new(
        app,
        Options {
            readonly: false,
            no_color: false,
            clock: Clock::Fixed(NOW),
        },
    )
    .unwrap();
    c.resize(W, H);
    keys(&mut c, "?");
    assert!(c.ui.modal.is_none(), "? is no longer bound");
    press(&mut c, KeyCode::F(1));
    let help = shot(&mut c);
    assert!(help.contains("f1 this help"), "{help}");
    assert!(help.contains("S/ctrl-s change status"), "{help}");
    assert!(
        help.contains("k/up move up"),
        "unlisted actions keep their defaults"
    );
    press(&mut c, KeyCode::Esc);
    c.handle_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    assert!(matches!(c.ui.modal, Some(Modal::StatusPicker(_))));
}

#[test]
fn bad_console_config_names_the_field() {
    let err = Config::parse("[console.keys.normal]\nhelp = [\"hyper-q\"]\n").unwrap_err();
    assert!(err.starts_with("console.keys.normal.help[0]"), "{err}");
    let err = Config::parse("[console.keys.normal]\nteleport = [\"t\"]\n").unwrap_err();
    assert!(err.contains("teleport"), "{err}");
    let err = Config::parse("[console.theme]\naccent = \"octarine\"\n").unwrap_err();
    assert!(err.starts_with("console.theme.accent"), "{err}");
}

#[test]
fn without_a_terminal_the_console_refuses_politely() {
    let f = Fixture::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_syncdesk"))
        .args(["--readonly", "--db"])
        .arg(f.dir.path().join("c.db"))
        .env("SYNCDESK_CONFIG", f.dir.path().join("none.toml"))
        .env_remove("SYNCDESK_DB")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the console needs a terminal"));
}

#[test]
fn mouse_is_off_by_default_and_clicks_select_when_on() {
    use crossterm::event::{Event, MouseButton, MouseEvent, MouseEventKind};
    let f = Fixture::new();
    let mut c = f.console();
    let click = |x, y| {
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        })
    };
    assert!(!c.ui.mouse);
    c.handle_event(&click(30, 5)); // third order row
    assert_eq!(c.ui.pos().cursor, 0, "mouse is off");
    keys(&mut c, "m");
    assert!(c.ui.mouse);
    c.handle_event(&click(30, 5));
    assert_eq!(c.ui.pos().cursor, 2);
    assert_eq!(c.snapshot().detail.as_ref().unwrap().0.number, "R-2");
    c.handle_event(&click(3, 4)); // "Processing" in the status list
    assert_eq!(c.snapshot().status_filter(&c.ui), Some("Processing"));
    c.handle_event(&click(52, 0)); // "4 Errors (2)" tab
    assert_eq!(c.ui.tab, Tab::Errors);
}

#[test]
fn readonly_is_refused_with_a_subcommand() {
    let f = Fixture::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_syncdesk"))
        .args([
            "--readonly",
            "orders",
            "cancel",
            "R-1",
            "--reason",
            "x",
            "--db",
        ])
        .arg(f.dir.path().join("c.db"))
        .env_remove("SYNCDESK_CONFIG")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(f.app("x").order("R-1").unwrap().status, "Pending");
}

#[test]
fn bulk_change_reports_each_refusal_and_applies_the_rest() {
    let f = Fixture::new();
    let mut c = f.console();
    // All active, newest first: R-4, R-3, R-2, R-1. Mark R-2 (Processing) and R-1 (Pending).
    keys(&mut c, "jj  ");
    assert_eq!(c.ui.marked.len(), 2);
    f.app("dave")
        .change_status("R-2", "Ready to Ship", None, None)
        .unwrap();
    keys(&mut c, "s");
    match &c.ui.modal {
        Some(Modal::StatusPicker(p)) => {
            assert_eq!(
                p.options,
                ["Backorder", "Cancelled"],
                "only moves both orders allow"
            )
        }
        other => panic!("expected the picker, got {other:?}"),
    }
    press(&mut c, KeyCode::Enter);
    let toast = last_toast(&c);
    assert!(toast.contains("R-1 Pending → Backorder"), "{toast}");
    assert!(
        toast.contains("refused: order R-2 changed since you loaded it (by dave"),
        "{toast}"
    );
    assert_eq!(f.app("x").order("R-2").unwrap().status, "Ready to Ship");
    assert_eq!(f.app("x").order("R-1").unwrap().status, "Backorder");
}

#[test]
fn smallest_screen_keeps_the_orders_readable() {
    let f = Fixture::new();
    let mut c = f.console();
    insta::assert_snapshot!(screen(&mut c, 80, 20).backend().to_string());
    keys(&mut c, "?j");
    let help = screen(&mut c, 80, 20).backend().to_string();
    assert!(!help.contains("q/ctrl-c quit"), "help scrolled by one line");
    press(&mut c, KeyCode::Esc);
    press(&mut c, KeyCode::Enter);
    keys(&mut c, "jjj");
    assert_eq!(c.ui.detail_scroll, 3, "zoomed, j scrolls the detail");
    assert_eq!(c.ui.pos().cursor, 0, "and does not move between orders");
}

#[test]
fn dashboard_follows_the_queue_at_once_and_rescans_history_only_now_and_then() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "5");
    let done = |c: &Console| c.snapshot().dashboard.as_ref().unwrap().done_last_hour;
    let dead = |c: &Console| {
        let d = c.snapshot().dashboard.as_ref().unwrap();
        d.job_counts.iter().find(|(s, _)| s == "dead").unwrap().1
    };
    assert_eq!((done(&c), dead(&c)), (8, 1));
    let mut app = f.app("x");
    let id = app
        .problem_jobs(10, 0)
        .unwrap()
        .iter()
        .find(|j| j.state == JobState::Dead)
        .unwrap()
        .id;
    app.discard_job(id).unwrap();
    app.store()
        .write(|tx| -> syncdesk::store::Result<()> {
            let job = jobs::enqueue(
                tx,
                &NewJob {
                    kind: "stock.push".into(),
                    key: None,
                    payload: "{}".into(),
                    run_at: NOW - MIN,
                    max_attempts: 8,
                },
                NOW - MIN,
            )?;
            jobs::claim(tx, "stock.push", 1, "engine-test", 30_000, NOW - MIN)?;
            jobs::complete(tx, job, "engine-test", NOW - 1000)?;
            Ok(())
        })
        .unwrap();
    c.tick();
    assert_eq!(
        (done(&c), dead(&c)),
        (8, 0),
        "queue depth at once, throughput later"
    );
    c.set_clock(Clock::Fixed(NOW + 11_000));
    let retrying = app.problem_jobs(10, 0).unwrap()[0].id;
    app.discard_job(retrying).unwrap();
    c.tick();
    assert_eq!(
        done(&c),
        9,
        "history-wide numbers are recomputed every few seconds"
    );
}

#[test]
fn dashboard_metrics_come_from_a_background_thread_when_one_runs() {
    let f = Fixture::new();
    let mut c = f.console();
    c.spawn_metrics_worker();
    keys(&mut c, "5");
    let d = c.snapshot().dashboard.clone().unwrap();
    assert_eq!(
        d.metrics_at, 0,
        "the switch itself does not wait for the history scan"
    );
    assert_eq!(
        d.job_counts.iter().find(|(s, _)| s == "dead").unwrap().1,
        1,
        "live numbers at once"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while c.snapshot().dashboard.as_ref().unwrap().metrics_at == 0 {
        assert!(std::time::Instant::now() < deadline, "the worker answered");
        std::thread::sleep(std::time::Duration::from_millis(10));
        c.tick();
    }
    let d = c.snapshot().dashboard.clone().unwrap();
    assert_eq!((d.metrics_at, d.done_last_hour, d.orders), (NOW, 8, 6));
}

#[test]
fn console_pages_match_the_order_list() {
    let f = Fixture::new();
    let mut app = f.app("x");
    for i in 0..30 {
        app.add_order(&format!("P-{i:02}"), None, "manual", &[("SKU-A".into(), 1)])
            .unwrap();
    }
    for status in [
        None,
        Some("Pending"),
        Some("Backorder"),
        Some("Completed"),
        Some("Cancelled"),
    ] {
        for (limit, offset) in [(10, 0), (10, 25), (100, 0)] {
            let list: Vec<i64> = app
                .list_orders(status, false, None, limit, offset)
                .unwrap()
                .iter()
                .map(|o| o.id)
                .collect();
            let console: Vec<i64> = app
                .console_orders(status, None, limit, offset)
                .unwrap()
                .iter()
                .map(|o| o.summary.id)
                .collect();
            assert_eq!(list, console, "{status:?} limit {limit} offset {offset}");
        }
        // Scrolling reads each page from where the previous one started (keyset): same rows.
        let mut anchor = None;
        for offset in [0, 5, 12, 11, 3, 30, 29, 31, 2, 26, 0, 33, 34] {
            let (page, next) = app
                .console_order_page(status, None, 10, offset, anchor)
                .unwrap();
            let list: Vec<i64> = app
                .list_orders(status, false, None, 10, offset)
                .unwrap()
                .iter()
                .map(|o| o.id)
                .collect();
            let ids: Vec<i64> = page.iter().map(|o| o.summary.id).collect();
            assert_eq!(ids, list, "{status:?} offset {offset} from {anchor:?}");
            anchor = next.or(anchor);
        }
        let all = app.list_orders(status, false, None, 1000, 0).unwrap().len() as i64;
        assert_eq!(
            app.count_console_orders(status, None).unwrap(),
            all,
            "{status:?}"
        );
    }
    let found = app
        .list_orders(None, false, Some("sku-a"), 1000, 0)
        .unwrap()
        .len() as i64;
    assert_eq!(
        app.count_console_orders(None, Some("sku-a")).unwrap(),
        found
    );
}

#[test]
fn conflicts_panel_lists_open_stock_conflicts() {
    let f = Fixture::new();
    f.raise_conflicts();
    let mut c = f.console();
    keys(&mut c, "3");
    insta::assert_snapshot!(shot(&mut c));
    keys(&mut c, "a");
    assert!(
        last_toast(&c).contains("alerts are listed on the Dashboard"),
        "{}",
        last_toast(&c)
    );
}

// ---------------------------------------------------------------------------------------------------------
// Conflicts, alerts and sync passes from the console.

#[test]
fn resolve_conflict_dialog() {
    let f = Fixture::new();
    f.raise_conflicts();
    let mut c = f.console();
    keys(&mut c, "3");
    press(&mut c, KeyCode::Enter);
    insta::assert_snapshot!(shot(&mut c));
}

#[test]
fn conflict_resolved_by_the_operator_leaves_the_panel_and_enqueues_the_write() {
    let f = Fixture::new();
    f.raise_conflicts();
    let mut c = f.console();
    keys(&mut c, "3");
    press(&mut c, KeyCode::Enter); // SKU-C, the newest
    press(&mut c, KeyCode::Down); // store wins → 9
    press(&mut c, KeyCode::Enter);
    assert!(c.ui.modal.is_none(), "{}", last_toast(&c));
    assert!(
        last_toast(&c).contains("SKU-C resolved by carol (store wins): 9 goes to the store"),
        "{}",
        last_toast(&c)
    );
    let mut app = f.app("x");
    let all = app.stock_conflicts(true, 10).unwrap();
    let sku_c = all.iter().find(|k| k.sku == "SKU-C").unwrap();
    assert_eq!(sku_c.resolved_by.as_deref(), Some("carol"));
    assert_eq!(sku_c.resolution.as_deref(), Some("woo_wins"));
    assert_eq!(sku_c.quantity, Some(9));
    let apply: Vec<_> = app
        .jobs(Some(JobState::Queued), 100)
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "stock.apply_resolution")
        .collect();
    assert_eq!(apply.len(), 1);
    assert!(
        apply[0].payload.contains("\"quantity\":9"),
        "{}",
        apply[0].payload
    );
    let rows = match &c.snapshot().conflicts {
        syncdesk::tui::conflicts::ConflictsView::Rows(r, _) => r.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        rows.iter().map(|r| r.sku.as_str()).collect::<Vec<_>>(),
        ["SKU-A"],
        "the resolved conflict left the panel"
    );
}

#[test]
fn resolve_price_conflict_dialog() {
    let f = Fixture::new();
    f.raise_conflicts();
    f.raise_price_drift();
    let mut c = f.console();
    keys(&mut c, "3");
    press(&mut c, KeyCode::Enter); // the price_drift, the newest row
    insta::assert_snapshot!(shot(&mut c));
}

#[test]
fn a_price_conflict_resolved_from_the_console_sends_the_pos_price_and_leaves_the_stock_conflict() {
    let f = Fixture::new();
    f.raise_conflicts();
    f.raise_price_drift();
    let mut config = Config::default();
    config.stock.enabled = true;
    let mut c = f.console_config(config, false);
    keys(&mut c, "3");
    press(&mut c, KeyCode::Enter);
    // Only two choices: Tab past the store price comes back to the POS price; typing is no quantity.
    press(&mut c, KeyCode::Down);
    press(&mut c, KeyCode::Down);
    keys(&mut c, "5");
    press(&mut c, KeyCode::Enter);
    assert!(c.ui.modal.is_none(), "{}", last_toast(&c));
    assert!(
        last_toast(&c)
            .contains("SKU-C price resolved by carol (POS wins): 32.60 goes to the store"),
        "{}",
        last_toast(&c)
    );
    let mut app = f.app("x");
    let all = app.stock_conflicts(true, 10).unwrap();
    let price = all.iter().find(|k| k.kind == "price_drift").unwrap();
    assert_eq!(price.resolved_by.as_deref(), Some("carol"));
    assert_eq!(price.resolution.as_deref(), Some("pos_wins"));
    let stock = all.iter().find(|k| k.kind == "quantity_mismatch").unwrap();
    assert!(stock.resolved_at.is_none(), "the stock conflict stays open");
    let jobs = app.jobs(None, 100).unwrap();
    assert!(
        jobs.iter()
            .any(|j| j.kind == "stock.price_pass" && j.state == JobState::Queued),
        "a price pass is asked for: {jobs:?}"
    );
    assert!(!jobs.iter().any(|j| j.kind == "stock.apply_resolution"));
    let log =
        syncdesk::store::sync_log::for_entity(app.store().conn(), "price", "SKU-C", 5).unwrap();
    assert_eq!(log[0].new_value.as_deref(), Some("32.60"));
    assert_eq!(log[0].actor.as_deref(), Some("carol"));
    // The SKU's stock row is still settled by a quantity, from its own row.
    press(&mut c, KeyCode::Enter);
    press(&mut c, KeyCode::Down); // store wins → 9
    press(&mut c, KeyCode::Enter);
    assert!(
        last_toast(&c).contains("SKU-C resolved by carol (store wins): 9 goes to the store"),
        "{}",
        last_toast(&c)
    );
}

#[test]
fn merging_a_price_conflict_is_refused_by_command() {
    let f = Fixture::new();
    f.raise_price_drift();
    let mut c = f.console();
    keys(&mut c, "3");
    keys(&mut c, ":resolve merge");
    press(&mut c, KeyCode::Enter);
    assert!(
        last_toast(&c)
            .contains("SKU-C: a price conflict is settled by the POS price or the store price"),
        "{}",
        last_toast(&c)
    );
    assert_eq!(f.app("x").open_conflicts(10, 0).unwrap().len(), 1);
}

#[test]
fn a_refused_resolution_says_why_and_changes_nothing() {
    let f = Fixture::new();
    f.raise_conflicts();
    let mut c = f.console();
    keys(&mut c, "3j"); // SKU-A: the POS shows -2
    press(&mut c, KeyCode::Enter);
    press(&mut c, KeyCode::Enter); // POS wins
    assert!(
        last_toast(&c).contains("SKU-A: that side shows -2, a negative quantity"),
        "{}",
        last_toast(&c)
    );
    assert!(
        matches!(c.ui.modal, Some(Modal::Resolve(_))),
        "the dialog stays open"
    );
    let mut app = f.app("x");
    assert_eq!(app.open_conflicts(10, 0).unwrap().len(), 2);
    assert!(
        !app.jobs(None, 100)
            .unwrap()
            .iter()
            .any(|j| j.kind == "stock.apply_resolution")
    );
    // A recount settles it.
    keys(&mut c, "5");
    press(&mut c, KeyCode::Enter);
    assert!(c.ui.modal.is_none(), "{}", last_toast(&c));
    let a = app
        .stock_conflicts(true, 10)
        .unwrap()
        .into_iter()
        .find(|k| k.sku == "SKU-A")
        .unwrap();
    assert_eq!(
        (a.resolution.as_deref(), a.quantity),
        (Some("quantity"), Some(5))
    );
}

#[test]
fn dashboard_with_alerts() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "5j"); // the second alert selected
    insta::assert_snapshot!(shot(&mut c));
}

#[test]
fn alert_acknowledged_by_the_operator() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "5");
    let open = c.snapshot().dashboard.as_ref().unwrap().alerts.clone();
    assert_eq!(open.len(), 2);
    keys(&mut c, "ja"); // the second: R-3's backorder
    assert!(
        last_toast(&c).contains(&format!("alert {} acknowledged by carol", open[1].id)),
        "{}",
        last_toast(&c)
    );
    let mut app = f.app("x");
    let all = app.alerts(true, 10).unwrap();
    let acked = all.iter().find(|a| a.id == open[1].id).unwrap();
    assert_eq!(acked.acknowledged_by.as_deref(), Some("carol"));
    assert_eq!(app.alerts(false, 10).unwrap().len(), 1);
    assert_eq!(c.snapshot().dashboard.as_ref().unwrap().alerts.len(), 1);
}

#[test]
fn sync_now_enqueues_the_pass_and_reports_its_outcome() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, ":sync full");
    press(&mut c, KeyCode::Enter);
    assert!(
        last_toast(&c)
            .contains("cannot sync full: stock sync is not enabled (set [stock] enabled = true)"),
        "{}",
        last_toast(&c)
    );
    let mut config = Config::default();
    config.stock.enabled = true;
    let mut c = f.console_config(config, false);
    keys(&mut c, ":sync fu");
    press(&mut c, KeyCode::Tab);
    assert_eq!(
        c.ui.line.as_ref().unwrap().hint,
        ["full", "fulfillments"],
        "Tab offers the passes"
    );
    keys(&mut c, "l");
    press(&mut c, KeyCode::Enter);
    let mut app = f.app("x");
    let queued: Vec<_> = app
        .jobs(Some(JobState::Queued), 100)
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "stock.full_pass")
        .collect();
    assert_eq!(queued.len(), 1, "{}", last_toast(&c));
    assert!(queued[0].run_at <= syncdesk::domain::time::now_ms());
    let id = queued[0].id;
    assert!(last_toast(&c).contains(&format!("sync full: job {id} queued to run now")));
    c.tick();
    assert!(
        shot(&mut c).contains("sync full queued"),
        "the header shows it pending"
    );
    // Asking again does not queue a second pass.
    keys(&mut c, ":sync full");
    press(&mut c, KeyCode::Enter);
    assert_eq!(
        app.jobs(Some(JobState::Queued), 100)
            .unwrap()
            .iter()
            .filter(|j| j.kind == "stock.full_pass")
            .count(),
        1
    );
    // The engine runs it.
    app.store()
        .write(|tx| -> syncdesk::store::Result<()> {
            let now = syncdesk::domain::time::now_ms();
            jobs::claim(tx, "stock.full_pass", 1, "engine-test", 30_000, now)?;
            jobs::complete(tx, id, "engine-test", now + 2_000)?;
            Ok(())
        })
        .unwrap();
    c.tick();
    assert!(
        last_toast(&c).contains(&format!("sync full finished (job {id})")),
        "{}",
        last_toast(&c)
    );
    assert!(c.ui.syncs.is_empty());
    assert!(!shot(&mut c).contains("sync full queued"));
    // A pass whose connector is off is refused with the reason.
    keys(&mut c, ":sync orders");
    press(&mut c, KeyCode::Enter);
    assert!(
        last_toast(&c).contains("WooCommerce is not enabled"),
        "{}",
        last_toast(&c)
    );
}

#[test]
fn readonly_offers_no_resolve_acknowledge_or_sync() {
    let f = Fixture::new();
    f.raise_conflicts();
    let mut config = Config::default();
    config.stock.enabled = true;
    let mut c = f.console_config(config, true);
    keys(&mut c, "3");
    assert!(!shot(&mut c).contains("resolve"));
    press(&mut c, KeyCode::Enter);
    assert!(c.ui.modal.is_none());
    keys(&mut c, ":resolve 4");
    press(&mut c, KeyCode::Enter);
    keys(&mut c, "5");
    assert!(!shot(&mut c).contains("acknowledge"));
    keys(&mut c, "a");
    keys(&mut c, ":ack");
    press(&mut c, KeyCode::Enter);
    keys(&mut c, ":sync full");
    press(&mut c, KeyCode::Enter);
    assert!(last_toast(&c).contains("read-only"), "{}", last_toast(&c));
    let mut app = f.app("x");
    assert_eq!(app.open_conflicts(10, 0).unwrap().len(), 2);
    assert_eq!(app.alerts(false, 10).unwrap().len(), 2);
    assert!(
        !app.jobs(None, 100)
            .unwrap()
            .iter()
            .any(|j| j.kind == "stock.full_pass" || j.kind == "stock.apply_resolution")
    );
}

#[test]
fn filter_finds_what_a_substring_match_finds_and_applies_as_you_type() {
    let f = Fixture::new();
    let mut app = f.app("alice");
    app.add_order(
        "Q-1",
        Some("Seán O\"Brien"),
        "manual",
        &[("sku-x%1".into(), 1)],
    )
    .unwrap();
    app.add_order("Q-2", Some("Ada Byron"), "manual", &[("SKU-ADA".into(), 1)])
        .unwrap();
    let all = app.list_orders(None, false, None, 1000, 0).unwrap();
    for text in [
        "sku-a",
        "ADA",
        "r-1",
        "o\"b",
        "x%1",
        "seán",
        "ov",
        "a",
        "nothing-like-it",
    ] {
        let expected: Vec<i64> = all
            .iter()
            .filter(|o| {
                let d = app.order(&o.number).unwrap();
                let t = text.to_lowercase();
                o.number.to_lowercase().contains(&t)
                    || o.customer
                        .as_deref()
                        .unwrap_or("")
                        .to_lowercase()
                        .contains(&t)
                    || d.lines.iter().any(|l| l.sku.to_lowercase().contains(&t))
            })
            .map(|o| o.id)
            .collect();
        let found: Vec<i64> = app
            .list_orders(None, false, Some(text), 1000, 0)
            .unwrap()
            .iter()
            .map(|o| o.id)
            .collect();
        assert_eq!(found, expected, "search {text:?}");
        assert_eq!(
            app.count_console_orders(None, Some(text)).unwrap(),
            expected.len() as i64,
            "count {text:?}"
        );
    }
    // Typing filters from the third character; Esc puts the previous filter back.
    let mut c = f.console();
    keys(&mut c, "/Ad");
    assert_eq!(c.ui.filter(), None, "two characters wait for Enter");
    keys(&mut c, "a");
    assert_eq!(c.ui.filter(), Some("Ada"));
    let numbers: Vec<&str> = c
        .snapshot()
        .orders
        .iter()
        .map(|o| o.summary.number.as_str())
        .collect();
    assert_eq!(numbers, ["Q-2", "R-1"]);
    press(&mut c, KeyCode::Esc);
    assert_eq!(c.ui.filter(), None);
    assert!(c.snapshot().orders.len() > 2);
}

#[test]
fn otp_command_is_refused_for_an_order_that_did_not_come_from_the_marketplace() {
    let f = Fixture::new();
    let mut c = f.console();
    select(&mut c, "R-2");
    keys(&mut c, ":otp 4821");
    press(&mut c, KeyCode::Enter);
    assert!(
        last_toast(&c).contains("order R-2 did not come from cartona"),
        "{}",
        last_toast(&c)
    );
    keys(&mut c, ":otp");
    press(&mut c, KeyCode::Enter);
    assert!(
        last_toast(&c).contains("usage: :otp <code>"),
        "{}",
        last_toast(&c)
    );
}

/// The store cancelled R-1 after syncdesk last saw it, while syncdesk had its own status to send: the order
/// says so, tells the operator how to settle it, and `:settle store` takes the store's word.
#[test]
fn a_conflict_with_the_store_is_shown_on_the_order_and_settled_from_the_command_line() {
    let f = Fixture::new();
    let mut app = f.app("bob");
    let r1 = app.order("R-1").unwrap().id;
    app.store()
        .write(|tx| -> syncdesk::store::Result<()> {
            let link = links::for_local(tx, "order", r1)?.remove(0);
            links::record_remote(tx, link.id, Some("cancelled"), Some("2026-11-21T11:58:00Z"), NOW - MIN)?;
            links::set_state(
                tx,
                link.id,
                LinkState::Conflict,
                Some("woocommerce order R-1 was changed in the store to 'cancelled' after syncdesk last saw 'pending'; 'on-hold' was NOT sent"),
            )?;
            Ok(())
        })
        .unwrap();
    let mut c = f.console();
    select(&mut c, "R-1");
    let screen = shot(&mut c);
    assert!(screen.contains("? conflict"), "{screen}");
    assert!(screen.contains(":settle store"), "{screen}");
    insta::assert_snapshot!(screen);
    keys(&mut c, ":settle store");
    press(&mut c, KeyCode::Enter);
    assert!(
        last_toast(&c).starts_with("settled: "),
        "{}",
        last_toast(&c)
    );
    let order = f.app("bob").order("R-1").unwrap();
    assert_eq!(order.status, "Cancelled");
    let last = order.history.last().unwrap();
    assert_eq!(
        (last.by.as_str(), last.source.as_str()),
        ("carol", "woocommerce")
    );
    // Cancelled, the order left the active list; nothing is left to settle, and asking again says so.
    let again = f
        .app("bob")
        .settle("R-1", syncdesk::app::Keep::Store)
        .unwrap_err()
        .to_string();
    assert!(again.contains("no conflict"), "{again}");
}
