//! The console panels' lists as [`Listing`]s — orders, open conflicts, failing jobs, unsynced fulfilments,
//! open alerts — each with its filter (a substring, through the trigram index where one exists) and the
//! columns it sorts by, so every panel pages, sorts, filters and finds a row again the same way.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::Result;
use super::listing::{self, Listed, Spec};
use super::orders::OrderSummary;

/// A filter's text bound as a LIKE pattern or a trigram phrase.
struct Text {
    like: Option<String>,
    phrase: Option<String>,
}

fn text(filter: Option<&str>) -> Text {
    let filter = filter.map(str::trim).filter(|f| !f.is_empty());
    Text {
        phrase: filter.and_then(listing::trigram_phrase),
        like: filter.map(listing::like_pattern),
    }
}

/// The columns the Orders panel sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSort {
    /// Arrival in syncdesk (newest first by default): the order the store keeps, read by keyset.
    Received,
    /// The order's creation time in its channel: how long the customer has waited.
    Age,
    Number,
    Customer,
    /// By the status's id, i.e. the workflow's order.
    Status,
}

/// Which orders and in what order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    pub archived: bool,
    pub status_id: Option<i64>,
    pub filter: Option<String>,
    pub sort: OrderSort,
    pub descending: bool,
}

impl OrderQuery {
    /// Newest first without a filter: the keyset path of `store::console::order_page` serves it.
    pub fn is_default_order(&self) -> bool {
        self.sort == OrderSort::Received && self.descending
    }
}

impl Listed for OrderQuery {
    fn spec(&self) -> Spec {
        let t = text(self.filter.as_deref());
        let mut scope = String::from("orders o WHERE o.archived = :archived");
        let mut params = vec![(":archived", Value::from(self.archived))];
        if let Some(status) = self.status_id {
            scope.push_str(" AND o.status_id = :status");
            params.push((":status", Value::from(status)));
        }
        if let Some(phrase) = t.phrase {
            scope.push_str(
                " AND o.id IN (SELECT rowid FROM order_search WHERE order_search MATCH :phrase)",
            );
            params.push((":phrase", Value::from(phrase)));
        } else if let Some(like) = t.like {
            scope.push_str(
                " AND (o.number LIKE :like ESCAPE '\\' OR COALESCE(o.customer, '') LIKE :like ESCAPE '\\'
                   OR EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.sku LIKE :like ESCAPE '\\'))",
            );
            params.push((":like", Value::from(like)));
        }
        let sort = match self.sort {
            OrderSort::Received => "o.id",
            OrderSort::Age => "o.created_at",
            OrderSort::Number => "o.number",
            OrderSort::Customer => "COALESCE(o.customer, '')",
            OrderSort::Status => "o.status_id",
        };
        Spec {
            scope,
            sort,
            key: "o.id",
            descending: self.descending,
            params,
        }
    }
}

/// Rows `offset..offset + limit` of the query as list rows (`total` lets the far half be read from the end).
pub fn order_page(
    conn: &Connection,
    q: &OrderQuery,
    limit: i64,
    offset: i64,
    total: Option<i64>,
) -> Result<Vec<OrderSummary>> {
    q.page(conn, limit, offset, total)?
        .into_iter()
        .filter_map(|id| order_summary(conn, id).transpose())
        .collect()
}

/// How many archived orders the filter's phrase finds, counting no further than `cap`. The search index
/// drives (CROSS JOIN keeps SQLite from walking the archive and probing the index per order) and stops at
/// `cap`, so a phrase found in most of a million archived orders costs what a rare one does.
/// None: the filter is too short for the index.
pub fn count_archived_matches(conn: &Connection, filter: &str, cap: i64) -> Result<Option<i64>> {
    let Some(phrase) = listing::trigram_phrase(filter) else {
        return Ok(None);
    };
    let n = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM (
                 SELECT 1 FROM order_search s CROSS JOIN orders o ON o.id = s.rowid
                 WHERE order_search MATCH ?1 AND o.archived = 1 LIMIT ?2)",
        )?
        .query_row(rusqlite::params![phrase, cap], |r| r.get(0))?;
    Ok(Some(n))
}

