//! The shop's day, generated: web orders checked out in the store (they reach syncdesk by signed webhook),
//! sales rung up at the counter, Counterpoint taking in staged web orders and shipping them, and now and then
//! the store going down for a few seconds; retailers ordering on the Cartona marketplace and the warehouse
//! moving those orders on (pushed to Cartona, or held back when Cartona delivers them itself). A tracker watches the database for what the engine made of it and
//! reports each notable outcome once: orders arriving, shipments completing orders, conflicts, failing jobs.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use syncdesk_sim::cartona::CartonaSim;
use syncdesk_sim::counterpoint::CounterpointSim;
use syncdesk_sim::smtp::SmtpSink;
use syncdesk_sim::woo::WooSim;

use super::feed::Feed;
use super::seed::{Item, MarketplaceOrder, customer, pick_lines, place_marketplace_order};
use crate::app::{App, Resolution, Winner};
use crate::domain::StatusKind;
use crate::integrations::cartona::rules::Verdict;
use crate::store::{JobState, jobs, links, orders};

/// How long a store outage lasts, and roughly how often one starts.
const OUTAGE: Duration = Duration::from_secs(10);
const FIRST_OUTAGE_AFTER: Duration = Duration::from_secs(25);
const OUTAGE_EVERY_SECS: std::ops::Range<u64> = 55..75;
/// The simulated operator settles the conflict on the locked product after this long.
const OPERATOR_RESOLVES_AFTER: Duration = Duration::from_secs(6);
/// How often a retailer places a new order on Cartona.
const MARKETPLACE_ORDER_EVERY_SECS: std::ops::Range<u64> = 10..20;
/// The warehouse moves its first Cartona orders on this soon (after the first pull), then every few seconds.
const WAREHOUSE_STARTS_AFTER: Duration = Duration::from_millis(2_500);
const WAREHOUSE_EVERY_MS: std::ops::Range<u64> = 5_000..10_000;

/// Everything the generator drives.
pub struct Traffic {
    pub woo: Arc<WooSim>,
    pub cp: Arc<CounterpointSim>,
    pub cartona: Arc<CartonaSim>,
    /// The marketplace orders seeded in Cartona, for the tracker to report their import.
    pub marketplace: Vec<MarketplaceOrder>,
    /// The number of the next marketplace order a retailer places (`C-…`).
    pub next_marketplace_order: u32,
    pub smtp: Arc<SmtpSink>,
    pub app: App,
    pub skus: Arc<Vec<Item>>,
    pub locked_sku: String,
    pub feed: Feed,
    pub expect: Sender<Expect>,
    pub stopping: Arc<AtomicBool>,
}

/// What the generator did, for the closing summary.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub web_orders: usize,
    pub store_sales: usize,
    pub documents: usize,
    pub shipped: usize,
    pub outages: usize,
    pub marketplace_orders: usize,
    /// Cartona orders the warehouse moved to another status.
    pub warehouse_moves: usize,
}

/// What the tracker saw of Cartona pushes, for the closing summary.
#[derive(Debug, Default, Clone)]
pub struct Narrated {
    pub cartona_pushed: usize,
    pub cartona_blocked: usize,
    pub cartona_failed: usize,
}

/// An outcome the tracker should report once it shows in the database.
#[derive(Debug)]
pub enum Expect {
    WebOrder {
        woo_id: u64,
        lines: usize,
        customer: String,
    },
    Shipped {
        web_id: String,
        doc_id: i64,
    },
    DocumentDeleted {
        web_id: String,
    },
    /// The seeded marketplace orders, imported by the first pull.
    MarketplaceBacklog {
        orders: Vec<MarketplaceOrder>,
    },
    MarketplaceOrder {
        order: MarketplaceOrder,
    },
    /// The warehouse moved a Cartona order to `status`; the push pass should send `cartona_status`.
    CartonaPush {
        number: String,
        status: String,
        cartona_status: String,
    },
    /// The move is held back by the delivered_by rule (the link shows `blocked`).
    CartonaBlocked {
        number: String,
        status: String,
    },
}

