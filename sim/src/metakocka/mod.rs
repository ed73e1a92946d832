//! A Metakocka company on loopback: `/rest/eshop/v1/<op>` with body credentials and `opr_code` errors,
//! sales orders with per-company status labels and stock reservations, paged search and warehouse stock,
//! "down for an update" outages, and signed stock webhooks with Metakocka's retry rule.

mod api;
mod documents;
mod shared;
mod store;
mod webhooks;

pub use crate::faults::FaultControls;
pub use store::StockEffect;
pub use webhooks::{MkDelivery, MkWebhookTarget};

use crate::faults::{ConnKill, KillableListener};
use shared::Shared;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use store::Store;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use webhooks::WebhookSender;

#[derive(Clone)]
pub struct MetakockaSimConfig {
    /// `127.0.0.1:0` picks a free port.
    pub listen: SocketAddr,
    pub company_id: String,
    pub secret_key: String,
    /// The company's status labels and what each does to stock; the first is a new order's status.
    pub status_labels: Vec<(String, StockEffect)>,
    /// (warehouse id, label); the first is the default warehouse.
    pub warehouses: Vec<(String, String)>,
    pub webhook: Option<MkWebhookTarget>,
    /// Pause between webhook attempts (Metakocka: 60 s).
    pub webhook_retry_delay: Duration,
    pub webhook_timeout: Duration,
    /// The company uses reservations (`reserved_amount`/`free_amount` in stock rows). Orders still hold
    /// stock internally either way; only the report changes.
    pub reservations: bool,
    /// Products to seed with stock in every warehouse (`P-0001`…), for the demo.
    pub seed_products: usize,
}

impl Default for MetakockaSimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            company_id: "16".into(),
            secret_key: "mk_sim_secret_0000000000".into(),
            status_labels: vec![
                ("in_progress".into(), StockEffect::Reserve),
                ("draft".into(), StockEffect::Reserve),
                ("shipped".into(), StockEffect::Consume),
                ("delivered".into(), StockEffect::Consume),
                ("cancelled".into(), StockEffect::Release),
            ],
            warehouses: vec![
                ("1600000001".into(), "main".into()),
                ("1600000002".into(), "outlet".into()),
            ],
            webhook: None,
            webhook_retry_delay: Duration::from_secs(60),
            webhook_timeout: Duration::from_secs(10),
            reservations: true,
            seed_products: 0,
        }
    }
}

impl std::fmt::Debug for MetakockaSimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetakockaSimConfig")
            .field("listen", &self.listen)
            .field("company_id", &self.company_id)
            .field("secret_key", &"<redacted>")
            .field("status_labels", &self.status_labels)
            .field("warehouses", &self.warehouses)
            .field("webhook", &self.webhook)
            .field("webhook_retry_delay", &self.webhook_retry_delay)
            .field("webhook_timeout", &self.webhook_timeout)
            .field("reservations", &self.reservations)
            .field("seed_products", &self.seed_products)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MetakockaSimError {
    #[error("simulator I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("webhook client: {0}")]
    Http(#[from] reqwest::Error),
    /// The ERP refused, as its API would (`opr_code`, `opr_desc`).
    #[error("opr_code {code}: {desc}")]
    Rejected { code: String, desc: String },
}

impl From<store::OprError> for MetakockaSimError {
    fn from(e: store::OprError) -> Self {
        MetakockaSimError::Rejected {
            code: e.code.to_string(),
            desc: e.desc,
        }
    }
}

/// One product's stock in one warehouse.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimStock {
    pub amount: f64,
    pub reserved: f64,
    pub free: f64,
}

/// A document as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimDocument {
    pub mk_id: String,
    pub buyer_order: String,
    pub status_code: String,
    pub warehouse_id: String,
    pub shipped_date: String,
    pub tracking_code: String,
    pub delivery_type: String,
    pub notes: String,
}

/// A running simulator. Dropping it without `shutdown` leaves the server running until the runtime ends.
pub struct MetakockaSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
}

impl MetakockaSim {
    pub async fn start(cfg: MetakockaSimConfig) -> Result<Self, MetakockaSimError> {
        let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let store = Store {
            warehouses: cfg.warehouses.clone(),
            labels: cfg.status_labels.clone(),
            reservations: cfg.reservations,
            ..Store::default()
        };
        let webhooks = Arc::new(WebhookSender::new(
            cfg.webhook.clone(),
            cfg.webhook_retry_delay,
            cfg.webhook_timeout,
        )?);
        let shared = Arc::new(Shared::new(
            store,
            cfg.company_id.clone(),
            cfg.secret_key.clone(),
            webhooks,
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
                tracing::error!(%error, "Metakocka simulator stopped");
            }
        });
        let sim = Self {
            addr,
            shared,
            stop: Some(stop),
            server,
        };
        for i in 1..=cfg.seed_products {
            for (wh, _) in &cfg.warehouses {
                sim.set_stock(wh, &format!("P-{i:04}"), (i % 7 * 10) as f64);
            }
        }
        Ok(sim)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Host root, e.g. `http://127.0.0.1:40123` (operations are under `/rest/eshop/v1/`).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn api_url(&self) -> String {
        format!("{}{}/", self.shared.base_url, api::API_PREFIX)
    }

