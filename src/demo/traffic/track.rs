//! The tracker: watches the database and reports, once each, what the engine made of the traffic (orders
//! arriving, shipments completing and pushed, Cartona pushes and blocks), new conflicts, and jobs that
//! fail, give up or recover.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use super::{Expect, Narrated};
use crate::app::App;
use crate::demo::feed::Feed;
use crate::demo::seed::MarketplaceOrder;
use crate::domain::{Status, StatusKind, Workflow};
use crate::store::{JobState, jobs, links, orders};

/// An expectation and how far it got.
struct Pending {
    expect: Expect,
    since: Instant,
    /// Shipped: the order completed; still waiting for the push to the store.
    completed: Option<String>,
}

fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > 110 {
        format!("{}…", line.chars().take(110).collect::<String>())
    } else {
        line.to_string()
    }
}

/// Watches the database until `stopping`: reports what the engine made of the traffic, new conflicts,
/// and jobs that fail, give up or recover. Returns what it saw of Cartona pushes.
pub fn track(
    mut app: App,
    expectations: Receiver<Expect>,
    feed: Feed,
    stopping: Arc<AtomicBool>,
) -> Narrated {
    let mut narrated = Narrated::default();
    let mut pending: Vec<Pending> = Vec::new();
    let mut conflicts_seen: BTreeSet<i64> = BTreeSet::new();
    // Failing jobs: id → (attempts reported, dead reported).
    let mut failing: BTreeMap<i64, (u32, bool)> = BTreeMap::new();
    while !stopping.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(400));
        pending.extend(expectations.try_iter().map(|expect| Pending {
            expect,
            since: Instant::now(),
            completed: None,
        }));
        pending.retain_mut(|p| {
            !settle(&mut app, p, &feed, &mut narrated)
                && p.since.elapsed() < Duration::from_secs(180)
        });

        if let Ok(open) = app.stock_conflicts(false, 500) {
            for c in open.iter().filter(|c| conflicts_seen.insert(c.id)) {
                feed.say(format!(
                    "conflict on {} ({}): {}",
                    c.sku,
                    c.kind,
                    short(&c.detail)
                ));
            }
        }
        report_jobs(&mut app, &mut failing, &feed);
    }
    narrated
}

/// Where the database stands on one order: read for each expectation.
struct Lookup<'a> {
    conn: &'a rusqlite::Connection,
    workflow: &'a Workflow,
}

impl Lookup<'_> {
    /// The order linked to `external` in `system`: its link, row and status.
    fn order_of(
        &self,
        system: &str,
        external: &str,
    ) -> Option<(links::Link, orders::OrderRow, Status)> {
        let link = links::by_external(self.conn, "order", system, external).ok()??;
        let order = orders::get(self.conn, link.local_id).ok()??;
        let status = self.workflow.get(order.status_id)?.clone();
        Some((link, order, status))
    }
}

/// Reports an expectation's outcome if it shows; true when there is nothing left to wait for.
fn settle(app: &mut App, p: &mut Pending, feed: &Feed, narrated: &mut Narrated) -> bool {
    let workflow = app.workflow().clone();
    let db = Lookup {
        conn: app.store().conn(),
        workflow: &workflow,
    };
    match &p.expect {
        Expect::WebOrder {
            woo_id,
            lines,
            customer,
        } => web_order_arrived(&db, feed, *woo_id, *lines, customer),
        Expect::Shipped { web_id, doc_id } => {
            shipped_and_pushed(&db, feed, web_id, *doc_id, &mut p.completed)
        }
        Expect::DocumentDeleted { web_id } => document_deleted(&db, feed, web_id),
        Expect::MarketplaceBacklog { orders } => backlog_imported(&db, feed, orders),
        Expect::MarketplaceOrder { order: placed } => match db.order_of("cartona", &placed.id) {
            Some((_, _, status)) => {
                feed.say(format!(
                    "marketplace order {} arrived ({}) → {}",
                    placed.id,
                    placed.describe(),
                    status.name
                ));
                true
            }
            None => false,
        },
        Expect::CartonaPush {
            number,
            status,
            cartona_status,
        } => cartona_pushed(&db, feed, narrated, number, status, cartona_status),
        Expect::CartonaBlocked { number, status } => {
            let Some((link, _, _)) = db.order_of("cartona", number) else {
                return false;
            };
            if link.sync_state != "blocked" {
                return false;
            }
            narrated.cartona_blocked += 1;
            feed.say(format!(
                "order {number} → {status} not pushed: Cartona delivers this order itself \
                 (delivered_by=marketplace)"
            ));
            true
        }
    }
}

fn web_order_arrived(db: &Lookup, feed: &Feed, woo_id: u64, lines: usize, customer: &str) -> bool {
    match db.order_of("woocommerce", &woo_id.to_string()) {
        Some((_, order, status)) => {
            feed.say(format!(
                "web order #{} arrived ({lines} line{}, {customer}) → {}",
                order.number,
                if lines == 1 { "" } else { "s" },
                status.name
            ));
            true
        }
        None => false,
    }
}

