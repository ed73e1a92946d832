//! Queries for the operator console: one page of rows at a time plus what the dashboard charts need.
//! Read-only; every command the console issues goes through the ordinary `App` methods.

use serde::Serialize;

use super::App;
use super::Result;
use super::stock::{STOCK_APPLY_RESOLUTION, STOCK_FULL, STOCK_INCREMENTAL, STOCK_PRICES};
use crate::config::Config;
use crate::domain::time::Millis;
use crate::domain::{JobKind, LinkState};
use crate::integrations::{REGISTRY, Role};
use crate::store::alerts::{self, Alert};
use crate::store::console::{
    self as queries, ConnectorHealth, OrderBadge, PageAnchor, UnsyncedFulfilment,
};
use crate::store::engine_lease::{self, EngineLease};
use crate::store::inventory::{self, StockConflict};
use crate::store::links::{self, Link};
use crate::store::{Job, JobState, OrderSummary, jobs};

/// One row of the console's order table: the list row plus its version and link states.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsoleOrder {
    pub summary: OrderSummary,
    pub version: i64,
    pub updated_by: String,
    /// (system, sync_state, last_error)
    pub links: Vec<(String, LinkState, Option<String>)>,
}

/// The dashboard's numbers, with status ids resolved to names.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Dashboard {
    pub job_counts: Vec<(String, i64)>,
    pub done_last_minute: i64,
    pub done_last_hour: i64,
    /// Jobs done per minute over the last hour, oldest first.
    pub done_per_minute: Vec<u64>,
    pub lease: Option<(String, Millis, Millis)>,
    pub avg_to_shipped_ms: Option<f64>,
    pub shipped_orders: i64,
    pub orders: i64,
    pub backordered_orders: i64,
    pub completed: i64,
    pub cancelled: i64,
    pub changes_by_operator: Vec<(String, i64)>,
    /// (status name, average ms in it, stays measured)
    pub avg_time_in_status: Vec<(String, f64, i64)>,
    pub connectors: Vec<ConnectorHealth>,
    /// Each connector's health from its jobs: up or down, last success, recent run times.
    pub health: Vec<ConnectorStatus>,
    /// Open alerts, newest first (the ones the panel lists; `a` acknowledges the selected one).
    pub alerts: Vec<Alert>,
    /// When the history-wide numbers (throughput, metrics, connectors) were computed.
    pub metrics_at: Millis,
}

/// One connector as the dashboard shows it, judged by the jobs that talk to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectorStatus {
    pub name: &'static str,
    pub enabled: bool,
    /// Whether the newest attempt worked; `None` before anything ran.
    pub up: Option<bool>,
    pub last_success: Option<Millis>,
    /// The newest failure not yet followed by a success: when, and what it said.
    pub failing_since: Option<(Millis, String)>,
    /// How long the recent successful runs took (ms), oldest first.
    pub latency_ms: Vec<u64>,
}

/// How many recent runs the latency sparkline shows.
const LATENCY_SAMPLES: i64 = 24;
/// How many open alerts the dashboard lists.
pub const DASHBOARD_ALERTS: i64 = 20;

/// The stock passes' kinds: they run between the systems, so the Dashboard shows them as one row of their own.
const STOCK_KINDS: &[JobKind] = &[
    STOCK_INCREMENTAL,
    STOCK_FULL,
    STOCK_PRICES,
    STOCK_APPLY_RESOLUTION,
];

/// The connectors the dashboard reports on, each with the job kinds that reach it and whether it is on:
/// every integration of the registry, the stock passes after the systems, notifiers last.
fn connector_kinds(config: &Config) -> Vec<(&'static str, bool, &'static [JobKind])> {
    let of_role = |role: Role| {
        REGISTRY
            .iter()
            .filter(move |i| i.role == role)
            .map(|i| (i.name, (i.enabled)(config), i.job_kinds))
    };
    of_role(Role::System)
        .chain([("stock pos↔store", config.stock.enabled, STOCK_KINDS)])
        .chain(of_role(Role::Notifier))
        .collect()
}

