//! The console with a million orders in the store: time to first frame, keypress-to-frame while scrolling,
//! switching statuses and panels and typing a filter, and resident memory.
//!
//! Then the Inventory panel (6) and a SKU's trace with 100,000 aligned SKUs and 1,000,000 sync log rows
//! (the busiest SKU holding 100,000 of them): opening on the panel, scrolling, filtering, and the trace
//! zoomed and scrolled to its oldest change.
//!
//! Run: `cargo bench --bench console`. The big files are seeded once (≈1 minute each) and kept under
//! the target dir; a 10-order store (10 SKUs, 100 log rows) is measured in the same run as the baseline
//! ("opens and scrolls as fast as one with ten"). Targets at 1M: first frame < 300 ms, keypress-to-frame
//! p99 < 30 ms, RSS < 150 MB.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use syncdesk::app::{Actor, App};
use syncdesk::config::Config;
use syncdesk::store::bulk::{self, BulkInventory, BulkOrders};
use syncdesk::tui::{Clock, Console, Options};

const W: u16 = 160;
const H: u16 = 50;

/// A store with `n` bulk orders: reused from an earlier run when its file is complete.
fn seeded(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join(format!("console-bench-{n}-v1.db"));
    seed_once(&path, |app| {
        let spec = BulkOrders {
            count: n,
            ..BulkOrders::default()
        };
        let inserted = app
            .store()
            .write(|tx| bulk::insert_orders(tx, &spec))
            .expect("seed orders");
        assert_eq!(inserted, n, "seeded every order");
        format!("{n} orders")
    })
}

/// A store with `skus` aligned SKUs and `log_rows` sync log rows over them, reused like [`seeded`]'s.
fn seeded_inventory(dir: &Path, skus: usize, log_rows: usize) -> PathBuf {
    let path = dir.join(format!("console-bench-inventory-{skus}-{log_rows}-v1.db"));
    seed_once(&path, |app| {
        let spec = BulkInventory {
            skus,
            log_rows,
            store_field: syncdesk::store::trace::store_field("woocommerce"),
            now: 1_795_262_400_000,
            spacing_ms: 1_000,
            seed: 42,
        };
        app.store()
            .write(|tx| bulk::insert_inventory(tx, &spec))
            .expect("seed inventory");
        format!("{skus} SKUs and {log_rows} sync log rows")
    })
}

/// The file at `path`, seeded by `seed` unless an earlier run completed it (a `.done` file beside it).
fn seed_once(path: &Path, seed: impl FnOnce(&mut App) -> String) -> PathBuf {
    let path = path.to_path_buf();
    let done = path.with_extension("done");
    if path.exists() && done.exists() {
        return path;
    }
    let _ = std::fs::remove_file(&path);
    let t = Instant::now();
    // Opening the app seeds the workflow's statuses the orders are spread over.
    let mut app = App::open(&path, Config::default(), Actor::operator("seed")).expect("open app");
    let what = seed(&mut app);
    std::fs::write(&done, b"").expect("mark seeded");
    eprintln!("seeded {what} in {:.1} s", t.elapsed().as_secs_f64());
    path
}

struct Figures {
    first_frame: Duration,
    scroll: Vec<Duration>,
    filter: Vec<Duration>,
    rss_kb: u64,
    hwm_kb: u64,
}

fn key(c: char) -> KeyEvent {
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    KeyEvent::new(KeyCode::Char(c), mods)
}

