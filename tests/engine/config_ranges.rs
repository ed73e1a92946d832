//! Config input that cannot hurt: every numeric field refuses a value out of its range and names the field
//! (the template's values, and each range's ends, load); the URLs of the systems are checked; a TOML error
//! never repeats a secret, neither from `Config::parse` nor on the command line's stderr.

use crate::cli_support as cli;

use std::collections::BTreeSet;

use syncdesk::config::{Config, TEMPLATE};

/// (field, lowest allowed, highest allowed) for every numeric field. A whole field is written as an
/// integer, a share as a float.
const RANGES: &[(&str, f64, f64)] = &[
    ("store.busy_timeout_ms", 1.0, 600_000.0),
    ("store.max_size_mb", 0.0, 1_048_576.0),
    ("jobs.retry_for_secs", 1.0, 2_592_000.0),
    ("email.smtp_port", 1.0, 65_535.0),
    ("email.timeout_secs", 1.0, 600.0),
    ("alerts.digest_every_secs", 1.0, 2_678_400.0),
    ("alerts.discrepancy_units", 0.0, 1e9),
    ("alerts.price_difference", 0.0, 10.0),
    ("jobs.lease_secs", 1.0, 3600.0),
    ("jobs.backoff_base_ms", 1.0, 3_600_000.0),
    ("jobs.backoff_cap_secs", 1.0, 86_400.0),
    ("jobs.max_attempts", 1.0, 1000.0),
    ("jobs.default_concurrency", 1.0, 256.0),
    ("jobs.poll_ms", 10.0, 60_000.0),
    ("jobs.timeout_secs", 1.0, 86_400.0),
    ("jobs.max_attempts_by_kind.\"email.backorder\"", 1.0, 1000.0),
    ("jobs.concurrency.\"email.backorder\"", 1.0, 256.0),
    ("engine.lease_secs", 2.0, 3600.0),
    ("server.max_body_bytes", 1024.0, 67_108_864.0),
    ("server.header_read_timeout_secs", 1.0, 300.0),
    ("server.body_read_timeout_secs", 1.0, 600.0),
    ("server.max_connections", 1.0, 10_000.0),
    // The lowest is server.max_body_bytes (1 MiB by default): one largest body always fits.
    (
        "server.max_buffered_body_bytes",
        1_048_576.0,
        4_294_967_296.0,
    ),
    ("woocommerce.timeout_secs", 1.0, 600.0),
    ("woocommerce.max_attempts", 1.0, 20.0),
    ("woocommerce.poll_secs", 1.0, 86_400.0),
    ("woocommerce.overlap_secs", 0.0, 86_400.0),
    ("counterpoint.fulfilment_poll_secs", 1.0, 86_400.0),
    ("counterpoint.overlap_secs", 0.0, 86_400.0),
    ("counterpoint.verify_secs", 1.0, 604_800.0),
    ("counterpoint.connection.port", 1.0, 65_535.0),
    ("counterpoint.connection.page_size", 1.0, 100_000.0),
    ("counterpoint.connection.connect_timeout_secs", 1.0, 600.0),
    ("counterpoint.connection.query_timeout_secs", 1.0, 3600.0),
    ("stock.incremental_secs", 1.0, 86_400.0),
    ("stock.full_every_secs", 1.0, 2_678_400.0),
    ("stock.threshold", 0.0, 1e9),
    ("stock.price_drift", 0.0, 10.0),
    ("stock.prices_every_secs", 1.0, 2_678_400.0),
    ("console.tick_ms", 50.0, 1000.0),
    ("pos_csv.write_every_secs", 1.0, 86_400.0),
    ("metakocka.poll_secs", 1.0, 86_400.0),
    ("metakocka.timeout_secs", 1.0, 600.0),
    ("metakocka.max_attempts", 1.0, 20.0),
    ("cartona.timeout_secs", 1.0, 600.0),
    ("cartona.max_attempts", 1.0, 20.0),
    ("cartona.per_page", 1.0, 1000.0),
    ("cartona.poll_secs", 1.0, 86_400.0),
    ("cartona.overlap_secs", 0.0, 2_678_400.0),
    ("cartona.batch_size", 1.0, 1000.0),
];

const SHARES: [&str; 2] = ["alerts.price_difference", "stock.price_drift"];

/// `a.b.c` → (`a.b`, `c`); `a.b."x.y"` → (`a.b`, `"x.y"`).
fn split(field: &str) -> (&str, &str) {
    let at = match field.find('"') {
        Some(quote) => quote - 1,
        None => field.rfind('.').unwrap(),
    };
    (&field[..at], &field[at + 1..])
}

/// A config setting `field` to `value` (and, in the same table, whatever `companions` says besides).
fn with(field: &str, value: &str, companions: &str) -> String {
    let (table, key) = split(field);
    format!("[{table}]\n{key} = {value}\n{companions}")
}