/// Connector health from the newest jobs of each connector's kinds (index walks, cheap at any history).
/// A connector that is off and never ran is left out.
fn connector_statuses(
    conn: &rusqlite::Connection,
    config: &Config,
) -> Result<Vec<ConnectorStatus>> {
    let mut out = Vec::new();
    for (name, enabled, kinds) in connector_kinds(config) {
        let mut successes = Vec::new();
        let mut failure: Option<(Millis, String)> = None;
        for kind in kinds {
            let h = queries::kind_health(conn, kind.as_str(), LATENCY_SAMPLES)?;
            successes.extend(h.successes);
            if let Some(f) = h.last_failure
                && failure.as_ref().is_none_or(|(at, _)| f.0 > *at)
            {
                failure = Some(f);
            }
        }
        successes.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        successes.truncate(LATENCY_SAMPLES as usize);
        let last_success = successes.first().map(|(at, _)| *at);
        let failing_since = failure.filter(|(at, _)| last_success.is_none_or(|ok| *at > ok));
        if !enabled && last_success.is_none() && failing_since.is_none() {
            continue;
        }
        out.push(ConnectorStatus {
            name,
            enabled,
            up: match (last_success, &failing_since) {
                (_, Some(_)) => Some(false),
                (Some(_), None) => Some(true),
                (None, None) => None,
            },
            last_success,
            failing_since,
            latency_ms: successes
                .iter()
                .rev()
                .filter_map(|(_, ms)| ms.map(|m| m.max(0) as u64))
                .collect(),
        });
    }
    Ok(out)
}

