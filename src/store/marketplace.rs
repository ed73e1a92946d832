//! What a marketplace said about each of its orders that the status-out rules need (who delivers, whether
//! delivery needs the retailer's OTP, when the marketplace created it), and which orders have a status push
//! due.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Result;
use super::links::{self, Link};
use crate::domain::time::Millis;

/// Who delivers a marketplace order to the retailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveredBy {
    Supplier,
    Marketplace,
}

impl DeliveredBy {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveredBy::Supplier => "supplier",
            DeliveredBy::Marketplace => "marketplace",
        }
    }

    /// As stored; anything else is the supplier (the safe default).
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "marketplace" => DeliveredBy::Marketplace,
            _ => DeliveredBy::Supplier,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketplaceOrder {
    pub link_id: i64,
    pub delivered_by: DeliveredBy,
    pub requires_otp: bool,
    /// RFC 3339; the re-read after a bulk push starts here (the marketplace lists orders by creation time).
    pub remote_created_at: Option<String>,
    /// A status push is waiting for the next bulk pass.
    pub push_due: bool,
    /// The retailer's OTP as an operator entered it (`orders otp`), if any.
    pub retailer_otp: Option<String>,
}

const COLUMNS: &str =
    "m.link_id, m.delivered_by, m.requires_otp, m.remote_created_at, m.push_due, m.retailer_otp";

fn row_from(r: &Row<'_>, at: usize) -> rusqlite::Result<MarketplaceOrder> {
    let by: String = r.get(at + 1)?;
    Ok(MarketplaceOrder {
        link_id: r.get(at)?,
        delivered_by: DeliveredBy::parse(&by),
        requires_otp: r.get(at + 2)?,
        remote_created_at: r.get(at + 3)?,
        push_due: r.get(at + 4)?,
        retailer_otp: r.get(at + 5)?,
    })
}

/// Records (or refreshes) what the marketplace says about a linked order; a pending push stays pending.
pub fn upsert(
    conn: &Connection,
    link_id: i64,
    delivered_by: DeliveredBy,
    requires_otp: bool,
    remote_created_at: Option<&str>,
    now: Millis,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO marketplace_orders (link_id, delivered_by, requires_otp, remote_created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (link_id) DO UPDATE SET delivered_by = ?2, requires_otp = ?3,
             remote_created_at = COALESCE(?4, remote_created_at), updated_at = ?5",
    )?
    .execute(params![
        link_id,
        delivered_by.as_str(),
        requires_otp,
        remote_created_at,
        now
    ])?;
    Ok(())
}

pub fn get(conn: &Connection, link_id: i64) -> Result<Option<MarketplaceOrder>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM marketplace_orders m WHERE m.link_id = ?1"
        ))?
        .query_row([link_id], |r| row_from(r, 0))
        .optional()?)
}

/// Marks (or clears) a due push. A link the marketplace told us nothing about counts as supplier-delivered.
pub fn set_push_due(conn: &Connection, link_id: i64, due: bool, now: Millis) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO marketplace_orders (link_id, delivered_by, requires_otp, push_due, updated_at)
         VALUES (?1, 'supplier', 0, ?2, ?3)
         ON CONFLICT (link_id) DO UPDATE SET push_due = ?2, updated_at = ?3",
    )?
    .execute(params![link_id, due, now])?;
    Ok(())
}

/// Keeps the retailer's OTP an operator entered for a linked order.
pub fn set_retailer_otp(conn: &Connection, link_id: i64, otp: &str, now: Millis) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO marketplace_orders (link_id, delivered_by, requires_otp, retailer_otp, updated_at)
         VALUES (?1, 'supplier', 0, ?2, ?3)
         ON CONFLICT (link_id) DO UPDATE SET retailer_otp = ?2, updated_at = ?3",
    )?
    .execute(params![link_id, otp, now])?;
    Ok(())
}

/// Order links to `system` with their marketplace facts: those with a push due, plus (unless `due_only`)
/// those of orders still active. Oldest link first.
pub fn order_links(
    conn: &Connection,
    system: &str,
    due_only: bool,
) -> Result<Vec<(Link, MarketplaceOrder)>> {
    let link_columns: Vec<String> = links::COLUMNS
        .split(", ")
        .map(|c| format!("l.{}", c.trim()))
        .collect();
    let n = link_columns.len();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {}, {COLUMNS} FROM links l
         JOIN marketplace_orders m ON m.link_id = l.id
         JOIN orders o ON o.id = l.local_id
         WHERE l.entity = 'order' AND l.system = ?1 AND (m.push_due = 1 OR (?2 = 0 AND o.archived = 0))
         ORDER BY l.id",
        link_columns.join(", ")
    ))?;
    let rows = stmt.query_map(params![system, due_only], |r| {
        Ok((links::link_from(r)?, row_from(r, n)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
