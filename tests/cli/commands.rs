//! End-to-end tests of the `syncdesk` binary: each test runs the built executable on a scratch database and
//! config in a temporary folder and checks what a user would notice (exit code, output, `--json` documents).
//! The developer's environment cannot leak in: the SYNCDESK_* variables are removed and HOME / XDG folders
//! point into the scratch folder for every command.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------------------------
// Helpers

/// A scratch folder holding `config.toml` (the shipped template) and, once a command ran, `x.db`.
fn scratch() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("config.toml"), syncdesk::config::TEMPLATE).expect("config");
    dir
}

/// The binary with a clean environment: no SYNCDESK_* variables, HOME and the XDG folders inside `dir`
/// (so default paths never reach the developer's real config or data), and `dir` as working directory.
fn bare(dir: &Path) -> Command {
    crate::cli_support::clean_command(dir)
}

/// Runs a prepared command; returns (exit code, stdout, stderr).
fn exec(mut cmd: Command) -> (i32, String, String) {
    let out = cmd.output().expect("run syncdesk");
    let code = out.status.code().expect("syncdesk was killed by a signal");
    (
        code,
        String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    )
}

/// Standard flags for `dir`: its database and config, acting as `user`.
fn with_flags(dir: &Path, user: &str) -> Command {
    let mut cmd = bare(dir);
    cmd.arg("--db")
        .arg(dir.join("x.db"))
        .arg("--config")
        .arg(dir.join("config.toml"))
        .arg("--user")
        .arg(user);
    cmd
}

fn run_as(dir: &Path, user: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = with_flags(dir, user);
    cmd.args(args);
    exec(cmd)
}

/// `syncdesk --db DIR/x.db --config DIR/config.toml --user alice ARGS…`
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    run_as(dir, "alice", args)
}

/// Runs and insists on exit 0; returns stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = run(dir, args);
    assert_eq!(code, 0, "{args:?} failed: {stderr}");
    stdout
}

fn ok_as(dir: &Path, user: &str, args: &[&str]) -> String {
    let (code, stdout, stderr) = run_as(dir, user, args);
    assert_eq!(code, 0, "{args:?} as {user} failed: {stderr}");
    stdout
}

/// Runs a `--json` read (the flag is added here) and parses its output.
fn json(dir: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let stdout = ok(dir, &args);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {stdout}"))
}

/// Checks a rejection as a script sees it: exit code exactly 2, nothing on stdout, a non-empty message on
/// stderr that mentions every one of `needles`. Returns stderr.
fn rejected_output(out: (i32, String, String), what: &str, needles: &[&str]) -> String {
    let (code, stdout, stderr) = out;
    assert_eq!(
        code, 2,
        "{what}: expected exit 2, got {code}; stderr: {stderr}"
    );
    assert!(
        !stderr.trim().is_empty(),
        "{what}: a rejection must explain itself"
    );
    assert!(
        stdout.trim().is_empty(),
        "{what}: a rejection printed to stdout: {stdout}"
    );
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{what}: stderr should mention {needle:?}: {stderr}"
        );
    }
    stderr
}

fn rejected(dir: &Path, args: &[&str], needles: &[&str]) -> String {
    rejected_output(run(dir, args), &format!("{args:?}"), needles)
}

fn show(dir: &Path, order: &str) -> Value {
    json(dir, &["orders", "show", order])
}

fn numbers(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|o| o["number"].as_str().expect("number").to_string())
        .collect()
}

fn history_moves(order: &Value) -> Vec<(Option<String>, String)> {
    order["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| {
            (
                h["from"].as_str().map(String::from),
                h["to"].as_str().expect("to").to_string(),
            )
        })
        .collect()
}

fn jobs(dir: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["jobs", "list"];
    all.extend_from_slice(args);
    json(dir, &all).as_array().expect("jobs array").clone()
}

fn db_path(dir: &Path) -> PathBuf {
    dir.join("x.db")
}

// ---------------------------------------------------------------------------------------------------------
// init and config

#[test]
fn init_writes_the_template_and_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("config.toml");
    let init = |force: bool| {
        let mut cmd = bare(dir.path());
        cmd.arg("--config").arg(&path).arg("init");
        if force {
            cmd.arg("--force");
        }
        exec(cmd)
    };

    let (code, stdout, stderr) = init(false);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&path.display().to_string()), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        syncdesk::config::TEMPLATE
    );

    // An operator's own edits survive a plain `init`.
    std::fs::write(&path, "# mine\n").unwrap();
    let stderr = rejected_output(
        init(false),
        "second init",
        &["--force", &path.display().to_string()],
    );
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");

    let (code, _, stderr) = init(true);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        syncdesk::config::TEMPLATE
    );

    // The written template is a working config.
    let mut cmd = bare(dir.path());
    cmd.arg("--config")
        .arg(&path)
        .arg("--db")
        .arg(dir.path().join("x.db"))
        .args(["statuses", "--json"]);
    let (code, _, stderr) = exec(cmd);
    assert_eq!(code, 0, "{stderr}");
}

