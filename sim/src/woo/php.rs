//! How PHP sees a request's parameters, which is what WooCommerce reads and signs: `$_GET`/`$_POST` keep ONE
//! value per key (the last; the key keeps the place of its first appearance), `a[]=x` and `a[k]=x` build
//! arrays, dots and spaces in a key's base name become underscores, and every name and value is
//! `urldecode`d (`+` is a space). Also PHP's `urlencode` and `rawurlencode`, as core uses them.
//! Written from PHP's documented behaviour, independently of the product's client.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// A PHP request variable: a string, or an ordered array of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PhpValue {
    Str(String),
    Array(Vec<(String, PhpValue)>),
}

impl PhpValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PhpValue::Str(s) => Some(s),
            PhpValue::Array(_) => None,
        }
    }
}

/// An ordered PHP array with string keys: what `$_GET` or `$_POST` hold.
pub(crate) type PhpArray = Vec<(String, PhpValue)>;

/// PHP's `empty()` on a request value: missing, `""` and `"0"` are all empty.
pub(crate) fn empty(value: Option<&PhpValue>) -> bool {
    match value {
        None => true,
        Some(PhpValue::Str(s)) => s.is_empty() || s == "0",
        Some(PhpValue::Array(items)) => items.is_empty(),
    }
}

pub(crate) fn get<'a>(array: &'a PhpArray, key: &str) -> Option<&'a PhpValue> {
    array.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Sets `key` as PHP assigns into an array: an existing key keeps its position and takes the new value.
pub(crate) fn set(array: &mut PhpArray, key: String, value: PhpValue) {
    match array.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => array.push((key, value)),
    }
}

/// `urldecode`: `+` is a space, `%XX` a byte; invalid UTF-8 is kept lossily.
pub(crate) fn urldecode(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// `rawurldecode`: like `urldecode` but `+` stays a plus.
pub(crate) fn rawurldecode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// `rawurlencode`: everything but `A-Za-z0-9-_.~` is `%XX` (RFC 3986).
const RAW: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// `urlencode`: like `rawurlencode`, but `~` is escaped too and a space becomes `+`.
const FORM: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

pub(crate) fn rawurlencode(text: &str) -> String {
    utf8_percent_encode(text, RAW).to_string()
}

pub(crate) fn urlencode(text: &str) -> String {
    text.split(' ')
        .map(|part| utf8_percent_encode(part, FORM).to_string())
        .collect::<Vec<_>>()
        .join("+")
}

/// Parses a query string (or a form body) the way PHP fills `$_GET` (`$_POST`).
pub(crate) fn parse_query(query: &str) -> PhpArray {
    let mut vars = PhpArray::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = urldecode(raw_key);
        let value = urldecode(raw_value);
        let key = key.trim_start_matches(' ');
        // Base name, then any `[sub]` segments (only when the brackets close).
        let (base, subs) = split_brackets(key);
        if base.is_empty() {
            continue;
        }
        let base: String = base
            .chars()
            .map(|c| if c == '.' || c == ' ' { '_' } else { c })
            .collect();
        insert(&mut vars, base, &subs, value);
    }
    vars
}

/// `a[b][]` → ("a", ["b", ""]); a key whose first `[` never closes is all base name (PHP turns that
/// `[` into `_`).
fn split_brackets(key: &str) -> (String, Vec<String>) {
    let Some(open) = key.find('[') else {
        return (key.to_string(), Vec::new());
    };
    let mut subs = Vec::new();
    let mut rest = &key[open..];
    while let Some(after) = rest.strip_prefix('[') {
        let Some(close) = after.find(']') else { break };
        subs.push(after[..close].to_string());
        rest = &after[close + 1..];
    }
    if subs.is_empty() {
        let mut base = key.to_string();
        base.replace_range(open..=open, "_");
        return (base, Vec::new());
    }
    (key[..open].to_string(), subs)
}

fn insert(array: &mut PhpArray, key: String, subs: &[String], value: String) {
    let Some((first, rest)) = subs.split_first() else {
        set(array, key, PhpValue::Str(value));
        return;
    };
    let slot = match array.iter().position(|(k, _)| *k == key) {
        Some(i) => &mut array[i].1,
        None => {
            array.push((key, PhpValue::Array(Vec::new())));
            let last = array.len() - 1;
            &mut array[last].1
        }
    };
    if !matches!(slot, PhpValue::Array(_)) {
        *slot = PhpValue::Array(Vec::new());
    }
    let PhpValue::Array(inner) = slot else {
        return;
    };
    let sub_key = if first.is_empty() {
        // `a[]`: the next integer key.
        let next = inner
            .iter()
            .filter_map(|(k, _)| k.parse::<u64>().ok())
            .map(|n| n + 1)
            .max()
            .unwrap_or(0);
        next.to_string()
    } else {
        first.clone()
    };
    insert(inner, sub_key, rest, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> PhpValue {
        PhpValue::Str(v.into())
    }

    #[test]
    fn the_last_value_of_a_repeated_key_wins_in_the_first_place() {
        let vars = parse_query("page=1&per_page=10&page=2&a.b=x+y&c%20d=%2B");
        assert_eq!(
            vars,
            vec![
                ("page".into(), s("2")),
                ("per_page".into(), s("10")),
                ("a_b".into(), s("x y")),
                ("c_d".into(), s("+")),
            ]
        );
    }

    #[test]
    fn brackets_build_arrays() {
        let vars = parse_query("status[]=a&status[]=b&f[x]=1&g[=2");
        assert_eq!(
            vars,
            vec![
                (
                    "status".into(),
                    PhpValue::Array(vec![("0".into(), s("a")), ("1".into(), s("b"))])
                ),
                ("f".into(), PhpValue::Array(vec![("x".into(), s("1"))])),
                ("g_".into(), s("2")),
            ]
        );
    }

    #[test]
    fn encodings_match_php() {
        assert_eq!(rawurlencode("a b+~/é"), "a%20b%2B~%2F%C3%A9");
        assert_eq!(urlencode("a b+~/"), "a+b%2B%7E%2F");
        assert_eq!(rawurldecode("a+b%2B"), "a+b+");
        assert!(empty(Some(&s("0"))) && empty(None) && !empty(Some(&s("x"))));
    }
}
