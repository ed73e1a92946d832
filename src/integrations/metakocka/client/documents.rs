//! Document operations: `put_document`, `get_document`, `update_document`, `change_document_status` and the
//! paged `search`. Status codes are the company's own labels; mapping them is the engine's job.

use super::error::MetakockaError;
use super::http::{MetakockaClient, Resend};
use super::types::{DocRef, DocumentUpdate, MkDocument, NewSalesOrder, PutResult};
use serde_json::{Map, Value, json};

pub(crate) const SALES_ORDER: &str = "sales_order";

/// Metakocka's own spelling of a quantity or price: "2", "4.88".
pub(crate) fn num(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

/// Dates go as `YYYY-MM-DD+00:00`, the date-with-offset form Metakocka uses.
fn date(value: chrono::NaiveDate) -> String {
    format!("{}+00:00", value.format("%Y-%m-%d"))
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn add_ref(params: &mut Map<String, Value>, doc: &DocRef, id_key: &str) {
    match doc {
        DocRef::MkId(id) => params.insert(id_key.into(), Value::String(id.clone())),
        DocRef::BuyerOrder(number) => {
            params.insert("buyer_order".into(), Value::String(number.clone()))
        }
    };
}

impl MetakockaClient {
    /// Creates a sales order and returns its `mk_id`. Not resent after an ambiguous failure (it could
    /// create the order twice): look it up by `buyer_order` before trying again.
    pub async fn put_document(&self, order: &NewSalesOrder) -> Result<PutResult, MetakockaError> {
        let lines: Vec<Value> = order
            .lines
            .iter()
            .map(|l| json!({ "code": l.code, "amount": num(l.amount), "price": num(l.price) }))
            .collect();
        let mut params = object(json!({
            "doc_type": SALES_ORDER,
            "buyer_order": order.buyer_order,
            "partner": order.partner,
            "product_list": lines,
        }));
        if let Some(doc_date) = order.doc_date {
            params.insert("doc_date".into(), Value::String(date(doc_date)));
        }
        for (key, value) in [
            ("warehouse", &order.warehouse),
            ("status_code", &order.status_code),
            ("currency_code", &order.currency_code),
        ] {
            if let Some(value) = value {
                params.insert(key.into(), Value::String(value.clone()));
            }
        }
        let answer = self
            .call("put_document", params, Resend::OnlyIfNotApplied)
            .await?;
        Self::decode(&answer, "", answer.body.clone())
    }

    pub async fn get_document(
        &self,
        doc_type: &str,
        doc: &DocRef,
    ) -> Result<MkDocument, MetakockaError> {
        let mut params = object(json!({ "doc_type": doc_type }));
        add_ref(&mut params, doc, "doc_id");
        let answer = self.call("get_document", params, Resend::Safe).await?;
        Self::decode(&answer, "", answer.body.clone())
    }

    /// Changes status, shipped date, tracking code, delivery type or notes of a sales order. Repeating it is
    /// safe.
    pub async fn update_document(
        &self,
        doc: &DocRef,
        update: &DocumentUpdate,
    ) -> Result<(), MetakockaError> {
        let mut params = object(json!({ "doc_type": SALES_ORDER }));
        add_ref(&mut params, doc, "mk_id");
        if let Some(status) = &update.status_code {
            params.insert("status_code".into(), Value::String(status.clone()));
        }
        if let Some(shipped) = update.shipped_date {
            params.insert("shipped_date".into(), Value::String(date(shipped)));
        }
        if let Some(tracking) = &update.tracking_code {
            params.insert("tracking_code".into(), Value::String(tracking.clone()));
        }
        if let Some(delivery) = &update.delivery_type {
            params.insert("delivery_type".into(), Value::String(delivery.clone()));
        }
        if let Some(notes) = &update.notes {
            params.insert("notes".into(), Value::String(notes.clone()));
        }
        self.call("update_document", params, Resend::Safe).await?;
        Ok(())
    }

    /// Sets `status_code` on one or many documents (`mk_id` for one, `mk_id_list` for several).
    pub async fn change_document_status(
        &self,
        doc_type: &str,
        status_code: &str,
        mk_ids: &[String],
    ) -> Result<(), MetakockaError> {
        let mut params = object(json!({ "doc_type": doc_type, "status_code": status_code }));
        match mk_ids {
            [] => return Ok(()),
            [one] => params.insert("mk_id".into(), Value::String(one.clone())),
            many => params.insert("mk_id_list".into(), Value::String(many.join(","))),
        };
        self.call("change_document_status", params, Resend::Safe)
            .await?;
        Ok(())
    }

    /// Every document of `doc_type` matching `query` (all when `None`), as whole documents, paging through
    /// Metakocka's 50-record window.
    pub async fn search(
        &self,
        doc_type: &str,
        query: Option<&str>,
    ) -> Result<Vec<MkDocument>, MetakockaError> {
        let limit = self.config().search_limit as usize;
        let mut all = Vec::new();
        let mut offset = 0usize;
        loop {
            let mut params = object(json!({
                "doc_type": doc_type,
                "result": "doc",
                "offset": offset.to_string(),
                "limit": limit.to_string(),
            }));
            if let Some(query) = query {
                params.insert("query".into(), Value::String(query.to_string()));
            }
            let answer = self.call("search", params, Resend::Safe).await?;
            let total = answer.body.get("result_all_records").and_then(|v| match v {
                Value::String(s) => s.trim().parse::<usize>().ok(),
                Value::Number(n) => n.as_u64().map(|n| n as usize),
                _ => None,
            });
            let page = answer
                .body
                .get("result")
                .cloned()
                .unwrap_or(Value::Array(Vec::new()));
            let docs: Vec<MkDocument> = Self::decode(&answer, "result", page)?;
            let got = docs.len();
            all.extend(docs);
            offset += got;
            let more = match total {
                Some(total) => offset < total,
                None => got == limit,
            };
            if !more || got == 0 {
                return Ok(all);
            }
        }
    }
}
