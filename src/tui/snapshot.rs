//! What the screen shows, read from the store in one go: the header counts plus the rows of the active
//! panel's visible page only (never whole tables), filtered and sorted as that panel is. `now` is injected
//! so ages are reproducible in tests. Also the queries a panel's rows come from, so the console can find
//! the selected row's place in the same list (see `Console::follow_selection`).

use crate::app::console::{ConsoleOrder, Dashboard};
use crate::app::panels::OrderGroup;
use crate::app::trace::StockTrace;
use crate::app::{App, OrderDetail, Result, StatusSummary};
use crate::domain::time::Millis;
use crate::store::Job;
use crate::store::console::{PageAnchor, UnsyncedFulfilment};
use crate::store::jobs::JobDetail;
use crate::store::links::Link;
use crate::store::panels::{
    BackorderNotice, ConflictQuery, ConflictSort, FulfilmentQuery, FulfilmentSort, JobQuery,
    JobSort, OrderQuery, OrderSort,
};
use crate::store::trace::{InventoryQuery, InventoryRow, InventorySort};

use super::conflicts::{ConflictSource, ConflictsView};
use super::state::{Tab, UiState};

/// The selected order in full: detail, links, its backorder notices and a name for each line.
#[derive(Debug, Clone, Default)]
pub struct OrderExtras {
    pub notices: Vec<BackorderNotice>,
    /// Per line of the detail: its name, else the product's name where the database has one.
    pub line_names: Vec<Option<String>>,
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub now: Millis,
    pub statuses: Vec<StatusSummary>,
    pub dead_jobs: i64,
    pub retrying_jobs: i64,
    /// The visible page of the active panel; `has_more` says whether rows follow it.
    pub orders: Vec<ConsoleOrder>,
    pub detail: Option<(OrderDetail, Vec<Link>)>,
    pub order_extras: OrderExtras,
    /// Orders with a filter outside the archive: how many archived orders match it too.
    pub archived_matches: Option<i64>,
    pub fulfilments: Vec<UnsyncedFulfilment>,
    pub conflicts: ConflictsView,
    pub jobs: Vec<Job>,
    /// The Errors panel's selected job with its attempt history.
    pub job_detail: Option<JobDetail>,
    /// The page's jobs by id: each one's target (an order number or SKU) and first failure.
    pub job_explained: std::collections::BTreeMap<i64, crate::app::job_targets::JobExplained>,
    pub dashboard: Option<Dashboard>,
    /// How many alerts are open (the Dashboard lists a page of them).
    pub open_alerts: i64,
    pub inventory: Vec<InventoryRow>,
    /// The Inventory panel's selected SKU with a page of its changes.
    pub trace: Option<StockTrace>,
    /// How many rows the active panel's list holds, where counting is cheap.
    pub total: Option<i64>,
    pub has_more: bool,
    /// Where the Orders page started (for reading the next one by keyset).
    pub orders_anchor: Option<PageAnchor>,
}

impl Snapshot {
    pub fn empty(now: Millis) -> Snapshot {
        Snapshot {
            now,
            statuses: Vec::new(),
            dead_jobs: 0,
            retrying_jobs: 0,
            orders: Vec::new(),
            detail: None,
            order_extras: OrderExtras::default(),
            archived_matches: None,
            fulfilments: Vec::new(),
            conflicts: ConflictsView::Rows(Vec::new(), 0),
            jobs: Vec::new(),
            job_detail: None,
            job_explained: Default::default(),
            dashboard: None,
            open_alerts: 0,
            inventory: Vec::new(),
            trace: None,
            total: None,
            has_more: false,
            orders_anchor: None,
        }
    }

    /// The Orders panel's group: all active, one status, or the archive (the entry after the statuses).
    pub fn order_group(&self, ui: &UiState) -> OrderGroup<'_> {
        match ui.status_index {
            0 => OrderGroup::Active,
            i => match self.statuses.get(i - 1) {
                Some(s) => OrderGroup::Status(&s.name),
                None => OrderGroup::Archive,
            },
        }
    }

    /// The selected status's name, `None` for "all active" and the archive.
    pub fn status_filter(&self, ui: &UiState) -> Option<&str> {
        match self.order_group(ui) {
            OrderGroup::Status(name) => Some(name),
            _ => None,
        }
    }

    /// How many groups the Orders panel's side list holds (all active, each status, the archive).
    pub fn order_groups(&self) -> usize {
        self.statuses.len() + 2
    }

    /// The keys of the rows in the active panel's page, in order (see `UiState::selected`).
    pub fn keys(&self, tab: Tab) -> Vec<i64> {
        match tab {
            Tab::Orders => self.orders.iter().map(|o| o.summary.id).collect(),
            Tab::Fulfilments => self.fulfilments.iter().map(|f| f.link_id).collect(),
            Tab::Conflicts => match &self.conflicts {
                ConflictsView::Rows(r, _) => r.iter().map(|c| c.id).collect(),
                ConflictsView::Unavailable(_) => Vec::new(),
            },
            Tab::Errors => self.jobs.iter().map(|j| j.id).collect(),
            Tab::Dashboard => self
                .dashboard
                .as_ref()
                .map(|d| d.alerts.iter().map(|a| a.id).collect())
                .unwrap_or_default(),
            Tab::Inventory => self.inventory.iter().map(|r| r.id).collect(),
        }
    }

    /// Rows in the active panel's page.
    pub fn rows(&self, tab: Tab) -> usize {
        self.keys(tab).len()
    }
}