/// With no --user, no $SYNCDESK_USER and no login variables (a cron job, a bare container), history names
/// the OS account the command ran as — never "unknown".
#[cfg(target_os = "linux")]
#[test]
fn without_a_user_name_history_records_the_os_account() {
    let dir = scratch();
    let d = dir.path();
    let mut cmd = bare(d);
    cmd.arg("--db")
        .arg(d.join("x.db"))
        .arg("--config")
        .arg(d.join("config.toml"))
        .env_remove("USER")
        .env_remove("USERNAME")
        .env_remove("LOGNAME")
        .args(["orders", "add", "--number", "R-1", "--line", "A=1"]);
    let (code, _, stderr) = exec(cmd);
    assert_eq!(code, 0, "{stderr}");
    let order = json(d, &["orders", "show", "R-1"]);
    let by = order["history"][0]["by"].as_str().unwrap().to_string();
    let account = Command::new("id").arg("-un").output().expect("id -un");
    let account = String::from_utf8_lossy(&account.stdout).trim().to_string();
    assert_ne!(by, "unknown");
    assert_eq!(by, account, "the OS account, as `id -un` names it");
}

#[cfg(target_os = "linux")]
#[test]
fn default_paths_come_from_the_platform_folders_and_a_missing_default_config_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // No --config, no $SYNCDESK_CONFIG, nothing in the platform folder: the defaults apply.
    let mut cmd = bare(d);
    cmd.args(["--user", "alice", "orders", "add", "--number", "R-1"])
        .args(["--line", "A=1"]);
    let (code, _, stderr) = exec(cmd);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        d.join("xdg-data/syncdesk/syncdesk.db").exists(),
        "the default database lives in the platform data folder"
    );

    // `init` without --config writes to the platform config folder, and it is then read.
    let mut cmd = bare(d);
    cmd.arg("init");
    let (code, _, stderr) = exec(cmd);
    assert_eq!(code, 0, "{stderr}");
    let default_config = d.join("xdg-config/syncdesk/config.toml");
    assert_eq!(
        std::fs::read_to_string(&default_config).unwrap(),
        syncdesk::config::TEMPLATE
    );
    std::fs::write(&default_config, "[jobs]\nmax_attempts = 0\n").unwrap();
    let mut cmd = bare(d);
    cmd.args(["statuses"]);
    rejected_output(
        exec(cmd),
        "invalid default config",
        &[&default_config.display().to_string(), "jobs.max_attempts"],
    );
}

#[test]
fn a_named_config_must_exist_whether_named_by_flag_or_by_environment() {
    let dir = scratch();
    let d = dir.path();
    let missing = d.join("missing.toml");
    let missing_s = missing.display().to_string();

    let mut cmd = bare(d);
    cmd.arg("--db")
        .arg(db_path(d))
        .arg("--config")
        .arg(&missing)
        .arg("statuses");
    rejected_output(exec(cmd), "--config missing", &[&missing_s]);

    let mut cmd = bare(d);
    cmd.env("SYNCDESK_CONFIG", &missing)
        .arg("--db")
        .arg(db_path(d))
        .arg("statuses");
    rejected_output(exec(cmd), "$SYNCDESK_CONFIG missing", &[&missing_s]);

    // The flag wins over the variable.
    let mut cmd = bare(d);
    cmd.env("SYNCDESK_CONFIG", &missing)
        .arg("--db")
        .arg(db_path(d))
        .arg("--config")
        .arg(d.join("config.toml"))
        .arg("statuses");
    let (code, _, stderr) = exec(cmd);
    assert_eq!(code, 0, "{stderr}");

    // The variable is read: a config renaming a status shows through.
    let renamed = d.join("renamed.toml");
    std::fs::write(
        &renamed,
        syncdesk::config::TEMPLATE.replace("\"Pending\"", "\"New\""),
    )
    .unwrap();
    let mut cmd = bare(d);
    cmd.env("SYNCDESK_CONFIG", &renamed)
        .arg("--db")
        .arg(d.join("renamed.db"))
        .args(["statuses", "--json"]);
    let (code, stdout, stderr) = exec(cmd);
    assert_eq!(code, 0, "{stderr}");
    let statuses: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(statuses[0]["id"], 1);
    assert_eq!(statuses[0]["name"], "New");
}

