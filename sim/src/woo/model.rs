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

    /// The product as the API renders it; `sku` is what the store shows (a variation without its own SKU
    /// shows its parent's, see `Store::product_json`).
    pub fn to_json(&self, sku: &str) -> Value {
        let mut product = json!({
            "id": self.id,
            "name": self.name,
            "slug": self.name.to_lowercase().replace(' ', "-"),
            "type": self.kind,
            "status": self.status,
            "sku": sku,
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
        // Two halves: one `json!` this large exceeds the macro's recursion limit.
        let catalogue = json!({
            "featured": false,
            "catalog_visibility": "visible",
            "description": "",
            "short_description": "",
            "on_sale": !self.sale_price.is_empty(),
            "purchasable": !self.price().is_empty(),
            "total_sales": 0,
            "virtual": false,
            "downloadable": false,
            "tax_status": "taxable",
            "tax_class": "",
            "backorders_allowed": false,
            "backordered": false,
            "low_stock_amount": Value::Null,
            "menu_order": 0,
            "attributes": [],
            "images": [],
            "categories": [{ "id": 15, "name": "Uncategorized", "slug": "uncategorized" }],
        });
        if let (Some(map), Value::Object(rest)) = (product.as_object_mut(), catalogue) {
            map.extend(rest);
        }
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
    pub price: f64,
}

/// What a line shows of its product at read time: the store looks the product up on every read, so a line
/// whose product was deleted shows `product_id: 0` and no SKU, and a variation without its own SKU shows
/// its parent's.
#[derive(Debug, Clone)]
pub(crate) struct LineView {
    pub product_id: u64,
    pub variation_id: u64,
    /// `None` renders as `null`.
    pub sku: Option<String>,
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

    fn to_json(&self, view: &LineView) -> Value {
        let total = money(self.price * self.quantity as f64);
        json!({
            "id": self.id,
            "name": self.name,
            "product_id": view.product_id,
            "variation_id": view.variation_id,
            "quantity": self.quantity,
            "tax_class": "",
            "subtotal": total,
            "subtotal_tax": "0.00",
            "total": total,
            "total_tax": "0.00",
            "taxes": [],
            "meta_data": [],
            "sku": view.sku,
            "price": self.price,
            "image": { "id": "", "src": "" },
            "parent_name": Value::Null,
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
    /// Billing contact.
    pub customer: Customer,
    /// Where it ships (the billing contact unless changed).
    pub shipping: Customer,
    pub line_items: Vec<LineItem>,
    pub shipping_line_id: u64,
    pub shipping_total: f64,
    /// Core's `_order_stock_reduced`: stock moves once per payment, back once per cancellation.
    pub stock_reduced: bool,
    pub date_paid: Option<DateTime<Utc>>,
    pub date_completed: Option<DateTime<Utc>>,
    /// `checkout`, or `rest-api` for orders created through the API.
    pub created_via: &'static str,
    pub payment_method: String,
    pub payment_method_title: String,
}

#[derive(Debug, Clone, PartialEq)]
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

    /// The order as the API renders it; `line_view` says what each line shows of its product today.
    pub fn to_json(&self, line_view: impl Fn(&LineItem) -> LineView) -> Value {
        let address = |who: &Customer| {
            json!({
                "first_name": who.first_name,
                "last_name": who.last_name,
                "company": "",
                "address_1": "1 Main Street",
                "address_2": "",
                "city": who.city,
                "state": "",
                "postcode": "10001",
                "country": "US",
                "phone": "",
            })
        };
        let mut billing = address(&self.customer);
        if let Some(map) = billing.as_object_mut() {
            map.insert("email".into(), json!(self.customer.email));
        }
        let date = |at: Option<DateTime<Utc>>| at.map(gmt);
        let status = self.status.as_str();
        let editable = ["pending", "on-hold", "auto-draft", "checkout-draft"].contains(&status);
        let needs_payment = ["pending", "failed"].contains(&status) && self.total() > 0.0;
        let mut order = json!({
            "id": self.id,
            "parent_id": 0,
            "number": self.id.to_string(),
            "order_key": format!("wc_order_{:x}", self.id * 7919),
            "created_via": self.created_via,
            "version": "10.0.2",
            "status": self.status,
            "currency": "USD",
            "date_created": gmt(self.created),
            "date_created_gmt": gmt(self.created),
            "date_modified": gmt(self.modified),
            "date_modified_gmt": gmt(self.modified),
            "date_paid": date(self.date_paid),
            "date_paid_gmt": date(self.date_paid),
            "date_completed": date(self.date_completed),
            "date_completed_gmt": date(self.date_completed),
        });
        // Two halves: one `json!` this large exceeds the macro's recursion limit.
        let money_and_lines = json!({
            "discount_total": "0.00",
            "discount_tax": "0.00",
            "shipping_total": money(self.shipping_total),
            "shipping_tax": "0.00",
            "cart_tax": "0.00",
            "total": money(self.total()),
            "total_tax": "0.00",
            "prices_include_tax": false,
            "customer_id": 0,
            "customer_note": self.customer_note,
            "billing": billing,
            "shipping": address(&self.shipping),
            "payment_method": self.payment_method,
            "payment_method_title": self.payment_method_title,
            "transaction_id": "",
            "meta_data": [],
            "line_items": self
                .line_items
                .iter()
                .map(|line| line.to_json(&line_view(line)))
                .collect::<Vec<_>>(),
            "tax_lines": [],
            "fee_lines": [],
            "coupon_lines": [],
            "refunds": [],
            "cart_hash": "",
            "customer_ip_address": "",
            "customer_user_agent": "",
            "currency_symbol": "$",
            "is_editable": editable,
            "needs_payment": needs_payment,
            "needs_processing": true,
            "shipping_lines": [{
                "id": self.shipping_line_id,
                "method_title": "Flat rate",
                "method_id": "flat_rate",
                "total": money(self.shipping_total),
                "meta_data": [],
            }],
        });
        if let (Some(map), Value::Object(rest)) = (order.as_object_mut(), money_and_lines) {
            map.extend(rest);
        }
        order
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Note {
    pub id: u64,
    /// `WooCommerce` for notes added through the API and by the system alike.
    pub author: &'static str,
    pub note: String,
    pub customer_note: bool,
    pub created: DateTime<Utc>,
}

impl Note {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "author": self.author,
            "date_created": gmt(self.created),
            "date_created_gmt": gmt(self.created),
            "note": self.note,
            "customer_note": self.customer_note,
        })
    }
}
