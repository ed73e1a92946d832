//! `syncdesk sim …`: the project's wire-level simulators, standalone (demo tooling, behind the `demo` feature), so a config (or any client) can be
//! tried against them before touching the real systems.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Subcommand;
use syncdesk_sim::{cartona, counterpoint, metakocka};

use crate::cli::{CliResult, Failure};

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// A WooCommerce 10 store (REST API v3: OAuth 1.0a over http, webhooks) with seeded products and orders,
    /// and faults to inject (latency, errors, 429s, resets, lost answers, outages).
    Woocommerce(WooSimArgs),
    /// Cartona's supplier-integrations API (B2B marketplace) with seeded orders and products.
    Cartona {
        /// Address to listen on (`127.0.0.1:0` picks a free port; the address is printed).
        #[arg(long, default_value = "127.0.0.1:8182")]
        listen: SocketAddr,
        /// The API token the simulator accepts.
        #[arg(long, default_value = "cartona_sim_token_0000000000000000")]
        token: String,
        /// Orders to seed.
        #[arg(long, default_value_t = 30)]
        orders: usize,
    },
    /// A Metakocka ERP company (`/rest/eshop/v1/<op>`) with seeded stock, reservations and stock webhooks.
    Metakocka {
        /// Address to listen on (`127.0.0.1:0` picks a free port; the address is printed).
        #[arg(long, default_value = "127.0.0.1:8183")]
        listen: SocketAddr,
        /// The company id the simulator answers for.
        #[arg(long, default_value = "16")]
        company_id: String,
        /// The secret key the simulator accepts.
        #[arg(long, default_value = "mk_sim_secret_0000000000")]
        secret_key: String,
        /// Products to seed.
        #[arg(long, default_value_t = 20)]
        products: usize,
        /// Deliver `warehouse_product_stock_update` webhooks here.
        #[arg(long)]
        webhook: Option<String>,
        /// The webhooks' client secret (HMAC key).
        #[arg(long, default_value = "mk_whsec_sim")]
        webhook_secret: String,
    },
    /// An NCR Counterpoint database: a SQL Server endpoint (TDS 7.x and 8.0, TLS with a certificate made at
    /// start) with a seeded shop: items, stock, customers and order documents (open, shipped, posted).
    Counterpoint {
        /// Address to listen on (`127.0.0.1:0` picks a free port; the address is printed).
        #[arg(long, default_value = "127.0.0.1:14330")]
        listen: SocketAddr,
        /// The SQL login the simulator accepts.
        #[arg(long, default_value = "cpsync")]
        user: String,
        /// That login's password.
        #[arg(long, default_value = "Counterpoint!2026")]
        password: String,
        /// Items to seed.
        #[arg(long, default_value_t = 200)]
        items: usize,
        /// Order documents to seed (about half left open, the rest shipped or posted to history).
        #[arg(long, default_value_t = 40)]
        documents: usize,
        /// off: login encrypted, the rest as the client asks (SQL Server's default); on: whole session
        /// encrypted for clients that can; required: forced encryption; strict: TDS 8.0 only (TLS first);
        /// not-supported: no certificate, nothing encrypted.
        #[arg(long, default_value = "off")]
        encryption: counterpoint::ServerEncryption,
        /// Server certificate chain (PEM) instead of a self-signed one made at start; needs --key.
        #[arg(long, requires = "key")]
        cert: Option<std::path::PathBuf>,
        /// Private key (PEM) of --cert.
        #[arg(long, requires = "cert")]
        key: Option<std::path::PathBuf>,
    },
}