pub async fn generate(mut t: Traffic) -> Tally {
    let mut rng = fastrand::Rng::new();
    let mut tally = Tally::default();
    let started = Instant::now();
    let mut next_outage = started + FIRST_OUTAGE_AFTER;
    let mut outage_ends: Option<Instant> = None;
    // Counterpoint documents of staged web orders still open: DOC_ID → web order id.
    let mut open_docs: BTreeMap<i64, String> = BTreeMap::new();
    let mut operator_done = false;
    let mut deleted_one = false;
    let mut mails_seen = 0;
    let mut tick = 0u64;
    let skus = t.skus.clone();
    let mut stock: BTreeMap<String, i64> = skus.iter().map(|i| (i.sku.clone(), 1_000)).collect();
    let mut next_marketplace_order =
        started + Duration::from_secs(rng.u64(MARKETPLACE_ORDER_EVERY_SECS));
    let mut next_warehouse_move = started + WAREHOUSE_STARTS_AFTER;
    let mut warehouse_moves = 0usize;
    let _ = t.expect.send(Expect::MarketplaceBacklog {
        orders: std::mem::take(&mut t.marketplace),
    });
    while !t.stopping.load(Ordering::SeqCst) {
        let pause = Duration::from_millis(if tick == 0 {
            800
        } else {
            rng.u64(1_000..3_000)
        });
        let until = Instant::now() + pause;
        while Instant::now() < until && !t.stopping.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if t.stopping.load(Ordering::SeqCst) {
            break;
        }
        tick += 1;
        let now = Instant::now();

        // Counterpoint's own job turns staged web orders into order documents.
        match t.cp.shop().process_staged_orders() {
            Ok(processed) if !processed.is_empty() => {
                let mut made = 0;
                for p in processed {
                    if let Some(doc) = p.doc_id {
                        open_docs.insert(doc, p.web_order_id);
                        made += 1;
                    }
                }
                tally.documents += made;
                t.feed.say(format!(
                    "Counterpoint took in {made} staged web order{} as order documents",
                    if made == 1 { "" } else { "s" }
                ));
            }
            Ok(_) => {}
            Err(e) => t.feed.say(format!("Counterpoint simulator: {e}")),
        }

        if outage_ends.is_some_and(|end| now >= end) {
            outage_ends = None;
            t.feed.say("store outage ended: WooCommerce answers again");
        }
        if outage_ends.is_none() && now >= next_outage {
            t.woo.faults().outage_for(OUTAGE);
            outage_ends = Some(now + OUTAGE);
            next_outage = now + Duration::from_secs(rng.u64(OUTAGE_EVERY_SECS));
            tally.outages += 1;
            t.feed.say(format!(
                "store outage started: WooCommerce answers 503 for {} s",
                OUTAGE.as_secs()
            ));
        }

        // One piece of traffic per tick; the first few are fixed so every run shows each kind early.
        let roll = match tick {
            1 => 0,
            2 => 90,
            3 => 60,
            _ => rng.u32(..100),
        };
        if roll >= 80 && !open_docs.is_empty() {
            ship_one(&mut t, &mut rng, &mut open_docs, &mut tally);
        } else if roll >= 50 {
            let item = &skus[rng.usize(..skus.len())];
            let qty = [1, 1, 1, 2, 3][rng.usize(..5)];
            match t.cp.shop().ring_sale(&item.sku, Decimal::from(qty)) {
                Ok(_) => {
                    tally.store_sales += 1;
                    t.feed.say(format!(
                        "in-store sale at the counter: {qty} × {} ({})",
                        item.name, item.sku
                    ));
                }
                Err(e) => t.feed.say(format!("in-store sale failed: {e}")),
            }
        } else {
            let lines = pick_lines(&mut rng, &skus, &mut stock);
            let refs: Vec<(&str, i64)> = lines.iter().map(|(s, q)| (s.as_str(), *q)).collect();
            let status = [
                "processing",
                "processing",
                "processing",
                "processing",
                "on-hold",
                "pending",
            ][rng.usize(..6)];
            let who = customer(&mut rng);
            match t.woo.create_order_for(&refs, status, &who) {
                Ok(woo_id) => {
                    tally.web_orders += 1;
                    let _ = t.expect.send(Expect::WebOrder {
                        woo_id,
                        lines: lines.len(),
                        customer: format!("{} {}", who.first_name, who.last_name),
                    });
                }
                Err(e) => t.feed.say(format!("checkout failed in the store: {e}")),
            }
        }

        // Once: a clerk deletes a web order's document at the counter (the check of staged documents notices).
        if !deleted_one
            && open_docs.len() >= 3
            && tick >= 4
            && let Some((&doc, web_id)) = open_docs.iter().next_back()
        {
            let web_id = web_id.clone();
            if t.cp.shop().cancel_document(doc).is_ok() {
                open_docs.remove(&doc);
                deleted_one = true;
                t.feed.say(format!(
                    "a clerk deleted Counterpoint document {doc} (web order #{web_id}) at the counter"
                ));
                let _ = t.expect.send(Expect::DocumentDeleted { web_id });
            }
        }

        // Once: the operator settles the conflict on the product an admin locked in the store.
        if !operator_done
            && now.duration_since(started) >= OPERATOR_RESOLVES_AFTER
            && let Ok(r) = t
                .app
                .resolve_conflict(&t.locked_sku, Resolution::Winner(Winner::Pos))
        {
            operator_done = true;
            t.feed.say(format!(
                "operator settled the conflict on {} (POS wins: {}); the store has this product locked",
                r.sku, r.quantity
            ));
        }

        if now >= next_marketplace_order {
            next_marketplace_order =
                now + Duration::from_secs(rng.u64(MARKETPLACE_ORDER_EVERY_SECS));
            let number = t.next_marketplace_order;
            t.next_marketplace_order += 1;
            let order =
                place_marketplace_order(&t.cartona, &mut rng, &skus, number, chrono::Utc::now());
            tally.marketplace_orders += 1;
            t.feed.say(format!(
                "a retailer ordered on Cartona: {} ({})",
                order.id,
                order.describe()
            ));
            let _ = t.expect.send(Expect::MarketplaceOrder { order });
        }

        // The warehouse moves a Cartona order on: first one Cartona delivers, then one the shop delivers,
        // so every run shows both a block and a push early.
        if now >= next_warehouse_move {
            let want = match warehouse_moves {
                0 => Some(true),
                1 => Some(false),
                _ => None,
            };
            if move_marketplace_order(&mut t, &mut rng, want) {
                warehouse_moves += 1;
                tally.warehouse_moves += 1;
                next_warehouse_move = now
                    + if warehouse_moves < 2 {
                        Duration::from_millis(1_500)
                    } else {
                        Duration::from_millis(rng.u64(WAREHOUSE_EVERY_MS))
                    };
            }
        }

        let mails = t.smtp.messages();
        report_mail(&t.feed, &mails[mails_seen.min(mails.len())..]);
        mails_seen = mails.len();
    }
    tally
}

