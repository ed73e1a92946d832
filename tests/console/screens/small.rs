//! Every panel and dialog at 80×24 (#15 point 8): what an operator on a laptop terminal or a warehouse
//! handheld sees. Columns collapse by priority; nothing a decision needs is cut. The Errors and Inventory
//! panels have their own 80×24 snapshots beside their journeys (`errors.rs`, `round2.rs`).

use crossterm::event::KeyCode;

use super::{Fixture, keys, press, screen, select};

macro_rules! snapshot {
    ($name:expr, $screen:expr) => {
        insta::with_settings!({ snapshot_path => "../snapshots" }, {
            insta::assert_snapshot!($name, $screen);
        })
    };
}

fn small(c: &mut syncdesk::tui::Console) -> String {
    screen(c, 80, 24).backend().to_string()
}

#[test]
fn each_panel_at_80x24() {
    let f = Fixture::new();
    f.raise_conflicts();
    let mut c = f.console();
    let orders = small(&mut c);
    for column in ["Number", "Channel", "Customer", "Status", "Sync"] {
        assert!(orders.contains(column), "Orders keeps {column}: {orders}");
    }
    snapshot!("orders_at_80x24", orders);
    for (key, name) in [("2", "fulfilments"), ("3", "conflicts"), ("5", "dashboard")] {
        keys(&mut c, key);
        snapshot!(format!("{name}_at_80x24"), small(&mut c));
    }
}

#[test]
fn each_dialog_and_the_help_at_80x24() {
    let f = Fixture::new();
    let mut c = f.console();
    keys(&mut c, "?");
    snapshot!("help_at_80x24", small(&mut c));
    press(&mut c, KeyCode::Esc);
    select(&mut c, "R-4");
    keys(&mut c, "s");
    snapshot!("status_picker_at_80x24", small(&mut c));
    press(&mut c, KeyCode::Esc);
    keys(&mut c, "F");
    snapshot!("fulfil_at_80x24", small(&mut c));
    press(&mut c, KeyCode::Esc);
    keys(&mut c, "c");
    snapshot!("cancel_at_80x24", small(&mut c));
}
