//! Order commands (add, change status, ship, fulfil, cancel) and queries (list, detail, status counts).
//! Each command: load the order inside the write transaction, check the caller's version, apply the domain
//! rule, write state + history + jobs, commit. A final status archives the order.

use rusqlite::Connection;
use serde::Serialize;

use super::{Actor, App, AppError, Result, effects};
use crate::config::Config;
use crate::domain::Permission;
use crate::domain::fulfilment::{is_fully_shipped, is_unshipped, plan_remaining, plan_shipment};
use crate::domain::time::{Millis, now_ms, to_rfc3339};
use crate::domain::{Status, StatusKind, Workflow};
use crate::store::orders::{self as order_rows, NewShipment};
use crate::store::{NewOrder, OrderFilter, OrderLine, OrderRow, OrderSummary, Shipment};

/// A status as listed: its rules and how many active orders sit in it.
#[derive(Debug, Clone, Serialize)]
pub struct StatusSummary {
    pub id: i64,
    pub name: String,
    pub kind: StatusKind,
    pub pickable: bool,
    pub is_final: bool,
    pub allowed_next: Vec<String>,
    pub active_orders: i64,
}

/// One history row with status names resolved, as shown and printed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryView {
    pub from: Option<String>,
    pub to: String,
    pub by: String,
    pub at: String,
    pub source: String,
    pub note: Option<String>,
}

/// Everything about one order.
#[derive(Debug, Clone, Serialize)]
pub struct OrderDetail {
    pub id: i64,
    pub number: String,
    pub channel: String,
    pub customer: Option<String>,
    pub status: String,
    pub status_kind: StatusKind,
    pub archived: bool,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub updated_by: String,
    pub lines: Vec<OrderLine>,
    pub shipments: Vec<Shipment>,
    pub history: Vec<HistoryView>,
    /// Statuses an operator may move this order to now.
    pub allowed_next: Vec<String>,
}

/// What a status command did.
#[derive(Debug, Clone, Serialize)]
pub struct StatusChange {
    pub order: String,
    pub from: String,
    pub to: String,
    pub version: i64,
    pub archived: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ShipmentDetails {
    pub tracking: Option<String>,
    pub carrier: Option<String>,
    pub notes: Option<String>,
}

/// What a shipment command did.
#[derive(Debug, Clone, Serialize)]
pub struct ShipOutcome {
    pub order: String,
    pub shipment_id: i64,
    pub shipped: Vec<(String, i64)>,
    pub completed: bool,
    pub status: String,
    pub version: i64,
}

impl App {
    pub fn status_summaries(&mut self) -> Result<Vec<StatusSummary>> {
        let counts = crate::store::statuses::active_counts(self.store.conn())?;
        Ok(self
            .workflow
            .statuses()
            .iter()
            .map(|s| StatusSummary {
                id: s.id,
                name: s.name.clone(),
                kind: s.kind,
                pickable: s.pickable,
                is_final: s.kind.is_final(),
                allowed_next: self
                    .workflow
                    .allowed_from(s.id)
                    .iter()
                    .map(|t| t.name.clone())
                    .collect(),
                active_orders: counts.get(&s.id).copied().unwrap_or(0),
            })
            .collect())
    }

    /// Creates an order in the first open status. `lines` are (SKU, quantity).
    pub fn add_order(
        &mut self,
        number: &str,
        customer: Option<&str>,
        channel: &str,
        lines: &[(String, i64)],
    ) -> Result<OrderDetail> {
        self.require(Permission::AddOrders)?;
        let number = number.trim();
        if number.is_empty() {
            return Err(AppError::Rejected("--number: must not be empty".into()));
        }
        if number.starts_with('#') {
            return Err(AppError::Rejected(format!(
                "--number {number}: must not start with '#', which marks an id"
            )));
        }
        if lines.is_empty() {
            return Err(AppError::Rejected(
                "--line: an order needs at least one line (SKU=QTY)".into(),
            ));
        }
        for (sku, qty) in lines {
            if sku.trim().is_empty() {
                return Err(AppError::Rejected("--line: SKU must not be empty".into()));
            }
            if *qty <= 0 {
                return Err(AppError::Rejected(format!(
                    "--line {sku}: quantity must be positive, got {qty}"
                )));
            }
        }
        let start = self
            .workflow
            .first_of_kind(StatusKind::Open)
            .cloned()
            .ok_or_else(|| AppError::Rejected("no open status is configured".into()))?;
        let actor = self.actor.clone();
        let id = self.store.write(|tx| -> Result<i64> {
            if order_rows::number_exists(tx, number)? {
                return Err(AppError::Rejected(format!("order {number} already exists")));
            }
            let now = now_ms();
            let order = NewOrder {
                number: number.to_string(),
                channel: channel.to_string(),
                customer: customer
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(String::from),
                status_id: start.id,
                ship_to: None,
                history: false,
                lines: lines
                    .iter()
                    .map(|(sku, qty)| (sku.trim().to_string(), None, *qty))
                    .collect(),
            };
            let id = order_rows::insert(tx, &order, &actor.name, now)?;
            order_rows::insert_history(
                tx,
                id,
                None,
                start.id,
                &actor.name,
                &actor.source,
                Some("created"),
                now,
            )?;
            Ok(id)
        })?;
        self.order(&format!("#{id}"))
    }

