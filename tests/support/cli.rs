//! The CLI rig: runs the built `syncdesk` binary the way an operator would, with the environment's own
//! SYNCDESK_* settings removed so they cannot leak in — `run` on a test folder's `s.db` and `config.toml` as
//! user `ops`, `clean_command` with the folder as the whole world (HOME, XDG folders, working directory).
#![allow(dead_code)] // each test module uses the part it needs

use std::path::Path;
use std::process::{Command, Stdio};

/// The binary with a clean environment: no SYNCDESK_* variables, HOME and the XDG folders inside `dir`
/// (so default paths never reach the developer's real config or data), `dir` as working directory, no
/// colours and no stdin.
pub fn clean_command(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_syncdesk"));
    cmd.current_dir(dir)
        .env_remove("SYNCDESK_CONFIG")
        .env_remove("SYNCDESK_DB")
        .env_remove("SYNCDESK_USER")
        .env("HOME", dir.join("home"))
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .env("XDG_DATA_HOME", dir.join("xdg-data"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

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
