//! Seeds the demo shop in a few seconds: the store's catalogue mirrors Counterpoint's items (names, prices,
//! stock), the SKU alignment is imported, a first real stock pass agrees the merge bases, web orders placed in
//! the store are imported by a real reconciliation poll, and months of phone orders are written through the
//! app's own status and shipment rules in one transaction. Last, the two sides are made to disagree in a few
//! believable ways so the engine's first passes have conflicts and failures to find.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use syncdesk_sim::cartona::{CartonaSim, NewOrder as NewMarketplaceOrder};
use syncdesk_sim::counterpoint::CounterpointSim;
use syncdesk_sim::woo::{NewSimProduct, SimCustomer, WooSim};

use super::{DemoError, failed};
use crate::app::channel_orders::ChannelOrder;
use crate::app::orders::{claim_version, enter_status, ship_in};
use crate::app::{Actor, App, AppError, ShipmentDetails};
use crate::config::Config;
use crate::domain::Workflow;
use crate::domain::time::{Millis, now_ms};
use crate::engine::JobContext;
use crate::engine::stock_flows::{PassMode, stock_pass};
use crate::integrations::counterpoint::flows as counterpoint_flows;
use crate::integrations::counterpoint::stock_source::CounterpointStock;
use crate::integrations::woocommerce::orders as woo_orders;
use crate::store::orders::{self as order_rows, NewOrder};
use crate::store::{Store, StoreError};

/// A product sold in both systems under the same SKU.
#[derive(Debug, Clone)]
pub struct Item {
    pub sku: String,
    pub name: String,
}

/// What seeding produced, for the traffic generator and the opening summary.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub catalogue: Arc<Vec<Item>>,
    /// The store product an admin locked, which refuses stock writes.
    pub locked_sku: String,
    pos_items: usize,
    store_products: usize,
    web_orders: usize,
    phone_orders: usize,
    by_status: Vec<(String, i64)>,
    seconds: f64,
    /// Marketplace orders waiting in Cartona for the first pull.
    pub marketplace: Vec<MarketplaceOrder>,
}

impl std::fmt::Display for Seeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let statuses: Vec<String> = self
            .by_status
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        write!(
            f,
            "seeded in {:.1} s: {} aligned SKUs ({} Counterpoint items, {} store products), {} orders \
             ({} web, {} phone): {}",
            self.seconds,
            self.catalogue.len(),
            self.pos_items,
            self.store_products,
            self.web_orders + self.phone_orders,
            self.web_orders,
            self.phone_orders,
            statuses.join(", ")
        )?;
        if !self.marketplace.is_empty() {
            let by_cartona = self
                .marketplace
                .iter()
                .filter(|o| o.delivered_by_cartona)
                .count();
            write!(
                f,
                "; {} marketplace orders waiting in Cartona ({by_cartona} delivered by Cartona itself)",
                self.marketplace.len()
            )?;
        }
        Ok(())
    }
}

const FIRST_NAMES: &[&str] = &[
    "Ana", "Marko", "Lucia", "Tomas", "Eva", "Ivan", "Sara", "Luka", "Nina", "Petra", "Jonas",
    "Maja", "David", "Elena", "Filip", "Hana", "Oskar", "Iris", "Leon", "Zoe",
];
const LAST_NAMES: &[&str] = &[
    "Novak", "Horvat", "Kovac", "Babic", "Marin", "Vidal", "Berg", "Lund", "Costa", "Weber",
    "Jensen", "Moreau", "Rossi", "Kowalski", "Silva", "Keller",
];
const CITIES: &[&str] = &[
    "Springfield",
    "Riverton",
    "Lakeside",
    "Fairview",
    "Georgetown",
    "Salem",
];
const STAFF: &[&str] = &["mia", "jonas", "ana", "tomas"];
const CARRIERS: &[&str] = &["DPD", "UPS", "GLS", "Post"];
/// Web orders already in the store when the demo starts, weighted like a live shop's.
const WEB_STATUSES: &[(&str, u32)] = &[
    ("processing", 30),
    ("completed", 35),
    ("on-hold", 8),
    ("pending", 8),
    ("cancelled", 10),
    ("refunded", 5),
    ("failed", 4),
];
const WEB_ORDERS: usize = 130;
const PHONE_ORDERS: usize = 330;
/// Store-only products (no SKU in the POS): never aligned.
const STORE_ONLY: &[(&str, &str, &str)] = &[
    ("GIFT-25", "Gift Card 25", "25.00"),
    ("GIFT-50", "Gift Card 50", "50.00"),
    ("GIFT-100", "Gift Card 100", "100.00"),
    ("WRAP", "Gift Wrapping", "3.50"),
    ("SAMPLE-BOX", "Sample Box", "9.90"),
];

