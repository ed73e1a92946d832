//! The marketplace's state and rules: orders with their status machine (editing locks, OTP for delivery,
//! Cartona-delivered orders only cancellable by the supplier), the `synced` acknowledgement, and stock.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub(crate) const STATUSES: &[&str] = &[
    "pending",
    "editing",
    "approved",
    "cancelled_by_retailer",
    "assigned_to_salesman",
    "delivered",
    "cancelled_by_supplier",
    "returned",
];

pub(crate) const CANCELLATION_REASONS: &[&str] = &[
    "out_of_stock",
    "price_changed",
    "retailer_request",
    "cannot_deliver",
    "duplicate_order",
    "other",
];

/// Statuses the supplier may move an order to from `from`.
fn supplier_may(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        ("pending", "approved" | "cancelled_by_supplier")
            | (
                "approved",
                "assigned_to_salesman" | "delivered" | "cancelled_by_supplier"
            )
            | (
                "assigned_to_salesman",
                "delivered" | "returned" | "cancelled_by_supplier"
            )
            | ("delivered", "returned")
    )
}

/// Why a supplier request was refused, with the HTTP status the single endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    pub message: String,
}

fn refuse(status: u16, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        message: message.into(),
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub id: u64,
    pub internal_product_id: String,
    pub name: String,
    pub quantity: i64,
    pub price: f64,
    pub cancelled: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub hashed_id: String,
    pub status: String,
    pub delivered_by: String,
    pub requires_otp: bool,
    pub otp: String,
    pub retailer: String,
    pub lines: Vec<Line>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Acknowledged with `synced`: no longer listed by `pull-orders` until the order changes again.
    pub acknowledged: bool,
    /// Sent with the supplier's cancellation.
    pub cancellation_reason: Option<String>,
}

