//! What `:sync <pass>` ends with (#15 point 4): with an engine running, the toast carries the counts the
//! pass job recorded; with none, the console says so and offers to run the pass itself — yes runs it here
//! (the store shows its effect, nothing is left queued; quitting meanwhile asks first), no leaves it queued
//! for the engine.

use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use syncdesk::app::App;
use syncdesk::config::Config;
use syncdesk::engine::{Engine, default_handlers};
use syncdesk::store::{JobState, engine_lease};
use syncdesk::tui::Console;
use syncdesk::tui::state::Modal;
use syncdesk_sim::woo::{WooSim, WooSimConfig};

use super::{Fixture, keys, last_toast, press, shot};
use crate::sim_config::woo_config;

const POLL: &str = "woo.reconcile_orders";

/// A WooCommerce simulator with six orders, on a runtime that outlives the test's calls into it.
fn woo_with_orders() -> (tokio::runtime::Runtime, WooSim) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let woo = rt
        .block_on(WooSim::start(WooSimConfig {
            products: 10,
            orders: 6,
            ..WooSimConfig::default()
        }))
        .unwrap();
    (rt, woo)
}

fn config_for(woo: &WooSim) -> Config {
    Config {
        woocommerce: woo_config(woo),
        ..Config::default()
    }
}

/// Ticks (as the terminal loop does) until no pass the console asked for is pending.
fn tick_until_settled(c: &mut Console) {
    let until = Instant::now() + Duration::from_secs(60);
    while !c.ui.syncs.is_empty() {
        assert!(Instant::now() < until, "still pending: {:?}", c.ui.syncs);
        c.tick();
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn order_count(app: &mut App) -> i64 {
    app.store()
        .conn()
        .query_row("SELECT COUNT(*) FROM orders", [], |r| r.get(0))
        .unwrap()
}

fn poll_jobs(app: &mut App) -> Vec<syncdesk::store::Job> {
    app.jobs(None, 1000)
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == POLL)
        .collect()
}

#[test]
fn with_an_engine_running_the_sync_ends_with_the_counts_its_job_recorded() {
    let f = Fixture::new();
    let (rt, woo) = woo_with_orders();
    let config = config_for(&woo);
    let db = f.dir.path().join("c.db");
    let engine = rt
        .block_on(async { Engine::new(&db, config.clone(), default_handlers(&config)).spawn() })
        .unwrap();
    let mut c = f.console_config(config, false);
    keys(&mut c, ":sync orders");
    press(&mut c, KeyCode::Enter);
    assert!(c.ui.modal.is_none(), "an engine runs: nothing to ask");
    assert!(
        last_toast(&c).contains("queued to run now"),
        "{}",
        last_toast(&c)
    );
    tick_until_settled(&mut c);
    let mut app = f.app("x");
    let job = poll_jobs(&mut app).pop().expect("the pass's job");
    assert_eq!(job.state, JobState::Done);
    let counts = job.outcome.clone().unwrap_or_default();
    assert!(
        counts.starts_with("6 order(s) read, "),
        "the job records the counts sync run prints: {counts:?}"
    );
    assert_eq!(
        last_toast(&c),
        format!("sync orders finished (job {}): {counts}", job.id)
    );
    rt.block_on(engine.shutdown()).unwrap();
}

#[test]
fn with_no_engine_yes_runs_the_pass_here_and_no_leaves_it_queued() {
    let f = Fixture::new();
    f.app("x")
        .store()
        .write(|tx| engine_lease::release(tx, "engine-test:4242"))
        .unwrap();
    let (_rt, woo) = woo_with_orders();
    let mut c = f.console_config(config_for(&woo), false);
    let before = order_count(&mut f.app("x"));

    keys(&mut c, ":sync orders");
    press(&mut c, KeyCode::Enter);
    assert!(
        matches!(c.ui.modal, Some(Modal::Confirm { .. })),
        "{:?}",
        c.ui.modal
    );
    let screen = shot(&mut c);
    assert!(
        screen.contains("No engine is running for this database"),
        "{screen}"
    );
    assert!(
        screen.contains("y yes · n/esc no"),
        "the keys show: {screen}"
    );
    assert!(
        poll_jobs(&mut f.app("x")).is_empty(),
        "nothing queued while asking"
    );
    keys(&mut c, "y");
    assert!(c.ui.modal.is_none());
    assert!(
        shot(&mut c).contains("sync orders running here"),
        "the header shows it running"
    );
    // Quitting now would stop it part-way: asked first (its report arrives on a tick, none ran yet).
    keys(&mut c, "q");
    match &c.ui.modal {
        Some(Modal::Confirm { message, .. }) => {
            assert!(
                message.contains("sync orders is still running here"),
                "{message}"
            )
        }
        other => panic!("expected a question, got {other:?}"),
    }
    keys(&mut c, "n");
    assert!(!c.should_quit());
    tick_until_settled(&mut c);
    let toast = last_toast(&c);
    assert!(
        toast.starts_with("sync orders finished here: 6 order(s) read, "),
        "{toast}"
    );
    let mut app = f.app("x");
    // The open ones are created; ones already final in the store are skipped (still counted as read).
    assert!(order_count(&mut app) > before, "the store's orders came in");
    assert!(
        poll_jobs(&mut app).is_empty(),
        "the pass ran here: no job left for an engine"
    );

    // No: queued for the engine, followed in the header as before.
    keys(&mut c, ":sync orders");
    press(&mut c, KeyCode::Enter);
    keys(&mut c, "n");
    let queued = poll_jobs(&mut app);
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].state, JobState::Queued);
    assert!(
        last_toast(&c).contains(&format!(
            "sync orders: job {} queued to run now",
            queued[0].id
        )),
        "{}",
        last_toast(&c)
    );
    c.tick();
    assert!(shot(&mut c).contains("sync orders queued"));
    keys(&mut c, "q");
    assert!(c.should_quit(), "nothing runs here any more: no question");
}

#[test]
fn running_a_pass_here_is_for_the_roles_that_run_syncs() {
    let f = Fixture::new();
    f.app("x")
        .store()
        .write(|tx| engine_lease::release(tx, "engine-test:4242"))
        .unwrap();
    let (_rt, woo) = woo_with_orders();
    let mut config = config_for(&woo);
    config.roles.warehouse = vec!["carol".into()];
    let mut c = f.console_config(config, false);
    keys(&mut c, ":sync orders");
    press(&mut c, KeyCode::Enter);
    assert!(
        c.ui.modal.is_none(),
        "nothing offered to a role that may not"
    );
    assert!(
        last_toast(&c).contains("may not run syncs"),
        "{}",
        last_toast(&c)
    );
    assert!(poll_jobs(&mut f.app("x")).is_empty());
}