    pub fn faults(&self) -> &FaultControls {
        &self.shared.faults
    }

    /// Metakocka "down for an update": every call gets a 503 maintenance page for `duration`.
    pub fn down_for_update(&self, duration: Duration) {
        self.shared.faults.outage_for(duration);
    }

    /// The next `calls` calls of `op` (e.g. `"put_document"`) are applied, but the connection drops
    /// before the answer: the caller cannot tell whether anything happened.
    pub fn lose_answers(&self, op: &str, calls: u32) {
        self.shared.lose_answers(op, calls);
    }

    /// Requests seen for one operation, e.g. `"search"` (faulted and refused ones included).
    pub fn request_count(&self, op: &str) -> u64 {
        self.shared.counts().get(op).copied().unwrap_or(0)
    }

    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.shared.counts()
    }

    pub fn reset_request_counts(&self) {
        self.shared.reset_counts();
    }

    /// Sets a product's physical amount in a warehouse (creating the product there), keeping reservations.
    pub fn set_stock(&self, warehouse_id: &str, code: &str, amount: f64) {
        self.shared
            .change(|s| s.set_stock(warehouse_id, code, amount));
    }

    pub fn stock(&self, warehouse_id: &str, code: &str) -> Option<SimStock> {
        self.shared.read(|s| {
            s.stock
                .get(&(warehouse_id.to_string(), code.to_string()))
                .map(|r| SimStock {
                    amount: r.amount,
                    reserved: r.reserved,
                    free: r.amount - r.reserved,
                })
        })
    }

    /// A sales order entered in Metakocka itself, in the default warehouse with the first status label;
    /// `lines` are (code, amount) and reserve stock like orders created through the API.
    pub fn add_sales_order(
        &self,
        buyer_order: &str,
        customer: &str,
        lines: &[(&str, f64)],
    ) -> Result<String, MetakockaSimError> {
        let Some((status, effect)) = self.shared.read(|s| s.labels.first().cloned()) else {
            return Err(MetakockaSimError::Rejected {
                code: "2".into(),
                desc: "Company has no status labels.".into(),
            });
        };
        let Some(warehouse) = self
            .shared
            .read(|s| s.warehouses.first().map(|w| w.0.clone()))
        else {
            return Err(MetakockaSimError::Rejected {
                code: "2".into(),
                desc: "Company has no warehouse.".into(),
            });
        };
        let lines = lines
            .iter()
            .map(|(code, amount)| (code.to_string(), *amount, 1.0))
            .collect();
        Ok(self.shared.change(|s| {
            s.insert_doc(
                buyer_order.to_string(),
                Some(serde_json::json!({ "customer": customer })),
                &warehouse,
                status,
                effect,
                lines,
                String::new(),
            )
        }))
    }

    pub fn document(&self, mk_id: &str) -> Option<SimDocument> {
        self.shared.read(|s| {
            s.docs.get(mk_id).map(|d| SimDocument {
                mk_id: d.mk_id.clone(),
                buyer_order: d.buyer_order.clone(),
                status_code: d.status_code.clone(),
                warehouse_id: d.warehouse_id.clone(),
                shipped_date: d.shipped_date.clone(),
                tracking_code: d.tracking_code.clone(),
                delivery_type: d.delivery_type.clone(),
                notes: d.notes.clone(),
            })
        })
    }

    pub fn document_count(&self) -> usize {
        self.shared.read(|s| s.docs.len())
    }

    /// Where stock webhooks go from now on (`None` stops them).
    pub fn set_webhook(&self, target: Option<MkWebhookTarget>) {
        self.shared.webhooks.set_target(target);
    }

    /// Every webhook attempt so far, oldest first.
    pub fn webhook_deliveries(&self) -> Vec<MkDelivery> {
        self.shared.webhooks.deliveries()
    }

    /// Stops accepting requests and lets in-flight ones finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.server).await;
    }
}

/// Runs a seeded simulator until Ctrl-C, after printing how to reach it.
pub async fn run_standalone(cfg: MetakockaSimConfig) -> Result<(), MetakockaSimError> {
    let cfg = MetakockaSimConfig {
        seed_products: cfg.seed_products.max(20),
        ..cfg
    };
    let company = cfg.company_id.clone();
    let secret = cfg.secret_key.clone();
    let labels: Vec<String> = cfg.status_labels.iter().map(|(l, _)| l.clone()).collect();
    let warehouses: Vec<String> = cfg
        .warehouses
        .iter()
        .map(|(id, l)| format!("{id} ({l})"))
        .collect();
    let sim = MetakockaSim::start(cfg).await?;
    println!("Metakocka simulator listening on {}", sim.base_url());
    println!("  API:           {}<op>", sim.api_url());
    println!("  company_id:    {company}");
    println!("  secret_key:    {secret}");
    println!("  status labels: {}", labels.join(", "));
    println!("  warehouses:    {}", warehouses.join(", "));
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
