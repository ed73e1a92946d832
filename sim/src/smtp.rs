//! A small SMTP sink on loopback: accepts mail from any sender to any recipient and keeps it in memory, so
//! tests and the demo can see exactly what syncdesk sent. Speaks enough RFC 5321 for real clients (lettre):
//! EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent, with dot-stuffing undone.
    pub data: String,
}

impl ReceivedMail {
    /// The value of a header (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    v.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_string());
            }
        }
        value
    }

    pub fn body(&self) -> &str {
        self.data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("")
    }
}

/// A running sink. Dropping it does not stop it; call [`SmtpSink::shutdown`].
pub struct SmtpSink {
    addr: SocketAddr,
    inbox: Arc<Mutex<Vec<ReceivedMail>>>,
    arrived: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// Listens on `addr` (port 0 picks a free one).
    pub async fn start(addr: SocketAddr) -> std::io::Result<SmtpSink> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let (inbox2, arrived2) = (inbox.clone(), arrived.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (inbox, arrived) = (inbox2.clone(), arrived2.clone());
                tokio::spawn(async move {
                    if let Err(e) = session(stream, &inbox, &arrived).await {
                        tracing::debug!(error = %e, "smtp sink session ended");
                    }
                });
            }
        });
        Ok(SmtpSink {
            addr,
            inbox,
            arrived,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.inbox.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Waits until at least `n` messages have arrived, or the timeout passes; returns what is there.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.arrived.notified();
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.messages();
            }
        }
    }

    /// Stops listening (the port is free again once this returns).
    pub async fn shutdown(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

async fn session(
    stream: TcpStream,
    inbox: &Mutex<Vec<ReceivedMail>>,
    arrived: &Notify,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write
        .write_all(b"220 syncdesk-sink ESMTP ready\r\n")
        .await?;
    let (mut from, mut to) = (String::new(), Vec::<String>::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-syncdesk-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 syncdesk-sink\r\n",
            "MAIL" => {
                from = address(command);
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                to.push(address(command));
                b"250 OK\r\n"
            }
            "DATA" if to.is_empty() => b"503 need RCPT first\r\n",
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let data = read_data(&mut lines).await?;
                if let Ok(mut m) = inbox.lock() {
                    m.push(ReceivedMail {
                        from: from.clone(),
                        to: std::mem::take(&mut to),
                        data,
                    });
                }
                arrived.notify_waiters();
                b"250 OK queued\r\n"
            }
            "RSET" => {
                from.clear();
                to.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// `MAIL FROM:<a@b> SIZE=1` → `a@b`.
fn address(command: &str) -> String {
    let start = command.find('<').map(|i| i + 1).unwrap_or(0);
    let end = command[start..]
        .find('>')
        .map(|i| start + i)
        .unwrap_or(command.len());
    command[start..end].to_string()
}

async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(lines: &mut R) -> std::io::Result<String> {
    let mut data = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed inside DATA",
            ));
        }
        if line == ".\r\n" || line == ".\n" {
            return Ok(data);
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
    }
}
