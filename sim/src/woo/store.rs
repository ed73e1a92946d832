//! The simulated shop's data and the rules core applies when it changes: whole-second modification dates,
//! stock reduced once on payment and restored on cancellation, absolute stock sets, per-item batch errors.
//! Every change records the webhook events it would fire.

use super::error::ApiError;
use super::model::{Customer, LineItem, LineView, Note, Order, Product};
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

/// Order statuses the store accepts through the API, in core's order (`trash` is not one: deleting is), then
/// two store-defined ones a pickup plugin registers (real shops have such custom statuses).
pub(crate) const ORDER_STATUSES: &[&str] = &[
    "auto-draft",
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
    "ready-for-pickup",
    "awaiting-pickup",
];

/// How the store's notes name a status ("Order status changed from Pending payment to Processing.").
fn status_label(status: &str) -> String {
    match status {
        "pending" => "Pending payment".into(),
        "processing" => "Processing".into(),
        "on-hold" => "On hold".into(),
        "completed" => "Completed".into(),
        "cancelled" => "Cancelled".into(),
        "refunded" => "Refunded".into(),
        "failed" => "Failed".into(),
        "checkout-draft" => "Draft".into(),
        other => {
            let mut label: String = other.replace('-', " ");
            if let Some(first) = label.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            label
        }
    }
}
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
    /// SKU → product id, built on first use and dropped whenever a SKU may have changed (WordPress keeps
    /// a lookup table for the same reason: `?sku=` on a large catalogue must not scan every product).
    sku_index: std::sync::OnceLock<std::collections::HashMap<String, u64>>,
    /// While set, every change is stamped with this second instead of the real clock (`WooSim::freeze_clock`).
    pub frozen_clock: Option<DateTime<Utc>>,
    /// Whether status changes and stock moves add the store's own order notes, as the real store does.
    pub system_notes: bool,
}

