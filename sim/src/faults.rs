//! Fault injection shared by the HTTP simulators: latency, random 500/503s, 429 + Retry-After, connection
//! resets and outage windows. Tests and the demo steer it through each simulator's `faults()`.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

#[derive(Debug, Default)]
struct FaultState {
    latency: Duration,
    jitter: Duration,
    error_rate: f64,
    throttle_left: u32,
    throttle_retry_after: u64,
    resets_left: u32,
    outage_until: Option<Instant>,
    /// Route (`"POST /orders/{id}/notes"`) → how many more requests on it are applied and then left unanswered.
    lost_answers: HashMap<String, u32>,
    /// Every `n`th request is throttled (429 + Retry-After), counted from when it was set.
    throttle_every: Option<(u32, u64)>,
    requests_seen: u64,
    /// Recurring outage: the first `length` of every `period`, from `since`.
    outage_cycle: Option<(Duration, Duration, Instant)>,
}

/// What to do with one request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// 503, no body worth reading: a host or WAF is down.
    Outage,
    /// 429 with `Retry-After: seconds`.
    Throttle(u64),
    /// Close the connection without answering.
    Reset,
    /// A random server error (500 or 503).
    ServerError(u16),
}

/// Shared, cheaply clonable fault settings.
#[derive(Debug, Clone, Default)]
pub struct FaultControls {
    state: Arc<Mutex<FaultState>>,
}

impl FaultControls {
    fn with<R>(&self, f: impl FnOnce(&mut FaultState) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Every request waits `fixed` plus a uniform random part of up to `jitter`.
    pub fn set_latency(&self, fixed: Duration, jitter: Duration) {
        self.with(|s| {
            s.latency = fixed;
            s.jitter = jitter;
        });
    }

    /// Fraction (0.0..=1.0) of requests answered with a random 500 or 503.
    pub fn set_error_rate(&self, rate: f64) {
        self.with(|s| s.error_rate = rate.clamp(0.0, 1.0));
    }

    /// The next `requests` requests get 429 with `Retry-After: retry_after_secs`.
    pub fn throttle_next(&self, requests: u32, retry_after_secs: u64) {
        self.with(|s| {
            s.throttle_left = requests;
            s.throttle_retry_after = retry_after_secs;
        });
    }

    /// The next `requests` requests have their connection dropped without a response.
    pub fn reset_next(&self, requests: u32) {
        self.with(|s| s.resets_left = requests);
    }

    /// Every request gets 503 for the next `duration`.
    pub fn outage_for(&self, duration: Duration) {
        self.outage_until(Instant::now() + duration);
    }

    /// Every request gets 503 until `until`.
    pub fn outage_until(&self, until: Instant) {
        self.with(|s| s.outage_until = Some(until));
    }

    pub fn end_outage(&self) {
        self.with(|s| {
            s.outage_until = None;
            s.outage_cycle = None;
        });
    }

    /// The next `n` requests on `route` (the simulator's `"METHOD /path/{id}"` naming, e.g.
    /// `"POST /orders/{id}/notes"`) are applied in full, then their connection is reset before any answer:
    /// the client sees a transport error although the store did the work. Other routes are unaffected.
    pub fn lose_answers_next(&self, route: &str, n: u32) {
        self.with(|s| {
            if n == 0 {
                s.lost_answers.remove(route);
            } else {
                s.lost_answers.insert(route.to_string(), n);
            }
        });
    }

    /// Every `n`th request from now on gets 429 with `Retry-After: retry_after_secs` (0 turns it off).
    pub fn throttle_every(&self, n: u32, retry_after_secs: u64) {
        self.with(|s| {
            s.throttle_every = (n > 0).then_some((n, retry_after_secs));
            s.requests_seen = 0;
        });
    }

    /// A recurring outage: every request gets 503 during the first `length` of each `period`, starting now.
    pub fn outage_every(&self, period: Duration, length: Duration) {
        self.with(|s| {
            s.outage_cycle =
                (!period.is_zero() && !length.is_zero()).then(|| (period, length, Instant::now()));
        });
    }

    /// Called once a request on `route` has been handled: true if its answer is to be lost (counts it down).
    pub(crate) fn take_lost_answer(&self, route: &str) -> bool {
        self.with(|s| {
            let Some(left) = s.lost_answers.get_mut(route) else {
                return false;
            };
            *left -= 1;
            if *left == 0 {
                s.lost_answers.remove(route);
            }
            true
        })
    }

    /// Back to a healthy store.
    pub fn clear(&self) {
        self.with(|s| *s = FaultState::default());
    }

    /// Decides the fate of one request; the latency to add comes back separately so it is slept unlocked.
    pub(crate) fn draw(&self) -> (Duration, Option<Fault>) {
        self.with(|s| {
            let jitter_ms = u64::try_from(s.jitter.as_millis()).unwrap_or(u64::MAX);
            let delay = s.latency + Duration::from_millis(fastrand::u64(0..=jitter_ms));
            s.requests_seen += 1;
            let now = Instant::now();
            let in_outage_cycle = s.outage_cycle.is_some_and(|(period, length, since)| {
                let elapsed = now.duration_since(since).as_nanos();
                elapsed % period.as_nanos() < length.as_nanos()
            });
            let fault = if s.outage_until.is_some_and(|until| now < until) || in_outage_cycle {
                Some(Fault::Outage)
            } else if s.resets_left > 0 {
                s.resets_left -= 1;
                Some(Fault::Reset)
            } else if s.throttle_left > 0 {
                s.throttle_left -= 1;
                Some(Fault::Throttle(s.throttle_retry_after))
            } else if let Some((n, retry_after)) = s.throttle_every
                && s.requests_seen % u64::from(n) == 0
            {
                Some(Fault::Throttle(retry_after))
            } else if s.error_rate > 0.0 && fastrand::f64() < s.error_rate {
                Some(Fault::ServerError(if fastrand::bool() { 500 } else { 503 }))
            } else {
                None
            };
            (delay, fault)
        })
    }
}

/// Per-connection switch a handler flips to make the connection fail instead of answering.
#[derive(Debug, Clone)]
pub(crate) struct ConnKill {
    killed: Arc<AtomicBool>,
}

impl ConnKill {
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, KillableListener>>
    for ConnKill
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().1.clone()
    }
}

/// A TCP listener whose connections can be reset from inside a handler (see `ConnKill`).
pub(crate) struct KillableListener(pub TcpListener);

impl axum::serve::Listener for KillableListener {
    type Io = KillableStream;
    type Addr = (SocketAddr, ConnKill);

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, remote)) => {
                    let kill = ConnKill {
                        killed: Arc::new(AtomicBool::new(false)),
                    };
                    let io = KillableStream {
                        inner: stream,
                        killed: kill.killed.clone(),
                    };
                    return (io, (remote, kill));
                }
                // Out of file descriptors and the like: wait a moment rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        let kill = ConnKill {
            killed: Arc::new(AtomicBool::new(false)),
        };
        Ok((self.0.local_addr()?, kill))
    }
}

pub(crate) struct KillableStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

impl KillableStream {
    /// Once killed, every I/O call fails, so the server drops the socket; zero linger makes that an RST.
    fn check(&self) -> io::Result<()> {
        if self.killed.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "reset injected by the simulator",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