pub fn run(command: SimCommand) -> CliResult {
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| Failure::failed(format!("runtime: {e}")))?;
    match command {
        SimCommand::Woocommerce(args) => run_woocommerce(&runtime, args),
        SimCommand::Cartona {
            listen,
            token,
            orders,
        } => {
            let config = cartona::CartonaSimConfig {
                listen,
                token,
                seed_orders: orders,
                ..cartona::CartonaSimConfig::default()
            };
            runtime
                .block_on(cartona::run_standalone(config))
                .map_err(|e| Failure::failed(e.to_string()))
        }
        SimCommand::Metakocka {
            listen,
            company_id,
            secret_key,
            products,
            webhook,
            webhook_secret,
        } => {
            let config = metakocka::MetakockaSimConfig {
                listen,
                company_id,
                secret_key,
                seed_products: products,
                webhook: webhook.map(|url| metakocka::MkWebhookTarget {
                    url,
                    client_secret: webhook_secret,
                }),
                ..metakocka::MetakockaSimConfig::default()
            };
            runtime
                .block_on(metakocka::run_standalone(config))
                .map_err(|e| Failure::failed(e.to_string()))
        }
        SimCommand::Counterpoint {
            listen,
            user,
            password,
            items,
            documents,
            encryption,
            cert,
            key,
        } => {
            let certificate = match (cert, key) {
                (Some(cert), Some(key)) => Some(
                    counterpoint::ServerCertificate::from_pem_files(&cert, &key)
                        .map_err(|e| Failure::rejected(format!("--cert/--key: {e}")))?,
                ),
                _ => None,
            };
            let config = counterpoint::SimConfig {
                listen,
                user,
                password,
                items,
                documents,
                encryption,
                certificate,
                ..counterpoint::SimConfig::default()
            };
            runtime
                .block_on(counterpoint::run_standalone(config))
                .map_err(|e| Failure::failed(e.to_string()))
        }
    }
}

/// `syncdesk sim woocommerce`: the store, its credentials and the faults it injects.
#[derive(clap::Args, Debug)]
pub struct WooSimArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8181")]
    listen: SocketAddr,
    /// The REST API consumer key the simulator accepts.
    #[arg(
        long = "key",
        default_value = "ck_sim_0000000000000000000000000000000000000000"
    )]
    key: String,
    /// The REST API consumer secret the simulator accepts.
    #[arg(
        long = "secret",
        default_value = "cs_sim_0000000000000000000000000000000000000000"
    )]
    secret: String,
    /// Products to seed.
    #[arg(long, default_value_t = 50)]
    products: usize,
    /// Orders to seed.
    #[arg(long, default_value_t = 100)]
    orders: usize,
    /// Seed of the generated catalogue and history (and of the order of tied rows).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Behave as if requests arrived over TLS: HTTP Basic and `consumer_key`/`consumer_secret` query
    /// parameters are accepted besides OAuth 1.0a (signed with an https:// URL). Without it, like a real
    /// store over plain http, only OAuth 1.0a is.
    #[arg(long, alias = "tls-as")]
    treat_as_https: bool,
    /// Deliver order and product webhooks here (e.g. http://127.0.0.1:8787/webhooks/woocommerce).
    #[arg(long)]
    webhook: Option<String>,
    /// The webhooks' signing secret (set the same as woocommerce.webhook_secret).
    #[arg(long, default_value = "whsec_sim")]
    webhook_secret: String,
    /// How long a change waits before its webhook is sent (later changes to the same resource join it).
    #[arg(long, default_value_t = 200, value_name = "MS")]
    webhook_delay_ms: u64,
    /// Leave out the store's own order notes ("Order status changed from …", "Stock levels reduced: …").
    #[arg(long)]
    no_system_notes: bool,
    /// List items that share a modification date in id order. A real store returns them in no fixed order
    /// (so reading page by page under orderby=modified can repeat and skip some); that is the default.
    #[arg(long)]
    stable_ties: bool,
    /// Every request waits this long…
    #[arg(long, default_value_t = 0, value_name = "MS")]
    latency_ms: u64,
    /// …plus a random part of up to this long.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    jitter_ms: u64,
    /// Fraction (0.0–1.0) of requests answered with a random 500 or 503.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    error_rate: f64,
    /// Every Nth request gets 429 Too Many Requests with `Retry-After` (see --retry-after).
    #[arg(long, default_value_t = 0, value_name = "N")]
    throttle_every: u32,
    /// The `Retry-After` seconds of throttled requests.
    #[arg(long, default_value_t = 2, value_name = "SECS")]
    retry_after: u64,
    /// The first N requests have their connection reset without an answer.
    #[arg(long, default_value_t = 0, value_name = "N")]
    reset_first: u32,
    /// The next N requests on ROUTE are applied by the store, then their connection is reset without an
    /// answer, e.g. `--lose-answers "POST /orders/{id}/notes:1"` (routes as METHOD /path with ids as {id}).
    /// Repeatable.
    #[arg(long, value_name = "ROUTE:N")]
    lose_answers: Vec<String>,
    /// A recurring outage: every request gets 503 during the first DURATION seconds of every SECS,
    /// e.g. `--outage-every 60:10`.
    #[arg(long, value_name = "SECS:DURATION")]
    outage_every: Option<String>,
}

