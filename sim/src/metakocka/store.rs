//! The ERP's state: stock per warehouse with reservations (an open order reserves, shipping consumes,
//! cancelling releases), documents and per-company status labels. Document operations are in `documents`.

use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What a status label does to the order's stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockEffect {
    /// Open order: the amounts are reserved.
    Reserve,
    /// Shipped or delivered: the amounts left the warehouse (needs a shipped date).
    Consume,
    /// Cancelled: nothing held.
    Release,
}

impl StockEffect {
    /// (amount, reserved) change this effect contributes for a line of `q`.
    fn contribution(self, q: f64) -> (f64, f64) {
        match self {
            StockEffect::Reserve => (0.0, q),
            StockEffect::Consume => (-q, 0.0),
            StockEffect::Release => (0.0, 0.0),
        }
    }
}

/// A refusal as Metakocka reports it: HTTP 200 with `opr_code` > 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OprError {
    pub code: &'static str,
    pub desc: String,
}

/// The simulator's codes (Metakocka's real numbering is not documented in the reference).
pub(crate) const AUTH: &str = "1";
pub(crate) const INVALID: &str = "2";
pub(crate) const NOT_FOUND: &str = "3";

pub(crate) fn opr(code: &'static str, desc: impl Into<String>) -> OprError {
    OprError {
        code,
        desc: desc.into(),
    }
}

#[derive(Debug, Clone)]
pub(crate) struct StockRec {
    pub mk_id: String,
    pub title: String,
    pub amount: f64,
    pub reserved: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct DocLine {
    pub mk_row_id: String,
    pub code: String,
    pub amount: f64,
    pub price: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct Doc {
    pub mk_id: String,
    pub doc_type: String,
    pub count_code: String,
    pub buyer_order: String,
    pub status_code: String,
    pub effect: StockEffect,
    pub warehouse_id: String,
    pub partner: Value,
    pub lines: Vec<DocLine>,
    pub doc_date: String,
    pub tracking_code: String,
    pub delivery_type: String,
    pub shipped_date: String,
    pub notes: String,
}

fn num(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

impl Doc {
    pub fn to_json(&self) -> Value {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|l| {
                json!({ "mk_row_id": l.mk_row_id, "code": l.code, "amount": num(l.amount),
                        "price": num(l.price), "opr_code": "0" })
            })
            .collect();
        json!({
            "opr_code": "0",
            "mk_id": self.mk_id,
            "doc_type": self.doc_type,
            "count_code": self.count_code,
            "buyer_order": self.buyer_order,
            "status_code": self.status_code,
            "doc_date": self.doc_date,
            "partner": self.partner,
            "warehouse": self.warehouse_id,
            "product_list": lines,
            "tracking_code": self.tracking_code,
            "delivery_type": self.delivery_type,
            "shipped_date": self.shipped_date,
            "notes": self.notes,
        })
    }
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    /// (warehouse id, label).
    pub warehouses: Vec<(String, String)>,
    /// Per-company status labels in order; the first is a new order's status.
    pub labels: Vec<(String, StockEffect)>,
    /// (warehouse id, product code) → stock.
    pub stock: BTreeMap<(String, String), StockRec>,
    pub docs: BTreeMap<String, Doc>,
    pub next_id: u64,
    /// The company uses reservations: stock rows carry `reserved_amount` and `free_amount`.
    pub reservations: bool,
    /// Stock rows changed since the last webhook batch was taken.
    pub changed: Vec<(String, String)>,
}

impl Store {
    pub fn next_mk_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}", 1_700_000_000u64 + self.next_id)
    }

    pub(super) fn label(&self, code: &str) -> Result<StockEffect, OprError> {
        self.labels
            .iter()
            .find(|(label, _)| label == code)
            .map(|(_, effect)| *effect)
            .ok_or_else(|| {
                opr(
                    INVALID,
                    format!("Status code '{code}' does not exist for this company."),
                )
            })
    }

    pub(super) fn warehouse_id(&self, given: Option<&str>) -> Result<String, OprError> {
        match given {
            None | Some("") => self
                .warehouses
                .first()
                .map(|(id, _)| id.clone())
                .ok_or_else(|| opr(INVALID, "Company has no warehouse.")),
            Some(name) => self
                .warehouses
                .iter()
                .find(|(id, label)| id == name || label == name)
                .map(|(id, _)| id.clone())
                .ok_or_else(|| opr(INVALID, format!("Warehouse '{name}' not found."))),
        }
    }

    /// Sets a product's physical amount (the reservation stays).
    pub fn set_stock(&mut self, warehouse_id: &str, code: &str, amount: f64) {
        let mk_id = self.next_mk_id();
        let rec = self
            .stock
            .entry((warehouse_id.to_string(), code.to_string()))
            .or_insert_with(|| StockRec {
                mk_id,
                title: format!("Product {code}"),
                amount: 0.0,
                reserved: 0.0,
            });
        rec.amount = amount;
        self.changed
            .push((warehouse_id.to_string(), code.to_string()));
    }

    /// Moves a document's stock from its current effect to `to`.
    pub(super) fn move_stock(&mut self, mk_id: &str, to: StockEffect) {
        let Some(doc) = self.docs.get(mk_id) else {
            return;
        };
        let from = doc.effect;
        if from == to {
            return;
        }
        let warehouse = doc.warehouse_id.clone();
        let lines: Vec<(String, f64)> = doc
            .lines
            .iter()
            .map(|l| (l.code.clone(), l.amount))
            .collect();
        for (code, q) in lines {
            let (old_amount, old_reserved) = from.contribution(q);
            let (new_amount, new_reserved) = to.contribution(q);
            if let Some(rec) = self.stock.get_mut(&(warehouse.clone(), code.clone())) {
                rec.amount += new_amount - old_amount;
                rec.reserved += new_reserved - old_reserved;
                self.changed.push((warehouse.clone(), code));
            }
        }
        if let Some(doc) = self.docs.get_mut(mk_id) {
            doc.effect = to;
        }
    }

    pub fn stock_row(&self, (warehouse, code): &(String, String), rec: &StockRec) -> Value {
        let mut row = json!({
            "warehouse_id": warehouse,
            "mk_id": rec.mk_id,
            "count_code": code,
            "code": code,
            "title": rec.title,
            "amount": num(rec.amount),
            "unit": "kos",
        });
        if self.reservations
            && let Some(map) = row.as_object_mut()
        {
            map.insert("reserved_amount".into(), json!(num(rec.reserved)));
            map.insert("free_amount".into(), json!(num(rec.amount - rec.reserved)));
        }
        row
    }
}

/// A string field Metakocka may also get as a number.
pub(crate) fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn value_number(value: &Value) -> Option<f64> {
    match value {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}
