//! The command line's polish (#15 point 9), as a script or a shell pipe meets it: a reader that goes away
//! (`| head -1`) ends every list quietly, a cut list says so on stderr and takes `--limit`/`--all`, order
//! numbers are found whatever their case, every flag has help and the console's flag stays on the console.

use std::path::Path;

use serde_json::Value;
use syncdesk::app::{Actor, App};
use syncdesk::config::Config;
use syncdesk::store::bulk::{BulkOrders, insert_orders};
use tempfile::TempDir;

use crate::cli_support::{run, run_into_closed_pipe};

/// A folder with the shipped config and `s.db` holding `orders` bulk orders (most archived), R-1001
/// added by hand, an alert, an aligned SKU with a trace.
fn shop(orders: usize) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("config.toml"), syncdesk::config::TEMPLATE).expect("config");
    let mut app = App::open(
        &dir.path().join("s.db"),
        Config::default(),
        Actor::operator("ops"),
    )
    .expect("open app");
    app.add_order("R-1001", Some("Ada"), "manual", &[("SKU-A".into(), 2)])
        .expect("add R-1001");
    app.store()
        .write(|tx| -> syncdesk::store::Result<()> {
            let spec = BulkOrders {
                count: orders,
                ..BulkOrders::default()
            };
            insert_orders(tx, &spec)?;
            syncdesk::store::alerts::raise(
                tx,
                &syncdesk::domain::alerts::missing_alignment("SKU-Z", "the POS"),
                1_795_262_400_000,
            )?;
            tx.execute(
                "INSERT INTO sku_alignment (pos_sku, store_sku, match_type, confidence, product_name,
                     pos_seen, store_seen, agreed, sync_state, updated_at)
                 VALUES ('P-A', 'SKU-A', 'exact', 1.0, 'Linen apron', 8, 9, 9, 'synced', 0)",
                [],
            )?;
            tx.execute(
                "INSERT INTO sync_log (at, source, entity, entity_key, field, old_value, new_value, reason)
                 VALUES (1, 'stock_pass', 'stock', 'SKU-A', 'pos', '10', '8', 'POS sale')",
                [],
            )?;
            Ok(())
        })
        .expect("seed");
    dir
}

fn count(dir: &Path, args: &[&str]) -> usize {
    let (code, out, err) = run(dir, &[args, &["--all", "--json"]].concat());
    assert_eq!(code, 0, "{err}");
    serde_json::from_str::<Value>(&out)
        .expect("JSON")
        .as_array()
        .expect("array")
        .len()
}

fn assert_quiet(what: &str, pipe: &crate::cli_support::ClosedPipe) {
    assert_eq!(
        pipe.code,
        Some(0),
        "{what}: exit status with the reader gone: {pipe:?}"
    );
    assert!(!pipe.stderr.contains("panicked"), "{what}: {}", pipe.stderr);
    assert!(
        !pipe.stderr.contains("Broken pipe"),
        "{what}: {}",
        pipe.stderr
    );
}

#[test]
fn a_reader_that_goes_away_after_the_first_line_ends_a_long_list_quietly() {
    let d = shop(3000);
    // Well over a pipe's buffer: the command is still writing when `head -1` closes its end.
    let pipe = run_into_closed_pipe(d.path(), &["orders", "list", "--archived", "--all"], 1);
    assert_eq!(pipe.read.len(), 1, "{pipe:?}");
    assert!(pipe.read[0].starts_with("ID"), "{:?}", pipe.read);
    assert_quiet("orders list --archived --all | head -1", &pipe);
    let pipe = run_into_closed_pipe(
        d.path(),
        &["orders", "list", "--archived", "--all", "--json"],
        1,
    );
    assert_eq!(pipe.read, ["["]);
    assert_quiet("orders list --json | head -1", &pipe);
}

#[test]
fn every_list_command_ends_quietly_when_nobody_reads_its_output() {
    let d = shop(50);
    for args in [
        &["orders", "list"][..],
        &["orders", "list", "--json"],
        &["orders", "show", "R-1001"],
        &["jobs", "list"],
        &["jobs", "list", "--json"],
        &["alerts", "list"],
        &["alerts", "list", "--json"],
        &["conflicts", "list"],
        &["conflicts", "list", "--json"],
        &["alignment", "list"],
        &["stock", "trace", "SKU-A"],
        &["stock", "trace", "SKU-A", "--json"],
        &["statuses"],
        &["report"],
        &["report", "--json"],
    ] {
        let pipe = run_into_closed_pipe(d.path(), args, 0);
        assert_quiet(&args.join(" "), &pipe);
    }
}