fn literal(field: &str, value: f64) -> String {
    if SHARES.contains(&field) {
        format!("{value:?}")
    } else {
        format!("{}", value as i64)
    }
}

/// Settings a range's end needs from other fields to load (the retry base may not exceed its cap).
fn companions(field: &str) -> &'static str {
    match field {
        "jobs.backoff_base_ms" => "backoff_cap_secs = 86400\n",
        _ => "",
    }
}

/// Every number in a TOML table, by dotted path (map keys with a dot quoted, as in RANGES).
fn numeric_leaves(table: &toml::Table, prefix: &str, out: &mut BTreeSet<String>) {
    for (key, value) in table {
        let key = if key.contains('.') {
            format!("\"{key}\"")
        } else {
            key.clone()
        };
        let path = if prefix.is_empty() {
            key
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Integer(_) | toml::Value::Float(_) => {
                out.insert(path);
            }
            toml::Value::Table(t) => numeric_leaves(t, &path, out),
            toml::Value::Array(items) => {
                for item in items {
                    if let toml::Value::Table(t) = item {
                        numeric_leaves(t, &path, out);
                    }
                }
            }
            _ => {}
        }
    }
}

#[test]
fn every_numeric_field_of_the_template_has_a_range_here() {
    let template: toml::Table = toml::from_str(TEMPLATE).unwrap();
    let mut leaves = BTreeSet::new();
    numeric_leaves(&template, "", &mut leaves);
    // Status ids are identities, not quantities.
    leaves.remove("statuses.status.id");
    let ranged: BTreeSet<String> = RANGES.iter().map(|(f, _, _)| f.to_string()).collect();
    let missing: Vec<_> = leaves.difference(&ranged).collect();
    assert!(
        missing.is_empty(),
        "numeric fields without a range test: {missing:?}"
    );
    assert_eq!(Config::parse(TEMPLATE).unwrap(), Config::default());
}

