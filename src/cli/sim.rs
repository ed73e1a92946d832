//! `syncdesk sim …`: the project's wire-level simulators, standalone, so a config (or any client) can be
//! tried against them before touching the real systems.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Subcommand;

use super::{CliResult, Failure};
use crate::sim::counterpoint;
use crate::sim::woo::{self, WebhookTarget, WooSimConfig};

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
    /// An NCR Counterpoint database: a SQL Server (TDS 7.4, no TLS) endpoint with a seeded shop.
    Counterpoint {
        #[arg(long, default_value = "127.0.0.1:14330")]
        listen: SocketAddr,
        #[arg(long, default_value = "cpsync")]
        user: String,
        #[arg(long, default_value = "Counterpoint!2026")]
        password: String,
        #[arg(long, default_value_t = 200)]
        items: usize,
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
        SimCommand::Counterpoint {
            listen,
            user,
            password,
            items,
        } => {
            let config = counterpoint::SimConfig {
                listen,
                user,
                password,
                items,
                ..counterpoint::SimConfig::default()
            };
            runtime
                .block_on(counterpoint::run_standalone(config))
                .map_err(|e| Failure::failed(e.to_string()))
        }
    }
}
