//! Cartona's supplier-integrations API on loopback: pull-orders with paging and window, status updates
//! (bulk silently skips what it cannot apply), OTP, the `synced` acknowledgement, order details, stock by
//! `unit_count`, with fault injection and a handle for tests and the demo.

mod api;
mod shared;
mod store;

pub use crate::faults::FaultControls;

use crate::faults::{ConnKill, KillableListener};
use chrono::{DateTime, Utc};
use shared::Shared;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use store::{Line, Order, Product, Store};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Clone)]
pub struct CartonaSimConfig {
    /// `127.0.0.1:0` picks a free port.
    pub listen: SocketAddr,
    pub token: String,
    /// The header the token must arrive in, and what precedes it (Cartona does not document the header name).
    pub auth_header: String,
    pub auth_prefix: String,
    /// Largest `per_page` honoured.
    pub max_per_page: usize,
    /// Orders and products to seed (for the demo; tests usually start empty and create their own).
    pub seed_orders: usize,
}

impl Default for CartonaSimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: "cartona_sim_token_0000000000000000".into(),
            auth_header: "Authorization".into(),
            auth_prefix: "Bearer ".into(),
            max_per_page: 100,
            seed_orders: 0,
        }
    }
}

impl std::fmt::Debug for CartonaSimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CartonaSimConfig")
            .field("listen", &self.listen)
            .field("token", &"<redacted>")
            .field("auth_header", &self.auth_header)
            .field("auth_prefix", &self.auth_prefix)
            .field("max_per_page", &self.max_per_page)
            .field("seed_orders", &self.seed_orders)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CartonaSimError {
    #[error("simulator I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Rejected(String),
}

/// An order as a retailer places it; see `CartonaSim::create_order`.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// Generated when `None`.
    pub hashed_id: Option<String>,
    pub status: String,
    /// `supplier` or `cartona`.
    pub delivered_by: String,
    pub requires_otp: bool,
    pub created_at: DateTime<Utc>,
    pub retailer: String,
    /// (internal_product_id, quantity, unit price).
    pub lines: Vec<(String, i64, f64)>,
}

impl Default for NewOrder {
    fn default() -> Self {
        Self {
            hashed_id: None,
            status: "pending".into(),
            delivered_by: "supplier".into(),
            requires_otp: false,
            created_at: Utc::now(),
            retailer: "Corner Market".into(),
            lines: vec![("SKU-1".into(), 2, 25.0)],
        }
    }
}

/// An order as tests see it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOrder {
    pub hashed_id: String,
    pub status: String,
    pub delivered_by: String,
    pub requires_otp: bool,
    /// The retailer's OTP for delivery.
    pub otp: String,
    /// Acknowledged with `synced` (hidden from pull-orders).
    pub synced: bool,
    /// The reason sent with the supplier's cancellation, if any.
    pub cancellation_reason: Option<String>,
    pub lines: Vec<SimLine>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimLine {
    pub id: u64,
    pub internal_product_id: String,
    pub quantity: i64,
    pub cancelled: bool,
}

/// A running simulator. Dropping it without `shutdown` leaves the server running until the runtime ends.
pub struct CartonaSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    /// Token, header and prefix, as configured.
    auth: (String, String, String),
}

