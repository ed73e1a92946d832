//! The Dashboard: queue depth by state, throughput, the engine lease, the Restock workflow metrics from
//! status history (as bars and a gauge), connector health (up/down, last success, a latency sparkline, link
//! errors) and the open alerts, one of which is selected for acknowledging.

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::Line;
use ratatui::text::Span;
use ratatui::widgets::{
    Bar, BarChart, BarGroup, Gauge, List, ListItem, ListState, Paragraph, Sparkline,
};

use super::{View, block, clip, empty_state};
use crate::app::console::Dashboard;
use crate::domain::time::age;
use crate::tui::action::Action;

/// A duration in ms as `45s`, `12m`, `3h`, `5d`, `2d 4h`.
fn span(ms: f64) -> String {
    let secs = (ms / 1000.0).max(0.0) as i64;
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

pub fn draw(frame: &mut Frame, area: Rect, v: &View) {
    let Some(d) = &v.snap.dashboard else {
        empty_state(frame, area, "Dashboard", "loading…", v.theme);
        return;
    };
    let [top, middle, bottom] = rows(area);
    // Narrow (80 columns), the metrics keep the width their lines need and the queue chart takes the rest.
    let [queue, engine, restock] = if top.width < 110 {
        Layout::horizontal([
            Constraint::Min(26),
            Constraint::Length(22),
            Constraint::Length(29),
        ])
        .areas(top)
    } else {
        Layout::horizontal([
            Constraint::Percentage(40),
            Constraint::Percentage(28),
            Constraint::Percentage(32),
        ])
        .areas(top)
    };
    queue_chart(frame, queue, d, v);
    engine_box(frame, engine, d, v);
    restock_box(frame, restock, d, v);
    let [times, operators] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(middle);
    time_in_status(frame, times, d, v);
    per_operator(frame, operators, d, v);
    let [health, open_alerts] = bottom_boxes(bottom);
    connectors(frame, health, d, v);
    alerts(frame, open_alerts, d, v);
}

/// The Dashboard's three bands: counts and charts, workflow metrics, connectors and alerts.
fn rows(area: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(10),
        Constraint::Min(6),
        Constraint::Length(8),
    ])
    .areas(area)
}

/// The bottom band: connector health on the left, the open alerts on the right.
fn bottom_boxes(bottom: Rect) -> [Rect; 2] {
    Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(bottom)
}

/// Where the open alerts are drawn (the console pages them by its height).
pub fn alerts_area(body: Rect) -> Rect {
    let [_, _, bottom] = rows(body);
    bottom_boxes(bottom)[1]
}

/// Values as one line of block characters, scaled to the largest.
fn spark_text(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    values
        .iter()
        .map(|v| BARS[((*v * 7).div_ceil(max) as usize).min(7)])
        .collect()
}

fn alerts(frame: &mut Frame, area: Rect, d: &Dashboard, v: &View) {
    let title = format!(
        "Open alerts · {}{}",
        v.snap.open_alerts,
        if v.ui.readonly {
            String::new()
        } else {
            format!(
                " · {} acknowledges",
                v.keys.normal.short(Action::Acknowledge)
            )
        }
    );
    if d.alerts.is_empty() {
        empty_state(frame, area, &title, "No open alerts.", v.theme);
        return;
    }
    let items: Vec<ListItem> = d
        .alerts
        .iter()
        .map(|a| {
            let style = match a.severity.as_str() {
                "high" => v.theme.error,
                "medium" => v.theme.warn,
                _ => v.theme.dim,
            };
            ListItem::new(Line::from(vec![
                Span::styled(format!("{:<8} ", clip(&a.severity, 8)), style),
                Span::raw(format!("{:>4} ", age(a.created_at, v.snap.now))),
                Span::raw(a.subject.clone()),
            ]))
        })
        .collect();
    let mut state = ListState::default().with_selected(Some(v.ui.pos().cursor));
    frame.render_stateful_widget(
        List::new(items)
            .block(block(title, v.theme))
            .highlight_style(v.theme.selected)
            .highlight_symbol("▸ "),
        area,
        &mut state,
    );
}

