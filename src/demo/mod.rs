//! `syncdesk demo`: a whole shop in one process, on a scratch database — the WooCommerce, Counterpoint,
//! Cartona and SMTP simulators seeded with a believable catalogue and order history, our webhook receiver, the real engine,
//! and a traffic generator — under the console, or headless with a running commentary. Everything goes through
//! the real connectors and flows, so what the demo shows is what production does.
//!
//! The database and the generated config stay in the demo's folder, so every other subcommand can inspect
//! them afterwards (the config still parses once the simulators are gone).

mod feed;
mod seed;
pub mod simulators;
pub mod tour;
mod traffic;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use syncdesk_sim::cartona::{CartonaSim, CartonaSimConfig};
use syncdesk_sim::counterpoint::{CounterpointSim, SimConfig};
use syncdesk_sim::smtp::SmtpSink;
use syncdesk_sim::woo::{WebhookTarget, WooSim, WooSimConfig};

use crate::app::{Actor, App};
use crate::config::Config;
use crate::engine::{Engine, EngineHandle, default_handlers, default_schedules};
use crate::server::{self, ServerState};
use crate::store::Store;

pub use feed::Feed;

/// The secret the simulated store signs its webhooks with (and the receiver checks).
const WEBHOOK_SECRET: &str = "whsec_syncdesk_demo";
/// The simulated shop's size: Counterpoint items, of which the first `ALIGNED_SKUS` are sold online too.
const POS_ITEMS: usize = 2_640;
const ALIGNED_SKUS: usize = 2_554;
/// The first marketplace order's number (`C-1001`); the traffic continues after the seeded ones.
const FIRST_MARKETPLACE_ORDER: u32 = 1001;

/// Why the demo could not run; `Rejected` is the caller's to fix (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0}")]
    Rejected(String),
    #[error("{0}")]
    Failed(String),
}

impl From<crate::app::AppError> for DemoError {
    fn from(e: crate::app::AppError) -> Self {
        if e.exit_code() == 2 {
            DemoError::Rejected(e.to_string())
        } else {
            DemoError::Failed(e.to_string())
        }
    }
}

fn failed(context: &str) -> impl Fn(&dyn std::fmt::Display) -> DemoError + '_ {
    move |e| DemoError::Failed(format!("{context}: {e}"))
}

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the database, config and log go; None: a new temporary folder.
    pub dir: Option<PathBuf>,
    /// No console: print what happens instead.
    pub headless: bool,
    /// Headless only: stop after this long (None: at Ctrl-C).
    pub duration: Option<Duration>,
    /// The operator name recorded in history for console actions (empty: the console asks for it).
    pub user: String,
}

/// Where a demo keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    pub dir: PathBuf,
    pub db: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
}

impl Paths {
    fn new(dir: &Path) -> Self {
        Paths {
            dir: dir.to_path_buf(),
            db: dir.join("syncdesk.db"),
            config: dir.join("config.toml"),
            log: dir.join("syncdesk.log"),
        }
    }

    /// The commands that inspect what the demo left behind.
    pub fn inspect_commands(&self) -> Vec<String> {
        let base = format!(
            "syncdesk --config {} --db {}",
            self.config.display(),
            self.db.display()
        );
        ["orders list", "jobs list", "conflicts list", "report", ""]
            .iter()
            .map(|c| format!("{base} {c}").trim_end().to_string())
            .collect()
    }
}

