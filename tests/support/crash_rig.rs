//! The crash harness behind `tests/engine/crash.rs` and `benches/chaos.rs`: `syncdesk serve` (its own process) runs
//! against the WooCommerce and Counterpoint simulators and an SMTP sink while an operator works — web orders
//! arrive, Counterpoint ships them, orders are put on backorder from the CLI — and the harness `kill -9`s it at
//! random moments and starts it again, optionally with store faults on top (lost answers, 429s, outages, a
//! database lock held by another process). Then it lets it settle and counts every external effect: each
//! web order staged once, completed once with one shipping note, each backorder e-mailed once.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use syncdesk::app::{Actor, App};
use syncdesk::config::Config;
use syncdesk::store::{Store, links};
use syncdesk_sim::counterpoint::{CounterpointSim, SimConfig};
use syncdesk_sim::smtp::SmtpSink;
use syncdesk_sim::woo::{WooSim, WooSimConfig};

use super::serve_support::{Serve, free_port, woo_section};

/// What to do to it.
#[derive(Debug, Clone)]
pub struct Chaos {
    /// How many times `serve` is killed with SIGKILL.
    pub kills: usize,
    /// Each run of `serve` lives a random time in this range (ms) before it is killed.
    pub uptime_ms: (u64, u64),
    /// The kill phase stops early (with fewer kills) once it has lasted this long.
    pub kill_phase_max: Duration,
    /// WooCommerce orders: imported, staged in Counterpoint, shipped there, completed in the store with a note.
    pub web_orders: usize,
    /// Manual orders put on backorder from the CLI: one purchasing e-mail each.
    pub backorders: usize,
    /// Also inject store faults: lost answers on notes, 429s, short outages, and 6 s database locks.
    pub faults: bool,
    /// New work (web orders, backorders) arrives evenly over this long from the start.
    pub work_spread: Duration,
    pub seed: u64,
    /// How long the settling after the last fault may take before what is missing counts as lost.
    pub settle_max: Duration,
}

/// What happened, effect by effect.
#[derive(Debug, Default)]
pub struct ChaosReport {
    pub kills: usize,
    /// Kills that landed right after an effect (a mail accepted, a note added).
    pub aimed_kills: usize,
    pub kill_phase: Duration,
    pub faults_injected: usize,
    /// External effects the workload asked for.
    pub effects_expected: usize,
    /// Effects that never happened (named).
    pub lost: Vec<String>,
    /// Effects that happened more than once (named).
    pub doubled: Vec<String>,
    /// A mail sent again under its own Message-ID because a kill fell between the server's accept and the
    /// record of it (SMTP lets nobody check first; the same Message-ID makes it the same message).
    pub resent_same_message: Vec<String>,
    /// From the last kill, injected fault or piece of work handed in until every effect was there.
    pub settle: Option<Duration>,
    pub dead_jobs: Vec<String>,
    /// Jobs of non-recurring kinds still not finished after settling.
    pub unfinished_jobs: Vec<String>,
    pub jobs_by_state: BTreeMap<String, i64>,
    pub integrity: String,
    pub log_tail: String,
}

impl ChaosReport {
    pub fn print(&self, title: &str) {
        println!("{title}");
        println!(
            "  kills                 {} ({} right after a mail or a note landed)",
            self.kills, self.aimed_kills
        );
        println!(
            "  kill phase            {:.1} s",
            self.kill_phase.as_secs_f64()
        );
        println!("  faults injected       {}", self.faults_injected);
        println!("  effects expected      {}", self.effects_expected);
        println!("  effects lost          {}", self.lost.len());
        println!("  effects doubled       {}", self.doubled.len());
        println!(
            "  mails resent (same Message-ID, kill right after the accept) {}",
            self.resent_same_message.len()
        );
        match self.settle {
            Some(s) => println!(
                "  time to settle        {:.1} s after the last kill, fault or new work",
                s.as_secs_f64()
            ),
            None => println!("  time to settle        did not settle"),
        }
        println!("  dead jobs             {}", self.dead_jobs.len());
        println!("  unfinished jobs       {}", self.unfinished_jobs.len());
        println!("  jobs by state         {:?}", self.jobs_by_state);
        println!("  integrity_check       {}", self.integrity);
        for l in &self.lost {
            println!("  LOST    {l}");
        }
        for d in &self.doubled {
            println!("  DOUBLED {d}");
        }
        for r in &self.resent_same_message {
            println!("  resent  {r}");
        }
        for j in self.dead_jobs.iter().chain(&self.unfinished_jobs) {
            println!("  job     {j}");
        }
    }
}

