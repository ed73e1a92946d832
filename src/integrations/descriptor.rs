//! What an integration declares about itself: a struct of plain functions and tables, one `static` per
//! system, so the parts that iterate the registry (engine, check, passes, Dashboard, webhook router, outbox)
//! never need to know which systems exist.

use std::sync::Arc;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use rusqlite::Connection;

use crate::config::Config;
use crate::domain::time::Millis;
use crate::domain::{JobKind, LinkState, Status};
use crate::engine::passes::PassEntry;
use crate::engine::{BoxFuture, HandlerRegistry, Schedule};
use crate::server::{BodyLimits, ServerState};
use crate::store::links::Link;
use crate::store::{NewJob, StoreError, jobs};

/// One external system, as the rest of syncdesk sees it.
pub struct Integration {
    /// The system's name: link `system`, order `channel`, config section, history `source`.
    pub name: &'static str,
    /// How an operator calls it: the product's own name, capitalised as its maker writes it.
    pub title: &'static str,
    /// Whether the configuration switches it on (the Dashboard shows it; `sync` refuses passes when off).
    pub enabled: fn(&Config) -> bool,
    /// Its place in lists: channels and back offices first, then the stock passes, then notifiers.
    pub role: Role,
    /// Every job kind it runs; the Dashboard judges its health by them.
    pub job_kinds: &'static [JobKind],
    /// The passes an operator can run now (`sync run X`, `:sync X`): each with the job kind the engine runs
    /// for it and the function that runs it in the foreground.
    pub passes: &'static [PassEntry],
    /// Registers its job handlers with their production dependencies (nothing when it is off: its jobs
    /// then wait, visibly, until it is configured).
    pub handlers: fn(&Config, &mut HandlerRegistry),
    /// The recurring jobs its configuration asks for.
    pub schedules: fn(&Config) -> Vec<Schedule>,
    /// `syncdesk check`: can it be reached, and is it set up as syncdesk needs?
    pub check: Option<CheckFn>,
    /// A sales channel's status push (mapping and business rules), for a channel orders come from.
    pub channel: Option<&'static ChannelPush>,
    /// What an order entering a status means for it (a back office's document, a mail), decided in the
    /// caller's transaction.
    pub on_status: Option<OnStatusFn>,
    /// Whether it holds orders' lines once sent (a back office): it is warned when a channel changes them.
    pub holds_lines: bool,
    /// Its webhook receiver, at `/webhooks/<name>`.
    pub webhook: Option<Webhook>,
    /// What it is to the stock and price passes: a back office they read, or the web store they write.
    pub stock_source: Option<crate::stock::StockSide>,
}

/// Where an integration stands in lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A sales channel or a back office: orders and stock go through it.
    System,
    /// It only tells people (mail): listed after everything it reports on.
    Notifier,
}

/// What `check` reports for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    pub name: String,
    /// `None`: not enabled, so not tried.
    pub result: Option<Result<String, String>>,
}

impl CheckLine {
    pub fn of(name: &str, result: Result<String, String>) -> Self {
        CheckLine {
            name: name.to_string(),
            result: Some(result),
        }
    }

    pub fn off(name: &str) -> Self {
        CheckLine {
            name: name.to_string(),
            result: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckOptions {
    /// Switch back on the store's webhooks to our receiver that it disabled or paused.
    pub enable_webhooks: bool,
}

pub type CheckFn = fn(Arc<Config>, CheckOptions) -> BoxFuture<'static, Vec<CheckLine>>;

/// A webhook receiver: the handler of `POST /webhooks/<name>`.
pub struct Webhook {
    pub handler:
        fn(Arc<ServerState>, Arc<BodyLimits>, HeaderMap, Body) -> BoxFuture<'static, Response>,
}

/// What the outbox does about one system when an order enters a status.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound {
    /// Send it: the channel's `enqueue` does.
    Push,
    /// Due, as `Push`, but the system will refuse it as things stand (a required code is missing, or it
    /// does not take this move from the order's current status there): the push pass says why on the
    /// order until it can be sent, and a dialog warns before the operator commits.
    PushHeld { reason: String },
    /// Run this job (kind, key, payload).
    Job {
        kind: JobKind,
        key: Option<String>,
        payload: serde_json::Value,
    },
    /// The system already shows it, or it does not concern the system: nothing to send.
    Nothing,
    /// Not sent, visibly: the link takes `state` and the sync log records `reason`.
    Skip { state: LinkState, reason: String },
}

/// An order entering a status, as an integration's `on_status` sees it.
pub struct StatusEntered<'a> {
    pub order_id: i64,
    pub status: &'a Status,
    /// Who caused it: `operator`, `engine`, or a system's name (a change that came from a system is not
    /// sent back to it).
    pub source: &'a str,
    /// The order's link to this integration, if it has one.
    pub own_link: Option<&'a Link>,
    pub now: Millis,
}

pub type OnStatusFn = fn(&Connection, &Config, &StatusEntered) -> Result<Outbound, StoreError>;

/// One sales channel's status push.
pub struct ChannelPush {
    /// Whether `status` goes out on `link` (mapping, business rules).
    pub check: fn(&Connection, &Config, &Status, &Link) -> Result<Outbound, StoreError>,
    /// Enqueues the push for the order behind `link`.
    pub enqueue: fn(&Connection, &Config, i64, &Link, Millis) -> Result<(), StoreError>,
    /// Whether a shipment alone (no status change) can change what is pushed.
    pub follows_shipments: bool,
    /// Whether a push for this order is waiting or running: a change read from the channel meanwhile, which
    /// syncdesk does not take, must stop that push rather than be overwritten by it.
    pub pending: fn(&Connection, i64, &Link) -> Result<bool, StoreError>,
    /// The channel's status as a syncdesk status name (`None`: not mapped).
    pub inbound: fn(&Config, &str) -> Option<String>,
    /// The job kind that pushes a status (settling a conflict cancels its dead ones).
    pub push_kind: JobKind,
    /// Pushes syncdesk's status over the channel's, even though the channel changed it (an operator
    /// settled a conflict that way); returns the job.
    pub force: fn(&Connection, &Config, i64, &Link, Millis) -> Result<i64, StoreError>,
}

/// Enqueues a job in the caller's transaction, with the configured attempt budget for its kind.
pub fn enqueue(
    conn: &Connection,
    config: &Config,
    kind: JobKind,
    key: Option<String>,
    payload: serde_json::Value,
    now: Millis,
) -> Result<i64, StoreError> {
    jobs::enqueue(
        conn,
        &NewJob {
            kind: kind.into(),
            key,
            payload: payload.to_string(),
            run_at: now,
            max_attempts: config.jobs.max_attempts_for(kind),
        },
        now,
    )
}
