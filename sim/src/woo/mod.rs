//! A WooCommerce 10 store on loopback, written from the real store's observed behaviour (see
//! `../shared/reference/woocommerce.md`) and independent of the product's client: REST API v3 (orders, notes,
//! products, variations, batches, webhooks), its OAuth 1.0a / Basic auth, PHP's view of parameters, paging
//! with unstable ties, error shapes, stock rules and Action-Scheduler-like webhooks — with fault injection
//! and a handle (`WooSim`) for tests, the demo and `syncdesk sim woocommerce`.

mod api;
mod auth;
mod error;
mod model;
mod php;
mod seed;
mod shared;
mod store;
mod webhooks;
mod writes;

pub use crate::faults::FaultControls;
pub use webhooks::{Delivery, WebhookState, WebhookTarget, signature as webhook_signature};

use crate::faults::{ConnKill, KillableListener};
use auth::Authenticator;
use model::Customer;
use shared::Shared;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use store::Store;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use webhooks::WebhookHub;

#[derive(Clone)]
pub struct WooSimConfig {
    /// `127.0.0.1:0` picks a free port.
    pub listen: SocketAddr,
    pub consumer_key: String,
    pub consumer_secret: String,
    /// Top-level products to seed (every 5th is variable with 3 variations).
    pub products: usize,
    pub orders: usize,
    /// Seed for the generated catalogue and history, so runs are repeatable.
    pub seed: u64,
    pub webhook: Option<WebhookTarget>,
    /// Honour Basic and query-string auth as if the request came over TLS. When false, only OAuth 1.0a works.
    pub treat_as_https: bool,
    /// Webhook delivery timeout (core: 60 s).
    pub webhook_timeout: Duration,
    /// How long a queued webhook event waits for further changes to the same resource before it is sent
    /// (the simulator's Action Scheduler run: one pending delivery per resource, payload built at send time).
    pub webhook_coalesce: Duration,
    /// Status changes and stock moves add the store's own order notes ("Order status changed from …"),
    /// as the real store does. Off by default so tests can count the notes they add.
    pub system_notes: bool,
    /// Items sharing the sort date under `orderby=modified`/`date` come back in a different order on every
    /// request, as on the real store (no tie-breaker), so page-by-page reads can repeat and skip items.
    /// On by default; off gives the id order a naive client expects.
    pub shuffle_ties: bool,
}

impl Default for WooSimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            consumer_key: "ck_sim_0000000000000000000000000000000000000000".into(),
            consumer_secret: "cs_sim_0000000000000000000000000000000000000000".into(),
            products: 50,
            orders: 100,
            seed: 42,
            webhook: None,
            // A plain-http store, like its URL says: OAuth 1.0a only.
            treat_as_https: false,
            webhook_timeout: Duration::from_secs(60),
            webhook_coalesce: Duration::from_millis(200),
            system_notes: false,
            shuffle_ties: true,
        }
    }
}

impl std::fmt::Debug for WooSimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WooSimConfig")
            .field("listen", &self.listen)
            .field("consumer_key", &"<redacted>")
            .field("consumer_secret", &"<redacted>")
            .field("products", &self.products)
            .field("orders", &self.orders)
            .field("seed", &self.seed)
            .field("webhook", &self.webhook)
            .field("treat_as_https", &self.treat_as_https)
            .field("webhook_timeout", &self.webhook_timeout)
            .field("webhook_coalesce", &self.webhook_coalesce)
            .field("system_notes", &self.system_notes)
            .field("shuffle_ties", &self.shuffle_ties)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("simulator I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("webhook client: {0}")]
    Http(#[from] reqwest::Error),
    /// The store refused the change, as its API would.
    #[error("{code}: {message}")]
    Rejected { code: String, message: String },
}

impl From<error::ApiError> for SimError {
    fn from(e: error::ApiError) -> Self {
        SimError::Rejected {
            code: e.code.to_string(),
            message: e.message,
        }
    }
}

/// A product as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimProduct {
    pub id: u64,
    pub sku: String,
    /// simple, variable or variation.
    pub kind: String,
    pub parent_id: u64,
    pub manage_stock: bool,
    pub stock_quantity: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimNote {
    pub note: String,
    pub customer_note: bool,
}

/// A simple, stock-managed product for `add_products` (a catalogue loaded by the demo or a test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSimProduct {
    pub sku: String,
    pub name: String,
    /// As the API writes money: "12.50".
    pub regular_price: String,
    /// None: the store does not manage this product's stock.
    pub stock_quantity: Option<i64>,
}