    pub fn order(&mut self, reference: &str) -> Result<OrderDetail> {
        let workflow = &self.workflow;
        self.store.snapshot(|tx| {
            let row = order_rows::find(tx, reference)?
                .ok_or_else(|| AppError::OrderNotFound(reference.to_string()))?;
            detail(tx, workflow, row)
        })
    }

    /// A page of orders. A final status implies archived orders (that is where they live).
    pub fn list_orders(
        &mut self,
        status: Option<&str>,
        archived: bool,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<OrderSummary>> {
        let filter = self.order_filter(status, archived, search, limit, offset)?;
        Ok(order_rows::list(self.store.conn(), &filter)?)
    }

    /// How many orders [`App::list_orders`] would list with no limit (to say when a list is cut).
    pub fn count_orders(
        &mut self,
        status: Option<&str>,
        archived: bool,
        search: Option<&str>,
    ) -> Result<i64> {
        let filter = self.order_filter(status, archived, search, 0, 0)?;
        Ok(order_rows::count(self.store.conn(), &filter)?)
    }

    fn order_filter(
        &self,
        status: Option<&str>,
        archived: bool,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<OrderFilter> {
        let status = status.map(|s| self.workflow.by_name(s)).transpose()?;
        Ok(OrderFilter {
            status_id: status.map(|s| s.id),
            archived: archived || status.is_some_and(|s| s.kind.is_final()),
            search: search.map(String::from),
            limit,
            offset,
        })
    }

    /// An operator moves an order to another status. `expected_version` is the version the caller saw.
    pub fn change_status(
        &mut self,
        reference: &str,
        status: &str,
        note: Option<&str>,
        expected_version: Option<i64>,
    ) -> Result<StatusChange> {
        let to = self.workflow.by_name(status)?.clone();
        self.require(if to.kind == StatusKind::Cancelled {
            Permission::CancelOrders
        } else {
            Permission::ChangeStatuses
        })?;
        if to.kind == StatusKind::Cancelled && note.is_none_or(|n| n.trim().is_empty()) {
            return Err(AppError::Rejected(format!(
                "moving to {} needs a reason: give --note, or use `orders cancel --reason`",
                to.name
            )));
        }
        let (workflow, config, actor) = (&self.workflow, &self.config, &self.actor);
        self.store.write(|tx| {
            let order = load_for_change(tx, reference, expected_version)?;
            check_move(tx, workflow, &order, &to)?;
            let now = now_ms();
            claim_version(tx, &order, actor, now)?;
            enter_status(tx, workflow, config, actor, &order, &to, note, now)
        })
    }

    /// Cancels an order with a required reason.
    pub fn cancel(
        &mut self,
        reference: &str,
        reason: &str,
        expected_version: Option<i64>,
    ) -> Result<StatusChange> {
        self.require(Permission::CancelOrders)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::Rejected(
                "--reason: a cancellation needs a reason".into(),
            ));
        }
        let cancelled = self
            .workflow
            .first_of_kind(StatusKind::Cancelled)
            .ok_or_else(|| AppError::Rejected("no cancelled status is configured".into()))?
            .name
            .clone();
        self.change_status(reference, &cancelled, Some(reason), expected_version)
    }

    /// Records a shipment of some lines; completes the order when every line is covered.
    pub fn ship(
        &mut self,
        reference: &str,
        lines: &[(String, i64)],
        details: &ShipmentDetails,
        expected_version: Option<i64>,
    ) -> Result<ShipOutcome> {
        self.record_shipment(reference, Some(lines), details, expected_version)
    }

