//! The Orders panel: statuses with active counts on the side (below 100 columns the table takes the whole
//! width and its title names the group), the selected group's page of orders with a sync badge per row,
//! and the selected order's detail (lines with product names, shipments, links, history with its
//! backorder notices).

use crate::domain::LinkState;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph, Row, Table, TableState, Wrap};

use super::{View, block, clip, empty_state, sorted_header};
use crate::app::OrderDetail;
use crate::app::console::ConsoleOrder;
use crate::app::panels::OrderGroup;
use crate::domain::time::{age, to_rfc3339, to_short};
use crate::store::links::Link;
use crate::tui::action::Action;
use crate::tui::state::{Tab, UiState};
use crate::tui::theme::Theme;

const SIDE_WIDTH: u16 = 22;
/// Below this the status list gives its columns to the table.
const SIDE_FROM_WIDTH: u16 = 100;

fn split(body: Rect) -> (Option<Rect>, Rect, Rect) {
    let side_width = if body.width >= SIDE_FROM_WIDTH {
        SIDE_WIDTH
    } else {
        0
    };
    let [side, main] =
        Layout::horizontal([Constraint::Length(side_width), Constraint::Min(0)]).areas(body);
    let [table, detail] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Min(0)]).areas(main);
    ((side_width > 0).then_some(side), table, detail)
}

pub fn side_area(body: Rect, ui: &UiState) -> Option<Rect> {
    if ui.zoom { None } else { split(body).0 }
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
    if let Some(side) = side {
        statuses(frame, side, v);
    }
    table(frame, table_rect, v, side.is_none());
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
    items.push(entry("Archive", "all".into()));
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

/// The group as the table's title names it, with how many active orders it holds.
fn group_title(v: &View) -> String {
    match v.snap.order_group(v.ui) {
        OrderGroup::Active => {
            let n: i64 = v.snap.statuses.iter().map(|s| s.active_orders).sum();
            format!("all active ({n})")
        }
        OrderGroup::Status(name) => match v.snap.statuses.iter().find(|s| s.name == name) {
            Some(s) if !s.is_final => format!("{name} ({})", s.active_orders),
            _ => format!("{name} (archive)"),
        },
        OrderGroup::Archive => "archive".to_string(),
    }
}

fn table(frame: &mut Frame, area: Rect, v: &View, no_side: bool) {
    let mut title = format!("Orders · {}", group_title(v));
    if no_side {
        // No status list on screen: say how to change the group.
        title.push_str(&format!(
            " · {}/{} group",
            v.keys.normal.short(Action::PrevGroup),
            v.keys.normal.short(Action::NextGroup)
        ));
    }
    if let Some(f) = v.ui.filter() {
        title.push_str(&format!(" · /{f}"));
    }
    let archive_key = v.keys.normal.short(Action::ShowArchived);
    let archived = v.snap.archived_matches.filter(|n| *n > 0);
    // The archive count stops at a cap: "1000+" says there are at least that many.
    let counted = |n: i64| {
        if n >= crate::app::panels::ARCHIVED_MATCHES_CAP {
            format!("{n}+")
        } else {
            n.to_string()
        }
    };
    if let (Some(n), false) = (archived, v.snap.orders.is_empty()) {
        title.push_str(&format!(" · {} archived ({archive_key})", counted(n)));
    }
    let pos = v.ui.pos();
    // The group's count is in the title already; the total joins it only to place a page ("1–20 of 75").
    let paged = pos.offset > 0 || v.snap.has_more;
    let title = super::page_title(
        &title,
        pos,
        v.snap.orders.len(),
        v.snap.has_more,
        v.snap.total.filter(|_| paged),
    );
    if v.snap.orders.is_empty() {
        let text = match (v.ui.filter(), archived) {
            (Some(_), Some(n)) => format!(
                "No active order matches the filter — {} archived order{} match{}: {archive_key} shows them (Esc clears the filter).",
                counted(n),
                if n == 1 { "" } else { "s" },
                if n == 1 { "es" } else { "" },
            ),
            (Some(_), None) => "No order matches the filter (Esc clears it).".to_string(),
            (None, _) => {
                "No orders here. Orders arrive from the channels, or `syncdesk orders add`."
                    .to_string()
            }
        };
        empty_state(frame, area, &title, &text, v.theme);
        return;
    }
    let status_name = |id: i64| {
        v.snap
            .statuses
            .iter()
            .find(|s| s.id == id)
            .map_or_else(|| format!("#{id}"), |s| s.name.clone())
    };
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
            let row = Row::new(vec![
                Line::raw(if marked { "●" } else { " " }),
                Line::raw(s.number.clone()),
                Line::raw(s.channel.clone()),
                Line::raw(s.customer.clone().unwrap_or_else(|| "—".into())),
                Line::raw(items),
                Line::raw(age(s.created_at, v.snap.now)),
                Line::raw(status_name(s.status_id)),
                Line::from(badge(&o.links, v.theme)),
            ]);
            if marked {
                row.style(v.theme.marked)
            } else {
                row
            }
        })
        .collect();
    // Every column keeps its place; on a narrow screen the flexible ones (customer, channel) give way first.
    let narrow = area.width < 90;
    let widths = [
        Constraint::Length(1),
        Constraint::Length(12),
        Constraint::Length(if narrow { 11 } else { 12 }),
        Constraint::Min(8),
        Constraint::Length(9),
        Constraint::Length(4),
        Constraint::Length(13),
        Constraint::Length(10),
    ];
    let header = sorted_header(
        &[
            "", "Number", "Channel", "Customer", "Items", "Age", "Status", "Sync",
        ],
        Tab::Orders,
        v,
    );
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
    out.extend(line_rows(d, v));
    out.extend(shipment_rows(d, t));
    out.extend(link_rows(links, v));
    out.extend(history_rows(d, v));
    out
}

