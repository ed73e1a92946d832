//! Bulk loading of synthetic orders, for the console benchmark and for trying the console on a big shop:
//! a million orders in one transaction through prepared statements (the ordinary commands would take
//! an hour). The spread is realistic: most orders are final and archived, the active ones sit in every open
//! status, each has 1–4 lines over a few thousand SKUs, a customer and its creation in the history.
//! The same for stock: aligned SKUs as passes leave them and a sync log of their changes, so the Inventory
//! panel and a SKU's trace can be measured on a shop's worth of history.

use rusqlite::{Connection, params};

use super::Result;
use crate::domain::time::Millis;

/// What to generate.
#[derive(Debug, Clone)]
pub struct BulkOrders {
    pub count: usize,
    /// Order numbers are `{prefix}{n:07}`, n from 1.
    pub prefix: String,
    /// The newest order is created at `now`, the others one every `spacing_ms` before it.
    pub now: Millis,
    pub spacing_ms: i64,
    pub skus: usize,
    pub seed: u64,
    /// The channels orders come from, one picked at random per order (list one twice to weigh it).
    pub channels: Vec<String>,
}

impl Default for BulkOrders {
    fn default() -> Self {
        BulkOrders {
            count: 1000,
            prefix: "B-".into(),
            now: 1_795_262_400_000,
            spacing_ms: 30_000,
            skus: 5000,
            seed: 42,
            channels: ["shop", "shop", "shop", "marketplace", "manual"]
                .map(String::from)
                .to_vec(),
        }
    }
}

const FIRST: &[&str] = &[
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Dennis", "Frances",
    "John", "Radia", "Leslie", "Tim", "Sophie", "Linus", "Guido", "Bjarne", "Niklaus", "Hedy",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Ritchie",
    "Allen",
    "McCarthy",
    "Perlman",
    "Lamport",
    "Berners-Lee",
    "Wilson",
    "Torvalds",
    "Rossum",
    "Stroustrup",
    "Wirth",
    "Lamarr",
    "Okafor",
    "Nakamura",
    "Kowalski",
    "Novak",
];

/// Inserts `spec.count` orders (lines, one history row each) in the caller's transaction; returns how many
/// (none when the workflow's statuses are not seeded yet).
/// Statuses are picked by kind from the workflow table, so a customised workflow still gets a spread.
pub fn insert_orders(conn: &Connection, spec: &BulkOrders) -> Result<usize> {
    let statuses: Vec<(i64, String)> = conn
        .prepare("SELECT id, kind FROM statuses ORDER BY position")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if statuses.is_empty() {
        // No workflow seeded yet (`App::open` seeds it): nothing to put the orders in.
        return Ok(0);
    }
    let of_kind = |kind: &'static str| {
        statuses
            .iter()
            .filter(move |(_, k)| k == kind)
            .map(|(id, _)| *id)
    };
    let open: Vec<i64> = of_kind("open").collect();
    // (status id, archived, weight in 1000): 60% completed, 10% cancelled, the rest spread over the others.
    let mut spread: Vec<(i64, bool, u32)> = Vec::new();
    spread.extend(of_kind("completed").take(1).map(|id| (id, true, 600)));
    spread.extend(of_kind("cancelled").take(1).map(|id| (id, true, 100)));
    spread.extend(of_kind("shipped").take(1).map(|id| (id, false, 40)));
    spread.extend(of_kind("backorder").take(1).map(|id| (id, false, 30)));
    let left = 1000 - spread.iter().map(|s| s.2).sum::<u32>();
    let per_open = left / open.len().max(1) as u32;
    spread.extend(open.iter().map(|id| (*id, false, per_open)));
    let total: u32 = spread.iter().map(|s| s.2).sum();
    let first_open = open.first().copied().unwrap_or(spread[0].0);

    let mut rng = fastrand::Rng::with_seed(spec.seed);
    let mut order = conn.prepare(
        "INSERT INTO orders (number, channel, customer, status_id, archived, version, created_at, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6, 'bulk')",
    )?;
    let mut line = conn.prepare(
        "INSERT INTO order_lines (order_id, line_no, sku, name, quantity, quantity_shipped) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut history = conn.prepare(
        "INSERT INTO status_history (order_id, from_status_id, to_status_id, changed_by, changed_at, source)
         VALUES (?1, ?2, ?3, 'bulk', ?4, 'import')",
    )?;
    let channels = &spec.channels;
    for n in 1..=spec.count {
        let mut pick = rng.u32(0..total);
        let (status_id, archived) = spread
            .iter()
            .find(|(_, _, w)| {
                let hit = pick < *w;
                pick = pick.saturating_sub(*w);
                hit
            })
            .map_or((first_open, false), |(id, a, _)| (*id, *a));
        let created = spec.now - (spec.count - n) as i64 * spec.spacing_ms;
        let customer = (rng.u8(0..10) != 0).then(|| {
            format!(
                "{} {}",
                FIRST[rng.usize(0..FIRST.len())],
                LAST[rng.usize(0..LAST.len())]
            )
        });
        let number = format!("{}{n:07}", spec.prefix);
        order.execute(params![
            &number,
            channels[rng.usize(0..channels.len())],
            customer,
            status_id,
            archived,
            created
        ])?;
        let id = conn.last_insert_rowid();
        let mut skus = Vec::with_capacity(4);
        let shipped = statuses
            .iter()
            .any(|(s, k)| *s == status_id && (k == "shipped" || k == "completed"));
        for line_no in 1..=rng.i64(1..=4) {
            let qty = rng.i64(1..=3);
            let sku = rng.usize(0..spec.skus.max(1));
            skus.push(format!("SKU-{sku:05}"));
            line.execute(params![
                id,
                line_no,
                &skus[skus.len() - 1],
                format!("Product {sku}"),
                qty,
                if shipped { qty } else { 0 }
            ])?;
        }
        let sku_refs: Vec<&str> = skus.iter().map(String::as_str).collect();
        super::orders::index_for_search(conn, id, &number, customer.as_deref(), &sku_refs)?;
        let from = (status_id != first_open).then_some(first_open);
        history.execute(params![id, from, status_id, created])?;
    }
    Ok(spec.count)
}