/// `"POST /orders/{id}/notes:2"` → ("POST /orders/{id}/notes", 2).
fn route_and_count(text: &str) -> Result<(String, u32), Failure> {
    text.rsplit_once(':')
        .and_then(|(route, n)| Some((route.trim().to_string(), n.trim().parse().ok()?)))
        .filter(|(route, _)| route.contains(' '))
        .ok_or_else(|| {
            Failure::rejected(format!(
                "--lose-answers {text:?}: expected ROUTE:N, e.g. \"POST /orders/{{id}}/notes:1\""
            ))
        })
}

/// `"60:10"` → (60 s, 10 s).
fn period_and_length(text: &str) -> Result<(Duration, Duration), Failure> {
    text.split_once(':')
        .and_then(|(period, length)| {
            Some((
                Duration::from_secs(period.trim().parse().ok()?),
                Duration::from_secs(length.trim().parse().ok()?),
            ))
        })
        .filter(|(period, length)| !period.is_zero() && length < period)
        .ok_or_else(|| {
            Failure::rejected(format!(
                "--outage-every {text:?}: expected SECS:DURATION with DURATION < SECS, e.g. 60:10"
            ))
        })
}

fn run_woocommerce(runtime: &tokio::runtime::Runtime, args: WooSimArgs) -> CliResult {
    use syncdesk_sim::woo::{self, WebhookTarget, WooSimConfig};
    if !(0.0..=1.0).contains(&args.error_rate) {
        return Err(Failure::rejected(
            "--error-rate must be between 0.0 and 1.0",
        ));
    }
    let lost: Vec<(String, u32)> = args
        .lose_answers
        .iter()
        .map(|text| route_and_count(text))
        .collect::<Result<_, _>>()?;
    let outage = args
        .outage_every
        .as_deref()
        .map(period_and_length)
        .transpose()?;
    let config = WooSimConfig {
        listen: args.listen,
        consumer_key: args.key,
        consumer_secret: args.secret,
        products: args.products,
        orders: args.orders,
        seed: args.seed,
        webhook: args
            .webhook
            .map(|url| WebhookTarget::new(url, args.webhook_secret)),
        treat_as_https: args.treat_as_https,
        webhook_timeout: Duration::from_secs(60),
        webhook_coalesce: Duration::from_millis(args.webhook_delay_ms),
        system_notes: !args.no_system_notes,
        shuffle_ties: !args.stable_ties,
    };
    let (latency, jitter) = (
        Duration::from_millis(args.latency_ms),
        Duration::from_millis(args.jitter_ms),
    );
    let (error_rate, throttle_every, retry_after, reset_first) = (
        args.error_rate,
        args.throttle_every,
        args.retry_after,
        args.reset_first,
    );
    runtime
        .block_on(woo::run_standalone_with(config, move |sim| {
            let faults = sim.faults();
            faults.set_latency(latency, jitter);
            faults.set_error_rate(error_rate);
            faults.throttle_every(throttle_every, retry_after);
            faults.reset_next(reset_first);
            for (route, n) in &lost {
                faults.lose_answers_next(route, *n);
            }
            if let Some((period, length)) = outage {
                faults.outage_every(period, length);
            }
        }))
        .map_err(|e| Failure::failed(e.to_string()))
}
