//! `syncdesk sim …`: the project's wire-level simulators, standalone, so a config (or any client) can be
//! tried against them before touching the real systems.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Subcommand;

use super::{CliResult, Failure};
use crate::sim::woo::{self, WebhookTarget, WooSimConfig};
use crate::sim::{cartona, counterpoint, metakocka};

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// A WooCommerce store (REST API v3, webhooks) with seeded products and orders.
    Woocommerce {
        #[arg(long, default_value = "127.0.0.1:8181")]
        listen: SocketAddr,
        #[arg(
            long = "key",
            default_value = "ck_sim_0000000000000000000000000000000000000000"
        )]
        key: String,
        #[arg(
            long = "secret",
            default_value = "cs_sim_0000000000000000000000000000000000000000"
        )]
        secret: String,
        #[arg(long, default_value_t = 50)]
        products: usize,
        #[arg(long, default_value_t = 100)]
        orders: usize,
        /// Deliver order and product webhooks here (e.g. http://127.0.0.1:8787/webhooks/woocommerce).
        #[arg(long)]
        webhook: Option<String>,
        /// The webhooks' signing secret (set the same as woocommerce.webhook_secret).
        #[arg(long, default_value = "whsec_sim")]
        webhook_secret: String,
    },
    /// Cartona's supplier-integrations API (B2B marketplace) with seeded orders and products.
    Cartona {
        #[arg(long, default_value = "127.0.0.1:8182")]
        listen: SocketAddr,
        #[arg(long, default_value = "cartona_sim_token_0000000000000000")]
        token: String,
        #[arg(long, default_value_t = 30)]
        orders: usize,
    },
    /// A Metakocka ERP company (`/rest/eshop/v1/<op>`) with seeded stock, reservations and stock webhooks.
    Metakocka {
        #[arg(long, default_value = "127.0.0.1:8183")]
        listen: SocketAddr,
        #[arg(long, default_value = "16")]
        company_id: String,
        #[arg(long, default_value = "mk_sim_secret_0000000000")]
        secret_key: String,
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
        #[arg(long, default_value = "127.0.0.1:14330")]
        listen: SocketAddr,
        #[arg(long, default_value = "cpsync")]
        user: String,
        #[arg(long, default_value = "Counterpoint!2026")]
        password: String,
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
        SimCommand::Woocommerce {
            listen,
            key,
            secret,
            products,
            orders,
            webhook,
            webhook_secret,
        } => {
            let config = WooSimConfig {
                listen,
                consumer_key: key,
                consumer_secret: secret,
                products,
                orders,
                webhook: webhook.map(|url| WebhookTarget::new(url, webhook_secret)),
                webhook_timeout: Duration::from_secs(60),
                ..WooSimConfig::default()
            };
            runtime
                .block_on(woo::run_standalone(config))
                .map_err(|e| Failure::failed(e.to_string()))
        }
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
