//! Drawing: a pure function of (snapshot, UI state, theme, keymap). The frame is a header with the panel
//! tabs, the active panel, and one footer line for toasts, the filter/command line or key hints.

mod dashboard;
mod dialogs;
mod errors;
mod inventory;
mod orders;
mod panels;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState, Tabs, Wrap};

use super::action::Action;
use super::keymap::Keymap;
use super::snapshot::Snapshot;
use super::state::{LineKind, ListPos, Tab, ToastKind, UiState};
use super::theme::Theme;

/// Below this the layout cannot hold a table and a detail pane; a message says so instead.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 20;

/// Everything `draw` reads, bundled so panels take one argument.
pub struct View<'a> {
    pub snap: &'a Snapshot,
    pub ui: &'a UiState,
    pub theme: &'a Theme,
    pub keys: &'a Keymap,
}

pub fn draw(frame: &mut Frame, snap: &Snapshot, ui: &UiState, theme: &Theme, keys: &Keymap) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area, theme);
        return;
    }
    let v = View {
        snap,
        ui,
        theme,
        keys,
    };
    let [header, body, footer] = frame_layout(area);
    draw_header(frame, header, &v);
    match ui.tab {
        Tab::Orders => orders::draw(frame, body, &v),
        Tab::Fulfilments => panels::fulfilments(frame, body, &v),
        Tab::Conflicts => panels::conflicts(frame, body, &v),
        Tab::Errors => errors::errors(frame, body, &v),
        Tab::Dashboard => dashboard::draw(frame, body, &v),
        Tab::Inventory => inventory::draw(frame, body, &v),
    }
    draw_footer(frame, footer, &v);
    dialogs::draw(frame, body, &v);
}