/// One order as a list row, with its line totals.
pub fn order_summary(conn: &Connection, id: i64) -> Result<Option<OrderSummary>> {
    Ok(conn
        .prepare_cached(
            "SELECT o.id, o.number, o.channel, o.customer, o.status_id, o.archived,
                    (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = o.id),
                    (SELECT COALESCE(SUM(quantity), 0) FROM order_lines l WHERE l.order_id = o.id),
                    (SELECT COALESCE(SUM(quantity_shipped), 0) FROM order_lines l WHERE l.order_id = o.id),
                    o.created_at, o.updated_at
             FROM orders o WHERE o.id = ?1",
        )?
        .query_row([id], super::orders::summary_from)
        .optional()?)
}

/// The columns the Conflicts panel sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictSort {
    Detected,
    Sku,
    Kind,
}

/// Open conflicts matching a filter (SKU, type or why), in an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictQuery {
    pub filter: Option<String>,
    pub sort: ConflictSort,
    pub descending: bool,
}

impl Listed for ConflictQuery {
    fn spec(&self) -> Spec {
        let mut scope = String::from("stock_conflicts c WHERE c.resolved_at IS NULL");
        let mut params = Vec::new();
        if let Some(like) = text(self.filter.as_deref()).like {
            scope.push_str(
                " AND (c.sku LIKE :like ESCAPE '\\' OR c.kind LIKE :like ESCAPE '\\'
                   OR c.detail LIKE :like ESCAPE '\\'
                   OR EXISTS (SELECT 1 FROM sku_alignment a WHERE a.store_sku = c.sku
                              AND (a.pos_sku LIKE :like ESCAPE '\\' OR a.product_name LIKE :like ESCAPE '\\')))",
            );
            params.push((":like", Value::from(like)));
        }
        let sort = match self.sort {
            ConflictSort::Detected => "c.id",
            ConflictSort::Sku => "c.sku",
            ConflictSort::Kind => "c.kind",
        };
        Spec {
            scope,
            sort,
            key: "c.id",
            descending: self.descending,
            params,
        }
    }
}

/// The columns the Errors panel sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobSort {
    Id,
    State,
    Kind,
    Attempts,
}

/// Dead and retrying jobs matching a filter (kind, key or error), in an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobQuery {
    pub filter: Option<String>,
    pub sort: JobSort,
    pub descending: bool,
}

impl Listed for JobQuery {
    fn spec(&self) -> Spec {
        let mut scope = String::from("jobs j WHERE j.state IN ('dead', 'retrying')");
        let mut params = Vec::new();
        if let Some(like) = text(self.filter.as_deref()).like {
            scope.push_str(
                " AND (j.kind LIKE :like ESCAPE '\\' OR COALESCE(j.key, '') LIKE :like ESCAPE '\\'
                   OR COALESCE(j.last_error, '') LIKE :like ESCAPE '\\' OR CAST(j.id AS TEXT) = :exact)",
            );
            let exact = self
                .filter
                .as_deref()
                .unwrap_or_default()
                .trim()
                .to_string();
            params.push((":like", Value::from(like)));
            params.push((":exact", Value::from(exact)));
        }
        let sort = match self.sort {
            JobSort::Id => "j.id",
            JobSort::State => "j.state",
            JobSort::Kind => "j.kind",
            JobSort::Attempts => "j.attempts",
        };
        Spec {
            scope,
            sort,
            key: "j.id",
            descending: self.descending,
            params,
        }
    }
}

/// The columns the Fulfilments panel sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentSort {
    Shipped,
    Number,
    System,
}

/// Shipped orders whose link has not caught up, matching a filter (number, channel, system), in an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulfilmentQuery {
    pub filter: Option<String>,
    pub sort: FulfilmentSort,
    pub descending: bool,
}

