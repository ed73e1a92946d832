//! The ERP's state and rules: sales orders with per-company status labels, stock per warehouse with
//! reservations (an open order reserves, shipping consumes, cancelling releases), search and stock windows.

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
        format!("{}", 1_600_000_000u64 + self.next_id)
    }

    fn label(&self, code: &str) -> Result<StockEffect, OprError> {
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

    fn warehouse_id(&self, given: Option<&str>) -> Result<String, OprError> {
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
    fn move_stock(&mut self, mk_id: &str, to: StockEffect) {
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

    /// `put_document` for a sales order; returns the new mk_id.
    pub fn put_sales_order(&mut self, body: &Value) -> Result<String, OprError> {
        let text = |key: &str| body.get(key).and_then(value_text).unwrap_or_default();
        let doc_type = text("doc_type");
        if doc_type != "sales_order" {
            return Err(opr(
                INVALID,
                format!("doc_type '{doc_type}' is not supported here."),
            ));
        }
        let warehouse_id = self.warehouse_id(body.get("warehouse").and_then(Value::as_str))?;
        let status_code = match body.get("status_code").and_then(Value::as_str) {
            Some(code) if !code.is_empty() => code.to_string(),
            _ => self
                .labels
                .first()
                .map(|(code, _)| code.clone())
                .ok_or_else(|| opr(INVALID, "Company has no status labels."))?,
        };
        let effect = self.label(&status_code)?;
        let Some(items) = body.get("product_list").and_then(Value::as_array) else {
            return Err(opr(INVALID, "product_list is required."));
        };
        let mut lines = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let code = item.get("code").and_then(value_text).unwrap_or_default();
            let amount = item.get("amount").and_then(value_number);
            let price = item.get("price").and_then(value_number).unwrap_or(0.0);
            let Some(amount) = amount.filter(|a| *a > 0.0) else {
                return Err(opr(
                    INVALID,
                    format!("product_list[{i}].amount must be a positive number."),
                ));
            };
            if !self
                .stock
                .contains_key(&(warehouse_id.clone(), code.clone()))
            {
                return Err(opr(
                    NOT_FOUND,
                    format!("Product with code '{code}' not found."),
                ));
            }
            lines.push((code, amount, price));
        }
        if lines.is_empty() {
            return Err(opr(INVALID, "product_list is empty."));
        }
        Ok(self.insert_doc(
            text("buyer_order"),
            body.get("partner").cloned(),
            &warehouse_id,
            status_code,
            effect,
            lines,
            text("doc_date"),
        ))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn insert_doc(
        &mut self,
        buyer_order: String,
        partner: Option<Value>,
        warehouse_id: &str,
        status_code: String,
        effect: StockEffect,
        lines: Vec<(String, f64, f64)>,
        doc_date: String,
    ) -> String {
        let mk_id = self.next_mk_id();
        let count = self.docs.len() + 1;
        let lines = lines
            .into_iter()
            .map(|(code, amount, price)| DocLine {
                mk_row_id: self.next_mk_id(),
                code,
                amount,
                price,
            })
            .collect();
        let doc = Doc {
            mk_id: mk_id.clone(),
            doc_type: "sales_order".into(),
            count_code: format!("N-{count:05}"),
            buyer_order,
            status_code,
            // Starts holding nothing; `move_stock` applies the label's effect.
            effect: StockEffect::Release,
            warehouse_id: warehouse_id.to_string(),
            partner: partner.unwrap_or_else(|| json!({})),
            lines,
            doc_date: if doc_date.is_empty() {
                format!("{}+00:00", chrono::Utc::now().format("%Y-%m-%d"))
            } else {
                doc_date
            },
            tracking_code: String::new(),
            delivery_type: String::new(),
            shipped_date: String::new(),
        };
        self.docs.insert(mk_id.clone(), doc);
        self.move_stock(&mk_id, effect);
        mk_id
    }

    /// Finds a document by `mk_id`/`doc_id` or `buyer_order`.
    pub fn find(&self, body: &Value) -> Result<String, OprError> {
        for key in ["mk_id", "doc_id"] {
            if let Some(id) = body.get(key).and_then(value_text).filter(|s| !s.is_empty()) {
                return if self.docs.contains_key(&id) {
                    Ok(id)
                } else {
                    Err(opr(
                        NOT_FOUND,
                        format!("Document with mk_id '{id}' not found."),
                    ))
                };
            }
        }
        if let Some(number) = body
            .get("buyer_order")
            .and_then(value_text)
            .filter(|s| !s.is_empty())
        {
            return self
                .docs
                .values()
                .find(|d| d.buyer_order == number)
                .map(|d| d.mk_id.clone())
                .ok_or_else(|| {
                    opr(
                        NOT_FOUND,
                        format!("Document with buyer_order '{number}' not found."),
                    )
                });
        }
        Err(opr(INVALID, "mk_id or buyer_order is required."))
    }

    /// `update_document`: status (with the shipped-date rule), shipped date, tracking code, delivery type.
    pub fn update_document(&mut self, body: &Value) -> Result<String, OprError> {
        let mk_id = self.find(body)?;
        let shipped_date = body
            .get("shipped_date")
            .and_then(value_text)
            .filter(|s| !s.is_empty());
        if let Some(date) = &shipped_date
            && chrono::NaiveDate::parse_from_str(date.get(..10).unwrap_or(""), "%Y-%m-%d").is_err()
        {
            return Err(opr(
                INVALID,
                format!("shipped_date '{date}' is not a date."),
            ));
        }
        let status = body
            .get("status_code")
            .and_then(value_text)
            .filter(|s| !s.is_empty());
        let effect = match &status {
            Some(code) => Some(self.label(code)?),
            None => None,
        };
        let doc = &self.docs[&mk_id];
        if effect == Some(StockEffect::Consume)
            && shipped_date.is_none()
            && doc.shipped_date.is_empty()
        {
            return Err(opr(
                INVALID,
                format!(
                    "shipped_date is required for status '{}'.",
                    status.clone().unwrap_or_default()
                ),
            ));
        }
        let doc = self.docs.get_mut(&mk_id).expect("found above");
        if let Some(date) = shipped_date {
            doc.shipped_date = date;
        }
        for key in ["tracking_code", "delivery_type"] {
            if let Some(text) = body.get(key).and_then(value_text) {
                if key == "tracking_code" {
                    doc.tracking_code = text;
                } else {
                    doc.delivery_type = text;
                }
            }
        }
        if let (Some(code), Some(effect)) = (status, effect) {
            doc.status_code = code;
            self.move_stock(&mk_id, effect);
        }
        Ok(mk_id)
    }

    /// `change_document_status` on `mk_id` or `mk_id_list`; all ids are checked before any changes.
    pub fn change_status(&mut self, body: &Value) -> Result<Vec<String>, OprError> {
        let code = body
            .get("status_code")
            .and_then(value_text)
            .unwrap_or_default();
        let effect = self.label(&code)?;
        let ids: Vec<String> = match (
            body.get("mk_id_list"),
            body.get("mk_id").and_then(value_text),
        ) {
            (Some(Value::String(list)), _) => list
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            (Some(Value::Array(list)), _) => list.iter().filter_map(value_text).collect(),
            (_, Some(one)) => vec![one],
            _ => return Err(opr(INVALID, "mk_id or mk_id_list is required.")),
        };
        if let Some(missing) = ids.iter().find(|id| !self.docs.contains_key(*id)) {
            return Err(opr(
                NOT_FOUND,
                format!("Document with mk_id '{missing}' not found."),
            ));
        }
        let today = format!("{}+00:00", chrono::Utc::now().format("%Y-%m-%d"));
        for id in &ids {
            let doc = self.docs.get_mut(id).expect("checked above");
            doc.status_code = code.clone();
            if effect == StockEffect::Consume && doc.shipped_date.is_empty() {
                doc.shipped_date = today.clone();
            }
            self.move_stock(id, effect);
        }
        Ok(ids)
    }

    /// `search`: documents of a type whose number, buyer order or customer contains `query`.
    pub fn search(&self, doc_type: &str, query: &str) -> Vec<&Doc> {
        let query = query.to_lowercase();
        self.docs
            .values()
            .filter(|d| d.doc_type == doc_type)
            .filter(|d| {
                query.is_empty()
                    || d.count_code.to_lowercase().contains(&query)
                    || d.buyer_order.to_lowercase().contains(&query)
                    || d.partner
                        .get("customer")
                        .and_then(Value::as_str)
                        .is_some_and(|c| c.to_lowercase().contains(&query))
            })
            .collect()
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
