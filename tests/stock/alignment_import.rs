//! `syncdesk alignment import` never drops a pair or a merge base silently: lines that pair one SKU twice
//! are refused by line (neither imported), and a pair that changes or loses its store SKU is reported with
//! the base it gives up, which the sync log keeps.

use crate::cli_support as cli;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use syncdesk::domain::LinkState;
use syncdesk::domain::inventory::MergeBase;
use syncdesk::store::{Store, inventory, sync_log};

fn import(dir: &Path, csv: &str) -> (i32, String, String) {
    let file = dir.join("pairs.csv");
    std::fs::write(&file, csv).unwrap();
    cli::run(dir, &["alignment", "import", &file.to_string_lossy()])
}

fn pairs(dir: &Path) -> Vec<(String, String, Option<i64>)> {
    let store = Store::open(&dir.join("s.db"), Duration::from_secs(5)).unwrap();
    inventory::aligned(store.conn())
        .unwrap()
        .into_iter()
        .map(|a| (a.pos_sku, a.store_sku, a.base.map(|b| b.agreed)))
        .collect()
}

/// Gives each named pair the base a stock pass would have agreed: `agreed` on both sides.
fn agree(dir: &Path, bases: &[(&str, i64)]) {
    let store = Store::open(&dir.join("s.db"), Duration::from_secs(5)).unwrap();
    for (pos_sku, agreed) in bases {
        let pair = inventory::find(store.conn(), pos_sku).unwrap().unwrap();
        let base = MergeBase {
            agreed: *agreed,
            pos_seen: *agreed,
            store_seen: *agreed,
        };
        inventory::record_pass(
            store.conn(),
            pair.id,
            Some(base),
            LinkState::Synced,
            None,
            1,
        )
        .unwrap();
    }
}

fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    dir
}

fn v(s: &[(&str, &str, Option<i64>)]) -> Vec<(String, String, Option<i64>)> {
    s.iter()
        .map(|(p, w, b)| (p.to_string(), w.to_string(), *b))
        .collect()
}

#[test]
fn two_pos_skus_on_one_store_sku_are_both_refused_by_line() {
    let dir = scratch();
    let (code, _, err) = import(
        dir.path(),
        "POS SKU,WooCommerce SKU\nKEEP-1,W-KEEP\nP-1,W-1\nP-2,W-1\nP-3,W-3\nP-3,W-4\n",
    );
    assert_eq!(code, 2, "conflicting lines make the command exit 2: {err}");
    for expected in [
        "line 3, column WooCommerce SKU: W-1 is paired with P-1 here and with P-2 on line 4",
        "line 4, column WooCommerce SKU: W-1 is paired with P-2 here and with P-1 on line 3",
        "line 5, column POS SKU: P-3 is paired with W-3 here and with W-4 on line 6",
        "line 6, column POS SKU: P-3 is paired with W-4 here and with W-3 on line 5",
    ] {
        assert!(err.contains(expected), "missing «{expected}» in:\n{err}");
    }
    assert_eq!(
        pairs(dir.path()),
        v(&[("KEEP-1", "W-KEEP", None)]),
        "neither side of a conflict is imported; the rest is"
    );

    // Against what is stored: the pair already there is not dropped for a conflicting file either.
    agree(dir.path(), &[("KEEP-1", 7)]);
    let (code, _, err) = import(
        dir.path(),
        "POS SKU,WooCommerce SKU\nNEW-1,W-KEEP\nNEW-2,W-KEEP\n",
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(pairs(dir.path()), v(&[("KEEP-1", "W-KEEP", Some(7))]));
}

#[test]
fn re_pointing_a_pair_reports_the_base_it_retires_and_the_sync_log_keeps_it() {
    let dir = scratch();
    let (code, _, err) = import(dir.path(), "POS SKU,WooCommerce SKU\nP-1,W-1\nP-2,W-2\n");
    assert_eq!(code, 0, "{err}");
    agree(dir.path(), &[("P-1", 12), ("P-2", 5)]);

    let (code, out, err) = import(dir.path(), "POS SKU,WooCommerce SKU\nP-2,W-2\nP-1,W-9\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("0 added, 1 updated, 1 unchanged — 1 re-pointed to another store SKU"),
        "{out}"
    );
    assert!(
        out.contains("line 3: P-1 re-pointed from W-1 to W-9; its merge base (agreed 12, POS then 12, store then 12) is retired"),
        "the operator is told which base is given up:\n{out}"
    );
    assert_eq!(
        pairs(dir.path()),
        v(&[("P-1", "W-9", None), ("P-2", "W-2", Some(5))]),
        "the new store SKU starts without a base; the untouched pair keeps its own"
    );
    let store = Store::open(&dir.path().join("s.db"), Duration::from_secs(5)).unwrap();
    let log = sync_log::for_entity(store.conn(), "alignment", "P-1", 10).unwrap();
    let entry = log.first().expect("the re-pointing is in the sync log");
    assert_eq!(
        (entry.old_value.as_deref(), entry.new_value.as_deref()),
        (Some("W-1"), Some("W-9"))
    );
    assert!(
        entry
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("agreed 12")),
        "{entry:?}"
    );
    assert_eq!(entry.actor.as_deref(), Some("ops"));

    // --json carries the same.
    let file = dir.path().join("back.csv");
    std::fs::write(&file, "POS SKU,WooCommerce SKU\nP-2,W-7\n").unwrap();
    let (code, out, _) = cli::run(
        dir.path(),
        &["alignment", "import", &file.to_string_lossy(), "--json"],
    );
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["repointed"][0]["pos_sku"], "P-2");
    assert_eq!(report["repointed"][0]["retired"]["base"]["agreed"], 5);
}

