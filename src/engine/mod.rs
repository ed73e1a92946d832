//! The background engine: claims due jobs from the store and runs them through registered handlers,
//! at least once, with per-kind concurrency, leases, backoff and a single-engine lease per database.
//!
//! The loop batches its bookkeeping: outcomes of finished jobs, lease renewals, re-queuing of expired
//! leases and new claims share one write transaction per turn, which is what makes thousands of jobs per
//! second possible on one SQLite file.

mod alert_email;
mod backorder_email;
pub mod cartona_flows;
pub mod counterpoint_flows;
mod handler;
pub mod metakocka_flows;
pub mod pos_csv_flows;
pub mod price_flows;
pub mod retry;
mod runner;
pub mod stock_flows;
pub mod woo_orders;
pub mod woo_webhooks;

pub use alert_email::AlertEmail;
pub use backorder_email::BackorderEmail;
pub use handler::{
    BoxFuture, ErrorClass, HandlerRegistry, JobContext, JobError, JobHandler, handler_fn,
};
pub use runner::{Engine, EngineHandle, EngineStatus, Schedule};

use std::time::Duration;

use crate::app;
use crate::config::Config;

/// How often urgent alerts are swept for mail even when nothing asked (`raise_and_notify` asks at once).
pub const ALERTS_IMMEDIATE_EVERY: Duration = Duration::from_secs(10);

/// The handlers this build knows, with their production dependencies. Connectors that are not enabled
/// register nothing: their jobs wait (visibly) until the connector is configured.
pub fn default_handlers(config: &Config) -> HandlerRegistry {
    let mut registry = HandlerRegistry::default();
    registry.register(app::BACKORDER_EMAIL, BackorderEmail::new(&config.email));
    // Alerts come from every flow, so their mail never depends on a connector being enabled.
    let (immediate, digest) = AlertEmail::pair(config);
    registry.register(app::ALERTS_EMAIL_IMMEDIATE, immediate);
    registry.register(app::ALERTS_DIGEST, digest);
    if config.woocommerce.enabled {
        registry.register(
            app::WOO_REFRESH_ORDER,
            woo_orders::RefreshOrder::new(config),
        );
        registry.register(
            app::WOO_RECONCILE_ORDERS,
            woo_orders::ReconcileOrders::new(config),
        );
        registry.register(app::WOO_PUSH_STATUS, woo_orders::PushStatus::new(config));
    }
    if config.stock.enabled {
        use stock_flows::{PassMode, StockPassJob};
        registry.register(app::STOCK_FULL, StockPassJob::new(config, PassMode::Full));
        registry.register(
            app::STOCK_INCREMENTAL,
            StockPassJob::new(config, PassMode::Incremental),
        );
        registry.register(app::STOCK_PRICES, price_flows::PricePassJob::new(config));
        registry.register(
            app::STOCK_APPLY_RESOLUTION,
            stock_flows::ApplyResolution::new(config),
        );
    }
    if config.counterpoint.enabled {
        registry.register(
            app::CP_STAGE_ORDER,
            counterpoint_flows::StageOrderJob::new(config),
        );
        registry.register(
            app::CP_FULFILMENT_PASS,
            counterpoint_flows::FulfilmentPass::new(config),
        );
        registry.register(
            app::CP_VERIFY_DOCUMENTS,
            counterpoint_flows::VerifyDocuments::new(config),
        );
    }
    if config.metakocka.enabled {
        metakocka_flows::register(&mut registry, config);
    }
    if config.cartona.enabled {
        registry.register(
            app::CARTONA_PULL_ORDERS,
            cartona_flows::PullOrders::new(config),
        );
        registry.register(
            app::CARTONA_PUSH_STATUSES,
            cartona_flows::PushStatuses::new(config),
        );
    }
    if config.pos_csv.enabled {
        registry.register(
            pos_csv_flows::WRITE_REDUCTIONS,
            pos_csv_flows::WriteReductions,
        );
    }
    registry
}

/// The recurring jobs the configuration asks for.
pub fn default_schedules(config: &Config) -> Vec<Schedule> {
    // The immediate sweep also catches alerts raised without `raise_and_notify` (or whose job died).
    let mut schedules = vec![
        Schedule::every(app::ALERTS_EMAIL_IMMEDIATE, ALERTS_IMMEDIATE_EVERY),
        Schedule::every(
            app::ALERTS_DIGEST,
            Duration::from_secs(config.alerts.digest_every_secs),
        ),
    ];
    if config.woocommerce.enabled {
        let every = Duration::from_secs(config.woocommerce.poll_secs);
        schedules.push(Schedule::every(app::WOO_RECONCILE_ORDERS, every));
    }
    if config.stock.enabled {
        let st = &config.stock;
        schedules.push(Schedule::every(
            app::STOCK_INCREMENTAL,
            Duration::from_secs(st.incremental_secs),
        ));
        schedules.push(Schedule::every(
            app::STOCK_FULL,
            Duration::from_secs(st.full_every_secs),
        ));
        // Metakocka's stock carries no prices: its shops keep prices in the store.
        if !config.metakocka.enabled {
            schedules.push(Schedule::every(
                app::STOCK_PRICES,
                Duration::from_secs(st.prices_every_secs),
            ));
        }
    }
    if config.counterpoint.enabled {
        let cp = &config.counterpoint;
        schedules.push(Schedule::every(
            app::CP_FULFILMENT_PASS,
            Duration::from_secs(cp.fulfilment_poll_secs),
        ));
        schedules.push(Schedule::every(
            app::CP_VERIFY_DOCUMENTS,
            Duration::from_secs(cp.verify_secs),
        ));
    }
    if config.metakocka.enabled {
        schedules.extend(metakocka_flows::schedules(config));
    }
    if config.cartona.enabled {
        let every = Duration::from_secs(config.cartona.poll_secs);
        schedules.push(Schedule::every(app::CARTONA_PULL_ORDERS, every));
    }
    if config.pos_csv.enabled {
        schedules.push(Schedule::every(
            pos_csv_flows::WRITE_REDUCTIONS,
            Duration::from_secs(config.pos_csv.write_every_secs),
        ));
    }
    schedules
}
