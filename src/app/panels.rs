//! The console panels' lists through the facade: a filtered, sorted page of orders, open conflicts (with
//! product names), failing jobs, unsynced fulfilments and open alerts, each with its total and a row's rank
//! (so the console keeps the cursor on the row the operator chose); acknowledging every alert the operator
//! saw; and an order's backorder notices for its history.

use super::{App, Result};
use crate::app::console::ConsoleOrder;
use crate::domain::Permission;
use crate::domain::time::now_ms;
use crate::integrations::email::BACKORDER_EMAIL;
use crate::integrations::email::client::EMAIL_ACCEPTED;
use crate::store::alerts::{self, Alert};
use crate::store::console::{self as queries, PageAnchor, UnsyncedFulfilment};
use crate::store::inventory::{self, StockConflict};
use crate::store::listing::Listed;
use crate::store::panels::{
    self, BackorderNotice, ConflictQuery, FulfilmentQuery, JobQuery, OrderQuery,
};
use crate::store::{Job, OrderFilter, jobs, orders, trace};

/// Which orders the Orders panel shows: the active ones, one status's, or the archive (every final order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderGroup<'a> {
    Active,
    Status(&'a str),
    Archive,
}

/// A page of a list with how many rows the whole list holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub total: i64,
}

/// The open alerts as one read saw them: how many, and the newest one's id (`None` when none is open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenAlerts {
    pub count: i64,
    pub newest: Option<i64>,
}

/// Where the archive hint stops counting ("1000+ archived"): enough to say "look there", cheap on any store.
pub const ARCHIVED_MATCHES_CAP: i64 = 1000;

impl App {
    /// (archived, status id) of a group: a final status's orders are in the archive.
    pub fn order_group_scope(&self, group: OrderGroup<'_>) -> Result<(bool, Option<i64>)> {
        Ok(match group {
            OrderGroup::Active => (false, None),
            OrderGroup::Archive => (true, None),
            OrderGroup::Status(name) => {
                let s = self.workflow.by_name(name)?;
                (s.kind.is_final(), Some(s.id))
            }
        })
    }

    /// A page of the Orders panel. Newest first it is read as the order list always was (by keyset from
    /// `anchor` without a filter, down the trigram index with one); any other order walks that column's index.
    pub fn orders_panel_page(
        &mut self,
        q: &OrderQuery,
        limit: i64,
        offset: i64,
        anchor: Option<PageAnchor>,
    ) -> Result<(Vec<ConsoleOrder>, Option<PageAnchor>)> {
        let conn = self.store.conn();
        let filter = q.filter.as_deref().map(str::trim).filter(|f| !f.is_empty());
        let (page, anchor) = match (q.is_default_order(), filter) {
            (true, None) => {
                let total = queries::count_orders(conn, q.archived, q.status_id, None)?;
                queries::order_page(conn, q.archived, q.status_id, limit, offset, anchor, total)?
            }
            (true, Some(text)) => (
                orders::list(
                    conn,
                    &OrderFilter {
                        status_id: q.status_id,
                        archived: q.archived,
                        search: Some(text.to_string()),
                        limit,
                        offset,
                    },
                )?,
                None,
            ),
            (false, _) => {
                let total = q.count(conn)?;
                (
                    panels::order_page(conn, q, limit, offset, Some(total))?,
                    None,
                )
            }
        };
        Ok((self.with_badges(page)?, anchor))
    }

    /// How many archived orders `filter` finds, up to [`ARCHIVED_MATCHES_CAP`] (None: too short to search).
    pub fn archived_matches(&mut self, filter: &str) -> Result<Option<i64>> {
        Ok(panels::count_archived_matches(
            self.store.conn(),
            filter,
            ARCHIVED_MATCHES_CAP,
        )?)
    }

