//! The random picks seeding and the live traffic share: a customer, a weighted choice, an order's lines.

use std::collections::BTreeMap;

use syncdesk_sim::woo::SimCustomer;

use super::Item;

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

pub(super) fn weighted<'a>(rng: &mut fastrand::Rng, table: &[(&'a str, u32)]) -> &'a str {
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