fn frame_layout(area: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// How many table rows fit on screen for the active panel (the page size read from the store).
pub fn table_rows(width: u16, height: u16, ui: &UiState) -> usize {
    let [_, body, _] = frame_layout(Rect::new(0, 0, width, height));
    let table = match ui.tab {
        Tab::Orders => orders::table_area(body, ui),
        Tab::Errors => errors::errors_table_area(body),
        Tab::Inventory => inventory::table_area(body, ui),
        // The alert list has no header row: one more line holds an alert.
        Tab::Dashboard => {
            let alerts = dashboard::alerts_area(body);
            return usize::from(alerts.height.saturating_sub(2)).max(1);
        }
        _ => body,
    };
    // Borders (2) and the header row (1).
    usize::from(table.height.saturating_sub(3)).max(1)
}

fn too_small(frame: &mut Frame, area: Rect, theme: &Theme) {
    let text = vec![
        Line::styled("Terminal too small", theme.error),
        Line::raw(format!(
            "{}×{} — syncdesk needs at least {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        )),
        Line::raw("Enlarge the window (q quits)."),
    ];
    let top = area.height.saturating_sub(3) / 2;
    let [_, middle] = Layout::vertical([Constraint::Length(top), Constraint::Min(0)]).areas(area);
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        middle,
    );
}

/// Where a mouse click landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    Tab(Tab),
    Status(usize),
    Row(usize),
}

const BRAND: &str = " syncdesk";

/// The header's pieces for a width: whether the brand shows, and each tab's label. Full titles when they
/// fit beside the flags, else short ones, else only the active tab's title (the others by their key).
fn tab_labels(width: u16, snap: &Snapshot, ui: &UiState, keys: &Keymap) -> (bool, Vec<String>) {
    let flags = header_flags(ui, width).chars().count();
    let errors = match (snap.dead_jobs, snap.retrying_jobs) {
        (0, 0) => String::new(),
        (dead, 0) => format!(" ✗{dead}"),
        (0, retrying) => format!(" ↻{retrying}"),
        (dead, retrying) => format!(" ✗{dead} ↻{retrying}"),
    };
    let label = |t: Tab, title: &str| {
        let key = keys.normal.short(tab_action(t));
        let extra = if t == Tab::Errors {
            errors.as_str()
        } else {
            ""
        };
        if title.is_empty() {
            format!("{key}{extra}")
        } else {
            format!("{key} {title}{extra}")
        }
    };
    let fits = |labels: &[String], brand: bool| {
        // Tabs pad each title by one cell either side and put a divider between them.
        let tabs: usize = labels.iter().map(|l| l.chars().count() + 3).sum::<usize>();
        let brand = if brand { BRAND.chars().count() + 1 } else { 0 };
        brand + tabs + flags <= usize::from(width)
    };
    let full: Vec<String> = Tab::ALL.iter().map(|t| label(*t, t.title())).collect();
    let short: Vec<String> = Tab::ALL.iter().map(|t| label(*t, t.short())).collect();
    // The panel you are on keeps its longer name; the others shrink first.
    let tiny: Vec<String> = Tab::ALL
        .iter()
        .map(|t| label(*t, if *t == ui.tab { t.short() } else { t.tiny() }))
        .collect();
    let all_tiny: Vec<String> = Tab::ALL.iter().map(|t| label(*t, t.tiny())).collect();
    let keys_only: Vec<String> = Tab::ALL
        .iter()
        .map(|t| label(*t, if *t == ui.tab { t.short() } else { "" }))
        .collect();
    for (brand, labels) in [
        (true, &full),
        (false, &full),
        (true, &short),
        (false, &short),
        (false, &tiny),
        (false, &all_tiny),
    ] {
        if fits(labels, brand) {
            return (brand, labels.clone());
        }
    }
    (false, keys_only)
}

/// The right side of the header: who, and the console's state (in fewer words below 110 columns, so the
/// panels' names keep their room at 80).
fn header_flags(ui: &UiState, width: u16) -> String {
    let narrow = width < 110;
    let mut flags = Vec::new();
    if !ui.operator.trim().is_empty() {
        flags.push(format!("{} · {}", ui.operator, ui.role));
    }
    if ui.readonly {
        flags.push("READ-ONLY".into());
    }
    if ui.frozen {
        flags.push("FROZEN".into());
    }
    if ui.mouse {
        flags.push("mouse".into());
    }
    if let Some(o) = ui.engine.as_ref().and_then(|e| e.store.as_ref()) {
        flags.push(format!("STORE {}", o.condition.as_str().to_uppercase()));
    }
    if let Some(e) = &ui.engine {
        flags.push(match (e.holds_lease, narrow) {
            (true, false) => format!("engine: {} running", e.running),
            (true, true) => format!("eng {}", e.running),
            (false, _) => "engine: standby".into(),
        });
    }
    const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    for s in &ui.syncs {
        flags.push(format!(
            "{} sync {} {}",
            SPINNER[ui.spin % SPINNER.len()],
            s.name,
            s.state
        ));
    }
    format!(" {} ", flags.join(" · "))
}

/// What is under screen cell (x, y), using the same layout `draw` uses.
pub fn hit(
    width: u16,
    height: u16,
    snap: &Snapshot,
    ui: &UiState,
    keys: &Keymap,
    x: u16,
    y: u16,
) -> Option<Hit> {
    if width < MIN_WIDTH || height < MIN_HEIGHT || ui.modal.is_some() {
        return None;
    }
    let [header, body, _] = frame_layout(Rect::new(0, 0, width, height));
    if y == header.y {
        // Tabs draw " label " per title with a one-cell divider between them.
        let (brand, labels) = tab_labels(width, snap, ui, keys);
        let brand_width = if brand {
            BRAND.chars().count() as u16 + 1
        } else {
            0
        };
        let mut start = header.x + brand_width;
        for (tab, label) in Tab::ALL.iter().zip(labels) {
            let end = start + label.chars().count() as u16 + 2;
            if (start..end).contains(&x) {
                return Some(Hit::Tab(*tab));
            }
            start = end + 1;
        }
        return None;
    }
    let table = match ui.tab {
        Tab::Orders => {
            if let Some(side) = orders::side_area(body, ui)
                && side.contains((x, y).into())
            {
                let row = y.checked_sub(side.y + 1)?;
                return Some(Hit::Status(usize::from(row)));
            }
            orders::table_area(body, ui)
        }
        Tab::Errors => errors::errors_table_area(body),
        Tab::Inventory => inventory::table_area(body, ui),
        Tab::Dashboard => return None,
        _ => body,
    };
    if !table.contains((x, y).into()) {
        return None;
    }
    let row = y.checked_sub(table.y + 2)?;
    (row < table.height.saturating_sub(3)).then_some(Hit::Row(usize::from(row)))
}

fn draw_header(frame: &mut Frame, area: Rect, v: &View) {
    let (brand, labels) = tab_labels(area.width, v.snap, v.ui, v.keys);
    let titles: Vec<Line> = labels.into_iter().map(Line::raw).collect();
    let right = header_flags(v.ui, area.width);
    let [left_area, right_area] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(right.chars().count() as u16),
    ])
    .areas(area);
    let brand_width = if brand {
        BRAND.chars().count() as u16 + 1
    } else {
        0
    };
    let [brand_area, tabs_area] =
        Layout::horizontal([Constraint::Length(brand_width), Constraint::Min(0)]).areas(left_area);
    if brand {
        frame.render_widget(Span::styled(BRAND, v.theme.title), brand_area);
    }
    frame.render_widget(
        Tabs::new(titles)
            .select(v.ui.tab.index())
            .highlight_style(v.theme.tab_active)
            .divider("│"),
        tabs_area,
    );
    let flag_style = if v.ui.readonly || v.ui.frozen {
        v.theme.warn
    } else {
        v.theme.dim
    };
    frame.render_widget(Span::styled(right, flag_style), right_area);
}

