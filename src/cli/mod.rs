//! The headless face: one subcommand per operator action and sync, `--json` on every read, and exit codes
//! scripts can trust (0 ok, 1 failure, 2 rejected input). It parses, calls `app`, prints; nothing more.

mod alerts;
mod alignment;
#[cfg(feature = "demo")]
mod demo;
mod erp;
mod jobs;
mod operator;
mod orders;
mod output;
mod report;
mod serve;
mod stock;
mod sync;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app::{Actor, App, AppError};
use crate::config::{self, Config, ConfigError};

#[derive(Parser, Debug)]
#[command(
    name = "syncdesk",
    version,
    about = "Orders, fulfilment and stock in agreement across your shop's systems"
)]
pub struct Cli {
    /// Config file (default: $SYNCDESK_CONFIG, else the platform config directory).
    #[arg(long, global = true, env = "SYNCDESK_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database file (default: $SYNCDESK_DB, else the platform data directory).
    #[arg(long, global = true, env = "SYNCDESK_DB", value_name = "FILE")]
    db: Option<PathBuf>,
    /// Operator name recorded in history (default: $SYNCDESK_USER, else $USER, else the OS account; the
    /// console asks when none names anyone).
    #[arg(long, global = true, env = "SYNCDESK_USER", value_name = "NAME")]
    user: Option<String>,
    /// Open the console read-only: show everything, offer no action (the console's flag: subcommands
    /// do not take it).
    #[arg(long)]
    readonly: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write the commented default config file.
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// List the order statuses, their rules and how many active orders each holds.
    Statuses {
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Create, list, inspect and move orders.
    #[command(subcommand)]
    Orders(orders::OrdersCommand),
    /// Inspect the background job queue; retry or discard jobs.
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
    /// SKU alignment between the POS and the store.
    #[command(subcommand)]
    Alignment(stock::AlignmentCommand),
    /// Stock levels: why a SKU's stock is what it is (`stock trace SKU`).
    #[command(subcommand)]
    Stock(stock::StockCommand),
    /// Stock conflicts the merge could not settle by itself.
    #[command(subcommand)]
    Conflicts(stock::ConflictsCommand),
    /// Alerts raised by the engine: list them, acknowledge one.
    #[command(subcommand)]
    Alerts(alerts::AlertsCommand),
    /// The sync and order-workflow figures for a period, as Markdown.
    Report {
        /// The period the report covers.
        #[arg(long, value_enum, default_value = "daily")]
        period: report::Period,
        /// Write the report here instead of printing it.
        #[arg(long, value_name = "FILE.md")]
        out: Option<std::path::PathBuf>,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run one sync pass now (optionally a dry run).
    #[command(subcommand)]
    Sync(sync::SyncCommand),
    /// Test the connection to every configured system (and whether the store still delivers webhooks).
    Check {
        /// Switch back on the store's webhooks to our receiver that it disabled or paused.
        #[arg(long)]
        enable_webhooks: bool,
    },
    /// Run the background engine and the webhook receiver until Ctrl-C.
    Serve,
    /// Run a simulator of an external system on loopback, to try a config against.
    #[cfg(feature = "demo")]
    #[command(subcommand)]
    Sim(crate::demo::simulators::SimCommand),
    /// A simulated shop (web store, back office, mail) with live traffic under the console.
    #[cfg(feature = "demo")]
    Demo(demo::DemoArgs),
}

/// Why a command failed, with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
    /// The reader of stdout went away (`| head -1`): not an error, the command just stops.
    pub reader_gone: bool,
}

impl Failure {
    pub fn rejected(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
            reader_gone: false,
        }
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
            reader_gone: false,
        }
    }
    /// Stdout's reader closed the pipe: the command ends, successfully and silently.
    pub fn reader_gone() -> Self {
        Failure {
            code: 0,
            message: String::new(),
            reader_gone: true,
        }
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure {
            code: e.exit_code() as u8,
            message: e.to_string(),
            reader_gone: false,
        }
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::rejected(e.to_string())
    }
}

pub type CliResult = Result<(), Failure>;

/// Where config, database and operator name come from, resolved once.
pub struct Context {
    pub config_path: PathBuf,
    config_named: bool,
    pub db_path: PathBuf,
    /// Who is acting (see [`operator::resolve`]); `None` only when nothing names anyone.
    pub user: Option<String>,
}

