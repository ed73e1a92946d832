//! Turns a TOML error into one line that names the field and where it is, and never repeats a secret. The
//! toml crate's own message quotes the offending source line, so a secret written without quotes (or with a
//! broken quote) went to stderr and into whatever collects it; here no source text is ever shown, and the
//! message of an error in a secret field has its quoted parts replaced by `***`.

/// The config fields holding secrets (their last key; every one is a `Secret`).
const SECRET_KEYS: [&str; 6] = [
    "password",
    "consumer_key",
    "consumer_secret",
    "webhook_secret",
    "secret_key",
    "token",
];

/// `field: what is wrong (line L, column C)`, or `line L, column C: what is wrong` when the field is unknown.
pub(super) fn describe(text: &str, error: &toml::de::Error, template: &str) -> String {
    let position = error.span().map(|span| line_and_column(text, span.start));
    let field = error_keys(error).or_else(|| {
        position
            .as_ref()
            .and_then(|&(line, _)| field_at_line(text, line, template))
    });
    let secret = field.as_deref().is_some_and(is_secret)
        || position
            .as_ref()
            .and_then(|&(line, _)| line_key(text, line))
            .is_some_and(|key| SECRET_KEYS.contains(&key.as_str()));
    let mut message = plain_types(&error.message().trim().replace('\n', "; "));
    if secret {
        message = format!(
            "{} (the value is not shown: it is a secret)",
            redact_quoted(&message)
        );
    }
    let at = position
        .map(|(line, column)| format!("line {}, column {}", line + 1, column + 1))
        .unwrap_or_default();
    match (field, at.is_empty()) {
        (Some(field), false) => format!("{field}: {message} ({at})"),
        (Some(field), true) => format!("{field}: {message}"),
        (None, false) => format!("{at}: {message}"),
        (None, true) => message,
    }
}

/// Rust's type names, as serde quotes them, in words an operator reads.
fn plain_types(message: &str) -> String {
    const WORDS: [(&str, &str); 6] = [
        ("expected u16", "expected a whole number from 0 to 65535"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected usize", "expected a whole number, 0 or more"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
    ];
    let mut out = message.to_string();
    for (rust, plain) in WORDS {
        if let Some(at) = out.find(rust) {
            let end = at + rust.len();
            if !out[end..].starts_with(|c: char| c.is_ascii_alphanumeric()) {
                out.replace_range(at..end, plain);
            }
        }
    }
    out
}

fn is_secret(field: &str) -> bool {
    field
        .rsplit('.')
        .next()
        .is_some_and(|last| SECRET_KEYS.contains(&last))
}

/// The dotted path serde reports for a type or value error (`in `a.b``), when there is one.
fn error_keys(error: &toml::de::Error) -> Option<String> {
    let mut bare = error.clone();
    bare.set_input(None);
    bare.to_string()
        .lines()
        .find_map(|l| {
            l.strip_prefix("in `")?
                .strip_suffix('`')
                .map(str::to_string)
        })
        .filter(|k| !k.is_empty())
}

/// 0-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |l| l.chars().count());
    (line, column)
}

/// The key a line assigns (`key = …`), if it looks like one; quotes around the key are removed.
fn line_key(text: &str, line: usize) -> Option<String> {
    let content = text.lines().nth(line)?;
    let (key, _) = content.split_once('=')?;
    let key = key.trim().trim_matches('"').trim_matches('\'');
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    plain.then(|| key.to_string())
}

/// `table.key` for the assignment on `line`, only when `key` is a field the template knows: the text of a
/// line that is not a known field (a pasted secret, say) is never repeated.
fn field_at_line(text: &str, line: usize, template: &str) -> Option<String> {
    let key = line_key(text, line)?;
    let known = template
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
        .any(|k| k == key);
    if !known {
        return None;
    }
    let table = text
        .lines()
        .take(line)
        .filter_map(|l| {
            let l = l.trim();
            l.starts_with('[')
                .then(|| l.trim_matches(['[', ']']).trim().to_string())
        })
        .last();
    Some(match table {
        Some(table) if !table.is_empty() => format!("{table}.{key}"),
        _ => key,
    })
}

/// Replaces what a message quotes (`…` and "…") with `***`.
fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut open: Option<char> = None;
    for c in message.chars() {
        match open {
            Some(q) if c == q => {
                out.push_str("***");
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None if c == '`' || c == '"' => {
                out.push(c);
                open = Some(c);
            }
            None => out.push(c),
        }
    }
    if open.is_some() {
        out.push_str("***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_parts_are_redacted() {
        assert_eq!(
            redact_quoted("invalid type: integer `123456`, expected a string"),
            "invalid type: integer `***`, expected a string"
        );
        assert_eq!(redact_quoted("x \"abc"), "x \"***");
    }

    #[test]
    fn positions_count_lines_and_characters() {
        assert_eq!(line_and_column("a\nbé = 1\n", 6), (1, 3));
        assert_eq!(line_and_column("", 5), (0, 0));
    }
}
