//! The simulated shop's data and the rules core applies when it changes: whole-second modification dates,
//! stock reduced once on payment and restored on cancellation, absolute stock sets, per-item batch errors.
//! Every change records the webhook events it would fire.

use super::error::ApiError;
use super::model::{Customer, LineItem, Note, Order, Product};
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Order statuses the store accepts through the API, custom ones included.
pub(crate) const ORDER_STATUSES: &[&str] = &[
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "trash",
    "checkout-draft",
    "ready-for-pickup",
    "awaiting-pickup",
];
const PAID_STATUSES: &[&str] = &["processing", "completed", "on-hold"];
const RESTOCK_STATUSES: &[&str] = &["cancelled", "pending"];

/// A webhook-worthy change: topic (`order.updated`) and resource id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Event {
    pub topic: &'static str,
    pub resource_id: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    pub products: BTreeMap<u64, Product>,
    pub orders: BTreeMap<u64, Order>,
    pub notes: BTreeMap<u64, Vec<Note>>,
    /// WordPress hands out ids from one sequence for posts of every kind.
    next_id: u64,
    /// Line items, shipping lines and notes share another one.
    next_item_id: u64,
    events: Vec<Event>,
    /// Products the store refuses to edit through the API (a plugin or a lock, as seen on real stores).
    pub locked: std::collections::BTreeSet<u64>,
}

/// Now, at the store's whole-second resolution.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