fn code(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// One keypress until its frame is drawn.
fn step(c: &mut Console, t: &mut Terminal<TestBackend>, k: KeyEvent) -> Duration {
    let start = Instant::now();
    c.handle_key(k);
    if c.take_dirty() {
        t.draw(|f| c.render(f)).expect("draw");
    }
    start.elapsed()
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// A console on a store at W×H, as the terminal loop runs it, with the time from opening the store to its
/// first frame.
struct Session {
    c: Console,
    t: Terminal<TestBackend>,
    first_frame: Duration,
}

impl Session {
    /// Opens the console on `db`; `first` (e.g. a panel's key) is pressed before the first frame.
    fn open(db: &Path, first: Option<KeyEvent>) -> Session {
        let start = Instant::now();
        let app = App::open(db, Config::default(), Actor::operator("bench")).expect("open app");
        let mut c = Console::new(
            app,
            Options {
                readonly: false,
                no_color: false,
                clock: Clock::System,
            },
        )
        .expect("console");
        // As the terminal loop does: the dashboard's history-wide numbers come from a thread of their own.
        c.spawn_metrics_worker();
        c.resize(W, H);
        let mut t = Terminal::new(TestBackend::new(W, H)).expect("terminal");
        if let Some(k) = first {
            c.handle_key(k);
        }
        t.draw(|f| c.render(f)).expect("first frame");
        Session {
            c,
            t,
            first_frame: start.elapsed(),
        }
    }

    /// Each key's time to its frame, and the slowest named by `what` (the key and where it was pressed).
    fn keys(
        &mut self,
        keys: Vec<KeyEvent>,
        what: impl Fn(&KeyEvent, &Console) -> String,
    ) -> (Vec<Duration>, (Duration, String)) {
        let mut times = Vec::new();
        let mut slowest = (Duration::ZERO, String::new());
        for k in keys {
            let d = step(&mut self.c, &mut self.t, k);
            if d > slowest.0 {
                slowest = (d, what(&k, &self.c));
            }
            times.push(d);
        }
        (times, slowest)
    }

    /// Types each filter a key at a time, scrolls what it found, then clears it; prints the slowest keys.
    fn filters(&mut self, texts: &[&str]) -> Vec<Duration> {
        let (c, t) = (&mut self.c, &mut self.t);
        let mut filter = Vec::new();
        let mut typed: Vec<(Duration, String)> = Vec::new();
        for text in texts {
            filter.push(step(c, t, key('/')));
            for (i, ch) in text.char_indices() {
                let d = step(c, t, key(ch));
                typed.push((d, format!("/{}", &text[..i + ch.len_utf8()])));
                filter.push(d);
            }
            filter.push(step(c, t, code(KeyCode::Enter)));
            for _ in 0..30 {
                filter.push(step(c, t, key('j')));
            }
            filter.push(step(c, t, code(KeyCode::PageDown)));
            filter.push(step(c, t, code(KeyCode::Esc)));
        }
        typed.sort_by_key(|(d, _)| std::cmp::Reverse(*d));
        let slowest: Vec<String> = typed
            .iter()
            .take(4)
            .map(|(d, f)| format!("{f} {}", ms(*d)))
            .collect();
        eprintln!("slowest filter keys: {}", slowest.join(", "));
        filter
    }

    fn figures(self, scroll: Vec<Duration>, filter: Vec<Duration>) -> Figures {
        Figures {
            first_frame: self.first_frame,
            scroll,
            filter,
            rss_kb: status_kb("VmRSS:"),
            hwm_kb: status_kb("VmHWM:"),
        }
    }
}

/// Scrolling, every status group and panel, and five filters, on the Orders panel.
fn measure(db: &Path) -> Figures {
    let mut s = Session::open(db, None);
    let mut keys: Vec<KeyEvent> = Vec::new();
    keys.extend(std::iter::repeat_n(key('j'), 120));
    keys.extend(std::iter::repeat_n(code(KeyCode::PageDown), 20));
    keys.push(key('G'));
    keys.extend(std::iter::repeat_n(key('k'), 60));
    keys.extend(std::iter::repeat_n(code(KeyCode::PageUp), 5));
    keys.push(key('g'));
    // Every status group in turn (All → Pending → … → Cancelled → All), scrolling a little in each.
    for _ in 0..9 {
        keys.push(key('l'));
        keys.extend(std::iter::repeat_n(key('j'), 5));
        keys.push(code(KeyCode::PageDown));
        keys.push(key('G'));
        keys.push(key('g'));
    }
    // Every panel and back.
    keys.extend(std::iter::repeat_n(code(KeyCode::Tab), 5));
    keys.extend(['2', '3', '4', '5', '1'].map(key));
    let (scroll, slowest) = s.keys(keys, |k, c| format!("{:?} on {:?}", k.code, c.ui.tab));
    let filter = s.filters(&["Lovelace", "sku-0123", "B-0912345", "ada", "zzz"]);
    eprintln!("slowest scroll key: {} ({})", ms(slowest.0), slowest.1);
    s.figures(scroll, filter)
}

/// The Inventory panel: opened on it, scrolled, filtered, and the first SKU's trace (the busiest in the
/// big store) zoomed and scrolled to its oldest change.
fn measure_inventory(db: &Path) -> Figures {
    let mut s = Session::open(db, Some(key('6')));
    let mut keys: Vec<KeyEvent> = Vec::new();
    keys.extend(std::iter::repeat_n(key('j'), 120));
    keys.extend(std::iter::repeat_n(code(KeyCode::PageDown), 20));
    keys.push(key('G'));
    keys.extend(std::iter::repeat_n(key('k'), 60));
    keys.extend(std::iter::repeat_n(code(KeyCode::PageUp), 5));
    keys.push(key('g'));
    // The first SKU's trace, zoomed: down a line at a time, a page at a time, to the oldest change and back.
    keys.push(code(KeyCode::Enter));
    keys.extend(std::iter::repeat_n(key('j'), 60));
    keys.extend(std::iter::repeat_n(code(KeyCode::PageDown), 20));
    keys.push(key('G'));
    keys.extend(std::iter::repeat_n(code(KeyCode::PageUp), 5));
    keys.push(key('g'));
    keys.push(code(KeyCode::Esc));
    let (scroll, slowest) = s.keys(keys, |k, c| format!("{:?} zoomed {}", k.code, c.ui.zoom));
    let filter = s.filters(&["Lovelace", "sku-0123", "P-099999", "no. 4242", "zzz"]);
    eprintln!("slowest inventory key: {} ({})", ms(slowest.0), slowest.1);
    s.figures(scroll, filter)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn summary(name: &str, v: &[Duration]) -> (Duration, Duration, Duration) {
    let mut s = v.to_vec();
    s.sort();
    let (p50, p99, max) = (pct(&s, 0.5), pct(&s, 0.99), s[s.len() - 1]);
    println!(
        "  {name:<26} n={:<4} p50 {:>10}  p99 {:>10}  max {:>10}",
        v.len(),
        ms(p50),
        ms(p99),
        ms(max)
    );
    (p50, p99, max)
}

/// Prints one measured store's figures.
fn report(label: &str, f: &Figures) {
    println!("console with {label}:");
    println!("  first frame                {}", ms(f.first_frame));
    summary("scroll/status/panel keys", &f.scroll);
    summary("filter keys", &f.filter);
    let mut all = f.scroll.clone();
    all.extend(&f.filter);
    summary("every key", &all);
    println!(
        "  resident memory            {} MB (peak {} MB)",
        f.rss_kb / 1024,
        f.hwm_kb / 1024
    );
}

fn p99(f: &Figures) -> Duration {
    let mut all = f.scroll.clone();
    all.extend(&f.filter);
    all.sort();
    pct(&all, 0.99)
}

/// The big store against the baseline, and whether it meets the targets.
fn verdict(what: &str, big: &Figures, base: &Figures, base_rss: u64) {
    println!(
        "ratio {what} / baseline: first frame {:.1}×, key p99 {:.1}×, memory +{} MB over the baseline",
        big.first_frame.as_secs_f64() / base.first_frame.as_secs_f64(),
        p99(big).as_secs_f64() / p99(base).as_secs_f64(),
        big.rss_kb.saturating_sub(base_rss) / 1024
    );
    let ok = big.first_frame < Duration::from_millis(300)
        && p99(big) < Duration::from_millis(30)
        && big.rss_kb < 150 * 1024;
    println!(
        "{what}: targets (first frame < 300 ms, p99 < 30 ms, RSS < 150 MB): {}",
        if ok { "met" } else { "MISSED" }
    );
}

fn main() {
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let small_dir = tempfile::tempdir().expect("tempdir");
    let small = seeded(small_dir.path(), 10);
    let small_inventory = seeded_inventory(small_dir.path(), 10, 100);
    let big = seeded(&cache, 1_000_000);
    let big_inventory = seeded_inventory(&cache, 100_000, 1_000_000);

    // The baselines first, so the big stores' memory is not counted against them.
    let base = measure(&small);
    let base_rss = base.rss_kb;
    let base_inventory = measure_inventory(&small_inventory);
    let big_figures = measure(&big);
    let big_inventory_figures = measure_inventory(&big_inventory);
    report("10 orders (baseline)", &base);
    report("10 SKUs, 100 log rows: Inventory", &base_inventory);
    report("1,000,000 orders", &big_figures);
    report(
        "100,000 SKUs, 1,000,000 log rows: Inventory",
        &big_inventory_figures,
    );
    verdict("1M orders", &big_figures, &base, base_rss);
    verdict(
        "Inventory 100k/1M",
        &big_inventory_figures,
        &base_inventory,
        base_inventory.rss_kb,
    );
}
