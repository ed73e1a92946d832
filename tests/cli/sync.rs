//! The sync subcommands as a user runs them: the built binary against simulators on loopback
//! (`check`, `sync run orders|fulfillments|marketplace [--dry-run]`), asserting output, exit codes and the store.

use crate::cli_support;
use cli_support::run;
use std::path::Path;

use syncdesk_sim::counterpoint::{CounterpointSim, SimConfig};
use syncdesk_sim::woo::{WooSim, WooSimConfig};

fn write_config(dir: &Path, woo: &WooSim, cp: &CounterpointSim, smtp_port: u16) {
    let text = format!(
        r#"[email]
smtp_port = {smtp_port}
[woocommerce]
enabled = true
url = "{}"
consumer_key = "{}"
consumer_secret = "{}"
auth = "oauth"
[counterpoint]
enabled = true
[counterpoint.connection]
host = "127.0.0.1"
port = {}
user = "{}"
password = "{}"
database = "{}"
encryption = "off"
"#,
        woo.base_url(),
        WooSimConfig::default().consumer_key,
        WooSimConfig::default().consumer_secret,
        cp.addr().port(),
        cp.user(),
        cp.password(),
        cp.database()
    );
    std::fs::write(dir.join("config.toml"), text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_sync_runs_against_the_simulators() {
    let dir = tempfile::tempdir().unwrap();
    let woo = WooSim::start(WooSimConfig {
        products: 10,
        orders: 6,
        ..WooSimConfig::default()
    })
    .await
    .unwrap();
    let cp = CounterpointSim::start(SimConfig {
        items: 10,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let smtp = syncdesk_sim::smtp::SmtpSink::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    write_config(dir.path(), &woo, &cp, smtp.addr().port());
    let d = dir.path().to_path_buf();

    let (code, out, err) = tokio::task::spawn_blocking(move || run(&d, &["check"]))
        .await
        .unwrap();
    assert_eq!(code, 0, "{out}{err}");
    for system in ["database", "woocommerce", "counterpoint", "smtp"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("ok") && l.contains(system)),
            "{system}: {out}"
        );
    }

    let d = dir.path().to_path_buf();
    let (code, out, _) =
        tokio::task::spawn_blocking(move || run(&d, &["sync", "run", "orders", "--dry-run"]))
            .await
            .unwrap();
    assert_eq!(code, 0);
    assert!(
        out.contains("6 order(s) read") && out.contains("dry run, nothing written"),
        "{out}"
    );
    let d = dir.path().to_path_buf();
    let (_, out, _) = tokio::task::spawn_blocking(move || run(&d, &["orders", "list", "--json"]))
        .await
        .unwrap();
    assert_eq!(out.trim(), "[]", "the dry run wrote nothing");

    let d = dir.path().to_path_buf();
    let (code, out, _) =
        tokio::task::spawn_blocking(move || run(&d, &["sync", "run", "fulfillments", "--json"]))
            .await
            .unwrap();
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["outcomes"].as_array().map(Vec::len), Some(0));

    // A dead Counterpoint is reported by name, with exit code 1.
    cp.shutdown().await;
    let d = dir.path().to_path_buf();
    let (code, out, _) = tokio::task::spawn_blocking(move || run(&d, &["check"]))
        .await
        .unwrap();
    assert_eq!(code, 1);
    assert!(
        out.lines()
            .any(|l| l.starts_with("FAIL") && l.contains("counterpoint")),
        "{out}"
    );
}

#[test]
fn sync_runs_for_systems_that_are_not_enabled_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    for flow in ["orders", "fulfillments"] {
        let (code, _, err) = run(dir.path(), &["sync", "run", flow]);
        assert_eq!(code, 2, "{flow}");
        assert!(err.contains("not enabled"), "{err}");
    }
    let (code, _, err) = run(dir.path(), &["sync", "run", "everything"]);
    assert_eq!(code, 2);
    assert!(err.contains("possible values"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alignment_suggest_reports_coverage_and_test_shows_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let woo = WooSim::start(WooSimConfig {
        products: 12,
        orders: 0,
        ..WooSimConfig::default()
    })
    .await
    .unwrap();
    let cp = CounterpointSim::start(SimConfig {
        items: 10,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    write_config(dir.path(), &woo, &cp, 2525);
    let item = cp.shop().item_numbers().unwrap().remove(0);
    let product = woo
        .products()
        .into_iter()
        .find(|p| p.kind == "simple" && !p.sku.is_empty() && p.manage_stock)
        .unwrap();
    let sku = product.sku.clone();
    std::fs::write(
        dir.path().join("pairs.csv"),
        format!("POS SKU,WooCommerce SKU\n{item},{sku}\n"),
    )
    .unwrap();
    let d = dir.path().to_path_buf();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        run(
            &d,
            &[
                "alignment",
                "import",
                &d.join("pairs.csv").to_string_lossy(),
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}{err}");

    let d = dir.path().to_path_buf();
    let out_csv = dir.path().join("proposals.csv");
    let o = out_csv.to_string_lossy().to_string();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        run(
            &d,
            &[
                "alignment",
                "suggest",
                "--min-confidence",
                "0.5",
                "--out",
                &o,
                "--json",
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["pos_items"].as_u64(), v["aligned"].as_u64()),
        (Some(10), Some(1))
    );
    assert!((v["coverage_percent"].as_f64().unwrap() - 10.0).abs() < 1e-9);
    let written = std::fs::read_to_string(&out_csv).unwrap();
    assert!(written.starts_with("POS SKU,WooCommerce SKU,Match Type,Confidence\n"));
    assert!(
        !written.contains(&format!("{item},")),
        "an aligned POS item is not proposed again"
    );

    let d = dir.path().to_path_buf();
    let s = sku.clone();
    let (code, out, err) =
        tokio::task::spawn_blocking(move || run(&d, &["alignment", "test", &s, "--json"]))
            .await
            .unwrap();
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["pos_sku"], item.as_str());
    assert_eq!(v["store_quantity"].as_i64(), product.stock_quantity);
    assert!(v["pos_quantity"].is_string() && v["merge_base"].is_null());

    let d = dir.path().to_path_buf();
    let (code, _, err) =
        tokio::task::spawn_blocking(move || run(&d, &["alignment", "test", "NOT-ALIGNED"]))
            .await
            .unwrap();
    assert_eq!(code, 2);
    assert!(err.contains("NOT-ALIGNED is not aligned"), "{err}");
}

#[test]
fn report_writes_the_restock_figures_as_markdown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    for (n, status) in [
        ("R-1", "cancelled"),
        ("R-2", "backorder"),
        ("R-3", "processing"),
    ] {
        assert_eq!(
            run(
                dir.path(),
                &["orders", "add", "--number", n, "--line", "A=1"]
            )
            .0,
            0
        );
        let mut args = vec!["orders", "set-status", n, status];
        if status == "cancelled" {
            args.extend(["--note", "duplicate"]);
        }
        assert_eq!(run(dir.path(), &args).0, 0);
    }
    assert_eq!(run(dir.path(), &["orders", "fulfill", "R-3"]).0, 0);
    let out = dir.path().join("r.md");
    let (code, _, err) = run(
        dir.path(),
        &[
            "report",
            "--period",
            "weekly",
            "--out",
            &out.to_string_lossy(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(out).unwrap();
    assert!(md.starts_with("# syncdesk weekly report"), "{md}");
    assert!(md.contains("| orders created | 3 |"), "{md}");
    assert!(
        md.contains("| backorder frequency | 33.3% (1 orders) |"),
        "{md}"
    );
    assert!(
        md.contains("| completion rate | 50.0% (1 completed, 1 cancelled) |"),
        "{md}"
    );
    assert!(md.contains("| ops | 4 |"), "changes per operator: {md}");
    let (code, _, err) = run(dir.path(), &["report", "--period", "yearly"]);
    assert_eq!(code, 2);
    assert!(err.contains("possible values"), "{err}");
}

#[test]
fn alignment_import_names_bad_lines_keeps_good_ones_and_reimport_updates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    let csv = dir.path().join("pairs.csv");
    std::fs::write(&csv, "POS SKU,WooCommerce SKU,Match Type,Confidence\nA-1,WA-1,exact,1\n,WX,exact,1\nB-2,WB-2,fuzzy,high\nC-3,WC-3,fuzzy,0.9\n").unwrap();
    let (code, out, err) = run(dir.path(), &["alignment", "import", &csv.to_string_lossy()]);
    assert_eq!(code, 2, "rejected lines make the command exit 2");
    assert!(out.contains("2 added, 0 updated, 0 unchanged"), "{out}");
    assert!(err.contains("line 3, column POS SKU: empty"), "{err}");
    assert!(
        err.contains("line 4, column Confidence: 'high' is not a number from 0 to 1"),
        "{err}"
    );
    std::fs::write(
        &csv,
        "POS SKU,WooCommerce SKU,Match Type,Confidence\nA-1,WA-1,exact,1\nC-3,WC-3-NEW,manual,1\n",
    )
    .unwrap();
    let (code, out, _) = run(dir.path(), &["alignment", "import", &csv.to_string_lossy()]);
    assert_eq!(code, 0);
    assert!(out.contains("0 added, 1 updated, 1 unchanged"), "{out}");
    let (_, out, _) = run(dir.path(), &["alignment", "list", "--json"]);
    let pairs: serde_json::Value = serde_json::from_str(&out).unwrap();
    let c3 = pairs
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pos_sku"] == "C-3")
        .unwrap();
    assert_eq!(
        (c3["store_sku"].as_str(), c3["match_type"].as_str()),
        (Some("WC-3-NEW"), Some("manual"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_run_marketplace_imports_then_a_dry_run_shows_each_push_and_its_rule() {
    use syncdesk_sim::cartona::{CartonaSim, CartonaSimConfig, NewOrder};
    let dir = tempfile::tempdir().unwrap();
    let sim = CartonaSim::start(CartonaSimConfig::default())
        .await
        .unwrap();
    let created_at = chrono::Utc::now() - chrono::Duration::minutes(5);
    let supplier = sim.create_order(NewOrder {
        created_at,
        ..NewOrder::default()
    });
    let marketplace = sim.create_order(NewOrder {
        delivered_by: "cartona".into(),
        created_at,
        ..NewOrder::default()
    });
    let text = format!(
        "[cartona]\nenabled = true\nbase_url = \"{}\"\ntoken = \"{}\"\n",
        sim.base_url(),
        CartonaSimConfig::default().token
    );
    std::fs::write(dir.path().join("config.toml"), text).unwrap();
    let dir_path = dir.path().to_path_buf();
    let cli = move |args: Vec<String>| {
        let dir = dir_path.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                run(&dir, &args)
            })
            .await
            .unwrap()
        }
    };
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let (code, out, err) = cli(args(&["sync", "run", "marketplace"])).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "did create {supplier} (cartona {supplier}) as Pending"
        )),
        "{out}"
    );
    assert!(sim.order(&supplier).unwrap().synced);
    for id in [&supplier, &marketplace] {
        let (code, out, err) = cli(args(&["orders", "set-status", id, "Processing"])).await;
        assert_eq!(code, 0, "{out}{err}");
    }
    sim.reset_request_counts();

    let (code, out, err) = cli(args(&["sync", "run", "marketplace", "--dry-run"])).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "{supplier} (Processing, confirmed, delivered_by=supplier): would send approved — allowed"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{marketplace} (Processing, confirmed, delivered_by=marketplace): nothing sent — blocked by delivered_by=marketplace"
        )),
        "{out}"
    );
    assert!(out.contains("dry run, nothing written or sent"), "{out}");
    assert_eq!(
        sim.request_count("POST /order/update-order-status"),
        0,
        "a dry run sends no status"
    );
    assert_eq!(sim.order_status(&supplier).as_deref(), Some("pending"));

    let (code, out, _) = cli(args(&["sync", "run", "marketplace", "--dry-run", "--json"])).await;
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let pushes = json["pushes"].as_array().unwrap();
    let of = |id: &str| {
        pushes
            .iter()
            .find(|p| p["external_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(of(&supplier)["result"], "would_send");
    assert_eq!(of(&supplier)["verdict"]["status"], "approved");
    assert_eq!(of(&marketplace)["verdict"]["rule"], "blocked");

    // The real run sends the allowed push and records the blocked one.
    let (code, out, err) = cli(args(&["sync", "run", "marketplace"])).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "{supplier} (Processing, confirmed, delivered_by=supplier): sent approved"
        )),
        "{out}"
    );
    assert_eq!(sim.order_status(&supplier).as_deref(), Some("approved"));
    assert_eq!(sim.order_status(&marketplace).as_deref(), Some("pending"));
}