impl Store {
    pub fn new() -> Self {
        Self {
            next_id: 100,
            next_item_id: 1,
            ..Self::default()
        }
    }

    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn next_item_id(&mut self) -> u64 {
        self.next_item_id += 1;
        self.next_item_id
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn emit(&mut self, topic: &'static str, resource_id: u64) {
        self.events.push(Event { topic, resource_id });
    }

    pub fn product_by_sku(&self, sku: &str) -> Option<&Product> {
        if sku.is_empty() {
            return None;
        }
        self.products.values().find(|p| p.sku == sku)
    }

    /// Creates an order as checkout would; a paid status reduces stock at once.
    pub fn create_order(
        &mut self,
        lines: &[(String, i64)],
        status: &str,
        customer: Customer,
        at: DateTime<Utc>,
    ) -> Result<u64, ApiError> {
        check_order_status(status)?;
        let mut line_items = Vec::new();
        for (sku, quantity) in lines {
            let product = self.product_by_sku(sku).ok_or_else(|| {
                ApiError::new(
                    400,
                    "woocommerce_rest_invalid_product_id",
                    format!("No product with SKU {sku}."),
                )
            })?;
            let (product_id, variation_id) = if product.kind == "variation" {
                (product.parent_id, product.id)
            } else {
                (product.id, 0)
            };
            let price = product.price().parse().unwrap_or(0.0);
            let name = product.name.clone();
            let sku = product.sku.clone();
            line_items.push(LineItem {
                id: self.next_item_id(),
                name,
                product_id,
                variation_id,
                quantity: *quantity,
                sku,
                price,
            });
        }
        let id = self.next_id();
        let shipping_line_id = self.next_item_id();
        self.orders.insert(
            id,
            Order {
                id,
                status: "pending".into(),
                created: at,
                modified: at,
                customer_note: String::new(),
                customer,
                line_items,
                shipping_line_id,
                shipping_total: 5.0,
                stock_reduced: false,
            },
        );
        self.emit("order.created", id);
        if status != "pending" {
            self.apply_status(id, status, at)?;
        }
        Ok(id)
    }

    /// Changes an order's status with core's stock side effects; the order's modification date becomes now.
    pub fn set_order_status(&mut self, id: u64, status: &str) -> Result<(), ApiError> {
        check_order_status(status)?;
        if !self.orders.contains_key(&id) {
            return Err(ApiError::new(
                400,
                "woocommerce_rest_shop_order_invalid_id",
                "Invalid ID.",
            ));
        }
        self.apply_status(id, status, now())?;
        self.emit("order.updated", id);
        Ok(())
    }

    fn apply_status(&mut self, id: u64, status: &str, at: DateTime<Utc>) -> Result<(), ApiError> {
        let order = self.orders.get_mut(&id).ok_or_else(|| {
            ApiError::new(400, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        })?;
        order.status = status.to_string();
        order.modified = at;
        let direction = if PAID_STATUSES.contains(&status) && !order.stock_reduced {
            order.stock_reduced = true;
            -1
        } else if RESTOCK_STATUSES.contains(&status) && order.stock_reduced {
            order.stock_reduced = false;
            1
        } else {
            0
        };
        if direction != 0 {
            let moves: Vec<(u64, i64)> = order
                .line_items
                .iter()
                .map(|l| (l.stock_product(), direction * l.quantity))
                .collect();
            for (product_id, delta) in moves {
                self.adjust_stock(product_id, delta, at);
            }
        }
        Ok(())
    }

    fn adjust_stock(&mut self, product_id: u64, delta: i64, at: DateTime<Utc>) {
        let Some(product) = self.products.get_mut(&product_id) else {
            return;
        };
        if !product.manage_stock {
            return;
        }
        product.stock_quantity = Some(product.stock_quantity.unwrap_or(0) + delta);
        product.modified = at;
        self.emit("product.updated", product_id);
    }

    /// Absolute stock set, as `stock_quantity` in the API (and the store's admin screen) does it.
    pub fn set_stock(&mut self, product_id: u64, quantity: i64) -> Result<(), ApiError> {
        let product = self.products.get_mut(&product_id).ok_or_else(|| {
            ApiError::new(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        })?;
        product.manage_stock = true;
        product.stock_quantity = Some(quantity);
        product.modified = now();
        self.emit("product.updated", product_id);
        Ok(())
    }

    pub fn add_note(
        &mut self,
        order_id: u64,
        note: String,
        customer_note: bool,
    ) -> Result<Note, ApiError> {
        if !self.orders.contains_key(&order_id) {
            return Err(ApiError::new(
                404,
                "woocommerce_rest_order_invalid_id",
                "Invalid order ID.",
            ));
        }
        let note = Note {
            id: self.next_item_id(),
            note,
            customer_note,
            created: now(),
        };
        self.notes.entry(order_id).or_default().push(note.clone());
        Ok(note)
    }

    /// One item of a batch `update` list. `parent` is the product of a `…/variations/batch` call.
    /// Everything is validated before anything changes, so a refused item leaves the product as it was.
    pub fn batch_update_item(
        &mut self,
        item: &Value,
        parent: Option<u64>,
    ) -> Result<Value, ApiError> {
        let invalid_id = || match parent {
            Some(_) => ApiError::new(
                400,
                "woocommerce_rest_product_variation_invalid_id",
                "Invalid ID.",
            ),
            None => ApiError::new(400, "woocommerce_rest_product_invalid_id", "Invalid ID."),
        };
        let fields = item.as_object().ok_or_else(invalid_id)?;
        let id = fields
            .get("id")
            .and_then(Value::as_u64)
            .ok_or_else(invalid_id)?;
        let product = self.products.get(&id).ok_or_else(invalid_id)?;
        let belongs = match parent {
            Some(parent) => product.kind == "variation" && product.parent_id == parent,
            None => product.kind != "variation",
        };
        if !belongs {
            return Err(invalid_id());
        }
        if self.locked.contains(&id) {
            return Err(ApiError::new(
                403,
                "woocommerce_rest_cannot_edit",
                "Sorry, you are not allowed to edit this resource.",
            ));
        }
        let change = ProductChange::parse(fields)?;
        if let Some(sku) = &change.sku
            && !sku.is_empty()
            && self.products.values().any(|p| p.id != id && &p.sku == sku)
        {
            return Err(ApiError::new(
                400,
                "product_invalid_sku",
                "Invalid or duplicated SKU.",
            ));
        }
        let at = now();
        let product = self.products.get_mut(&id).ok_or_else(invalid_id)?;
        change.apply(product);
        product.modified = at;
        let json = product.to_json();
        self.emit("product.updated", id);
        Ok(json)
    }
}

fn check_order_status(status: &str) -> Result<(), ApiError> {
    if ORDER_STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(ApiError::invalid_param(
            "status",
            format!("status is not one of {}.", ORDER_STATUSES.join(", ")),
        ))
    }
}

/// The writable product fields of one batch item, validated.
struct ProductChange {
    sku: Option<String>,
    regular_price: Option<String>,
    sale_price: Option<String>,
    manage_stock: Option<bool>,
    stock_quantity: Option<i64>,
    status: Option<String>,
}

impl ProductChange {
    fn parse(fields: &Map<String, Value>) -> Result<Self, ApiError> {
        let text = |name: &str| -> Result<Option<String>, ApiError> {
            match fields.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ApiError::invalid_param(
                    name,
                    format!("{name} is not of type string."),
                )),
            }
        };
        let price = |name: &str| -> Result<Option<String>, ApiError> {
            let Some(value) = text(name)? else {
                return Ok(None);
            };
            if value.is_empty() {
                return Ok(Some(value));
            }
            // Stores keep the decimals they are given; anything not a number is refused.
            value
                .parse::<f64>()
                .map(|_| Some(value.clone()))
                .map_err(|_| ApiError::invalid_param(name, format!("{name} is not a valid price.")))
        };
        let manage_stock = match fields.get("manage_stock") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                return Err(ApiError::invalid_param(
                    "manage_stock",
                    "manage_stock is not of type boolean.",
                ));
            }
        };
        let stock_quantity = match fields.get("stock_quantity") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_i64().ok_or_else(|| {
                ApiError::invalid_param("stock_quantity", "stock_quantity is not of type integer.")
            })?),
        };
        let status = text("status")?;
        if let Some(status) = &status
            && !["draft", "pending", "private", "publish"].contains(&status.as_str())
        {
            return Err(ApiError::invalid_param(
                "status",
                "status is not one of draft, pending, private, publish.",
            ));
        }
        Ok(Self {
            sku: text("sku")?,
            regular_price: price("regular_price")?,
            sale_price: price("sale_price")?,
            manage_stock,
            stock_quantity,
            status,
        })
    }

    fn apply(self, product: &mut Product) {
        if let Some(sku) = self.sku {
            product.sku = sku;
        }
        if let Some(price) = self.regular_price {
            product.regular_price = price;
        }
        if let Some(price) = self.sale_price {
            product.sale_price = price;
        }
        if let Some(manage) = self.manage_stock {
            product.manage_stock = manage;
        }
        // Like core: a quantity is only stored when the product manages stock.
        if let Some(quantity) = self.stock_quantity
            && product.manage_stock
        {
            product.stock_quantity = Some(quantity);
        }
        if let Some(status) = self.status {
            product.status = status;
        }
    }
}
