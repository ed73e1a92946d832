//! `syncdesk orders …`: the Restock workflow from the command line.

use clap::{Args, Subcommand};

use super::{CliResult, Context, Failure, output};
use crate::app::orders::ShipOutcome;
use crate::app::{App, OrderDetail, ShipmentDetails, StatusChange};
use crate::domain::time::{age, now_ms};

#[derive(Subcommand, Debug)]
pub enum OrdersCommand {
    /// Create an order (it starts in the first open status).
    Add {
        /// The order number (unique; found later whatever its case).
        #[arg(long)]
        number: String,
        /// The customer's name.
        #[arg(long)]
        customer: Option<String>,
        /// A line as SKU=QTY; repeat for more lines.
        #[arg(long = "line", value_name = "SKU=QTY", value_parser = parse_line, required = true)]
        lines: Vec<(String, i64)>,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List orders, newest first (active ones unless --archived).
    List {
        /// Only orders in this status (case-insensitive).
        #[arg(long)]
        status: Option<String>,
        /// Completed and cancelled orders instead of active ones.
        #[arg(long)]
        archived: bool,
        /// Only orders whose number, customer or SKU contains this text.
        #[arg(long)]
        search: Option<String>,
        /// At most this many orders; stderr says when more match.
        #[arg(long, value_name = "N", default_value_t = 100, conflicts_with = "all")]
        limit: i64,
        /// Every matching order, however many.
        #[arg(long)]
        all: bool,
        /// Skip this many orders first (with --limit, to page through).
        #[arg(long, value_name = "N", default_value_t = 0)]
        offset: i64,
        /// Print JSON (an array of orders) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one order: lines, shipments, history.
    Show {
        /// Order number, or id (`#12` for an id only).
        order: String,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Move an order to another status (only the allowed moves are accepted).
    SetStatus {
        order: String,
        status: String,
        /// A note recorded with the move in the order's history.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        guard: VersionGuard,
    },
    /// Record a shipment of some lines; the order completes when every line is shipped.
    Ship {
        order: String,
        /// A line as SKU=QTY; repeat for more lines.
        #[arg(long = "line", value_name = "SKU=QTY", value_parser = parse_line, required = true)]
        lines: Vec<(String, i64)>,
        #[command(flatten)]
        details: Details,
        #[command(flatten)]
        guard: VersionGuard,
    },
    /// Ship everything still open on the order (completes it).
    Fulfill {
        order: String,
        #[command(flatten)]
        details: Details,
        #[command(flatten)]
        guard: VersionGuard,
    },
    /// Give a marketplace order the retailer's delivery OTP; its status is pushed again with it.
    Otp {
        /// Order number or id.
        order: String,
        /// The code the retailer gave at delivery.
        code: String,
    },
    /// Settle an order's conflict with its channel (the store changed the order after syncdesk last saw
    /// it, so syncdesk's status was not sent): keep the store's status, or push syncdesk's over it.
    Settle {
        /// Order number or id.
        order: String,
        /// store: take the store's status into syncdesk; syncdesk: push syncdesk's status to the store.
        #[arg(long, value_parser = parse_keep)]
        keep: crate::app::Keep,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Orders linked on one side only: ours not in the ERP, the ERP's not in syncdesk.
    Unsynced {
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Cancel an order; a reason is required.
    Cancel {
        order: String,
        /// Why the order is cancelled (recorded in its history).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        guard: VersionGuard,
    },
}

#[derive(Args, Debug)]
pub struct Details {
    /// The parcel's tracking number.
    #[arg(long)]
    tracking: Option<String>,
    /// The carrier that takes the parcel.
    #[arg(long)]
    carrier: Option<String>,
    /// A note recorded with the shipment.
    #[arg(long)]
    notes: Option<String>,
}

impl From<Details> for ShipmentDetails {
    fn from(d: Details) -> Self {
        ShipmentDetails {
            tracking: d.tracking,
            carrier: d.carrier,
            notes: d.notes,
        }
    }
}

#[derive(Args, Debug)]
pub struct VersionGuard {
    /// Refuse if the order is no longer at this version (as shown by `orders show`): protects a
    /// decision made on what you saw from a change someone made since.
    #[arg(long, value_name = "VERSION")]
    if_version: Option<i64>,
    /// Print JSON (stable field names) instead of text.
    #[arg(long)]
    json: bool,
}

fn parse_keep(s: &str) -> Result<crate::app::Keep, String> {
    crate::app::Keep::parse(s).ok_or_else(|| format!("'{s}': expected store or syncdesk"))
}

fn parse_line(s: &str) -> Result<(String, i64), String> {
    let (sku, qty) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("expected SKU=QTY, got '{s}'"))?;
    let sku = sku.trim();
    if sku.is_empty() {
        return Err(format!("expected SKU=QTY, got '{s}' (empty SKU)"));
    }
    let qty: i64 = qty
        .trim()
        .parse()
        .map_err(|_| format!("quantity in '{s}' is not a whole number"))?;
    if qty <= 0 {
        return Err(format!("quantity in '{s}' must be positive"));
    }
    Ok((sku.to_string(), qty))
}

pub fn run(context: &Context, command: OrdersCommand) -> CliResult {
    let mut app = context.app()?;
    match command {
        OrdersCommand::Unsynced { json } => super::erp::unsynced(&mut app, json),
        OrdersCommand::Settle { order, keep, json } => {
            let settled = app.settle(&order, keep)?;
            if json {
                return super::output::json(&settled);
            }
            output::outln!("settled: {}", settled.summary)?;
            Ok(())
        }
        OrdersCommand::Otp { order, code } => {
            let number = app.set_retailer_otp(&order, &code)?;
            output::outln!("{}", app.retailer_otp_recorded(&number))?;
            Ok(())
        }
        OrdersCommand::Add {
            number,
            customer,
            lines,
            json,
        } => {
            let order = app.add_order(&number, customer.as_deref(), "manual", &lines)?;
            if json {
                output::json(&order)
            } else {
                print_detail(&order)
            }
        }
        OrdersCommand::List {
            status,
            archived,
            search,
            limit,
            all,
            offset,
            json,
        } => list(
            &mut app,
            status.as_deref(),
            archived,
            search.as_deref(),
            (!all).then_some(limit),
            offset,
            json,
        ),
        OrdersCommand::Show { order, json } => {
            let order = app.order(&order)?;
            if json {
                output::json(&order)
            } else {
                print_detail(&order)
            }
        }
        OrdersCommand::SetStatus {
            order,
            status,
            note,
            guard,
        } => {
            let change = app.change_status(&order, &status, note.as_deref(), guard.if_version)?;
            if guard.json {
                return output::json(&change);
            }
            print_status_change(&change)
        }
        OrdersCommand::Ship {
            order,
            lines,
            details,
            guard,
        } => {
            let outcome = app.ship(&order, &lines, &details.into(), guard.if_version)?;
            if guard.json {
                return output::json(&outcome);
            }
            print_shipped(&outcome)
        }
        OrdersCommand::Fulfill {
            order,
            details,
            guard,
        } => {
            let outcome = app.fulfill(&order, &details.into(), guard.if_version)?;
            if guard.json {
                return output::json(&outcome);
            }
            output::outln!(
                "{}: fulfilled (shipment {}); status {}",
                outcome.order,
                outcome.shipment_id,
                outcome.status
            )?;
            Ok(())
        }
        OrdersCommand::Cancel {
            order,
            reason,
            guard,
        } => {
            let change = app.cancel(&order, &reason, guard.if_version)?;
            if guard.json {
                return output::json(&change);
            }
            output::outln!(
                "{}: {} → {} (archived): {}",
                change.order,
                change.from,
                change.to,
                reason.trim()
            )?;
            Ok(())
        }
    }
}

/// `orders list`: a page of orders (every one with `limit` None), as a table or JSON; when more match than
/// it shows, stderr says so (stdout keeps only rows, for pipes).
fn list(
    app: &mut App,
    status: Option<&str>,
    archived: bool,
    search: Option<&str>,
    limit: Option<i64>,
    offset: i64,
    json: bool,
) -> CliResult {
    if limit.is_some_and(|l| l <= 0) {
        return Err(Failure::rejected("--limit: must be positive"));
    }
    if offset < 0 {
        return Err(Failure::rejected("--offset: must not be negative"));
    }
    let orders = app.list_orders(status, archived, search, limit.unwrap_or(i64::MAX), offset)?;
    if limit.is_some_and(|l| orders.len() as i64 >= l) {
        let total = app.count_orders(status, archived, search)?;
        output::cut_note(offset, orders.len(), total, json);
    }
    if json {
        return output::json(&orders);
    }
    let now = now_ms();
    let workflow = app.workflow();
    let rows = orders
        .iter()
        .map(|o| {
            vec![
                o.id.to_string(),
                o.number.clone(),
                o.channel.clone(),
                o.customer.clone().unwrap_or_default(),
                format!("{}/{}", o.quantity_shipped, o.quantity),
                age(o.created_at, now),
                workflow
                    .get(o.status_id)
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    output::table(
        &[
            "ID", "NUMBER", "CHANNEL", "CUSTOMER", "SHIPPED", "AGE", "STATUS",
        ],
        rows,
    )?;
    Ok(())
}

/// `R-1001: Pending → Processing`, marked when the move archived the order.
fn print_status_change(change: &StatusChange) -> CliResult {
    output::outln!(
        "{}: {} → {}{}",
        change.order,
        change.from,
        change.to,
        if change.archived { " (archived)" } else { "" }
    )
}

/// `R-1001: shipped SKU×2, … (shipment 7); status Shipped`.
fn print_shipped(outcome: &ShipOutcome) -> CliResult {
    let shipped: Vec<String> = outcome
        .shipped
        .iter()
        .map(|(s, q)| format!("{s}×{q}"))
        .collect();
    output::outln!(
        "{}: shipped {} (shipment {}); status {}",
        outcome.order,
        shipped.join(", "),
        outcome.shipment_id,
        outcome.status
    )
}

fn print_detail(o: &OrderDetail) -> CliResult {
    output::outln!("Order {} (id {}, version {})", o.number, o.id, o.version)?;
    output::outln!(
        "  status    {}{}",
        o.status,
        if o.archived { " (archived)" } else { "" }
    )?;
    output::outln!("  channel   {}", o.channel)?;
    if let Some(c) = &o.customer {
        output::outln!("  customer  {c}")?;
    }
    output::outln!("  created   {}", o.created_at)?;
    output::outln!("  updated   {} by {}", o.updated_at, o.updated_by)?;
    if !o.allowed_next.is_empty() {
        output::outln!("  next      {}", o.allowed_next.join(", "))?;
    }
    output::outln!("\nLines")?;
    output::table(
        &["#", "SKU", "ORDERED", "SHIPPED"],
        o.lines
            .iter()
            .map(|l| {
                vec![
                    l.line_no.to_string(),
                    l.sku.clone(),
                    l.quantity.to_string(),
                    l.quantity_shipped.to_string(),
                ]
            })
            .collect(),
    )?;
    if !o.shipments.is_empty() {
        output::outln!("\nShipments")?;
        output::table(
            &["ID", "AT", "CARRIER", "TRACKING", "LINES"],
            o.shipments
                .iter()
                .map(|s| {
                    vec![
                        s.id.to_string(),
                        crate::domain::time::to_short(s.shipped_at),
                        s.carrier.clone().unwrap_or_default(),
                        s.tracking.clone().unwrap_or_default(),
                        s.lines
                            .iter()
                            .map(|l| format!("{}×{}", l.sku, l.quantity))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ]
                })
                .collect(),
        )?;
    }
    output::outln!("\nHistory")?;
    output::table(
        &["AT", "FROM", "TO", "BY", "SOURCE", "NOTE"],
        o.history
            .iter()
            .map(|h| {
                vec![
                    h.at.clone(),
                    h.from.clone().unwrap_or_else(|| "-".into()),
                    h.to.clone(),
                    h.by.clone(),
                    h.source.clone(),
                    h.note.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_line;

    #[test]
    fn line_syntax() {
        assert_eq!(parse_line("SKU-1=3").unwrap(), ("SKU-1".to_string(), 3));
        assert_eq!(parse_line("A=B=2").unwrap(), ("A=B".to_string(), 2));
        assert!(parse_line("SKU").unwrap_err().contains("SKU=QTY"));
        assert!(parse_line("SKU=0").unwrap_err().contains("positive"));
        assert!(parse_line("SKU=x").unwrap_err().contains("whole number"));
        assert!(parse_line("=2").unwrap_err().contains("empty SKU"));
    }
}