    /// Ships everything still open on the order.
    pub fn fulfill(
        &mut self,
        reference: &str,
        details: &ShipmentDetails,
        expected_version: Option<i64>,
    ) -> Result<ShipOutcome> {
        self.record_shipment(reference, None, details, expected_version)
    }

    fn record_shipment(
        &mut self,
        reference: &str,
        lines: Option<&[(String, i64)]>,
        details: &ShipmentDetails,
        expected_version: Option<i64>,
    ) -> Result<ShipOutcome> {
        self.require(Permission::RecordShipments)?;
        let (workflow, config, actor) = (&self.workflow, &self.config, &self.actor);
        self.store.write(|tx| {
            let order = load_for_change(tx, reference, expected_version)?;
            ship_in(
                tx,
                workflow,
                config,
                actor,
                &order,
                lines,
                details,
                now_ms(),
            )
        })
    }
}

/// Records a shipment of `lines` (None: everything still open) on a loaded order inside the caller's
/// transaction, completing the order when every line is covered. Shared by operators and back-office flows.
#[allow(clippy::too_many_arguments)]
pub(crate) fn ship_in(
    tx: &Connection,
    workflow: &Workflow,
    config: &Config,
    actor: &Actor,
    order: &OrderRow,
    lines: Option<&[(String, i64)]>,
    details: &ShipmentDetails,
    now: Millis,
) -> Result<ShipOutcome> {
    let context = format!("order {}", order.number);
    let status = status_of(workflow, order)?;
    if status.kind.is_final() {
        return Err(AppError::Rejected(format!(
            "{context} is {}, which is final: nothing can be shipped",
            status.name
        )));
    }
    let current = order_rows::lines(tx, order.id)?;
    let progress: Vec<_> = current.iter().map(OrderLine::progress).collect();
    let plan = match lines {
        Some(request) => plan_shipment(&progress, request),
        None => plan_remaining(&progress),
    }
    .map_err(|e| AppError::rejected(&context, e))?;
    claim_version(tx, order, actor, now)?;
    let shipment_id = order_rows::insert_shipment(
        tx,
        &NewShipment {
            order_id: order.id,
            lines: &plan,
            carrier: trimmed(&details.carrier),
            tracking: trimmed(&details.tracking),
            notes: trimmed(&details.notes),
            source: &actor.source,
            shipped_at: now,
        },
        &actor.name,
    )?;
    let after = order_rows::lines(tx, order.id)?;
    let progress: Vec<_> = after.iter().map(OrderLine::progress).collect();
    let shipped = plan
        .iter()
        .filter_map(|(line_id, qty)| {
            after
                .iter()
                .find(|l| l.id == *line_id)
                .map(|l| (l.sku.clone(), *qty))
        })
        .collect();
    let (completed, status_name) = if is_fully_shipped(&progress) {
        let done = workflow
            .first_of_kind(StatusKind::Completed)
            .ok_or_else(|| AppError::Rejected("no completed status is configured".into()))?;
        let note = format!("every line shipped (shipment {shipment_id})");
        enter_status(tx, workflow, config, actor, order, done, Some(&note), now)?;
        (true, done.name.clone())
    } else {
        super::effects::on_shipment_recorded(tx, config, actor, order.id, status, now)?;
        (false, status.name.clone())
    };
    Ok(ShipOutcome {
        order: order.number.clone(),
        shipment_id,
        shipped,
        completed,
        status: status_name,
        version: order.version + 1,
    })
}

/// Whether an operator may move `order` to `to`, as `change_status` decides it: the workflow's moves, and a
/// shipped status only once something has shipped (a shipment records what left; the status alone would
/// claim a parcel nobody recorded, and the order could then neither be shipped nor cancelled from there).
pub(crate) fn check_move(
    conn: &Connection,
    workflow: &Workflow,
    order: &OrderRow,
    to: &Status,
) -> Result<()> {
    let context = format!("order {}", order.number);
    let from = status_of(workflow, order)?;
    let record_it = format!(
        "record the shipment: F in the console, `syncdesk orders fulfill {}` (or `orders ship`) on the \
         command line",
        order.number
    );
    if let Err(e) = workflow.check_operator_move(order.status_id, to.id) {
        // A shipped order moves on by its shipments: say so where the move is refused.
        return Err(AppError::Rejected(match from.kind {
            StatusKind::Shipped => format!("{context}: {e}; {record_it}"),
            _ => format!("{context}: {e}"),
        }));
    }
    let progress: Vec<_> = order_rows::lines(conn, order.id)?
        .iter()
        .map(OrderLine::progress)
        .collect();
    if to.kind == StatusKind::Shipped && is_unshipped(&progress) {
        return Err(AppError::Rejected(format!(
            "{context}: nothing is shipped yet, so it cannot be {}; {record_it}",
            to.name
        )));
    }
    Ok(())
}

fn trimmed(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn status_of<'w>(workflow: &'w Workflow, order: &OrderRow) -> Result<&'w Status> {
    workflow.get(order.status_id).ok_or_else(|| {
        AppError::Rejected(format!(
            "order {} has an unknown status id {}",
            order.number, order.status_id
        ))
    })
}

