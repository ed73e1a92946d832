//! The `:` command line: parsing (`:status processing`, `:cancel <reason>`, `:sync full`, `:q`…) and Tab
//! completion of command names, status names, sync passes and conflict resolutions.

use super::state::Tab;
use crate::app::SyncPass;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Quit,
    Help,
    Tab(Tab),
    Filter(Option<String>),
    Freeze,
    Mouse,
    Status(String),
    Cancel(Option<String>),
    Fulfil,
    Retry,
    Discard,
    /// Run a sync pass now.
    Sync(SyncPass),
    /// Resolve the selected conflict: `pos`, `store`, `merge` or a quantity; without one, open the dialog.
    Resolve(Option<ResolveArg>),
    /// Acknowledge the selected alert (Dashboard).
    Ack,
    /// Give the selected marketplace order the retailer's delivery OTP.
    Otp(String),
    /// Settle the selected order's conflict with its channel: keep the store's status or push syncdesk's.
    Settle(crate::app::Keep),
}

/// How `:resolve` settles the selected conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolveArg {
    Pos,
    Store,
    Merge,
    Quantity(i64),
}

/// Words `:resolve` takes besides a number.
pub const RESOLVE_WORDS: &[&str] = &["pos", "store", "merge"];

/// Words `:settle` takes.
pub const SETTLE_WORDS: &[&str] = &["store", "syncdesk"];

fn sync_usage() -> String {
    let names: Vec<&str> = SyncPass::ALL.iter().map(|p| p.name()).collect();
    format!("usage: :sync {}", names.join("|"))
}

/// Command names, in the order completion offers them.
pub const NAMES: &[&str] = &[
    "status", "cancel", "fulfil", "retry", "discard", "filter", "tab", "freeze", "mouse", "sync",
    "resolve", "settle", "ack", "otp", "help", "quit", "q",
];

pub fn parse(text: &str) -> Result<Command, String> {
    let text = text.trim().trim_start_matches(':').trim();
    let (name, rest) = text.split_once(' ').unwrap_or((text, ""));
    let rest = rest.trim();
    let arg = || Some(rest.to_string()).filter(|r| !r.is_empty());
    Ok(match name.to_lowercase().as_str() {
        "q" | "quit" | "exit" => Command::Quit,
        "help" | "h" => Command::Help,
        "tab" | "panel" => Command::Tab(Tab::parse(rest).ok_or_else(|| {
            format!("no panel '{rest}' (orders, fulfilments, conflicts, errors, dashboard)")
        })?),
        "filter" | "f" => Command::Filter(arg()),
        "freeze" => Command::Freeze,
        "mouse" => Command::Mouse,
        "status" | "s" => Command::Status(arg().ok_or("usage: :status <name>")?),
        "cancel" => Command::Cancel(arg()),
        "fulfil" | "fulfill" | "ship" => Command::Fulfil,
        "retry" => Command::Retry,
        "discard" => Command::Discard,
        "sync" => match SyncPass::parse(rest) {
            Some(pass) => Command::Sync(pass),
            None if rest.is_empty() => return Err(sync_usage()),
            None => return Err(format!("no sync pass '{rest}' ({})", sync_usage())),
        },
        "resolve" => Command::Resolve(match rest.to_lowercase().as_str() {
            "" => None,
            "pos" => Some(ResolveArg::Pos),
            "store" => Some(ResolveArg::Store),
            "merge" => Some(ResolveArg::Merge),
            n if crate::integrations::names_the_web_store(n) => Some(ResolveArg::Store),
            n => match n.parse::<i64>() {
                Ok(q) => Some(ResolveArg::Quantity(q)),
                Err(_) => {
                    return Err(format!(
                        "usage: :resolve pos|store|merge|<quantity> ('{rest}' is none of them)"
                    ));
                }
            },
        }),
        "ack" | "acknowledge" => Command::Ack,
        "otp" => Command::Otp(arg().ok_or("usage: :otp <code> (the retailer's delivery OTP)")?),
        "settle" => Command::Settle(crate::app::Keep::parse(rest).ok_or(
            "usage: :settle store|syncdesk (keep the store's status, or push syncdesk's over it)",
        )?),
        "" => return Err("type a command, e.g. :status processing, :q (Tab completes)".into()),
        other => {
            return Err(format!(
                "unknown command ':{other}' (Tab completes; :help lists keys)"
            ));
        }
    })
}

