//! Marketplace orders retailers place on Cartona: the ones waiting when the demo starts and, through
//! [`place_marketplace_order`], the live traffic's.

use syncdesk_sim::cartona::{CartonaSim, NewOrder as NewMarketplaceOrder};

use super::Item;

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
