//! Keymaps per mode (normal, form, confirm), read from `[console.keys]`: key text such as `j`, `G`,
//! `ctrl-c`, `shift-tab`, `space` or `pageup` maps to an [`Action`]. Help shows the configured text.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

use super::action::Action;

/// `[console.keys]`: one table per mode, action name → the keys that trigger it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeyConfig {
    pub normal: BTreeMap<Action, Vec<String>>,
    pub form: BTreeMap<Action, Vec<String>>,
    pub confirm: BTreeMap<Action, Vec<String>>,
}

fn table(pairs: &[(Action, &[&str])]) -> BTreeMap<Action, Vec<String>> {
    pairs
        .iter()
        .map(|(a, keys)| (*a, keys.iter().map(|k| k.to_string()).collect()))
        .collect()
}

impl Default for KeyConfig {
    fn default() -> Self {
        use Action::*;
        KeyConfig {
            normal: table(&[
                (Quit, &["q", "ctrl-c"]),
                (Help, &["?"]),
                (NextTab, &["tab"]),
                (PrevTab, &["shift-tab"]),
                (TabOrders, &["1"]),
                (TabFulfilments, &["2"]),
                (TabConflicts, &["3"]),
                (TabErrors, &["4"]),
                (TabDashboard, &["5"]),
                (TabInventory, &["6"]),
                (Up, &["k", "up"]),
                (Down, &["j", "down"]),
                (Top, &["g", "home"]),
                (Bottom, &["G", "end"]),
                (PageUp, &["pageup", "ctrl-u"]),
                (PageDown, &["pagedown", "ctrl-d"]),
                (PrevGroup, &["h", "left"]),
                (NextGroup, &["l", "right"]),
                (Open, &["enter"]),
                (Back, &["esc"]),
                (Filter, &["/"]),
                (SortNext, &["o"]),
                (SortReverse, &["O"]),
                (ShowArchived, &["v"]),
                (Command, &[":"]),
                (Freeze, &["f"]),
                (ToggleMouse, &["m"]),
                (Refresh, &["ctrl-r"]),
                (Details, &["d"]),
                (Mark, &["space"]),
                (ChangeStatus, &["s"]),
                (Fulfil, &["F"]),
                (CancelOrder, &["c"]),
                (RetryJob, &["r"]),
                (DiscardJob, &["x"]),
                (Acknowledge, &["a"]),
                (AcknowledgeAll, &["A"]),
                (OpenTarget, &["t"]),
            ]),
            form: table(&[
                (Submit, &["enter"]),
                (Back, &["esc"]),
                (NextField, &["tab", "down"]),
                (PrevField, &["shift-tab", "up"]),
            ]),
            confirm: table(&[(Yes, &["y"]), (No, &["n", "esc"])]),
        }
    }
}

/// A parsed key: code plus the modifiers that matter (Shift is folded into the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Chord {
    code: KeyCode,
    modifiers: KeyModifiers,
}

impl Chord {
    fn of(key: &KeyEvent) -> Chord {
        let mut modifiers =
            key.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match key.code {
            KeyCode::BackTab => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Char(c) => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c)
            }
            other => other,
        };
        Chord { code, modifiers }
    }
}

