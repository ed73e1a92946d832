//! `syncdesk demo --tour`: a guided tour of the order workflow on a scratch database, with a built-in SMTP
//! sink so the backorder e-mail can be seen arriving through the real job engine.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use syncdesk_sim::smtp::SmtpSink;

use super::DemoError;
use crate::app::{Actor, App, ShipmentDetails};
use crate::config::Config;
use crate::engine::{Engine, EngineHandle, default_handlers};

/// Runs the tour in `dir` (default: a new temporary folder).
pub fn run(dir: Option<PathBuf>) -> Result<(), DemoError> {
    let dir = match dir {
        Some(d) => d,
        None => std::env::temp_dir().join(format!("syncdesk-demo-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| DemoError::Failed(format!("{}: {e}", dir.display())))?;
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| DemoError::Failed(format!("runtime: {e}")))?;
    runtime.block_on(tour(dir))
}

async fn tour(dir: PathBuf) -> Result<(), DemoError> {
    let sink = SmtpSink::start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(|e| fail(&e))?;
    let db = dir.join("syncdesk.db");
    let (mut app, handle) = open_scratch_shop(&dir, &db, &sink)?;
    println!("syncdesk guided tour — database {}", db.display());

    let number = an_order_arrives(&mut app)?;
    backorder_mails_purchasing(&mut app, &number, &handle, &sink).await?;
    ship_in_parts(&mut app, &number)?;
    show_history(&mut app, &number)?;

    handle.shutdown().await.map_err(|e| fail(&e))?;
    sink.shutdown().await;
    println!(
        "\nThe tour's database stays in {}. Look around with, for example:\n  syncdesk --db {} orders list --archived\n  syncdesk --db {} jobs list",
        dir.display(),
        db.display(),
        db.display()
    );
    Ok(())
}

fn fail(e: &dyn std::fmt::Display) -> DemoError {
    DemoError::Failed(e.to_string())
}

/// Prints a step's title and the command an operator would type for it.
fn step(title: &str, command: &str) {
    println!("\n▶ {title}\n  $ syncdesk {command}");
}

/// The tour's database with a config whose mail goes to `sink` (written next to it, so the commands the
/// tour prints work), and the job engine running on it.
fn open_scratch_shop(
    dir: &Path,
    db: &Path,
    sink: &SmtpSink,
) -> Result<(App, EngineHandle), DemoError> {
    let mut config = Config::default();
    config.email.smtp_port = sink.addr().port();
    let config_text = format!(
        "# Written by `syncdesk demo`: mail goes to the demo's SMTP sink (gone when the demo ends).\n[email]\nsmtp_port = {}\n",
        sink.addr().port()
    );
    let config_path = dir.join("config.toml");
    std::fs::write(&config_path, config_text).map_err(|e| fail(&e))?;
    let app = App::open(db, config.clone(), Actor::operator("demo"))?;
    let handle = Engine::new(db, config.clone(), default_handlers(&config))
        .spawn()
        .map_err(|e| fail(&e))?;
    Ok((app, handle))
}

/// An order is added, and a forbidden move on it refused. Returns its number.
fn an_order_arrives(app: &mut App) -> Result<String, DemoError> {
    let number = format!(
        "R-{}",
        app.list_orders(None, false, None, 1, 0)?
            .first()
            .map(|o| o.id + 1)
            .unwrap_or(1001)
    );
    step(
        "A customer order arrives",
        &format!(
            "orders add --number {number} --customer 'Ana Horvat' --line RING-GOLD=2 --line SAMPLE-BOX=5"
        ),
    );
    let order = app.add_order(
        &number,
        Some("Ana Horvat"),
        "manual",
        &[("RING-GOLD".into(), 2), ("SAMPLE-BOX".into(), 5)],
    )?;
    println!(
        "  {} is {}; allowed next: {}",
        order.number,
        order.status,
        order.allowed_next.join(", ")
    );

    step(
        "A forbidden move is refused (exit code 2) and names the allowed ones",
        &format!("orders set-status {number} shipped"),
    );
    match app.change_status(&number, "shipped", None, None) {
        Err(e) => println!("  error: {e}"),
        Ok(_) => println!("  (unexpectedly allowed)"),
    }
    Ok(number)
}

/// Backorder: the status's e-mail to purchasing goes out through a background job and arrives in `sink`.
async fn backorder_mails_purchasing(
    app: &mut App,
    number: &str,
    handle: &EngineHandle,
    sink: &SmtpSink,
) -> Result<(), DemoError> {
    step(
        "Stock is short: move it to Backorder — purchasing gets an e-mail from a background job",
        &format!("orders set-status {number} backorder --note 'supplier delay'"),
    );
    let change = app.change_status(number, "backorder", Some("supplier delay"), None)?;
    println!("  {}: {} → {}", change.order, change.from, change.to);
    handle.wake();
    let mail = sink.wait_for(1, Duration::from_secs(10)).await;
    match mail.first() {
        Some(m) => {
            println!(
                "  e-mail received by the sink: to {} — {}",
                m.to.join(", "),
                m.header("Subject").unwrap_or_default()
            );
            for line in m.body().lines().filter(|l| !l.trim().is_empty()).take(4) {
                println!("    | {line}");
            }
        }
        None => println!("  (no e-mail yet: see `syncdesk jobs list`)"),
    }
    Ok(())
}

/// Back to Processing, then shipped in two parts (over-shipping refused); the order completes itself.
fn ship_in_parts(app: &mut App, number: &str) -> Result<(), DemoError> {
    step(
        "Stock arrived: back to Processing, then Ready to Ship",
        &format!("orders set-status {number} processing"),
    );
    app.change_status(number, "processing", None, None)?;
    app.change_status(number, "ready to ship", None, None)?;

    step(
        "Ship part of it",
        &format!("orders ship {number} --line SAMPLE-BOX=5 --carrier DPD --tracking 1Z999"),
    );
    let details = ShipmentDetails {
        tracking: Some("1Z999".into()),
        carrier: Some("DPD".into()),
        notes: None,
    };
    let out = app.ship(number, &[("SAMPLE-BOX".into(), 5)], &details, None)?;
    println!("  shipment {}; order still {}", out.shipment_id, out.status);

    step(
        "Over-shipping is refused",
        &format!("orders ship {number} --line RING-GOLD=3"),
    );
    if let Err(e) = app.ship(number, &[("RING-GOLD".into(), 3)], &details, None) {
        println!("  error: {e}");
    }

    step(
        "Ship the rest: the order completes itself and is archived",
        &format!("orders fulfill {number} --carrier DPD --tracking 1Z1000"),
    );
    let out = app.fulfill(
        number,
        &ShipmentDetails {
            tracking: Some("1Z1000".into()),
            ..details
        },
        None,
    )?;
    println!("  status {}; completed: {}", out.status, out.completed);
    Ok(())
}

/// The order's history: every change, by whom and from where.
fn show_history(app: &mut App, number: &str) -> Result<(), DemoError> {
    step(
        "Every change is in the history",
        &format!("orders show {number}"),
    );
    for h in app.order(number)?.history {
        println!(
            "  {}  {:<13} → {:<13} by {} ({}){}",
            h.at,
            h.from.unwrap_or_else(|| "-".into()),
            h.to,
            h.by,
            h.source,
            h.note.map(|n| format!(": {n}")).unwrap_or_default()
        );
    }
    Ok(())
}