/// Who checks out, for `create_order_for`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCustomer {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub city: String,
}

/// A running simulator. Dropping it without `shutdown` leaves the server running until the runtime ends.
pub struct WooSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    sender: JoinHandle<()>,
}

impl WooSim {
    pub async fn start(cfg: WooSimConfig) -> Result<Self, SimError> {
        let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let mut store = Store::new();
        seed::seed(&mut store, cfg.products, cfg.orders, cfg.seed, store::now());
        store.system_notes = cfg.system_notes;
        let hub = Arc::new(WebhookHub::new(
            format!("{base_url}/"),
            cfg.webhook_timeout,
            cfg.webhook_coalesce,
        )?);
        let auth = Authenticator::new(cfg.consumer_key, cfg.consumer_secret, cfg.treat_as_https);
        let tie_seed = cfg.shuffle_ties.then_some(cfg.seed);
        let shared = Arc::new(Shared::new(store, auth, hub.clone(), base_url, tie_seed));

        let payload_source = shared.clone();
        let payload = Arc::new(move |topic: &str, id: u64| {
            payload_source.read(|store| {
                if topic.starts_with("order.") {
                    store.order_json_by_id(id)
                } else {
                    store.product_json_by_id(id)
                }
            })
        });
        let sender = tokio::spawn(hub.clone().run(payload));

        let app = api::router(shared.clone()).into_make_service_with_connect_info::<ConnKill>();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serving =
                axum::serve(KillableListener(listener), app).with_graceful_shutdown(async {
                    let _ = stopped.await;
                });
            if let Err(error) = serving.await {
                tracing::error!(%error, "WooCommerce simulator stopped");
            }
        });
        if let Some(target) = cfg.webhook {
            hub.add(target);
        }
        Ok(Self {
            addr,
            shared,
            stop: Some(stop),
            server,
            sender,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Store root, e.g. `http://127.0.0.1:40123` (the API is under `/wp-json/wc/v3/`).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The REST API key this store accepts.
    pub fn consumer_key(&self) -> &str {
        &self.shared.auth.consumer_key
    }

    pub fn consumer_secret(&self) -> &str {
        &self.shared.auth.consumer_secret
    }

    /// Whether requests count as TLS (Basic and query-string auth accepted); when false, as on a real
    /// plain-http store, only OAuth 1.0a logs in.
    pub fn treat_as_https(&self) -> bool {
        self.shared.auth.treat_as_https
    }

    pub fn faults(&self) -> &FaultControls {
        &self.shared.faults
    }

    /// Requests seen for one route, e.g. `"POST /products/batch"` or `"GET /orders"` (faulted ones included).
    pub fn request_count(&self, endpoint: &str) -> u64 {
        self.shared.counts().get(endpoint).copied().unwrap_or(0)
    }

    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.shared.counts()
    }

    pub fn reset_request_counts(&self) {
        self.shared.reset_counts();
    }

    pub fn order_ids(&self) -> Vec<u64> {
        self.shared.read(|s| s.orders.keys().copied().collect())
    }

    pub fn order_status(&self, id: u64) -> Option<String> {
        self.shared
            .read(|s| s.orders.get(&id).map(|o| o.status.clone()))
    }

    /// Oldest first.
    pub fn order_notes(&self, id: u64) -> Vec<SimNote> {
        self.shared.read(|s| {
            s.notes
                .get(&id)
                .map(|notes| {
                    notes
                        .iter()
                        .map(|n| SimNote {
                            note: n.note.clone(),
                            customer_note: n.customer_note,
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    pub fn products(&self) -> Vec<SimProduct> {
        self.shared.read(|s| {
            s.products
                .values()
                .map(|p| SimProduct {
                    id: p.id,
                    sku: p.sku.clone(),
                    kind: p.kind.clone(),
                    parent_id: p.parent_id,
                    manage_stock: p.manage_stock,
                    stock_quantity: p.stock_quantity,
                })
                .collect()
        })
    }

    pub fn product_stock(&self, id: u64) -> Option<i64> {
        self.shared
            .read(|s| s.products.get(&id).and_then(|p| p.stock_quantity))
    }

    pub fn product_id_by_sku(&self, sku: &str) -> Option<u64> {
        self.shared.read(|s| s.product_by_sku(sku).map(|p| p.id))
    }

    /// An order as if a customer checked out: `lines` are (SKU, quantity); a paid status reduces stock.
    pub fn create_order(&self, lines: &[(&str, i64)], status: &str) -> Result<u64, SimError> {
        let lines: Vec<(String, i64)> =
            lines.iter().map(|(sku, q)| (sku.to_string(), *q)).collect();
        Ok(self
            .shared
            .change(|s| s.create_order(&lines, status, walk_in(), s.now()))?)
    }

    /// `create_order` with lines naming a product or a variation by id — the way to sell a variation that has
    /// no SKU of its own (its line carries the parent's SKU and `variation_id`).
    pub fn create_order_by_ids(&self, lines: &[(u64, i64)], status: &str) -> Result<u64, SimError> {
        Ok(self
            .shared
            .change(|s| s.create_order_from_ids(lines, status, walk_in(), s.now()))?)
    }

    /// `create_order` stamped `at` (created and modified then), e.g. for history before a watermark.
    pub fn create_order_at(
        &self,
        lines: &[(&str, i64)],
        status: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, SimError> {
        use chrono::SubsecRound;
        let lines: Vec<(String, i64)> =
            lines.iter().map(|(sku, q)| (sku.to_string(), *q)).collect();
        Ok(self
            .shared
            .change(|s| s.create_order(&lines, status, walk_in(), at.trunc_subsecs(0)))?)
    }

    /// While `Some`, every change the store makes (checkouts, status changes, edits, API writes) is stamped
    /// with that whole second, so many changes can share one `date_modified`; `None` returns to the real clock.
    pub fn freeze_clock(&self, at: Option<chrono::DateTime<chrono::Utc>>) {
        self.shared.change(|s| s.frozen_clock = at);
    }

    /// Replaces an order's lines, as an edit in the store's admin would: (SKU, quantity). Stock already taken
    /// moves with the lines; `date_modified` becomes now and `order.updated` fires.
    pub fn edit_order_lines(&self, id: u64, lines: &[(&str, i64)]) -> Result<(), SimError> {
        let lines: Vec<(String, i64)> =
            lines.iter().map(|(sku, q)| (sku.to_string(), *q)).collect();
        Ok(self.shared.change(|s| s.edit_order_lines(id, &lines))?)
    }

    /// Changes where an order ships (an admin edit: `date_modified` becomes now, `order.updated` fires).
    pub fn set_order_shipping(
        &self,
        id: u64,
        first_name: &str,
        last_name: &str,
        city: &str,
    ) -> Result<(), SimError> {
        let shipping = Customer {
            first_name: first_name.into(),
            last_name: last_name.into(),
            email: String::new(),
            city: city.into(),
        };
        Ok(self.shared.change(|s| s.set_order_shipping(id, shipping))?)
    }

    /// Adds a variable product `parent_sku` with one stock-managed variation per entry (its own SKU or none,
    /// stock); a variation without a SKU shows and sells under the parent's. Returns (parent id, variation ids).
    pub fn add_variable_product(
        &self,
        parent_sku: &str,
        variations: &[(Option<&str>, i64)],
    ) -> (u64, Vec<u64>) {
        let variations: Vec<(Option<String>, i64)> = variations
            .iter()
            .map(|(sku, stock)| (sku.map(str::to_string), *stock))
            .collect();
        self.shared
            .change(|s| s.add_variable_product(parent_sku, &variations, "25.00"))
    }

    /// The SKU the store shows for a product or variation (a variation without its own shows its parent's).
    pub fn shown_sku(&self, id: u64) -> Option<String> {
        self.shared
            .read(|s| s.products.get(&id).map(|p| s.shown_sku(p)))
    }

    /// Adds published simple products (as an import in the store's admin would, without webhooks);
    /// returns their ids in order.
    pub fn add_products(&self, products: &[NewSimProduct]) -> Vec<u64> {
        self.shared.change(|s| {
            let at = s.now();
            let ids = products
                .iter()
                .map(|p| {
                    let id = s.next_id();
                    s.products.insert(
                        id,
                        model::Product {
                            id,
                            name: p.name.clone(),
                            sku: p.sku.clone(),
                            kind: "simple".into(),
                            status: "publish".into(),
                            regular_price: p.regular_price.clone(),
                            sale_price: String::new(),
                            manage_stock: p.stock_quantity.is_some(),
                            stock_quantity: p.stock_quantity,
                            stock_status: "instock".into(),
                            variations: Vec::new(),
                            parent_id: 0,
                            created: at,
                            modified: at,
                        },
                    );
                    id
                })
                .collect();
            s.forget_sku_index();
            ids
        })
    }

    /// `create_order` for a named customer.
    pub fn create_order_for(
        &self,
        lines: &[(&str, i64)],
        status: &str,
        customer: &SimCustomer,
    ) -> Result<u64, SimError> {
        let lines: Vec<(String, i64)> =
            lines.iter().map(|(sku, q)| (sku.to_string(), *q)).collect();
        let customer = Customer {
            first_name: customer.first_name.clone(),
            last_name: customer.last_name.clone(),
            email: customer.email.clone(),
            city: customer.city.clone(),
        };
        Ok(self
            .shared
            .change(|s| s.create_order(&lines, status, customer, s.now()))?)
    }

    /// A status change made in the store's admin (fires `order.updated`, moves stock like core).
    pub fn set_order_status(&self, id: u64, status: &str) -> Result<(), SimError> {
        Ok(self.shared.change(|s| s.set_order_status(id, status))?)
    }

    /// An absolute stock set made in the store's admin.
    pub fn set_stock(&self, product_id: u64, quantity: i64) -> Result<(), SimError> {
        Ok(self.shared.change(|s| s.set_stock(product_id, quantity))?)
    }

    /// Makes the store refuse API edits of a product (per-item `woocommerce_rest_cannot_edit` in batches).
    pub fn lock_product(&self, product_id: u64, locked: bool) {
        self.shared.change(|s| {
            if locked {
                s.locked.insert(product_id);
            } else {
                s.locked.remove(&product_id);
            }
        })
    }

    /// Registers a webhook (pinged at once, in the background) and returns its id.
    pub fn add_webhook(&self, target: WebhookTarget) -> u64 {
        self.shared.hub.add(target)
    }

    /// Re-enables or disables a webhook by hand; false if there is no such webhook. Like the real store, the
    /// consecutive-failure count survives re-activation (one more failure disables it again).
    pub fn set_webhook_active(&self, id: u64, active: bool) -> bool {
        self.shared.hub.set_active(id, active)
    }

    pub fn webhook_state(&self, id: u64) -> Option<WebhookState> {
        self.shared.hub.state(id)
    }

    pub fn webhook_deliveries(&self) -> Vec<Delivery> {
        self.shared.hub.deliveries()
    }

    /// Stops accepting requests, lets in-flight ones finish, and stops webhook delivery.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.sender.abort();
        let _ = (&mut self.server).await;
    }
}

/// The customer of `create_order`.
fn walk_in() -> Customer {
    Customer {
        first_name: "Walk".into(),
        last_name: "In".into(),
        email: "walk.in@example.com".into(),
        city: "Austin".into(),
    }
}

/// `syncdesk sim woocommerce`: runs a simulator until Ctrl-C, after printing how to reach it.
pub async fn run_standalone(cfg: WooSimConfig) -> Result<(), SimError> {
    run_standalone_with(cfg, |_| {}).await
}

/// `run_standalone`, with `setup` applied to the running simulator first (e.g. its faults).
pub async fn run_standalone_with(
    cfg: WooSimConfig,
    setup: impl FnOnce(&WooSim),
) -> Result<(), SimError> {
    let key = cfg.consumer_key.clone();
    let secret = cfg.consumer_secret.clone();
    let https = cfg.treat_as_https;
    let sim = WooSim::start(cfg).await?;
    setup(&sim);
    println!("WooCommerce simulator listening on {}", sim.base_url());
    println!("  API:             {}/wp-json/wc/v3/", sim.base_url());
    println!("  consumer key:    {key}");
    println!("  consumer secret: {secret}");
    println!(
        "  auth:            {}",
        if https {
            "Basic, query string or OAuth 1.0a over an https:// URL (requests are treated as TLS)"
        } else {
            "OAuth 1.0a (plain http, like a real store without TLS)"
        }
    );
    println!("Press Ctrl-C to stop.");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
