//! Popups over the panel: help (the configured keys), the status picker, the fulfil and cancel forms and
//! the yes/no confirmation, an alert in full and the operator's name when nothing else gives it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, List, ListItem, ListState, Paragraph, Wrap};
use tui_input::Input;

use super::{View, block};
use crate::domain::time::{age, to_short};
use crate::store::alerts::Alert;
use crate::tui::action::Action;
use crate::tui::keymap::ModeMap;
use crate::tui::state::{FulfilForm, Modal, ResolveChoice, ResolveForm, StatusPicker, Target};

pub fn draw(frame: &mut Frame, body: Rect, v: &View) {
    let Some(modal) = &v.ui.modal else {
        return;
    };
    match modal {
        Modal::Help { scroll } => help(frame, body, v, *scroll),
        Modal::StatusPicker(p) => picker(frame, body, v, p),
        Modal::Fulfil(form) => fulfil(frame, body, v, form),
        Modal::Cancel { targets, reason } => cancel(frame, body, v, targets, reason),
        Modal::Confirm { message, .. } => confirm(frame, body, v, message),
        Modal::Resolve(form) => resolve(frame, body, v, form),
        Modal::Alert { alert, scroll } => alert_detail(frame, body, v, alert, *scroll),
        Modal::Operator { name } => operator(frame, body, v, name),
    }
}

fn resolve(frame: &mut Frame, body: Rect, v: &View, f: &ResolveForm) {
    let c = &f.conflict;
    let area = centered(body, 72, 13);
    frame.render_widget(Clear, area);
    let b = block(format!("Resolve {} · {}", c.sku, c.kind), v.theme);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let [about, _, choices, quantity, _, hint] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(inner);
    let price = c.is_price();
    let sides = if price {
        format!("POS {} · store {}", c.pos_value, c.store_value)
    } else {
        format!(
            "POS {} · store {} · base {} · merged {}",
            c.pos_value, c.store_value, c.base, c.merged
        )
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::raw(sides),
            Line::styled(c.detail.clone(), v.theme.dim),
        ])
        .wrap(Wrap { trim: true }),
        about,
    );
    let label = |choice: ResolveChoice| match (choice, price) {
        (ResolveChoice::Pos, true) => format!("POS price     → {}", c.pos_value),
        (ResolveChoice::Store, true) => format!("store price   → {}", c.store_value),
        (ResolveChoice::Pos, false) => format!("POS wins      → {}", c.pos_value),
        (ResolveChoice::Store, false) => format!("store wins    → {}", c.store_value),
        (ResolveChoice::Merge, _) => format!("merge both    → {}", c.merged),
        (ResolveChoice::Quantity, _) => "counted quantity".into(),
    };
    // The listed choices; a counted quantity is the typed field below them.
    let listed: Vec<ResolveChoice> = f
        .choices()
        .iter()
        .copied()
        .filter(|ch| *ch != ResolveChoice::Quantity)
        .collect();
    let items: Vec<ListItem> = listed.iter().map(|ch| ListItem::new(label(*ch))).collect();
    let selected = (f.choice < listed.len()).then_some(f.choice);
    frame.render_stateful_widget(
        List::new(items)
            .highlight_style(v.theme.selected)
            .highlight_symbol("▸ "),
        choices,
        &mut ListState::default().with_selected(selected),
    );
    if f.choices().contains(&ResolveChoice::Quantity) {
        field(
            frame,
            quantity,
            v,
            &label(ResolveChoice::Quantity),
            &f.quantity,
            f.chosen() == ResolveChoice::Quantity,
        );
    }
    let choose = if price {
        "choose the price"
    } else {
        "choose (or type a number)"
    };
    frame.render_widget(
        Paragraph::new(format!(
            "{} resolve as {} · {} {choose} · {} cancel",
            v.keys.form.short(Action::Submit),
            v.ui.operator,
            v.keys.form.short(Action::NextField),
            v.keys.form.short(Action::Back)
        ))
        .style(v.theme.dim)
        .wrap(Wrap { trim: true }),
        hint,
    );
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [_, row, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(height.min(area.height)),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, cell, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(width.min(area.width)),
        Constraint::Fill(1),
    ])
    .areas(row);
    cell
}

