//! The Orders panel: statuses with active counts on the side, the selected status's page of orders with a
//! sync badge per row, and the selected order's detail (lines, shipments, links, history).

use crate::domain::LinkState;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph, Row, Table, TableState, Wrap};

use super::{View, block, clip, empty_state};
use crate::app::OrderDetail;
use crate::app::console::ConsoleOrder;
use crate::domain::time::{age, to_short};
use crate::store::links::Link;
use crate::tui::state::UiState;
use crate::tui::theme::Theme;

const SIDE_WIDTH: u16 = 22;

fn split(body: Rect) -> (Rect, Rect, Rect) {
    let [side, main] =
        Layout::horizontal([Constraint::Length(SIDE_WIDTH), Constraint::Min(0)]).areas(body);
    let [table, detail] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Min(0)]).areas(main);
    (side, table, detail)
}

pub fn side_area(body: Rect, ui: &UiState) -> Option<Rect> {
    (!ui.zoom).then(|| split(body).0)
}

pub fn table_area(body: Rect, ui: &UiState) -> Rect {
    if ui.zoom {
        return body;
    }
    split(body).1
}

pub fn draw(frame: &mut Frame, body: Rect, v: &View) {
    if v.ui.zoom {
        detail(frame, body, v);
        return;
    }
    let (side, table_rect, detail_rect) = split(body);
    statuses(frame, side, v);
    table(frame, table_rect, v);
    detail(frame, detail_rect, v);
}

fn statuses(frame: &mut Frame, area: Rect, v: &View) {
    let total: i64 = v.snap.statuses.iter().map(|s| s.active_orders).sum();
    // Name on the left, count on the right, within the list's inner width (less the selection mark).
    let inner = usize::from(SIDE_WIDTH.saturating_sub(3));
    let entry = |name: &str, count: String| {
        let name_width = inner.saturating_sub(count.chars().count() + 1);
        ListItem::new(format!("{:<name_width$} {count}", clip(name, name_width)))
    };
    let mut items = vec![entry("All active", total.to_string())];
    for s in &v.snap.statuses {
        let count = if s.is_final {
            "arch".to_string()
        } else {
            s.active_orders.to_string()
        };
        items.push(entry(&s.name, count));
    }
    let mut state = ListState::default().with_selected(Some(v.ui.status_index));
    frame.render_stateful_widget(
        List::new(items)
            .block(block("Statuses", v.theme))
            .highlight_style(v.theme.selected)
            .highlight_symbol("▸"),
        area,
        &mut state,
    );
}

/// A link deliberately not pushed (a rule or a missing mapping): its note is a reason, not an error.
fn held_back(state: &LinkState) -> bool {
    matches!(state, LinkState::Blocked | LinkState::Unmapped)
}

/// ? conflict, ✓ synced, ! error, – blocked, – unmapped, … pending, – none: the worst state among the
/// order's links (a conflict waits for a person, so it comes first).
pub fn badge(links: &[(String, LinkState, Option<String>)], theme: &Theme) -> Span<'static> {
    if links.is_empty() {
        return Span::styled("– none", theme.dim);
    }
    if links
        .iter()
        .any(|(_, state, _)| *state == LinkState::Conflict)
    {
        return Span::styled("? conflict", theme.error);
    }
    if links
        .iter()
        .any(|(_, state, err)| *state == LinkState::Error || (err.is_some() && !held_back(state)))
    {
        return Span::styled("! error", theme.error);
    }
    if links
        .iter()
        .all(|(_, state, _)| *state == LinkState::Synced)
    {
        return Span::styled("✓ synced", theme.ok);
    }
    if links
        .iter()
        .any(|(_, state, _)| *state == LinkState::Blocked)
    {
        return Span::styled("– blocked", theme.dim);
    }
    if links
        .iter()
        .any(|(_, state, _)| *state == LinkState::Unmapped)
    {
        return Span::styled("– unmapped", theme.dim);
    }
    Span::styled("… pending", theme.warn)
}

