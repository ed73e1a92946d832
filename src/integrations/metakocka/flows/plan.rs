//! What one order's sales order needs next: the order read in one transaction ([`OrderView`]) and the
//! pure rules that turn it, its link and the status mapping into a [`Step`].

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::super::SYSTEM;
use super::super::outbound::is_pending;
use crate::config::MetakockaSection;
use crate::domain::time::now_ms;
use crate::domain::{LinkState, Status, StatusKind, Workflow};
use crate::integrations::metakocka::client::{DocRef, DocumentUpdate};
use crate::store::{StoreError, inventory, links, orders};

/// Everything the decision needs about one order, read in one transaction.
#[derive(Clone)]
pub(super) struct OrderView {
    pub(super) id: i64,
    pub(super) number: String,
    pub(super) customer: Option<String>,
    pub(super) status: Status,
    pub(super) link: Option<links::Link>,
    /// (Metakocka product code, quantity), merged per code.
    pub(super) lines: Vec<(String, i64)>,
    pub(super) shipments: Vec<orders::Shipment>,
    /// The note of the move into the current status (a cancellation's reason).
    pub(super) last_note: Option<String>,
}

/// The next thing to do for an order.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step {
    /// The sales order already says what the order says.
    Done,
    /// A `put_document` may have gone through unanswered: look it up by `buyer_order` first; create it when
    /// absent and `create` says so.
    LookUp {
        create: bool,
    },
    Create,
    Update {
        link_id: i64,
        doc: DocRef,
        code: String,
        update: DocumentUpdate,
        /// What the status does to the reservation, for the sync log.
        effect: Option<&'static str>,
    },
    /// Not sent, and why (the link says it; the job fails so it shows among errors and can be retried).
    Refuse(String),
    /// Nothing to send for this status (it has no mapping); recorded on the link.
    Unmapped(String),
}

pub(super) fn load_view(
    conn: &rusqlite::Connection,
    workflow: &Workflow,
    order_id: i64,
) -> Result<Option<OrderView>, StoreError> {
    let Some(order) = orders::get(conn, order_id)? else {
        return Ok(None);
    };
    let Some(status) = workflow.get(order.status_id).cloned() else {
        return Ok(None);
    };
    let link = links::for_local(conn, "order", order_id)?
        .into_iter()
        .find(|l| l.system == SYSTEM);
    let mut merged: BTreeMap<String, i64> = BTreeMap::new();
    for line in orders::lines(conn, order_id)? {
        *merged.entry(product_code(conn, &line.sku)).or_default() += line.quantity;
    }
    let last_note = orders::history(conn, order_id)?
        .last()
        .and_then(|h| h.note.clone());
    Ok(Some(OrderView {
        id: order.id,
        number: order.number,
        customer: order.customer,
        status,
        link,
        lines: merged.into_iter().collect(),
        shipments: orders::shipments(conn, order_id)?,
        last_note,
    }))
}

/// The store's SKU becomes the back office's product code through the alignment, when aligned.
fn product_code(conn: &rusqlite::Connection, sku: &str) -> String {
    inventory::find(conn, sku)
        .ok()
        .flatten()
        .filter(|a| a.store_sku == sku)
        .map_or(sku.to_string(), |a| a.pos_sku)
}

/// Decides the next step from the order, its link and the mapping; pure, so every rule is in one place.
pub(super) fn decide(view: &OrderView, mk: &MetakockaSection, workflow: &Workflow) -> Step {
    let kind = view.status.kind;
    let shipping = matches!(kind, StatusKind::Shipped | StatusKind::Completed);
    let link = match &view.link {
        Some(link) if !is_pending(link) => link,
        pending => {
            // Not there yet. A cancelled order is not created; anything else that was sent once is.
            let create = kind != StatusKind::Cancelled;
            return match pending {
                Some(link) if link.sync_state == LinkState::Sending => Step::LookUp { create },
                _ if create => Step::Create,
                _ => Step::Done,
            };
        }
    };
    let Some(code) = mk.outbound(&view.status.name) else {
        return Step::Unmapped(format!(
            "status {} has no metakocka mapping (metakocka.status_out); nothing sent",
            view.status.name
        ));
    };
    let remote = link.remote_status.as_deref();
    if remote == Some(code) && !shipping {
        return Step::Done;
    }
    // The document's own state must allow the move: nothing leaves a final status, a shipped order does
    // not go back to an open one.
    if let Some(current) = remote.filter(|r| *r != code)
        && let Some(there) = mk.inbound(current).and_then(|n| workflow.by_name(n).ok())
        && (there.kind.is_final() || (there.kind == StatusKind::Shipped && !shipping))
    {
        return Step::Refuse(format!(
            "Metakocka sales order {} is '{current}' ({}); moving it to '{code}' ({}) is not allowed — nothing sent",
            link.external_id, there.name, view.status.name
        ));
    }
    let mut update = DocumentUpdate {
        status_code: Some(code.to_string()),
        ..DocumentUpdate::default()
    };
    let effect = match kind {
        StatusKind::Shipped | StatusKind::Completed => {
            let shipped_at = view
                .shipments
                .iter()
                .map(|s| s.shipped_at)
                .max()
                .unwrap_or_else(now_ms);
            update.shipped_date = Some(date_of(shipped_at));
            let tracking: Vec<&str> = view
                .shipments
                .iter()
                .filter_map(|s| s.tracking.as_deref())
                .collect();
            update.tracking_code = Some(tracking.join(", ")).filter(|t| !t.is_empty());
            update.delivery_type = view.shipments.iter().rev().find_map(|s| s.carrier.clone());
            update.notes = Some(shipping_notes(&view.shipments));
            Some("reservation consumed (shipped)")
        }
        StatusKind::Cancelled => {
            let reason = view.last_note.as_deref().unwrap_or("no reason given");
            update.notes = Some(format!("Cancelled in syncdesk: {reason}"));
            Some("reservation released (cancelled)")
        }
        _ => None,
    };
    Step::Update {
        link_id: link.id,
        doc: DocRef::MkId(link.external_id.clone()),
        code: code.to_string(),
        update,
        effect,
    }
}

fn date_of(ms: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .date_naive()
}

/// The document's notes for a shipment: what was recorded in syncdesk, one shipment per line.
fn shipping_notes(shipments: &[orders::Shipment]) -> String {
    if shipments.is_empty() {
        return "Shipped in syncdesk".into();
    }
    shipments
        .iter()
        .map(|s| {
            let mut parts = vec![format!("Shipped {}", date_of(s.shipped_at))];
            parts.extend(s.carrier.clone());
            parts.extend(s.tracking.as_ref().map(|t| format!("tracking {t}")));
            parts.extend(s.notes.clone());
            parts.join(", ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}
