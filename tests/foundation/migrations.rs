//! Schema upgrades in place, refusal of files from a newer build, and status config changes over live data.

use std::time::Duration;

use rusqlite::Connection;
use syncdesk::app::{Actor, App};
use syncdesk::config::Config;
use syncdesk::store::{Store, StoreError, schema};

use crate::support::Scratch;

#[test]
fn an_older_file_is_upgraded_in_place_keeping_its_orders() {
    let scratch = Scratch::new();
    let db = scratch.db();
    {
        let mut conn = Connection::open(&db).unwrap();
        schema::migrate_to(&mut conn, &db, 1).unwrap();
        conn.execute_batch(
            "INSERT INTO statuses VALUES (1, 'Pending', 'open', 1, 0);
             INSERT INTO orders (id, number, channel, status_id, created_at, updated_at, updated_by)
                 VALUES (1, 'OLD-1', 'manual', 1, 0, 0, 'legacy');
             INSERT INTO order_lines (order_id, line_no, sku, quantity) VALUES (1, 1, 'A', 3);",
        )
        .unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
    }
    let mut app = scratch.app("alice");
    let order = app.order("OLD-1").unwrap();
    assert_eq!(
        (order.status.as_str(), order.lines[0].quantity),
        ("Pending", 3)
    );
    let v: i64 = app
        .store()
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, schema::current_version());
    assert!(
        app.jobs(None, 1).unwrap().is_empty(),
        "tables of later migrations exist"
    );
}

#[test]
fn a_file_from_a_newer_build_is_refused() {
    let scratch = Scratch::new();
    let db = scratch.db();
    Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    match Store::open(&db, Duration::from_secs(1)) {
        Err(e @ StoreError::TooNew { .. }) => assert!(e.to_string().contains("upgrade syncdesk")),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("opened a file from the future"),
    }
}

#[test]
fn renaming_a_status_keeps_orders_and_removing_a_used_one_is_refused() {
    let scratch = Scratch::new();
    let mut app = scratch.app("alice");
    app.add_order("R-1", None, "manual", &[("A".into(), 1)])
        .unwrap();
    app.change_status("R-1", "Processing", None, None).unwrap();
    drop(app);

    let renamed = Config::parse(
        &syncdesk::config::TEMPLATE
            .replace("\"Processing\"", "\"Picking\"")
            .replace("name = \"Processing\"", "name = \"Picking\""),
    )
    .unwrap();
    let mut app = App::open(&scratch.db(), renamed, Actor::operator("alice")).unwrap();
    assert_eq!(app.order("R-1").unwrap().status, "Picking");
    assert_eq!(app.order("R-1").unwrap().history[1].to, "Picking");
    drop(app);

    let mut without = Config::default();
    without.statuses.status.retain(|s| s.name != "Processing");
    without.statuses.transitions.remove("Processing");
    for tos in without.statuses.transitions.values_mut() {
        tos.retain(|t| t != "Processing");
    }
    let err = App::open(&scratch.db(), without, Actor::operator("alice"))
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("status 2 'Picking' is still used"),
        "{err}"
    );
}