pub fn customer(rng: &mut fastrand::Rng) -> SimCustomer {
    let first = FIRST_NAMES[rng.usize(..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.usize(..LAST_NAMES.len())];
    SimCustomer {
        first_name: first.into(),
        last_name: last.into(),
        email: format!(
            "{}.{}{}@example.com",
            first.to_lowercase(),
            last.to_lowercase(),
            rng.u8(1..99)
        ),
        city: CITIES[rng.usize(..CITIES.len())].into(),
    }
}

fn weighted<'a>(rng: &mut fastrand::Rng, table: &[(&'a str, u32)]) -> &'a str {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut pick = rng.u32(..total);
    for (name, w) in table {
        if pick < *w {
            return name;
        }
        pick -= w;
    }
    table[0].0
}

pub async fn seed(
    db: &Path,
    config: &Config,
    woo: &WooSim,
    cp: &CounterpointSim,
    aligned: usize,
) -> Result<Seeded, DemoError> {
    let started = std::time::Instant::now();
    let mut rng = fastrand::Rng::with_seed(2554);
    let items = cp
        .shop()
        .items()
        .map_err(|e| failed("Counterpoint catalogue")(&e))?;
    let aligned = aligned.min(items.len());
    // The last SKUs are kept out of seeded orders: they carry the prepared disagreements.
    let prepared = &items[aligned - 12..aligned];
    let drifted: Vec<&str> = prepared[9..12].iter().map(|i| i.item_no.as_str()).collect();

    // The store's catalogue mirrors the POS: same SKU, name, price and stock (a few prices drifted).
    let mut products: Vec<NewSimProduct> = items[..aligned]
        .iter()
        .map(|i| {
            let price = if drifted.contains(&i.item_no.as_str()) {
                i.price * Decimal::new(135, 2)
            } else {
                i.price
            };
            NewSimProduct {
                sku: i.item_no.clone(),
                name: i.descr.clone(),
                regular_price: format!("{:.2}", price.round_dp(2)),
                stock_quantity: Some(i.available.floor().to_i64().unwrap_or(0).max(0)),
            }
        })
        .collect();
    products.extend(STORE_ONLY.iter().map(|(sku, name, price)| NewSimProduct {
        sku: sku.to_string(),
        name: name.to_string(),
        regular_price: price.to_string(),
        stock_quantity: None,
    }));
    let product_ids: BTreeMap<String, u64> = products
        .iter()
        .map(|p| p.sku.clone())
        .zip(woo.add_products(&products))
        .collect();
    let catalogue: Vec<Item> = items[..aligned]
        .iter()
        .map(|i| Item {
            sku: i.item_no.clone(),
            name: i.descr.clone(),
        })
        .collect();

    let mut app = App::open(db, config.clone(), Actor::operator("demo"))
        .map_err(|e| failed("database")(&e))?;
    let csv: String =
        std::iter::once("POS SKU,WooCommerce SKU,Match Type,Confidence\n".to_string())
            .chain(
                catalogue
                    .iter()
                    .map(|i| format!("{0},{0},exact,1\n", i.sku)),
            )
            .collect();
    let import = app
        .import_alignment(&csv)
        .map_err(|e| failed("alignment")(&e))?;
    if let Some(e) = import.errors.first() {
        return Err(DemoError::Failed(format!("alignment: {e:?}")));
    }

    // A first full pass through the real connectors agrees every merge base.
    let ctx = JobContext {
        store: Arc::new(Mutex::new(
            Store::open(db, Duration::from_secs(5)).map_err(|e| failed("database")(&e))?,
        )),
        config: Arc::new(config.clone()),
    };
    let woo_client =
        woo_orders::client(&config.woocommerce).map_err(|e| failed("WooCommerce client")(&e))?;
    let pos = CounterpointStock(
        counterpoint_flows::client(&config.counterpoint)
            .map_err(|e| failed("Counterpoint client")(&e))?,
    );
    let first = stock_pass(&pos, &woo_client, &ctx, PassMode::Full, false)
        .await
        .map_err(|e| DemoError::Failed(format!("first stock pass: {}", e.message)))?;
    if let Some(f) = first.failed.first() {
        return Err(DemoError::Failed(format!(
            "first stock pass: {}: {}",
            f.sku, f.message
        )));
    }

    // Web orders placed in the store over the last weeks, imported by a real reconciliation poll.
    let sellable = &catalogue[..aligned - 12];
    let mut stock: BTreeMap<String, i64> = products
        .iter()
        .filter_map(|p| Some((p.sku.clone(), p.stock_quantity?)))
        .collect();
    for _ in 0..WEB_ORDERS {
        let lines = pick_lines(&mut rng, sellable, &mut stock);
        let refs: Vec<(&str, i64)> = lines.iter().map(|(s, q)| (s.as_str(), *q)).collect();
        let status = weighted(&mut rng, WEB_STATUSES);
        woo.create_order_for(&refs, status, &customer(&mut rng))
            .map_err(|e| failed("WooCommerce order")(&e))?;
    }
    woo_orders::reconcile(&woo_client, &ctx, false)
        .await
        .map_err(|e| DemoError::Failed(format!("first order poll: {}", e.message)))?;

    // An order deleted in the store after it was imported: the customer's phone cancellation cannot be pushed.
    let deleted = ChannelOrder {
        system: woo_orders::SYSTEM.into(),
        external_id: "1907".into(),
        number: "1907".into(),
        customer: Some("Petra Lund".into()),
        remote_status: "pending".into(),
        remote_version: Some("2026-01-05T09:12:44Z".into()),
        ship_to: None,
        read_at: 0,
        history: false,
        lines: vec![(sellable[7].sku.clone(), Some(sellable[7].name.clone()), 2)],
    };
    {
        let store = ctx.store.clone();
        let mut store = store
            .lock()
            .map_err(|_| DemoError::Failed("store lock".into()))?;
        woo_orders::import_all(&mut store, config, &[deleted], false)
            .map_err(|e| DemoError::Failed(format!("import: {}", e.message)))?;
    }
    app.cancel("1907", "customer called: no longer needed", None)
        .map_err(|e| failed("cancel")(&e))?;

    // A web order the shop cancelled in the store just as the warehouse shipped it: syncdesk's
    // "completed" must not overwrite the cancellation, so the order waits for an operator (`:settle`).
    let processing = woo
        .order_ids()
        .into_iter()
        .find(|id| woo.order_status(*id).as_deref() == Some("processing"));
    if let Some(woo_id) = processing {
        let local = {
            let store = ctx.store.clone();
            let store = store
                .lock()
                .map_err(|_| DemoError::Failed("store lock".into()))?;
            crate::store::links::by_external(
                store.conn(),
                "order",
                woo_orders::SYSTEM,
                &woo_id.to_string(),
            )
            .map_err(|e| failed("link")(&e))?
        };
        if let Some(link) = local {
            woo.set_order_status(woo_id, "cancelled")
                .map_err(|e| failed("store cancellation")(&e))?;
            let details = ShipmentDetails {
                carrier: Some("UPS".into()),
                tracking: Some("1Z999AA10123456784".into()),
                notes: None,
            };
            app.fulfill(&format!("#{}", link.local_id), &details, None)
                .map_err(|e| failed("fulfil")(&e))?;
        }
    }

    let phone = seed_phone_orders(&mut app, sellable, &mut rng)?;

    // The disagreements the engine's first passes will find.
    for item in &prepared[0..4] {
        // A recount typed into the store's admin.
        let id = product_ids[&item.item_no];
        let now = woo.product_stock(id).unwrap_or(0);
        woo.set_stock(id, now + rng.i64(25..60))
            .map_err(|e| failed("store stock")(&e))?;
    }
    for item in &prepared[4..6] {
        // A bulk sale at the counter beyond what both sides hold together: oversold.
        let have = item.available.floor().to_i64().unwrap_or(0).max(0);
        cp.shop()
            .ring_sale(&item.item_no, Decimal::from(have + rng.i64(3..9)))
            .map_err(|e| failed("in-store sale")(&e))?;
    }
    let locked = &prepared[6];
    let locked_id = product_ids[&locked.item_no];
    let now = woo.product_stock(locked_id).unwrap_or(0);
    woo.set_stock(locked_id, now + 40)
        .map_err(|e| failed("store stock")(&e))?;
    woo.lock_product(locked_id, true);
    for item in &prepared[7..9] {
        // Ordinary in-store sales, for the first incremental pass to carry over.
        cp.shop()
            .ring_sale(&item.item_no, Decimal::from(2))
            .map_err(|e| failed("in-store sale")(&e))?;
    }

    let by_status = orders_by_status(&mut app)?;
    Ok(Seeded {
        catalogue: Arc::new(catalogue),
        locked_sku: locked.item_no.clone(),
        pos_items: items.len(),
        store_products: products.len(),
        web_orders: WEB_ORDERS + 1,
        phone_orders: phone,
        by_status,
        seconds: started.elapsed().as_secs_f64(),
        marketplace: Vec::new(),
    })
}

