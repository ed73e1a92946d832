//! A SKU's trace after real passes (Counterpoint and WooCommerce simulators on loopback): every change on
//! either side with its source — a POS sale, a web order by number, a pass's write with its job, an
//! operator's resolution — stepping from the merge base to what the pass read; and the same answer from
//! `syncdesk stock trace SKU [--json]`.

use std::process::Command;

use rust_decimal::Decimal;
use syncdesk::app::trace::{Side, Source};
use syncdesk::app::{Actor, App};
use syncdesk::engine::JobHandler;
use syncdesk::engine::stock_flows::{PassMode, StockPassJob};
use syncdesk::integrations::woocommerce::orders as woo_orders;
use syncdesk::store::{Job, JobState};

use crate::stock_rig;
use stock_rig::Rig;

fn job(id: i64) -> Job {
    Job {
        id,
        kind: "stock.incremental_pass".into(),
        key: None,
        payload: "{}".into(),
        state: JobState::Running,
        attempts: 1,
        max_attempts: 1,
        run_at: 0,
        lease_until: None,
        leased_by: None,
        last_error: None,
        created_at: 0,
        updated_at: 0,
        outcome: None,
    }
}

/// Runs an incremental pass as the engine would, as job `id`.
async fn engine_pass(rig: &Rig, id: i64) {
    let handler = StockPassJob::new(&rig.config, PassMode::Incremental);
    handler.run(&job(id), &rig.ctx()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_names_a_pos_sale_and_a_web_order_and_the_pass_that_merged_them() {
    let rig = Rig::start(60, 80, 20).await;
    rig.pass(PassMode::Full, false).await;
    let (sku, item, product) = rig.pairs[0].clone();
    let before = rig.store_stock(0);
    rig.cp.shop().ring_sale(&item, Decimal::from(2)).unwrap();
    let web = rig.woo.create_order(&[(&sku, 3)], "processing").unwrap();
    woo_orders::reconcile(
        &woo_orders::client(&rig.config.woocommerce).unwrap(),
        &rig.ctx(),
        false,
    )
    .await
    .unwrap();
    engine_pass(&rig, 4242).await;
    assert_eq!(rig.store_stock(0), before - 5, "both sales kept");

    let mut app = App::open(&rig.db, rig.config.clone(), Actor::operator("x")).unwrap();
    // Either side's SKU finds the pair.
    let trace = app.stock_trace(&item, 50, 0).unwrap();
    assert_eq!(trace.pair.store_sku, sku);
    // The name as the store's API gives it.
    let name = woo_orders::client(&rig.config.woocommerce)
        .unwrap()
        .find_products_by_sku(std::slice::from_ref(&sku))
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.id == product)
        .unwrap()
        .name;
    assert!(!name.is_empty());
    assert_eq!(
        trace.pair.name.as_deref(),
        Some(name.as_str()),
        "the pass remembered the product's name"
    );
    assert_eq!(
        (trace.pair.pos, trace.pair.store, trace.pair.base),
        (Some(before - 2), Some(before - 5), Some(before - 5))
    );
    let newest: Vec<_> = trace.entries.iter().take(3).collect();
    let number = web.to_string();
    // Newest first: the pass's write, then what it saw on each side since the base.
    assert_eq!(newest[0].source, Source::Pass);
    assert_eq!(newest[0].side, Side::Store);
    assert_eq!(
        (
            newest[0].old.clone(),
            newest[0].new.clone(),
            newest[0].job_id
        ),
        (
            Some((before - 3).to_string()),
            Some((before - 5).to_string()),
            Some(4242)
        )
    );
    assert_eq!(newest[1].source, Source::WebOrder);
    assert_eq!(newest[1].side, Side::Store);
    assert!(
        newest[1]
            .order
            .as_deref()
            .is_some_and(|o| o.contains(&number)),
        "{:?}",
        newest[1]
    );
    assert_eq!(
        (newest[1].old.clone(), newest[1].new.clone()),
        (Some(before.to_string()), Some((before - 3).to_string()))
    );
    assert_eq!(newest[2].source, Source::PosSale);
    assert_eq!(newest[2].side, Side::Pos);
    assert_eq!(
        (
            newest[2].old.clone(),
            newest[2].new.clone(),
            newest[2].job_id
        ),
        (
            Some(before.to_string()),
            Some((before - 2).to_string()),
            Some(4242)
        )
    );
    assert!(
        trace.entries[3..].iter().all(|e| e.source == Source::Pass),
        "before that only the first sync: {:?}",
        &trace.entries[3..]
    );

    // The same answer from the command line, for people and for scripts.
    let out = Command::new(env!("CARGO_BIN_EXE_syncdesk"))
        .arg("--db")
        .arg(&rig.db)
        .args(["--user", "x", "stock", "trace", &sku])
        .env_remove("SYNCDESK_CONFIG")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in ["POS sale", "web order", "pass", "4242", &name] {
        assert!(text.contains(needle), "{needle} in:\n{text}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_syncdesk"))
        .arg("--db")
        .arg(&rig.db)
        .args(["--user", "x", "stock", "trace", &item, "--json"])
        .env_remove("SYNCDESK_CONFIG")
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["pair"]["store_sku"], sku.as_str());
    assert_eq!(json["entries"][0]["source"], "pass");
    assert_eq!(json["entries"][0]["job_id"], 4242);
    assert_eq!(json["entries"][1]["source"], "web_order");
    assert_eq!(json["entries"][2]["source"], "pos_sale");
    let unknown = Command::new(env!("CARGO_BIN_EXE_syncdesk"))
        .arg("--db")
        .arg(&rig.db)
        .args(["--user", "x", "stock", "trace", "NO-SUCH-SKU"])
        .env_remove("SYNCDESK_CONFIG")
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_resolution_and_its_write_are_on_the_trace_with_who_decided() {
    let rig = Rig::start(60, 80, 20).await;
    rig.pass(PassMode::Full, false).await;
    let (sku, _, product) = rig.pairs[3].clone();
    // An edit in the store admin that no order explains: a conflict for an operator.
    rig.woo.set_stock(product, rig.store_stock(3) + 40).unwrap();
    rig.pass(PassMode::Full, false).await;
    let mut carol = App::open(&rig.db, rig.config.clone(), Actor::operator("carol")).unwrap();
    let open = carol.stock_trace(&sku, 50, 0).unwrap().open_conflicts;
    assert!(!open.is_empty(), "the unexplained edit waits for a person");
    carol
        .resolve_conflict(&sku, syncdesk::app::Resolution::Quantity(11))
        .unwrap();
    let trace = carol.stock_trace(&sku, 50, 0).unwrap();
    let decision = &trace.entries[0];
    assert_eq!(decision.source, Source::Resolution);
    assert_eq!(decision.by.as_deref(), Some("carol"));
    assert_eq!(decision.new.as_deref(), Some("11"));
    assert_eq!(trace.entries[0].source_label(), "resolution by carol");
}

/// A phrase found in most pairs ("sku-0", in all 31,000 here: past the 30,000 where the index stops paying) is
/// matched by one scan, a rarer one by the search index, one or two characters by a LIKE. Each gives the list a
/// LIKE over every pair gives, in the panel's order.
#[test]
fn the_inventory_filter_finds_the_same_pairs_by_index_or_by_scan() {
    use syncdesk::store::bulk::{self, BulkInventory};
    use syncdesk::store::trace::{InventoryQuery, InventorySort};
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(
        &dir.path().join("t.db"),
        syncdesk::config::Config::default(),
        Actor::operator("ops"),
    )
    .unwrap();
    app.store()
        .write(|tx| {
            bulk::insert_inventory(
                tx,
                &BulkInventory {
                    skus: 31_000,
                    log_rows: 10,
                    store_field: "woocommerce.stock_quantity".into(),
                    now: 1_795_262_400_000,
                    spacing_ms: 1_000,
                    seed: 7,
                },
            )
        })
        .unwrap();
    for filter in ["sku-0", "SKU-0012", "p-0024", "no. 1", "p-"] {
        let q = InventoryQuery {
            filter: Some(filter.into()),
            sort: InventorySort::StoreSku,
            descending: false,
        };
        let page = app.inventory(&q, 50, 0).unwrap();
        let like = format!("%{}%", filter.to_lowercase());
        let expected: Vec<String> = {
            let conn = app.store().conn();
            let mut stmt = conn
                .prepare(
                    "SELECT store_sku FROM sku_alignment WHERE pos_sku LIKE ?1 OR store_sku LIKE ?1
                     OR product_name LIKE ?1 ORDER BY store_sku, id",
                )
                .unwrap();
            stmt.query_map([&like], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert!(!expected.is_empty(), "{filter} finds something");
        assert_eq!(page.total, expected.len() as i64, "{filter}");
        let got: Vec<String> = page.rows.iter().map(|r| r.store_sku.clone()).collect();
        assert_eq!(
            got,
            expected.into_iter().take(50).collect::<Vec<_>>(),
            "{filter}"
        );
    }
}