/// One line per e-mail, or one line per recipient for a burst (the first minute sends every backorder notice).
fn report_mail(feed: &Feed, new: &[syncdesk_sim::smtp::ReceivedMail]) {
    if new.len() <= 2 {
        for m in new {
            feed.say(format!(
                "e-mail to {}: {}",
                m.to.join(", "),
                m.header("Subject").unwrap_or_default()
            ));
        }
        return;
    }
    let mut by_recipient: BTreeMap<String, usize> = BTreeMap::new();
    for m in new {
        *by_recipient.entry(m.to.join(", ")).or_default() += 1;
    }
    let parts: Vec<String> = by_recipient
        .iter()
        .map(|(to, n)| format!("{n} to {to}"))
        .collect();
    feed.say(format!("{} e-mails sent: {}", new.len(), parts.join(", ")));
}

/// Counterpoint ships one open document (sometimes posting it at once, as an invoice).
fn ship_one(
    t: &mut Traffic,
    rng: &mut fastrand::Rng,
    open_docs: &mut BTreeMap<i64, String>,
    tally: &mut Tally,
) {
    let keys: Vec<i64> = open_docs.keys().copied().collect();
    let doc = keys[rng.usize(..keys.len().min(5))];
    let Some(web_id) = open_docs.remove(&doc) else {
        return;
    };
    let post = rng.bool();
    let shipped = t.cp.shop().ship_document(doc).and_then(|()| {
        if post {
            t.cp.shop().post_document(doc)
        } else {
            Ok(())
        }
    });
    match shipped {
        Ok(()) => {
            tally.shipped += 1;
            t.feed.say(format!(
                "Counterpoint shipped document {doc} (web order #{web_id}){}",
                if post { " and posted it" } else { "" }
            ));
            let _ = t.expect.send(Expect::Shipped {
                web_id,
                doc_id: doc,
            });
        }
        Err(e) => t
            .feed
            .say(format!("Counterpoint could not ship {doc}: {e}")),
    }
}