/// What stock to generate: `skus` aligned pairs (`SKU-{n:06}` in the store, `P-{n:06}` at the POS) and
/// `log_rows` sync log rows over them — every SKU a few, the first one (the busiest) a tenth of them all.
#[derive(Debug, Clone)]
pub struct BulkInventory {
    pub skus: usize,
    pub log_rows: usize,
    /// The store side's field in the log (`trace::store_field` of the store's system).
    pub store_field: String,
    /// The newest change is at `now`, the others one every `spacing_ms` before it.
    pub now: Millis,
    pub spacing_ms: i64,
    pub seed: u64,
}

/// Inserts the pairs and their sync log in the caller's transaction; returns (pairs, log rows).
pub fn insert_inventory(conn: &Connection, spec: &BulkInventory) -> Result<(usize, usize)> {
    let mut rng = fastrand::Rng::with_seed(spec.seed);
    let mut pair = conn.prepare(
        "INSERT INTO sku_alignment (pos_sku, store_sku, match_type, confidence, product_name, agreed,
             pos_seen, store_seen, sync_state, last_pass_at, updated_at)
         VALUES (?1, ?2, 'exact', 1.0, ?3, ?4, ?5, ?6, 'synced', ?7, ?7)",
    )?;
    for n in 0..spec.skus {
        let base = rng.i64(0..200);
        pair.execute(params![
            format!("P-{n:06}"),
            format!("SKU-{n:06}"),
            format!(
                "{} {} no. {n}",
                FIRST[rng.usize(0..FIRST.len())],
                LAST[rng.usize(0..LAST.len())]
            ),
            base,
            base + rng.i64(-3..=3),
            base + rng.i64(-3..=3),
            spec.now
        ])?;
    }
    let mut log = conn.prepare(
        "INSERT INTO sync_log (at, source, entity, entity_key, field, old_value, new_value, reason, job_id,
             actor)
         VALUES (?1, ?2, 'stock', ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for i in 0..spec.log_rows {
        // Every tenth row is the busiest SKU's, the others spread over the rest.
        let n = if i % 10 == 0 || spec.skus <= 1 {
            0
        } else {
            rng.usize(1..spec.skus)
        };
        let old = rng.i64(0..200);
        let (source, field, new, why, job, actor) = match rng.u8(0..4) {
            0 => ("pos", "pos.stock_quantity", old - 1, "POS sale", None, None),
            1 => (
                "web_order",
                spec.store_field.as_str(),
                old - 1,
                "web order",
                None,
                Some("R-1"),
            ),
            2 => (
                "stock_pass",
                spec.store_field.as_str(),
                old + 2,
                "merged both sides",
                Some(i as i64),
                None,
            ),
            _ => (
                "operator",
                "conflict.resolution",
                old,
                "counted on the shelf",
                None,
                Some("ops"),
            ),
        };
        log.execute(params![
            spec.now - (spec.log_rows - i) as i64 * spec.spacing_ms,
            source,
            format!("SKU-{n:06}"),
            field,
            old.to_string(),
            new.to_string(),
            why,
            job,
            actor
        ])?;
    }
    Ok((spec.skus, spec.log_rows))
}