fn table(frame: &mut Frame, area: Rect, v: &View) {
    let title = match (v.snap.status_filter(v.ui), &v.ui.filter) {
        (None, None) => "Orders · all active".to_string(),
        (Some(s), None) => format!("Orders · {s}"),
        (None, Some(f)) => format!("Orders · all active · /{f}"),
        (Some(s), Some(f)) => format!("Orders · {s} · /{f}"),
    };
    let pos = v.ui.pos();
    let title = if pos.offset > 0 || v.snap.has_more {
        format!(
            "{title} · rows {}–{}{}",
            pos.offset + 1,
            pos.offset + v.snap.orders.len() as i64,
            if v.snap.has_more { "+" } else { "" }
        )
    } else {
        title
    };
    if v.snap.orders.is_empty() {
        let text = if v.ui.filter.is_some() {
            "No order matches the filter (Esc clears it)."
        } else {
            "No orders here. Orders arrive from the channels, or `syncdesk orders add`."
        };
        empty_state(frame, area, &title, text, v.theme);
        return;
    }
    let status_name = |id: i64| {
        v.snap
            .statuses
            .iter()
            .find(|s| s.id == id)
            .map_or_else(|| format!("#{id}"), |s| s.name.clone())
    };
    // Narrow screens drop the channel column and shorten the status.
    let narrow = area.width < 96;
    let rows: Vec<Row> = v
        .snap
        .orders
        .iter()
        .map(|o: &ConsoleOrder| {
            let s = &o.summary;
            let marked = v.ui.marked.contains_key(&s.id);
            let items = if s.quantity_shipped > 0 {
                format!("{} ({}/{})", s.items, s.quantity_shipped, s.quantity)
            } else {
                format!("{} ({})", s.items, s.quantity)
            };
            let mut cells = vec![
                Line::raw(if marked { "●" } else { " " }),
                Line::raw(s.number.clone()),
            ];
            if !narrow {
                cells.push(Line::raw(s.channel.clone()));
            }
            cells.extend([
                Line::raw(s.customer.clone().unwrap_or_else(|| "—".into())),
                Line::raw(items),
                Line::raw(age(s.created_at, v.snap.now)),
                Line::raw(status_name(s.status_id)),
                Line::from(badge(&o.links, v.theme)),
            ]);
            let row = Row::new(cells);
            if marked {
                row.style(v.theme.marked)
            } else {
                row
            }
        })
        .collect();
    let mut titles = vec!["", "Number"];
    let mut widths = vec![Constraint::Length(1), Constraint::Length(12)];
    if !narrow {
        titles.push("Channel");
        widths.push(Constraint::Length(12));
    }
    titles.extend(["Customer", "Items", "Age", "Status", "Sync"]);
    widths.extend([
        Constraint::Min(8),
        Constraint::Length(9),
        Constraint::Length(4),
        Constraint::Length(if narrow { 10 } else { 13 }),
        Constraint::Length(10),
    ]);
    let header = Row::new(titles).style(v.theme.header);
    let mut state = TableState::default().with_selected(Some(pos.cursor));
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

fn detail(frame: &mut Frame, area: Rect, v: &View) {
    let Some((d, links)) = &v.snap.detail else {
        empty_state(
            frame,
            area,
            "Detail",
            "Select an order to see its lines, shipments, links and history.",
            v.theme,
        );
        return;
    };
    let title = format!("{} · {} · v{}", d.number, d.status, d.version);
    frame.render_widget(
        Paragraph::new(detail_lines(d, links, v))
            .wrap(Wrap { trim: false })
            .scroll((if v.ui.zoom { v.ui.detail_scroll } else { 0 }, 0))
            .block(block(title, v.theme)),
        area,
    );
}

fn section(title: &str, theme: &Theme) -> Line<'static> {
    Line::styled(title.to_string(), theme.header)
}

fn short(rfc3339: &str) -> String {
    // 2026-11-21T21:41:24.123Z → 2026-11-21 21:41
    rfc3339
        .get(..16)
        .map_or_else(|| rfc3339.to_string(), |s| s.replace('T', " "))
}

/// The order's detail pane: a summary, then its lines, shipments, links and history.
fn detail_lines<'a>(d: &OrderDetail, links: &[Link], v: &View) -> Vec<Line<'a>> {
    let t = v.theme;
    let mut out = vec![Line::from(vec![Span::raw(format!(
        "{} · {} · created {} · updated {} by {}",
        d.channel,
        d.customer.as_deref().unwrap_or("no customer"),
        short(&d.created_at),
        short(&d.updated_at),
        d.updated_by
    ))])];
    if !d.allowed_next.is_empty() {
        out.push(Line::styled(
            format!("next: {}", d.allowed_next.join(", ")),
            t.dim,
        ));
    }
    out.extend(line_rows(d, t));
    out.extend(shipment_rows(d, t));
    out.extend(link_rows(links, v));
    out.extend(history_rows(d, t));
    out
}

/// Each order line: ordered, shipped, and what is still open.
fn line_rows<'a>(d: &OrderDetail, t: &Theme) -> Vec<Line<'a>> {
    let mut out = vec![section("Lines", t)];
    for l in &d.lines {
        let state = if l.quantity_shipped >= l.quantity {
            Span::styled("shipped", t.ok)
        } else if l.quantity_shipped > 0 {
            Span::styled(format!("{} open", l.quantity - l.quantity_shipped), t.warn)
        } else {
            Span::styled("open", t.dim)
        };
        out.push(Line::from(vec![
            Span::raw(format!(
                "  {:<14} {:>4} ordered {:>4} shipped  ",
                clip(&l.sku, 14),
                l.quantity,
                l.quantity_shipped
            )),
            state,
        ]));
    }
    out
}

