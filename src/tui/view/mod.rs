//! Drawing: a pure function of (snapshot, UI state, theme, keymap). The frame is a header with the panel
//! tabs, the active panel, and one footer line for toasts, the filter/command line or key hints.

mod dashboard;
mod dialogs;
mod orders;
mod panels;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Tabs, Wrap};

use super::action::Action;
use super::keymap::Keymap;
use super::snapshot::Snapshot;
use super::state::{LineKind, Tab, ToastKind, UiState};
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
        Tab::Errors => panels::errors(frame, body, &v),
        Tab::Dashboard => dashboard::draw(frame, body, &v),
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
        Tab::Errors => panels::errors_table_area(body),
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

const BRAND_WIDTH: u16 = 10;

fn tab_labels(snap: &Snapshot, keys: &Keymap) -> Vec<String> {
    Tab::ALL
        .iter()
        .map(|t| {
            let key = keys.normal.short(tab_action(*t));
            let extra = match t {
                Tab::Errors if snap.dead_jobs + snap.retrying_jobs > 0 => {
                    format!(" ({})", snap.dead_jobs + snap.retrying_jobs)
                }
                _ => String::new(),
            };
            format!("{key} {}{extra}", t.title())
        })
        .collect()
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
        let mut start = header.x + BRAND_WIDTH;
        for (tab, label) in Tab::ALL.iter().zip(tab_labels(snap, keys)) {
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
        Tab::Errors => panels::errors_table_area(body),
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
    let titles: Vec<Line> = tab_labels(v.snap, v.keys)
        .into_iter()
        .map(Line::raw)
        .collect();
    let mut flags = vec![v.ui.operator.clone()];
    if v.ui.readonly {
        flags.push("READ-ONLY".into());
    }
    if v.ui.frozen {
        flags.push("FROZEN".into());
    }
    if v.ui.mouse {
        flags.push("mouse".into());
    }
    if let Some(o) = v.ui.engine.as_ref().and_then(|e| e.store.as_ref()) {
        flags.push(format!("STORE {}", o.condition.as_str().to_uppercase()));
    }
    if let Some(e) = &v.ui.engine {
        flags.push(if e.holds_lease {
            format!("engine: {} running", e.running)
        } else {
            "engine: standby".into()
        });
    }
    const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    for s in &v.ui.syncs {
        flags.push(format!(
            "{} sync {} {}",
            SPINNER[v.ui.spin % SPINNER.len()],
            s.name,
            s.state
        ));
    }
    let right = format!(" {} ", flags.join(" · "));
    let [left_area, right_area] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(right.chars().count() as u16),
    ])
    .areas(area);
    let [brand, tabs_area] =
        Layout::horizontal([Constraint::Length(BRAND_WIDTH), Constraint::Min(0)]).areas(left_area);
    frame.render_widget(Span::styled(" syncdesk", v.theme.title), brand);
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
    }
}

fn draw_footer(frame: &mut Frame, area: Rect, v: &View) {
    if let Some(line) = &v.ui.line {
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
        }
        frame.render_widget(Line::from(spans), area);
        let x = area.x + 1 + line.input.visual_cursor() as u16;
        frame.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
        return;
    }
    if let Some(toast) = v.ui.toasts.last() {
        let (mark, style) = match toast.kind {
            ToastKind::Info => ("·", v.theme.dim),
            ToastKind::Ok => ("✓", v.theme.ok),
            ToastKind::Error => ("✗", v.theme.error),
        };
        frame.render_widget(Line::styled(format!(" {mark} {}", toast.text), style), area);
        return;
    }
    let mut hints: Vec<(Action, &str)> = vec![(Action::Help, "help")];
    match v.ui.tab {
        Tab::Orders => {
            hints.push((Action::Filter, "filter"));
            if !v.ui.readonly {
                hints.extend([
                    (Action::ChangeStatus, "status"),
                    (Action::Fulfil, "fulfil"),
                    (Action::CancelOrder, "cancel"),
                    (Action::Mark, "mark"),
                ]);
            }
            hints.push((Action::Open, "zoom"));
        }
        Tab::Errors if !v.ui.readonly => {
            hints.extend([(Action::RetryJob, "retry"), (Action::DiscardJob, "discard")]);
        }
        Tab::Conflicts if !v.ui.readonly => hints.push((Action::Open, "resolve")),
        Tab::Dashboard if !v.ui.readonly => hints.push((Action::Acknowledge, "acknowledge")),
        _ => {}
    }
    hints.extend([
        (Action::Command, "command"),
        (
            Action::Freeze,
            if v.ui.frozen { "resume" } else { "freeze" },
        ),
        (Action::Quit, "quit"),
    ]);
    let mut spans = vec![Span::raw(" ")];
    for (action, what) in hints {
        spans.push(Span::styled(v.keys.normal.short(action), v.theme.title));
        spans.push(Span::styled(format!(" {what}  "), v.theme.dim));
    }
    if let Some(filter) = &v.ui.filter {
        spans.push(Span::styled(format!("filter: {filter}"), v.theme.warn));
    }
    if !v.ui.marked.is_empty() {
        spans.push(Span::styled(
            format!("  {} marked", v.ui.marked.len()),
            v.theme.marked,
        ));
    }
    frame.render_widget(Line::from(spans), area);
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
