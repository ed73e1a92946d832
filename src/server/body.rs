//! Reading a webhook's body on the receiver's terms, not the sender's: a byte cap refused with 413 as soon
//! as it is passed (before a byte is read when Content-Length already says so), one deadline for the whole
//! body refused with 408, and one memory budget shared by every body being received, refused with 503 when
//! spent. Memory is taken as bytes arrive, never on a sender's word, so a thousand senders dripping a byte
//! at a time hold a thousand small buffers, not a thousand declared megabytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{Body, BodyDataStream};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::config::ServerConfig;

/// The budget is counted in KiB, so that a budget of any size fits in a semaphore's permits.
const KIB: usize = 1024;
/// The first buffer of a body; it doubles from there, never past the body's cap or declared length.
const FIRST_BUFFER: usize = 4 * KIB;
/// After a refusal, what the sender still sends is read and dropped until the body's deadline, at most this
/// much, so it reads the refusal instead of a connection reset; nothing of it is kept.
const LINGER_BYTES: usize = 8 << 20;

/// The receiver's limits on request bodies, shared by every webhook route.
#[derive(Debug)]
pub struct BodyLimits {
    /// The largest body accepted (`server.max_body_bytes`).
    pub max_bytes: usize,
    /// Time from the end of the headers to the end of the body (`server.body_read_timeout_secs`).
    pub deadline: Duration,
    /// KiB of memory left for bodies being received (`server.max_buffered_body_bytes`).
    budget: Arc<Semaphore>,
    budget_bytes: usize,
    /// Bytes of buffer taken since [`BodyLimits::take_buffered`] last asked (what a burst left behind).
    buffered: AtomicUsize,
}

/// A body read in full, holding its share of the memory budget until it is dropped.
#[derive(Debug)]
pub struct ReceivedBody {
    bytes: Vec<u8>,
    _memory: Option<OwnedSemaphorePermit>,
}

impl std::ops::Deref for ReceivedBody {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl AsRef<[u8]> for ReceivedBody {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// Why a body was not read to the end. Each becomes a reply that closes the connection, since the
/// unread rest of the body cannot be skipped safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 413: more than the limit, declared or sent.
    TooLarge { limit: usize },
    /// 408: the body did not arrive within the deadline.
    TooSlow { deadline: Duration },
    /// 503: the bodies being received already use all the memory they may.
    Busy { budget: usize },
    /// 400: the connection broke or the framing was invalid.
    Broken(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, error) = match &self {
            Refusal::TooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("body larger than {limit} bytes (server.max_body_bytes)"),
            ),
            Refusal::TooSlow { deadline } => (
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "body not received within {} s (server.body_read_timeout_secs)",
                    deadline.as_secs()
                ),
            ),
            Refusal::Busy { budget } => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "bodies being received already use {budget} bytes (server.max_buffered_body_bytes); try again"
                ),
            ),
            Refusal::Broken(e) => (StatusCode::BAD_REQUEST, format!("body: {e}")),
        };
        let mut response = (status, axum::Json(json!({ "error": error }))).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        if matches!(self, Refusal::Busy { .. }) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

impl BodyLimits {
    pub fn from_config(server: &ServerConfig) -> Self {
        let budget_kib = (server.max_buffered_body_bytes / KIB).clamp(1, Semaphore::MAX_PERMITS);
        Self {
            max_bytes: server.max_body_bytes,
            deadline: Duration::from_secs(server.body_read_timeout_secs),
            budget: Arc::new(Semaphore::new(budget_kib)),
            budget_bytes: budget_kib * KIB,
            buffered: AtomicUsize::new(0),
        }
    }

    /// Bytes of body buffers held right now.
    pub fn in_flight(&self) -> usize {
        self.budget_bytes
            .saturating_sub(self.budget.available_permits() * KIB)
    }

    /// Bytes of body buffers taken since the last call.
    pub fn take_buffered(&self) -> usize {
        self.buffered.swap(0, Ordering::Relaxed)
    }

