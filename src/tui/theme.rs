//! Colours from `[console.theme]`, or a monochrome theme (reverse video for the selection) when
//! `NO_COLOR` is set: meaning never rests on colour alone, every badge also has a symbol.

use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// `[console.theme]`: colour names (`cyan`, `lightred`, `#ff8800`, `244`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThemeConfig {
    pub accent: String,
    pub selected_bg: String,
    pub ok: String,
    pub warn: String,
    pub error: String,
    pub dim: String,
}

impl Default for ThemeConfig {
    fn default() -> Self {
        ThemeConfig {
            accent: "cyan".into(),
            selected_bg: "darkgray".into(),
            ok: "green".into(),
            warn: "yellow".into(),
            error: "lightred".into(),
            dim: "gray".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub title: Style,
    pub tab_active: Style,
    pub selected: Style,
    pub marked: Style,
    pub ok: Style,
    pub warn: Style,
    pub error: Style,
    pub dim: Style,
    pub header: Style,
    pub border_focus: Style,
    /// Colours for bars and gauges.
    pub bar: Style,
}

fn color(field: &str, text: &str) -> Result<Color, String> {
    Color::from_str(text.trim()).map_err(|_| {
        format!(
            "console.theme.{field}: '{text}' is not a colour (a name like cyan, #rrggbb or 0-255)"
        )
    })
}

impl Theme {
    pub fn from_config(c: &ThemeConfig) -> Result<Theme, String> {
        let accent = color("accent", &c.accent)?;
        let selected_bg = color("selected_bg", &c.selected_bg)?;
        let ok = color("ok", &c.ok)?;
        let warn = color("warn", &c.warn)?;
        let error = color("error", &c.error)?;
        let dim = color("dim", &c.dim)?;
        Ok(Theme {
            title: Style::new().fg(accent).add_modifier(Modifier::BOLD),
            tab_active: Style::new()
                .fg(accent)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            selected: Style::new().bg(selected_bg).add_modifier(Modifier::BOLD),
            marked: Style::new().fg(warn).add_modifier(Modifier::BOLD),
            ok: Style::new().fg(ok),
            warn: Style::new().fg(warn),
            error: Style::new().fg(error),
            dim: Style::new().fg(dim),
            header: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            border_focus: Style::new().fg(accent),
            bar: Style::new().fg(accent),
        })
    }

    /// No colour at all: emphasis through bold, underline and reverse video only.
    pub fn monochrome() -> Theme {
        let plain = Style::new();
        Theme {
            title: plain.add_modifier(Modifier::BOLD),
            tab_active: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            selected: plain.add_modifier(Modifier::REVERSED),
            marked: plain.add_modifier(Modifier::BOLD),
            ok: plain,
            warn: plain.add_modifier(Modifier::BOLD),
            error: plain.add_modifier(Modifier::BOLD),
            dim: plain,
            header: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            border_focus: plain.add_modifier(Modifier::BOLD),
            bar: plain,
        }
    }

    /// The configured theme, unless `NO_COLOR` is set (to anything non-empty), see <https://no-color.org>.
    pub fn for_terminal(c: &ThemeConfig, no_color: bool) -> Result<Theme, String> {
        if no_color {
            Ok(Theme::monochrome())
        } else {
            Theme::from_config(c)
        }
    }
}

/// Whether the environment asks for no colour.
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}