/// Runs the demo: console (blocking until the operator quits) or headless.
pub fn run(options: Options) -> Result<(), DemoError> {
    if !options.headless {
        use std::io::IsTerminal;
        if !std::io::stdout().is_terminal() {
            return Err(DemoError::Rejected(
                "the demo console needs a terminal; use `syncdesk demo --headless` in scripts"
                    .into(),
            ));
        }
    }
    let dir = match &options.dir {
        Some(d) => d.clone(),
        None => new_temp_dir()?,
    };
    let paths = Paths::new(&dir);
    if paths.db.exists() {
        return Err(DemoError::Rejected(format!(
            "--dir {}: it already holds a demo database; pick another folder or remove it",
            dir.display()
        )));
    }
    std::fs::create_dir_all(&dir).map_err(|e| failed(&dir.display().to_string())(&e))?;
    if !options.headless {
        use std::io::IsTerminal;
        if !std::io::stdout().is_terminal() {
            return Err(DemoError::Rejected(
                "the demo console needs a terminal; use `syncdesk demo --headless` in scripts"
                    .into(),
            ));
        }
    }
    log_to_file(&paths.log)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| failed("runtime")(&e))?;
    let feed = if options.headless {
        Feed::printing()
    } else {
        Feed::logging()
    };
    if options.headless {
        println!("syncdesk demo in {}", dir.display());
        println!(
            "starting the simulated shop (WooCommerce, Counterpoint, Cartona, mail) and seeding it…"
        );
    }
    let shop = runtime.block_on(Shop::start(&paths, feed.clone()))?;
    if options.headless {
        println!("{}", shop.seeded);
        println!(
            "engine and traffic running{} — Ctrl-C to stop\n",
            options
                .duration
                .map(|d| format!(" for {} s", d.as_secs()))
                .unwrap_or_default()
        );
        runtime.block_on(async {
            let until = async {
                match options.duration {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = until => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        });
        let summary = runtime.block_on(shop.stop())?;
        println!("\n{summary}");
        println!(
            "\nThe demo's database and config stay in {}. Inspect them with:",
            dir.display()
        );
        for c in paths.inspect_commands() {
            println!("  {c}");
        }
        return Ok(());
    }
    let console = {
        let app = App::open(
            &paths.db,
            shop.config.clone(),
            Actor::operator(&options.user),
        )
        .map_err(|e| failed("database")(&e))?;
        let options = crate::tui::Options {
            readonly: false,
            no_color: crate::tui::theme::no_color_env(),
            clock: crate::tui::Clock::System,
        };
        let mut console = crate::tui::Console::new(app, options).map_err(DemoError::Rejected)?;
        console.attach_engine(shop.engine.subscribe());
        console
    };
    // The console blocks this thread; the shop keeps running on the runtime's workers meanwhile.
    let shown = crate::tui::run(console);
    let summary = runtime.block_on(shop.stop());
    shown.map_err(|e| failed("terminal")(&e))?;
    println!("{}", summary?);
    println!(
        "\nThe demo's database, config and log stay in {}. Inspect them with:",
        dir.display()
    );
    for c in paths.inspect_commands() {
        println!("  {c}");
    }
    Ok(())
}

fn new_temp_dir() -> Result<PathBuf, DemoError> {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let base = std::env::temp_dir();
    for n in 0..100 {
        let dir = base.join(format!(
            "syncdesk-demo-{stamp}-{}{}",
            std::process::id(),
            if n == 0 {
                String::new()
            } else {
                format!("-{n}")
            }
        ));
        if !dir.exists() {
            return Ok(dir);
        }
    }
    Err(DemoError::Failed(format!(
        "no free folder name under {}",
        base.display()
    )))
}

/// Everything the demo's tracing says goes to the log file: nothing may reach the terminal under the console.
fn log_to_file(path: &Path) -> Result<(), DemoError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| failed(&path.display().to_string())(&e))?;
    // A subscriber set earlier in this process (tests) stays; the demo then logs there.
    let _ = tracing_subscriber::fmt()
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .try_init();
    Ok(())
}

/// The running shop: simulators, receiver, engine and traffic.
struct Shop {
    config: Config,
    woo: Arc<WooSim>,
    cp: Arc<CounterpointSim>,
    cartona: Arc<CartonaSim>,
    smtp: Arc<SmtpSink>,
    engine: EngineHandle,
    stop_http: tokio::sync::oneshot::Sender<()>,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
    stopping: Arc<AtomicBool>,
    traffic: tokio::task::JoinHandle<traffic::Tally>,
    tracker: std::thread::JoinHandle<traffic::Narrated>,
    feed: Feed,
    paths: Paths,
    seeded: seed::Seeded,
}

