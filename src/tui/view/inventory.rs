//! The Inventory panel: every aligned SKU with what the POS and the store hold, the merge base, the last
//! pass, its open conflict and the product's name; below it the selected SKU's trace — every change on
//! either side with its source, old → new and the job — which Enter opens over the whole panel.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Wrap};

use super::{View, block, clip, empty_state, panel_table};
use crate::app::trace::{Side, StockTrace, TraceEntry};
use crate::domain::time::{age, to_short};
use crate::store::trace::InventoryRow;
use crate::tui::action::Action;
use crate::tui::state::{Tab, UiState};

/// The list over the trace pane (the trace alone when zoomed).
fn split(body: Rect) -> [Rect; 2] {
    Layout::vertical([Constraint::Percentage(50), Constraint::Min(0)]).areas(body)
}

/// Where the list's rows are (the zoomed trace's, when zoomed: its page size comes from there too).
pub fn table_area(body: Rect, ui: &UiState) -> Rect {
    if ui.zoom { body } else { split(body)[0] }
}

pub fn draw(frame: &mut Frame, body: Rect, v: &View) {
    if v.ui.zoom {
        trace(frame, body, v);
        return;
    }
    let [list, pane] = split(body);
    table(frame, list, v);
    trace(frame, pane, v);
}

fn num(v: Option<i64>) -> String {
    v.map_or_else(|| "—".into(), |n| n.to_string())
}

/// The pair's state in a word: its open conflict, an error, or how the last pass left it.
fn state(r: &InventoryRow) -> String {
    match (r.conflicts.first(), &r.last_error) {
        (Some(kind), _) => format!("? {kind}"),
        (None, Some(_)) => "! error".into(),
        (None, None) if r.last_pass_at.is_none() => "· never synced".into(),
        (None, None) => format!("✓ {}", r.sync_state),
    }
}

fn table(frame: &mut Frame, area: Rect, v: &View) {
    let rows = &v.snap.inventory;
    let title = match v.ui.filter() {
        Some(f) => format!("Inventory · /{f}"),
        None => "Inventory · aligned SKUs".to_string(),
    };
    let title = super::page_title(
        &title,
        v.ui.pos(),
        rows.len(),
        v.snap.has_more,
        v.snap.total,
    );
    if rows.is_empty() {
        let text = if v.ui.filter().is_some() {
            "No aligned SKU matches the filter (Esc clears it)."
        } else {
            "No SKU is aligned yet: `syncdesk alignment import FILE.csv` pairs POS and store SKUs."
        };
        empty_state(frame, area, &title, text, v.theme);
        return;
    }
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|r| {
            let state_style = if !r.conflicts.is_empty() || r.last_error.is_some() {
                v.theme.error
            } else {
                v.theme.dim
            };
            Row::new(vec![
                Line::raw(r.pos_sku.clone()),
                Line::raw(r.store_sku.clone()),
                Line::raw(r.name.clone().unwrap_or_else(|| "—".into())),
                Line::raw(num(r.pos)),
                Line::raw(num(r.store)),
                Line::raw(num(r.base)),
                Line::raw(r.last_pass_at.map_or("—".into(), |at| age(at, v.snap.now))),
                Line::styled(state(r), state_style),
            ])
        })
        .collect();
    let narrow = area.width < 100;
    // The state names the open conflict in full ("? quantity_mismatch"): on a narrow screen the SKUs and
    // the name give way first.
    let widths = [
        Constraint::Length(if narrow { 10 } else { 14 }),
        Constraint::Length(if narrow { 10 } else { 14 }),
        Constraint::Min(10),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(4),
        Constraint::Length(if narrow { 19 } else { 20 }),
    ];
    let names = [
        "POS SKU",
        "Store SKU",
        "Name",
        "POS",
        "Store",
        "Base",
        "Pass",
        "State",
    ];
    panel_table(
        frame,
        area,
        v,
        Tab::Inventory,
        title,
        &names,
        widths.to_vec(),
        table_rows,
    );
}

