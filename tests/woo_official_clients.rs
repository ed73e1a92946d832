//! The standalone `syncdesk sim woocommerce` binary: its fault flags, and WooCommerce's own client
//! libraries against it. The libraries — the Python `WooCommerce` package and the npm
//! `@woocommerce/woocommerce-rest-api` — unmodified, against `syncdesk sim woocommerce` started from the
//! built binary over plain http (so they must get OAuth 1.0a right, as the simulator checks it), and against
//! the real store when `SYNCDESK_WOO_URL`/`_KEY`/`_SECRET` are set. Each lists orders page by page and
//! writes (a product, a paid order, a status change, a note, an order batch).
//!
//! The libraries are installed by the test into `target/tmp/external-drivers/` (pip / npm). If that is
//! impossible the test is skipped with the reason — unless `SYNCDESK_REQUIRE_EXTERNAL_DRIVERS=1` (CI sets
//! it), where it fails.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "ck_official_clients_000000000000000000000000";
const SECRET: &str = "cs_official_clients_000000000000000000000000";
const SEEDED_ORDERS: u64 = 12;

fn drivers() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("external-drivers")
}

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/external")
}

/// Skips (returns `None`) or, when external drivers are required, fails.
fn unavailable(what: &str, why: &str) -> Option<PathBuf> {
    let required = std::env::var("SYNCDESK_REQUIRE_EXTERNAL_DRIVERS").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{what} cannot be installed and SYNCDESK_REQUIRE_EXTERNAL_DRIVERS=1: {why}"
    );
    eprintln!("SKIPPED: {what} unavailable: {why}");
    None
}

fn run(command: &mut Command) -> Result<(), String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The Python package, installed once into its own folder; the folder goes on PYTHONPATH.
fn python_client() -> Option<PathBuf> {
    let dir = drivers().join("python");
    if dir.join("woocommerce").join("api.py").exists() {
        return Some(dir);
    }
    let installed = run(Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--target",
        ])
        .arg(&dir)
        .arg("WooCommerce==3.0.0"));
    match installed {
        Ok(()) if dir.join("woocommerce").exists() => Some(dir),
        Ok(()) => unavailable("the WooCommerce Python package", "pip installed nothing"),
        Err(why) => unavailable("the WooCommerce Python package", &why),
    }
}

/// The npm package, installed once into its own folder; its node_modules go on NODE_PATH.
fn js_client() -> Option<PathBuf> {
    let dir = drivers().join("node");
    let modules = dir.join("node_modules");
    if modules.join("@woocommerce/woocommerce-rest-api").exists() {
        return Some(modules);
    }
    let _ = std::fs::create_dir_all(&dir);
    let installed = run(Command::new("npm")
        .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .arg("@woocommerce/woocommerce-rest-api@1.0.2"));
    match installed {
        Ok(()) if modules.join("@woocommerce/woocommerce-rest-api").exists() => Some(modules),
        Ok(()) => unavailable("@woocommerce/woocommerce-rest-api", "npm installed nothing"),
        Err(why) => unavailable("@woocommerce/woocommerce-rest-api", &why),
    }
}

/// `syncdesk sim woocommerce` on a free port, stopped when dropped.
struct SimProcess {
    child: Child,
    url: String,
}

impl SimProcess {
    fn start() -> Self {
        Self::start_with(&[])
    }