    /// Reads the whole body, at most `cap` bytes (itself at most `max_bytes`), within the deadline.
    pub async fn read(
        &self,
        headers: &HeaderMap,
        body: Body,
        cap: usize,
    ) -> Result<ReceivedBody, Refusal> {
        let deadline = Instant::now() + self.deadline;
        let mut frames = body.into_data_stream();
        let read = self.read_frames(headers, &mut frames, cap, deadline).await;
        if let Err(Refusal::TooLarge { .. } | Refusal::Busy { .. }) = &read {
            linger(headers, frames, deadline);
        }
        read
    }

    /// Refuses a request without reading its body (no signature, no secret): what the sender still sends
    /// is read and dropped until the body's deadline, so it sees the answer rather than a reset.
    pub fn refuse_unread(&self, headers: &HeaderMap, body: Body) {
        linger(
            headers,
            body.into_data_stream(),
            Instant::now() + self.deadline,
        );
    }

    async fn read_frames(
        &self,
        headers: &HeaderMap,
        frames: &mut BodyDataStream,
        cap: usize,
        deadline: Instant,
    ) -> Result<ReceivedBody, Refusal> {
        let cap = cap.min(self.max_bytes);
        let declared = declared_length(headers)?;
        if declared.is_some_and(|n| n > cap as u64) {
            return Err(Refusal::TooLarge { limit: cap });
        }
        // Not past what was declared (hyper refuses a body longer than its Content-Length).
        let ceiling = declared.map_or(cap, |n| n as usize);
        let mut buffer: Vec<u8> = Vec::new();
        let mut held: Option<OwnedSemaphorePermit> = None;
        loop {
            let chunk = match tokio::time::timeout_at(deadline, frames.next()).await {
                Err(_) => {
                    return Err(Refusal::TooSlow {
                        deadline: self.deadline,
                    });
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => return Err(Refusal::Broken(e.to_string())),
                Ok(Some(Ok(chunk))) => chunk,
            };
            let wanted = buffer.len() + chunk.len();
            if wanted > cap {
                return Err(Refusal::TooLarge { limit: cap });
            }
            if wanted > buffer.capacity() {
                let grown = wanted
                    .max(buffer.capacity() * 2)
                    .max(FIRST_BUFFER)
                    .min(ceiling.max(wanted));
                let held_kib = held.as_ref().map_or(0, |p| p.num_permits());
                let more = grown.div_ceil(KIB).saturating_sub(held_kib);
                let permit = u32::try_from(more)
                    .ok()
                    .and_then(|n| self.budget.clone().try_acquire_many_owned(n).ok())
                    .ok_or(Refusal::Busy {
                        budget: self.budget_bytes,
                    })?;
                match &mut held {
                    Some(h) => h.merge(permit),
                    None => held = Some(permit),
                }
                buffer.reserve_exact(grown - buffer.len());
                self.buffered.fetch_add(grown, Ordering::Relaxed);
            }
            buffer.extend_from_slice(&chunk);
        }
        Ok(ReceivedBody {
            bytes: buffer,
            _memory: held,
        })
    }
}

/// Reads and drops the rest of a refused body until `until` (at most [`LINGER_BYTES`]), after the reply.
/// Not when the sender asked `Expect: 100-continue`: it sends nothing before our answer, and reading would
/// invite it to.
fn linger(headers: &HeaderMap, mut frames: BodyDataStream, until: Instant) {
    if headers.contains_key(header::EXPECT) {
        return;
    }
    tokio::spawn(async move {
        let mut seen = 0usize;
        while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(until, frames.next()).await {
            seen += chunk.len();
            if seen > LINGER_BYTES {
                break;
            }
        }
    });
}

/// The body's declared length, if it declares one; an unreadable Content-Length is refused.
fn declared_length(headers: &HeaderMap) -> Result<Option<u64>, Refusal> {
    match headers.get(header::CONTENT_LENGTH) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Some)
            .ok_or_else(|| Refusal::Broken("Content-Length is not a number".into())),
    }
}
