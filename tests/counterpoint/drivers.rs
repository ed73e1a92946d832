//! The Counterpoint simulator checked through a second, independent TDS driver: tedious (Node), which shares
//! no code with tiberius — TLS negotiation (full, clear login, strict TDS 8.0, refused certificates) and the
//! SQL Server semantics of issue #13 (`tests/drivers/tedious/check.js`). The test installs tedious itself
//! into `target/external-drivers/tedious` (npm); when that is impossible it skips with the reason, unless
//! SYNCDESK_REQUIRE_EXTERNAL_DRIVERS=1 (set by `.ci/run`), where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use syncdesk_sim::counterpoint::{CounterpointSim, ServerCertificate, ServerEncryption, SimConfig};

const TEDIOUS_VERSION: &str = "19.2.2";

fn required() -> bool {
    std::env::var("SYNCDESK_REQUIRE_EXTERNAL_DRIVERS").is_ok_and(|v| v == "1")
}

/// The installed driver folder, or why there is none.
fn install_tedious() -> Result<PathBuf, String> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/drivers/tedious");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/external-drivers/tedious");
    let installed = dir.join("node_modules/tedious/package.json");
    let is_current = std::fs::read_to_string(&installed)
        .is_ok_and(|p| p.contains(&format!("\"version\": \"{TEDIOUS_VERSION}\"")));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    for file in ["package.json", "package-lock.json", "check.js"] {
        std::fs::copy(source.join(file), dir.join(file))
            .map_err(|e| format!("copying {file}: {e}"))?;
    }
    if !is_current {
        let out = Command::new("npm")
            // `ci` installs exactly the locked versions.
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("running npm (is Node installed?): {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "npm install tedious@{TEDIOUS_VERSION} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(dir)
}

async fn start(encryption: ServerEncryption, documents: usize) -> CounterpointSim {
    CounterpointSim::start(SimConfig {
        items: 20,
        documents,
        encryption,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

fn write_pem(dir: &Path, name: &str, pem: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    path.display().to_string()
}

/// Runs `node check.js <mode>` against the simulators while they keep serving; returns its output.
async fn run_checks(driver: &Path, mode: &str, env: Vec<(&'static str, String)>) -> (bool, String) {
    let driver = driver.to_path_buf();
    let mode = mode.to_string();
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("check.js")
            .arg(&mode)
            .current_dir(&driver)
            .envs(env)
            .output()
    });
    let out = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .expect("the driver checks finish within 3 minutes")
        .expect("joined")
        .expect("node runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tedious_agrees_with_the_simulator() {
    let driver = match tokio::task::spawn_blocking(install_tedious)
        .await
        .expect("joined")
    {
        Ok(dir) => dir,
        Err(reason) if required() => {
            panic!("SYNCDESK_REQUIRE_EXTERNAL_DRIVERS=1 but tedious is not available: {reason}")
        }
        Err(reason) => {
            println!("skipped: tedious (Node) is not available here: {reason}");
            return;
        }
    };
    let forced = start(ServerEncryption::Required, 20).await;
    let default = start(ServerEncryption::Off, 0).await;
    let strict = start(ServerEncryption::Strict, 0).await;
    let plain = start(ServerEncryption::NotSupported, 0).await;
    let certs = tempfile::tempdir().unwrap();
    let other = ServerCertificate::self_signed(&["127.0.0.1", "localhost"]).unwrap();
    let env = vec![
        ("CP_USER", forced.user().to_string()),
        ("CP_PASSWORD", forced.password().to_string()),
        ("CP_PORT", forced.addr().port().to_string()),
        ("CP_PORT_OFF", default.addr().port().to_string()),
        ("CP_PORT_STRICT", strict.addr().port().to_string()),
        ("CP_PORT_NOTLS", plain.addr().port().to_string()),
        (
            "CP_CA",
            write_pem(
                certs.path(),
                "forced.crt",
                forced.certificate_pem().unwrap(),
            ),
        ),
        (
            "CP_CA_STRICT",
            write_pem(
                certs.path(),
                "strict.crt",
                strict.certificate_pem().unwrap(),
            ),
        ),
        (
            "CP_WRONG_CA",
            write_pem(certs.path(), "other.crt", &other.chain_pem),
        ),
    ];
    let mut failed = Vec::new();
    for mode in ["tls", "semantics"] {
        let (ok, output) = run_checks(&driver, mode, env.clone()).await;
        println!("--- tedious {mode} checks ---\n{output}");
        if !ok {
            failed.push(mode);
        }
    }
    assert!(
        failed.is_empty(),
        "tedious checks failed: {failed:?} (output above)"
    );
}
