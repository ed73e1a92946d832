//! Keys a k9s or lazygit user reaches for: `o`/`O` sort the panel by its next column and reverse it, `v`
//! flips the Orders panel between active orders and the archive, and a console started with nobody named
//! asks who is at the keyboard before anything is recorded.

use crossterm::event::KeyCode;
use syncdesk::tui::Console;
use syncdesk::tui::state::Modal;

use super::{Fixture, keys, last_toast, press, select, shot};

fn numbers(c: &Console) -> Vec<String> {
    c.snapshot()
        .orders
        .iter()
        .map(|o| o.summary.number.clone())
        .collect()
}

#[test]
fn o_sorts_the_orders_by_the_next_column_and_capital_o_reverses_it() {
    let f = Fixture::new();
    // An order imported late with its history: it arrives last but was placed a day ago.
    let mut app = f.app("alice");
    app.add_order("R-0", Some("Old Import"), "web", &[("SKU-A".into(), 1)])
        .unwrap();
    app.store()
        .write(|tx| -> syncdesk::store::Result<usize> {
            Ok(tx.execute(
                "UPDATE orders SET created_at = ?1 WHERE number = 'R-0'",
                [super::NOW - 24 * super::HOUR],
            )?)
        })
        .unwrap();
    let mut c = f.console();
    let newest_received_first = numbers(&c);
    assert_eq!(newest_received_first[0], "R-0", "the latest arrival on top");
    keys(&mut c, "o");
    assert_eq!(last_toast(&c), "Orders sorted by Age ▲");
    let youngest_first = numbers(&c);
    assert_eq!(
        youngest_first.last().map(String::as_str),
        Some("R-0"),
        "by age the day-old order is last: {youngest_first:?}"
    );
    assert!(
        shot(&mut c).contains("Age▲"),
        "the column says how it sorts"
    );
    keys(&mut c, "O");
    assert_eq!(last_toast(&c), "Orders sorted by Age ▼");
    assert_eq!(numbers(&c)[0], "R-0", "the longest-waiting order first");
    keys(&mut c, "o");
    assert_eq!(last_toast(&c), "Orders sorted by Number ▲");
    let by_number = numbers(&c);
    let mut sorted = by_number.clone();
    sorted.sort();
    assert_eq!(by_number, sorted);
    keys(&mut c, "O");
    let reversed: Vec<String> = by_number.iter().rev().cloned().collect();
    assert_eq!(numbers(&c), reversed);
    // Round the columns back to the start: the newest arrival on top again.
    keys(&mut c, "ooo");
    assert_eq!(last_toast(&c), "Orders sorted by Received ▲");
    assert_eq!(numbers(&c), newest_received_first);
}

#[test]
fn v_shows_the_archive_and_v_again_the_active_orders() {
    let f = Fixture::new();
    f.app("alice")
        .cancel("R-1", "customer changed their mind", None)
        .unwrap();
    let mut c = f.console();
    assert!(!numbers(&c).contains(&"R-1".to_string()), "R-1 is archived");
    keys(&mut c, "v");
    let archive = numbers(&c);
    assert!(archive.contains(&"R-1".to_string()), "{archive:?}");
    assert!(
        c.snapshot().orders.iter().all(|o| o.summary.archived),
        "only the archive"
    );
    keys(&mut c, "v");
    let active = numbers(&c);
    assert!(!active.contains(&"R-1".to_string()) && !active.is_empty());
}

#[test]
fn a_console_with_nobody_named_asks_who_acts_and_records_them() {
    let f = Fixture::new();
    let mut c = f.console_with("", false, false);
    assert!(matches!(c.ui.modal, Some(Modal::Operator { .. })));
    // Nothing can be done before a name is given: keys go to the name.
    keys(&mut c, "dave");
    press(&mut c, KeyCode::Enter);
    assert!(c.ui.modal.is_none(), "{:?}", c.ui.modal);
    assert!(shot(&mut c).contains("dave · admin"));
    select(&mut c, "R-2");
    keys(&mut c, "s");
    press(&mut c, KeyCode::Enter);
    let order = f.app("x").order("R-2").unwrap();
    assert_eq!(order.history.last().unwrap().by, "dave");

    // Esc at the question leaves the console: nothing is recorded by nobody.
    let mut c = f.console_with("", false, false);
    press(&mut c, KeyCode::Esc);
    assert!(c.should_quit());
}

#[test]
fn a_dialog_the_role_may_not_use_is_refused_before_it_opens() {
    let f = Fixture::new();
    f.raise_conflicts();
    let mut config = syncdesk::config::Config::default();
    config.roles.warehouse = vec!["carol".into()];
    let mut c = f.console_config(config, false);
    // Warehouse staff ship and change statuses, but conflicts are for ops: no dialog to fill in for nothing.
    keys(&mut c, "3");
    press(&mut c, KeyCode::Enter);
    assert!(c.ui.modal.is_none(), "{:?}", c.ui.modal);
    assert_eq!(
        last_toast(&c),
        "warehouse may not resolve conflicts (acting as carol)"
    );
    c.ui.toasts.clear();
    let footer = shot(&mut c).lines().last().unwrap_or_default().to_string();
    assert!(
        !footer.contains("resolve"),
        "no hint to a refusal: {footer}"
    );

    let mut config = syncdesk::config::Config::default();
    config.roles.ops = vec!["carol".into()];
    let mut c = f.console_config(config, false);
    select(&mut c, "R-1");
    for key in ["s", "F", "c"] {
        keys(&mut c, key);
        assert!(c.ui.modal.is_none(), "{key}: {:?}", c.ui.modal);
        assert!(
            last_toast(&c).starts_with("ops may not "),
            "{key}: {}",
            last_toast(&c)
        );
    }
    assert_eq!(f.app("x").order("R-1").unwrap().status, "Pending");
    c.ui.toasts.clear();
    let footer = shot(&mut c).lines().last().unwrap_or_default().to_string();
    assert!(
        !footer.contains("status") && !footer.contains("fulfil") && footer.contains("zoom"),
        "{footer}"
    );
}