impl CartonaSim {
    pub async fn start(cfg: CartonaSimConfig) -> Result<Self, CartonaSimError> {
        let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let shared = Arc::new(Shared::new(
            Store::default(),
            cfg.auth_header.clone(),
            format!("{}{}", cfg.auth_prefix, cfg.token),
            cfg.max_per_page.max(1),
            base_url,
        ));
        let app = api::router(shared.clone()).into_make_service_with_connect_info::<ConnKill>();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serving =
                axum::serve(KillableListener(listener), app).with_graceful_shutdown(async {
                    let _ = stopped.await;
                });
            if let Err(error) = serving.await {
                tracing::error!(%error, "Cartona simulator stopped");
            }
        });
        let sim = Self {
            addr,
            shared,
            stop: Some(stop),
            server,
            auth: (
                cfg.token.clone(),
                cfg.auth_header.clone(),
                cfg.auth_prefix.clone(),
            ),
        };
        sim.seed(cfg.seed_orders);
        Ok(sim)
    }

    fn seed(&self, orders: usize) {
        if orders == 0 {
            return;
        }
        for (sku, unit_count) in [("SKU-1", 1), ("SKU-2", 6), ("SKU-3", 24), ("SKU-4", 144)] {
            self.add_product(sku, unit_count, 100);
        }
        let now = Utc::now();
        for i in 0..orders {
            self.create_order(NewOrder {
                delivered_by: if i % 3 == 2 { "cartona" } else { "supplier" }.into(),
                requires_otp: i % 4 == 1,
                created_at: now - chrono::Duration::minutes(10 * (orders - i) as i64),
                retailer: format!("Retailer {}", i + 1),
                lines: vec![
                    (format!("SKU-{}", i % 4 + 1), (i % 5 + 1) as i64, 12.5),
                    ("SKU-1".into(), 1, 30.0),
                ],
                ..NewOrder::default()
            });
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Host root, e.g. `http://127.0.0.1:40123` (the API is under `/api/v1/`).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn api_url(&self) -> String {
        format!("{}/api/v1/", self.shared.base_url)
    }

    /// The supplier token this marketplace accepts.
    pub fn token(&self) -> &str {
        &self.auth.0
    }

    /// The header the token travels in, e.g. `Authorization`.
    pub fn auth_header(&self) -> &str {
        &self.auth.1
    }

    /// What precedes the token in that header, e.g. `Bearer `.
    pub fn auth_prefix(&self) -> &str {
        &self.auth.2
    }

    pub fn faults(&self) -> &FaultControls {
        &self.shared.faults
    }

    /// Requests seen for one route, e.g. `"GET /pull-orders"` or
    /// `"POST /order/update-order-status/{hashed_id}"` (faulted and unauthenticated ones included).
    pub fn request_count(&self, endpoint: &str) -> u64 {
        self.shared.counts().get(endpoint).copied().unwrap_or(0)
    }

    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.shared.counts()
    }

    pub fn reset_request_counts(&self) {
        self.shared.reset_counts();
    }

    /// Places an order as a retailer would; returns its hashed id. The OTP is generated (see `order`).
    pub fn create_order(&self, new: NewOrder) -> String {
        self.shared.with(|store| {
            let hashed_id = new.hashed_id.unwrap_or_else(|| store.new_hashed_id());
            let lines = new
                .lines
                .into_iter()
                .map(|(sku, quantity, price)| Line {
                    id: store.next_id(),
                    name: format!("Product {sku}"),
                    internal_product_id: sku,
                    quantity,
                    price,
                    cancelled: false,
                })
                .collect();
            let order = Order {
                hashed_id: hashed_id.clone(),
                status: new.status,
                delivered_by: new.delivered_by,
                requires_otp: new.requires_otp,
                otp: format!("{:04}", fastrand::u32(0..10_000)),
                retailer: new.retailer,
                lines,
                created_at: new.created_at,
                updated_at: new.created_at,
                acknowledged: false,
                cancellation_reason: None,
            };
            store.orders.insert(hashed_id.clone(), order);
            hashed_id
        })
    }

    pub fn order(&self, hashed_id: &str) -> Option<SimOrder> {
        self.shared.with(|store| {
            store.orders.get(hashed_id).map(|o| SimOrder {
                hashed_id: o.hashed_id.clone(),
                status: o.status.clone(),
                delivered_by: o.delivered_by.clone(),
                requires_otp: o.requires_otp,
                otp: o.otp.clone(),
                synced: o.acknowledged,
                cancellation_reason: o.cancellation_reason.clone(),
                lines: o
                    .lines
                    .iter()
                    .map(|l| SimLine {
                        id: l.id,
                        internal_product_id: l.internal_product_id.clone(),
                        quantity: l.quantity,
                        cancelled: l.cancelled,
                    })
                    .collect(),
                created_at: o.created_at,
            })
        })
    }

    pub fn order_status(&self, hashed_id: &str) -> Option<String> {
        self.shared
            .with(|store| store.orders.get(hashed_id).map(|o| o.status.clone()))
    }

    /// The retailer's delivery OTP for an order.
    pub fn otp(&self, hashed_id: &str) -> Option<String> {
        self.shared
            .with(|store| store.orders.get(hashed_id).map(|o| o.otp.clone()))
    }

    /// A change made by the retailer or Cartona itself (e.g. `editing`, `cancelled_by_retailer`): no
    /// supplier rules apply, and the order is listed by pull-orders again.
    pub fn set_status(&self, hashed_id: &str, status: &str) -> Result<(), CartonaSimError> {
        self.shared.with(|store| {
            let order = store
                .orders
                .get_mut(hashed_id)
                .ok_or_else(|| CartonaSimError::Rejected(format!("no order {hashed_id}")))?;
            order.status = status.to_string();
            order.updated_at = Utc::now();
            order.acknowledged = false;
            Ok(())
        })
    }

    /// Adds (or replaces) a catalogue product; `stock` is in Cartona's units.
    pub fn add_product(&self, internal_product_id: &str, unit_count: i64, stock: i64) {
        self.shared.with(|store| {
            store.products.insert(
                internal_product_id.to_string(),
                Product {
                    internal_product_id: internal_product_id.to_string(),
                    supplier_product_id: format!("SP-{internal_product_id}"),
                    unit_count: unit_count.max(1),
                    available_stock_quantity: stock,
                },
            );
        });
    }

    /// `available_stock_quantity` as Cartona holds it (after the division by `unit_count`).
    pub fn product_stock(&self, internal_product_id: &str) -> Option<i64> {
        self.shared.with(|store| {
            store
                .products
                .get(internal_product_id)
                .map(|p| p.available_stock_quantity)
        })
    }

    /// Bulk status items that were not applied, with the reason the single endpoint would have given.
    pub fn silent_failures(&self) -> Vec<(String, String)> {
        self.shared.with(|store| store.silent_failures.clone())
    }

    /// Stops accepting requests and lets in-flight ones finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.server).await;
    }
}

/// `syncdesk sim cartona`-style entry point: runs a seeded simulator until Ctrl-C, after printing how to
/// reach it.
pub async fn run_standalone(cfg: CartonaSimConfig) -> Result<(), CartonaSimError> {
    let cfg = CartonaSimConfig {
        seed_orders: cfg.seed_orders.max(1),
        ..cfg
    };
    let header = format!("{}: {}{}", cfg.auth_header, cfg.auth_prefix, cfg.token);
    let sim = CartonaSim::start(cfg).await?;
    println!("Cartona simulator listening on {}", sim.base_url());
    println!("  API:    {}", sim.api_url());
    println!("  header: {header}");
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