impl Listed for FulfilmentQuery {
    fn spec(&self) -> Spec {
        let mut scope = String::from(
            "links l JOIN orders o ON o.id = l.local_id
         WHERE l.entity = 'order' AND (l.sync_state <> 'synced' OR l.last_error IS NOT NULL)
           AND EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = l.local_id)",
        );
        let mut params = Vec::new();
        if let Some(like) = text(self.filter.as_deref()).like {
            scope.push_str(
                " AND (o.number LIKE :like ESCAPE '\\' OR o.channel LIKE :like ESCAPE '\\'
                   OR l.system LIKE :like ESCAPE '\\')",
            );
            params.push((":like", Value::from(like)));
        }
        let sort = match self.sort {
            FulfilmentSort::Shipped => {
                "(SELECT MAX(shipped_at) FROM shipments s WHERE s.order_id = o.id)"
            }
            FulfilmentSort::Number => "o.number",
            FulfilmentSort::System => "l.system",
        };
        Spec {
            scope,
            sort,
            key: "l.id",
            descending: self.descending,
            params,
        }
    }
}

/// How many alerts are open (the Dashboard lists a page of them).
pub fn count_open_alerts(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM alerts WHERE acknowledged_at IS NULL")?
        .query_row([], |r| r.get(0))?)
}

/// How many alerts are open and the newest open one's id, read together: what "acknowledge all" asks
/// about, whatever page of the list is on screen.
pub fn open_alerts_now(conn: &Connection) -> Result<(i64, Option<i64>)> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*), MAX(id) FROM alerts WHERE acknowledged_at IS NULL")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// The Dashboard's open alerts, newest first.
struct OpenAlerts;

impl Listed for OpenAlerts {
    fn spec(&self) -> Spec {
        Spec {
            scope: "alerts a WHERE a.acknowledged_at IS NULL".into(),
            sort: "a.id",
            key: "a.id",
            descending: true,
            params: Vec::new(),
        }
    }
}

/// A page of open alerts' ids, newest first.
pub fn open_alert_page(conn: &Connection, limit: i64, offset: i64) -> Result<Vec<i64>> {
    OpenAlerts.page(conn, limit, offset, None)
}

/// Where an open alert sits in the Dashboard's list, newest first.
pub fn open_alert_rank(conn: &Connection, id: i64) -> Result<Option<i64>> {
    OpenAlerts.rank(conn, id)
}

/// Acknowledges every open alert up to `newest` (the newest the operator saw): alerts raised after they
/// looked stay open. Returns how many it closed.
pub fn acknowledge_open_through(
    conn: &Connection,
    newest: i64,
    by: &str,
    now: i64,
) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE alerts SET acknowledged_at = ?3, acknowledged_by = ?2
             WHERE acknowledged_at IS NULL AND id <= ?1",
        )?
        .execute(params![newest, by, now])?)
}

/// A backorder notice (the `email.backorder` job) as the order's history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackorderNotice {
    pub job_id: i64,
    pub state: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the mail server accepted it.
    pub accepted_at: Option<i64>,
}

/// The backorder notices of an order, oldest first (the job's kind index, then its payload).
pub fn backorder_notices(
    conn: &Connection,
    kind: &str,
    effect: &str,
    order_id: i64,
) -> Result<Vec<BackorderNotice>> {
    let rows = conn
        .prepare_cached(
            "SELECT j.id, j.state, j.attempts, j.max_attempts, j.last_error, j.created_at, j.updated_at,
                    (SELECT e.recorded_at FROM job_effects e WHERE e.job_id = j.id AND e.effect = ?2)
             FROM jobs j WHERE j.kind = ?1 AND json_valid(j.payload)
               AND json_extract(j.payload, '$.order_id') = ?3
             ORDER BY j.id",
        )?
        .query_map(params![kind, effect, order_id], |r| {
            Ok(BackorderNotice {
                job_id: r.get(0)?,
                state: r.get(1)?,
                attempts: r.get(2)?,
                max_attempts: r.get(3)?,
                last_error: r.get(4)?,
                created_at: r.get(5)?,
                updated_at: r.get(6)?,
                accepted_at: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}
