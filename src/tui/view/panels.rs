//! The list panels besides Orders and Inventory: fulfilments waiting to sync, stock conflicts (with product
//! names) and failing jobs — each filtered and sorted on its own, its title saying how many rows it holds.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table, TableState, Wrap};

use super::{View, block, clip, empty_state, sorted_header};
use crate::domain::time::{age, to_short};
use crate::store::JobState;
use crate::tui::conflicts::ConflictsView;
use crate::tui::state::Tab;

/// A panel's title with its filter and where the page is.
fn page_title(title: &str, v: &View, rows: usize) -> String {
    let title = match v.ui.filter() {
        Some(f) => format!("{title} · /{f}"),
        None => title.to_string(),
    };
    super::page_title(&title, v.ui.pos(), rows, v.snap.has_more, v.snap.total)
}

/// What an empty list says: nothing at all, or nothing matching the filter.
fn nothing<'a>(v: &View, none: &'a str) -> &'a str {
    if v.ui.filter().is_some() {
        "Nothing matches the filter (Esc clears it)."
    } else {
        none
    }
}

pub fn fulfilments(frame: &mut Frame, area: Rect, v: &View) {
    let rows = &v.snap.fulfilments;
    let title = page_title("Fulfilments not yet synced", v, rows.len());
    if rows.is_empty() {
        let text = nothing(
            v,
            "Nothing waiting: every shipped order's channel link is synced (or no order is linked to a channel yet).",
        );
        empty_state(frame, area, &title, text, v.theme);
        return;
    }
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|f| {
            let reason = f
                .last_error
                .clone()
                .unwrap_or_else(|| format!("link is {}", f.sync_state));
            Row::new(vec![
                Line::raw(f.number.clone()),
                Line::raw(f.channel.clone()),
                Line::raw(f.system.clone()),
                Line::styled(
                    f.sync_state.clone(),
                    if f.last_error.is_some() {
                        v.theme.error
                    } else {
                        v.theme.warn
                    },
                ),
                Line::raw(f.shipments.to_string()),
                Line::raw(age(f.last_shipped_at, v.snap.now)),
                Line::raw(reason),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(12),
        Constraint::Length(11),
        Constraint::Length(12),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Min(16),
    ];
    let header = sorted_header(
        &[
            "Number", "Channel", "System", "State", "Ships", "Age", "Reason",
        ],
        Tab::Fulfilments,
        v,
    );
    let mut state = TableState::default().with_selected(Some(v.ui.pos().cursor));
    frame.render_stateful_widget(
        Table::new(table_rows, widths)
            .header(header)
            .block(block(title, v.theme))
            .row_highlight_style(v.theme.selected)
            .highlight_symbol("▸ "),
        area,
        &mut state,
    );
}

pub fn conflicts(frame: &mut Frame, area: Rect, v: &View) {
    let rows = match &v.snap.conflicts {
        ConflictsView::Unavailable(why) => {
            empty_state(frame, area, "Conflicts", why, v.theme);
            return;
        }
        ConflictsView::Rows(rows, _) if rows.is_empty() => {
            let title = page_title("Open conflicts", v, 0);
            empty_state(
                frame,
                area,
                &title,
                nothing(v, "No open conflicts."),
                v.theme,
            );
            return;
        }
        ConflictsView::Rows(rows, _) => rows,
    };
    // Narrow, the detected time drops to its clock and the why takes what is left.
    let narrow = area.width < 110;
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|c| {
            let detected = to_short(c.detected_at);
            Row::new(vec![
                c.kind.clone(),
                c.sku.clone(),
                c.name.clone().unwrap_or_else(|| "—".into()),
                c.pos_value.clone(),
                c.store_value.clone(),
                c.base.clone(),
                c.proposed.clone(),
                if narrow {
                    detected[11..].to_string()
                } else {
                    detected
                },
                c.detail.clone(),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(if narrow { 12 } else { 18 }),
        Constraint::Length(if narrow { 9 } else { 12 }),
        Constraint::Min(8),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Length(if narrow { 6 } else { 8 }),
        Constraint::Length(if narrow { 5 } else { 16 }),
        Constraint::Min(if narrow { 8 } else { 16 }),
    ];
    let header = sorted_header(
        &[
            "Type", "SKU", "Product", "POS", "Store", "Base", "Propose", "Detected", "Why",
        ],
        Tab::Conflicts,
        v,
    );
    let mut state = TableState::default().with_selected(Some(v.ui.pos().cursor));
    frame.render_stateful_widget(
        Table::new(table_rows, widths)
            .header(header)
            .block(block(page_title("Open conflicts", v, rows.len()), v.theme))
            .row_highlight_style(v.theme.selected)
            .highlight_symbol("▸ "),
        area,
        &mut state,
    );
}

/// What a job is about: its key, else the start of its payload.
fn target(key: Option<&str>, payload: &str) -> String {
    match key {
        Some(k) => k.to_string(),
        None => payload.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// How tall the Errors panel's pane for the selected job is (its error, payload and latest attempts).
const JOB_DETAIL_HEIGHT: u16 = 11;
/// How many of the selected job's attempts the pane lists (the newest; `jobs show ID` lists them all).
const JOB_DETAIL_ATTEMPTS: usize = 5;

/// The Errors panel's table sits above a pane with the selected job's full error, payload and attempts.
pub fn errors_table_area(body: Rect) -> Rect {
    Layout::vertical([Constraint::Min(5), Constraint::Length(JOB_DETAIL_HEIGHT)]).areas::<2>(body)
        [0]
}

fn job_detail(frame: &mut Frame, area: Rect, v: &View) {
    let Some(j) = v.snap.jobs.get(v.ui.pos().cursor) else {
        return;
    };
    let detail = v.snap.job_detail.as_ref().filter(|d| d.job.id == j.id);
    let class = detail
        .and_then(|d| d.error_class)
        .map_or("error".to_string(), |c| c.as_str().to_string());
    let mut head = format!(
        "job {} · {} · {} · attempts {}/{}",
        j.id,
        j.kind,
        j.state.as_str(),
        j.attempts,
        j.max_attempts,
    );
    if let Some(first) = detail.and_then(|d| d.first_failed_at) {
        head.push_str(&format!(" · failing for {}", age(first, v.snap.now)));
    }
    head.push_str(&format!(
        " · created {} · updated {}",
        to_short(j.created_at),
        &to_short(j.updated_at)[11..]
    ));
    let mut lines = vec![
        Line::raw(head),
        Line::styled(
            format!("{class}: {}", j.last_error.as_deref().unwrap_or("—")),
            v.theme.error,
        ),
        Line::styled(format!("payload: {}", j.payload), v.theme.dim),
    ];
    if let Some(d) = detail {
        let shown = d.history.len().min(JOB_DETAIL_ATTEMPTS);
        lines.push(Line::styled(
            format!(
                "attempts ({} of {}, newest last; `syncdesk jobs show {}` lists all):",
                shown,
                d.history.len(),
                j.id
            ),
            v.theme.header,
        ));
        for a in &d.history[d.history.len() - shown..] {
            lines.push(Line::styled(
                format!(
                    " #{:<3} {} → {}  {:<9} {}",
                    a.attempt,
                    to_short(a.started_at),
                    &to_short(a.ended_at)[11..],
                    a.outcome,
                    a.message.as_deref().unwrap_or("")
                ),
                if a.outcome == "done" {
                    v.theme.ok
                } else {
                    v.theme.warn
                },
            ));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block("Selected job", v.theme)),
        area,
    );
}

pub fn errors(frame: &mut Frame, body: Rect, v: &View) {
    let [area, detail] =
        Layout::vertical([Constraint::Min(5), Constraint::Length(JOB_DETAIL_HEIGHT)]).areas(body);
    job_detail(frame, detail, v);
    let jobs = &v.snap.jobs;
    // The same two numbers the tab and the Dashboard show: dead (✗, gave up) and retrying (↻, will try again).
    let title = page_title(
        &format!(
            "Failing jobs · ✗ {} dead · ↻ {} retrying",
            v.snap.dead_jobs, v.snap.retrying_jobs
        ),
        v,
        jobs.len(),
    );
    if jobs.is_empty() {
        let text = nothing(v, "No failing jobs: nothing is dead or waiting to retry.");
        empty_state(frame, area, &title, text, v.theme);
        return;
    }
    let rows: Vec<Row> = jobs
        .iter()
        .map(|j| {
            let next = match j.state {
                JobState::Retrying if j.run_at >= v.snap.now + 1000 => {
                    format!("in {}", age(v.snap.now, j.run_at))
                }
                JobState::Retrying => "due now".into(),
                _ => "— (dead)".into(),
            };
            Row::new(vec![
                Line::raw(j.id.to_string()),
                if j.state == JobState::Dead {
                    Line::styled("✗ dead", v.theme.error)
                } else {
                    Line::styled("↻ retry", v.theme.warn)
                },
                Line::raw(j.kind.clone()),
                Line::raw(clip(&target(j.key.as_deref(), &j.payload), 24)),
                Line::raw(format!("{}/{}", j.attempts, j.max_attempts)),
                Line::raw(j.last_error.clone().unwrap_or_default()),
                Line::raw(next),
            ])
        })
        .collect();
    let narrow = area.width < 110;
    let widths = [
        Constraint::Length(5),
        Constraint::Length(7),
        Constraint::Length(16),
        Constraint::Length(if narrow { 12 } else { 24 }),
        Constraint::Length(8),
        Constraint::Min(12),
        Constraint::Length(9),
    ];
    let header = sorted_header(
        &[
            "Id",
            "State",
            "Kind",
            "Target",
            "Attempts",
            "Last error",
            "Next try",
        ],
        Tab::Errors,
        v,
    );
    let mut state = TableState::default().with_selected(Some(v.ui.pos().cursor));
    frame.render_stateful_widget(
        Table::new(rows, widths)
            .header(header)
            .block(block(title, v.theme))
            .row_highlight_style(v.theme.selected)
            .highlight_symbol("▸ "),
        area,
        &mut state,
    );
}