fn tab_action(tab: Tab) -> Action {
    match tab {
        Tab::Orders => Action::TabOrders,
        Tab::Fulfilments => Action::TabFulfilments,
        Tab::Conflicts => Action::TabConflicts,
        Tab::Errors => Action::TabErrors,
        Tab::Dashboard => Action::TabDashboard,
        Tab::Inventory => Action::TabInventory,
    }
}

/// The bottom line: the open filter or command line, else the newest toast, else what is in force on the
/// panel and its keys.
fn draw_footer(frame: &mut Frame, area: Rect, v: &View) {
    if let Some(line) = &v.ui.line {
        bottom_line(frame, area, line, v);
        return;
    }
    if let Some(toast) = v.ui.toasts.last() {
        let (mark, style) = match toast.kind {
            ToastKind::Info => ("·", v.theme.dim),
            ToastKind::Ok => ("✓", v.theme.ok),
            ToastKind::Error => ("✗", v.theme.error),
        };
        // An error's cause is usually at its end ("…: connection refused"): keep both ends when it is cut.
        let room = usize::from(area.width).saturating_sub(3);
        let text = match toast.kind {
            ToastKind::Error => clip_middle(&toast.text, room),
            _ => clip(&toast.text, room),
        };
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {mark} {text}"), style)),
            area,
        );
        return;
    }
    let state = in_force(v);
    let hints = panel_hints(v);
    let mut used: usize = state.iter().map(|s| s.content.chars().count()).sum();
    let mut spans = vec![Span::raw(" ")];
    used += 1;
    let width_of = |action: Action, what: &str| {
        v.keys.normal.short(action).chars().count() + what.chars().count() + 3
    };
    // Quitting is always shown: its room is kept before the other keys take theirs.
    let quit = width_of(Action::Quit, "quit");
    used += quit;
    for (action, what) in hints {
        let width = width_of(action, what);
        if action == Action::Quit {
            used -= quit;
        } else if used + width > usize::from(area.width) {
            continue;
        }
        used += width;
        spans.push(Span::styled(v.keys.normal.short(action), v.theme.title));
        spans.push(Span::styled(format!(" {what}  "), v.theme.dim));
    }
    spans.extend(state);
    frame.render_widget(Line::from(spans), area);
}