/// The Orders panel's query for the UI's group, filter and sort.
pub fn order_query(app: &App, snap: &Snapshot, ui: &UiState) -> Result<OrderQuery> {
    let (archived, status_id) = app.order_group_scope(snap.order_group(ui))?;
    let sort = ui.sorts[Tab::Orders.index()];
    let (sort, descending) = match sort.column {
        // Received ▲ is the newest arrival first; Age ▲ (youngest first) the newest creation first.
        0 => (OrderSort::Received, !sort.descending),
        1 => (OrderSort::Age, !sort.descending),
        2 => (OrderSort::Number, sort.descending),
        3 => (OrderSort::Customer, sort.descending),
        _ => (OrderSort::Status, sort.descending),
    };
    Ok(OrderQuery {
        archived,
        status_id,
        filter: ui.filters[Tab::Orders.index()].clone(),
        sort,
        descending,
    })
}

pub fn fulfilment_query(ui: &UiState) -> FulfilmentQuery {
    let sort = ui.sorts[Tab::Fulfilments.index()];
    let (sort, descending) = match sort.column {
        // Age ▼ (the longest waiting first) is the earliest shipment first.
        0 => (FulfilmentSort::Shipped, !sort.descending),
        1 => (FulfilmentSort::Number, sort.descending),
        _ => (FulfilmentSort::System, sort.descending),
    };
    FulfilmentQuery {
        filter: ui.filters[Tab::Fulfilments.index()].clone(),
        sort,
        descending,
    }
}

pub fn conflict_query(ui: &UiState) -> ConflictQuery {
    let sort = ui.sorts[Tab::Conflicts.index()];
    ConflictQuery {
        filter: ui.filters[Tab::Conflicts.index()].clone(),
        sort: match sort.column {
            0 => ConflictSort::Detected,
            1 => ConflictSort::Sku,
            _ => ConflictSort::Kind,
        },
        descending: sort.descending,
    }
}

pub fn job_query(ui: &UiState) -> JobQuery {
    let sort = ui.sorts[Tab::Errors.index()];
    JobQuery {
        filter: ui.filters[Tab::Errors.index()].clone(),
        sort: match sort.column {
            0 => JobSort::Id,
            1 => JobSort::State,
            2 => JobSort::Kind,
            _ => JobSort::Attempts,
        },
        descending: sort.descending,
    }
}

pub fn inventory_query(ui: &UiState) -> InventoryQuery {
    let sort = ui.sorts[Tab::Inventory.index()];
    InventoryQuery {
        filter: ui.filters[Tab::Inventory.index()].clone(),
        sort: match sort.column {
            0 => InventorySort::PosSku,
            1 => InventorySort::StoreSku,
            2 => InventorySort::Name,
            _ => InventorySort::State,
        },
        descending: sort.descending,
    }
}

/// The detail pane for the row under the cursor (the last row if the cursor is past the end).
pub fn detail(
    app: &mut App,
    page: &[ConsoleOrder],
    cursor: usize,
) -> Result<Option<(OrderDetail, Vec<Link>)>> {
    let Some(row) = page.get(cursor.min(page.len().saturating_sub(1))) else {
        return Ok(None);
    };
    let detail = app.order(&format!("#{}", row.summary.id))?;
    let links = app.order_links(row.summary.id)?;
    Ok(Some((detail, links)))
}

/// The selected order's backorder notices and line names.
pub fn order_extras(app: &mut App, detail: Option<&OrderDetail>) -> Result<OrderExtras> {
    let Some(d) = detail else {
        return Ok(OrderExtras::default());
    };
    let mut line_names = Vec::with_capacity(d.lines.len());
    for l in &d.lines {
        line_names.push(match l.name.as_deref().filter(|n| !n.trim().is_empty()) {
            Some(n) => Some(n.to_string()),
            None => app.product_name(&l.sku)?,
        });
    }
    Ok(OrderExtras {
        notices: app.backorder_notices(d.id)?,
        line_names,
    })
}

/// How many changes the Inventory panel's trace pane shows (the zoomed trace shows a page).
pub const TRACE_PANE_ROWS: i64 = 8;

/// The trace of the Inventory row under the cursor.
pub fn trace(
    app: &mut App,
    page: &[InventoryRow],
    cursor: usize,
    limit: i64,
    offset: i64,
) -> Result<Option<StockTrace>> {
    let Some(row) = page.get(cursor.min(page.len().saturating_sub(1))) else {
        return Ok(None);
    };
    Ok(Some(app.stock_trace(&row.store_sku, limit, offset)?))
}