fn who(targets: &[Target]) -> String {
    match targets {
        [one] => format!("order {}", one.number),
        many => format!("{} orders", many.len()),
    }
}

fn key_lines(map: &ModeMap, v: &View, width: usize) -> Vec<Line<'static>> {
    map.actions()
        .filter(|a| !(v.ui.readonly && a.is_command()))
        .map(|a| {
            Line::from(vec![
                Span::styled(format!("{:>w$} ", map.label(a), w = width), v.theme.title),
                Span::raw(a.describe().to_string()),
            ])
        })
        .collect()
}

fn help(frame: &mut Frame, body: Rect, v: &View, scroll: u16) {
    let area = centered(body, 104, body.height);
    let title = if v.ui.readonly {
        "Keys (read-only: actions are off) · j/k scroll · Esc closes"
    } else {
        "Keys (from [console.keys]) · j/k scroll · Esc closes"
    };
    let b = block(title, v.theme);
    let inner = b.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(b, area);
    let normal = key_lines(&v.keys.normal, v, 14);
    let mut rest = vec![Line::styled("In dialogs", v.theme.header)];
    rest.extend(key_lines(&v.keys.form, v, 14));
    rest.push(Line::styled("In confirmations", v.theme.header));
    rest.extend(key_lines(&v.keys.confirm, v, 14));
    // Two columns need about 100 cells to keep each line whole; narrower, one column scrolls (j/k).
    if inner.width < 96 {
        let mut all = normal;
        all.extend(rest);
        frame.render_widget(Paragraph::new(all).scroll((scroll, 0)), inner);
        return;
    }
    let half = normal.len().div_ceil(2);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(inner);
    frame.render_widget(
        Paragraph::new(normal[..half].to_vec()).scroll((scroll, 0)),
        left,
    );
    let mut right_lines = normal[half..].to_vec();
    right_lines.extend(rest);
    frame.render_widget(Paragraph::new(right_lines).scroll((scroll, 0)), right);
}

/// The status picker: the allowed moves, and under them what the highlighted one will meet (a refusal, a
/// channel's rule) before the operator commits.
fn picker(frame: &mut Frame, body: Rect, v: &View, p: &StatusPicker) {
    let warning = p.warnings.get(p.cursor).cloned().flatten();
    let width = 46u16.max(body.width.saturating_sub(4).min(72));
    let warning_rows = match &warning {
        Some(n) => (n.chars().count() as u16 / width.saturating_sub(4).max(1) + 2).min(6),
        None => 0,
    };
    let width = if warning.is_some() { width } else { 56 };
    let height = p.options.len() as u16 + 6 + warning_rows;
    let area = centered(body, width, height);
    frame.render_widget(Clear, area);
    let items: Vec<ListItem> = p
        .options
        .iter()
        .zip(p.warnings.iter().chain(std::iter::repeat(&None)))
        .map(|(o, n)| {
            ListItem::new(if n.is_some() {
                format!("{o}  ⚠")
            } else {
                o.clone()
            })
        })
        .collect();
    let mut state = ListState::default().with_selected(Some(p.cursor));
    let b = block(format!("Change status · {}", who(&p.targets)), v.theme);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let [list, said, _, note, hint] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(warning_rows),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_stateful_widget(
        List::new(items)
            .highlight_style(v.theme.selected)
            .highlight_symbol("▸ "),
        list,
        &mut state,
    );
    if let Some(n) = warning {
        frame.render_widget(
            Paragraph::new(n)
                .style(v.theme.warn)
                .wrap(Wrap { trim: true }),
            said,
        );
    }
    field(frame, note, v, "Note (optional)", &p.note, p.typing);
    frame.render_widget(
        Line::styled(
            format!(
                "{} choose · {} note · {} cancel",
                v.keys.form.short(Action::Submit),
                v.keys.form.short(Action::NextField),
                v.keys.form.short(Action::Back)
            ),
            v.theme.dim,
        ),
        hint,
    );
}