impl Shop {
    async fn start(paths: &Paths, feed: Feed) -> Result<Shop, DemoError> {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let woo = WooSim::start(WooSimConfig {
            products: 0,
            orders: 0,
            // The receiver answers at once; a slow demo store should not sit on a delivery for a minute.
            webhook_timeout: Duration::from_secs(10),
            ..WooSimConfig::default()
        })
        .await
        .map_err(|e| failed("WooCommerce simulator")(&e))?;
        let cp = CounterpointSim::start(SimConfig {
            items: POS_ITEMS,
            seed: 2554,
            ..SimConfig::default()
        })
        .await
        .map_err(|e| failed("Counterpoint simulator")(&e))?;
        let cartona = CartonaSim::start(CartonaSimConfig::default())
            .await
            .map_err(|e| failed("Cartona simulator")(&e))?;
        let smtp = SmtpSink::start(loopback)
            .await
            .map_err(|e| failed("SMTP sink")(&e))?;
        let listener = tokio::net::TcpListener::bind(loopback)
            .await
            .map_err(|e| failed("webhook receiver")(&e))?;
        let receiver = listener
            .local_addr()
            .map_err(|e| failed("webhook receiver")(&e))?;

        let text = config_text(&woo, &cp, &cartona, &smtp, receiver);
        std::fs::write(&paths.config, &text)
            .map_err(|e| failed(&paths.config.display().to_string())(&e))?;
        let config = Config::load(&paths.config, true).map_err(|e| failed("demo config")(&e))?;

        let mut seeded = seed::seed(&paths.db, &config, &woo, &cp, ALIGNED_SKUS).await?;
        // Placed before the engine starts, so its first scheduled pull imports them.
        seeded.marketplace =
            seed::seed_marketplace(&cartona, &seeded.catalogue, FIRST_MARKETPLACE_ORDER);

        let engine = Engine::new(&paths.db, config.clone(), default_handlers(&config))
            .with_schedules(default_schedules(&config))
            .spawn()
            .map_err(|e| failed("engine")(&e))?;
        let store = Store::open(
            &paths.db,
            Duration::from_millis(config.store.busy_timeout_ms),
        )
        .map_err(|e| failed("database")(&e))?;
        let state = Arc::new(ServerState {
            store: Arc::new(Mutex::new(store)),
            config: Arc::new(config.clone()),
            engine: Some((engine.waker(), engine.subscribe())),
        });
        let (stop_http, stopped) = tokio::sync::oneshot::channel::<()>();
        let http = tokio::spawn(server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        woo.add_webhook(WebhookTarget::new(
            format!("http://{receiver}/webhooks/woocommerce"),
            WEBHOOK_SECRET,
        ));

        let (woo, cp, smtp) = (Arc::new(woo), Arc::new(cp), Arc::new(smtp));
        let cartona = Arc::new(cartona);
        let stopping = Arc::new(AtomicBool::new(false));
        let (expect, expectations) = std::sync::mpsc::channel();
        let tracker = {
            let app = App::open(&paths.db, config.clone(), Actor::operator("demo"))
                .map_err(|e| failed("database")(&e))?;
            let (feed, stopping) = (feed.clone(), stopping.clone());
            std::thread::Builder::new()
                .name("demo-tracker".into())
                .spawn(move || traffic::track(app, expectations, feed, stopping))
                .map_err(|e| failed("tracker thread")(&e))?
        };
        let traffic = tokio::spawn(traffic::generate(traffic::Traffic {
            woo: woo.clone(),
            cp: cp.clone(),
            cartona: cartona.clone(),
            marketplace: seeded.marketplace.clone(),
            next_marketplace_order: FIRST_MARKETPLACE_ORDER + seeded.marketplace.len() as u32,
            smtp: smtp.clone(),
            app: App::open(&paths.db, config.clone(), Actor::operator("demo"))
                .map_err(|e| failed("database")(&e))?,
            skus: seeded.catalogue.clone(),
            locked_sku: seeded.locked_sku.clone(),
            feed: feed.clone(),
            expect,
            stopping: stopping.clone(),
        }));
        Ok(Shop {
            config,
            woo,
            cp,
            cartona,
            smtp,
            engine,
            stop_http,
            http,
            stopping,
            traffic,
            tracker,
            feed,
            paths: paths.clone(),
            seeded,
        })
    }

    /// Stops traffic, receiver and engine (letting running jobs finish), then the simulators; returns a
    /// summary of the run.
    async fn stop(self) -> Result<String, DemoError> {
        self.feed
            .say("stopping: traffic, receiver, engine, simulators…");
        self.stopping.store(true, Ordering::SeqCst);
        let tally = self.traffic.await.unwrap_or_default();
        let _ = self.stop_http.send(());
        let _ = self.http.await;
        self.engine
            .shutdown()
            .await
            .map_err(|e| failed("engine")(&e))?;
        let narrated = tokio::task::spawn_blocking(move || self.tracker.join())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let mails = self.smtp.messages().len();
        if let Ok(woo) = Arc::try_unwrap(self.woo) {
            woo.shutdown().await;
        }
        if let Ok(cp) = Arc::try_unwrap(self.cp) {
            cp.shutdown().await;
        }
        if let Ok(cartona) = Arc::try_unwrap(self.cartona) {
            cartona.shutdown().await;
        }
        if let Ok(smtp) = Arc::try_unwrap(self.smtp) {
            smtp.shutdown().await;
        }
        let mut app = App::open(&self.paths.db, self.config, Actor::operator("demo"))
            .map_err(|e| failed("database")(&e))?;
        traffic::summary(&mut app, &tally, &narrated, mails).map_err(|e| failed("summary")(&e))
    }
}

/// The config the demo runs on, written to its folder: every system points at a simulator on loopback.
fn config_text(
    woo: &WooSim,
    cp: &CounterpointSim,
    cartona: &CartonaSim,
    smtp: &SmtpSink,
    receiver: SocketAddr,
) -> String {
    format!(
        "# Written by `syncdesk demo`. Every system below was a simulator on loopback; they are gone once the demo
# ends, but this file still parses, so `syncdesk --config THIS --db syncdesk.db orders list` (and the rest) work.

[server]
listen = \"{receiver}\"

[email]
smtp_host = \"127.0.0.1\"
smtp_port = {smtp_port}
purchasing = [\"purchasing@demo.shop\"]
from = \"syncdesk <syncdesk@demo.shop>\"

[alerts]
recipients = [\"ops@demo.shop\"]

[woocommerce]
enabled = true
url = \"{url}\"
consumer_key = \"{key}\"
consumer_secret = \"{secret}\"
auth = \"oauth\"
webhook_secret = \"{WEBHOOK_SECRET}\"
# Webhooks bring orders in at once; the poll is the safety net.
poll_secs = 20
timeout_secs = 10
max_attempts = 2

[counterpoint]
enabled = true
verify_secs = 10

[counterpoint.connection]
host = \"{host}\"
port = {port}
user = \"{user}\"
password = \"{password}\"
database = \"{database}\"
encryption = \"off\"
connect_timeout_secs = 5
query_timeout_secs = 15

[stock]
enabled = true

[cartona]
enabled = true
base_url = \"{cartona_url}\"
token = \"{cartona_token}\"
auth_header = \"{cartona_header}\"
auth_prefix = \"{cartona_prefix}\"
# Short, so new marketplace orders show within seconds.
poll_secs = 5
timeout_secs = 10
max_attempts = 2
",
        smtp_port = smtp.addr().port(),
        url = woo.base_url(),
        key = woo.consumer_key(),
        secret = woo.consumer_secret(),
        host = cp.addr().ip(),
        port = cp.addr().port(),
        user = cp.user(),
        password = cp.password(),
        database = cp.database(),
        cartona_url = cartona.base_url(),
        cartona_token = cartona.token(),
        cartona_header = cartona.auth_header(),
        cartona_prefix = cartona.auth_prefix(),
    )
}