/// The warehouse's next step for a Cartona order in `status`, if it has one.
fn warehouse_step(status: &str) -> Option<&'static str> {
    match status {
        "Pending" => Some("Processing"),
        "Processing" => Some("Ready to Ship"),
        "Ready to Ship" => Some("Shipped"),
        _ => None,
    }
}

/// The simulated warehouse moves one active Cartona order a step on through the app, the way an operator
/// would (now and then cancelling one Cartona delivers, the one change such an order still syncs).
/// `delivered_by_cartona` picks whose orders to move; false when there was nothing to move.
fn move_marketplace_order(
    t: &mut Traffic,
    rng: &mut fastrand::Rng,
    delivered_by_cartona: Option<bool>,
) -> bool {
    let Ok(active) = t.app.list_orders(None, false, None, 100_000, 0) else {
        return false;
    };
    let workflow = t.app.workflow().clone();
    let candidates: Vec<(String, String, bool)> = active
        .into_iter()
        .filter(|o| o.channel == crate::integrations::cartona::outbound::SYSTEM)
        .filter_map(|o| {
            let status = workflow.get(o.status_id)?.name.clone();
            warehouse_step(&status)?;
            let by_cartona = t.cartona.order(&o.number)?.delivered_by == "cartona";
            delivered_by_cartona
                .is_none_or(|want| want == by_cartona)
                .then_some((o.number, status, by_cartona))
        })
        .collect();
    if candidates.is_empty() {
        return false;
    }
    // Mostly carry on with orders already in progress, so orders travel the whole way to Shipped.
    let started: Vec<&(String, String, bool)> =
        candidates.iter().filter(|c| c.1 != "Pending").collect();
    let (number, from, by_cartona) = if !started.is_empty() && rng.u8(..10) < 6 {
        started[rng.usize(..started.len())].clone()
    } else {
        candidates[rng.usize(..candidates.len())].clone()
    };
    let cancel = by_cartona && delivered_by_cartona.is_none() && rng.u8(..3) == 0;
    let before = links::by_external(t.app.store().conn(), "order", "cartona", &number)
        .ok()
        .flatten()
        .and_then(|l| l.remote_status);
    let moved = if cancel {
        t.app
            .cancel(&number, "out_of_stock: the depot ran out", None)
    } else {
        t.app.change_status(
            &number,
            warehouse_step(&from).unwrap_or("Processing"),
            None,
            None,
        )
    };
    let change = match moved {
        Ok(change) => change,
        Err(e) => {
            t.feed.say(format!(
                "warehouse could not move marketplace order {number}: {e}"
            ));
            return false;
        }
    };
    let to = change.to.clone();
    t.feed.say(format!(
        "warehouse moved marketplace order {number}: {from} → {to}{}",
        if cancel { " (out of stock)" } else { "" }
    ));
    // What the outbox made of it: the same plan the push pass follows.
    let config = t.app.config().clone();
    let conn = t.app.store().conn();
    let plan = links::by_external(conn, "order", "cartona", &number)
        .ok()
        .flatten()
        .and_then(|link| {
            crate::integrations::cartona::outbound::plan(conn, &workflow, &config, &link).ok()
        })
        .flatten();
    match plan.map(|p| p.verdict) {
        Some(Verdict::Blocked { .. }) => {
            let _ = t.expect.send(Expect::CartonaBlocked { number, status: to });
        }
        Some(Verdict::Allowed { status }) if before.as_deref() == Some(status.as_str()) => {
            t.feed.say(format!(
                "order {number} → {to}: Cartona already shows {status}, nothing to push"
            ));
        }
        Some(Verdict::Allowed { status }) => {
            let _ = t.expect.send(Expect::CartonaPush {
                number,
                status: to,
                cartona_status: status,
            });
        }
        Some(Verdict::Unmapped { reason }) => t.feed.say(format!("order {number}: {reason}")),
        None => {}
    }
    true
}

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

