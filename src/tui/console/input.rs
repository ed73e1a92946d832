//! Keys while a dialog or the bottom line is open: each mode reads its own keymap (form, confirm), and
//! everything else goes to the focused text field; `:` commands are parsed and run here.

use crossterm::event::{Event, KeyCode, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use super::Console;
use crate::app::{Actor, Resolution, Winner};
use crate::store::alerts::Alert;
use crate::tui::action::Action;
use crate::tui::commands;
use crate::tui::state::{FulfilForm, LineKind, Modal, ResolveChoice, ResolveForm, StatusPicker};

impl Console {
    pub(super) fn modal_key(&mut self, key: KeyEvent) {
        let Some(modal) = self.ui.modal.take() else {
            return;
        };
        let form = self.keymap.form.action(&key);
        let modal = match modal {
            Modal::Help { scroll } => match (form, self.keymap.normal.action(&key)) {
                (Some(Action::Back), _) | (_, Some(Action::Help | Action::Quit | Action::Back)) => {
                    None
                }
                (_, Some(Action::Down)) => Some(Modal::Help {
                    scroll: scroll.saturating_add(1).min(40),
                }),
                (_, Some(Action::Up)) => Some(Modal::Help {
                    scroll: scroll.saturating_sub(1),
                }),
                _ => Some(Modal::Help { scroll }),
            },
            Modal::Alert { alert, scroll } => self.alert_key(alert, scroll, form, &key),
            Modal::Operator { name } => self.operator_key(name, form, key),
            Modal::Confirm { message, then } => match self.keymap.confirm.action(&key) {
                Some(Action::Yes) => {
                    self.confirmed(then);
                    None
                }
                Some(Action::No) => {
                    self.declined(then);
                    None
                }
                _ => Some(Modal::Confirm { message, then }),
            },
            Modal::StatusPicker(p) => self.status_picker_key(p, form, key),
            Modal::Cancel {
                targets,
                mut reason,
            } => match form {
                Some(Action::Back) => None,
                Some(Action::Submit) => {
                    if reason.value().trim().is_empty() {
                        self.error("a cancellation needs a reason");
                        Some(Modal::Cancel { targets, reason })
                    } else {
                        self.cancel(&targets, reason.value());
                        None
                    }
                }
                _ => {
                    reason.handle_event(&Event::Key(key));
                    Some(Modal::Cancel { targets, reason })
                }
            },
            Modal::Fulfil(f) => self.fulfil_key(f, form, key),
            Modal::Resolve(f) => self.resolve_key(f, form, key),
        };
        if self.ui.modal.is_none() {
            self.ui.modal = modal;
        }
    }

    /// An alert in full: scroll it, acknowledge it, or close it.
    fn alert_key(
        &mut self,
        alert: Box<Alert>,
        scroll: u16,
        form: Option<Action>,
        key: &KeyEvent,
    ) -> Option<Modal> {
        match (form, self.keymap.normal.action(key)) {
            (Some(Action::Back), _) | (_, Some(Action::Back | Action::Open | Action::Quit)) => None,
            (_, Some(Action::Acknowledge)) if !self.ui.readonly => {
                self.acknowledge();
                None
            }
            (_, Some(Action::Down)) => Some(Modal::Alert {
                alert,
                scroll: scroll.saturating_add(1).min(200),
            }),
            (_, Some(Action::Up)) => Some(Modal::Alert {
                alert,
                scroll: scroll.saturating_sub(1),
            }),
            _ => Some(Modal::Alert { alert, scroll }),
        }
    }

    /// Who is at the keyboard, asked at start when nothing else names them.
    fn operator_key(
        &mut self,
        mut name: Input,
        form: Option<Action>,
        key: KeyEvent,
    ) -> Option<Modal> {
        match form {
            Some(Action::Submit) => {
                let who = name.value().trim().to_string();
                if who.is_empty() {
                    self.error("type your name: history records who acted");
                    Some(Modal::Operator { name })
                } else {
                    self.app.set_actor(Actor::operator(who.clone()));
                    self.ui.operator = who.clone();
                    self.ui.role = self.app.role();
                    self.ok(format!("acting as {who} ({})", self.ui.role));
                    None
                }
            }
            // Without a name nothing can be recorded: Esc leaves the console.
            Some(Action::Back) => {
                self.quit = true;
                None
            }
            _ => {
                name.handle_event(&Event::Key(key));
                Some(Modal::Operator { name })
            }
        }
    }

    /// The status picker: move the cursor, Tab to the note and back, then pick.
    fn status_picker_key(
        &mut self,
        mut p: Box<StatusPicker>,
        form: Option<Action>,
        key: KeyEvent,
    ) -> Option<Modal> {
        let n = p.options.len();
        let arrow = match key.code {
            KeyCode::Up => Some(Action::Up),
            KeyCode::Down => Some(Action::Down),
            _ => None,
        };
        let moved = arrow.or_else(|| {
            (!p.typing)
                .then(|| self.keymap.normal.action(&key))
                .flatten()
        });
        match (form, moved) {
            (Some(Action::Back), _) => return None,
            (Some(Action::Submit), _) => {
                let note = p.note.value().trim().to_string();
                let note = (!note.is_empty()).then_some(note.as_str());
                return self.pick_status(p.targets.clone(), &p.options[p.cursor], note);
            }
            // Before Tab: a form may also read the arrows as "next field".
            (_, Some(Action::Down)) => p.cursor = (p.cursor + 1) % n,
            (_, Some(Action::Up)) => p.cursor = (p.cursor + n - 1) % n,
            (Some(Action::NextField | Action::PrevField), _) => p.typing = !p.typing,
            _ if p.typing => {
                p.note.handle_event(&Event::Key(key));
            }
            _ => {}
        }
        Some(Modal::StatusPicker(p))
    }

    /// The fulfil form: fields, then submit (the form stays open when fulfilling fails).
    fn fulfil_key(
        &mut self,
        mut f: Box<FulfilForm>,
        form: Option<Action>,
        key: KeyEvent,
    ) -> Option<Modal> {
        match form {
            Some(Action::Back) => None,
            Some(Action::Submit) => match self.fulfil(&f) {
                true => None,
                false => Some(Modal::Fulfil(f)),
            },
            Some(Action::NextField) => {
                f.focus = (f.focus + 1) % f.field_count();
                Some(Modal::Fulfil(f))
            }
            Some(Action::PrevField) => {
                f.focus = (f.focus + f.field_count() - 1) % f.field_count();
                Some(Modal::Fulfil(f))
            }
            _ => {
                f.focused().handle_event(&Event::Key(key));
                Some(Modal::Fulfil(f))
            }
        }
    }

    /// The conflict form: a choice among the resolutions, or a typed quantity.
    fn resolve_key(
        &mut self,
        mut f: Box<ResolveForm>,
        form: Option<Action>,
        key: KeyEvent,
    ) -> Option<Modal> {
        match form {
            Some(Action::Back) => None,
            Some(Action::Submit) => {
                let conflict = f.conflict.clone();
                match self.resolution_of(&f) {
                    Some(how) if self.resolve(&conflict, how) => None,
                    _ => Some(Modal::Resolve(f)),
                }
            }
            Some(Action::NextField) => {
                f.choice = (f.choice + 1) % f.choices().len();
                Some(Modal::Resolve(f))
            }
            Some(Action::PrevField) => {
                let n = f.choices().len();
                f.choice = (f.choice + n - 1) % n;
                Some(Modal::Resolve(f))
            }
            _ => {
                // Typing goes to the quantity, which then is the choice (a price has none).
                if let Some(at) = f
                    .choices()
                    .iter()
                    .position(|c| *c == ResolveChoice::Quantity)
                {
                    f.quantity.handle_event(&Event::Key(key));
                    f.choice = at;
                }
                Some(Modal::Resolve(f))
            }
        }
    }

    pub(super) fn line_key(&mut self, key: KeyEvent) {
        let Some(mut line) = self.ui.line.take() else {
            return;
        };
        match self.keymap.form.action(&key) {
            Some(Action::Back) => {
                if line.kind == LineKind::Filter && self.ui.filter() != line.restore.as_deref() {
                    self.apply_filter(line.restore.clone());
                }
            }
            Some(Action::Submit) => match line.kind {
                LineKind::Filter => {
                    let text = line.input.value().trim().to_string();
                    self.apply_filter(Some(text));
                }
                LineKind::Command => self.run_command(line.input.value()),
            },
            Some(Action::NextField) if line.kind == LineKind::Command => {
                // Offer the moves the selection allows, when there is one; else every pickable status.
                let allowed = self.options_for(&self.targets());
                let statuses = if allowed.is_empty() {
                    self.status_names()
                } else {
                    allowed
                };
                let (completed, hint) = commands::complete(line.input.value(), &statuses);
                line.input = Input::new(completed);
                line.hint = hint;
                self.ui.line = Some(line);
            }
            _ => {
                line.input.handle_event(&Event::Key(key));
                if line.kind == LineKind::Command {
                    line.hint.clear();
                }
                // Filter as you type once the text can use the trigram index (3 characters); shorter
                // text, which could mean a scan of every order, waits for Enter.
                let text = line.input.value().trim().to_string();
                let live = line.kind == LineKind::Filter
                    && (text.chars().count() >= 3
                        || (text.is_empty() && self.ui.filter().is_some()));
                self.ui.line = Some(line);
                if live && self.ui.filter() != Some(text.as_str()) {
                    self.apply_filter(Some(text));
                }
            }
        }
    }

    /// Filters the active panel by `text` (none or blank: unfiltered). The list starts over from its first
    /// row, but the selected row stays selected wherever the new list has it.
    pub(super) fn apply_filter(&mut self, text: Option<String>) {
        if self.ui.tab.filter_matches().is_none() {
            return;
        }
        self.ui.filters[self.ui.tab.index()] = text.filter(|t| !t.trim().is_empty());
        *self.ui.pos_mut() = Default::default();
        self.ui.zoom = false;
        self.reload();
    }

    pub(super) fn status_names(&self) -> Vec<String> {
        self.app
            .workflow()
            .statuses()
            .iter()
            .filter(|s| s.pickable)
            .map(|s| s.name.clone())
            .collect()
    }

    pub(super) fn run_command(&mut self, text: &str) {
        use commands::Command as C;
        match commands::parse(text) {
            Err(e) => self.error(e),
            Ok(C::Quit) => self.request_quit(),
            Ok(C::Help) => self.ui.modal = Some(Modal::Help { scroll: 0 }),
            Ok(C::Tab(tab)) => self.switch_tab(tab.index()),
            Ok(C::Filter(f)) => self.apply_filter(f),
            Ok(C::Freeze) => self.normal(Action::Freeze),
            Ok(C::Mouse) => self.normal(Action::ToggleMouse),
            Ok(_) if self.ui.readonly => {
                self.info("read-only console: no actions (start without --readonly to act)")
            }
            Ok(C::Status(name)) => {
                let targets = self.targets();
                if targets.is_empty() {
                    self.info("select an order first (Orders panel)");
                    return;
                }
                let Ok(status) = self.app.workflow().by_name(&name).cloned() else {
                    self.error(format!("unknown status '{name}'"));
                    return;
                };
                if let Some(modal) = self.pick_status(targets, &status.name, None) {
                    self.ui.modal = Some(modal);
                }
            }
            Ok(C::Cancel(reason)) => match reason {
                Some(r) => {
                    let targets = self.targets();
                    self.cancel(&targets, &r);
                }
                None => self.open_cancel(),
            },
            Ok(C::Fulfil) => self.open_fulfil(),
            Ok(C::Retry) => self.retry_job(),
            Ok(C::Discard) => self.ask_discard(),
            Ok(C::Sync(pass)) => self.sync_now(pass),
            Ok(C::Ack) => self.acknowledge(),
            Ok(C::Otp(code)) => {
                let targets = self.targets();
                if targets.is_empty() {
                    self.info("select an order first (Orders panel)");
                    return;
                }
                self.for_each_target(&targets, "OTP recorded", |app, t| {
                    app.set_retailer_otp(&t.number, &code)
                });
            }
            Ok(C::Settle(keep)) => {
                let targets = self.targets();
                if targets.is_empty() {
                    self.info("select an order first (Orders panel)");
                    return;
                }
                self.for_each_target(&targets, "settled", |app, t| {
                    app.settle(&t.number, keep).map(|s| s.summary)
                });
            }
            Ok(C::Resolve(None)) => self.open_resolve(),
            Ok(C::Resolve(Some(arg))) => {
                let Some(conflict) = self.selected_conflict() else {
                    self.info("select a conflict first (Conflicts panel)");
                    return;
                };
                let how = match arg {
                    commands::ResolveArg::Pos => Resolution::Winner(Winner::Pos),
                    commands::ResolveArg::Store => Resolution::Winner(Winner::Store),
                    commands::ResolveArg::Merge => Resolution::Winner(Winner::Merge),
                    commands::ResolveArg::Quantity(q) => Resolution::Quantity(q),
                };
                self.resolve(&conflict, how);
            }
        }
    }
}