/// Now, at the store's whole-second resolution (the real clock; see `Store::now` for changes).
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

    /// The modification time a change made now gets: the frozen second if the clock is frozen.
    pub fn now(&self) -> DateTime<Utc> {
        self.frozen_clock
            .map(|at| at.trunc_subsecs(0))
            .unwrap_or_else(now)
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

    /// Records a webhook event. Like core, draft orders (checkout drafts) fire none.
    pub(crate) fn emit(&mut self, topic: &'static str, resource_id: u64) {
        if topic.starts_with("order.")
            && self
                .orders
                .get(&resource_id)
                .is_some_and(|o| ["checkout-draft", "auto-draft"].contains(&o.status.as_str()))
        {
            return;
        }
        self.events.push(Event { topic, resource_id });
    }

    pub fn product_by_sku(&self, sku: &str) -> Option<&Product> {
        if sku.is_empty() {
            return None;
        }
        // SKUs live in a case-insensitive column: `abc` finds `ABC`.
        self.sku_index()
            .get(&sku.to_lowercase())
            .and_then(|id| self.products.get(id))
    }

    fn sku_index(&self) -> &std::collections::HashMap<String, u64> {
        self.sku_index.get_or_init(|| {
            self.products
                .values()
                .filter(|p| !p.sku.is_empty())
                .map(|p| (p.sku.to_lowercase(), p.id))
                .collect()
        })
    }

    /// Call after adding products or changing a SKU.
    pub fn forget_sku_index(&mut self) {
        self.sku_index = std::sync::OnceLock::new();
    }

    /// The product a SKU names (a product or a variation with that SKU of its own).
    pub fn id_by_sku(&self, sku: &str) -> Result<u64, ApiError> {
        self.product_by_sku(sku).map(|p| p.id).ok_or_else(|| {
            ApiError::new(
                400,
                "woocommerce_rest_invalid_product_id",
                format!("No product with SKU {sku}."),
            )
        })
    }

    /// The SKU the store shows for a product: its own, or for a variation without one, its parent's.
    pub fn shown_sku(&self, product: &Product) -> String {
        if product.sku.is_empty() && product.kind == "variation" {
            self.products
                .get(&product.parent_id)
                .map(|parent| parent.sku.clone())
                .unwrap_or_default()
        } else {
            product.sku.clone()
        }
    }

    pub fn product_json(&self, product: &Product) -> Value {
        product.to_json(&self.shown_sku(product))
    }

    pub fn product_json_by_id(&self, id: u64) -> Option<Value> {
        self.products.get(&id).map(|p| self.product_json(p))
    }

    /// What an order line shows of its product today (see `LineView`).
    fn line_view(&self, line: &LineItem) -> LineView {
        match self.products.get(&line.stock_product()) {
            Some(product) => LineView {
                product_id: line.product_id,
                variation_id: line.variation_id,
                sku: Some(self.shown_sku(product)),
            },
            None => LineView {
                product_id: 0,
                variation_id: 0,
                sku: None,
            },
        }
    }

    pub fn order_json(&self, order: &Order) -> Value {
        order.to_json(|line| self.line_view(line))
    }

    pub fn order_json_by_id(&self, id: u64) -> Option<Value> {
        self.orders.get(&id).map(|o| self.order_json(o))
    }

    /// Order lines for (product or variation id, quantity), priced and named as the store would.
    fn line_items(&mut self, lines: &[(u64, i64)]) -> Result<Vec<LineItem>, ApiError> {
        let mut items = Vec::new();
        for (id, quantity) in lines {
            if *id == 0 {
                // A line whose product the store could not find: kept, with no product and no price.
                items.push(LineItem {
                    id: 0,
                    name: String::new(),
                    product_id: 0,
                    variation_id: 0,
                    quantity: *quantity,
                    price: 0.0,
                });
                continue;
            }
            let product = self.products.get(id).ok_or_else(|| {
                ApiError::new(
                    400,
                    "woocommerce_rest_invalid_product_id",
                    format!("Product ID {id} is invalid."),
                )
            })?;
            let (product_id, variation_id) = if product.kind == "variation" {
                (product.parent_id, product.id)
            } else {
                (product.id, 0)
            };
            let price = product.price().parse().unwrap_or(0.0);
            let name = product.name.clone();
            items.push(LineItem {
                id: 0,
                name,
                product_id,
                variation_id,
                quantity: *quantity,
                price,
            });
        }
        for item in &mut items {
            item.id = self.next_item_id();
        }
        Ok(items)
    }

    /// Creates an order as checkout would from (SKU, quantity) lines; a paid status reduces stock at once.
    pub fn create_order(
        &mut self,
        lines: &[(String, i64)],
        status: &str,
        customer: Customer,
        at: DateTime<Utc>,
    ) -> Result<u64, ApiError> {
        let lines = lines
            .iter()
            .map(|(sku, quantity)| Ok((self.id_by_sku(sku)?, *quantity)))
            .collect::<Result<Vec<_>, ApiError>>()?;
        self.create_order_from_ids(&lines, status, customer, at)
    }

    /// `create_order` with lines naming products or variations by id (variations without a SKU of their own).
    pub fn create_order_from_ids(
        &mut self,
        lines: &[(u64, i64)],
        status: &str,
        customer: Customer,
        at: DateTime<Utc>,
    ) -> Result<u64, ApiError> {
        check_order_status(status)?;
        let line_items = self.line_items(lines)?;
        let id = self.next_id();
        let shipping_line_id = self.next_item_id();
        let on_account = status == "on-hold";
        self.orders.insert(
            id,
            Order {
                id,
                status: "pending".into(),
                created: at,
                modified: at,
                customer_note: String::new(),
                shipping: customer.clone(),
                customer,
                line_items,
                shipping_line_id,
                shipping_total: 5.0,
                stock_reduced: false,
                date_paid: None,
                date_completed: None,
                created_via: "checkout",
                // Bank transfer and cheque orders are the ones that wait on-hold for payment.
                payment_method: if on_account { "cheque" } else { "bacs" }.into(),
                payment_method_title: if on_account {
                    "Check payments"
                } else {
                    "Direct bank transfer"
                }
                .into(),
            },
        );
        if status != "pending" {
            self.apply_status(id, status, at)?;
        }
        self.emit("order.created", id);
        Ok(id)
    }

    /// Replaces an order's lines as an admin edit does: stock already taken for the old lines is given back
    /// and taken for the new ones; the order is modified now and fires `order.updated`.
    pub fn edit_order_lines(&mut self, id: u64, lines: &[(String, i64)]) -> Result<(), ApiError> {
        let lines = lines
            .iter()
            .map(|(sku, quantity)| Ok((self.id_by_sku(sku)?, *quantity)))
            .collect::<Result<Vec<_>, ApiError>>()?;
        if !self.orders.contains_key(&id) {
            return Err(invalid_order_id(404));
        }
        let new_items = self.line_items(&lines)?;
        let at = self.now();
        let Some(order) = self.orders.get_mut(&id) else {
            return Err(invalid_order_id(404));
        };
        let old_items = std::mem::replace(&mut order.line_items, new_items.clone());
        order.modified = at;
        if order.stock_reduced {
            for line in &old_items {
                self.adjust_stock(line.stock_product(), line.quantity, at);
            }
            for line in &new_items {
                self.adjust_stock(line.stock_product(), -line.quantity, at);
            }
        }
        self.emit("order.updated", id);
        Ok(())
    }

    /// Changes where an order ships, as an admin edit does (modified now, `order.updated`).
    pub fn set_order_shipping(&mut self, id: u64, shipping: Customer) -> Result<(), ApiError> {
        let at = self.now();
        let order = self
            .orders
            .get_mut(&id)
            .ok_or_else(|| invalid_order_id(404))?;
        order.shipping = shipping;
        order.modified = at;
        self.emit("order.updated", id);
        Ok(())
    }

    /// A variable product with one variation per entry: (its own SKU or none, stock). A variation without
    /// its own SKU shows, and sells under, the parent's. Returns (parent id, variation ids).
    pub fn add_variable_product(
        &mut self,
        parent_sku: &str,
        variations: &[(Option<String>, i64)],
        price: &str,
    ) -> (u64, Vec<u64>) {
        let at = self.now();
        let parent_id = self.next_id();
        let base = |id: u64, name: String, sku: String, kind: &str, parent_id: u64| Product {
            id,
            name,
            sku,
            kind: kind.into(),
            status: "publish".into(),
            regular_price: price.to_string(),
            sale_price: String::new(),
            manage_stock: false,
            stock_quantity: None,
            stock_status: "instock".into(),
            variations: Vec::new(),
            parent_id,
            created: at,
            modified: at,
        };
        let mut parent = base(
            parent_id,
            format!("Variable {parent_sku}"),
            parent_sku.to_string(),
            "variable",
            0,
        );
        let mut ids = Vec::new();
        for (n, (sku, stock)) in variations.iter().enumerate() {
            let id = self.next_id();
            let mut variation = base(
                id,
                format!("Variable {parent_sku} - option {}", n + 1),
                sku.clone().unwrap_or_default(),
                "variation",
                parent_id,
            );
            variation.manage_stock = true;
            variation.stock_quantity = Some(*stock);
            self.products.insert(id, variation);
            parent.variations.push(id);
            ids.push(id);
        }
        self.products.insert(parent_id, parent);
        self.forget_sku_index();
        (parent_id, ids)
    }

    /// Changes an order's status with core's stock side effects; the order's modification date becomes now.
    pub fn set_order_status(&mut self, id: u64, status: &str) -> Result<(), ApiError> {
        check_order_status(status)?;
        if !self.orders.contains_key(&id) {
            return Err(invalid_order_id(400));
        }
        let at = self.now();
        self.change_status(id, status, at)
    }

    /// A status change (no validation) that fires `order.updated`.
    pub fn change_status(
        &mut self,
        id: u64,
        status: &str,
        at: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        self.apply_status(id, status, at)?;
        self.emit("order.updated", id);
        Ok(())
    }

    /// An order note the store writes itself (only when `system_notes` is on).
    fn system_note(&mut self, order_id: u64, note: String, at: DateTime<Utc>) {
        if !self.system_notes {
            return;
        }
        let note = Note {
            id: self.next_item_id(),
            author: "WooCommerce",
            note,
            customer_note: false,
            created: at,
        };
        self.notes.entry(order_id).or_default().push(note);
    }

    fn apply_status(&mut self, id: u64, status: &str, at: DateTime<Utc>) -> Result<(), ApiError> {
        let order = self
            .orders
            .get_mut(&id)
            .ok_or_else(|| invalid_order_id(400))?;
        let previous = std::mem::replace(&mut order.status, status.to_string());
        order.modified = at;
        if ["processing", "completed"].contains(&status) && order.date_paid.is_none() {
            order.date_paid = Some(at);
        }
        if status == "completed" {
            order.date_completed = Some(at);
        }
        let direction = if PAID_STATUSES.contains(&status) && !order.stock_reduced {
            order.stock_reduced = true;
            -1
        } else if RESTOCK_STATUSES.contains(&status) && order.stock_reduced {
            order.stock_reduced = false;
            1
        } else {
            0
        };
        let moves: Vec<(u64, i64)> = order
            .line_items
            .iter()
            .filter(|_| direction != 0)
            .map(|l| (l.stock_product(), direction * l.quantity))
            .collect();
        let mut moved = Vec::new();
        for (product_id, delta) in moves {
            let before = self
                .products
                .get(&product_id)
                .and_then(|p| p.stock_quantity);
            self.adjust_stock(product_id, delta, at);
            if let Some(product) = self.products.get(&product_id)
                && product.manage_stock
            {
                let after = product.stock_quantity.unwrap_or(0);
                moved.push(format!(
                    "{} ({}) {}&rarr;{}",
                    product.name,
                    self.shown_sku(product),
                    before.unwrap_or(0),
                    after
                ));
            }
        }
        if !moved.is_empty() {
            let what = if direction < 0 {
                "reduced"
            } else {
                "increased"
            };
            self.system_note(id, format!("Stock levels {what}: {}", moved.join(", ")), at);
        }
        if previous != status {
            let note = format!(
                "Order status changed from {} to {}.",
                status_label(&previous),
                status_label(status)
            );
            self.system_note(id, note, at);
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
        let at = self.now();
        let product = self.products.get_mut(&product_id).ok_or_else(|| {
            ApiError::new(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        })?;
        product.manage_stock = true;
        product.stock_quantity = Some(quantity);
        product.modified = at;
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
            author: "WooCommerce",
            note,
            customer_note,
            created: self.now(),
        };
        self.notes.entry(order_id).or_default().push(note.clone());
        Ok(note)
    }
}

pub(crate) fn invalid_order_id(status: u16) -> ApiError {
    ApiError::new(
        status,
        "woocommerce_rest_shop_order_invalid_id",
        "Invalid ID.",
    )
}

fn check_order_status(status: &str) -> Result<(), ApiError> {
    if ORDER_STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(ApiError::not_in_enum("status", ORDER_STATUSES))
    }
}
