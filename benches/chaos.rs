//! Chaos: `syncdesk serve` killed with SIGKILL 110 times while it imports, stages, ships, pushes and mails,
//! with store faults on top — lost answers on notes, 429s, 3 s outages of the store, and another process
//! holding the database's write lock for 6 s — then left to settle. Prints kills, effects expected, lost,
//! doubled, mails resent under their own Message-ID, and the time to settle after the last kill or fault,
//! next to a baseline measured in the same run: the same work with no kills and no faults.
//! Target: 0 lost, 0 doubled, settled < 60 s after the last fault. `cargo bench --bench chaos`

#[path = "../tests/support/serve.rs"]
mod serve_support;

#[path = "../tests/support/crash_rig.rs"]
mod crash_rig;

use std::time::Duration;

use crash_rig::Chaos;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let seed = std::env::var("SYNCDESK_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261);
    let work = Chaos {
        kills: 0,
        uptime_ms: (150, 2500),
        kill_phase_max: Duration::from_secs(300),
        web_orders: 30,
        backorders: 20,
        faults: false,
        // Work arrives over about the whole kill phase, so the last kills and faults land on work in flight.
        work_spread: Duration::from_secs(150),
        seed,
        settle_max: Duration::from_secs(180),
    };
    let baseline = runtime.block_on(crash_rig::run(Chaos {
        // The same work arriving as fast as it can, nothing done to serve.
        work_spread: Duration::from_secs(5),
        ..work.clone()
    }));
    baseline.print("baseline: the same work, no kills, no faults");
    let chaos = runtime.block_on(crash_rig::run(Chaos {
        kills: 110,
        faults: true,
        ..work
    }));
    chaos.print(&format!(
        "chaos: 110 × kill -9 with store faults (SYNCDESK_CHAOS_SEED={seed})"
    ));
    let secs = |d: Option<Duration>| {
        d.map_or("did not settle".into(), |d| {
            format!("{:.1} s", d.as_secs_f64())
        })
    };
    println!();
    println!(
        "summary: kills {} | effects expected {} | lost {} | doubled {} | resent (same Message-ID) {} | settle {} (baseline {})",
        chaos.kills,
        chaos.effects_expected,
        chaos.lost.len(),
        chaos.doubled.len(),
        chaos.resent_same_message.len(),
        secs(chaos.settle),
        secs(baseline.settle),
    );
}