/// One labelled text field; the focused one gets the terminal cursor.
fn field(frame: &mut Frame, area: Rect, v: &View, label: &str, input: &Input, focused: bool) {
    let label_w = 22u16;
    let [l, value] =
        Layout::horizontal([Constraint::Length(label_w), Constraint::Min(1)]).areas(area);
    let marker = if focused { "▸ " } else { "  " };
    frame.render_widget(
        Span::styled(
            format!("{marker}{label}"),
            if focused { v.theme.title } else { v.theme.dim },
        ),
        l,
    );
    let width = value.width.max(1) as usize;
    let scroll = input.visual_scroll(width.saturating_sub(1));
    let shown: String = input.value().chars().skip(scroll).collect();
    let style = if focused {
        v.theme.selected
    } else {
        v.theme.dim
    };
    frame.render_widget(
        Paragraph::new(format!("{shown:<width$}")).style(style),
        value,
    );
    if focused {
        let x = value.x + (input.visual_cursor().saturating_sub(scroll)) as u16;
        frame.set_cursor_position((x.min(value.right().saturating_sub(1)), value.y));
    }
}

fn fulfil(frame: &mut Frame, body: Rect, v: &View, f: &FulfilForm) {
    // Each warning wraps at the dialog's inner width (62 cells); give it every line it needs, up to 5.
    let warning_rows: u16 = f
        .warnings
        .iter()
        .map(|w| ((w.chars().count() + 2).div_ceil(60) as u16).clamp(1, 5))
        .sum();
    let height = 3 + 3 + 2 + f.lines.len() as u16 + 3 + warning_rows;
    let area = centered(body, 64, height);
    frame.render_widget(Clear, area);
    let b = block(format!("Fulfil order {}", f.target.number), v.theme);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let mut constraints = vec![Constraint::Length(1); 3];
    constraints.push(Constraint::Length(1));
    constraints.push(Constraint::Length(1));
    constraints.extend(std::iter::repeat_n(Constraint::Length(1), f.lines.len()));
    constraints.push(Constraint::Length(warning_rows));
    constraints.push(Constraint::Length(1));
    constraints.push(Constraint::Min(1));
    let rows = Layout::vertical(constraints).split(inner);
    field(frame, rows[0], v, "Tracking", &f.tracking, f.focus == 0);
    field(frame, rows[1], v, "Carrier", &f.carrier, f.focus == 1);
    field(frame, rows[2], v, "Notes", &f.notes, f.focus == 2);
    frame.render_widget(
        Line::styled(
            "Quantities to ship now (all open = fulfil):",
            v.theme.header,
        ),
        rows[4],
    );
    for (i, (sku, open, qty)) in f.lines.iter().enumerate() {
        let label = format!("{sku} (open {open})");
        field(frame, rows[5 + i], v, &label, qty, f.focus == 3 + i);
    }
    // What the channels will make of it, before the operator commits (a shipment still records what left).
    let warnings: Vec<Line> = f
        .warnings
        .iter()
        .map(|w| Line::styled(format!("! {w}"), v.theme.warn))
        .collect();
    frame.render_widget(
        Paragraph::new(warnings).wrap(Wrap { trim: true }),
        rows[5 + f.lines.len()],
    );
    let last = rows[rows.len() - 1];
    frame.render_widget(
        Paragraph::new(format!(
            "{} ship · {} next field · {} cancel — lower a quantity for a partial shipment",
            v.keys.form.short(Action::Submit),
            v.keys.form.short(Action::NextField),
            v.keys.form.short(Action::Back)
        ))
        .style(v.theme.dim)
        .wrap(Wrap { trim: true }),
        last,
    );
}

