//! What the screen shows, read from the store in one go: the header counts plus the rows of the active
//! panel's visible page only (never whole tables). `now` is injected so ages are reproducible in tests.

use crate::app::console::{ConsoleOrder, Dashboard};
use crate::app::{App, OrderDetail, Result, StatusSummary};
use crate::domain::time::Millis;
use crate::store::Job;
use crate::store::console::{PageAnchor, UnsyncedFulfilment};
use crate::store::jobs::JobDetail;
use crate::store::links::Link;

use super::conflicts::{ConflictSource, ConflictsView};
use super::state::{Tab, UiState};

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub now: Millis,
    pub statuses: Vec<StatusSummary>,
    pub dead_jobs: i64,
    pub retrying_jobs: i64,
    /// The visible page of the active panel; `has_more` says whether rows follow it.
    pub orders: Vec<ConsoleOrder>,
    pub detail: Option<(OrderDetail, Vec<Link>)>,
    pub fulfilments: Vec<UnsyncedFulfilment>,
    pub conflicts: ConflictsView,
    pub jobs: Vec<Job>,
    /// The Errors panel's selected job with its attempt history.
    pub job_detail: Option<JobDetail>,
    pub dashboard: Option<Dashboard>,
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
            fulfilments: Vec::new(),
            conflicts: ConflictsView::Rows(Vec::new()),
            jobs: Vec::new(),
            job_detail: None,
            dashboard: None,
            has_more: false,
            orders_anchor: None,
        }
    }

    /// The selected status's name, `None` for "all active".
    pub fn status_filter(&self, ui: &UiState) -> Option<&str> {
        ui.status_index
            .checked_sub(1)
            .and_then(|i| self.statuses.get(i))
            .map(|s| s.name.as_str())
    }

    /// Rows in the active panel's page.
    pub fn rows(&self, tab: Tab) -> usize {
        match tab {
            Tab::Orders => self.orders.len(),
            Tab::Fulfilments => self.fulfilments.len(),
            Tab::Conflicts => match &self.conflicts {
                ConflictsView::Rows(r) => r.len(),
                ConflictsView::Unavailable(_) => 0,
            },
            Tab::Errors => self.jobs.len(),
            Tab::Dashboard => self.dashboard.as_ref().map_or(0, |d| d.alerts.len()),
        }
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
    match ui.tab {
        Tab::Orders => {
            let status = snap.status_filter(ui).map(String::from);
            let (mut page, anchor) = app.console_order_page(
                status.as_deref(),
                ui.filter.as_deref(),
                limit + 1,
                pos.offset,
                anchor,
            )?;
            snap.orders_anchor = anchor;
            snap.has_more = page.len() as i64 > limit;
            page.truncate(limit as usize);
            snap.detail = detail(app, &page, pos.cursor)?;
            snap.orders = page;
        }
        Tab::Fulfilments => {
            let mut page = app.unsynced_fulfilments(limit + 1, pos.offset)?;
            snap.has_more = page.len() as i64 > limit;
            page.truncate(limit as usize);
            snap.fulfilments = page;
        }
        Tab::Conflicts => {
            snap.conflicts = conflicts.page(app, limit, pos.offset);
        }
        Tab::Errors => {
            let mut page = app.problem_jobs(limit + 1, pos.offset)?;
            snap.has_more = page.len() as i64 > limit;
            page.truncate(limit as usize);
            if let Some(j) = page.get(pos.cursor.min(page.len().saturating_sub(1))) {
                snap.job_detail = Some(app.job_detail(j.id)?);
            }
            snap.jobs = page;
        }
        Tab::Dashboard => {
            snap.dashboard = Some(match previous {
                Some(d) if !metrics_due(d, now) => app.dashboard_live(d)?,
                // A background worker will bring the metrics; show the live numbers meanwhile.
                _ if background_metrics => {
                    app.dashboard_live(previous.unwrap_or(&Dashboard::default()))?
                }
                _ => app.dashboard(now)?,
            });
        }
    }
    Ok(snap)
}
