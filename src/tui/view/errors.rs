//! The Errors panel: failing jobs by what they work on (an order number or SKU, not an internal id) and
//! why they first failed as well as how they last failed; under them the selected job's detail, and on
//! Enter that detail over the whole body with every attempt of its history (scrolled with the arrows).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Wrap};

use super::panels::{nothing, page_title};
use super::{View, block, clip, empty_state, panel_table};
use crate::domain::time::{age, to_short};
use crate::store::jobs::Attempt;
use crate::store::{Job, JobState};
use crate::tui::state::Tab;

/// How tall the pane under the table is (the selected job's failures and latest attempts).
const JOB_DETAIL_HEIGHT: u16 = 11;
/// How many of the selected job's attempts the pane lists (the newest; Enter lists them all).
const JOB_DETAIL_ATTEMPTS: usize = 3;

/// The Errors panel's table sits above a pane with the selected job's detail.
pub fn errors_table_area(body: Rect) -> Rect {
    Layout::vertical([Constraint::Min(5), Constraint::Length(JOB_DETAIL_HEIGHT)]).areas::<2>(body)
        [0]
}

/// One attempt as a line: number, when, outcome and its own message.
fn attempt_text(a: &Attempt) -> String {
    format!(
        "#{:<3} {} → {}  {:<9} {}",
        a.attempt,
        to_short(a.started_at),
        &to_short(a.ended_at)[11..],
        a.outcome,
        a.message.as_deref().unwrap_or("")
    )
}

fn attempt_style(a: &Attempt, v: &View) -> Style {
    if a.outcome == "done" {
        v.theme.ok
    } else {
        v.theme.warn
    }
}

/// The selected job: what it works on, its first and last failure, its payload and attempts (`all`: every
/// one, else the newest few).
fn job_detail(frame: &mut Frame, area: Rect, v: &View, all: bool) {
    let Some(j) = v.snap.jobs.get(v.ui.pos().cursor) else {
        return;
    };
    let detail = v.snap.job_detail.as_ref().filter(|d| d.job.id == j.id);
    let explained = v.snap.job_explained.get(&j.id);
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
    let mut lines = vec![Line::raw(head)];
    if let Some(e) = explained {
        lines.push(Line::raw(format!("target: {}", e.target)));
        if let Some(first) = &e.first_failure {
            lines.push(Line::styled(
                format!(
                    "first failure (attempt {}, {}): {}: {}",
                    first.attempt,
                    to_short(first.ended_at),
                    first.outcome,
                    first.message.as_deref().unwrap_or("—")
                ),
                v.theme.error,
            ));
        }
    }
    lines.push(Line::styled(
        format!("last {class}: {}", j.last_error.as_deref().unwrap_or("—")),
        v.theme.error,
    ));
    lines.push(Line::styled(format!("payload: {}", j.payload), v.theme.dim));
    if let Some(d) = detail {
        let shown = if all {
            d.history.len()
        } else {
            d.history.len().min(JOB_DETAIL_ATTEMPTS)
        };
        let more = if all { "" } else { "; enter lists all" };
        lines.push(Line::styled(
            format!(
                "attempts ({shown} of {}, newest last{more}):",
                d.history.len()
            ),
            v.theme.header,
        ));
        for a in &d.history[d.history.len() - shown..] {
            lines.push(Line::styled(attempt_text(a), attempt_style(a, v)));
        }
    }
    let title = if all {
        format!("Job {} · every attempt", j.id)
    } else {
        "Selected job".to_string()
    };
    let scroll = if all { v.ui.detail_scroll } else { 0 };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .scroll((scroll, 0))
            .block(block(title, v.theme)),
        area,
    );
}

pub fn errors(frame: &mut Frame, body: Rect, v: &View) {
    if v.ui.zoom {
        job_detail(frame, body, v, true);
        return;
    }
    let [area, detail] =
        Layout::vertical([Constraint::Min(5), Constraint::Length(JOB_DETAIL_HEIGHT)]).areas(body);
    job_detail(frame, detail, v, false);
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
    // Narrow, the first failure (the cause) keeps its column and the last one is in the pane below.
    let narrow = area.width < 110;
    let rows: Vec<Row> = jobs.iter().map(|j| job_row(j, v, narrow)).collect();
    let (widths, names) = if narrow {
        (
            vec![
                Constraint::Length(5),
                Constraint::Length(16),
                Constraint::Length(12),
                Constraint::Length(8),
                Constraint::Min(12),
                Constraint::Length(9),
            ],
            vec!["Id", "Kind", "Target", "Attempts", "First failure", "State"],
        )
    } else {
        (
            vec![
                Constraint::Length(5),
                Constraint::Length(7),
                Constraint::Length(16),
                Constraint::Length(18),
                Constraint::Length(8),
                Constraint::Min(12),
                Constraint::Min(12),
                Constraint::Length(9),
            ],
            vec![
                "Id",
                "State",
                "Kind",
                "Target",
                "Attempts",
                "First failure",
                "Last error",
                "Next try",
            ],
        )
    };
    panel_table(frame, area, v, Tab::Errors, title, &names, widths, rows);
}

/// One failing job's row; `narrow` folds State and Next try into one column so the cause gets the room.
fn job_row<'a>(j: &Job, v: &View, narrow: bool) -> Row<'a> {
    let next = match j.state {
        JobState::Retrying if j.run_at >= v.snap.now + 1000 => {
            format!("in {}", age(v.snap.now, j.run_at))
        }
        JobState::Retrying => "due now".into(),
        _ => "— (dead)".into(),
    };
    let explained = v.snap.job_explained.get(&j.id);
    let first = explained
        .and_then(|e| e.first_failure.as_ref())
        .and_then(|a| a.message.clone())
        .unwrap_or_default();
    let dead = j.state == JobState::Dead;
    let state = |text: String| {
        if dead {
            Line::styled(text, v.theme.error)
        } else {
            Line::styled(text, v.theme.warn)
        }
    };
    let target = Line::raw(clip(explained.map_or("—", |e| e.target.as_str()), 24));
    let tries = Line::raw(format!("{}/{}", j.attempts, j.max_attempts));
    if narrow {
        // One State column says both what it is and when it is tried next: the cause gets the room.
        let when = if dead {
            "✗ dead".to_string()
        } else {
            format!("↻ {}", next.trim_start_matches("in "))
        };
        return Row::new(vec![
            Line::raw(j.id.to_string()),
            Line::raw(j.kind.clone()),
            target,
            tries,
            Line::raw(first),
            state(when),
        ]);
    }
    Row::new(vec![
        Line::raw(j.id.to_string()),
        state(if dead { "✗ dead" } else { "↻ retry" }.to_string()),
        Line::raw(j.kind.clone()),
        target,
        tries,
        Line::raw(first),
        Line::raw(j.last_error.clone().unwrap_or_default()),
        Line::raw(next),
    ])
}
