//! From what went wrong to what it is about (#15 point 3): Enter on a Dashboard alert opens its order on
//! the Orders panel or its SKU on the Inventory panel (an alert naming neither still opens in full), and
//! on the Errors panel a key of its own (`t`, configurable) opens the selected job's order or SKU.

use crossterm::event::KeyCode;
use syncdesk::config::Config;
use syncdesk::domain::alerts::{self as rules, AlertKind, NewAlert};
use syncdesk::store::{NewJob, alerts, jobs};
use syncdesk::tui::Console;
use syncdesk::tui::action::Action;
use syncdesk::tui::state::{Modal, Tab};

use super::{Fixture, NOW, keys, last_toast, press, shot};

impl Fixture {
    /// Raises `alert` now (the newest: first on the Dashboard).
    fn raise_alert(&self, alert: &NewAlert) {
        self.app("x")
            .store()
            .write(|tx| alerts::raise(tx, alert, NOW).map(drop))
            .unwrap();
    }

    /// A stock push for `sku` that gave up.
    fn dead_sku_job(&self, sku: &str) {
        self.app("x")
            .store()
            .write(|tx| -> syncdesk::store::Result<()> {
                let job = NewJob {
                    kind: "stock.push".into(),
                    key: Some(format!("sku:{sku}")),
                    payload: "{}".into(),
                    run_at: NOW,
                    max_attempts: 1,
                };
                let id = jobs::enqueue(tx, &job, NOW)?;
                jobs::claim(tx, "stock.push", 1, "engine-test", 30_000, NOW)?;
                let why = "HTTP 400: invalid quantity";
                jobs::fail(
                    tx,
                    id,
                    "engine-test",
                    why,
                    why,
                    jobs::ErrorClass::Permanent,
                    None,
                    NOW,
                )?;
                Ok(())
            })
            .unwrap();
    }
}

/// The Dashboard with the cursor on the open alert whose subject starts with `subject`.
fn on_alert(c: &mut Console, subject: &str) {
    keys(c, "5g");
    let alerts = c.snapshot().dashboard.as_ref().unwrap().alerts.clone();
    let at = alerts
        .iter()
        .position(|a| a.subject.starts_with(subject))
        .unwrap_or_else(|| panic!("no alert {subject}: {alerts:?}"));
    for _ in 0..at {
        keys(c, "j");
    }
}

fn selected_sku(c: &Console) -> String {
    let rows = &c.snapshot().inventory;
    rows[c.ui.pos().cursor].store_sku.clone()
}

fn selected_order(c: &Console) -> String {
    c.snapshot().detail.as_ref().unwrap().0.number.clone()
}

#[test]
fn enter_on_an_alert_opens_its_order_or_its_sku() {
    let f = Fixture::new();
    f.align();
    f.raise_alert(&NewAlert::new(
        AlertKind::NegativeStock,
        "SKU-G",
        "Negative stock: SKU-G".into(),
        "SKU-G shows negative stock (POS -1).".into(),
    ));
    f.raise_alert(&rules::sync_failure(
        "stock",
        "stock.full_pass",
        "store down",
    ));
    let mut c = f.console();

    // R-3's backorder: the order, selected on the Orders panel (its filter cleared).
    keys(&mut c, "/zzz");
    press(&mut c, KeyCode::Enter);
    on_alert(&mut c, "Backorder: order R-3");
    press(&mut c, KeyCode::Enter);
    assert!(c.ui.modal.is_none(), "{:?}", c.ui.modal);
    assert_eq!(c.ui.tab, Tab::Orders);
    assert_eq!(c.ui.filter(), None);
    assert_eq!(selected_order(&c), "R-3");

    // SKU-G's negative stock: the SKU, selected on the Inventory panel (the last of three rows).
    on_alert(&mut c, "Negative stock: SKU-G");
    press(&mut c, KeyCode::Enter);
    assert_eq!(c.ui.tab, Tab::Inventory);
    assert_eq!(selected_sku(&c), "SKU-G");

    // An alert about the pass itself names neither: it opens in full, as before.
    on_alert(&mut c, "Sync failure: stock");
    press(&mut c, KeyCode::Enter);
    assert!(
        matches!(c.ui.modal, Some(Modal::Alert { .. })),
        "{:?}",
        c.ui.tab
    );
    press(&mut c, KeyCode::Esc);
    // So does one whose SKU no pair aligns (SKU-Z): nowhere to go, the alert says what it is.
    on_alert(&mut c, "Missing alignment: SKU-Z");
    press(&mut c, KeyCode::Enter);
    assert!(matches!(c.ui.modal, Some(Modal::Alert { .. })));
    press(&mut c, KeyCode::Esc);

    // d shows any alert in full, one that names an order too.
    on_alert(&mut c, "Backorder: order R-3");
    keys(&mut c, "d");
    match &c.ui.modal {
        Some(Modal::Alert { alert, .. }) => {
            assert!(alert.subject.starts_with("Backorder: order R-3"))
        }
        other => panic!("expected the alert in full, got {other:?}"),
    }
    assert_eq!(c.ui.tab, Tab::Dashboard, "d stays on the Dashboard");
}

#[test]
fn t_on_the_errors_panel_opens_the_jobs_order_or_sku() {
    let f = Fixture::new();
    f.align();
    f.dead_sku_job("SKU-C");
    let mut c = f.console();
    keys(&mut c, "4");
    assert!(
        shot(&mut c).contains("t order/SKU"),
        "the footer lists the key"
    );
    let jobs = c.snapshot().jobs.clone();
    let row = |kind: &str| jobs.iter().position(|j| j.kind == kind).unwrap();

    // The dead status push of R-5 (completed: the order is in the archive).
    for _ in 0..row("woo.push_status") {
        keys(&mut c, "j");
    }
    keys(&mut c, "t");
    assert_eq!(c.ui.tab, Tab::Orders, "{}", last_toast(&c));
    assert_eq!(selected_order(&c), "R-5");

    // The dead stock push of SKU-C: its row on the Inventory panel.
    keys(&mut c, "4g");
    for _ in 0..row("stock.push") {
        keys(&mut c, "j");
    }
    keys(&mut c, "t");
    assert_eq!(c.ui.tab, Tab::Inventory, "{}", last_toast(&c));
    assert_eq!(selected_sku(&c), "SKU-C");

    // The key is configurable like the others.
    let mut config = Config::default();
    config
        .console
        .keys
        .normal
        .insert(Action::OpenTarget, vec!["T".into()]);
    let mut c = f.console_config(config, false);
    keys(&mut c, "4g");
    for _ in 0..row("stock.push") {
        keys(&mut c, "j");
    }
    keys(&mut c, "t");
    assert_eq!(c.ui.tab, Tab::Errors, "t is no longer bound");
    keys(&mut c, "T");
    assert_eq!(c.ui.tab, Tab::Inventory);
    assert_eq!(selected_sku(&c), "SKU-C");
}
