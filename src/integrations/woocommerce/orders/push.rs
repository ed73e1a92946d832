//! The status push to the store: a compare-and-set against the store status syncdesk last saw, with a note
//! listing every parcel that is looked for before it is ever sent again; then how far it got, recorded on
//! the link and in the sync log.

use super::{NOTE_SENDS, SYSTEM, Woo, client};
use crate::config::Config;
use crate::domain::LinkState;
use crate::domain::StatusKind;
use crate::domain::fulfilment::parcel_line;
use crate::domain::time::{Millis, now_ms, to_rfc3339};
use crate::engine::{BoxFuture, JobContext, JobError, JobHandler, SharedClient};
use crate::engine::{job_error, job_payload};
use crate::integrations::woocommerce::client::{WooClient, WooError, WooOrder};
use crate::store::sync_log::{self, Change};
use crate::store::{Job, Store, links, orders, statuses};
use chrono::SecondsFormat;
use serde::Deserialize;

/// Pushes an order's current status to the store (job `woo.push_status`).
pub struct PushStatus(Woo);

impl PushStatus {
    pub fn new(config: &Config) -> Self {
        PushStatus(SharedClient::new(client(&config.woocommerce)))
    }
}

#[derive(Deserialize, Clone, Copy)]
struct PushPayload {
    order_id: i64,
    link_id: i64,
    /// An operator chose syncdesk's status over a change made in the store: send it without comparing.
    #[serde(default)]
    force: bool,
}

/// A note a push adds, with the reference that finds it again.
#[derive(Debug, Clone)]
struct PlannedNote {
    /// The text, reference included.
    text: String,
    reference: String,
    for_customer: bool,
}

/// What a push must achieve, read from the store when the job runs (so it always pushes the latest state).
struct PushPlan {
    external_id: u64,
    number: String,
    /// The store status syncdesk wants.
    remote: String,
    note: Option<PlannedNote>,
    /// The store status syncdesk last saw; the push goes out only while the store still says it.
    expected: Option<String>,
}

impl JobHandler for PushStatus {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let p: PushPayload = job_payload(job)?;
            let client = self.0.get()?;
            let config = ctx.config.clone();
            let plan = ctx.with_store(move |s| plan_push(s, &config, &p)).await?;
            let plan = match plan {
                Planned::Nothing => return Ok(()),
                Planned::WaitingForOperator(message) => return Err(JobError::permanent(message)),
                Planned::Push(plan) => plan,
            };
            let outcome = push(client, &plan).await;
            let (link_id, job_id) = (p.link_id, job.id);
            let error = outcome.error.clone();
            ctx.with_store(move |s| {
                s.write(|tx| record_push(tx, link_id, job_id, &plan, &outcome))
                    .map_err(|e| JobError::retry(e.to_string()))
            })
            .await?;
            error.map_or(Ok(()), Err)
        })
    }
}

/// Records how far a push got: the status reached (so the store's echo is never taken for a new change),
/// a conflict found instead, or the error.
fn record_push(
    tx: &rusqlite::Connection,
    link_id: i64,
    job_id: i64,
    plan: &PushPlan,
    outcome: &PushOutcome,
) -> Result<(), crate::store::StoreError> {
    let now = now_ms();
    let before = links::get(tx, link_id)?.and_then(|l| l.remote_status);
    links::set_pushing(tx, link_id, None)?;
    if let Some((store_status, store_version)) = &outcome.conflict {
        let message = outcome
            .error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_default();
        if let Some(link) = links::get(tx, link_id)? {
            // Remember what the store says now; the fingerprint is left, so the next read imports the rest.
            links::record_remote(
                tx,
                link.id,
                Some(store_status),
                store_version.as_deref(),
                now,
            )?;
        }
        links::set_state(tx, link_id, LinkState::Conflict, Some(&message))?;
        let change = (before.as_deref(), store_status.as_str());
        return log_status(tx, plan, job_id, change, &message, now);
    }
    if outcome.status_reached {
        links::record_push(tx, link_id, &plan.remote, outcome.stamp.as_deref(), now)?;
    }
    match &outcome.error {
        Some(e) => links::set_state(tx, link_id, LinkState::Error, Some(&e.message))?,
        None => {
            let reason = if outcome.note_sent {
                format!("pushed to {SYSTEM}, with a note")
            } else {
                format!("pushed to {SYSTEM}")
            };
            let change = (before.as_deref(), plan.remote.as_str());
            log_status(tx, plan, job_id, change, &reason, now)?;
        }
    }
    Ok(())
}