#[test]
fn a_store_sku_given_to_another_pos_sku_reports_the_pair_it_ends() {
    let dir = scratch();
    import(dir.path(), "POS SKU,WooCommerce SKU\nOLD-1,W-1\n");
    agree(dir.path(), &[("OLD-1", 4)]);
    let (code, out, err) = import(dir.path(), "POS SKU,WooCommerce SKU\nNEW-1,W-1\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("line 2: OLD-1 was aligned with W-1, which this line gives to another POS SKU; OLD-1 is no longer aligned and its merge base (agreed 4, POS then 4, store then 4) is retired"),
        "{out}"
    );
    assert_eq!(pairs(dir.path()), v(&[("NEW-1", "W-1", None)]));
    let store = Store::open(&dir.path().join("s.db"), Duration::from_secs(5)).unwrap();
    let log = sync_log::for_entity(store.conn(), "alignment", "OLD-1", 10).unwrap();
    assert!(
        log.first()
            .is_some_and(|e| e.old_value.as_deref() == Some("W-1")
                && e.new_value.is_none()
                && e.reason.as_deref().is_some_and(|r| r.contains("agreed 4"))),
        "{log:?}"
    );
}

#[test]
fn two_crossed_pairs_swap_in_one_import_and_both_bases_are_reported() {
    let dir = scratch();
    import(dir.path(), "POS SKU,WooCommerce SKU\nP-1,W-1\nP-2,W-2\n");
    agree(dir.path(), &[("P-1", 3), ("P-2", 8)]);
    let (code, out, err) = import(dir.path(), "POS SKU,WooCommerce SKU\nP-1,W-2\nP-2,W-1\n");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 re-pointed"), "{out}");
    assert!(
        out.contains("(agreed 3,") && out.contains("(agreed 8,"),
        "{out}"
    );
    assert_eq!(
        pairs(dir.path()),
        v(&[("P-1", "W-2", None), ("P-2", "W-1", None)])
    );
}

/// A store written before the web store side's columns were renamed (schema 11) upgrades in place: every
/// pair keeps its SKUs, product ids, merge base and prices; conflicts keep the store's value; hints stay;
/// and the trigram index still finds a pair by its store SKU.
#[test]
fn a_store_from_schema_11_upgrades_and_keeps_every_pair() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v11.db");
    {
        let mut conn = rusqlite::Connection::open(&db).unwrap();
        syncdesk::store::schema::migrate_to(&mut conn, &db, 11).unwrap();
        conn.execute_batch(
            "INSERT INTO sku_alignment (id, pos_sku, woo_sku, match_type, confidence, woo_product_id,
                 woo_parent_id, agreed, pos_seen, woo_seen, pos_price, woo_price, updated_at, product_name)
                 VALUES (1, 'P-1', 'W-1', 'exact', 1.0, 501, 500, 7, 8, 6, '9.99', '10.50', 0, 'Blue mug'),
                        (2, 'P-2', 'W-2', 'fuzzy', 0.8, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, '');
             INSERT INTO stock_conflicts (sku, kind, pos_value, woo_value, detail, detected_at)
                 VALUES ('W-1', 'quantity_mismatch', '8', '6', 'first sync', 0);
             INSERT INTO stock_hints (woo_product_id, hinted_at) VALUES (501, 0);",
        )
        .unwrap();
    }
    let store = Store::open(&db, Duration::from_secs(5)).unwrap();
    let conn = store.conn();
    let pairs = inventory::aligned(conn).unwrap();
    assert_eq!(pairs.len(), 2);
    let p1 = &pairs[0];
    assert_eq!((p1.pos_sku.as_str(), p1.store_sku.as_str()), ("P-1", "W-1"));
    assert_eq!(
        (p1.store_product_id, p1.store_parent_id),
        (Some(501), Some(500))
    );
    assert_eq!(
        p1.base,
        Some(MergeBase {
            agreed: 7,
            pos_seen: 8,
            store_seen: 6
        })
    );
    assert_eq!(
        (p1.pos_price.as_deref(), p1.store_price.as_deref()),
        (Some("9.99"), Some("10.50"))
    );
    assert_eq!((pairs[1].store_sku.as_str(), pairs[1].base), ("W-2", None));
    let open = inventory::open_conflicts_for(conn, "W-1").unwrap();
    assert_eq!(open[0].store_value.as_deref(), Some("6"));
    assert_eq!(inventory::hints(conn).unwrap(), vec![501]);
    let found: i64 = conn
        .query_row(
            "SELECT rowid FROM sku_search WHERE sku_search MATCH '\"W-1\"'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(found, 1);
}
