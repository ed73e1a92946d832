//! `kill -9` at random moments, over and over, while `syncdesk serve` imports, stages, ships, pushes and
//! mails: afterwards no job is lost, no external effect happened twice (store notes, Counterpoint staging,
//! purchasing e-mails), and the database passes `integrity_check`. Bounded: at most 32 kills in at most
//! 100 s, then at most 60 s to settle. `benches/chaos.rs` runs the same with more kills and store faults.

use crate::crash_rig;

use std::time::Duration;

use crash_rig::Chaos;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_loses_nothing_and_doubles_nothing() {
    let seed = std::env::var("SYNCDESK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let report = crash_rig::run(Chaos {
        kills: 32,
        uptime_ms: (200, 3500),
        kill_phase_max: Duration::from_secs(100),
        web_orders: 10,
        backorders: 8,
        faults: false,
        // Work arrives over the first 45 s (the kill phase lasts about a minute).
        work_spread: Duration::from_secs(45),
        seed,
        settle_max: Duration::from_secs(60),
    })
    .await;
    report.print(&format!("crash test (SYNCDESK_CRASH_SEED={seed})"));
    let context = format!("seed {seed}; serve's log ends:\n{}", report.log_tail);
    assert!(report.kills >= 30, "only {} kills\n{context}", report.kills);
    assert!(
        report.lost.is_empty(),
        "lost: {:#?}\n{context}",
        report.lost
    );
    assert!(
        report.doubled.is_empty(),
        "doubled: {:#?}\n{context}",
        report.doubled
    );
    assert!(
        report.dead_jobs.is_empty(),
        "dead: {:#?}\n{context}",
        report.dead_jobs
    );
    assert!(
        report.unfinished_jobs.is_empty(),
        "unfinished: {:#?}\n{context}",
        report.unfinished_jobs
    );
    assert!(report.settle.is_some(), "did not settle\n{context}");
    assert_eq!(report.integrity, "ok", "{context}");
}
