//! Deterministic starting data: a catalogue mixing simple and variable products (some without stock
//! management, some without SKUs, some variations without a SKU of their own, which sell under their
//! parent's) and an order history over every common status (on-hold included) and the last 30 days.

use super::model::{Customer, Product};
use super::store::Store;
use chrono::{DateTime, Duration, Utc};

const FIRST_NAMES: &[&str] = &[
    "Ada", "Grace", "Linus", "Mia", "Omar", "Sofia", "Kenji", "Lena",
];
const LAST_NAMES: &[&str] = &[
    "Lovelace", "Hopper", "Okafor", "Rossi", "Tanaka", "Novak", "Silva",
];
const CITIES: &[&str] = &["Austin", "Denver", "Portland", "Boston", "Chicago"];
/// Weighted towards the statuses a live shop mostly has.
const SEED_STATUSES: &[&str] = &[
    "processing",
    "processing",
    "completed",
    "completed",
    "completed",
    "pending",
    "on-hold",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
    "awaiting-pickup",
];
const SIZES: &[&str] = &["S", "M", "L"];

pub(crate) fn seed(
    store: &mut Store,
    products: usize,
    orders: usize,
    seed: u64,
    now: DateTime<Utc>,
) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let catalogue_start = now - Duration::days(60);
    for n in 1..=products {
        let id = store.next_id();
        let price = rng.u32(199..20_000) as f64 / 100.0;
        let created = catalogue_start + Duration::minutes(n as i64);
        // Every 11th product has no SKU: such products exist in real shops and cannot be aligned.
        let sku = if n % 11 == 0 {
            String::new()
        } else {
            format!("SKU-{n:04}")
        };
        let variable = n % 5 == 0;
        let mut product = Product {
            id,
            name: format!("Product {n}"),
            sku: sku.clone(),
            kind: if variable { "variable" } else { "simple" }.into(),
            status: "publish".into(),
            regular_price: format!("{price:.2}"),
            sale_price: if n % 4 == 0 {
                format!("{:.2}", price * 0.9)
            } else {
                String::new()
            },
            // Every 7th simple product does not track stock.
            manage_stock: !variable && n % 7 != 0,
            stock_quantity: None,
            stock_status: "instock".into(),
            variations: Vec::new(),
            parent_id: 0,
            created,
            modified: created,
        };
        if product.manage_stock {
            product.stock_quantity = Some(rng.i64(0..200));
        }
        if variable {
            for size in SIZES {
                let variation_id = store.next_id();
                product.variations.push(variation_id);
                store.products.insert(
                    variation_id,
                    Product {
                        id: variation_id,
                        name: format!("Product {n} - {size}"),
                        // Every 10th product's M variation has no SKU of its own: it shows its parent's.
                        sku: if sku.is_empty() || (n % 10 == 0 && *size == "M") {
                            String::new()
                        } else {
                            format!("{sku}-{size}")
                        },
                        kind: "variation".into(),
                        status: "publish".into(),
                        regular_price: format!("{price:.2}"),
                        sale_price: String::new(),
                        manage_stock: true,
                        stock_quantity: Some(rng.i64(0..100)),
                        stock_status: "instock".into(),
                        variations: Vec::new(),
                        parent_id: id,
                        created,
                        modified: created,
                    },
                );
            }
        }
        store.products.insert(id, product);
    }
    store.forget_sku_index();

    let sellable: Vec<u64> = store
        .products
        .values()
        .filter(|p| p.kind != "variable" && !store.shown_sku(p).is_empty())
        .map(|p| p.id)
        .collect();
    if sellable.is_empty() {
        return;
    }
    let history_start = now - Duration::days(30);
    for n in 0..orders {
        let lines: Vec<(u64, i64)> = (0..rng.usize(1..=3))
            .map(|_| (sellable[rng.usize(..sellable.len())], rng.i64(1..4)))
            .collect();
        let created = history_start + Duration::seconds(rng.i64(0..30 * 24 * 3600));
        let customer = Customer {
            first_name: FIRST_NAMES[n % FIRST_NAMES.len()].into(),
            last_name: LAST_NAMES[n % LAST_NAMES.len()].into(),
            email: format!("customer{n}@example.com"),
            city: CITIES[n % CITIES.len()].into(),
        };
        let status = SEED_STATUSES[rng.usize(..SEED_STATUSES.len())];
        // Seeded history must not drain the catalogue: the stock above is "after" these orders.
        let stock_before: Vec<(u64, Option<i64>)> = store
            .products
            .values()
            .map(|p| (p.id, p.stock_quantity))
            .collect();
        if let Ok(id) = store.create_order_from_ids(&lines, status, customer, created) {
            let modified = created + Duration::seconds(rng.i64(0..3 * 24 * 3600));
            if let Some(order) = store.orders.get_mut(&id) {
                order.modified = modified.min(now);
            }
        }
        for (id, quantity) in stock_before {
            if let Some(product) = store.products.get_mut(&id) {
                product.stock_quantity = quantity;
            }
        }
    }
    // Seeding is history, not news: nothing for webhooks.
    store.take_events();
}