#[test]
fn a_bad_config_names_the_file_and_the_field_and_exits_2() {
    let dir = scratch();
    let d = dir.path();
    let config = d.join("config.toml");
    let file = config.display().to_string();

    std::fs::write(&config, "[jobs]\nleese_secs = 3\n").unwrap();
    let stderr = rejected(d, &["statuses"], &[&file, "leese_secs"]);
    assert!(stderr.contains("unknown field"), "{stderr}");

    std::fs::write(&config, "[jobs]\nlease_secs = \"soon\"\n").unwrap();
    let stderr = rejected(d, &["orders", "list"], &[&file, "lease_secs"]);
    assert!(stderr.contains("invalid type"), "{stderr}");

    std::fs::write(&config, "[email]\npurchasing = [\"nobody\"]\n").unwrap();
    rejected(
        d,
        &["jobs", "list"],
        &[&file, "email.purchasing[0]", "not an e-mail address"],
    );

    std::fs::write(
        &config,
        "[statuses.transitions]\n\"Pendng\" = [\"Processing\"]\n",
    )
    .unwrap();
    rejected(
        d,
        &["statuses"],
        &[&file, "statuses.transitions.\"Pendng\"", "unknown status"],
    );

    std::fs::write(&config, "this is = not toml =\n").unwrap();
    rejected(d, &["statuses"], &[&file]);

    // A rejected config never got as far as creating the database.
    assert!(!db_path(d).exists());
}

// ---------------------------------------------------------------------------------------------------------
// The order workflow