#[test]
fn a_cut_list_says_so_on_stderr_and_takes_limit_and_all() {
    let d = shop(400);
    let archived = count(d.path(), &["orders", "list", "--archived"]);
    assert!(archived > 100, "{archived} archived orders");
    let total = format!("{},{:03}", archived / 1000, archived % 1000);
    let total = total.trim_start_matches("0,").to_string();

    let (code, out, err) = run(d.path(), &["orders", "list", "--archived"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().count(),
        101,
        "the header and 100 rows: stdout keeps only rows"
    );
    assert!(
        err.contains(&format!("showing 100 of {total} — --limit N or --all")),
        "{err}"
    );

    let (_, out, err) = run(d.path(), &["orders", "list", "--archived", "--limit", "5"]);
    assert_eq!(out.lines().count(), 6);
    assert!(err.contains(&format!("showing 5 of {total}")), "{err}");

    let (_, out, err) = run(
        d.path(),
        &[
            "orders",
            "list",
            "--archived",
            "--limit",
            "5",
            "--offset",
            "5",
        ],
    );
    assert_eq!(out.lines().count(), 6);
    assert!(err.contains(&format!("showing 6–10 of {total}")), "{err}");

    let (code, out, err) = run(d.path(), &["orders", "list", "--archived", "--all"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), archived + 1);
    assert!(err.is_empty(), "a whole list says nothing: {err}");

    let (_, out, err) = run(d.path(), &["orders", "list", "--archived", "--json"]);
    let rows: Value = serde_json::from_str(&out).expect("stdout is the JSON array alone");
    assert_eq!(rows.as_array().map(Vec::len), Some(100));
    let note: Value = serde_json::from_str(err.trim()).expect("the note is JSON with --json");
    assert_eq!(note["truncated"], true);
    assert_eq!(note["showing"], 100);
    assert_eq!(note["total"], archived as i64);

    // The active list is short: nothing cut, nothing said.
    let (_, _, err) = run(d.path(), &["orders", "list", "--limit", "1000"]);
    assert!(err.is_empty(), "{err}");

    let (code, _, err) = run(d.path(), &["orders", "list", "--limit", "5", "--all"]);
    assert_eq!(code, 2, "--limit and --all together are rejected: {err}");
}

#[test]
fn order_numbers_are_found_whatever_their_case() {
    let d = shop(0);
    let (code, out, err) = run(d.path(), &["orders", "show", "r-1001", "--json"]);
    assert_eq!(code, 0, "{err}");
    let order: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(order["number"], "R-1001");
    let (code, out, err) = run(d.path(), &["orders", "set-status", "r-1001", "processing"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("R-1001: Pending → Processing"), "{out}");
    // The console goes through the same lookup.
    let mut app = App::open(
        &d.path().join("s.db"),
        Config::default(),
        Actor::operator("x"),
    )
    .unwrap();
    assert_eq!(app.order(" r-1001 ").unwrap().number, "R-1001");
    let (code, _, err) = run(d.path(), &["orders", "show", "r-1002"]);
    assert_ne!(
        code, 0,
        "a number that is not there is still not found: {err}"
    );
}

/// `syncdesk [PATH…] --help`, and the subcommands it lists.
fn help(path: &[&str]) -> (String, Vec<String>) {
    let d = tempfile::tempdir().unwrap();
    let out = crate::cli_support::clean_command(d.path())
        .args(path)
        .arg("--help")
        .output()
        .expect("help");
    let text = String::from_utf8(out.stdout).unwrap();
    let subcommands = text
        .split("Commands:")
        .nth(1)
        .map(|list| {
            list.lines()
                .skip(1)
                .take_while(|l| l.starts_with("  "))
                .filter_map(|l| l.split_whitespace().next())
                .filter(|name| *name != "help")
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    (text, subcommands)
}

#[test]
fn every_flag_has_help_and_the_consoles_flag_stays_on_the_console() {
    let (top, _) = help(&[]);
    assert!(top.contains("--readonly"), "{top}");
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    let mut seen = 0;
    while let Some(path) = todo.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let (text, subcommands) = help(&args);
        seen += 1;
        if !path.is_empty() {
            assert!(
                !text.contains("--readonly"),
                "`{}` offers --readonly:\n{text}",
                args.join(" ")
            );
        }
        let options: Vec<&str> = text
            .split("Options:")
            .nth(1)
            .unwrap_or("")
            .lines()
            .collect();
        for (i, line) in options.iter().enumerate() {
            // A flag starts at most six columns in ("  -h, --help", "      --json"); deeper dashes are
            // a value list ("          - pos: …").
            let flag = line.trim_start();
            if !flag.starts_with('-') || line.len() - flag.len() > 6 {
                continue;
            }
            // "  -x, --flag <VALUE>  What it does", or (long help) the text on the next line, indented.
            let inline = flag
                .find("  ")
                .is_some_and(|at| !flag[at..].trim().is_empty());
            let below = options.get(i + 1).is_some_and(|next| {
                next.starts_with("          ") && !next.trim_start().starts_with('-')
            });
            assert!(
                inline || below,
                "`{} --help`: a flag without help: {line:?}",
                args.join(" ")
            );
        }
        for sub in subcommands {
            let mut next = path.clone();
            next.push(sub);
            todo.push(next);
        }
    }
    assert!(seen > 30, "walked {seen} commands");
}
