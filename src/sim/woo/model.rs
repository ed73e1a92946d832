//! The simulator's records and their JSON as WooCommerce's REST API renders them (string money, whole-second
//! GMT dates without offset, computed `price` and `stock_status`).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub(crate) fn gmt(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Money as stores send it: a string with 2 decimals.
pub(crate) fn money(amount: f64) -> String {
    format!("{amount:.2}")
}

#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub id: u64,
    pub name: String,
    pub sku: String,
    /// simple, variable or variation.
    pub kind: String,
    pub status: String,
    pub regular_price: String,
    pub sale_price: String,
    pub manage_stock: bool,
    pub stock_quantity: Option<i64>,
    /// Only consulted when stock is not managed; otherwise derived from the quantity.
    pub stock_status: String,
    pub variations: Vec<u64>,
    pub parent_id: u64,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

impl Product {
    pub fn stock_status(&self) -> &str {
        match (self.manage_stock, self.stock_quantity) {
            (true, Some(q)) if q > 0 => "instock",
            (true, _) => "outofstock",
            (false, _) => &self.stock_status,
        }
    }

    pub fn price(&self) -> &str {
        if self.sale_price.is_empty() {
            &self.regular_price
        } else {
            &self.sale_price
        }
    }

    pub fn to_json(&self) -> Value {
        let mut product = json!({
            "id": self.id,
            "name": self.name,
            "slug": self.name.to_lowercase().replace(' ', "-"),
            "type": self.kind,
            "status": self.status,
            "sku": self.sku,
            "price": self.price(),
            "regular_price": self.regular_price,
            "sale_price": self.sale_price,
            "date_created": gmt(self.created),
            "date_created_gmt": gmt(self.created),
            "date_modified": gmt(self.modified),
            "date_modified_gmt": gmt(self.modified),
            "manage_stock": self.manage_stock,
            "stock_quantity": self.stock_quantity,
            "stock_status": self.stock_status(),
            "backorders": "no",
            "parent_id": self.parent_id,
            "variations": self.variations,
            "meta_data": [],
        });
        if self.kind == "variation" {
            // Variations carry no `variations` list of their own.
            if let Some(map) = product.as_object_mut() {
                map.remove("variations");
            }
        }
        product
    }
}

#[derive(Debug, Clone)]
pub(crate) struct LineItem {
    pub id: u64,
    pub name: String,
    pub product_id: u64,
    pub variation_id: u64,
    pub quantity: i64,
    pub sku: String,
    pub price: f64,
}

impl LineItem {
    /// The product whose stock this line moves: the variation when there is one.
    pub fn stock_product(&self) -> u64 {
        if self.variation_id != 0 {
            self.variation_id
        } else {
            self.product_id
        }
    }

    fn to_json(&self) -> Value {
        let total = money(self.price * self.quantity as f64);
        json!({
            "id": self.id,
            "name": self.name,
            "product_id": self.product_id,
            "variation_id": self.variation_id,
            "quantity": self.quantity,
            "tax_class": "",
            "subtotal": total,
            "subtotal_tax": "0.00",
            "total": total,
            "total_tax": "0.00",
            "taxes": [],
            "meta_data": [],
            // Stores send null for items whose product has no SKU.
            "sku": if self.sku.is_empty() { Value::Null } else { Value::String(self.sku.clone()) },
            "price": self.price,
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: u64,
    pub status: String,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub customer_note: String,
    pub customer: Customer,
    pub line_items: Vec<LineItem>,
    pub shipping_line_id: u64,
    pub shipping_total: f64,
    /// Core's `_order_stock_reduced`: stock moves once per payment, back once per cancellation.
    pub stock_reduced: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub city: String,
}

impl Order {
    pub fn total(&self) -> f64 {
        self.line_items
            .iter()
            .map(|l| l.price * l.quantity as f64)
            .sum::<f64>()
            + self.shipping_total
    }

    pub fn to_json(&self) -> Value {
        let address = json!({
            "first_name": self.customer.first_name,
            "last_name": self.customer.last_name,
            "company": "",
            "address_1": "1 Main Street",
            "address_2": "",
            "city": self.customer.city,
            "state": "",
            "postcode": "10001",
            "country": "US",
        });
        let mut billing = address.clone();
        if let Some(map) = billing.as_object_mut() {
            map.insert("email".into(), json!(self.customer.email));
            map.insert("phone".into(), json!(""));
        }
        json!({
            "id": self.id,
            "parent_id": 0,
            "number": self.id.to_string(),
            "order_key": format!("wc_order_{:x}", self.id * 7919),
            "created_via": "checkout",
            "status": self.status,
            "currency": "USD",
            "date_created": gmt(self.created),
            "date_created_gmt": gmt(self.created),
            "date_modified": gmt(self.modified),
            "date_modified_gmt": gmt(self.modified),
            "discount_total": "0.00",
            "shipping_total": money(self.shipping_total),
            "total": money(self.total()),
            "total_tax": "0.00",
            "prices_include_tax": false,
            "customer_id": 0,
            "customer_note": self.customer_note,
            "billing": billing,
            "shipping": address,
            "payment_method": "bacs",
            "payment_method_title": "Direct bank transfer",
            "meta_data": [],
            "line_items": self.line_items.iter().map(LineItem::to_json).collect::<Vec<_>>(),
            "shipping_lines": [{
                "id": self.shipping_line_id,
                "method_title": "Flat rate",
                "method_id": "flat_rate",
                "total": money(self.shipping_total),
                "meta_data": [],
            }],
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Note {
    pub id: u64,
    pub note: String,
    pub customer_note: bool,
    pub created: DateTime<Utc>,
}

impl Note {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "author": "WooCommerce",
            "date_created": gmt(self.created),
            "date_created_gmt": gmt(self.created),
            "note": self.note,
            "customer_note": self.customer_note,
        })
    }
}
