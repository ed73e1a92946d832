//! The store's side of the seeded shop: its catalogue mirrors the POS (same SKU, name, price and stock; a
//! few prices drifted, plus store-only products), and the SKU alignment between them is imported.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use syncdesk_sim::counterpoint::ShopItem;
use syncdesk_sim::woo::{NewSimProduct, WooSim};

use super::Item;
use crate::app::App;
use crate::demo::{DemoError, failed};

/// Store-only products (no SKU in the POS): never aligned.
const STORE_ONLY: &[(&str, &str, &str)] = &[
    ("GIFT-25", "Gift Card 25", "25.00"),
    ("GIFT-50", "Gift Card 50", "50.00"),
    ("GIFT-100", "Gift Card 100", "100.00"),
    ("WRAP", "Gift Wrapping", "3.50"),
    ("SAMPLE-BOX", "Sample Box", "9.90"),
];

/// The store's catalogue as seeded.
pub(super) struct StoreCatalogue {
    /// Every product added to the store, aligned ones first.
    pub products: Vec<NewSimProduct>,
    /// SKU → the store's product id.
    pub product_ids: BTreeMap<String, u64>,
    /// The products sold in both systems.
    pub catalogue: Vec<Item>,
}

impl StoreCatalogue {
    /// What the store holds of each stocked product (store-only products keep no stock).
    pub fn stock(&self) -> BTreeMap<String, i64> {
        self.products
            .iter()
            .filter_map(|p| Some((p.sku.clone(), p.stock_quantity?)))
            .collect()
    }
}

/// Adds the POS's `items` to the store, `drifted` ones at a higher price, and the store-only products.
pub(super) fn mirror(woo: &WooSim, items: &[ShopItem], drifted: &[ShopItem]) -> StoreCatalogue {
    let drifted: Vec<&str> = drifted.iter().map(|i| i.item_no.as_str()).collect();
    let mut products: Vec<NewSimProduct> = items
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
    let catalogue: Vec<Item> = items
        .iter()
        .map(|i| Item {
            sku: i.item_no.clone(),
            name: i.descr.clone(),
        })
        .collect();
    StoreCatalogue {
        products,
        product_ids,
        catalogue,
    }
}

/// Imports the alignment the operator would: every catalogue SKU matched exactly.
pub(super) fn import_alignment(app: &mut App, catalogue: &[Item]) -> Result<(), DemoError> {
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
    Ok(())
}