#[test]
fn happy_path_from_add_to_fulfilled_and_archived() {
    let dir = scratch();
    let d = dir.path();

    let added = json(
        d,
        &[
            "orders",
            "add",
            "--number",
            "R-1",
            "--customer",
            "Ann Smith",
            "--line",
            "SKU-A=3",
            "--line",
            "SKU-B=2",
        ],
    );
    assert_eq!(added["number"], "R-1");
    assert_eq!(added["status"], "Pending");
    assert_eq!(added["customer"], "Ann Smith");
    assert_eq!(added["archived"], false);
    assert_eq!(added["version"], 1);
    let lines: Vec<(&str, i64, i64)> = added["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap(),
                l["quantity"].as_i64().unwrap(),
                l["quantity_shipped"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, [("SKU-A", 3, 0), ("SKU-B", 2, 0)]);
    assert_eq!(history_moves(&added), [(None, "Pending".to_string())]);
    assert_eq!(
        added["allowed_next"],
        serde_json::json!(["Processing", "Backorder", "Cancelled"])
    );
    assert_eq!(show(d, "R-1"), added, "show agrees with what add printed");

    // Status names match case-insensitively and with dashes for spaces.
    ok(d, &["orders", "set-status", "R-1", "processing"]);
    let out = ok(
        d,
        &[
            "orders",
            "set-status",
            "R-1",
            "ready-to-ship",
            "--note",
            "picked",
        ],
    );
    assert!(out.contains("Ready to Ship"), "{out}");
    let order = show(d, "R-1");
    assert_eq!(order["status"], "Ready to Ship");
    assert_eq!(order["version"], 3);
    assert_eq!(order["history"][2]["note"], "picked");

    // A partial shipment (SKUs match case-insensitively): still active, shipment listed with its details.
    ok(
        d,
        &[
            "orders",
            "ship",
            "R-1",
            "--line",
            "sku-a=2",
            "--tracking",
            "1Z999",
            "--carrier",
            "UPS",
            "--notes",
            "first box",
        ],
    );
    let order = show(d, "R-1");
    assert_eq!(order["status"], "Ready to Ship");
    assert_eq!(order["archived"], false);
    assert_eq!(order["lines"][0]["quantity_shipped"], 2);
    assert_eq!(order["lines"][1]["quantity_shipped"], 0);
    let shipments = order["shipments"].as_array().unwrap();
    assert_eq!(shipments.len(), 1);
    assert_eq!(shipments[0]["tracking"], "1Z999");
    assert_eq!(shipments[0]["carrier"], "UPS");
    assert_eq!(shipments[0]["notes"], "first box");
    assert_eq!(shipments[0]["created_by"], "alice");
    assert_eq!(
        shipments[0]["lines"],
        serde_json::json!([{ "sku": "SKU-A", "quantity": 2 }])
    );
    assert_eq!(numbers(&json(d, &["orders", "list"])), ["R-1"]);

    // Fulfil ships what is left and completes the order.
    ok(d, &["orders", "fulfill", "R-1", "--tracking", "1Z1000"]);
    let order = show(d, "R-1");
    assert_eq!(order["status"], "Completed");
    assert_eq!(order["status_kind"], "completed");
    assert_eq!(order["archived"], true);
    assert_eq!(order["allowed_next"], serde_json::json!([]));
    assert_eq!(order["lines"][0]["quantity_shipped"], 3);
    assert_eq!(order["lines"][1]["quantity_shipped"], 2);
    let shipments = order["shipments"].as_array().unwrap();
    assert_eq!(shipments.len(), 2);
    assert_eq!(shipments[1]["tracking"], "1Z1000");
    assert_eq!(
        shipments[1]["lines"],
        serde_json::json!([
            { "sku": "SKU-A", "quantity": 1 },
            { "sku": "SKU-B", "quantity": 2 }
        ])
    );

    let s = |x: &str| x.to_string();
    assert_eq!(
        history_moves(&order),
        [
            (None, s("Pending")),
            (Some(s("Pending")), s("Processing")),
            (Some(s("Processing")), s("Ready to Ship")),
            (Some(s("Ready to Ship")), s("Completed")),
        ]
    );
    for h in order["history"].as_array().unwrap() {
        assert_eq!(h["by"], "alice", "{h}");
        assert_eq!(h["source"], "operator", "{h}");
    }

    // Archived: gone from the active list, in the archive, still shown by number and by id.
    assert!(numbers(&json(d, &["orders", "list"])).is_empty());
    let archived = json(d, &["orders", "list", "--archived"]);
    assert_eq!(numbers(&archived), ["R-1"]);
    assert_eq!(archived[0]["quantity"], 5);
    assert_eq!(archived[0]["quantity_shipped"], 5);
    assert_eq!(show(d, "R-1")["status"], "Completed");
    let id = order["id"].as_i64().unwrap().to_string();
    assert_eq!(show(d, &id)["number"], "R-1");
    assert_eq!(show(d, &format!("#{id}"))["number"], "R-1");
    let text = ok(d, &["orders", "show", "R-1"]);
    assert!(text.contains("Completed (archived)"), "{text}");
    assert!(text.contains("1Z999") && text.contains("UPS"), "{text}");
}

#[test]
fn cancel_records_the_reason_and_archives() {
    let dir = scratch();
    let d = dir.path();
    ok(d, &["orders", "add", "--number", "R-1", "--line", "A=1"]);
    ok(
        d,
        &[
            "orders",
            "cancel",
            "R-1",
            "--reason",
            "  customer changed mind ",
        ],
    );
    let order = show(d, "R-1");
    assert_eq!(order["status"], "Cancelled");
    assert_eq!(order["archived"], true);
    let last = order["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["from"], "Pending");
    assert_eq!(last["note"], "customer changed mind");
    assert!(numbers(&json(d, &["orders", "list"])).is_empty());
    assert_eq!(
        numbers(&json(d, &["orders", "list", "--archived"])),
        ["R-1"]
    );
}

// ---------------------------------------------------------------------------------------------------------
// Rejections: exit 2, a message naming the problem, and no change in the store

fn add_r1(d: &Path) {
    ok(
        d,
        &[
            "orders", "add", "--number", "R-1", "--line", "SKU-A=3", "--line", "SKU-B=2",
        ],
    );
}

#[test]
fn forbidden_and_unknown_moves_are_rejected_and_change_nothing() {
    let dir = scratch();
    let d = dir.path();
    add_r1(d);
    let before = show(d, "R-1");

    rejected(
        d,
        &["orders", "set-status", "R-1", "shipped"],
        &[
            "R-1",
            "Shipped",
            "allowed: Processing, Backorder, Cancelled",
        ],
    );
    rejected(
        d,
        &["orders", "set-status", "R-1", "Completed"],
        &["Completed", "cannot be picked"],
    );
    rejected(
        d,
        &["orders", "set-status", "R-1", "Lost"],
        &["unknown status", "Lost"],
    );
    rejected(
        d,
        &["orders", "set-status", "R-1", "PENDING"],
        &["already Pending"],
    );
    rejected(
        d,
        &["orders", "list", "--status", "Lost"],
        &["unknown status", "Lost"],
    );

    assert_eq!(show(d, "R-1"), before);
    assert!(jobs(d, &[]).is_empty());
}

#[test]
fn final_orders_refuse_every_change() {
    let dir = scratch();
    let d = dir.path();
    add_r1(d);
    ok(d, &["orders", "cancel", "R-1", "--reason", "duplicate"]);
    ok(d, &["orders", "add", "--number", "R-2", "--line", "A=1"]);
    ok(d, &["orders", "fulfill", "R-2"]);
    assert_eq!(show(d, "R-2")["status"], "Completed");

    for (number, status) in [("R-1", "Cancelled"), ("R-2", "Completed")] {
        let before = show(d, number);
        rejected(
            d,
            &["orders", "set-status", number, "processing"],
            &[status, "final"],
        );
        rejected(
            d,
            &["orders", "cancel", number, "--reason", "again"],
            &[status, "final"],
        );
        rejected(d, &["orders", "fulfill", number], &[status, "final"]);
        rejected(
            d,
            &["orders", "ship", number, "--line", "A=1"],
            &[status, "final"],
        );
        assert_eq!(show(d, number), before, "{number} changed");
    }
}

#[test]
fn shipment_errors_are_rejected_and_change_nothing() {
    let dir = scratch();
    let d = dir.path();
    add_r1(d);
    ok(d, &["orders", "ship", "R-1", "--line", "SKU-A=2"]);
    let before = show(d, "R-1");

    rejected(
        d,
        &["orders", "ship", "R-1", "--line", "SKU-A=2"],
        &["SKU-A", "over-shipment", "only 1 still open"],
    );
    // One bad line spoils the whole shipment: the good line is not shipped either.
    rejected(
        d,
        &[
            "orders", "ship", "R-1", "--line", "SKU-B=1", "--line", "SKU-B=2",
        ],
        &["SKU-B", "over-shipment", "only 2 still open"],
    );
    rejected(
        d,
        &[
            "orders", "ship", "R-1", "--line", "SKU-B=1", "--line", "NOPE=1",
        ],
        &["NOPE", "no such SKU"],
    );
    rejected(
        d,
        &["orders", "ship", "R-404", "--line", "SKU-A=1"],
        &["R-404"],
    );

    assert_eq!(show(d, "R-1"), before);
}

#[test]
fn line_syntax_errors_are_rejected() {
    let dir = scratch();
    let d = dir.path();
    add_r1(d);
    let before = show(d, "R-1");
    for (line, says) in [
        ("SKU", "SKU=QTY"),
        ("SKU=0", "positive"),
        ("SKU=-1", "positive"),
        ("SKU=x", "whole number"),
        ("=2", "empty SKU"),
    ] {
        rejected(d, &["orders", "ship", "R-1", "--line", line], &[line, says]);
        rejected(
            d,
            &["orders", "add", "--number", "R-2", "--line", line],
            &[line, says],
        );
    }
    // An order needs a line at all.
    rejected(d, &["orders", "add", "--number", "R-2"], &["--line"]);
    rejected(
        d,
        &["orders", "add", "--number", "  ", "--line", "A=1"],
        &["--number"],
    );
    assert_eq!(show(d, "R-1"), before);
    assert_eq!(numbers(&json(d, &["orders", "list"])), ["R-1"]);
}

#[test]
fn duplicate_and_unknown_orders_are_rejected() {
    let dir = scratch();
    let d = dir.path();
    add_r1(d);
    let before = show(d, "R-1");
    rejected(
        d,
        &["orders", "add", "--number", "R-1", "--line", "X=1"],
        &["R-1", "already exists"],
    );
    assert_eq!(show(d, "R-1"), before, "the duplicate did not touch R-1");
    assert_eq!(numbers(&json(d, &["orders", "list"])), ["R-1"]);

    rejected(d, &["orders", "show", "R-404"], &["R-404"]);
    rejected(d, &["orders", "show", "#404"], &["404"]);
    rejected(
        d,
        &["orders", "set-status", "R-404", "processing"],
        &["R-404"],
    );
    rejected(d, &["orders", "fulfill", "R-404"], &["R-404"]);
    rejected(
        d,
        &["orders", "cancel", "R-404", "--reason", "gone"],
        &["R-404"],
    );
}

#[test]
fn cancel_needs_a_reason() {
    let dir = scratch();
    let d = dir.path();
    add_r1(d);
    let before = show(d, "R-1");
    rejected(
        d,
        &["orders", "cancel", "R-1", "--reason", ""],
        &["--reason"],
    );
    rejected(
        d,
        &["orders", "cancel", "R-1", "--reason", "   "],
        &["--reason"],
    );
    rejected(d, &["orders", "cancel", "R-1"], &["--reason"]);
    assert_eq!(show(d, "R-1"), before);
}

#[test]
fn a_change_based_on_a_stale_version_is_rejected_naming_who_changed_it() {
    let dir = scratch();
    let d = dir.path();
    add_r1(d);
    assert_eq!(show(d, "R-1")["version"], 1);

    // Bob moves the order after Alice loaded version 1.
    ok_as(d, "bob", &["orders", "set-status", "R-1", "processing"]);
    let after_bob = show(d, "R-1");
    assert_eq!(after_bob["version"], 2);
    assert_eq!(after_bob["updated_by"], "bob");
    let expected = format!(
        "order R-1 changed since you loaded it (by bob at {})",
        after_bob["updated_at"].as_str().unwrap()
    );

    for args in [
        &[
            "orders",
            "set-status",
            "R-1",
            "backorder",
            "--if-version",
            "1",
        ][..],
        &[
            "orders",
            "cancel",
            "R-1",
            "--reason",
            "x",
            "--if-version",
            "1",
        ],
        &[
            "orders",
            "ship",
            "R-1",
            "--line",
            "SKU-A=1",
            "--if-version",
            "1",
        ],
        &["orders", "fulfill", "R-1", "--if-version", "1"],
    ] {
        let stderr = rejected(d, args, &[&expected]);
        assert_eq!(stderr.trim(), format!("error: {expected}"));
    }
    assert_eq!(show(d, "R-1"), after_bob, "nothing changed");
    assert!(
        jobs(d, &[]).is_empty(),
        "the stale backorder queued no e-mail"
    );

    // With the current version it goes through, and the version moves on.
    let change: Value = serde_json::from_str(&ok(
        d,
        &[
            "orders",
            "set-status",
            "R-1",
            "backorder",
            "--if-version",
            "2",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(change["from"], "Processing");
    assert_eq!(change["to"], "Backorder");
    assert_eq!(change["version"], 3);
    assert_eq!(show(d, "R-1")["version"], 3);
}

#[test]
fn two_processes_racing_on_one_version_one_wins_the_other_is_told() {
    let dir = scratch();
    let d = dir.path();
    for round in 1..=3 {
        let number = format!("R-{round}");
        ok(d, &["orders", "add", "--number", &number, "--line", "A=1"]);
        let spawn = |user: &str, status: &str| {
            let mut cmd = with_flags(d, user);
            cmd.args(["orders", "set-status", &number, status, "--if-version", "1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().expect("spawn")
        };
        let alice = spawn("alice", "processing");
        let bob = spawn("bob", "backorder");
        let outcomes: Vec<(&str, i32, String)> = [("alice", alice), ("bob", bob)]
            .into_iter()
            .map(|(who, child)| {
                let out = child.wait_with_output().unwrap();
                (
                    who,
                    out.status.code().unwrap(),
                    String::from_utf8(out.stderr).unwrap(),
                )
            })
            .collect();
        let winners: Vec<_> = outcomes.iter().filter(|o| o.1 == 0).collect();
        let losers: Vec<_> = outcomes.iter().filter(|o| o.1 != 0).collect();
        assert_eq!(winners.len(), 1, "{outcomes:?}");
        assert_eq!(losers.len(), 1, "{outcomes:?}");
        let winner = winners[0].0;
        assert_eq!(losers[0].1, 2, "{outcomes:?}");
        assert!(
            losers[0].2.contains(&format!(
                "order {number} changed since you loaded it (by {winner} at "
            )),
            "{outcomes:?}"
        );
        let order = show(d, &number);
        assert_eq!(order["version"], 2);
        assert_eq!(order["updated_by"], winner);
        assert_eq!(order["history"].as_array().unwrap().len(), 2);
    }
}

#[test]
fn unknown_jobs_and_states_are_rejected() {
    let dir = scratch();
    let d = dir.path();
    rejected(d, &["jobs", "retry", "999"], &["no job 999"]);
    rejected(d, &["jobs", "discard", "999"], &["no job 999"]);
    rejected(
        d,
        &["jobs", "list", "--state", "bogus"],
        &["bogus", "queued", "dead", "cancelled"],
    );
    rejected(d, &["jobs", "retry"], &["<ID>"]);
    rejected(d, &["jobs", "retry", "1", "--all-dead"], &["--all-dead"]);
}

#[test]
fn limits_must_be_positive() {
    let dir = scratch();
    let d = dir.path();
    rejected(d, &["orders", "list", "--limit", "0"], &["--limit"]);
    rejected(d, &["orders", "list", "--limit=-5"], &["--limit"]);
    rejected(d, &["jobs", "list", "--limit", "0"], &["--limit"]);
}

#[test]
fn no_subcommand_and_unknown_flags_are_rejected() {
    let dir = scratch();
    let d = dir.path();
    rejected(d, &[], &["syncdesk --help"]);
    rejected(d, &["orders", "list", "--bogus"], &["--bogus"]);
}

// ---------------------------------------------------------------------------------------------------------
// Jobs, statuses, lists

#[test]
fn backorder_enqueues_an_email_job_that_can_be_discarded_and_retried() {
    let dir = scratch();
    let d = dir.path();
    add_r1(d);
    let order_id = show(d, "R-1")["id"].as_i64().unwrap();
    ok(d, &["orders", "set-status", "R-1", "BackOrder"]);
    assert_eq!(show(d, "R-1")["status"], "Backorder");

    let list = jobs(d, &[]);
    assert_eq!(list.len(), 1, "{list:?}");
    let job = &list[0];
    assert_eq!(job["kind"], "email.backorder");
    assert_eq!(job["state"], "queued");
    assert_eq!(job["attempts"], 0);
    assert_eq!(job["max_attempts"], 20, "the per-kind budget from config");
    let payload: Value = serde_json::from_str(job["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["order_id"], order_id);
    let id = job["id"].as_i64().unwrap().to_string();
    assert_eq!(jobs(d, &["--state", "queued"]).len(), 1);
    assert!(jobs(d, &["--state", "cancelled"]).is_empty());

    let out = ok(d, &["jobs", "discard", &id]);
    assert!(out.contains("discarded"), "{out}");
    let list = jobs(d, &["--state", "cancelled"]);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"].as_i64().unwrap().to_string(), id);
    assert!(
        list[0]["last_error"].as_str().unwrap().contains("alice"),
        "{list:?}"
    );
    assert!(jobs(d, &["--state", "queued"]).is_empty());
    // Discarding twice is refused.
    rejected(d, &["jobs", "discard", &id], &["already cancelled"]);

    let out = ok(d, &["jobs", "retry", &id]);
    assert!(out.contains("queued"), "{out}");
    let list = jobs(d, &["--state", "QUEUED"]);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["state"], "queued");
    assert!(jobs(d, &["--state", "cancelled"]).is_empty());

    // No dead jobs: --all-dead is a no-op that still succeeds.
    let out = ok(d, &["jobs", "retry", "--all-dead"]);
    assert!(out.contains('0'), "{out}");
    assert_eq!(jobs(d, &[]).len(), 1);
}

#[test]
fn statuses_json_lists_the_seed_and_counts_active_orders() {
    let dir = scratch();
    let d = dir.path();
    let add = |n: &str| ok(d, &["orders", "add", "--number", n, "--line", "A=1"]);
    for n in ["R-1", "R-2", "R-3", "R-4", "R-5", "R-6"] {
        add(n);
    }
    ok(d, &["orders", "set-status", "R-2", "processing"]);
    ok(d, &["orders", "set-status", "R-3", "backorder"]);
    ok(d, &["orders", "set-status", "R-4", "backorder"]);
    ok(d, &["orders", "cancel", "R-5", "--reason", "test"]);
    ok(d, &["orders", "fulfill", "R-6"]);

    let statuses = json(d, &["statuses"]);
    let list = statuses.as_array().unwrap();
    let summary: Vec<(i64, &str, &str, bool, bool, i64)> = list
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().unwrap(),
                s["name"].as_str().unwrap(),
                s["kind"].as_str().unwrap(),
                s["pickable"].as_bool().unwrap(),
                s["is_final"].as_bool().unwrap(),
                s["active_orders"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "Pending", "open", true, false, 1),
            (2, "Processing", "open", true, false, 1),
            (3, "Ready to Ship", "open", true, false, 0),
            (4, "Shipped", "shipped", true, false, 0),
            (5, "Completed", "completed", false, true, 0),
            (6, "Cancelled", "cancelled", true, true, 0),
            (7, "Backorder", "backorder", true, false, 2),
        ]
    );
    assert_eq!(
        list[0]["allowed_next"],
        serde_json::json!(["Processing", "Backorder", "Cancelled"])
    );
    for s in list {
        let next = s["allowed_next"].as_array().unwrap();
        assert!(!next.contains(&Value::from("Completed")), "{s}");
    }

    let text = ok(d, &["statuses"]);
    assert!(text.contains("Ready to Ship"), "{text}");
}

#[test]
fn orders_list_filters_by_status_and_searches_number_customer_and_sku() {
    let dir = scratch();
    let d = dir.path();
    let add = |n: &str, customer: Option<&str>, line: &str| {
        let mut args = vec!["orders", "add", "--number", n, "--line", line];
        if let Some(c) = customer {
            args.extend(["--customer", c]);
        }
        ok(d, &args);
    };
    add("R-1", Some("Ann Smith"), "WIDGET-RED=1");
    add("R-2", Some("Bob Jones"), "GADGET=2");
    add("R-3", None, "widget-blue=1");
    add("R-4", Some("Cy Widgetson"), "BOLT=5");
    ok(d, &["orders", "set-status", "R-1", "backorder"]);
    ok(d, &["orders", "set-status", "R-3", "Backorder"]);
    ok(d, &["orders", "cancel", "R-2", "--reason", "test"]);

    assert_eq!(
        numbers(&json(d, &["orders", "list"])),
        ["R-4", "R-3", "R-1"],
        "active orders, newest first"
    );
    let backorder = json(d, &["orders", "list", "--status", "backorder"]);
    assert_eq!(numbers(&backorder), ["R-3", "R-1"]);
    for o in backorder.as_array().unwrap() {
        assert_eq!(o["status_id"], 7);
    }
    assert_eq!(
        numbers(&json(d, &["orders", "list", "--status", "BACKORDER"])),
        ["R-3", "R-1"]
    );
    assert_eq!(
        numbers(&json(d, &["orders", "list", "--status", "pending"])),
        ["R-4"]
    );
    // A final status looks in the archive, where such orders live.
    assert_eq!(
        numbers(&json(d, &["orders", "list", "--status", "cancelled"])),
        ["R-2"]
    );

    let search = |text: &str| numbers(&json(d, &["orders", "list", "--search", text]));
    assert_eq!(search("smith"), ["R-1"], "customer");
    assert_eq!(search("Widget"), ["R-4", "R-3", "R-1"], "SKU and customer");
    assert_eq!(search("widget-blue"), ["R-3"], "SKU");
    assert_eq!(search("r-4"), ["R-4"], "number");
    assert!(search("nothing like it").is_empty());
    assert!(search("gadget").is_empty(), "R-2 is archived");
    assert_eq!(
        numbers(&json(
            d,
            &["orders", "list", "--archived", "--search", "gadget"]
        )),
        ["R-2"]
    );
    assert_eq!(
        numbers(&json(
            d,
            &["orders", "list", "--status", "backorder", "--search", "red"]
        )),
        ["R-1"]
    );

    // Paging.
    assert_eq!(
        numbers(&json(d, &["orders", "list", "--limit", "1"])),
        ["R-4"]
    );
    assert_eq!(
        numbers(&json(
            d,
            &["orders", "list", "--limit", "1", "--offset", "1"]
        )),
        ["R-3"]
    );
}

#[test]
fn search_text_is_matched_literally() {
    let dir = scratch();
    let d = dir.path();
    ok(
        d,
        &[
            "orders",
            "add",
            "--number",
            "R-1",
            "--customer",
            "Ann Smith",
            "--line",
            "A=1",
        ],
    );
    ok(
        d,
        &[
            "orders",
            "add",
            "--number",
            "R-2",
            "--customer",
            "Bob_Jones",
            "--line",
            "B=1",
        ],
    );
    let search = |text: &str| numbers(&json(d, &["orders", "list", "--search", text]));
    assert_eq!(search("_"), ["R-2"], "only R-2 contains an underscore");
    assert!(search("%").is_empty(), "no order contains a percent sign");
}

// ---------------------------------------------------------------------------------------------------------
// Environment and database versions

#[test]
fn environment_variables_are_honoured_when_flags_are_absent() {
    let dir = scratch();
    let d = dir.path();
    let env_db = d.join("env.db");
    let with_env = || {
        let mut cmd = bare(d);
        cmd.env("SYNCDESK_DB", &env_db)
            .env("SYNCDESK_USER", "carol")
            .arg("--config")
            .arg(d.join("config.toml"));
        cmd
    };

    let mut cmd = with_env();
    cmd.args(["orders", "add", "--number", "R-1", "--line", "A=1"]);
    let (code, _, stderr) = exec(cmd);
    assert_eq!(code, 0, "{stderr}");
    assert!(env_db.exists(), "$SYNCDESK_DB names the database");

    let mut cmd = with_env();
    cmd.args(["orders", "set-status", "R-1", "processing"]);
    let (code, _, stderr) = exec(cmd);
    assert_eq!(code, 0, "{stderr}");

    let mut cmd = with_env();
    cmd.args(["orders", "show", "R-1", "--json"]);
    let (code, stdout, stderr) = exec(cmd);
    assert_eq!(code, 0, "{stderr}");
    let order: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(order["updated_by"], "carol");
    for h in order["history"].as_array().unwrap() {
        assert_eq!(h["by"], "carol", "{h}");
    }
    // The other database knows nothing about it.
    rejected(d, &["orders", "show", "R-1"], &["R-1"]);

    // Flags win over the variables.
    let mut cmd = with_env();
    cmd.args(["--user", "dave", "orders", "set-status", "R-1", "backorder"]);
    let (code, _, stderr) = exec(cmd);
    assert_eq!(code, 0, "{stderr}");
    let mut cmd = with_env();
    cmd.arg("--db")
        .arg(db_path(d))
        .args(["orders", "add", "--number", "R-9", "--line", "A=1"]);
    let (code, _, stderr) = exec(cmd);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(show(d, "R-9")["updated_by"], "carol");
    let mut cmd = with_env();
    cmd.args(["orders", "show", "R-1", "--json"]);
    let (code, stdout, _) = exec(cmd);
    assert_eq!(code, 0);
    let order: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(order["updated_by"], "dave");
    assert_eq!(order["history"][2]["by"], "dave");

    // A blank user falls back to the OS user.
    let mut cmd = with_env();
    cmd.env("SYNCDESK_USER", "  ")
        .env("USER", "erin")
        .env_remove("USERNAME")
        .env_remove("LOGNAME")
        .args(["orders", "set-status", "R-1", "processing"]);
    let (code, _, stderr) = exec(cmd);
    assert_eq!(code, 0, "{stderr}");
    let mut cmd = with_env();
    cmd.args(["orders", "show", "R-1", "--json"]);
    let (_, stdout, _) = exec(cmd);
    let order: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(order["updated_by"], "erin");
}

#[test]
fn a_database_from_a_newer_syncdesk_fails_with_exit_1_and_says_to_upgrade() {
    let dir = scratch();
    let d = dir.path();
    {
        let conn = rusqlite::Connection::open(db_path(d)).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    for args in [
        &["statuses"][..],
        &["statuses", "--json"],
        &["orders", "list"],
        &["orders", "show", "R-1"],
        &["orders", "add", "--number", "R-1", "--line", "A=1"],
        &["jobs", "list", "--json"],
    ] {
        let (code, stdout, stderr) = run(d, args);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(stderr.contains("newer syncdesk"), "{args:?}: {stderr}");
        assert!(stderr.contains("upgrade"), "{args:?}: {stderr}");
        assert!(stderr.contains("x.db"), "{args:?}: {stderr}");
    }
    // The file was not migrated or seeded.
    let conn = rusqlite::Connection::open(db_path(d)).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 99);
    let tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 0);
}
