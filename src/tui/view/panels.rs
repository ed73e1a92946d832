//! The list panels besides Orders, Errors and Inventory: fulfilments waiting to sync and stock conflicts (with
//! product names) — each filtered and sorted on its own, its title saying how many rows it holds.

use crate::domain::inventory::ConflictKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::Row;

use super::{View, empty_state, panel_table};
use crate::domain::time::{age, to_short};
use crate::tui::conflicts::ConflictsView;
use crate::tui::state::Tab;

/// A panel's title with its filter and where the page is.
pub(super) fn page_title(title: &str, v: &View, rows: usize) -> String {
    let title = match v.ui.filter() {
        Some(f) => format!("{title} · /{f}"),
        None => title.to_string(),
    };
    super::page_title(&title, v.ui.pos(), rows, v.snap.has_more, v.snap.total)
}

/// What an empty list says: nothing at all, or nothing matching the filter.
pub(super) fn nothing<'a>(v: &View, none: &'a str) -> &'a str {
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
    let names = [
        "Number", "Channel", "System", "State", "Ships", "Age", "Reason",
    ];
    panel_table(
        frame,
        area,
        v,
        Tab::Fulfilments,
        title,
        &names,
        widths.to_vec(),
        table_rows,
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
    // Narrow, the type takes its short name, the detected time goes (the list is newest first), the product
    // gets only what the why leaves (the why says what to decide; the name is in the resolve dialog).
    let narrow = area.width < 110;
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|c| {
            let detected = to_short(c.detected_at);
            let kind = match ConflictKind::parse(&c.kind) {
                Some(k) if narrow => k.short().to_string(),
                _ => c.kind.clone(),
            };
            let mut cells = vec![
                kind,
                c.sku.clone(),
                c.name.clone().unwrap_or_else(|| "—".into()),
                c.pos_value.clone(),
                c.store_value.clone(),
                c.base.clone(),
                c.proposed.clone(),
                detected,
                c.detail.clone(),
            ];
            if narrow {
                cells.remove(7);
            }
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(if narrow { 11 } else { 18 }),
        Constraint::Length(if narrow { 9 } else { 12 }),
        if narrow {
            Constraint::Max(10)
        } else {
            Constraint::Min(8)
        },
        Constraint::Length(if narrow { 5 } else { 6 }),
        Constraint::Length(if narrow { 5 } else { 6 }),
        Constraint::Length(if narrow { 4 } else { 5 }),
        Constraint::Length(if narrow { 7 } else { 8 }),
        Constraint::Length(16),
        Constraint::Min(if narrow { 14 } else { 16 }),
    ];
    let mut names = vec![
        "Type", "SKU", "Product", "POS", "Store", "Base", "Propose", "Detected", "Why",
    ];
    if narrow {
        widths.remove(7);
        names.remove(7);
    }
    let title = page_title("Open conflicts", v, rows.len());
    panel_table(
        frame,
        area,
        v,
        Tab::Conflicts,
        title,
        &names,
        widths,
        table_rows,
    );
}