fn cancel(frame: &mut Frame, body: Rect, v: &View, targets: &[Target], reason: &Input) {
    let area = centered(body, 64, 7);
    frame.render_widget(Clear, area);
    let b = block(format!("Cancel {}", who(targets)), v.theme);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let [text, input, _, hint] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(inner);
    frame.render_widget(
        Line::raw("Archives the order and tells the channels. Reason required."),
        text,
    );
    field(frame, input, v, "Reason", reason, true);
    frame.render_widget(
        Line::styled(
            format!(
                "{} cancel the order · {} keep it",
                v.keys.form.short(Action::Submit),
                v.keys.form.short(Action::Back)
            ),
            v.theme.dim,
        ),
        hint,
    );
}

fn confirm(frame: &mut Frame, body: Rect, v: &View, message: &str) {
    // Tall enough for the wrapped question (with room for words that do not fill a line) and the keys.
    let lines = message.chars().count().div_ceil(50).max(1) as u16;
    let area = centered(body, 56, lines + 4);
    frame.render_widget(Clear, area);
    let text = vec![
        Line::raw(message.to_string()),
        Line::raw(""),
        Line::styled(
            format!(
                "{} yes · {} no",
                v.keys.confirm.label(Action::Yes),
                v.keys.confirm.label(Action::No)
            ),
            v.theme.title,
        ),
    ];
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .block(block("Confirm", v.theme)),
        area,
    );
}

/// One alert in full: what, how bad, when, whether it was mailed, and its whole message (scrollable).
fn alert_detail(frame: &mut Frame, body: Rect, v: &View, a: &Alert, scroll: u16) {
    let area = centered(body, 90, body.height.saturating_sub(2).max(8));
    frame.render_widget(Clear, area);
    let b = block(format!("Alert {} · {}", a.id, a.subject), v.theme);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let [facts, message, hint] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let mailed = a.emailed_at.map_or_else(
        || "not mailed".to_string(),
        |at| format!("mailed {}", to_short(at)),
    );
    frame.render_widget(
        Paragraph::new(vec![
            Line::raw(format!(
                "{} · {} · raised {} ({} ago) · {mailed}",
                a.kind,
                a.severity,
                to_short(a.created_at),
                age(a.created_at, v.snap.now)
            )),
            Line::styled(
                a.dedupe_key
                    .as_deref()
                    .map(|k| format!("about {k}"))
                    .unwrap_or_default(),
                v.theme.dim,
            ),
        ]),
        facts,
    );
    frame.render_widget(
        Paragraph::new(a.message.clone())
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        message,
    );
    let ack = if v.ui.readonly {
        String::new()
    } else {
        format!(
            "{} acknowledge · ",
            v.keys.normal.short(Action::Acknowledge)
        )
    };
    frame.render_widget(
        Line::styled(
            format!(
                "{ack}{}/{} scroll · {} close",
                v.keys.normal.short(Action::Down),
                v.keys.normal.short(Action::Up),
                v.keys.form.short(Action::Back)
            ),
            v.theme.dim,
        ),
        hint,
    );
}

/// Asks who is at the keyboard: history records a name with every change.
fn operator(frame: &mut Frame, body: Rect, v: &View, name: &Input) {
    let area = centered(body, 64, 6);
    frame.render_widget(Clear, area);
    let b = block("Who is operating?", v.theme);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let [text, input, hint] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(inner);
    frame.render_widget(
        Line::raw("No --user, $SYNCDESK_USER or login name: history needs one."),
        text,
    );
    field(frame, input, v, "Your name", name, true);
    frame.render_widget(
        Line::styled(
            format!(
                "{} continue · {} quit",
                v.keys.form.short(Action::Submit),
                v.keys.form.short(Action::Back)
            ),
            v.theme.dim,
        ),
        hint,
    );
}
