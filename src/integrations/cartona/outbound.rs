//! A marketplace order's status push as the store sees it: the mapping and the delivery-responsibility rule
//! (`rules`) applied to the order's status, shipments and notes, plus the retailer's OTP and the
//! cancellation reason. One plan serves the outbox (what to enqueue), the push pass and its dry run.

use rusqlite::Connection;
use serde::Serialize;

use super::PUSH_STATUSES;
use super::rules::{self as marketplace, DeliveredBy, DeliveryState, Verdict};
use crate::app::{App, AppError, Result as AppResult};
use crate::config::{Config, OtpPolicy};
use crate::domain::time::Millis;
use crate::domain::{LinkState, Status, Workflow};
use crate::integrations::{ChannelPush, Outbound, enqueue};
use crate::store::links::{self, Link};
use crate::store::marketplace::{self as facts, MarketplaceOrder};
use crate::store::{StoreError, orders};

/// The marketplace this module plans for (the link `system` and the order `channel`).
pub const SYSTEM: &str = "cartona";

/// Cancellation reasons Cartona knows (an operator's note naming one sends it).
pub const CANCELLATION_REASONS: [&str; 6] = [
    "out_of_stock",
    "price_changed",
    "retailer_request",
    "cannot_deliver",
    "duplicate_order",
    "other",
];

/// What pushing one order's status means, decided from the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushPlan {
    pub link_id: i64,
    pub order_id: i64,
    pub number: String,
    /// Cartona's `hashed_id`.
    pub external_id: String,
    pub status: String,
    pub delivery: DeliveryState,
    pub delivered_by: DeliveredBy,
    pub verdict: Verdict,
    /// The Cartona status last read or written.
    pub remote_status: Option<String>,
    pub retailer_otp: Option<String>,
    pub cancellation_reason: Option<String>,
    /// Why this push cannot be sent as it stands (e.g. a required OTP is missing).
    pub problem: Option<String>,
    /// Cartona's creation time (RFC 3339), where the verifying re-read starts.
    pub remote_created_at: Option<String>,
}

impl PushPlan {
    /// The Cartona status to send, when the rules allow one and Cartona does not already show it.
    pub fn to_send(&self) -> Option<&str> {
        match &self.verdict {
            Verdict::Allowed { status } if self.remote_status.as_deref() != Some(status) => {
                Some(status)
            }
            _ => None,
        }
    }
}

/// Plans the push of the order behind `link` as it stands now; `None` if the order is gone.
pub fn plan(
    conn: &Connection,
    workflow: &Workflow,
    config: &Config,
    link: &Link,
) -> Result<Option<PushPlan>, StoreError> {
    let Some(order) = orders::get(conn, link.local_id)? else {
        return Ok(None);
    };
    let Some(status) = workflow.get(order.status_id) else {
        return Ok(None);
    };
    let facts = facts::get(conn, link.id)?.unwrap_or(MarketplaceOrder {
        link_id: link.id,
        delivered_by: DeliveredBy::Supplier,
        requires_otp: false,
        remote_created_at: None,
        push_due: false,
        retailer_otp: None,
    });
    let delivery = DeliveryState::of_lines(
        orders::lines(conn, order.id)?
            .iter()
            .map(|l| (l.quantity, l.quantity_shipped)),
    );
    let cfg = &config.cartona;
    let verdict = marketplace::decide(
        cfg.mapping,
        &cfg.status_out,
        &cfg.status_out_enhanced,
        &status.name,
        delivery,
        facts.delivered_by,
    );
    let mut plan = PushPlan {
        link_id: link.id,
        order_id: order.id,
        number: order.number.clone(),
        external_id: link.external_id.clone(),
        status: status.name.clone(),
        delivery,
        delivered_by: facts.delivered_by,
        verdict,
        remote_status: link.remote_status.clone(),
        retailer_otp: None,
        cancellation_reason: None,
        problem: None,
        remote_created_at: facts.remote_created_at.clone(),
    };
    if let Some(refusal) = plan
        .to_send()
        .and_then(|to| marketplace::move_refused(plan.remote_status.as_deref(), to))
    {
        plan.problem = Some(format!("order {}: {refusal}", order.number));
        return Ok(Some(plan));
    }
    match plan.to_send() {
        Some(marketplace::DELIVERED) => {
            // One typed with `orders otp` wins over one found in a note: it was entered for this purpose.
            plan.retailer_otp = match facts.retailer_otp.clone() {
                Some(otp) => Some(otp),
                None => latest_otp(conn, order.id)?,
            };
            let needed = facts.requires_otp || cfg.otp == OtpPolicy::Always;
            if needed && plan.retailer_otp.is_none() {
                plan.problem = Some(format!(
                    "cartona needs the retailer's OTP to mark order {} delivered: write it in the note of \
                     the shipment or status change (e.g. \"otp 4821\"), or enter it with \
                     `syncdesk orders otp {} CODE`",
                    order.number, order.number
                ));
            }
        }
        Some(marketplace::CANCELLED) => {
            let note = orders::history(conn, order.id)?
                .into_iter()
                .rev()
                .find(|h| h.to_status_id == order.status_id)
                .and_then(|h| h.note);
            plan.cancellation_reason = Some(marketplace::reason_in_note(
                note.as_deref(),
                &CANCELLATION_REASONS,
                &cfg.cancellation_reason,
            ));
        }
        _ => {}
    }
    Ok(Some(plan))
}