/// The store status of the pushed order going from `old` to `new` in the sync log, done by the engine.
fn log_status(
    tx: &rusqlite::Connection,
    plan: &PushPlan,
    job_id: i64,
    (old, new): (Option<&str>, &str),
    reason: &str,
    now: Millis,
) -> Result<(), crate::store::StoreError> {
    let field = format!("{SYSTEM}.status");
    sync_log::record(
        tx,
        &Change {
            source: "engine",
            entity: "order",
            entity_key: &plan.number,
            field: &field,
            old_value: old,
            new_value: Some(new),
            reason: Some(reason),
            job_id: Some(job_id),
            ..Default::default()
        },
        now,
    )?;
    Ok(())
}

enum Planned {
    Nothing,
    /// The link is in conflict and no operator has chosen yet: the message says how to settle it.
    WaitingForOperator(String),
    Push(PushPlan),
}

/// Decides what to push. Marks the push in progress on the link.
fn plan_push(store: &mut Store, config: &Config, p: &PushPayload) -> Result<Planned, JobError> {
    let db = |e: crate::store::StoreError| JobError::retry(e.to_string());
    store
        .write(|tx| {
            let Some(link) = links::get(tx, p.link_id)? else {
                return Ok(Planned::Nothing);
            };
            let Some(order) = orders::get(tx, p.order_id)? else {
                return Ok(Planned::Nothing);
            };
            if link.sync_state == LinkState::Conflict && !p.force {
                return Ok(Planned::WaitingForOperator(format!(
                    "not sent: {} — settle it first (`syncdesk orders settle {} --keep store|syncdesk`, or :settle in the console)",
                    link.last_error
                        .as_deref()
                        .unwrap_or("the order changed in woocommerce after syncdesk last saw it"),
                    order.number
                )));
            }
            let workflow = statuses::load(tx)?;
            let Some(status) = workflow.get(order.status_id) else {
                return Ok(Planned::Nothing);
            };
            let Some(remote) = config.woocommerce.outbound(&status.name) else {
                return Ok(Planned::Nothing);
            };
            let Ok(external_id) = link.external_id.parse::<u64>() else {
                return Ok(Planned::Nothing);
            };
            let note = match status.kind {
                StatusKind::Shipped | StatusKind::Completed => {
                    let parcels = orders::shipments(tx, order.id)?;
                    shipping_note(&parcels).map(|text| {
                        let ids: Vec<String> = parcels.iter().map(|s| s.id.to_string()).collect();
                        PlannedNote::new(text, format!("{}/{}", order.number, ids.join("+")), true)
                    })
                }
                StatusKind::Cancelled => orders::history(tx, order.id)?.last().and_then(|h| {
                    h.note.clone().map(|reason| {
                        PlannedNote::new(
                            format!("Cancelled in syncdesk: {reason}"),
                            format!("{}/cancel-{}", order.number, h.id),
                            false,
                        )
                    })
                }),
                _ => None,
            };
            links::set_pushing(tx, link.id, Some(remote))?;
            Ok(Planned::Push(PushPlan {
                external_id,
                number: order.number,
                remote: remote.to_string(),
                note,
                expected: if p.force { None } else { link.remote_status },
            }))
        })
        .map_err(db)
}

impl PlannedNote {
    fn new(body: String, reference: String, for_customer: bool) -> Self {
        let reference = format!("syncdesk ref {reference}");
        PlannedNote {
            text: format!("{body}\n({reference})"),
            reference,
            for_customer,
        }
    }
}