fn queue_chart(frame: &mut Frame, area: Rect, d: &Dashboard, v: &View) {
    let bars: Vec<Bar> = d
        .job_counts
        .iter()
        .map(|(state, n)| {
            let style = match state.as_str() {
                "dead" => v.theme.error,
                "retrying" => v.theme.warn,
                _ => v.theme.bar,
            };
            Bar::default()
                .value((*n).max(0) as u64)
                .label(Line::raw(match state.as_str() {
                    "queued" => "queue",
                    "running" => "run",
                    "retrying" => "retry",
                    "cancelled" => "cancel",
                    other => other,
                }))
                .style(style)
                .value_style(style.reversed())
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(6)
            .bar_gap(1)
            .block(block(
                format!(
                    "Jobs · {} waiting · {} dead",
                    d.job_counts
                        .iter()
                        .filter(|(s, _)| s == "queued" || s == "retrying")
                        .map(|(_, n)| n)
                        .sum::<i64>(),
                    d.job_counts
                        .iter()
                        .find(|(s, _)| s == "dead")
                        .map_or(0, |(_, n)| *n)
                ),
                v.theme,
            )),
        area,
    );
}

fn engine_box(frame: &mut Frame, area: Rect, d: &Dashboard, v: &View) {
    let mut lines = vec![
        Line::raw(format!("done last minute  {:>6}", d.done_last_minute)),
        Line::raw(format!("done last hour    {:>6}", d.done_last_hour)),
    ];
    match &d.lease {
        Some((holder, heartbeat, expires)) => {
            let alive = *expires >= v.snap.now;
            lines.push(Line::raw(format!("engine  {}", clip(holder, 24))));
            lines.push(Line::styled(
                format!(
                    "heartbeat {} ago{}",
                    age(*heartbeat, v.snap.now),
                    if alive { "" } else { " — lease EXPIRED" }
                ),
                if alive { v.theme.ok } else { v.theme.error },
            ));
        }
        None => lines.push(Line::styled(
            "no engine running (start `syncdesk serve`)",
            v.theme.warn,
        )),
    }
    // The engine waits out a store that refuses writes; its jobs resume by themselves.
    if let Some(o) = v.ui.engine.as_ref().and_then(|e| e.store.as_ref()) {
        let warning = [
            format!("STORE UNAVAILABLE: {}", o.condition),
            format!(
                "since {} ({} ago)",
                crate::domain::time::to_short(o.since),
                age(o.since, v.snap.now)
            ),
            "jobs wait; nothing is lost".to_string(),
        ];
        for (i, text) in warning.into_iter().enumerate() {
            lines.insert(i, Line::styled(text, v.theme.error));
        }
    }
    let b = block("Throughput · engine", v.theme);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let [spark, text] = Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(inner);
    // The last hour, one column per minute (the newest at the right), as wide as the box allows.
    let width = usize::from(spark.width).min(d.done_per_minute.len());
    let recent = &d.done_per_minute[d.done_per_minute.len() - width..];
    frame.render_widget(Sparkline::default().data(recent).style(v.theme.bar), spark);
    frame.render_widget(
        Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }),
        text,
    );
}

fn restock_box(frame: &mut Frame, area: Rect, d: &Dashboard, v: &View) {
    let b = block(
        if d.metrics_at == 0 {
            "Restock metrics · computing…"
        } else {
            "Restock metrics"
        },
        v.theme,
    );
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let [text, gauge_label, gauge] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let backorder = percent(d.backordered_orders, d.orders)
        .map_or("—".into(), |p| format!("{:.0}%", p * 100.0));
    let lines = vec![
        Line::raw(format!(
            "Pending→Shipped {} avg",
            d.avg_to_shipped_ms.map_or("—".into(), span)
        )),
        Line::styled(
            format!(
                "  over {} order{}",
                d.shipped_orders,
                if d.shipped_orders == 1 { "" } else { "s" }
            ),
            v.theme.dim,
        ),
        Line::raw(format!(
            "backorder freq. {backorder} ({}/{})",
            d.backordered_orders, d.orders
        )),
        Line::raw(format!(
            "completed {} · cancelled {}",
            d.completed, d.cancelled
        )),
    ];
    frame.render_widget(Paragraph::new(lines), text);
    let rate = percent(d.completed, d.completed + d.cancelled);
    // The figure beside its name, not drawn over the bar.
    frame.render_widget(
        Line::raw(format!(
            "completion rate {}",
            rate.map_or("—".into(), |r| format!("{:.0}%", r * 100.0))
        )),
        gauge_label,
    );
    frame.render_widget(
        Gauge::default()
            .ratio(rate.unwrap_or(0.0).clamp(0.0, 1.0))
            .label("")
            .gauge_style(v.theme.ok)
            .use_unicode(true),
        gauge,
    );
}