/// Loads the order to change and checks it is still the version the caller saw.
pub(crate) fn load_for_change(
    conn: &Connection,
    reference: &str,
    expected_version: Option<i64>,
) -> Result<OrderRow> {
    let order = order_rows::find(conn, reference)?
        .ok_or_else(|| AppError::OrderNotFound(reference.to_string()))?;
    match expected_version {
        Some(v) if v != order.version => Err(stale(&order)),
        _ => Ok(order),
    }
}

fn stale(order: &OrderRow) -> AppError {
    AppError::Stale {
        number: order.number.clone(),
        by: order.updated_by.clone(),
        at: to_rfc3339(order.updated_at),
    }
}

/// Bumps the order's version once per command; fails if it moved since `order` was read.
pub(crate) fn claim_version(
    conn: &Connection,
    order: &OrderRow,
    actor: &Actor,
    now: Millis,
) -> Result<()> {
    if order_rows::touch(conn, order.id, order.version, &actor.name, now)? {
        Ok(())
    } else {
        let fresh = order_rows::get(conn, order.id)?.unwrap_or_else(|| order.clone());
        Err(stale(&fresh))
    }
}

/// Moves the order into `to`: state, archive flag, one history row, and the status's side effects.
#[allow(clippy::too_many_arguments)]
pub(crate) fn enter_status(
    conn: &Connection,
    workflow: &Workflow,
    config: &Config,
    actor: &Actor,
    order: &OrderRow,
    to: &Status,
    note: Option<&str>,
    now: Millis,
) -> Result<StatusChange> {
    let from = status_of(workflow, order)?;
    let archived = to.kind.is_final();
    order_rows::set_status(conn, order.id, to.id, archived)?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    order_rows::insert_history(
        conn,
        order.id,
        Some(from.id),
        to.id,
        &actor.name,
        &actor.source,
        note,
        now,
    )?;
    effects::on_status_entered(conn, config, actor, order.id, to, now)?;
    Ok(StatusChange {
        order: order.number.clone(),
        from: from.name.clone(),
        to: to.name.clone(),
        version: order.version + 1,
        archived,
    })
}

fn detail(conn: &Connection, workflow: &Workflow, row: OrderRow) -> Result<OrderDetail> {
    let name = |id: i64| {
        workflow
            .get(id)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| format!("#{id}"))
    };
    let status = status_of(workflow, &row)?;
    let history = order_rows::history(conn, row.id)?
        .into_iter()
        .map(|h| HistoryView {
            from: h.from_status_id.map(name),
            to: name(h.to_status_id),
            by: h.changed_by,
            at: to_rfc3339(h.changed_at),
            source: h.source,
            note: h.note,
        })
        .collect();
    Ok(OrderDetail {
        id: row.id,
        number: row.number.clone(),
        channel: row.channel.clone(),
        customer: row.customer.clone(),
        status: status.name.clone(),
        status_kind: status.kind,
        archived: row.archived,
        version: row.version,
        created_at: to_rfc3339(row.created_at),
        updated_at: to_rfc3339(row.updated_at),
        updated_by: row.updated_by.clone(),
        lines: order_rows::lines(conn, row.id)?,
        shipments: order_rows::shipments(conn, row.id)?,
        history,
        allowed_next: workflow
            .allowed_from(row.status_id)
            .iter()
            .map(|s| s.name.clone())
            .collect(),
    })
}