/// Job kinds that recur on a schedule: one always waits, so they are never "unfinished".
const RECURRING: [&str; 5] = [
    "alerts.email_immediate",
    "alerts.digest",
    "woo.reconcile_orders",
    "counterpoint.fulfilment_pass",
    "counterpoint.verify_documents",
];

/// What the simulated operator and the systems did, shared between the harness's tasks.
#[derive(Default)]
struct Seen {
    /// Web order id → Counterpoint documents created for it.
    documents: HashMap<String, Vec<i64>>,
    /// Documents shipped.
    shipped: Vec<i64>,
    /// When each mail (by arrival index) was first seen at the sink.
    mail_seen: Vec<Instant>,
    /// Backorder orders created and put on backorder from the CLI.
    backordered: Vec<String>,
    faults: usize,
    last_fault: Option<Instant>,
    /// When the last piece of work was handed in.
    issued_at: Option<Instant>,
}

fn cli(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_syncdesk"))
        .args([
            "--db",
            &dir.join("s.db").to_string_lossy(),
            "--config",
            &dir.join("config.toml").to_string_lossy(),
            "--user",
            "ops",
        ])
        .args(args)
        .env_remove("SYNCDESK_CONFIG")
        .env_remove("SYNCDESK_DB")
        .env_remove("SYNCDESK_USER")
        .output()
        .map_err(|e| e.to_string())?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

/// Runs the scenario and reports. Panics only on a broken set-up (a simulator that does not start).
pub async fn run(chaos: Chaos) -> ChaosReport {
    let mut rng = fastrand::Rng::with_seed(chaos.seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_path = dir.path().to_path_buf();
    let woo = Arc::new(
        WooSim::start(WooSimConfig {
            products: 20,
            orders: 0,
            seed: chaos.seed,
            ..WooSimConfig::default()
        })
        .await
        .expect("woo sim"),
    );
    let cp = Arc::new(
        CounterpointSim::start(SimConfig {
            items: 40,
            seed: chaos.seed,
            ..SimConfig::default()
        })
        .await
        .expect("counterpoint sim"),
    );
    let sink = Arc::new(
        SmtpSink::start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("smtp sink"),
    );
    let port = free_port();
    let config_text = format!(
        "[jobs]\nlease_secs = 2\nbackoff_base_ms = 200\nbackoff_cap_secs = 3\npoll_ms = 50\ntimeout_secs = 20\n\n\
         [engine]\nlease_secs = 2\n\n[server]\nlisten = \"127.0.0.1:{port}\"\n\n\
         [email]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nfrom = \"syncdesk@shop.test\"\n\
         purchasing = [\"buyer@shop.test\"]\ntimeout_secs = 3\n\n[alerts]\nrecipients = []\n\n{}\n\
         [counterpoint]\nenabled = true\nfulfilment_poll_secs = 1\n\n[counterpoint.connection]\n\
         host = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\npassword = \"{}\"\ndatabase = \"{}\"\nencryption = \"off\"\n",
        sink.addr().port(),
        woo_section(
            &woo.base_url(),
            woo.consumer_key(),
            woo.consumer_secret(),
            "whsec_chaos",
            1
        ),
        cp.addr().port(),
        cp.user(),
        cp.password(),
        cp.database(),
    );
    std::fs::write(dir_path.join("config.toml"), config_text).expect("config");
    let config = Config::load(&dir_path.join("config.toml"), true).expect("config parses");
    // Store SKUs aligned with Counterpoint items, so staged lines name real items.
    let skus: Vec<String> = woo
        .products()
        .into_iter()
        .filter(|p| p.kind == "simple" && !p.sku.is_empty())
        .map(|p| p.sku)
        .take(5)
        .collect();
    {
        let mut app = App::open(
            &dir_path.join("s.db"),
            config.clone(),
            Actor::operator("ops"),
        )
        .expect("app");
        let items = cp.shop().item_numbers().expect("items");
        let csv: String =
            std::iter::once("POS SKU,WooCommerce SKU,Match Type,Confidence\n".to_string())
                .chain(
                    skus.iter()
                        .zip(&items)
                        .map(|(w, p)| format!("{p},{w},manual,1\n")),
                )
                .collect();
        let imported = app.import_alignment(&csv).expect("alignment");
        assert!(imported.errors.is_empty(), "{:?}", imported.errors);
    }

    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let issued = Arc::new(AtomicBool::new(false));
    let mut serve = Serve::start(&dir_path, port);
    let started = Instant::now();

    // The operator and the back office: new web orders over the first half of the kill phase, documents
    // made from staged orders and shipped, and manual orders put on backorder from the CLI.
    let operator = {
        let (woo, cp, seen, stop, issued) = (
            woo.clone(),
            cp.clone(),
            seen.clone(),
            stop.clone(),
            issued.clone(),
        );
        let (dir, chaos, skus) = (dir_path.clone(), chaos.clone(), skus.clone());
        let spread = chaos.work_spread;
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(chaos.seed ^ 0x5eed);
            let total = chaos.web_orders + chaos.backorders;
            let every = spread / total.max(1) as u32;
            let mut next_work = Instant::now();
            let (mut web, mut back) = (0, 0);
            let mut to_ship: Vec<i64> = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                if web + back < total && Instant::now() >= next_work {
                    next_work = Instant::now() + every;
                    let do_web = back >= chaos.backorders
                        || (web < chaos.web_orders && rng.usize(..total) < chaos.web_orders);
                    if do_web {
                        let sku = &skus[web % skus.len()];
                        woo.create_order(&[(sku.as_str(), 1 + (web % 3) as i64)], "processing")
                            .expect("web order");
                        web += 1;
                    } else {
                        let number = format!("BO-{back}");
                        let dir = dir.clone();
                        let sku = skus[back % skus.len()].clone();
                        let n = number.clone();
                        // As an operator would: a command refused by a busy database is typed again.
                        let done = tokio::task::spawn_blocking(move || {
                            let line = format!("{sku}=2");
                            let add = ["orders", "add", "--number", &n, "--line", &line];
                            let hold = [
                                "orders",
                                "set-status",
                                &n,
                                "backorder",
                                "--note",
                                "roaster out",
                            ];
                            let again = |args: &[&str], done_if: &str| {
                                let mut last = String::new();
                                for _ in 0..10 {
                                    match cli(&dir, args) {
                                        Ok(out) => return Ok(out),
                                        Err(e) if !done_if.is_empty() && e.contains(done_if) => {
                                            return Ok(e);
                                        }
                                        Err(e) => last = e,
                                    }
                                    std::thread::sleep(Duration::from_secs(1));
                                }
                                Err(last)
                            };
                            again(&add, "already")?;
                            again(&hold, "cannot move from Backorder")
                        })
                        .await
                        .expect("cli task");
                        if let Err(e) = done {
                            panic!("the operator's CLI failed for {number}: {e}");
                        }
                        seen.lock().unwrap().backordered.push(number);
                        back += 1;
                    }
                    if web + back == total {
                        seen.lock().unwrap().issued_at = Some(Instant::now());
                        issued.store(true, Ordering::SeqCst);
                    }
                }
                // The back office turns staged web orders into documents and ships them.
                if let Ok(processed) = cp.shop().process_staged_orders() {
                    let mut s = seen.lock().unwrap();
                    for p in processed {
                        if let Some(doc) = p.doc_id {
                            s.documents.entry(p.web_order_id).or_default().push(doc);
                            to_ship.push(doc);
                        }
                    }
                }
                to_ship.retain(|doc| match cp.shop().ship_document(*doc) {
                    Ok(()) => {
                        seen.lock().unwrap().shipped.push(*doc);
                        false
                    }
                    Err(_) => true,
                });
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        })
    };

    // When each mail arrived (to tell a resend caused by a kill right after the server's accept).
    let mail_watch = {
        let (sink, seen, stop) = (sink.clone(), seen.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let arrived = sink.messages().len();
                {
                    let mut s = seen.lock().unwrap();
                    while s.mail_seen.len() < arrived {
                        s.mail_seen.push(Instant::now());
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    // Store faults on top of the kills (the benchmark): lost note answers, 429s, short outages, and another
    // process holding the database's write lock for 6 s. Injected until the kills end.
    let faults_stop = Arc::new(AtomicBool::new(false));
    let faults = chaos.faults.then(|| {
        let (woo, seen, stop, db) = (
            woo.clone(),
            seen.clone(),
            faults_stop.clone(),
            dir_path.join("s.db"),
        );
        tokio::spawn(async move {
            woo.faults().throttle_every(9, 1);
            let mut round = 0u32;
            'faults: loop {
                for _ in 0..70 {
                    if stop.load(Ordering::SeqCst) {
                        break 'faults;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                round += 1;
                match round % 3 {
                    0 => woo.faults().lose_answers_next("POST /orders/{id}/notes", 2),
                    1 => woo.faults().outage_for(Duration::from_secs(3)),
                    _ => {
                        let db = db.clone();
                        tokio::task::spawn_blocking(move || {
                            if let Ok(conn) = rusqlite::Connection::open(&db) {
                                conn.busy_timeout(Duration::from_secs(10)).ok();
                                if conn.execute_batch("BEGIN IMMEDIATE").is_ok() {
                                    std::thread::sleep(Duration::from_secs(6));
                                    let _ = conn.execute_batch("ROLLBACK");
                                }
                            }
                        })
                        .await
                        .ok();
                    }
                }
                let mut s = seen.lock().unwrap();
                s.faults += 1;
                // An outage ends 3 s after it starts.
                s.last_fault =
                    Some(Instant::now() + Duration::from_secs(if round % 3 == 1 { 3 } else { 0 }));
            }
            woo.faults().throttle_every(0, 0);
            seen.lock()
                .unwrap()
                .last_fault
                .get_or_insert(Instant::now());
        })
    });

    // The kills: at random moments, and one in three aimed at the moment an effect lands (a mail accepted,
    // a note added) — the instant before syncdesk can write down that it happened.
    let mut kills = Vec::new();
    let mut aimed = 0;
    while kills.len() < chaos.kills && started.elapsed() < chaos.kill_phase_max {
        let uptime = Duration::from_millis(rng.u64(chaos.uptime_ms.0..=chaos.uptime_ms.1));
        if rng.u8(..3) == 0 {
            let before = effects_seen(&woo, &sink);
            let until = Instant::now() + uptime;
            while Instant::now() < until && effects_seen(&woo, &sink) == before {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            if effects_seen(&woo, &sink) != before {
                aimed += 1;
            }
        } else {
            tokio::time::sleep(uptime).await;
        }
        serve.kill9();
        kills.push(Instant::now());
        // Sometimes it stays down a moment (a supervisor's restart delay).
        if rng.u8(..4) == 0 {
            tokio::time::sleep(Duration::from_millis(rng.u64(50..600))).await;
        }
        serve.restart();
    }
    let kill_phase = started.elapsed();
    if let Some(f) = faults {
        faults_stop.store(true, Ordering::SeqCst);
        let _ = f.await;
        // The 429s stop now too.
        let mut s = seen.lock().unwrap();
        s.last_fault = Some(
            s.last_fault
                .map_or(Instant::now(), |f| f.max(Instant::now())),
        );
    }
    let last_kill = *kills.last().unwrap_or(&started);

    // Settle: every effect there, nothing left to run.
    let web_ids = |woo: &WooSim| woo.order_ids();
    while !issued.load(Ordering::SeqCst) && started.elapsed() < chaos.work_spread * 2 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let settle_deadline = Instant::now() + chaos.settle_max;
    let mut settled_at = None;
    while Instant::now() < settle_deadline {
        if issued.load(Ordering::SeqCst) {
            let ids = web_ids(&woo);
            let notes_done = ids.iter().all(|id| {
                woo.order_status(*id).as_deref() == Some("completed")
                    && woo
                        .order_notes(*id)
                        .iter()
                        .any(|n| n.note.contains("syncdesk ref"))
            });
            let backordered = seen.lock().unwrap().backordered.len();
            let mails = distinct_backorder_mails(&sink);
            if ids.len() == chaos.web_orders && notes_done && mails >= backordered {
                settled_at = Some(Instant::now());
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A moment more, so anything about to be doubled has the chance to be.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::SeqCst);
    let operator = operator.await;
    let _ = mail_watch.await;
    serve.kill9();

    // Every task that shared it has ended.
    let s = std::mem::take(&mut *seen.lock().unwrap());
    // Settling is timed from the last thing that happened to it: a kill, a fault, or the last work handed in.
    let last_fault = [s.last_fault, Some(last_kill), s.issued_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(started);
    let mut report = ChaosReport {
        kills: kills.len(),
        aimed_kills: aimed,
        kill_phase,
        faults_injected: s.faults,
        settle: settled_at.map(|t| t.saturating_duration_since(last_fault)),
        log_tail: tail(&serve.log_text(), 40),
        ..ChaosReport::default()
    };
    if let Err(e) = operator {
        report.lost.push(format!("the operator's work: {e}"));
    }

    // Web orders: imported and staged once, completed once, one note.
    let store =
        Store::open(&dir_path.join("s.db"), Duration::from_secs(10)).expect("open the store");
    let ids = web_ids(&woo);
    report.effects_expected = chaos.web_orders * 3 + s.backordered.len();
    if ids.len() != chaos.web_orders {
        report.lost.push(format!(
            "web orders created: {} of {}",
            ids.len(),
            chaos.web_orders
        ));
    }
    for id in &ids {
        let key = id.to_string();
        let staged = links::by_external(store.conn(), "order", "counterpoint", &key)
            .ok()
            .flatten()
            .is_some();
        let docs = s.documents.get(&key).map_or(0, Vec::len);
        match (staged, docs) {
            (true, 1) => {}
            (_, 0) => report
                .lost
                .push(format!("web order {id}: staged in Counterpoint")),
            (_, n) => report
                .doubled
                .push(format!("web order {id}: staged {n} times")),
        }
        if woo.order_status(*id).as_deref() != Some("completed") {
            report.lost.push(format!(
                "web order {id}: completed in the store (it says {:?})",
                woo.order_status(*id)
            ));
        }
        let notes = woo
            .order_notes(*id)
            .iter()
            .filter(|n| n.note.contains("syncdesk ref"))
            .count();
        match notes {
            1 => {}
            0 => report.lost.push(format!("web order {id}: shipping note")),
            n => report
                .doubled
                .push(format!("web order {id}: {n} shipping notes")),
        }
    }
    // Backorder mails: one message per notice; a second copy of the same message only right after a kill.
    let mail = sink.messages();
    for number in &s.backordered {
        let subject = format!("Backorder: order {number} needs purchasing");
        let copies: Vec<(usize, String)> = mail
            .iter()
            .enumerate()
            .filter(|(_, m)| m.header("Subject").as_deref() == Some(subject.as_str()))
            .map(|(i, m)| (i, m.header("Message-ID").unwrap_or_default()))
            .collect();
        let mut ids: Vec<&String> = copies.iter().map(|(_, id)| id).collect();
        ids.sort();
        ids.dedup();
        match ids.len() {
            0 => report.lost.push(format!("backorder mail for {number}")),
            1 => {}
            n => report.doubled.push(format!(
                "backorder mail for {number}: {n} different messages"
            )),
        }
        if copies.len() > ids.len() {
            let first = s.mail_seen.get(copies[0].0).copied();
            // (Arrivals are seen by polling, a few ms late: a kill aimed at the arrival may look earlier.)
            let killed_right_after = first.is_some_and(|at| {
                kills.iter().any(|k| {
                    *k + Duration::from_millis(100) >= at
                        && k.saturating_duration_since(at) < Duration::from_secs(1)
                })
            });
            let what = format!(
                "backorder mail for {number}: {} copies of {}",
                copies.len(),
                ids[0]
            );
            // Where it went twice: the copies' arrivals and the kills around them, and the job's attempts.
            let at = |t: Instant| t.saturating_duration_since(started).as_millis();
            let arrivals: Vec<u128> = copies
                .iter()
                .filter_map(|(i, _)| s.mail_seen.get(*i).map(|t| at(*t)))
                .collect();
            // The kills around the copies (within 2 s).
            let near: Vec<u128> = kills
                .iter()
                .map(|k| at(*k))
                .filter(|k| arrivals.iter().any(|a| k.abs_diff(*a) < 2000))
                .collect();
            let job_id = ids[0]
                .trim_start_matches("<syncdesk.backorder.")
                .split('.')
                .next()
                .and_then(|id| id.parse::<i64>().ok());
            let attempts = job_id
                .and_then(|id| syncdesk::store::jobs::history(store.conn(), id).ok())
                .unwrap_or_default()
                .iter()
                .map(|a| {
                    format!(
                        "#{} {} {} ms: {}",
                        a.attempt,
                        a.outcome,
                        a.ended_at - a.started_at,
                        a.message.as_deref().unwrap_or("-")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            let what = format!(
                "{what}: arrived at {arrivals:?} ms, killed at {near:?} ms; attempts {attempts}"
            );
            if killed_right_after {
                report.resent_same_message.push(what);
            } else {
                report.doubled.push(what);
            }
        }
    }
    // Jobs: none dead, none left behind.
    let mut stmt = store
        .conn()
        .prepare("SELECT id, kind, state, COALESCE(last_error, '') FROM jobs")
        .expect("jobs");
    let rows: Vec<(i64, String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("jobs")
        .collect::<Result<_, _>>()
        .expect("jobs");
    for (id, kind, state, error) in rows {
        *report.jobs_by_state.entry(state.clone()).or_default() += 1;
        match state.as_str() {
            "dead" => report.dead_jobs.push(format!("{id} {kind} dead: {error}")),
            "queued" | "retrying" | "running" if !RECURRING.contains(&kind.as_str()) => report
                .unfinished_jobs
                .push(format!("{id} {kind} {state}: {error}")),
            _ => {}
        }
    }
    drop(stmt);
    report.integrity = store
        .conn()
        .query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
        .unwrap_or_else(|e| e.to_string());
    drop(store);
    drop(s);
    if let Ok(sink) = Arc::try_unwrap(sink) {
        sink.shutdown().await;
    }
    drop(dir);
    report
}

/// Mails received plus notes in the store: moves whenever an external effect lands.
fn effects_seen(woo: &WooSim, sink: &SmtpSink) -> usize {
    let notes: usize = woo
        .order_ids()
        .into_iter()
        .map(|id| woo.order_notes(id).len())
        .sum();
    notes + sink.messages().len()
}

fn distinct_backorder_mails(sink: &SmtpSink) -> usize {
    let mut ids: Vec<String> = sink
        .messages()
        .iter()
        .filter(|m| {
            m.header("Subject")
                .is_some_and(|s| s.starts_with("Backorder:"))
        })
        .filter_map(|m| m.header("Message-ID"))
        .collect();
    ids.sort();
    ids.dedup();
    ids.len()
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