/// Every order (active and archived) counted by status, in the workflow's order; empty statuses left out.
pub fn orders_by_status(app: &mut App) -> Result<Vec<(String, i64)>, AppError> {
    let mut counts: BTreeMap<i64, i64> = app
        .status_summaries()?
        .into_iter()
        .map(|s| (s.id, s.active_orders))
        .collect();
    for o in app.list_orders(None, true, None, i64::MAX, 0)? {
        *counts.entry(o.status_id).or_default() += 1;
    }
    Ok(app
        .workflow()
        .statuses()
        .iter()
        .map(|s| (s.name.clone(), counts.get(&s.id).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect())
}

/// 1–4 lines of products with stock to spare (so seeded history never oversells by accident).
pub fn pick_lines(
    rng: &mut fastrand::Rng,
    sellable: &[Item],
    stock: &mut BTreeMap<String, i64>,
) -> Vec<(String, i64)> {
    let mut lines: Vec<(String, i64)> = Vec::new();
    let want = [1, 1, 1, 2, 2, 3, 4][rng.usize(..7)];
    for _ in 0..want * 4 {
        if lines.len() == want {
            break;
        }
        let item = &sellable[rng.usize(..sellable.len())];
        let qty = [1, 1, 1, 2, 3][rng.usize(..5)];
        let left = stock.get(&item.sku).copied().unwrap_or(0);
        if left < qty + 5 || lines.iter().any(|(s, _)| *s == item.sku) {
            continue;
        }
        stock.insert(item.sku.clone(), left - qty);
        lines.push((item.sku.clone(), qty));
    }
    if lines.is_empty() {
        lines.push((sellable[0].sku.clone(), 1));
    }
    lines
}

/// Where a seeded phone order ends up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Pending,
    Processing,
    Ready,
    PartlyShipped,
    Shipped,
    Backorder,
    Completed,
    CompletedInTwo,
    Cancelled,
}

const FATES: &[(Fate, u32)] = &[
    (Fate::Pending, 10),
    (Fate::Processing, 12),
    (Fate::Ready, 9),
    (Fate::PartlyShipped, 4),
    (Fate::Shipped, 4),
    (Fate::Backorder, 5),
    (Fate::Completed, 38),
    (Fate::CompletedInTwo, 8),
    (Fate::Cancelled, 10),
];

/// Months of phone orders, each taken through the app's own moves and shipments with its own timestamps,
/// all in one transaction.
fn seed_phone_orders(
    app: &mut App,
    sellable: &[Item],
    rng: &mut fastrand::Rng,
) -> Result<usize, DemoError> {
    let config = app.config().clone();
    let workflow = app.workflow().clone();
    let now = now_ms();
    let hour: Millis = 3_600_000;
    let mut plans = Vec::new();
    let mut stock: BTreeMap<String, i64> =
        sellable.iter().map(|i| (i.sku.clone(), 1_000)).collect();
    for n in 0..PHONE_ORDERS {
        let total: u32 = FATES.iter().map(|(_, w)| w).sum();
        let mut pick = rng.u32(..total);
        let fate = FATES
            .iter()
            .find(|(_, w)| {
                let hit = pick < *w;
                pick = pick.saturating_sub(*w);
                hit
            })
            .map_or(Fate::Completed, |(f, _)| *f);
        // Finished orders are older; open ones are from the last few days.
        let age_hours = match fate {
            Fate::Completed | Fate::CompletedInTwo | Fate::Cancelled => rng.i64(30..90 * 24),
            _ => rng.i64(2..96),
        };
        let c = customer(rng);
        plans.push((
            format!("R-{}", 1001 + n),
            format!("{} {}", c.first_name, c.last_name),
            fate,
            now - age_hours * hour - rng.i64(0..hour),
            pick_lines(rng, sellable, &mut stock),
        ));
    }
    let names: BTreeMap<&str, &str> = sellable
        .iter()
        .map(|i| (i.sku.as_str(), i.name.as_str()))
        .collect();
    let count = plans.len();
    app.store()
        .write(|tx| -> Result<(), AppError> {
            for (number, customer, fate, created, lines) in &plans {
                let staff = STAFF[rng.usize(..STAFF.len())];
                let actor = Actor::operator(staff);
                let pending = workflow
                    .by_name("Pending")
                    .map_err(|e| AppError::Rejected(e.to_string()))?;
                let id = order_rows::insert(
                    tx,
                    &NewOrder {
                        number: number.clone(),
                        channel: "phone".into(),
                        customer: Some(customer.clone()),
                        ship_to: None,
                        history: false,
                        status_id: pending.id,
                        lines: lines
                            .iter()
                            .map(|(s, q)| {
                                (s.clone(), names.get(s.as_str()).map(|n| n.to_string()), *q)
                            })
                            .collect(),
                    },
                    staff,
                    *created,
                )?;
                order_rows::insert_history(
                    tx,
                    id,
                    None,
                    pending.id,
                    staff,
                    "operator",
                    Some("taken by phone"),
                    *created,
                )?;
                let mut at = *created;
                let mut next = |rng: &mut fastrand::Rng| {
                    at = (at + rng.i64(hour / 4..hour * 20)).min(now - 60_000);
                    at
                };
                let go = |to: &str, note: Option<&str>, at: Millis| {
                    move_to(tx, &workflow, &config, &actor, id, to, note, at)
                };
                let details = |rng: &mut fastrand::Rng| ShipmentDetails {
                    carrier: Some(CARRIERS[rng.usize(..CARRIERS.len())].to_string()),
                    tracking: Some(format!("1Z{:010}", rng.u64(..10_000_000_000))),
                    notes: None,
                };
                let steps: &[&str] = match fate {
                    Fate::Pending => &[],
                    Fate::Processing => &["Processing"],
                    Fate::Backorder => &["Processing", "Backorder"],
                    Fate::Cancelled if rng.bool() => &["Cancelled"],
                    Fate::Cancelled => &["Processing", "Cancelled"],
                    Fate::Shipped => &["Processing", "Ready to Ship", "Shipped"],
                    _ => &["Processing", "Ready to Ship"],
                };
                for to in steps {
                    let note = match *to {
                        "Backorder" => Some("supplier delay"),
                        "Cancelled" => Some("customer changed their mind"),
                        _ => None,
                    };
                    let t = next(rng);
                    go(to, note, t)?;
                }
                let ship =
                    |lines: Option<&[(String, i64)]>, at: Millis, rng: &mut fastrand::Rng| {
                        let order = order_rows::get(tx, id)?
                            .ok_or_else(|| AppError::OrderNotFound(number.clone()))?;
                        ship_in(
                            tx,
                            &workflow,
                            &config,
                            &actor,
                            &order,
                            lines,
                            &details(rng),
                            at,
                        )
                        .map(|_| ())
                    };
                match fate {
                    Fate::Completed => ship(None, next(rng), rng)?,
                    Fate::PartlyShipped | Fate::CompletedInTwo => {
                        let (sku, qty) = &lines[0];
                        let part = [(sku.clone(), (*qty - 1).max(1))];
                        let whole = lines.len() == 1 && *qty == 1;
                        if !whole {
                            ship(Some(&part), next(rng), rng)?;
                        }
                        if *fate == Fate::CompletedInTwo || whole {
                            ship(None, next(rng), rng)?;
                        }
                    }
                    _ => {}
                }
            }
            Ok(())
        })
        .map_err(|e| failed("phone orders")(&e))?;
    Ok(count)
}

/// One operator move at a given time, through the app's rules (checked move, version, history, effects).
#[allow(clippy::too_many_arguments)]
fn move_to(
    tx: &rusqlite::Connection,
    workflow: &Workflow,
    config: &Config,
    actor: &Actor,
    id: i64,
    to: &str,
    note: Option<&str>,
    at: Millis,
) -> Result<(), AppError> {
    let order =
        order_rows::get(tx, id)?.ok_or_else(|| AppError::OrderNotFound(format!("#{id}")))?;
    let to = workflow.by_name(to)?;
    workflow.check_operator_move(order.status_id, to.id)?;
    claim_version(tx, &order, actor, at)?;
    enter_status(tx, workflow, config, actor, &order, to, note, at)?;
    Ok(())
}

impl From<StoreError> for DemoError {
    fn from(e: StoreError) -> Self {
        DemoError::Failed(e.to_string())
    }
}

/// A marketplace order placed in the Cartona simulator, as the tracker narrates it.
#[derive(Debug, Clone)]
pub struct MarketplaceOrder {
    /// Cartona's hashed id, which is also the order's number in syncdesk.
    pub id: String,
    pub delivered_by_cartona: bool,
    pub requires_otp: bool,
    pub lines: usize,
}

impl MarketplaceOrder {
    /// "supplier-delivered, 2 lines, OTP on delivery".
    pub fn describe(&self) -> String {
        format!(
            "{}, {} line{}{}",
            if self.delivered_by_cartona {
                "delivered by Cartona"
            } else {
                "supplier-delivered"
            },
            self.lines,
            if self.lines == 1 { "" } else { "s" },
            if self.requires_otp {
                ", OTP on delivery"
            } else {
                ""
            }
        )
    }
}

const RETAILERS: &[&str] = &[
    "Corner Market",
    "El Salam Grocery",
    "Nile Mini Mart",
    "Family Kiosk",
    "Green Valley Store",
    "Sunrise Supermarket",
    "Delta Wholesale",
    "City Pharmacy",
];
/// Marketplace orders waiting in Cartona when the demo starts.
pub const MARKETPLACE_ORDERS: usize = 36;

/// A retailer places an order on Cartona for SKUs of the catalogue: a third are delivered by Cartona
/// itself, a quarter need the retailer's OTP on delivery. `number` makes the readable hashed id `C-…`.
pub fn place_marketplace_order(
    cartona: &CartonaSim,
    rng: &mut fastrand::Rng,
    catalogue: &[Item],
    number: u32,
    created_at: chrono::DateTime<chrono::Utc>,
) -> MarketplaceOrder {
    let delivered_by_cartona = rng.u8(..3) == 0;
    let requires_otp = rng.u8(..4) == 0;
    let count = [1, 1, 2, 2, 3, 4][rng.usize(..6)];
    let mut lines: Vec<(String, i64, f64)> = Vec::new();
    while lines.len() < count {
        let item = &catalogue[rng.usize(..catalogue.len())];
        if lines.iter().any(|(sku, _, _)| *sku == item.sku) {
            continue;
        }
        // Retailers buy by the case: bigger quantities than a web shopper.
        let qty = [2, 4, 6, 6, 12, 24][rng.usize(..6)];
        lines.push((
            item.sku.clone(),
            qty,
            f64::from(rng.u32(150..4_000)) / 100.0,
        ));
    }
    let id = format!("C-{number}");
    cartona.create_order(NewMarketplaceOrder {
        hashed_id: Some(id.clone()),
        status: "pending".into(),
        delivered_by: if delivered_by_cartona {
            "cartona"
        } else {
            "supplier"
        }
        .into(),
        requires_otp,
        created_at,
        retailer: RETAILERS[rng.usize(..RETAILERS.len())].into(),
        lines,
    });
    MarketplaceOrder {
        id,
        delivered_by_cartona,
        requires_otp,
        lines: count,
    }
}

/// The marketplace orders placed over the last two days, for the first pull to import (its window reaches
/// back `cartona.overlap_secs`, a week by default). Numbered from `first`.
pub fn seed_marketplace(
    cartona: &CartonaSim,
    catalogue: &[Item],
    first: u32,
) -> Vec<MarketplaceOrder> {
    let mut rng = fastrand::Rng::with_seed(3127);
    let now = chrono::Utc::now();
    (0..MARKETPLACE_ORDERS)
        .map(|i| {
            let age = chrono::Duration::minutes(80 * (MARKETPLACE_ORDERS - i) as i64);
            place_marketplace_order(cartona, &mut rng, catalogue, first + i as u32, now - age)
        })
        .collect()
}
