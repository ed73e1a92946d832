//! The list panels besides Orders: fulfilments waiting to sync, stock conflicts (empty until stock sync
//! exists) and failing jobs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table, TableState, Wrap};

use super::{View, block, clip, empty_state};
use crate::domain::time::{age, to_short};
use crate::store::JobState;
use crate::tui::conflicts::ConflictsView;

fn page_title(title: &str, v: &View, rows: usize) -> String {
    let pos = v.ui.pos();
    if pos.offset > 0 || v.snap.has_more {
        format!(
            "{title} · rows {}–{}{}",
            pos.offset + 1,
            pos.offset + rows as i64,
            if v.snap.has_more { "+" } else { "" }
        )
    } else {
        title.to_string()
    }
}

pub fn fulfilments(frame: &mut Frame, area: Rect, v: &View) {
    let rows = &v.snap.fulfilments;
    let title = page_title("Fulfilments not yet synced to the channel", v, rows.len());
    if rows.is_empty() {
        empty_state(
            frame,
            area,
            &title,
            "Nothing waiting: every shipped order's channel link is synced (or no order is linked to a channel yet).",
            v.theme,
        );
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
        Constraint::Length(12),
        Constraint::Length(12),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(5),
        Constraint::Min(20),
    ];
    let header = Row::new([
        "Number",
        "Channel",
        "System",
        "State",
        "Shipments",
        "Age",
        "Reason",
    ])
    .style(v.theme.header);
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
        ConflictsView::Rows(rows) if rows.is_empty() => {
            empty_state(frame, area, "Conflicts", "No open conflicts.", v.theme);
            return;
        }
        ConflictsView::Rows(rows) => rows,
    };
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|c| {
            Row::new(vec![
                c.kind.clone(),
                c.sku.clone(),
                c.pos_value.clone(),
                c.store_value.clone(),
                c.base.clone(),
                c.proposed.clone(),
                to_short(c.detected_at),
                c.detail.clone(),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(18),
        Constraint::Length(12),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(16),
        Constraint::Min(10),
    ];
    let header = Row::new([
        "Type", "SKU", "POS", "Store", "Base", "Proposed", "Detected", "Why",
    ])
    .style(v.theme.header);
    let mut state = TableState::default().with_selected(Some(v.ui.pos().cursor));
    frame.render_stateful_widget(
        Table::new(table_rows, widths)
            .header(header)
            .block(block(page_title("Conflicts", v, rows.len()), v.theme))
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
    let title = page_title(
        &format!(
            "Errors · {} dead, {} retrying",
            v.snap.dead_jobs, v.snap.retrying_jobs
        ),
        v,
        jobs.len(),
    );
    if jobs.is_empty() {
        empty_state(
            frame,
            area,
            &title,
            "No failing jobs: nothing is dead or waiting to retry.",
            v.theme,
        );
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
                Line::styled(
                    j.state.as_str(),
                    if j.state == JobState::Dead {
                        v.theme.error
                    } else {
                        v.theme.warn
                    },
                ),
                Line::raw(j.kind.clone()),
                Line::raw(clip(&target(j.key.as_deref(), &j.payload), 24)),
                Line::raw(format!("{}/{}", j.attempts, j.max_attempts)),
                Line::raw(j.last_error.clone().unwrap_or_default()),
                Line::raw(next),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Length(16),
        Constraint::Length(24),
        Constraint::Length(8),
        Constraint::Min(20),
        Constraint::Length(10),
    ];
    let header = Row::new([
        "Id",
        "State",
        "Kind",
        "Target",
        "Attempts",
        "Last error",
        "Next try",
    ])
    .style(v.theme.header);
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