impl App {
    /// A page of orders (see [`App::list_orders`]) with versions and link states for the sync badge.
    pub fn console_orders(
        &mut self,
        status: Option<&str>,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ConsoleOrder>> {
        Ok(self
            .console_order_page(status, search, limit, offset, None)?
            .0)
    }

    /// [`App::console_orders`] for a console that scrolls: without a search the page is found from
    /// `anchor` (where the previous page started) by keyset, so scrolling and jumping to the end cost the
    /// rows moved over, not the offset. Returns the anchor for the next call.
    pub fn console_order_page(
        &mut self,
        status: Option<&str>,
        search: Option<&str>,
        limit: i64,
        offset: i64,
        anchor: Option<PageAnchor>,
    ) -> Result<(Vec<ConsoleOrder>, Option<PageAnchor>)> {
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        let (page, anchor) = match search {
            Some(_) => (
                self.list_orders(status, false, search, limit, offset)?,
                None,
            ),
            None => {
                let (archived, status_id) = self.order_scope(status)?;
                let total = queries::count_orders(self.store.conn(), archived, status_id, None)?;
                queries::order_page(
                    self.store.conn(),
                    archived,
                    status_id,
                    limit,
                    offset,
                    anchor,
                    total,
                )?
            }
        };
        Ok((self.with_badges(page)?, anchor))
    }

    /// List rows with their versions and link states.
    pub(crate) fn with_badges(&mut self, page: Vec<OrderSummary>) -> Result<Vec<ConsoleOrder>> {
        let ids: Vec<i64> = page.iter().map(|o| o.id).collect();
        let badges = queries::order_badges(self.store.conn(), &ids)?;
        Ok(page
            .into_iter()
            .map(|summary| {
                let badge = badges.iter().find(|b| b.order_id == summary.id);
                let OrderBadge {
                    version,
                    updated_by,
                    links,
                    ..
                } = badge.cloned().unwrap_or(OrderBadge {
                    order_id: summary.id,
                    version: 0,
                    updated_by: String::new(),
                    links: Vec::new(),
                });
                ConsoleOrder {
                    summary,
                    version,
                    updated_by,
                    links,
                }
            })
            .collect())
    }

    /// (archived, status id) for a status name, as [`App::list_orders`] reads it: a final status means
    /// the archive.
    fn order_scope(&self, status: Option<&str>) -> Result<(bool, Option<i64>)> {
        let status = status.map(|s| self.workflow.by_name(s)).transpose()?;
        Ok((
            status.is_some_and(|s| s.kind.is_final()),
            status.map(|s| s.id),
        ))
    }

    /// How many orders [`App::console_orders`] pages through.
    pub fn count_console_orders(
        &mut self,
        status: Option<&str>,
        search: Option<&str>,
    ) -> Result<i64> {
        let (archived, status_id) = self.order_scope(status)?;
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        Ok(queries::count_orders(
            self.store.conn(),
            archived,
            status_id,
            search,
        )?)
    }

    pub fn count_unsynced_fulfilments(&mut self) -> Result<i64> {
        Ok(queries::count_unsynced_fulfilments(self.store.conn())?)
    }

    /// A page of open stock conflicts, newest first.
    pub fn open_conflicts(&mut self, limit: i64, offset: i64) -> Result<Vec<StockConflict>> {
        Ok(inventory::conflicts(
            self.store.conn(),
            false,
            limit,
            offset,
        )?)
    }

    /// Every link of one order, for the detail pane.
    /// Whether order `id` is archived (None: there is no such order): which group of the Orders panel holds it.
    pub fn order_archived(&mut self, id: i64) -> Result<Option<bool>> {
        Ok(crate::store::orders::get(self.store.conn(), id)?.map(|o| o.archived))
    }

    pub fn order_links(&mut self, order_id: i64) -> Result<Vec<Link>> {
        Ok(links::for_local(self.store.conn(), "order", order_id)?)
    }

    pub fn unsynced_fulfilments(
        &mut self,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<UnsyncedFulfilment>> {
        Ok(queries::unsynced_fulfilments(
            self.store.conn(),
            limit,
            offset,
        )?)
    }

    /// Dead and retrying jobs, newest first.
    pub fn problem_jobs(&mut self, limit: i64, offset: i64) -> Result<Vec<Job>> {
        Ok(queries::problem_jobs(self.store.conn(), limit, offset)?)
    }

    pub fn engine_lease(&mut self) -> Result<Option<EngineLease>> {
        Ok(engine_lease::current(self.store.conn())?)
    }

    /// Everything the dashboard draws, as of `now`.
    pub fn dashboard(&mut self, now: Millis) -> Result<Dashboard> {
        let workflow = self.workflow.clone();
        self.store.snapshot(|tx| {
            let counts = jobs::count_by_state(tx)?;
            let job_counts = JobState::ALL
                .iter()
                .map(|s| {
                    let n = counts.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n);
                    (s.as_str().to_string(), n)
                })
                .collect();
            let m = queries::workflow_metrics(tx, 0)?;
            let name = |id: i64| {
                workflow
                    .get(id)
                    .map_or_else(|| format!("#{id}"), |s| s.name.clone())
            };
            Ok(Dashboard {
                job_counts,
                done_last_minute: queries::jobs_done_since(tx, now - 60_000)?,
                done_last_hour: queries::jobs_done_since(tx, now - 3_600_000)?,
                done_per_minute: queries::jobs_done_per_minute(tx, now, 60)?,
                lease: engine_lease::current(tx)?.map(|l| (l.holder, l.heartbeat_at, l.expires_at)),
                avg_to_shipped_ms: m.avg_to_shipped_ms,
                shipped_orders: m.shipped_orders,
                orders: m.orders,
                backordered_orders: m.backordered_orders,
                completed: m.completed,
                cancelled: m.cancelled,
                changes_by_operator: m.changes_by_operator,
                avg_time_in_status: m
                    .avg_time_in_status
                    .into_iter()
                    .map(|(id, ms, n)| (name(id), ms, n))
                    .collect(),
                connectors: queries::connector_health(tx)?,
                health: connector_statuses(tx, &self.config)?,
                alerts: alerts::list(tx, false, DASHBOARD_ALERTS)?,
                metrics_at: now,
            })
        })
    }

    /// Refreshes only the cheap dashboard numbers (queue depth, engine lease) of `previous`; the
    /// history-wide ones are kept, so a busy database does not rescan its history on every change.
    pub fn dashboard_live(&mut self, previous: &Dashboard) -> Result<Dashboard> {
        let counts = jobs::count_by_state(self.store.conn())?;
        let mut d = previous.clone();
        d.job_counts = JobState::ALL
            .iter()
            .map(|s| {
                let n = counts.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n);
                (s.as_str().to_string(), n)
            })
            .collect();
        d.lease = engine_lease::current(self.store.conn())?
            .map(|l| (l.holder, l.heartbeat_at, l.expires_at));
        d.health = connector_statuses(self.store.conn(), &self.config)?;
        d.alerts = alerts::list(self.store.conn(), false, DASHBOARD_ALERTS)?;
        Ok(d)
    }

    /// (dead, retrying) job counts, for the console's header.
    pub fn problem_job_counts(&mut self) -> Result<(i64, i64)> {
        let conn = self.store.conn();
        Ok((
            queries::count_jobs_in(conn, JobState::Dead.as_str())?,
            queries::count_jobs_in(conn, JobState::Retrying.as_str())?,
        ))
    }

    /// Moves whenever another connection commits: the console's cheap "has anything changed?" probe.
    pub fn data_version(&mut self) -> Result<i64> {
        Ok(self.store.data_version()?)
    }
}