#[test]
fn each_range_end_loads_and_one_past_it_is_refused_naming_the_field() {
    let mut failures = Vec::new();
    for &(field, low, high) in RANGES {
        let step = if SHARES.contains(&field) { 0.01 } else { 1.0 };
        for end in [low, high] {
            let text = with(field, &literal(field, end), companions(field));
            if let Err(e) = Config::parse(&text) {
                failures.push(format!("{field} = {end} should load: {e}"));
            }
        }
        for outside in [low - step, high + step] {
            let text = with(field, &literal(field, outside), companions(field));
            match Config::parse(&text) {
                Ok(_) => failures.push(format!("{field} = {outside} was accepted")),
                // A type error (-1 for an unsigned field) names the path with its map key unquoted.
                Err(e) if e.starts_with(field) || e.starts_with(&field.replace('"', "")) => {}
                Err(e) => failures.push(format!("{field} = {outside}: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_values_that_hurt_in_the_issue_are_refused_with_their_range() {
    let cases = [
        // Panicked every command (rusqlite's busy timeout is an i32 of milliseconds).
        (
            "[store]\nbusy_timeout_ms = 2147483648\n",
            "store.busy_timeout_ms: 2147483648 is out of range; allowed 1 to 600000 (milliseconds)",
        ),
        // Its milliseconds wrapped: the lease was already expired when taken, and two engines ran.
        (
            "[engine]\nlease_secs = 9223372036854775807\n",
            "engine.lease_secs: 9223372036854775807 is out of range; allowed 2 to 3600 (seconds)",
        ),
        (
            "[stock]\nprice_drift = nan\n",
            "stock.price_drift: inf is out of range; allowed 0 to 10 (a share: 0.20 = 20%)",
        ),
        (
            "[jobs]\nbackoff_base_ms = 600000\nbackoff_cap_secs = 300\n",
            "jobs.backoff_base_ms: 600000 ms is longer than jobs.backoff_cap_secs (300 s), the longest a retry waits",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(Config::parse(text).unwrap_err(), expected);
    }
    // The command line says so and exits 2 (rejected input), instead of panicking.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[store]\nbusy_timeout_ms = 2147483648\n",
    )
    .unwrap();
    let (code, _, stderr) = cli::run(dir.path(), &["jobs", "list"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("store.busy_timeout_ms"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

const WOO_KEYS: &str = "consumer_key = \"ck_1\"\nconsumer_secret = \"cs_1\"\n";

#[test]
fn urls_are_checked() {
    let refused = [
        (
            format!("[woocommerce]\nenabled = true\nurl = \"http://\"\n{WOO_KEYS}"),
            "woocommerce.url",
        ),
        (
            format!("[woocommerce]\nenabled = true\nurl = \"shop.example\"\n{WOO_KEYS}"),
            "woocommerce.url",
        ),
        (
            format!("[woocommerce]\nenabled = true\nurl = \"ftp://shop.example\"\n{WOO_KEYS}"),
            "woocommerce.url",
        ),
        (
            format!(
                "[woocommerce]\nenabled = true\nurl = \"https://shop.example/?page=1\"\n{WOO_KEYS}"
            ),
            "woocommerce.url",
        ),
        // Not enabled yet, but already wrong.
        (
            "[woocommerce]\nurl = \"https://\"\n".into(),
            "woocommerce.url",
        ),
        (
            "[woocommerce]\nwebhook_url = \"/webhooks/woocommerce\"\n".into(),
            "woocommerce.webhook_url",
        ),
        (
            "[metakocka]\nbase_url = \"https://\"\n".into(),
            "metakocka.base_url",
        ),
        (
            "[cartona]\nbase_url = \"http://\"\n".into(),
            "cartona.base_url",
        ),
    ];
    for (text, field) in refused {
        let err = Config::parse(&text).unwrap_err();
        assert!(err.starts_with(field), "{text}: {err}");
    }
    // A URL carrying credentials is refused without repeating them.
    let err = Config::parse(&format!(
        "[woocommerce]\nenabled = true\nurl = \"https://admin:pw-9f8e7d@shop.example\"\n{WOO_KEYS}"
    ))
    .unwrap_err();
    assert!(
        err.starts_with("woocommerce.url") && !err.contains("pw-9f8e7d"),
        "{err}"
    );
    for good in [
        "https://shop.example",
        "http://127.0.0.1:8080",
        "https://shop.example/store/",
    ] {
        Config::parse(&format!(
            "[woocommerce]\nenabled = true\nurl = \"{good}\"\nauth = \"oauth\"\n{WOO_KEYS}"
        ))
        .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
}

/// Every secret field, each written wrong in the ways a hand-edited file gets them wrong.
#[test]
fn a_toml_error_never_repeats_a_secret() {
    let secret = "s3cr3t-Zq9xW";
    let fields = [
        ("woocommerce", "consumer_key"),
        ("woocommerce", "consumer_secret"),
        ("woocommerce", "webhook_secret"),
        ("email", "password"),
        ("counterpoint.connection", "password"),
        ("metakocka", "secret_key"),
        ("metakocka", "webhook_secret"),
        ("cartona", "token"),
    ];
    let mistakes = [
        // Unquoted.
        format!("= {secret}\n"),
        // The closing quote forgotten.
        format!("= \"{secret}\n"),
        format!("= '{secret}\n"),
        // A multi-line string never closed.
        format!("= \"\"\"{secret}\n\nother = 1\n"),
        // A number-like secret written as a number.
        "= 73310042\n".to_string(),
        // In a list.
        format!("= [\"{secret}\"]\n"),
    ];
    for (table, key) in fields {
        for mistake in &mistakes {
            let text = format!("[{table}]\n{key} {mistake}");
            let err = Config::parse(&text).unwrap_err();
            assert!(
                !err.contains(secret) && !err.contains("73310042"),
                "{text:?} → {err}"
            );
            assert!(
                err.starts_with(&format!("{table}.{key}")) || err.starts_with("line "),
                "{text:?} → {err}"
            );
        }
        // The usual case names the field.
        let err = Config::parse(&format!("[{table}]\n{key} = {secret}\n")).unwrap_err();
        assert!(
            err.starts_with(&format!("{table}.{key}: ")) && err.contains("line 2"),
            "{err}"
        );
    }
    // A secret pasted on a line of its own.
    let err = Config::parse(&format!(
        "[woocommerce]\nconsumer_secret = \"\"\n{secret}\n"
    ))
    .unwrap_err();
    assert!(!err.contains(secret) && err.starts_with("line 3"), "{err}");

    // What an operator sees: the command's stderr.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        format!("[woocommerce]\nconsumer_secret = {secret}\n"),
    )
    .unwrap();
    let (code, stdout, stderr) = cli::run(dir.path(), &["jobs", "list"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        !stderr.contains(secret) && !stdout.contains(secret),
        "{stderr}"
    );
    assert!(
        stderr.contains("woocommerce.consumer_secret") && stderr.contains("line 2"),
        "{stderr}"
    );
}

#[test]
fn errors_that_are_not_about_secrets_keep_their_detail() {
    let err = Config::parse("[jobs]\nlease_secs = \"soon\"\n").unwrap_err();
    assert_eq!(
        err,
        "jobs.lease_secs: invalid type: string \"soon\", expected a whole number, 0 or more (line 2, column 14)"
    );
    let err = Config::parse("[email]\nsmtp_port = 70000\n").unwrap_err();
    assert_eq!(
        err,
        "email.smtp_port: invalid value: integer `70000`, expected a whole number from 0 to 65535 (line 2, column 13)"
    );
    let err = Config::parse("[woocommerce]\nauth = \"magic\"\n").unwrap_err();
    assert!(
        err.starts_with("woocommerce.auth: unknown variant `magic`"),
        "{err}"
    );
}