/// The trace as the UI shows it: a pane of the newest changes, or (zoomed) a page from `trace_offset`.
pub fn ui_trace(app: &mut App, snap: &Snapshot, ui: &UiState) -> Result<Option<StockTrace>> {
    let (limit, offset) = if ui.zoom {
        (ui.page_rows.max(1) as i64, ui.trace_offset)
    } else {
        (TRACE_PANE_ROWS, 0)
    };
    trace(app, &snap.inventory, ui.pos().cursor, limit, offset)
}

/// How often the dashboard's history-wide numbers are recomputed (queue depth and lease follow every change).
pub const METRICS_EVERY_MS: Millis = 10_000;

/// Whether the dashboard's history-wide numbers are missing or older than [`METRICS_EVERY_MS`].
pub fn metrics_due(d: &Dashboard, now: Millis) -> bool {
    d.metrics_at == 0 || now - d.metrics_at >= METRICS_EVERY_MS
}

/// Reads the snapshot for `ui` (reading one row past the page to know whether more follow).
/// `previous` is the dashboard on screen, whose expensive numbers are reused while they are fresh;
/// with `background_metrics` they are never computed here (a [`super::metrics::MetricsWorker`] does it).
pub fn build(
    app: &mut App,
    ui: &UiState,
    conflicts: &mut dyn ConflictSource,
    now: Millis,
    previous: Option<&Dashboard>,
    anchor: Option<PageAnchor>,
    background_metrics: bool,
) -> Result<Snapshot> {
    let mut snap = Snapshot::empty(now);
    snap.statuses = app.status_summaries()?;
    (snap.dead_jobs, snap.retrying_jobs) = app.problem_job_counts()?;
    let pos = ui.pos();
    let limit = ui.page_rows.max(1) as i64;
    // A list that knows its total says whether rows follow the page by it.
    let more = |total: i64| pos.offset + limit < total;
    match ui.tab {
        Tab::Orders => {
            let q = order_query(app, &snap, ui)?;
            let (mut page, anchor) = app.orders_panel_page(&q, limit + 1, pos.offset, anchor)?;
            snap.orders_anchor = anchor;
            snap.has_more = page.len() as i64 > limit;
            page.truncate(limit as usize);
            if q.filter.is_none() {
                snap.total = Some(app.count_orders_panel(&q)?);
            } else if let (false, false, Some(filter)) = (q.archived, snap.has_more, &q.filter) {
                // Matches in the archive, offered when the active matches fit on one page (the order
                // looked for may be archived); a bounded count, so typing stays fast on any store.
                snap.archived_matches = app.archived_matches(filter)?;
            }
            snap.detail = detail(app, &page, pos.cursor)?;
            snap.order_extras = order_extras(app, snap.detail.as_ref().map(|(d, _)| d))?;
            snap.orders = page;
        }
        Tab::Fulfilments => {
            let page = app.fulfilments_panel(&fulfilment_query(ui), limit, pos.offset)?;
            snap.has_more = more(page.total);
            snap.total = Some(page.total);
            snap.fulfilments = page.rows;
        }
        Tab::Conflicts => {
            snap.conflicts = conflicts.page(app, &conflict_query(ui), limit, pos.offset);
            if let ConflictsView::Rows(_, total) = &snap.conflicts {
                snap.has_more = more(*total);
                snap.total = Some(*total);
            }
        }
        Tab::Errors => {
            let page = app.jobs_panel(&job_query(ui), limit, pos.offset)?;
            snap.has_more = more(page.total);
            snap.total = Some(page.total);
            if let Some(j) = page
                .rows
                .get(pos.cursor.min(page.rows.len().saturating_sub(1)))
            {
                snap.job_detail = Some(app.job_detail(j.id)?);
            }
            snap.job_explained = app.explain_jobs(&page.rows)?;
            snap.jobs = page.rows;
        }
        Tab::Dashboard => {
            let mut d = match previous {
                Some(d) if !metrics_due(d, now) => app.dashboard_live(d)?,
                // A background worker will bring the metrics; show the live numbers meanwhile.
                _ if background_metrics => {
                    app.dashboard_live(previous.unwrap_or(&Dashboard::default()))?
                }
                _ => app.dashboard(now)?,
            };
            // The alert list pages through every open alert, a screenful at a time.
            let alerts = app.open_alerts_page(limit, pos.offset)?;
            d.alerts = alerts.rows;
            snap.open_alerts = alerts.total;
            snap.has_more = more(alerts.total);
            snap.total = Some(alerts.total);
            snap.dashboard = Some(d);
        }
        Tab::Inventory => {
            let page = app.inventory(&inventory_query(ui), limit, pos.offset)?;
            snap.has_more = more(page.total);
            snap.total = Some(page.total);
            snap.inventory = page.rows;
            snap.trace = ui_trace(app, &snap, ui)?;
        }
    }
    Ok(snap)
}
