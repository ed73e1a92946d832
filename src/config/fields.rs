//! Checks on single config values: one table with the allowed range of every numeric field, and the URLs of
//! the systems syncdesk talks to. A value out of range is refused at load, naming its field, instead of
//! panicking later (a busy timeout past i32::MAX ms panicked every command) or quietly misbehaving (an engine
//! lease so long its milliseconds wrapped let two engines run at once; `http://` was taken for a store).

use std::fmt::Display;

use super::Config;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
/// The longest schedule interval: a pass that runs less than monthly is not a schedule.
const MONTH: u64 = 31 * DAY;
const MIB: usize = 1 << 20;

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

/// Collects the fields of one config.
struct Table(Vec<Field>);

impl Table {
    fn whole<T: TryInto<i128>>(
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

    fn real(
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

/// Every numeric field of the config with its allowed range (inclusive).
fn numeric_fields(c: &Config) -> Vec<Field> {
    const SECS: &str = "seconds";
    const MS: &str = "milliseconds";
    let mut t = Table(Vec::new());
    t.whole(
        "store.busy_timeout_ms",
        c.store.busy_timeout_ms,
        1,
        10 * MINUTE * 1000,
        MS,
    )
    // 1 TiB: far past any shop's database, low enough that SQLite's page count cannot overflow.
    .whole(
        "store.max_size_mb",
        c.store.max_size_mb,
        0,
        1 << 20,
        "MiB (0: no limit)",
    );
    t.whole(
        "email.smtp_port",
        c.email.smtp_port,
        1,
        65_535,
        "a TCP port",
    )
    .whole(
        "email.timeout_secs",
        c.email.timeout_secs,
        1,
        10 * MINUTE,
        SECS,
    );
    t.whole(
        "alerts.digest_every_secs",
        c.alerts.digest_every_secs,
        1,
        MONTH,
        SECS,
    )
    .whole(
        "alerts.discrepancy_units",
        c.alerts.discrepancy_units,
        0,
        1_000_000_000,
        "units",
    )
    .real(
        "alerts.price_difference",
        c.alerts.price_difference,
        0.0,
        10.0,
        "a share: 0.20 = 20%",
    );
    let jobs = &c.jobs;
    t.whole("jobs.lease_secs", jobs.lease_secs, 1, HOUR, SECS)
        .whole(
            "jobs.backoff_base_ms",
            jobs.backoff_base_ms,
            1,
            HOUR * 1000,
            MS,
        )
        .whole("jobs.backoff_cap_secs", jobs.backoff_cap_secs, 1, DAY, SECS)
        .whole("jobs.max_attempts", jobs.max_attempts, 1, 1000, "tries")
        .whole(
            "jobs.default_concurrency",
            jobs.default_concurrency,
            1,
            256,
            "jobs at once",
        )
        .whole("jobs.poll_ms", jobs.poll_ms, 10, MINUTE * 1000, MS)
        .whole("jobs.timeout_secs", jobs.timeout_secs, 1, DAY, SECS);
    for (kind, n) in &jobs.max_attempts_by_kind {
        t.whole(
            format!("jobs.max_attempts_by_kind.\"{kind}\""),
            *n,
            1,
            1000,
            "tries",
        );
    }
    t.whole(
        "jobs.retry_for_secs",
        jobs.retry_for_secs,
        1,
        crate::config::MAX_RETRY_FOR_SECS,
        SECS,
    );
    for (kind, secs) in &jobs.retry_for_secs_by_kind {
        t.whole(
            format!("jobs.retry_for_secs_by_kind.\"{kind}\""),
            *secs,
            1,
            crate::config::MAX_RETRY_FOR_SECS,
            SECS,
        );
    }
    for (kind, n) in &jobs.concurrency {
        t.whole(
            format!("jobs.concurrency.\"{kind}\""),
            *n,
            1,
            256,
            "jobs at once",
        );
    }
    t.whole("engine.lease_secs", c.engine.lease_secs, 2, HOUR, SECS);
    let server = &c.server;
    t.whole(
        "server.max_body_bytes",
        server.max_body_bytes,
        1024,
        64 * MIB,
        "bytes",
    )
    .whole(
        "server.header_read_timeout_secs",
        server.header_read_timeout_secs,
        1,
        5 * MINUTE,
        SECS,
    )
    .whole(
        "server.body_read_timeout_secs",
        server.body_read_timeout_secs,
        1,
        10 * MINUTE,
        SECS,
    )
    .whole(
        "server.max_connections",
        server.max_connections,
        1,
        10_000,
        "connections",
    )
    .whole(
        "server.max_buffered_body_bytes",
        server.max_buffered_body_bytes,
        server.max_body_bytes,
        4u64 << 30,
        "bytes, at least server.max_body_bytes",
    );
    let woo = &c.woocommerce;
    t.whole(
        "woocommerce.timeout_secs",
        woo.timeout_secs,
        1,
        10 * MINUTE,
        SECS,
    )
    .whole("woocommerce.max_attempts", woo.max_attempts, 1, 20, "tries")
    .whole("woocommerce.poll_secs", woo.poll_secs, 1, DAY, SECS)
    .whole("woocommerce.overlap_secs", woo.overlap_secs, 0, DAY, SECS);
    let cp = &c.counterpoint;
    let conn = &cp.connection;
    t.whole(
        "counterpoint.fulfilment_poll_secs",
        cp.fulfilment_poll_secs,
        1,
        DAY,
        SECS,
    )
    .whole("counterpoint.overlap_secs", cp.overlap_secs, 0, DAY, SECS)
    .whole("counterpoint.verify_secs", cp.verify_secs, 1, 7 * DAY, SECS)
    .whole(
        "counterpoint.connection.port",
        conn.port,
        1,
        65_535,
        "a TCP port",
    )
    .whole(
        "counterpoint.connection.page_size",
        conn.page_size,
        1,
        100_000,
        "rows",
    )
    .whole(
        "counterpoint.connection.connect_timeout_secs",
        conn.connect_timeout_secs,
        1,
        10 * MINUTE,
        SECS,
    )
    .whole(
        "counterpoint.connection.query_timeout_secs",
        conn.query_timeout_secs,
        1,
        HOUR,
        SECS,
    );
    let stock = &c.stock;
    t.whole(
        "stock.incremental_secs",
        stock.incremental_secs,
        1,
        DAY,
        SECS,
    )
    .whole(
        "stock.full_every_secs",
        stock.full_every_secs,
        1,
        MONTH,
        SECS,
    )
    .whole(
        "stock.threshold",
        stock.threshold,
        0,
        1_000_000_000,
        "units",
    )
    .real(
        "stock.price_drift",
        stock.price_drift,
        0.0,
        10.0,
        "a share: 0.20 = 20%",
    )
    .whole(
        "stock.prices_every_secs",
        stock.prices_every_secs,
        1,
        MONTH,
        SECS,
    );
    t.whole("console.tick_ms", c.console.tick_ms, 50, 1000, MS);
    t.whole(
        "pos_csv.write_every_secs",
        c.pos_csv.write_every_secs,
        1,
        DAY,
        SECS,
    );
    let mk = &c.metakocka;
    t.whole("metakocka.poll_secs", mk.poll_secs, 1, DAY, SECS)
        .whole(
            "metakocka.timeout_secs",
            mk.timeout_secs,
            1,
            10 * MINUTE,
            SECS,
        )
        .whole("metakocka.max_attempts", mk.max_attempts, 1, 20, "tries");
    let ct = &c.cartona;
    t.whole(
        "cartona.timeout_secs",
        ct.timeout_secs,
        1,
        10 * MINUTE,
        SECS,
    )
    .whole("cartona.max_attempts", ct.max_attempts, 1, 20, "tries")
    .whole("cartona.per_page", ct.per_page, 1, 1000, "orders")
    .whole("cartona.poll_secs", ct.poll_secs, 1, DAY, SECS)
    .whole("cartona.overlap_secs", ct.overlap_secs, 0, MONTH, SECS)
    .whole("cartona.batch_size", ct.batch_size, 1, 1000, "updates");
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
            "{field}: '{}' must be http(s)://host/…, e.g. https://sync.shop.example/webhooks/woocommerce",
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
        let err = check_api_url("woocommerce.url", "https://me:pw@shop.example", "").unwrap_err();
        assert!(!err.contains("pw"), "{err}");
        let err = check_api_url("woocommerce.url", "ftp://me:pw@shop", "").unwrap_err();
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