/// Parses `ctrl-c`, `shift-tab`, `G`, `space`, `f5`…; the error says what was not understood.
fn parse_key(text: &str) -> Result<Chord, String> {
    let mut modifiers = KeyModifiers::NONE;
    let mut rest = text;
    loop {
        let lower = rest.to_ascii_lowercase();
        let (m, len) = if lower.starts_with("ctrl-") {
            (KeyModifiers::CONTROL, 5)
        } else if lower.starts_with("alt-") {
            (KeyModifiers::ALT, 4)
        } else if lower.starts_with("shift-") {
            (KeyModifiers::SHIFT, 6)
        } else {
            break;
        };
        if rest.len() == len {
            break;
        }
        modifiers |= m;
        rest = &rest[len..];
    }
    let mut chars = rest.chars();
    let code = match (chars.next(), chars.next()) {
        (Some(c), None) => KeyCode::Char(c),
        _ => match rest.to_ascii_lowercase().as_str() {
            "space" => KeyCode::Char(' '),
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if modifiers.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" => KeyCode::Insert,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            f if f.starts_with('f')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
            {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            _ => {
                return Err(format!(
                    "'{text}' is not a key (try j, G, ctrl-c, shift-tab, space, pageup, f5)"
                ));
            }
        },
    };
    let chord = Chord::of(&KeyEvent::new(code, modifiers));
    Ok(chord)
}

/// One mode's bindings, in configured order.
#[derive(Debug, Clone, Default)]
pub struct ModeMap {
    bindings: Vec<(Chord, Action)>,
    labels: BTreeMap<Action, Vec<String>>,
}

impl ModeMap {
    /// The operator's bindings first; an action they left out keeps its default keys that are still free.
    fn build(
        mode: &str,
        config: &BTreeMap<Action, Vec<String>>,
        defaults: &BTreeMap<Action, Vec<String>>,
    ) -> Result<ModeMap, String> {
        let mut map = ModeMap {
            bindings: Vec::new(),
            labels: config.clone(),
        };
        for (action, keys) in config {
            for (i, key) in keys.iter().enumerate() {
                let chord = parse_key(key.trim())
                    .map_err(|e| format!("console.keys.{mode}.{}[{i}]: {e}", name(*action)))?;
                if let Some((_, other)) = map.bindings.iter().find(|(c, _)| *c == chord) {
                    return Err(format!(
                        "console.keys.{mode}.{}[{i}]: '{key}' is already bound to {}",
                        name(*action),
                        name(*other)
                    ));
                }
                map.bindings.push((chord, *action));
            }
        }
        for (action, keys) in defaults.iter().filter(|(a, _)| !config.contains_key(a)) {
            let mut kept = Vec::new();
            for key in keys {
                let chord = parse_key(key)?;
                if !map.bindings.iter().any(|(c, _)| *c == chord) {
                    map.bindings.push((chord, *action));
                    kept.push(key.clone());
                }
            }
            map.labels.insert(*action, kept);
        }
        Ok(map)
    }

    pub fn action(&self, key: &KeyEvent) -> Option<Action> {
        let chord = Chord::of(key);
        self.bindings
            .iter()
            .find(|(c, _)| *c == chord)
            .map(|(_, a)| *a)
    }

    /// The configured keys for an action, as the operator wrote them (`k/up`), or `—` when unbound.
    pub fn label(&self, action: Action) -> String {
        match self.labels.get(&action) {
            Some(keys) if !keys.is_empty() => keys.join("/"),
            _ => "—".into(),
        }
    }

    /// The first configured key only (for the footer).
    pub fn short(&self, action: Action) -> String {
        self.labels
            .get(&action)
            .and_then(|k| k.first())
            .cloned()
            .unwrap_or_else(|| "—".into())
    }

    pub fn actions(&self) -> impl Iterator<Item = Action> + '_ {
        self.labels.keys().copied()
    }
}

/// Every mode's bindings.
#[derive(Debug, Clone, Default)]
pub struct Keymap {
    pub normal: ModeMap,
    pub form: ModeMap,
    pub confirm: ModeMap,
}

impl Keymap {
    pub fn from_config(config: &KeyConfig) -> Result<Keymap, String> {
        let defaults = KeyConfig::default();
        Ok(Keymap {
            normal: ModeMap::build("normal", &config.normal, &defaults.normal)?,
            form: ModeMap::build("form", &config.form, &defaults.form)?,
            confirm: ModeMap::build("confirm", &config.confirm, &defaults.confirm)?,
        })
    }
}

fn name(action: Action) -> String {
    serde_json::to_value(action)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_else(|| format!("{action:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_match() {
        let map = Keymap::from_config(&KeyConfig::default()).unwrap();
        let shift_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(map.normal.action(&shift_g), Some(Action::Bottom));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(map.normal.action(&ctrl_c), Some(Action::Quit));
        let backtab = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(map.normal.action(&backtab), Some(Action::PrevTab));
        assert_eq!(map.normal.label(Action::Up), "k/up");
    }

    #[test]
    fn bad_keys_name_the_field() {
        let mut c = KeyConfig::default();
        c.normal.insert(Action::Help, vec!["hyper-x".into()]);
        let err = Keymap::from_config(&c).unwrap_err();
        assert!(err.starts_with("console.keys.normal.help[0]"), "{err}");
        let mut c = KeyConfig::default();
        c.normal.insert(Action::Help, vec!["j".into()]);
        let err = Keymap::from_config(&c).unwrap_err();
        assert!(err.contains("already bound"), "{err}");
        // A partial table keeps the other defaults, minus keys the operator took.
        let c = KeyConfig {
            normal: table(&[(Action::Help, &["j"])]),
            ..KeyConfig::default()
        };
        let map = Keymap::from_config(&c).unwrap();
        let j = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(map.normal.action(&j), Some(Action::Help));
        assert_eq!(map.normal.label(Action::Down), "down");
    }
}