/// Completes the text typed so far. Returns the new text and the candidates (empty when unique).
pub fn complete(text: &str, statuses: &[String]) -> (String, Vec<String>) {
    let trimmed = text.trim_start();
    match trimmed.split_once(' ') {
        None => {
            let matches: Vec<String> = NAMES
                .iter()
                .filter(|n| n.starts_with(&trimmed.to_lowercase()))
                .map(|n| n.to_string())
                .collect();
            match matches.as_slice() {
                [one] => (format!("{one} "), Vec::new()),
                [] => (text.to_string(), Vec::new()),
                many => (
                    common_prefix(many).unwrap_or_else(|| text.to_string()),
                    many.to_vec(),
                ),
            }
        }
        Some((name, arg)) => {
            let candidates: Vec<String> = match name {
                "status" | "s" => statuses.to_vec(),
                "tab" | "panel" => Tab::ALL.iter().map(|t| t.title().to_lowercase()).collect(),
                "sync" => SyncPass::ALL.iter().map(|p| p.name().to_string()).collect(),
                "resolve" => RESOLVE_WORDS.iter().map(|w| w.to_string()).collect(),
                "settle" => SETTLE_WORDS.iter().map(|w| w.to_string()).collect(),
                _ => Vec::new(),
            };
            let arg_l = arg.trim_start().to_lowercase();
            let matches: Vec<String> = candidates
                .into_iter()
                .filter(|c| c.to_lowercase().starts_with(&arg_l))
                .collect();
            match matches.as_slice() {
                [one] => (format!("{name} {}", one.to_lowercase()), Vec::new()),
                [] => (text.to_string(), Vec::new()),
                many => {
                    let prefix =
                        common_prefix(&many.iter().map(|m| m.to_lowercase()).collect::<Vec<_>>())
                            .unwrap_or_else(|| arg.to_string());
                    (format!("{name} {prefix}"), many.to_vec())
                }
            }
        }
    }
}

fn common_prefix(words: &[String]) -> Option<String> {
    let first = words.first()?;
    let mut len = first.len();
    for w in &words[1..] {
        len = len.min(
            first
                .chars()
                .zip(w.chars())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a.len_utf8())
                .sum(),
        );
    }
    Some(first[..len].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_completes() {
        assert_eq!(parse(":q").unwrap(), Command::Quit);
        assert_eq!(
            parse("status ready to ship").unwrap(),
            Command::Status("ready to ship".into())
        );
        assert_eq!(parse("sync full").unwrap(), Command::Sync(SyncPass::Full));
        assert!(
            parse("sync shop")
                .unwrap_err()
                .contains("no sync pass 'shop'")
        );
        assert_eq!(
            parse("resolve 12").unwrap(),
            Command::Resolve(Some(ResolveArg::Quantity(12)))
        );
        assert!(parse("resolve lots").is_err());
        // The web store's old names still mean its side; another channel is no side of a stock conflict.
        for word in ["store", "woo", "WooCommerce"] {
            assert_eq!(
                parse(&format!("resolve {word}")).unwrap(),
                Command::Resolve(Some(ResolveArg::Store)),
                "{word}"
            );
        }
        assert!(parse("resolve cartona").is_err());
        assert_eq!(complete("sync inc", &[]).0, "sync incremental");
        assert_eq!(complete("sync f", &[]).1, vec!["full", "fulfillments"]);
        assert!(parse("frobnicate").is_err());
        let statuses = vec!["Processing".to_string(), "Pending".to_string()];
        assert_eq!(complete("sta", &statuses).0, "status ");
        assert_eq!(complete("status pr", &statuses).0, "status processing");
        let (text, hint) = complete("status p", &statuses);
        assert_eq!(text, "status p");
        assert_eq!(hint.len(), 2);
    }
}