impl Context {
    pub fn config(&self) -> Result<Config, Failure> {
        Ok(Config::load(&self.config_path, self.config_named)?)
    }

    /// The app acting as this operator; refused when nobody can be named (history records who acted).
    pub fn app(&self) -> Result<App, Failure> {
        let user = self.user.as_deref().ok_or_else(|| {
            Failure::rejected(
                "who is acting? No --user, $SYNCDESK_USER, $USER or OS account name: pass --user NAME",
            )
        })?;
        open_app(&self.db_path, self.config()?, user)
    }
}

pub fn open_app(db: &Path, config: Config, user: &str) -> Result<App, Failure> {
    Ok(App::open(db, config, Actor::operator(user))?)
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let context = Context {
        config_named: cli.config.is_some(),
        config_path: cli.config.unwrap_or_else(config::default_config_path),
        db_path: cli.db.unwrap_or_else(config::default_db_path),
        user: operator::resolve(cli.user),
    };
    let result = match cli.command {
        // A flag that promised "no changes" must never be ignored by a command that makes some.
        Some(_) if cli.readonly => Err(Failure::rejected(
            "--readonly applies to the console only (run `syncdesk --readonly` without a subcommand)",
        )),
        None => console(&context, cli.readonly),
        Some(Command::Init { force }) => init(&context, force),
        Some(Command::Statuses { json }) => statuses(&context, json),
        Some(Command::Orders(cmd)) => orders::run(&context, cmd),
        Some(Command::Jobs(cmd)) => jobs::run(&context, cmd),
        Some(Command::Alignment(cmd)) => stock::alignment(&context, cmd),
        Some(Command::Conflicts(cmd)) => stock::conflicts(&context, cmd),
        Some(Command::Stock(cmd)) => stock::stock(&context, cmd),
        Some(Command::Alerts(cmd)) => alerts::run(&context, cmd),
        Some(Command::Report { period, out, json }) => report::run(&context, period, out, json),
        Some(Command::Sync(cmd)) => sync::run(&context, cmd),
        Some(Command::Check { enable_webhooks }) => sync::check(&context, enable_webhooks),
        Some(Command::Serve) => serve::run(&context),
        #[cfg(feature = "demo")]
        Some(Command::Sim(cmd)) => crate::demo::simulators::run(cmd),
        #[cfg(feature = "demo")]
        Some(Command::Demo(args)) => demo::run(&context, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) if f.reader_gone => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

/// The operator console on this database (no subcommand).
fn console(context: &Context, readonly: bool) -> CliResult {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return Err(Failure::rejected(
            "the console needs a terminal; use a subcommand (see `syncdesk --help`) in scripts",
        ));
    }
    let options = crate::tui::Options {
        readonly,
        no_color: crate::tui::theme::no_color_env(),
        clock: crate::tui::Clock::System,
    };
    // Without a name the console opens as nobody and asks for one before anything can be done.
    let app = open_app(
        &context.db_path,
        context.config()?,
        context.user.as_deref().unwrap_or_default(),
    )?;
    let console = crate::tui::Console::new(app, options).map_err(Failure::rejected)?;
    crate::tui::run(console).map_err(|e| Failure::failed(format!("terminal: {e}")))
}

fn init(context: &Context, force: bool) -> CliResult {
    let path = &context.config_path;
    if path.exists() && !force {
        return Err(Failure::rejected(format!(
            "{} already exists; use --force to overwrite it",
            path.display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::failed(format!("{}: {e}", dir.display())))?;
    }
    std::fs::write(path, config::TEMPLATE)
        .map_err(|e| Failure::failed(format!("{}: {e}", path.display())))?;
    output::outln!("wrote {}", path.display())?;
    Ok(())
}

fn statuses(context: &Context, json: bool) -> CliResult {
    let list = context.app()?.status_summaries()?;
    if json {
        return output::json(&list);
    }
    let rows = list
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.name.clone(),
                s.kind.as_str().to_string(),
                if s.pickable { "yes" } else { "no" }.to_string(),
                s.active_orders.to_string(),
                if s.is_final {
                    "(final)".to_string()
                } else {
                    s.allowed_next.join(", ")
                },
            ]
        })
        .collect();
    output::table(
        &["ID", "STATUS", "KIND", "PICKABLE", "ACTIVE", "NEXT"],
        rows,
    )?;
    Ok(())
}
