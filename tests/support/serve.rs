//! Runs the built `syncdesk serve` as an operator would — its own process, on a test folder's `s.db` and
//! `config.toml` — so a test can hold its database's lock, fill its disk or `kill -9` it, and watch
//! `/health` and the webhook receiver from outside.

#![allow(dead_code)]

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The `[woocommerce]` section for a simulator at `url` with these credentials (webhooks signed with
/// `webhook_secret`; the reconciliation poll every `poll_secs`).
pub fn woo_section(
    url: &str,
    key: &str,
    secret: &str,
    webhook_secret: &str,
    poll_secs: u64,
) -> String {
    format!(
        "[woocommerce]\nenabled = true\nurl = \"{url}\"\nconsumer_key = \"{key}\"\nconsumer_secret = \"{secret}\"\n\
         auth = \"oauth\"\nwebhook_secret = \"{webhook_secret}\"\npoll_secs = {poll_secs}\nmax_attempts = 1\n\
         timeout_secs = 5\n"
    )
}

/// One `syncdesk serve` process.
pub struct Serve {
    child: Option<Child>,
    pub dir: PathBuf,
    pub port: u16,
    /// Its stderr (appended across restarts).
    pub log: PathBuf,
    /// Its limit of open files (`ulimit -n`), when lower than the test's own.
    open_files: Option<u32>,
}

impl Serve {
    /// Starts `syncdesk serve` on `dir/s.db` with `dir/config.toml`, listening on `port`.
    pub fn start(dir: &Path, port: u16) -> Serve {
        Self::start_with_open_files(dir, port, None)
    }

    /// `start`, under a limit of `open_files` open files (`ulimit -n`) when given.
    pub fn start_with_open_files(dir: &Path, port: u16, open_files: Option<u32>) -> Serve {
        let log = dir.join("serve.log");
        let mut serve = Serve {
            child: None,
            dir: dir.to_path_buf(),
            port,
            log,
            open_files,
        };
        serve.restart();
        serve
    }

    /// Starts it again (after a kill).
    pub fn restart(&mut self) {
        let err = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("serve log");
        let mut command = match self.open_files {
            None => Command::new(env!("CARGO_BIN_EXE_syncdesk")),
            Some(n) => {
                // The shell lowers the limit and becomes syncdesk (`exec`): same process, same pid.
                let mut sh = Command::new("sh");
                sh.args([
                    "-c",
                    &format!("ulimit -n {n} && exec \"$0\" \"$@\""),
                    env!("CARGO_BIN_EXE_syncdesk"),
                ]);
                sh
            }
        };
        let child = command
            .args([
                "--db",
                &self.dir.join("s.db").to_string_lossy(),
                "--config",
                &self.dir.join("config.toml").to_string_lossy(),
                "--user",
                "ops",
                "serve",
            ])
            .env_remove("SYNCDESK_CONFIG")
            .env_remove("SYNCDESK_DB")
            .env_remove("SYNCDESK_USER")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("start syncdesk serve");
        self.child = Some(child);
    }

    /// `kill -9`: no clean-up of any kind.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// True while the process runs; a process that ended is reaped (and stays ended).
    pub fn alive(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `GET /health`, if it answers.
    pub async fn health(&self, http: &reqwest::Client) -> Option<Value> {
        let r = http
            .get(self.url("/health"))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .ok()?;
        r.json().await.ok()
    }

    /// Waits until `/health` satisfies `ok`, or panics with the log after `timeout`.
    pub async fn wait_health(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
        what: &str,
        ok: impl Fn(&Value) -> bool,
    ) -> Value {
        let start = Instant::now();
        let mut last = None;
        while start.elapsed() < timeout {
            if let Some(h) = self.health(http).await {
                if ok(&h) {
                    return h;
                }
                last = Some(h);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{what}: not within {timeout:?}; last /health {last:?}\n{}",
            self.log_text()
        );
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// POSTs a signed WooCommerce `order.updated` delivery for order `id`; returns the HTTP status and body.
pub async fn deliver_order_webhook(
    http: &reqwest::Client,
    serve: &Serve,
    secret: &str,
    id: u64,
    salt: &str,
) -> (u16, String) {
    let body = serde_json::json!({ "id": id, "status": "processing", "salt": salt }).to_string();
    let signature = syncdesk_sim::woo::webhook_signature(body.as_bytes(), secret);
    match http
        .post(serve.url("/webhooks/woocommerce"))
        .header("content-type", "application/json")
        .header("x-wc-webhook-signature", signature)
        .header("x-wc-webhook-resource", "order")
        .header("x-wc-webhook-topic", "order.updated")
        .body(body)
        .timeout(Duration::from_secs(20))
        .send()
        .await
    {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }
        Err(e) => (0, e.to_string()),
    }
}