/// Each order line: its product's name, ordered, shipped, and what is still open.
fn line_rows<'a>(d: &OrderDetail, v: &View) -> Vec<Line<'a>> {
    let t = v.theme;
    let mut out = vec![section("Lines", t)];
    for (i, l) in d.lines.iter().enumerate() {
        let name = v
            .snap
            .order_extras
            .line_names
            .get(i)
            .cloned()
            .flatten()
            .unwrap_or_default();
        let state = if l.quantity_shipped >= l.quantity {
            Span::styled("shipped", t.ok)
        } else if l.quantity_shipped > 0 {
            Span::styled(format!("{} open", l.quantity - l.quantity_shipped), t.warn)
        } else {
            Span::styled("open", t.dim)
        };
        out.push(Line::from(vec![
            Span::raw(format!(
                "  {:<12} {:<20} {:>3} ordered {:>3} shipped  ",
                clip(&l.sku, 12),
                clip(&name, 20),
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

/// The status history, newest first, with the backorder notices to purchasing among the changes.
fn history_rows<'a>(d: &OrderDetail, v: &View) -> Vec<Line<'a>> {
    let t = v.theme;
    let mut out = vec![section("History", t)];
    let mut notices: Vec<_> = v.snap.order_extras.notices.iter().collect();
    notices.sort_by_key(|n| std::cmp::Reverse(n.created_at));
    let mut notices = notices.into_iter().peekable();
    for h in d.history.iter().rev() {
        while let Some(n) = notices.next_if(|n| to_rfc3339(n.created_at) >= h.at) {
            out.push(notice_line(n, v));
        }
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
    out.extend(notices.map(|n| notice_line(n, v)));
    out
}

/// A backorder notice on the order's history: when it was queued and what became of it.
fn notice_line<'a>(n: &crate::store::panels::BackorderNotice, v: &View) -> Line<'a> {
    let t = v.theme;
    let (what, style) = match (n.accepted_at, n.state.as_str()) {
        (Some(at), _) => (format!("sent {}", short(&to_rfc3339(at))), t.ok),
        (None, "dead") => (
            format!(
                "NOT SENT after {} attempts: {}",
                n.attempts,
                n.last_error.as_deref().unwrap_or("failed")
            ),
            t.error,
        ),
        (None, "cancelled") => ("discarded, not sent".to_string(), t.warn),
        (None, "retrying") => (
            format!(
                "not sent yet (attempt {}/{}: {})",
                n.attempts,
                n.max_attempts,
                n.last_error.as_deref().unwrap_or("failed")
            ),
            t.warn,
        ),
        (None, "done") => ("done (no mail server record)".to_string(), t.dim),
        (None, _) => ("queued, not sent yet".to_string(), t.warn),
    };
    Line::from(vec![
        Span::styled(format!("  {} ", short(&to_rfc3339(n.created_at))), t.dim),
        Span::raw("backorder e-mail to purchasing: "),
        Span::styled(what, style),
        Span::styled(format!(" (job {})", n.job_id), t.dim),
    ])
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