/// The filter or command line being typed, with its completions or what the filter matches.
fn bottom_line(frame: &mut Frame, area: Rect, line: &crate::tui::state::InputLine, v: &View) {
    let prefix = match line.kind {
        LineKind::Filter => "/",
        LineKind::Command => ":",
    };
    let mut spans = vec![
        Span::styled(prefix, v.theme.title),
        Span::raw(line.input.value().to_string()),
    ];
    if !line.hint.is_empty() {
        spans.push(Span::styled(
            format!("   {}", line.hint.join("  ")),
            v.theme.dim,
        ));
    } else if line.kind == LineKind::Filter && line.input.value().is_empty() {
        // What the filter matches on this panel, and what it replaces.
        let was = line
            .restore
            .as_deref()
            .map(|r| format!(" (was {r})"))
            .unwrap_or_default();
        spans.push(Span::styled(
            format!(
                "   {} by {}{was}",
                v.ui.tab.title(),
                v.ui.tab.filter_matches().unwrap_or("")
            ),
            v.theme.dim,
        ));
    }
    frame.render_widget(Line::from(spans), area);
    let x = area.x + 1 + line.input.visual_cursor() as u16;
    frame.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
}

/// What is in force on this panel (its filter, a sort other than the default, marked rows).
fn in_force(v: &View) -> Vec<Span<'static>> {
    let mut state: Vec<Span> = Vec::new();
    if let Some(filter) = v.ui.filter() {
        state.push(Span::styled(format!(" /{filter} "), v.theme.warn));
    }
    let sort = v.ui.sort();
    if !sort.is_default(v.ui.tab)
        && let Some((name, _)) = v.ui.tab.sorts().get(sort.column)
    {
        let arrow = if sort.descending { "▼" } else { "▲" };
        state.push(Span::styled(format!(" {name}{arrow} "), v.theme.warn));
    }
    if !v.ui.marked.is_empty() {
        state.push(Span::styled(
            format!(" {} marked ", v.ui.marked.len()),
            v.theme.marked,
        ));
    }
    state
}

/// The panel's keys, most used first; what does not fit whole is left out (help lists everything).
fn panel_hints(v: &View) -> Vec<(Action, &'static str)> {
    let mut hints: Vec<(Action, &str)> = vec![(Action::Help, "help")];
    let acting = !v.ui.readonly;
    match v.ui.tab {
        Tab::Orders => {
            if acting {
                hints.extend([
                    (Action::ChangeStatus, "status"),
                    (Action::Fulfil, "fulfil"),
                    (Action::CancelOrder, "cancel"),
                    (Action::Mark, "mark"),
                ]);
            }
            hints.push((Action::Open, if v.ui.zoom { "unzoom" } else { "zoom" }));
            hints.push((Action::ShowArchived, "archive"));
        }
        Tab::Errors => {
            if acting {
                hints.extend([(Action::RetryJob, "retry"), (Action::DiscardJob, "discard")]);
            }
            hints.push((Action::Open, if v.ui.zoom { "back" } else { "attempts" }));
            hints.push((Action::OpenTarget, "order/SKU"));
        }
        Tab::Conflicts if acting && v.ui.role.may(crate::domain::Permission::ResolveConflicts) => {
            hints.push((Action::Open, "resolve"))
        }
        Tab::Dashboard => {
            hints.push((Action::Open, "order/SKU"));
            hints.push((Action::Details, "alert"));
            if acting {
                hints.extend([
                    (Action::Acknowledge, "ack"),
                    (Action::AcknowledgeAll, "ack all"),
                ]);
            }
        }
        Tab::Inventory => hints.push((Action::Open, if v.ui.zoom { "back" } else { "trace" })),
        _ => {}
    }
    if v.ui.tab.filter_matches().is_some() {
        hints.push((Action::Filter, "filter"));
    }
    if !v.ui.tab.sorts().is_empty() {
        hints.push((Action::SortNext, "sort"));
    }
    hints.extend([
        (Action::Command, "command"),
        (
            Action::Freeze,
            if v.ui.frozen { "resume" } else { "freeze" },
        ),
        (Action::Quit, "quit"),
    ]);
    // A key the role may not use would only meet a refusal: leave it out (help still lists it).
    hints.retain(|(a, _)| a.permission().is_none_or(|p| v.ui.role.may(p)));
    hints
}