    /// How many orders the panel's query holds.
    pub fn count_orders_panel(&mut self, q: &OrderQuery) -> Result<i64> {
        let conn = self.store.conn();
        match q.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            None => Ok(queries::count_orders(conn, q.archived, q.status_id, None)?),
            Some(_) => Ok(q.count(conn)?),
        }
    }

    /// Where order `id` sits in the panel's query (None: the query leaves it out).
    pub fn order_rank(&mut self, q: &OrderQuery, id: i64) -> Result<Option<i64>> {
        Ok(q.rank(self.store.conn(), id)?)
    }

    /// A page of open conflicts with each SKU's product name.
    pub fn conflicts_panel(
        &mut self,
        q: &ConflictQuery,
        limit: i64,
        offset: i64,
    ) -> Result<Page<(StockConflict, Option<String>)>> {
        let conn = self.store.conn();
        let total = q.count(conn)?;
        let mut rows = Vec::new();
        for id in q.page(conn, limit, offset, Some(total))? {
            if let Some(c) = inventory::conflict(conn, id)? {
                let name = trace::product_name(conn, &c.sku)?;
                rows.push((c, name));
            }
        }
        Ok(Page { rows, total })
    }

    pub fn conflict_rank(&mut self, q: &ConflictQuery, id: i64) -> Result<Option<i64>> {
        Ok(q.rank(self.store.conn(), id)?)
    }

    /// A page of dead and retrying jobs.
    pub fn jobs_panel(&mut self, q: &JobQuery, limit: i64, offset: i64) -> Result<Page<Job>> {
        let conn = self.store.conn();
        let total = q.count(conn)?;
        let mut rows = Vec::new();
        for id in q.page(conn, limit, offset, Some(total))? {
            rows.extend(jobs::get(conn, id)?);
        }
        Ok(Page { rows, total })
    }

    pub fn job_rank(&mut self, q: &JobQuery, id: i64) -> Result<Option<i64>> {
        Ok(q.rank(self.store.conn(), id)?)
    }

    /// A page of shipped orders whose link has not caught up.
    pub fn fulfilments_panel(
        &mut self,
        q: &FulfilmentQuery,
        limit: i64,
        offset: i64,
    ) -> Result<Page<UnsyncedFulfilment>> {
        let conn = self.store.conn();
        let total = q.count(conn)?;
        let mut rows = Vec::new();
        for id in q.page(conn, limit, offset, Some(total))? {
            rows.extend(queries::unsynced_fulfilment(conn, id)?);
        }
        Ok(Page { rows, total })
    }

    pub fn fulfilment_rank(&mut self, q: &FulfilmentQuery, id: i64) -> Result<Option<i64>> {
        Ok(q.rank(self.store.conn(), id)?)
    }

    /// A page of open alerts, newest first, and how many are open.
    pub fn open_alerts_page(&mut self, limit: i64, offset: i64) -> Result<Page<Alert>> {
        let conn = self.store.conn();
        let total = panels::count_open_alerts(conn)?;
        let mut rows = Vec::new();
        for id in panels::open_alert_page(conn, limit, offset)? {
            rows.extend(alerts::get(conn, id)?);
        }
        Ok(Page { rows, total })
    }

    pub fn alert_rank(&mut self, id: i64) -> Result<Option<i64>> {
        Ok(panels::open_alert_rank(self.store.conn(), id)?)
    }

    /// How many alerts are open now and the newest one's id (`None` when none is open): the question
    /// "acknowledge all N?" is asked about these, not about the page on screen.
    pub fn open_alerts_now(&mut self) -> Result<OpenAlerts> {
        let (count, newest) = panels::open_alerts_now(self.store.conn())?;
        Ok(OpenAlerts { count, newest })
    }

    /// Acknowledges, as this operator, every open alert up to `newest_seen` (alerts raised after the
    /// operator looked stay open); returns how many were closed.
    pub fn acknowledge_all_alerts(&mut self, newest_seen: i64) -> Result<usize> {
        self.require(Permission::AcknowledgeAlerts)?;
        let by = self.actor.name.clone();
        self.store.write(|tx| {
            Ok(panels::acknowledge_open_through(
                tx,
                newest_seen,
                &by,
                now_ms(),
            )?)
        })
    }

    /// The backorder notices purchasing was (or is to be) sent for an order.
    pub fn backorder_notices(&mut self, order_id: i64) -> Result<Vec<BackorderNotice>> {
        Ok(panels::backorder_notices(
            self.store.conn(),
            BACKORDER_EMAIL.as_str(),
            EMAIL_ACCEPTED,
            order_id,
        )?)
    }
}
