//! Document operations on the ERP state: `put_document` (sales orders), lookups by mk_id or buyer_order,
//! `update_document` with the shipped-date rule, `change_document_status` and `search`.

use super::store::{
    Doc, DocLine, INVALID, NOT_FOUND, OprError, StockEffect, Store, opr, value_number, value_text,
};
use serde_json::{Value, json};

impl Store {
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
            notes: String::new(),
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

    /// `update_document`: status (with the shipped-date rule), shipped date, tracking code, delivery type, notes.
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
        for key in ["tracking_code", "delivery_type", "notes"] {
            if let Some(text) = body.get(key).and_then(value_text) {
                match key {
                    "tracking_code" => doc.tracking_code = text,
                    "delivery_type" => doc.delivery_type = text,
                    _ => doc.notes = text,
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
}