    fn start_with(flags: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_syncdesk"))
            .args(["sim", "woocommerce", "--listen", "127.0.0.1:0"])
            .args(["--key", KEY, "--secret", SECRET])
            .args(["--products", "10", "--orders", &SEEDED_ORDERS.to_string()])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the built binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = loop {
            assert!(
                Instant::now() < deadline,
                "the simulator printed no address"
            );
            let line = lines
                .next()
                .expect("the simulator keeps running")
                .expect("readable output");
            if let Some(url) = line.split("listening on ").nth(1) {
                break url.trim().to_string();
            }
        };
        // Keep draining stdout so the simulator never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, url }
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a client script and returns the JSON summary it prints last.
fn summary(mut command: Command, script: &Path) -> Value {
    let out = command.output().expect("the client script runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{} failed:\n{stdout}\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or("");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn python_run(dir: &Path, url: &str, key: &str, secret: &str, prefix: &str) -> Value {
    let script = scripts().join("woo_python_client.py");
    let mut command = Command::new("python3");
    command
        .arg(&script)
        .args([url, key, secret, prefix])
        .env("PYTHONPATH", dir);
    summary(command, &script)
}

fn js_run(modules: &Path, url: &str, key: &str, secret: &str, prefix: &str) -> Value {
    let script = scripts().join("woo_js_client.js");
    let mut command = Command::new("node");
    command
        .arg(&script)
        .args([url, key, secret, prefix])
        .env("NODE_PATH", modules);
    summary(command, &script)
}

fn numbers(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("a list, got {value}"))
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

/// What both libraries must have seen and done on any store.
fn check(summary: &Value) {
    let pages: Vec<Vec<u64>> = summary["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(numbers)
        .collect();
    let made = numbers(&summary["made"]);
    assert!(summary["total"].as_u64().unwrap() >= 3, "{summary}");
    assert_eq!(pages[0].len(), 2, "{summary}");
    assert!(!pages[1].is_empty(), "{summary}");
    assert!(
        pages[0].iter().all(|id| !pages[1].contains(id)),
        "pages overlap: {summary}"
    );
    assert!(
        pages[0].windows(2).all(|w| w[0] > w[1]) && pages[0][1] > pages[1][0],
        "newest id first across pages: {summary}"
    );
    assert_eq!(made.len(), 3);
    assert_eq!(summary["paid_status"], "processing", "{summary}");
    assert_eq!(summary["stock_after_paid"], 8, "{summary}");
    assert_eq!(summary["completed"], "completed");
    assert!(summary["note"].as_str().unwrap().ends_with(" note"));
    assert_eq!(summary["batch_note"], "from batch");
}

/// On the simulator nothing else writes: the first page is exactly the two newest orders the script made.
fn check_on_simulator(summary: &Value) {
    check(summary);
    let made = numbers(&summary["made"]);
    assert_eq!(
        numbers(&summary["pages"][0]),
        [made[2], made[1]],
        "{summary}"
    );
    assert_eq!(summary["total"], SEEDED_ORDERS + 3, "{summary}");
    assert_eq!(summary["total_pages"], (SEEDED_ORDERS + 3).div_ceil(2));
}

#[test]
fn python_client_lists_pages_and_writes_on_the_simulator() {
    let Some(dir) = python_client() else { return };
    let sim = SimProcess::start();
    check_on_simulator(&python_run(&dir, &sim.url, KEY, SECRET, "CONF-PY"));
}

#[test]
fn js_client_lists_pages_and_writes_on_the_simulator() {
    let Some(modules) = js_client() else { return };
    let sim = SimProcess::start();
    check_on_simulator(&js_run(&modules, &sim.url, KEY, SECRET, "CONF-JS"));
}

#[test]
fn wrong_secret_is_refused_to_the_official_client() {
    let Some(dir) = python_client() else { return };
    let sim = SimProcess::start();
    let script = scripts().join("woo_python_client.py");
    let out = Command::new("python3")
        .arg(&script)
        .args([sim.url.as_str(), KEY, "cs_wrong", "CONF-PYX"])
        .env("PYTHONPATH", &dir)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("401")
            && said.contains("Invalid signature - provided signature does not match."),
        "{said}"
    );
}

/// The same scripts against the real store (skipped unless it is configured).
#[test]
fn official_clients_on_the_real_store() {
    let (Ok(url), Ok(key), Ok(secret)) = (
        std::env::var("SYNCDESK_WOO_URL"),
        std::env::var("SYNCDESK_WOO_KEY"),
        std::env::var("SYNCDESK_WOO_SECRET"),
    ) else {
        eprintln!("SKIPPED: no real store configured (SYNCDESK_WOO_URL/KEY/SECRET)");
        return;
    };
    let run_id = std::process::id();
    if let Some(dir) = python_client() {
        check(&python_run(
            &dir,
            &url,
            &key,
            &secret,
            &format!("CONF-PY{run_id}"),
        ));
    }
    if let Some(modules) = js_client() {
        check(&js_run(
            &modules,
            &url,
            &key,
            &secret,
            &format!("CONF-JS{run_id}"),
        ));
    }
}

#[tokio::test]
async fn fault_flags_reach_the_standalone_simulator() {
    let sim = SimProcess::start_with(&[
        "--treat-as-https",
        "--throttle-every",
        "2",
        "--retry-after",
        "7",
        "--lose-answers",
        "POST /orders/{id}/notes:1",
    ]);
    let http = reqwest::Client::new();
    let api = |path: &str| format!("{}/wp-json/wc/v3/{path}", sim.url);
    let get = |path: &str| http.get(api(path)).basic_auth(KEY, Some(SECRET)).send();
    // Basic auth is accepted (--treat-as-https); every 2nd request is throttled with Retry-After: 7.
    let first = get("orders?per_page=1").await.unwrap();
    assert_eq!(first.status(), 200);
    let order = first.json::<Value>().await.unwrap()[0]["id"]
        .as_u64()
        .unwrap();
    let second = get("orders?per_page=1").await.unwrap();
    assert_eq!(second.status(), 429);
    assert_eq!(second.headers()["retry-after"], "7");
    // The note is added but its answer is lost (the connection is reset)…
    let note = || {
        http.post(api(&format!("orders/{order}/notes")))
            .basic_auth(KEY, Some(SECRET))
            .json(&serde_json::json!({"note": "lost answer"}))
            .send()
    };
    assert!(note().await.is_err(), "the client gets no answer");
    assert_eq!(get("orders?per_page=1").await.unwrap().status(), 429);
    let notes: Value = get(&format!("orders/{order}/notes"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["note"] == "lost answer")
            .count(),
        1,
        "…although the store added it: {notes}"
    );
    // …only once.
    assert_eq!(get("orders?per_page=1").await.unwrap().status(), 429);
    assert_eq!(note().await.unwrap().status(), 201);
    drop(sim);

    let down = SimProcess::start_with(&["--outage-every", "60:30", "--latency-ms", "50"]);
    let started = Instant::now();
    let answer = reqwest::get(format!("{}/wp-json/wc/v3/orders", down.url))
        .await
        .unwrap();
    assert_eq!(answer.status(), 503, "inside the outage window");
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "latency applies"
    );
}

#[test]
fn fault_flags_are_documented_and_checked() {
    let help = Command::new(env!("CARGO_BIN_EXE_syncdesk"))
        .args(["sim", "woocommerce", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--latency-ms",
        "--jitter-ms",
        "--error-rate",
        "--throttle-every",
        "--retry-after",
        "--reset-first",
        "--lose-answers",
        "--outage-every",
        "--treat-as-https",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help:\n{help}");
    }
    for bad in [
        ["--lose-answers", "POST:x"],
        ["--outage-every", "10:20"],
        ["--error-rate", "1.5"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_syncdesk"))
            .args(["sim", "woocommerce", "--listen", "127.0.0.1:0"])
            .args(bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?} is rejected input");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(bad[0]),
            "the error names {}",
            bad[0]
        );
    }
}
