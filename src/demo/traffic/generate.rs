//! The generator's loop: every one to three seconds Counterpoint takes in staged web orders, the store may
//! go down or come back, and one piece of traffic happens (a web checkout, a sale at the counter, a
//! shipment); now and then a clerk, the operator, a retailer or the warehouse acts. Each is one method.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;

use super::warehouse::move_marketplace_order;
use super::{Expect, Tally, Traffic};
use crate::app::{Resolution, Winner};
use crate::demo::feed::Feed;
use crate::demo::seed::{Item, customer, pick_lines, place_marketplace_order};

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

/// Runs the shop's day until `stopping`; returns what it did.
pub async fn generate(t: Traffic) -> Tally {
    let mut g = Generator::new(t);
    let _ = g.t.expect.send(Expect::MarketplaceBacklog {
        orders: std::mem::take(&mut g.t.marketplace),
    });
    while !g.stopping() {
        g.pause().await;
        if g.stopping() {
            break;
        }
        g.tick += 1;
        let now = Instant::now();
        g.take_in_staged_orders();
        g.store_outages(now);
        g.one_piece_of_traffic();
        g.clerk_deletes_a_document_once();
        g.operator_settles_once(now);
        g.retailer_orders_when_due(now);
        g.warehouse_moves_when_due(now);
        g.report_new_mail();
    }
    g.tally
}

/// The generator and what it remembers between ticks.
struct Generator {
    t: Traffic,
    rng: fastrand::Rng,
    tally: Tally,
    started: Instant,
    next_outage: Instant,
    outage_ends: Option<Instant>,
    /// Counterpoint documents of staged web orders still open: DOC_ID → web order id.
    open_docs: BTreeMap<i64, String>,
    operator_done: bool,
    deleted_one: bool,
    mails_seen: usize,
    tick: u64,
    skus: Arc<Vec<Item>>,
    /// What web checkouts may still take of each SKU.
    stock: BTreeMap<String, i64>,
    next_marketplace_order: Instant,
    next_warehouse_move: Instant,
    warehouse_moves: usize,
}

impl Generator {
    fn new(t: Traffic) -> Self {
        let mut rng = fastrand::Rng::new();
        let started = Instant::now();
        let skus = t.skus.clone();
        let stock = skus.iter().map(|i| (i.sku.clone(), 1_000)).collect();
        let next_marketplace_order =
            started + Duration::from_secs(rng.u64(MARKETPLACE_ORDER_EVERY_SECS));
        Generator {
            t,
            rng,
            tally: Tally::default(),
            started,
            next_outage: started + FIRST_OUTAGE_AFTER,
            outage_ends: None,
            open_docs: BTreeMap::new(),
            operator_done: false,
            deleted_one: false,
            mails_seen: 0,
            tick: 0,
            skus,
            stock,
            next_marketplace_order,
            next_warehouse_move: started + WAREHOUSE_STARTS_AFTER,
            warehouse_moves: 0,
        }
    }

    fn stopping(&self) -> bool {
        self.t.stopping.load(Ordering::SeqCst)
    }

