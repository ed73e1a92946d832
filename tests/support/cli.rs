//! Runs the built `syncdesk` binary the way an operator would, on a test folder's `s.db` and `config.toml`
//! as user `ops`, with the environment's own SYNCDESK_* settings removed so they cannot leak in.

use std::path::Path;
use std::process::Command;

/// (exit code, stdout, stderr) of `syncdesk --db DIR/s.db --config DIR/config.toml --user ops ARGS…`.
pub fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
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
