//! The sync subcommands as a user runs them: the built binary against simulators on loopback
//! (`check`, `sync run orders|fulfillments [--dry-run]`), asserting output, exit codes and the store.

use std::path::Path;
use std::process::Command;

use syncdesk::sim::counterpoint::{CounterpointSim, SimConfig};
use syncdesk::sim::woo::{WooSim, WooSimConfig};

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_syncdesk"))
        .args([
            "--db",
            &dir.join("s.db").to_string_lossy(),
            "--config",
            &dir.join("config.toml").to_string_lossy(),
            "--user",
            "ops",
        ])
        .args(args)
        .env_remove("SYNCDESK_CONFIG")
        .env_remove("SYNCDESK_DB")
        .env_remove("SYNCDESK_USER")
        .output()
        .expect("run syncdesk");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn write_config(dir: &Path, woo: &WooSim, cp: &CounterpointSim, smtp_port: u16) {
    let text = format!(
        r#"[email]
smtp_port = {smtp_port}
[woocommerce]
enabled = true
url = "{}"
consumer_key = "{}"
consumer_secret = "{}"
auth = "basic"
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
    let smtp = syncdesk::sim::smtp::SmtpSink::start("127.0.0.1:0".parse().unwrap())
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