/// One change: when, which side, where from, old → new, the job, why.
fn entry_line<'a>(e: &TraceEntry, v: &View, wide: bool) -> Line<'a> {
    let t = v.theme;
    let when = to_short(e.at);
    let change = format!(
        "{} → {}",
        e.old.as_deref().unwrap_or("—"),
        e.new.as_deref().unwrap_or("—")
    );
    let side_style = match e.side {
        Side::Pos => t.warn,
        Side::Store => t.ok,
        Side::Decision | Side::Pairing => t.title,
    };
    let job = e.job_id.map(|j| format!("job {j}")).unwrap_or_default();
    let mut spans = vec![
        Span::styled(
            format!("{} ", if wide { &when[..] } else { &when[5..] }),
            t.dim,
        ),
        Span::styled(format!("{:<5} ", e.side.label()), side_style),
        Span::raw(format!("{:<20} ", clip(&e.source_label(), 20))),
        Span::raw(format!("{change:>11} ")),
        Span::styled(format!("{job:<9} "), t.dim),
    ];
    if let Some(why) = &e.why {
        spans.push(Span::styled(why.clone(), t.dim));
    }
    Line::from(spans)
}

fn trace(frame: &mut Frame, area: Rect, v: &View) {
    let Some(tr) = &v.snap.trace else {
        empty_state(
            frame,
            area,
            "Trace",
            "Select a SKU to see why its stock is what it is.",
            v.theme,
        );
        return;
    };
    let p = &tr.pair;
    let key = |a: Action| v.keys.normal.short(a);
    let title = if v.ui.zoom {
        let first = v.ui.trace_offset + 1;
        let last = v.ui.trace_offset + tr.entries.len() as i64;
        format!(
            "Trace {} · changes {first}–{last} of {} · {} back",
            p.store_sku,
            tr.total,
            key(Action::Back)
        )
    } else {
        format!(
            "Trace {} · {} newest of {} · {} opens",
            p.store_sku,
            tr.entries.len(),
            tr.total,
            key(Action::Open)
        )
    };
    let wide = area.width >= 120;
    let mut lines = header_lines(tr, v);
    if tr.entries.is_empty() {
        lines.push(Line::styled(
            "No change on record yet: the next stock pass records what moves.",
            v.theme.dim,
        ));
    }
    lines.extend(tr.entries.iter().map(|e| entry_line(e, v, wide)));
    let wrap = if v.ui.zoom {
        Some(Wrap { trim: false })
    } else {
        None
    };
    let mut paragraph = Paragraph::new(lines).block(block(title, v.theme));
    if let Some(w) = wrap {
        paragraph = paragraph.wrap(w);
    }
    frame.render_widget(paragraph, area);
}

/// What the SKU is now: both SKUs and the name, the numbers, and any open conflict.
fn header_lines<'a>(tr: &StockTrace, v: &View) -> Vec<Line<'a>> {
    let p = &tr.pair;
    let mut out = vec![Line::from(vec![
        Span::styled(
            format!("{} ↔ POS {}", p.store_sku, p.pos_sku),
            v.theme.title,
        ),
        Span::raw(
            p.name
                .as_deref()
                .map(|n| format!(" · {n}"))
                .unwrap_or_default(),
        ),
    ])];
    out.push(Line::raw(format!(
        "now POS {} · store {} · base {} · last pass {}",
        num(p.pos),
        num(p.store),
        num(p.base),
        p.last_pass_at
            .map_or("never".into(), |at| format!("{} ago", age(at, v.snap.now)))
    )));
    for c in &tr.open_conflicts {
        out.push(Line::styled(
            format!(
                "open {} (POS {}, store {}): {}",
                c.kind,
                c.pos_value.as_deref().unwrap_or("—"),
                c.store_value.as_deref().unwrap_or("—"),
                c.detail
            ),
            v.theme.error,
        ));
    }
    out
}
