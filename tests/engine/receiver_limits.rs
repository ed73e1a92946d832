//! The webhook receiver under abuse, as `syncdesk serve` runs it (a child process, so its memory is its own):
//! slow headers and slow bodies are cut off, unsigned and oversized bodies are refused before they are read,
//! held connections do not starve `/health`, extra connections get 503 at once, and memory comes back after
//! a burst of 300 slow 1 MB bodies.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::serve_support;

const SECRET: &str = "receiver-limits-secret";
/// A signature that is well-formed base64 of the right length, but not the body's.
const WRONG_SIGNATURE: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/// `syncdesk serve` (the serve rig) on a free port of loopback, with `server` settings added to its config,
/// optionally under a lower limit of open files (`ulimit -n`). This wrapper adds the scratch folder, which
/// lives as long as the server, and the address the raw-socket tests below connect to.
struct Serve {
    serve: serve_support::Serve,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Serve {
    async fn start(server: &str) -> Serve {
        Self::start_with_open_files(server, None).await
    }

    async fn start_with_open_files(server: &str, open_files: Option<u32>) -> Serve {
        let dir = tempfile::tempdir().unwrap();
        let port = serve_support::free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        write_config(
            dir.path(),
            &format!(
                "[server]\nlisten = \"{addr}\"\n{server}\n\n[woocommerce]\nwebhook_secret = \"{SECRET}\"\n\n[metakocka]\nwebhook_secret = \"{SECRET}\"\n"
            ),
        );
        let serve = Serve {
            serve: serve_support::Serve::start_with_open_files(dir.path(), port, open_files),
            addr,
            _dir: dir,
        };
        let started = Instant::now();
        while health(addr, Duration::from_secs(2)).await != Some(200) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "syncdesk serve did not come up on {addr}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        serve
    }

    /// The server process's resident memory, in KiB (VmRSS in /proc/PID/status).
    fn rss_kib(&self) -> u64 {
        let pid = self.serve.pid().expect("syncdesk serve runs");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }
}

fn write_config(dir: &Path, text: &str) {
    std::fs::write(dir.join("config.toml"), text).unwrap();
}

/// GET /health's status, or None when it did not answer within `wait`.
async fn health(addr: SocketAddr, wait: Duration) -> Option<u16> {
    tokio::time::timeout(wait, async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        s.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let reply = read_to_close(&mut s).await;
        status_of(&reply)
    })
    .await
    .ok()
    .flatten()
}

fn status_of(reply: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(reply);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// Reads until the server closes (or resets) the connection; returns what it sent.
async fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Whether the server closed the connection within `wait` (what it sent, if so).
async fn closed_within(s: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    tokio::time::timeout(wait, read_to_close(s)).await.ok()
}

fn webhook_head(path: &str, signature: Option<&str>, length: usize) -> String {
    let signature = match (path, signature) {
        (_, None) => String::new(),
        ("/webhooks/metakocka", Some(s)) => format!("X-MetaKocka-Signature: {s}\r\n"),
        (_, Some(s)) => format!("X-WC-Webhook-Signature: {s}\r\nX-WC-Webhook-Resource: order\r\n"),
    };
    format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n{signature}Content-Length: {length}\r\n\r\n"
    )
}

