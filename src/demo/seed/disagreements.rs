//! The stock disagreements the engine's first passes will find, on the SKUs kept out of seeded orders.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use syncdesk_sim::counterpoint::{CounterpointSim, ShopItem};
use syncdesk_sim::woo::WooSim;

use crate::demo::{DemoError, failed};

/// Makes the twelve `prepared` SKUs disagree: recounts in the store, oversold and ordinary sales at the
/// counter, and one product an admin locked. Returns the locked product's SKU.
pub(super) fn prepare(
    woo: &WooSim,
    cp: &CounterpointSim,
    prepared: &[ShopItem],
    product_ids: &BTreeMap<String, u64>,
    rng: &mut fastrand::Rng,
) -> Result<String, DemoError> {
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
    Ok(locked.item_no.clone())
}