/// Two outcomes, each reported once: the order completed (`completed` remembers it), then the store shows
/// the push.
fn shipped_and_pushed(
    db: &Lookup,
    feed: &Feed,
    web_id: &str,
    doc_id: i64,
    completed: &mut Option<String>,
) -> bool {
    let Some((link, order, status)) = db.order_of("woocommerce", web_id) else {
        return false;
    };
    if completed.is_none() {
        if status.kind != StatusKind::Completed {
            return false;
        }
        feed.say(format!(
            "order {} shipped in Counterpoint (document {doc_id}) → {}",
            order.number, status.name
        ));
        *completed = Some(order.number.clone());
    }
    if link.remote_status.as_deref() == Some("completed") {
        feed.say(format!(
            "order {} pushed to WooCommerce: #{web_id} is completed there",
            order.number
        ));
        return true;
    }
    false
}

fn document_deleted(db: &Lookup, feed: &Feed, web_id: &str) -> bool {
    let Some((link, order, _)) = db.order_of("counterpoint", web_id) else {
        return false;
    };
    if link.sync_state != "error" {
        return false;
    }
    feed.say(format!(
        "order {}: {}",
        order.number,
        short(link.last_error.as_deref().unwrap_or("sync error"))
    ));
    true
}

fn backlog_imported(db: &Lookup, feed: &Feed, orders: &[MarketplaceOrder]) -> bool {
    if orders.is_empty() {
        return true;
    }
    let imported = orders
        .iter()
        .filter(|o| db.order_of("cartona", &o.id).is_some())
        .count();
    if imported < orders.len() {
        return false;
    }
    let count = |f: fn(&MarketplaceOrder) -> bool| orders.iter().filter(|o| f(o)).count();
    feed.say(format!(
        "first Cartona pull imported {imported} marketplace orders ({} supplier-delivered, {} \
         delivered by Cartona, {} needing the retailer's OTP on delivery)",
        count(|o| !o.delivered_by_cartona),
        count(|o| o.delivered_by_cartona),
        count(|o| o.requires_otp),
    ));
    true
}

fn cartona_pushed(
    db: &Lookup,
    feed: &Feed,
    narrated: &mut Narrated,
    number: &str,
    status: &str,
    cartona_status: &str,
) -> bool {
    let Some((link, _, _)) = db.order_of("cartona", number) else {
        return false;
    };
    match link.sync_state.as_str() {
        "synced" if link.remote_status.as_deref() == Some(cartona_status) => {
            narrated.cartona_pushed += 1;
            feed.say(format!(
                "order {number} → {status} pushed to Cartona: {cartona_status}"
            ));
            true
        }
        "error" => {
            narrated.cartona_failed += 1;
            feed.say(format!(
                "order {number} → {status} not accepted by Cartona: {}",
                short(link.last_error.as_deref().unwrap_or("push failed"))
            ));
            true
        }
        _ => false,
    }
}

fn report_jobs(app: &mut App, failing: &mut BTreeMap<i64, (u32, bool)>, feed: &Feed) {
    let mut now_failing = BTreeSet::new();
    for state in [JobState::Retrying, JobState::Dead] {
        let Ok(list) = app.jobs(Some(state), 200) else {
            return;
        };
        for job in list {
            now_failing.insert(job.id);
            let error = short(job.last_error.as_deref().unwrap_or("?"));
            let seen = failing.entry(job.id).or_insert((0, false));
            if state == JobState::Dead && !seen.1 {
                feed.say(format!(
                    "job {} {} gave up after {} attempt{}: {error}",
                    job.id,
                    job.kind,
                    job.attempts,
                    if job.attempts == 1 { "" } else { "s" }
                ));
                *seen = (job.attempts, true);
            } else if state == JobState::Retrying && seen.0 == 0 {
                feed.say(format!(
                    "job {} {} failed (attempt {} of {}), will retry: {error}",
                    job.id, job.kind, job.attempts, job.max_attempts
                ));
                seen.0 = job.attempts;
            }
        }
    }
    let recovered: Vec<i64> = failing
        .iter()
        .filter(|(id, (_, dead))| !dead && !now_failing.contains(id))
        .map(|(id, _)| *id)
        .collect();
    for id in recovered {
        match jobs::get(app.store().conn(), id) {
            Ok(Some(job)) if job.state == JobState::Done => {
                feed.say(format!(
                    "job {} {} recovered on attempt {}",
                    job.id, job.kind, job.attempts
                ));
                failing.remove(&id);
            }
            // Running again, or discarded by an operator.
            Ok(Some(job)) if job.state == JobState::Running => {}
            _ => {
                failing.remove(&id);
            }
        }
    }
}