/// The note a customer sees when the order ships: every parcel, one per line, naming the back office when
/// the shipments came from one. `None` when nothing was recorded as shipped.
pub fn shipping_note(parcels: &[orders::Shipment]) -> Option<String> {
    // A back office is a system that holds orders' lines once sent; other sources (a person, the
    // channel itself) name nobody.
    let from = |s: &orders::Shipment| match crate::integrations::by_name(&s.source) {
        Some(back_office) if back_office.holds_lines => format!(" from {}", back_office.title),
        _ => String::new(),
    };
    let line = |s: &orders::Shipment| {
        parcel_line(
            s.carrier.as_deref(),
            s.tracking.as_deref(),
            &to_rfc3339(s.shipped_at)[..10],
        )
    };
    match parcels {
        [] => None,
        [one] => Some(format!("Shipped{} — {}", from(one), line(one))),
        many => {
            let all_from = from(&many[0]);
            let same_source = many.iter().all(|s| from(s) == all_from);
            let mut text = format!(
                "Shipped in {} parcels{}:",
                many.len(),
                if same_source { all_from.as_str() } else { "" }
            );
            for (i, s) in many.iter().enumerate() {
                text.push_str(&format!("\n{}. {}", i + 1, line(s)));
            }
            Some(text)
        }
    }
}

/// How far a push got.
struct PushOutcome {
    status_reached: bool,
    /// The store's modification stamp after the status write.
    stamp: Option<String>,
    note_sent: bool,
    /// The store had moved to this status (and stamp) since syncdesk last saw it: nothing was sent.
    conflict: Option<(String, Option<String>)>,
    error: Option<JobError>,
}

fn stamp(o: &WooOrder) -> Option<String> {
    o.date_modified_gmt
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Sets the status — only if the store still says what syncdesk last saw — then adds the note unless one
/// with its reference is already there. A note whose answer was lost is looked for before it is resent.
async fn push(client: &WooClient, plan: &PushPlan) -> PushOutcome {
    let mut outcome = PushOutcome {
        status_reached: false,
        stamp: None,
        note_sent: false,
        conflict: None,
        error: None,
    };
    let failed = |mut outcome: PushOutcome, e: WooError| {
        outcome.error = Some(job_error(e));
        outcome
    };
    let current = match client.get_order(plan.external_id).await {
        Ok(o) => o,
        Err(e) => return failed(outcome, e),
    };
    outcome.stamp = stamp(&current);
    if current.status != plan.remote {
        if let Some(expected) = &plan.expected
            && current.status != *expected
        {
            let when = outcome.stamp.clone().unwrap_or_else(|| "?".into());
            outcome.error = Some(JobError::permanent(format!(
                "woocommerce order {} was changed in the store to '{}' (at {when}) after syncdesk last saw '{expected}'; '{}' was NOT sent, so the store's change is not overwritten. Settle it: keep the store's status, or push syncdesk's",
                plan.number, current.status, plan.remote
            )));
            outcome.conflict = Some((current.status.clone(), outcome.stamp.clone()));
            return outcome;
        }
        match client
            .update_order_status(plan.external_id, &plan.remote)
            .await
        {
            Ok(o) => outcome.stamp = stamp(&o),
            Err(e) => return failed(outcome, e),
        }
    }
    outcome.status_reached = true;
    let Some(note) = &plan.note else {
        return outcome;
    };
    for _ in 0..NOTE_SENDS {
        let notes = match client.list_order_notes(plan.external_id).await {
            Ok(n) => n,
            Err(e) => return failed(outcome, e),
        };
        if notes.iter().any(|n| n.note.contains(&note.reference)) {
            return outcome;
        }
        match client
            .add_order_note(plan.external_id, &note.text, note.for_customer)
            .await
        {
            Ok(_) => {
                outcome.note_sent = true;
                return outcome;
            }
            // The store may have added it before the answer was lost: look again before resending.
            Err(e) if e.is_retryable() => continue,
            Err(e) => return failed(outcome, e),
        }
    }
    outcome.error = Some(JobError::retry(format!(
        "woocommerce order {}: the note could not be confirmed after {NOTE_SENDS} tries",
        plan.number
    )));
    outcome
}