impl Order {
    pub fn to_json(&self) -> Value {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|l| {
                json!({
                    "id": l.id.to_string(),
                    "internal_product_id": l.internal_product_id,
                    "supplier_product_id": format!("SP-{}", l.internal_product_id),
                    "name": l.name,
                    "quantity": l.quantity,
                    "price": l.price,
                    "cancelled": l.cancelled,
                })
            })
            .collect();
        let total: f64 = self
            .lines
            .iter()
            .filter(|l| !l.cancelled)
            .map(|l| l.price * l.quantity as f64)
            .sum();
        json!({
            "hashed_id": self.hashed_id,
            "status": self.status,
            "delivered_by": self.delivered_by,
            "requires_otp": self.requires_otp,
            "retailer": { "id": format!("R-{}", self.hashed_id), "name": self.retailer, "phone": "+201000000000",
                          "address": "12 Tahrir St", "city": "Cairo" },
            "order_items": lines,
            "total_price": (total * 100.0).round() / 100.0,
            "payment_method": "cash_on_delivery",
            "created_at": self.created_at.to_rfc3339(),
            "updated_at": self.updated_at.to_rfc3339(),
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub internal_product_id: String,
    pub supplier_product_id: String,
    pub unit_count: i64,
    pub available_stock_quantity: i64,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    pub orders: BTreeMap<String, Order>,
    pub products: BTreeMap<String, Product>,
    next_id: u64,
    /// Bulk items that were silently not applied: (hashed_id, reason).
    pub silent_failures: Vec<(String, String)>,
}

impl Store {
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn new_hashed_id(&mut self) -> String {
        let n = self.next_id();
        format!("{}", 632_717_520_000u64 + n * 7919)
    }

    /// A supplier's status request, as both endpoints check it.
    pub fn apply_status(
        &mut self,
        hashed_id: &str,
        status: &str,
        otp: Option<&str>,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        let order = self
            .orders
            .get_mut(hashed_id)
            .ok_or_else(|| refuse(404, format!("Order {hashed_id} not found")))?;
        if order.status == "editing" {
            return Err(refuse(
                422,
                "Order is being edited by the retailer and cannot be updated",
            ));
        }
        if status == "synced" {
            order.acknowledged = true;
            return Ok(());
        }
        if !STATUSES.contains(&status) || status == "editing" || status == "cancelled_by_retailer" {
            return Err(refuse(422, format!("Invalid status {status:?}")));
        }
        if order.status == status {
            return Ok(());
        }
        if order.delivered_by == "cartona"
            && status != "cancelled_by_supplier"
            && status != "approved"
        {
            return Err(refuse(
                422,
                "Order is delivered by Cartona: the supplier may only approve or cancel it",
            ));
        }
        if !supplier_may(&order.status, status) {
            return Err(refuse(
                422,
                format!(
                    "Cannot change order status from {} to {status}",
                    order.status
                ),
            ));
        }
        if status == "delivered" && order.requires_otp {
            match otp {
                None | Some("") => return Err(refuse(422, "retailer_otp is required")),
                Some(given) if given != order.otp => {
                    return Err(refuse(422, "Invalid retailer_otp"));
                }
                Some(_) => {}
            }
        }
        if let Some(reason) = reason
            && !CANCELLATION_REASONS.contains(&reason)
        {
            return Err(refuse(
                422,
                format!("Invalid cancellation_reason {reason:?}"),
            ));
        }
        order.status = status.to_string();
        order.updated_at = now;
        if status == "cancelled_by_supplier" {
            order.cancellation_reason = reason.map(str::to_string);
        }
        // UNVERIFIED assumption: a status change lists an acknowledged order again (as a retailer's change
        // does), so the supplier's re-read can see it; syncdesk acknowledges it again after verifying.
        order.acknowledged = false;
        Ok(())
    }

    /// `update-order-details`: all changes are checked before any is applied.
    pub fn update_details(
        &mut self,
        hashed_id: &str,
        items: &[Value],
        now: DateTime<Utc>,
    ) -> Result<Value, Refusal> {
        let mut next = self.next_id;
        let products = &self.products;
        let order = self
            .orders
            .get_mut(hashed_id)
            .ok_or_else(|| refuse(404, format!("Order {hashed_id} not found")))?;
        if order.status == "editing" {
            return Err(refuse(
                422,
                "Order is being edited by the retailer and cannot be updated",
            ));
        }
        if order.status != "pending" && order.status != "approved" {
            return Err(refuse(
                422,
                format!("Order details cannot be changed in status {}", order.status),
            ));
        }
        let mut lines = order.lines.clone();
        for (i, item) in items.iter().enumerate() {
            let id = item.get("id").and_then(|v| match v {
                Value::String(s) => s.parse::<u64>().ok(),
                Value::Number(n) => n.as_u64(),
                _ => None,
            });
            let quantity = item.get("quantity").and_then(Value::as_i64);
            let cancel = item.get("cancelled").and_then(Value::as_bool) == Some(true);
            match (id, item.get("internal_product_id").and_then(Value::as_str)) {
                (Some(id), _) => {
                    let line = lines
                        .iter_mut()
                        .find(|l| l.id == id)
                        .ok_or_else(|| refuse(422, format!("order_items[{i}]: no line {id}")))?;
                    if cancel {
                        line.cancelled = true;
                    } else {
                        match quantity {
                            Some(q) if q >= 1 => line.quantity = q,
                            _ => {
                                return Err(refuse(
                                    422,
                                    format!("order_items[{i}].quantity must be at least 1"),
                                ));
                            }
                        }
                    }
                }
                (None, Some(product)) => {
                    let q = quantity.filter(|q| *q >= 1).ok_or_else(|| {
                        refuse(422, format!("order_items[{i}].quantity must be at least 1"))
                    })?;
                    if !products.contains_key(product) {
                        return Err(refuse(
                            422,
                            format!("order_items[{i}]: unknown product {product:?}"),
                        ));
                    }
                    next += 1;
                    lines.push(Line {
                        id: next,
                        internal_product_id: product.to_string(),
                        name: format!("Product {product}"),
                        quantity: q,
                        price: 10.0,
                        cancelled: false,
                    });
                }
                (None, None) => {
                    return Err(refuse(
                        422,
                        format!("order_items[{i}] needs an id or an internal_product_id"),
                    ));
                }
            }
        }
        order.lines = lines;
        order.updated_at = now;
        let json = order.to_json();
        self.next_id = next;
        Ok(json)
    }

    /// Sets stock from the supplier's units: Cartona keeps `quantity / unit_count` sellable units.
    pub fn set_stock_units(&mut self, key: &str, quantity: i64) -> bool {
        let Some(product) = self
            .products
            .values_mut()
            .find(|p| p.internal_product_id == key || p.supplier_product_id == key)
        else {
            return false;
        };
        product.available_stock_quantity = quantity.max(0) / product.unit_count.max(1);
        true
    }
}
