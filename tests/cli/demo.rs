//! `syncdesk demo` end to end: the built binary runs the simulated shop headless for a few seconds, then the
//! ordinary subcommands inspect the database and config it left behind — the way a user would look around.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The binary with a clean environment (no SYNCDESK_* variables, HOME inside `dir`).
fn syncdesk(dir: &Path) -> Command {
    crate::cli_support::clean_command(dir)
}

fn exec(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run syncdesk");
    (
        out.status.code().expect("syncdesk was killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A subcommand on the demo's database and config, as the demo's closing lines suggest.
fn inspect(root: &Path, demo: &Path, args: &[&str]) -> (i32, String, String) {
    exec(
        syncdesk(root)
            .arg("--config")
            .arg(demo.join("config.toml"))
            .arg("--db")
            .arg(demo.join("syncdesk.db"))
            .args(args),
    )
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// The number before " web," in the seeding line: "… 461 orders (131 web, 330 phone): …".
fn seeded_web_orders(stdout: &str) -> usize {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("seeded in"))
        .unwrap_or_else(|| panic!("no seeding line in:\n{stdout}"));
    let before = &line[..line.find(" web,").expect("web count")];
    before
        .rsplit(['(', ' '])
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("web count in {line}"))
}

#[test]
fn a_headless_demo_runs_the_shop_and_leaves_a_database_every_subcommand_can_read() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("shop");
    let (code, out, err) = exec(
        syncdesk(root.path())
            .args(["demo", "--headless", "--duration", "10", "--dir"])
            .arg(&dir),
    );
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("2554 aligned SKUs"), "{out}");
    // Traffic reached syncdesk through the real paths: a web order came in by webhook, and Counterpoint's
    // shipment of a staged order completed it.
    assert!(
        out.lines()
            .any(|l| l.contains("web order #") && l.contains(" arrived (")),
        "no web order arrived:\n{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("shipped in Counterpoint") && l.contains("→ Completed")),
        "no Counterpoint shipment completed an order:\n{out}"
    );
    assert!(out.contains("conflict on SKU-"), "{out}");
    // The warehouse moved Cartona orders on: the push went out, or the delivered_by rule held it back.
    assert!(
        out.lines()
            .any(|l| l.contains("pushed to Cartona: approved")
                || l.contains("not pushed: Cartona delivers this order itself")),
        "no Cartona push or block:\n{out}"
    );
    assert!(
        out.contains("  cartona: "),
        "the summary counts Cartona:\n{out}"
    );
    assert!(out.contains("summary"), "{out}");
    let config = dir.join("config.toml").display().to_string();
    assert!(
        out.contains(&format!("syncdesk --config {config} --db")),
        "the closing lines tell how to inspect the demo:\n{out}"
    );

    // The config still parses with the simulators gone, so every subcommand works on the demo's files.
    let mut orders = Vec::new();
    for archived in [false, true] {
        let mut args = vec!["orders", "list", "--limit", "100000", "--json"];
        if archived {
            args.push("--archived");
        }
        let (code, list, err) = inspect(root.path(), &dir, &args);
        assert_eq!(code, 0, "{err}");
        orders.extend(json(&list).as_array().expect("an array").clone());
    }
    let statuses: std::collections::BTreeSet<i64> = orders
        .iter()
        .map(|o| o["status_id"].as_i64().unwrap())
        .collect();
    assert!(
        statuses.len() >= 6,
        "orders in several statuses: {statuses:?}"
    );
    let web = orders
        .iter()
        .filter(|o| o["channel"] == "woocommerce")
        .count();
    assert!(
        web > seeded_web_orders(&out),
        "more web orders ({web}) than were seeded:\n{out}"
    );
    assert!(orders.len() >= 400, "hundreds of orders: {}", orders.len());
    // The first pull imported the marketplace orders seeded in the Cartona simulator.
    let marketplace = orders.iter().filter(|o| o["channel"] == "cartona").count();
    assert!(
        marketplace >= 36,
        "the seeded marketplace orders were imported: {marketplace}\n{out}"
    );

    let (code, conflicts, err) = inspect(root.path(), &dir, &["conflicts", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !json(&conflicts).as_array().unwrap().is_empty(),
        "open conflicts: {conflicts}"
    );

    let (code, dead, err) = inspect(
        root.path(),
        &dir,
        &["jobs", "list", "--state", "dead", "--json"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        json(&dead)
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["kind"] == "woo.push_status"
                && j["last_error"].as_str().unwrap_or("").contains("404")),
        "the push to the order deleted in the store died: {dead}"
    );

    let (code, report, err) = inspect(root.path(), &dir, &["report"]);
    assert_eq!(code, 0, "{err}");
    assert!(report.contains("alignment coverage"), "{report}");

    // A second demo will not write over the first one's database.
    let (code, _, err) = exec(
        syncdesk(root.path())
            .args(["demo", "--headless", "--duration", "1", "--dir"])
            .arg(&dir),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already holds a demo database"), "{err}");
}

#[test]
fn the_console_demo_needs_a_terminal_and_the_tour_still_runs() {
    let root = tempfile::tempdir().unwrap();
    let (code, _, err) = exec(syncdesk(root.path()).arg("demo"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--headless"), "{err}");

    let (code, out, err) = exec(
        syncdesk(root.path())
            .args(["demo", "--tour", "--dir"])
            .arg(root.path().join("tour")),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("e-mail received by the sink"), "{out}");
    assert!(out.contains("completed: true"), "{out}");
}