fn time_in_status(frame: &mut Frame, area: Rect, d: &Dashboard, v: &View) {
    if d.avg_time_in_status.is_empty() {
        empty_state(
            frame,
            area,
            "Average time in each status",
            "No status changes yet.",
            v.theme,
        );
        return;
    }
    let bars: Vec<Bar> = d
        .avg_time_in_status
        .iter()
        .map(|(name, ms, n)| {
            Bar::default()
                .value((ms / 1000.0).max(0.0) as u64)
                .text_value(format!("{} (n={n})", span(*ms)))
                .label(Line::raw(clip(name, 13)))
                .style(v.theme.bar)
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .direction(Direction::Horizontal)
            .data(BarGroup::default().bars(&bars))
            .bar_width(1)
            .bar_gap(0)
            .block(block("Average time in each status", v.theme)),
        area,
    );
}

fn per_operator(frame: &mut Frame, area: Rect, d: &Dashboard, v: &View) {
    if d.changes_by_operator.is_empty() {
        empty_state(
            frame,
            area,
            "Status changes per operator",
            "No changes yet.",
            v.theme,
        );
        return;
    }
    let bars: Vec<Bar> = d
        .changes_by_operator
        .iter()
        .map(|(who, n)| {
            Bar::default()
                .value((*n).max(0) as u64)
                .label(Line::raw(clip(who, 12)))
                .style(v.theme.bar)
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .direction(Direction::Horizontal)
            .data(BarGroup::default().bars(&bars))
            .bar_width(1)
            .bar_gap(0)
            .block(block("Status changes per operator", v.theme)),
        area,
    );
}

fn connectors(frame: &mut Frame, area: Rect, d: &Dashboard, v: &View) {
    let mut items: Vec<ListItem> = Vec::new();
    for c in &d.health {
        let (mark, state, style) = match (c.up, c.enabled) {
            (Some(true), _) => ("✓", "up", v.theme.ok),
            (Some(false), _) => ("✗", "DOWN", v.theme.error),
            (None, true) => ("·", "idle", v.theme.dim),
            (None, false) => ("·", "off", v.theme.dim),
        };
        let last = c
            .last_success
            .map_or("never".into(), |at| format!("{} ago", age(at, v.snap.now)));
        let latency = match c.latency_ms.last() {
            Some(ms) => format!("{} {ms}ms", spark_text(&c.latency_ms)),
            None => String::new(),
        };
        items.push(ListItem::new(Line::from(vec![
            Span::styled(format!("{mark} {:<16} {state:<4} ", c.name), style),
            Span::raw(format!("last ok {last:<9} ")),
            Span::styled(latency, v.theme.bar),
        ])));
        if let Some((at, error)) = &c.failing_since {
            items.push(ListItem::new(Line::styled(
                format!("    failing {} ago: {error}", age(*at, v.snap.now)),
                v.theme.error,
            )));
        }
    }
    for c in &d.connectors {
        let style = if c.errors > 0 {
            v.theme.error
        } else {
            v.theme.dim
        };
        items.push(ListItem::new(Line::styled(
            format!(
                "  {} links: {} · {} in error {}",
                c.system,
                c.links,
                c.errors,
                c.last_error.as_deref().unwrap_or("")
            ),
            style,
        )));
    }
    if items.is_empty() {
        items.push(ListItem::new(Line::styled(
            "no connector is enabled or has run yet",
            v.theme.dim,
        )));
    }
    frame.render_widget(
        List::new(items).block(block("Connector health · last success · run time", v.theme)),
        area,
    );
}