    /// Waits until the next tick (sooner for the first), waking early when stopping.
    async fn pause(&mut self) {
        let pause = Duration::from_millis(if self.tick == 0 {
            800
        } else {
            self.rng.u64(1_000..3_000)
        });
        let until = Instant::now() + pause;
        while Instant::now() < until && !self.stopping() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Counterpoint's own job turns staged web orders into order documents.
    fn take_in_staged_orders(&mut self) {
        let t = &mut self.t;
        match t.cp.shop().process_staged_orders() {
            Ok(processed) if !processed.is_empty() => {
                let mut made = 0;
                for p in processed {
                    if let Some(doc) = p.doc_id {
                        self.open_docs.insert(doc, p.web_order_id);
                        made += 1;
                    }
                }
                self.tally.documents += made;
                t.feed.say(format!(
                    "Counterpoint took in {made} staged web order{} as order documents",
                    if made == 1 { "" } else { "s" }
                ));
            }
            Ok(_) => {}
            Err(e) => t.feed.say(format!("Counterpoint simulator: {e}")),
        }
    }

    /// Ends an outage that has run its time, or starts one when due.
    fn store_outages(&mut self, now: Instant) {
        if self.outage_ends.is_some_and(|end| now >= end) {
            self.outage_ends = None;
            self.t
                .feed
                .say("store outage ended: WooCommerce answers again");
        }
        if self.outage_ends.is_none() && now >= self.next_outage {
            self.t.woo.faults().outage_for(OUTAGE);
            self.outage_ends = Some(now + OUTAGE);
            self.next_outage = now + Duration::from_secs(self.rng.u64(OUTAGE_EVERY_SECS));
            self.tally.outages += 1;
            self.t.feed.say(format!(
                "store outage started: WooCommerce answers 503 for {} s",
                OUTAGE.as_secs()
            ));
        }
    }

    /// One piece of traffic per tick; the first few are fixed so every run shows each kind early.
    fn one_piece_of_traffic(&mut self) {
        let roll = match self.tick {
            1 => 0,
            2 => 90,
            3 => 60,
            _ => self.rng.u32(..100),
        };
        if roll >= 80 && !self.open_docs.is_empty() {
            ship_one(
                &mut self.t,
                &mut self.rng,
                &mut self.open_docs,
                &mut self.tally,
            );
        } else if roll >= 50 {
            self.sale_at_the_counter();
        } else {
            self.web_checkout();
        }
    }

    fn sale_at_the_counter(&mut self) {
        let item = &self.skus[self.rng.usize(..self.skus.len())];
        let qty = [1, 1, 1, 2, 3][self.rng.usize(..5)];
        match self.t.cp.shop().ring_sale(&item.sku, Decimal::from(qty)) {
            Ok(_) => {
                self.tally.store_sales += 1;
                self.t.feed.say(format!(
                    "in-store sale at the counter: {qty} × {} ({})",
                    item.name, item.sku
                ));
            }
            Err(e) => self.t.feed.say(format!("in-store sale failed: {e}")),
        }
    }

    fn web_checkout(&mut self) {
        let lines = pick_lines(&mut self.rng, &self.skus, &mut self.stock);
        let refs: Vec<(&str, i64)> = lines.iter().map(|(s, q)| (s.as_str(), *q)).collect();
        let status = [
            "processing",
            "processing",
            "processing",
            "processing",
            "on-hold",
            "pending",
        ][self.rng.usize(..6)];
        let who = customer(&mut self.rng);
        match self.t.woo.create_order_for(&refs, status, &who) {
            Ok(woo_id) => {
                self.tally.web_orders += 1;
                let _ = self.t.expect.send(Expect::WebOrder {
                    woo_id,
                    lines: lines.len(),
                    customer: format!("{} {}", who.first_name, who.last_name),
                });
            }
            Err(e) => self
                .t
                .feed
                .say(format!("checkout failed in the store: {e}")),
        }
    }

    /// Once: a clerk deletes a web order's document at the counter (the check of staged documents notices).
    fn clerk_deletes_a_document_once(&mut self) {
        if !self.deleted_one
            && self.open_docs.len() >= 3
            && self.tick >= 4
            && let Some((&doc, web_id)) = self.open_docs.iter().next_back()
        {
            let web_id = web_id.clone();
            if self.t.cp.shop().cancel_document(doc).is_ok() {
                self.open_docs.remove(&doc);
                self.deleted_one = true;
                self.t.feed.say(format!(
                    "a clerk deleted Counterpoint document {doc} (web order #{web_id}) at the counter"
                ));
                let _ = self.t.expect.send(Expect::DocumentDeleted { web_id });
            }
        }
    }

    /// Once: the operator settles the conflict on the product an admin locked in the store.
    fn operator_settles_once(&mut self, now: Instant) {
        if !self.operator_done
            && now.duration_since(self.started) >= OPERATOR_RESOLVES_AFTER
            && let Ok(r) = self
                .t
                .app
                .resolve_conflict(&self.t.locked_sku, Resolution::Winner(Winner::Pos))
        {
            self.operator_done = true;
            self.t.feed.say(format!(
                "operator settled the conflict on {} (POS wins: {}); the store has this product locked",
                r.sku, r.quantity
            ));
        }
    }

    fn retailer_orders_when_due(&mut self, now: Instant) {
        if now < self.next_marketplace_order {
            return;
        }
        self.next_marketplace_order =
            now + Duration::from_secs(self.rng.u64(MARKETPLACE_ORDER_EVERY_SECS));
        let t = &mut self.t;
        let number = t.next_marketplace_order;
        t.next_marketplace_order += 1;
        let order = place_marketplace_order(
            &t.cartona,
            &mut self.rng,
            &self.skus,
            number,
            chrono::Utc::now(),
        );
        self.tally.marketplace_orders += 1;
        t.feed.say(format!(
            "a retailer ordered on Cartona: {} ({})",
            order.id,
            order.describe()
        ));
        let _ = t.expect.send(Expect::MarketplaceOrder { order });
    }

    /// The warehouse moves a Cartona order on: first one Cartona delivers, then one the shop delivers, so
    /// every run shows both a block and a push early.
    fn warehouse_moves_when_due(&mut self, now: Instant) {
        if now < self.next_warehouse_move {
            return;
        }
        let want = match self.warehouse_moves {
            0 => Some(true),
            1 => Some(false),
            _ => None,
        };
        if move_marketplace_order(&mut self.t, &mut self.rng, want) {
            self.warehouse_moves += 1;
            self.tally.warehouse_moves += 1;
            self.next_warehouse_move = now
                + if self.warehouse_moves < 2 {
                    Duration::from_millis(1_500)
                } else {
                    Duration::from_millis(self.rng.u64(WAREHOUSE_EVERY_MS))
                };
        }
    }

    fn report_new_mail(&mut self) {
        let mails = self.t.smtp.messages();
        report_mail(&self.t.feed, &mails[self.mails_seen.min(mails.len())..]);
        self.mails_seen = mails.len();
    }
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