/// Reports an expectation's outcome if it shows; true when there is nothing left to wait for.
fn settle(app: &mut App, p: &mut Pending, feed: &Feed, narrated: &mut Narrated) -> bool {
    let workflow = app.workflow().clone();
    let conn = app.store().conn();
    let order_of = |system: &str, external: &str| {
        let link = links::by_external(conn, "order", system, external).ok()??;
        let order = orders::get(conn, link.local_id).ok()??;
        let status = workflow.get(order.status_id)?.clone();
        Some((link, order, status))
    };
    match &p.expect {
        Expect::WebOrder {
            woo_id,
            lines,
            customer,
        } => match order_of("woocommerce", &woo_id.to_string()) {
            Some((_, order, status)) => {
                feed.say(format!(
                    "web order #{} arrived ({lines} line{}, {customer}) → {}",
                    order.number,
                    if *lines == 1 { "" } else { "s" },
                    status.name
                ));
                true
            }
            None => false,
        },
        Expect::Shipped { web_id, doc_id } => {
            let Some((link, order, status)) = order_of("woocommerce", web_id) else {
                return false;
            };
            if p.completed.is_none() {
                if status.kind != StatusKind::Completed {
                    return false;
                }
                feed.say(format!(
                    "order {} shipped in Counterpoint (document {doc_id}) → {}",
                    order.number, status.name
                ));
                p.completed = Some(order.number.clone());
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
        Expect::DocumentDeleted { web_id } => {
            let Some((link, order, _)) = order_of("counterpoint", web_id) else {
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
        Expect::MarketplaceBacklog { orders } => {
            if orders.is_empty() {
                return true;
            }
            let imported = orders
                .iter()
                .filter(|o| order_of("cartona", &o.id).is_some())
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
        Expect::MarketplaceOrder { order: placed } => match order_of("cartona", &placed.id) {
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
        } => {
            let Some((link, _, _)) = order_of("cartona", number) else {
                return false;
            };
            match link.sync_state.as_str() {
                "synced" if link.remote_status.as_deref() == Some(cartona_status.as_str()) => {
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
        Expect::CartonaBlocked { number, status } => {
            let Some((link, _, _)) = order_of("cartona", number) else {
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

/// The closing summary: what the traffic did and where the shop stands.
pub fn summary(
    app: &mut App,
    tally: &Tally,
    narrated: &Narrated,
    mails: usize,
) -> Result<String, crate::app::AppError> {
    let mut out = String::from("summary\n");
    out.push_str(&format!(
        "  traffic: {} web orders, {} in-store sales, {} documents taken in and {} shipped by Counterpoint, {} store outage{}\n",
        tally.web_orders,
        tally.store_sales,
        tally.documents,
        tally.shipped,
        tally.outages,
        if tally.outages == 1 { "" } else { "s" }
    ));
    let statuses: Vec<String> = super::seed::orders_by_status(app)?
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    out.push_str(&format!("  orders: {}\n", statuses.join(", ")));
    let marketplace = app
        .list_orders(None, true, None, i64::MAX, 0)?
        .iter()
        .chain(&app.list_orders(None, false, None, i64::MAX, 0)?)
        .filter(|o| o.channel == crate::integrations::cartona::outbound::SYSTEM)
        .count();
    out.push_str(&format!(
        "  cartona: {marketplace} marketplace orders imported ({} placed during the run); {} moved on by the \
         warehouse: {} pushed to Cartona, {} not pushed (delivered_by=marketplace), {} refused\n",
        tally.marketplace_orders,
        tally.warehouse_moves,
        narrated.cartona_pushed,
        narrated.cartona_blocked,
        narrated.cartona_failed,
    ));
    let jobs: Vec<String> = app
        .job_counts()?
        .into_iter()
        .map(|(state, n)| format!("{} {n}", state.as_str()))
        .collect();
    out.push_str(&format!("  jobs: {}\n", jobs.join(", ")));
    out.push_str(&format!(
        "  open stock conflicts: {}; e-mails sent: {mails}",
        app.stock_conflicts(false, 10_000)?.len()
    ));
    Ok(out)
}