/// Each shipment: when, how, by whom, and what it carried.
fn shipment_rows<'a>(d: &OrderDetail, t: &Theme) -> Vec<Line<'a>> {
    let mut out = vec![section("Shipments", t)];
    if d.shipments.is_empty() {
        out.push(Line::styled("  none yet", t.dim));
    }
    for s in &d.shipments {
        let lines: Vec<String> = s
            .lines
            .iter()
            .map(|l| format!("{}×{}", l.quantity, l.sku))
            .collect();
        out.push(Line::raw(format!(
            "  #{} {} {} {} by {} — {}{}",
            s.id,
            to_short(s.shipped_at),
            s.carrier.as_deref().unwrap_or("no carrier"),
            s.tracking.as_deref().unwrap_or("no tracking"),
            s.created_by,
            lines.join(", "),
            s.notes
                .as_deref()
                .map(|n| format!(" · {n}"))
                .unwrap_or_default()
        )));
    }
    out
}

/// Each link to another system: its state, the remote status, the last error, and how to settle a
/// conflict.
fn link_rows<'a>(links: &[Link], v: &View) -> Vec<Line<'a>> {
    let t = v.theme;
    let mut out = vec![section("Links", t)];
    if links.is_empty() {
        out.push(Line::styled(
            "  – not linked to any channel or back office",
            t.dim,
        ));
    }
    for l in links {
        let one = [(l.system.clone(), l.sync_state, l.last_error.clone())];
        let mut spans = vec![
            Span::raw(format!(
                "  {:<12} {:<10} ",
                clip(&l.system, 12),
                clip(&l.external_id, 10)
            )),
            badge(&one, t),
        ];
        if let Some(remote) = &l.remote_status {
            spans.push(Span::raw(format!("  remote: {remote}")));
        }
        if let Some(at) = l.last_synced_at {
            spans.push(Span::styled(
                format!("  synced {} ago", age(at, v.snap.now)),
                t.dim,
            ));
        }
        if let Some(e) = &l.last_error {
            let style = if held_back(&l.sync_state) {
                t.dim
            } else {
                t.error
            };
            spans.push(Span::styled(format!("  {e}"), style));
        }
        out.push(Line::from(spans));
        if l.sync_state == "conflict" {
            out.push(Line::styled(
                format!(
                    "    settle it: :settle store (take {}'s status) · :settle syncdesk (send ours over it)",
                    l.system
                ),
                t.warn,
            ));
        }
    }
    out
}

/// The status history, newest first.
fn history_rows<'a>(d: &OrderDetail, t: &Theme) -> Vec<Line<'a>> {
    let mut out = vec![section("History", t)];
    for h in d.history.iter().rev() {
        let from = h
            .from
            .as_deref()
            .map(|f| format!("{f} → "))
            .unwrap_or_default();
        out.push(Line::from(vec![
            Span::styled(format!("  {} ", short(&h.at)), t.dim),
            Span::raw(format!("{from}{} by {} ({})", h.to, h.by, h.source)),
            Span::styled(
                h.note
                    .as_deref()
                    .map(|n| format!(" — {n}"))
                    .unwrap_or_default(),
                Style::new(),
            ),
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(links: &[(&str, &str, Option<&str>)]) -> String {
        let links: Vec<(String, LinkState, Option<String>)> = links
            .iter()
            .map(|(s, st, e)| {
                let state = LinkState::parse(st).expect("a link state");
                (s.to_string(), state, e.map(String::from))
            })
            .collect();
        badge(&links, &Theme::monochrome()).content.to_string()
    }

    #[test]
    fn a_push_held_back_by_a_rule_or_mapping_is_not_an_error() {
        let rule = Some("blocked by rule delivered_by=marketplace");
        assert_eq!(shown(&[("market", "blocked", rule)]), "– blocked");
        assert_eq!(
            shown(&[("shop", "unmapped", Some("no mapping"))]),
            "– unmapped"
        );
        assert_eq!(
            shown(&[
                ("market", "blocked", rule),
                ("backoffice", "error", Some("gone"))
            ]),
            "! error"
        );
        assert_eq!(shown(&[("shop", "pending", Some("HTTP 503"))]), "! error");
        assert_eq!(shown(&[("shop", "synced", None)]), "✓ synced");
        // A store change syncdesk would have overwritten waits for a person: it outranks any error.
        assert_eq!(
            shown(&[
                ("shop", "conflict", Some("changed in the store")),
                ("backoffice", "error", Some("gone"))
            ]),
            "? conflict"
        );
    }
}
