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

/// `syncdesk --db DIR/s.db --config DIR/config.toml --user ops ARGS…`, ready to run.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_syncdesk"));
    cmd.args([
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
    .env_remove("SYNCDESK_USER");
    cmd
}

/// (exit code, stdout, stderr) of `syncdesk --db DIR/s.db --config DIR/config.toml --user ops ARGS…`.
pub fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = command(dir, args).output().expect("run syncdesk");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// What became of a command whose stdout reader went away: its exit code (`None` when a signal ended it),
/// the lines the reader took before closing, and stderr.
#[derive(Debug)]
pub struct ClosedPipe {
    pub code: Option<i32>,
    pub read: Vec<String>,
    pub stderr: String,
}

/// Runs `syncdesk … ARGS` with stdout a pipe whose reader takes `lines` lines and closes it, as
/// `| head -n LINES` does (`lines` 0: closed before the command starts, so its first write finds no
/// reader whatever it prints).
pub fn run_into_closed_pipe(dir: &Path, args: &[&str], lines: usize) -> ClosedPipe {
    use std::io::BufRead;
    let (reader, writer) = std::io::pipe().expect("pipe");
    let mut cmd = command(dir, args);
    cmd.stdout(writer)
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let mut reader = (lines > 0).then(|| std::io::BufReader::new(reader));
    let child = cmd.spawn().expect("spawn syncdesk");
    drop(cmd); // our copy of the pipe's write end
    let mut read = Vec::new();
    if let Some(r) = reader.as_mut() {
        for _ in 0..lines {
            let mut line = String::new();
            if r.read_line(&mut line).expect("read stdout") == 0 {
                break;
            }
            read.push(line.trim_end().to_string());
        }
    }
    drop(reader); // the reader goes away: the command's next write finds a closed pipe
    let out = child.wait_with_output().expect("wait for syncdesk");
    ClosedPipe {
        code: out.status.code(),
        read,
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}