/// Generous: these bound "never", not speed (the server's own timeouts are 1 and 2 seconds here).
const NEVER: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_silent_headers_are_cut_off() {
    let serve = Serve::start("header_read_timeout_secs = 1\nbody_read_timeout_secs = 2").await;
    let mut silent = TcpStream::connect(serve.addr).await.unwrap();
    let mut slow = TcpStream::connect(serve.addr).await.unwrap();
    slow.write_all(b"POST /webhooks/woocommerce HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    // One header line every 200 ms: each arrives well within any per-read timeout, the whole never does.
    let drip = tokio::spawn(async move {
        let started = Instant::now();
        for i in 0.. {
            if slow
                .write_all(format!("X-Drip-{i}: still coming\r\n").as_bytes())
                .await
                .is_err()
            {
                return Some(started.elapsed());
            }
            let mut byte = [0u8; 1];
            match tokio::time::timeout(Duration::from_millis(200), slow.read(&mut byte)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
                _ if started.elapsed() > NEVER => return None,
                _ => {}
            }
        }
        None
    });
    assert!(
        closed_within(&mut silent, NEVER).await.is_some(),
        "a connection that never sends a request stays open"
    );
    let cut = drip.await.unwrap();
    assert!(
        cut.is_some(),
        "a client dripping header lines keeps its connection forever"
    );
    eprintln!("slow headers cut after {:?}", cut.unwrap());
    assert_eq!(health(serve.addr, NEVER).await, Some(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_gets_408_and_its_connection_is_closed() {
    let serve = Serve::start("header_read_timeout_secs = 1\nbody_read_timeout_secs = 2").await;
    for path in ["/webhooks/woocommerce", "/webhooks/metakocka"] {
        let mut s = TcpStream::connect(serve.addr).await.unwrap();
        s.write_all(webhook_head(path, Some(WRONG_SIGNATURE), 100_000).as_bytes())
            .await
            .unwrap();
        let (mut read, mut write) = s.into_split();
        // 100 bytes every 100 ms: 100 seconds for the whole body.
        let dripping = tokio::spawn(async move {
            while write.write_all(&[b' '; 100]).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let reply = tokio::time::timeout(NEVER, async {
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                match read.read(&mut buf).await {
                    Ok(0) | Err(_) => return got,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        dripping.abort();
        let reply = reply.unwrap_or_else(|_| panic!("{path}: a slow body holds its connection"));
        let text = String::from_utf8_lossy(&reply);
        assert_eq!(status_of(&reply), Some(408), "{path}: {text}");
        assert!(text.contains("body_read_timeout_secs"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_and_oversized_bodies_are_refused_before_they_are_read() {
    let serve = Serve::start("header_read_timeout_secs = 1\nbody_read_timeout_secs = 2").await;
    // Headers announce 1 MB; not one byte of it is sent. The answer must not wait for it.
    let cases = [
        ("/webhooks/woocommerce", None, 1_000_000, 401),
        ("/webhooks/metakocka", None, 1_000_000, 401),
        (
            "/webhooks/woocommerce",
            Some(WRONG_SIGNATURE),
            2_000_000,
            413,
        ),
        ("/webhooks/metakocka", Some(WRONG_SIGNATURE), 2_000_000, 413),
    ];
    for (path, signature, length, expected) in cases {
        let mut s = TcpStream::connect(serve.addr).await.unwrap();
        s.write_all(webhook_head(path, signature, length).as_bytes())
            .await
            .unwrap();
        // A server that waited for the body would answer 408 at its deadline, or never.
        let reply = closed_within(&mut s, NEVER).await.unwrap_or_default();
        assert_eq!(
            status_of(&reply),
            Some(expected),
            "{path} signed={}: {}",
            signature.is_some(),
            String::from_utf8_lossy(&reply)
        );
    }

    // A chunked body declares no length: it is refused as soon as it passes max_body_bytes (1 MiB here),
    // while the sender still has 3 MiB to go.
    let mut s = TcpStream::connect(serve.addr).await.unwrap();
    s.write_all(
        format!(
            "POST /webhooks/woocommerce HTTP/1.1\r\nHost: t\r\nX-WC-Webhook-Signature: {WRONG_SIGNATURE}\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
    let mut sent = 0usize;
    while sent < 4 << 20 {
        if s.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
        sent += 0x10000;
    }
    let reply = closed_within(&mut s, NEVER).await.unwrap_or_default();
    assert_eq!(
        status_of(&reply),
        Some(413),
        "{}",
        String::from_utf8_lossy(&reply)
    );

    // The ping WooCommerce sends when a webhook is created is unsigned and still answered 200.
    let mut s = TcpStream::connect(serve.addr).await.unwrap();
    s.write_all(b"POST /webhooks/woocommerce HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 14\r\nConnection: close\r\n\r\nwebhook_id=123")
        .await
        .unwrap();
    let reply = closed_within(&mut s, NEVER).await.unwrap_or_default();
    assert_eq!(
        status_of(&reply),
        Some(200),
        "{}",
        String::from_utf8_lossy(&reply)
    );
}

/// Opens `n` connections that each hold the receiver: a third send nothing, a third drip headers, a third
/// drip a signed-looking body. Returns the tasks holding them.
async fn hold_connections(addr: SocketAddr, n: usize) -> Vec<tokio::task::JoinHandle<()>> {
    let mut held = Vec::new();
    for i in 0..n {
        let Ok(mut s) = TcpStream::connect(addr).await else {
            continue;
        };
        held.push(tokio::spawn(async move {
            match i % 3 {
                0 => {
                    let _ = read_to_close(&mut s).await;
                }
                1 => {
                    let _ = s
                        .write_all(b"POST /webhooks/woocommerce HTTP/1.1\r\nHost: t\r\n")
                        .await;
                    while s.write_all(b"X-Drip: 1\r\n").await.is_ok() {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
                _ => {
                    let head =
                        webhook_head("/webhooks/woocommerce", Some(WRONG_SIGNATURE), 1 << 20);
                    let _ = s.write_all(head.as_bytes()).await;
                    while s.write_all(&[b' '; 64]).await.is_ok() {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        }));
    }
    held
}

/// 300 held connections on a process that may open 256 files (macOS's default, and common in containers):
/// a receiver that accepts until it runs out of descriptors cannot accept `/health` any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_while_300_connections_are_held() {
    // Timeouts longer than the test: every connection below is still held when /health is asked.
    let serve = Serve::start_with_open_files(
        "header_read_timeout_secs = 60\nbody_read_timeout_secs = 60",
        Some(256),
    )
    .await;
    let held = hold_connections(serve.addr, 300).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let asked = Instant::now();
    let answer = health(serve.addr, NEVER).await;
    eprintln!(
        "/health with 300 connections held: {answer:?} after {:?}",
        asked.elapsed()
    );
    assert_eq!(answer, Some(200), "/health did not answer");
    // A webhook is answered at once too: 401 (its signature is wrong) if it got a connection, 503 if the
    // receiver is full — never left waiting.
    let body = br#"{"id": 1}"#;
    let mut s = TcpStream::connect(serve.addr).await.unwrap();
    let mut request =
        webhook_head("/webhooks/woocommerce", Some(WRONG_SIGNATURE), body.len()).into_bytes();
    request.extend_from_slice(body);
    s.write_all(&request).await.unwrap();
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(NEVER, s.read(&mut buf))
        .await
        .expect("a webhook waits behind held connections")
        .unwrap();
    let answer = status_of(&buf[..n]);
    assert!(matches!(answer, Some(401 | 503)), "{answer:?}");
    for h in held {
        h.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_get_503_but_health_still_answers() {
    let serve = Serve::start(
        "header_read_timeout_secs = 60\nbody_read_timeout_secs = 60\nmax_connections = 20",
    )
    .await;
    let held = hold_connections(serve.addr, 20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut extra = TcpStream::connect(serve.addr).await.unwrap();
    let body = br#"{"id": 1}"#;
    extra
        .write_all(
            webhook_head("/webhooks/woocommerce", Some(WRONG_SIGNATURE), body.len()).as_bytes(),
        )
        .await
        .unwrap();
    extra.write_all(body).await.unwrap();
    let reply = closed_within(&mut extra, NEVER)
        .await
        .expect("a connection over the limit is left hanging");
    let text = String::from_utf8_lossy(&reply);
    assert_eq!(status_of(&reply), Some(503), "{text}");
    assert!(text.contains("server.max_connections"), "{text}");
    assert_eq!(
        health(serve.addr, NEVER).await,
        Some(200),
        "/health is refused when the receiver is full"
    );
    for h in held {
        h.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_comes_back_after_300_slow_unauthenticated_1mb_bodies() {
    let serve = Serve::start("header_read_timeout_secs = 5\nbody_read_timeout_secs = 30").await;
    for _ in 0..20 {
        assert_eq!(health(serve.addr, NEVER).await, Some(200));
    }
    let baseline = serve.rss_kib();
    let started = Instant::now();
    let senders: Vec<_> = (0..300)
        .map(|_| {
            let addr = serve.addr;
            tokio::spawn(async move {
                let Ok(s) = TcpStream::connect(addr).await else {
                    return None;
                };
                let (mut read, mut write) = s.into_split();
                let head = webhook_head("/webhooks/woocommerce", Some(WRONG_SIGNATURE), 1 << 20);
                let sending = tokio::spawn(async move {
                    write.write_all(head.as_bytes()).await?;
                    // 1 MiB in 16 chunks, 50 ms apart.
                    let chunk = vec![b' '; 64 * 1024];
                    for _ in 0..16 {
                        write.write_all(&chunk).await?;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Ok::<_, std::io::Error>(write)
                });
                let mut reply = Vec::new();
                let _ =
                    tokio::time::timeout(Duration::from_secs(120), read.read_to_end(&mut reply))
                        .await;
                sending.abort();
                status_of(&reply)
            })
        })
        .collect();
    let mut peak = baseline;
    let mut statuses = std::collections::BTreeMap::new();
    let mut pending = senders;
    while !pending.is_empty() {
        peak = peak.max(serve.rss_kib());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (done, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|h| h.is_finished());
        for h in done {
            *statuses.entry(h.await.unwrap()).or_insert(0) += 1;
        }
        pending = rest;
    }
    let burst = started.elapsed();
    // Memory given back to the system may lag the last close a little; wait for it, within reason.
    let mut after = serve.rss_kib();
    let settle = Instant::now();
    while after > baseline + 16 * 1024 && settle.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        after = serve.rss_kib();
    }
    eprintln!(
        "RSS baseline {} MiB, peak {} MiB during 300 slow 1 MiB bodies ({burst:?}), after {} MiB; replies {statuses:?}",
        baseline / 1024,
        peak / 1024,
        after / 1024
    );
    assert_eq!(health(serve.addr, NEVER).await, Some(200));
    // Refused: 401 (read, signature wrong), 503 (the bodies' memory was spent), or — rarely, when the server
    // stops reading mid-body — a reset (None). Never accepted.
    assert!(
        statuses
            .keys()
            .all(|s| matches!(s, None | Some(401 | 408 | 503))),
        "every bogus body is refused: {statuses:?}"
    );
    // Bodies share 64 MiB (max_buffered_body_bytes), plus connection buffers: far below 300 × 1 MiB.
    assert!(
        peak <= baseline + 192 * 1024,
        "peak RSS {} MiB over a {} MiB baseline",
        peak / 1024,
        baseline / 1024
    );
    assert!(
        after <= baseline + 16 * 1024,
        "RSS stays at {} MiB after the burst (baseline {} MiB)",
        after / 1024,
        baseline / 1024
    );
}