/// The newest OTP an operator wrote in a status-change or shipment note.
fn latest_otp(conn: &Connection, order_id: i64) -> Result<Option<String>, StoreError> {
    let mut notes: Vec<(i64, String)> = orders::history(conn, order_id)?
        .into_iter()
        .filter_map(|h| h.note.map(|n| (h.changed_at, n)))
        .collect();
    notes.extend(
        orders::shipments(conn, order_id)?
            .into_iter()
            .filter_map(|s| s.notes.map(|n| (s.shipped_at, n))),
    );
    notes.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    Ok(notes.iter().find_map(|(_, n)| marketplace::otp_in_note(n)))
}

/// The outbox's decision for a marketplace link when `status` is entered: push (mark due), or why not.
fn check(
    conn: &Connection,
    config: &Config,
    status: &Status,
    link: &Link,
) -> Result<Outbound, StoreError> {
    let workflow = crate::store::statuses::load(conn)?;
    let Some(plan) = plan(conn, &workflow, config, link)? else {
        return Ok(Outbound::Nothing);
    };
    debug_assert_eq!(plan.status, status.name);
    Ok(match &plan.verdict {
        Verdict::Allowed { .. } if plan.to_send().is_none() => Outbound::Nothing,
        Verdict::Allowed { .. } => match &plan.problem {
            Some(problem) => Outbound::PushHeld {
                reason: problem.clone(),
            },
            None => Outbound::Push,
        },
        Verdict::Blocked { reason, .. } => Outbound::Skip {
            state: LinkState::Blocked,
            reason: reason.clone(),
        },
        Verdict::Unmapped { reason } => Outbound::Skip {
            state: LinkState::Unmapped,
            reason: reason.clone(),
        },
    })
}

/// Marks the link due and (re)queues the one bulk pass that collects every due push.
fn push(
    conn: &Connection,
    config: &Config,
    order_id: i64,
    link: &Link,
    now: Millis,
) -> Result<(), StoreError> {
    force(conn, config, order_id, link, now).map(|_| ())
}

fn force(
    conn: &Connection,
    config: &Config,
    _order_id: i64,
    link: &Link,
    now: Millis,
) -> Result<i64, StoreError> {
    facts::set_push_due(conn, link.id, true, now)?;
    links::set_state(conn, link.id, LinkState::Pending, None)?;
    enqueue(
        conn,
        config,
        PUSH_STATUSES,
        Some(SYSTEM.into()),
        serde_json::json!({}),
        now,
    )
}

fn pending(conn: &Connection, _order_id: i64, link: &Link) -> Result<bool, StoreError> {
    Ok(facts::get(conn, link.id)?.is_some_and(|m| m.push_due))
}

fn inbound(config: &Config, remote: &str) -> Option<String> {
    config.cartona.inbound(remote).map(str::to_string)
}

pub static CHANNEL: ChannelPush = ChannelPush {
    check,
    enqueue: push,
    follows_shipments: true,
    pending,
    inbound,
    push_kind: PUSH_STATUSES,
    force,
};

impl App {
    /// The operator's confirmation that the OTP of order `number` was recorded.
    pub fn retailer_otp_recorded(&self, number: &str) -> String {
        format!(
            "OTP recorded for {number}; its {} status goes out again with it",
            super::INTEGRATION.title
        )
    }

    /// Records the retailer's delivery OTP for a marketplace order (read from the retailer at the door, often
    /// after the order was completed) and pushes the order's status again with it. The code is not logged.
    pub fn set_retailer_otp(&mut self, reference: &str, otp: &str) -> AppResult<String> {
        let otp = otp.trim();
        if otp.is_empty() || otp.len() > 16 || !otp.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(AppError::Rejected(format!(
                "otp: {otp:?} is not an OTP (1–16 letters or digits)"
            )));
        }
        let config = self.config().clone();
        let actor = self.actor().clone();
        let workflow = self.workflow().clone();
        self.store().write(|tx| {
            let order = orders::find(tx, reference)?
                .ok_or_else(|| AppError::OrderNotFound(reference.to_string()))?;
            let link = crate::store::links::for_local(tx, "order", order.id)?
                .into_iter()
                .find(|l| l.system == SYSTEM)
                .ok_or_else(|| {
                    AppError::Rejected(format!(
                        "order {} did not come from {SYSTEM}: no OTP to give",
                        order.number
                    ))
                })?;
            let now = crate::domain::time::now_ms();
            facts::set_retailer_otp(tx, link.id, otp, now)?;
            crate::store::sync_log::record(
                tx,
                &crate::store::sync_log::Change {
                    source: "operator",
                    entity: "order",
                    entity_key: &order.number,
                    field: "cartona.retailer_otp",
                    reason: Some("retailer OTP entered (the code is not logged)"),
                    actor: Some(&actor.name),
                    ..Default::default()
                },
                now,
            )?;
            let status = workflow.get(order.status_id).ok_or_else(|| {
                AppError::Rejected(format!("order {} has an unknown status", order.number))
            })?;
            crate::app::push_again(tx, &config, &actor, order.id, status, SYSTEM, now)?;
            Ok(order.number)
        })
    }
}
