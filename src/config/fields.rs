//! Checks on single config values: one table with the allowed range of every numeric field, and the URLs of
//! the systems syncdesk talks to. A value out of range is refused at load, naming its field, instead of
//! panicking later (a busy timeout past i32::MAX ms panicked every command) or quietly misbehaving (an engine
//! lease so long its milliseconds wrapped let two engines run at once; `http://` was taken for a store).

use std::fmt::Display;

use super::Config;

/// The units the sections' ranges are written in.
pub(crate) mod units {
    pub const MINUTE: u64 = 60;
    pub const HOUR: u64 = 60 * MINUTE;
    pub const DAY: u64 = 24 * HOUR;
    /// The longest schedule interval: a pass that runs less than monthly is not a schedule.
    pub const MONTH: u64 = 31 * DAY;
    pub const MIB: usize = 1 << 20;
    pub const SECS: &str = "seconds";
    pub const MS: &str = "milliseconds";
}

/// One numeric field, its value and what it may be.
struct Field {
    path: String,
    value: Number,
    min: Number,
    max: Number,
    unit: &'static str,
}

#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Number {
    Whole(i128),
    Real(f64),
}

impl Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Number::Whole(n) => write!(f, "{n}"),
            Number::Real(x) => write!(f, "{x}"),
        }
    }
}

fn whole<T: TryInto<i128>>(n: T) -> Number {
    Number::Whole(n.try_into().unwrap_or(i128::MAX))
}

/// The one range table, collected from every section's rows.
pub(crate) struct Ranges(Vec<Field>);

impl Ranges {
    pub(crate) fn whole<T: TryInto<i128>>(
        &mut self,
        path: impl Into<String>,
        value: T,
        min: impl TryInto<i128>,
        max: impl TryInto<i128>,
        unit: &'static str,
    ) -> &mut Self {
        self.0.push(Field {
            path: path.into(),
            value: whole(value),
            min: whole(min),
            max: whole(max),
            unit,
        });
        self
    }

    pub(crate) fn real(
        &mut self,
        path: &str,
        value: f64,
        min: f64,
        max: f64,
        unit: &'static str,
    ) -> &mut Self {
        self.0.push(Field {
            path: path.into(),
            // NaN compares as neither in nor out of a range: make it out.
            value: Number::Real(if value.is_nan() { f64::INFINITY } else { value }),
            min: Number::Real(min),
            max: Number::Real(max),
            unit,
        });
        self
    }
}

/// Every numeric field of the config with its allowed range (inclusive), each section's rows in turn.
fn numeric_fields(c: &Config) -> Vec<Field> {
    let mut t = Ranges(Vec::new());
    c.ranges(&mut t);
    t.0
}

/// The first numeric field out of its range, named, with what it may be.
pub(super) fn check_ranges(c: &Config) -> Result<(), String> {
    for f in numeric_fields(c) {
        if f.value < f.min || f.value > f.max {
            return Err(format!(
                "{}: {} is out of range; allowed {} to {} ({})",
                f.path, f.value, f.min, f.max, f.unit
            ));
        }
    }
    if c.jobs.backoff_base_ms > c.jobs.backoff_cap_secs.saturating_mul(1000) {
        return Err(format!(
            "jobs.backoff_base_ms: {} ms is longer than jobs.backoff_cap_secs ({} s), the longest a retry waits",
            c.jobs.backoff_base_ms, c.jobs.backoff_cap_secs
        ));
    }
    Ok(())
}

/// Checks the root URL of an HTTP API: `http(s)://host[:port][/path]`, nothing else. The URL is only
/// repeated without any user name or password it carries.
pub(crate) fn check_api_url(field: &str, url: &str, plain_http_hint: &str) -> Result<(), String> {
    let url = url.trim();
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        format!(
            "{field}: '{}' is not a URL ({e}); expected e.g. https://shop.example",
            shown(url)
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "{field}: '{}' must start with https://{plain_http_hint}",
            shown(url)
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "{field}: '{}' names no host; expected e.g. https://shop.example",
            shown(url)
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "{field}: must not carry a user name or password (the API credentials are their own settings)"
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!(
            "{field}: '{}' must not have a ?query or #fragment",
            shown(url)
        ));
    }
    Ok(())
}

/// Checks a URL the store delivers webhooks to: `http(s)://host…` (a query is allowed: some proxies route on it).
pub(crate) fn check_webhook_url(field: &str, url: &str) -> Result<(), String> {
    let url = url.trim();
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| format!("{field}: '{}' is not a URL ({e})", shown(url)))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "{field}: '{}' must be http(s)://host/…, e.g. https://sync.shop.example/webhooks/shop",
            shown(url)
        ));
    }
    Ok(())
}

/// A URL as it may be shown: without what comes between `//` and `@` (credentials).
fn shown(url: &str) -> String {
    match (url.find("//"), url.rfind('@')) {
        (Some(start), Some(at)) if at > start => format!("{}//***{}", &url[..start], &url[at..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_url_are_never_shown() {
        assert_eq!(
            shown("https://me:pw@shop.example/x"),
            "https://***@shop.example/x"
        );
        let err = check_api_url("shop.url", "https://me:pw@shop.example", "").unwrap_err();
        assert!(!err.contains("pw"), "{err}");
        let err = check_api_url("shop.url", "ftp://me:pw@shop", "").unwrap_err();
        assert!(!err.contains("pw") && err.contains("https://"), "{err}");
    }

    #[test]
    fn an_api_url_needs_a_scheme_and_a_host() {
        for bad in [
            "http://",
            "https://",
            "shop.example",
            "mailto:me@shop",
            "https://shop?x=1",
        ] {
            assert!(check_api_url("f", bad, "").is_err(), "{bad}");
        }
        for good in [
            "https://shop.example",
            "http://127.0.0.1:8080",
            "https://shop.example/store/",
        ] {
            check_api_url("f", good, "").unwrap();
        }
    }
}
