//! Errors that explain (#15 point 3): a failing job reads as the order it works on (not `order:131` or
//! `{}`), with its first (root) failure beside the last, and Enter lists every attempt of its history —
//! snapshots at 80×24 and 160×45, keys in.

use crossterm::event::KeyCode;
use syncdesk::store::{NewJob, jobs};

use super::{Fixture, MIN, NOW, keys, press, screen};

/// A snapshot kept with the console's others, in tests/console/snapshots/ (`console__screens__errors__*`).
macro_rules! snapshot {
    ($screen:expr) => {
        insta::with_settings!({ snapshot_path => "../snapshots" }, {
            insta::assert_snapshot!($screen);
        })
    };
}

const LOCKED: &str = "HTTP 403 from the store: product SKU-C is locked for editing";
const OUTAGE: &str = "connection refused (store unreachable)";

impl Fixture {
    /// R-2's status push as the outbox queues it (key `order:<internal id>`, payload with the ids): refused
    /// by the store first (a locked product), then six attempts that only met an outage; dead. Its id.
    fn push_that_died(&self) -> i64 {
        let mut app = self.app("x");
        let order = app.order("R-2").unwrap().id;
        app.store()
            .write(|tx| -> syncdesk::store::Result<i64> {
                let start = NOW - 70 * MIN;
                let job = jobs::enqueue(
                    tx,
                    &NewJob {
                        kind: "woo.push_status".into(),
                        key: Some(format!("order:{order}")),
                        payload: format!(r#"{{"order_id":{order},"link_id":2}}"#),
                        run_at: start,
                        max_attempts: 7,
                    },
                    start,
                )?;
                for i in 0..7i64 {
                    let at = start + i * 10 * MIN;
                    tx.execute("UPDATE jobs SET run_at = ?1 WHERE id = ?2", (at, job))?;
                    jobs::claim(tx, "woo.push_status", 1, "engine-test", 30_000, at)?;
                    let (message, class) = if i == 0 {
                        (LOCKED, jobs::ErrorClass::Permanent)
                    } else {
                        (OUTAGE, jobs::ErrorClass::Transient)
                    };
                    let retry = (i < 6).then_some(at + 10 * MIN);
                    jobs::fail(
                        tx,
                        job,
                        "engine-test",
                        message,
                        message,
                        class,
                        retry,
                        at + 2_000,
                    )?;
                }
                Ok(job)
            })
            .unwrap()
    }
}

fn sized(c: &mut syncdesk::tui::Console, w: u16, h: u16) -> String {
    screen(c, w, h).backend().to_string()
}

#[test]
fn the_errors_panel_names_the_order_and_the_first_failure_at_160x45() {
    let f = Fixture::new();
    let job = f.push_that_died();
    let mut c = f.console();
    keys(&mut c, "4");
    assert_eq!(c.snapshot().jobs[0].id, job, "the newest job is selected");
    let text = sized(&mut c, 160, 45);
    assert!(text.contains("order R-2"), "{text}");
    assert!(!text.contains("order:"), "no internal ids: {text}");
    assert!(text.contains(LOCKED), "the root cause is on screen: {text}");
    assert!(text.contains(OUTAGE), "and the last failure: {text}");
    snapshot!(text);
}

#[test]
fn the_errors_panel_at_80x24() {
    let f = Fixture::new();
    f.push_that_died();
    let mut c = f.console();
    keys(&mut c, "4");
    let text = sized(&mut c, 80, 24);
    assert!(text.contains("order R-2"), "{text}");
    assert!(
        text.contains("HTTP 403"),
        "the first failure keeps its column: {text}"
    );
    snapshot!(text);
}

#[test]
fn enter_on_a_job_lists_every_attempt_at_160x45() {
    let f = Fixture::new();
    f.push_that_died();
    let mut c = f.console();
    keys(&mut c, "4");
    press(&mut c, KeyCode::Enter);
    assert!(c.ui.zoom, "Enter opens the job's detail");
    let text = sized(&mut c, 160, 45);
    for n in 1..=7 {
        assert!(
            text.contains(&format!("#{n:<3} ")),
            "attempt {n} listed: {text}"
        );
    }
    assert!(text.contains("attempts (7 of 7"), "{text}");
    assert!(text.contains("first failure (attempt 1"), "{text}");
    snapshot!(text);
    press(&mut c, KeyCode::Esc);
    assert!(!c.ui.zoom, "Esc goes back to the list");
}

#[test]
fn the_job_detail_at_80x24() {
    let f = Fixture::new();
    f.push_that_died();
    let mut c = f.console();
    keys(&mut c, "4");
    press(&mut c, KeyCode::Enter);
    let text = sized(&mut c, 80, 24);
    assert!(text.contains("target: order R-2"), "{text}");
    snapshot!(text);
}