/// A bordered block whose title is styled like the rest of the console.
pub fn block<'a>(title: impl Into<String>, theme: &Theme) -> Block<'a> {
    Block::bordered()
        .title(Span::styled(format!(" {} ", title.into()), theme.title))
        .border_style(Style::new())
}

/// Cuts text to `width` characters with an ellipsis.
pub fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// `text` in `width` cells, cut in the middle (its start and its end kept, 1:2) when it is longer.
pub fn clip_middle(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width || width < 3 {
        return clip(text, width);
    }
    let head = (width - 1) / 3;
    let tail = width - 1 - head;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// A centered empty-state message inside a block.
pub fn empty_state(frame: &mut Frame, area: Rect, title: &str, text: &str, theme: &Theme) {
    let inner_top = area.height.saturating_sub(2) / 2;
    let lines: Vec<Line> = (0..inner_top.saturating_sub(1))
        .map(|_| Line::raw(""))
        .chain(std::iter::once(Line::styled(text.to_string(), theme.dim)))
        .collect();
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .block(block(title, theme)),
        area,
    );
}

/// A list's title with where the page is: `Title · 21–40 of 58`, or `rows 21–40+` when the total is not
/// counted (a filtered order list counts only when asked to jump to its end).
pub fn page_title(
    title: &str,
    pos: ListPos,
    rows: usize,
    has_more: bool,
    total: Option<i64>,
) -> String {
    let (first, last) = (pos.offset + 1, pos.offset + rows as i64);
    match total {
        Some(total) if pos.offset > 0 || has_more => {
            format!("{title} · {first}–{last} of {total}")
        }
        Some(total) => format!("{title} · {total}"),
        None if pos.offset > 0 || has_more => format!(
            "{title} · rows {first}–{last}{}",
            if has_more { "+" } else { "" }
        ),
        None => title.to_string(),
    }
}

/// A panel's table: its rows under a header with the sorted column marked, the cursor's row highlighted.
#[allow(clippy::too_many_arguments)]
pub fn panel_table<'a>(
    frame: &mut Frame,
    area: Rect,
    v: &View,
    tab: Tab,
    title: impl Into<String>,
    names: &[&'a str],
    widths: Vec<Constraint>,
    rows: Vec<Row<'a>>,
) {
    let mut state = TableState::default().with_selected(Some(v.ui.pos().cursor));
    frame.render_stateful_widget(
        Table::new(rows, widths)
            .header(sorted_header(names, tab, v))
            .block(block(title, v.theme))
            .row_highlight_style(v.theme.selected)
            .highlight_symbol("▸ "),
        area,
        &mut state,
    );
}

/// A table's header row with the sorted column marked ▲ or ▼.
pub fn sorted_header<'a>(names: &[&'a str], tab: Tab, v: &View) -> Row<'a> {
    let sort = v.ui.sorts[tab.index()];
    let sorted = tab.sorts().get(sort.column).map(|(n, _)| *n);
    let arrow = if sort.descending { "▼" } else { "▲" };
    Row::new(
        names
            .iter()
            .map(|n| {
                if Some(*n) == sorted {
                    format!("{n}{arrow}")
                } else {
                    n.to_string()
                }
            })
            .collect::<Vec<_>>(),
    )
    .style(v.theme.header)
}

#[cfg(test)]
mod tests {
    #[test]
    fn clip_middle_keeps_both_ends() {
        let e = "sync incremental failed here: GET http://127.0.0.1:45035/wp-json/wc/v3/products: connection refused";
        let cut = super::clip_middle(e, 60);
        assert_eq!(cut.chars().count(), 60);
        assert!(
            cut.starts_with("sync incremental") && cut.ends_with("connection refused"),
            "{cut}"
        );
        assert_eq!(super::clip_middle("short", 40), "short");
    }
}
