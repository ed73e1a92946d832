//! The store's API writes beyond stock batches: creating, editing and deleting products, variations and
//! orders, as WooCommerce 10's REST controllers do them. A direct request is validated against the route's
//! schema first (wrong JSON types are `rest_invalid_param`); a batch item is not (core hands it straight to
//! the handler), so `"7.6"` as a batch stock quantity is stored as 7 and an unknown status in an order batch
//! becomes `pending`, as on the real store.

use super::error::ApiError;
use super::model::{Customer, Product};
use super::store::{ORDER_STATUSES, Store, invalid_order_id};
use serde_json::{Map, Value};

/// How strictly a write's fields are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// A direct request: the route's JSON schema applies.
    Schema,
    /// A batch item: no schema, values are coerced as PHP would.
    Lenient,
}

pub(crate) fn invalid_product_id(status: u16) -> ApiError {
    ApiError::new(status, "woocommerce_rest_product_invalid_id", "Invalid ID.")
}

/// PHP's `intval` of a string: optional sign and leading digits (`"7.6"` → 7, `"abc"` → 0).
fn php_intval(text: &str) -> i64 {
    let text = text.trim_start();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
    sign * digits.parse::<i64>().unwrap_or(0)
}

fn field_text(
    fields: &Map<String, Value>,
    name: &str,
    check: Check,
) -> Result<Option<String>, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) if check == Check::Lenient => Ok(Some(n.to_string())),
        Some(_) => Err(ApiError::invalid_type(name, "string")),
    }
}

fn field_bool(
    fields: &Map<String, Value>,
    name: &str,
    check: Check,
) -> Result<Option<bool>, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        // WordPress' schema accepts the usual boolean spellings.
        Some(Value::String(s)) if ["true", "1"].contains(&s.as_str()) => Ok(Some(true)),
        Some(Value::String(s)) if ["false", "0", ""].contains(&s.as_str()) => Ok(Some(false)),
        Some(Value::Number(n)) if check == Check::Lenient => Ok(Some(n.as_f64() != Some(0.0))),
        Some(_) => Err(ApiError::invalid_type(name, "boolean")),
    }
}

/// An integer field: the schema takes integers and integral strings; a batch takes anything `intval` takes.
fn field_int(
    fields: &Map<String, Value>,
    name: &str,
    check: Check,
) -> Result<Option<i64>, ApiError> {
    let value = match fields.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(value) => value,
    };
    let strict = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match (strict, check) {
        (Some(n), _) => Ok(Some(n)),
        (None, Check::Schema) => Err(ApiError::invalid_type(name, "integer")),
        (None, Check::Lenient) => Ok(Some(match value {
            Value::Number(n) => n.as_f64().map(|f| f.trunc() as i64).unwrap_or(0),
            Value::String(s) => php_intval(s),
            Value::Bool(b) => i64::from(*b),
            _ => 0,
        })),
    }
}

/// The writable product fields of one request or batch item.
#[derive(Debug, Default)]
pub(crate) struct ProductFields {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub sku: Option<String>,
    pub regular_price: Option<String>,
    pub sale_price: Option<String>,
    pub manage_stock: Option<bool>,
    pub stock_quantity: Option<i64>,
    pub stock_status: Option<String>,
    pub status: Option<String>,
}

impl ProductFields {
    pub fn parse(fields: &Map<String, Value>, check: Check) -> Result<Self, ApiError> {
        let status = field_text(fields, "status", check)?;
        if check == Check::Schema
            && let Some(status) = &status
            && !["draft", "pending", "private", "publish", "future"].contains(&status.as_str())
        {
            return Err(ApiError::not_in_enum(
                "status",
                &["draft", "pending", "private", "publish", "future"],
            ));
        }
        let kind = field_text(fields, "type", check)?;
        if check == Check::Schema
            && let Some(kind) = &kind
            && !["simple", "grouped", "external", "variable"].contains(&kind.as_str())
        {
            return Err(ApiError::not_in_enum(
                "type",
                &["simple", "grouped", "external", "variable"],
            ));
        }
        let stock_status = field_text(fields, "stock_status", check)?;
        Ok(Self {
            name: field_text(fields, "name", check)?,
            kind,
            sku: field_text(fields, "sku", check)?,
            regular_price: field_text(fields, "regular_price", check)?,
            sale_price: field_text(fields, "sale_price", check)?,
            manage_stock: field_bool(fields, "manage_stock", check)?,
            stock_quantity: field_int(fields, "stock_quantity", check)?,
            stock_status,
            status,
        })
    }
}

/// Prices are kept as given when they are numbers (core's `wc_format_decimal`); anything else is stored as "".
fn price(text: String) -> String {
    let trimmed = text.trim();
    if trimmed.parse::<f64>().is_ok() {
        trimmed.to_string()
    } else {
        String::new()
    }
}

impl Store {
    /// The product `sku` belongs to, compared as the database does (case-insensitively), other than `except`.
    fn sku_owner(&self, sku: &str, except: Option<u64>) -> Option<u64> {
        self.product_by_sku(sku)
            .map(|p| p.id)
            .filter(|id| Some(*id) != except)
    }

    fn duplicate_sku(&self, sku: &str, owner: u64) -> ApiError {
        ApiError::new(400, "product_invalid_sku", "Invalid or duplicated SKU.")
            .with_data("resource_id", serde_json::json!(owner))
            .with_data("unique_sku", serde_json::json!(format!("{sku}-1")))
    }

    /// `POST /products` (or a batch `create`), `parent` for `POST /products/{id}/variations`.
    pub fn create_product(
        &mut self,
        fields: ProductFields,
        parent: Option<u64>,
    ) -> Result<u64, ApiError> {
        if let Some(sku) = fields.sku.as_deref().filter(|s| !s.is_empty())
            && let Some(owner) = self.sku_owner(sku, None)
        {
            return Err(self.duplicate_sku(sku, owner));
        }
        if let Some(parent) = parent
            && self
                .products
                .get(&parent)
                .is_none_or(|p| p.kind != "variable")
        {
            return Err(ApiError::new(
                404,
                "woocommerce_rest_product_variation_invalid_parent",
                "Invalid parent product ID.",
            ));
        }
        let at = self.now();
        let id = self.next_id();
        let kind = match parent {
            Some(_) => "variation".to_string(),
            None => fields.kind.clone().unwrap_or_else(|| "simple".into()),
        };
        let parent_name = parent
            .and_then(|p| self.products.get(&p))
            .map(|p| p.name.clone());
        let manage_stock = fields.manage_stock.unwrap_or(false);
        let product = Product {
            id,
            name: fields
                .name
                .clone()
                .or(parent_name)
                .unwrap_or_else(|| "Product".into()),
            sku: fields.sku.clone().unwrap_or_default(),
            kind,
            status: fields.status.clone().unwrap_or_else(|| "publish".into()),
            regular_price: fields.regular_price.clone().map(price).unwrap_or_default(),
            sale_price: fields.sale_price.clone().map(price).unwrap_or_default(),
            manage_stock,
            stock_quantity: if manage_stock {
                Some(fields.stock_quantity.unwrap_or(0))
            } else {
                None
            },
            stock_status: fields
                .stock_status
                .clone()
                .unwrap_or_else(|| "instock".into()),
            variations: Vec::new(),
            parent_id: parent.unwrap_or(0),
            created: at,
            modified: at,
        };
        self.products.insert(id, product);
        if let Some(parent) = parent
            && let Some(parent) = self.products.get_mut(&parent)
        {
            parent.variations.push(id);
        }
        self.forget_sku_index();
        self.emit("product.created", id);
        Ok(id)
    }

    /// `PUT /products/{id}` (or `…/variations/{id}`, `parent` set): every product write fires `product.updated`.
    pub fn update_product(
        &mut self,
        id: u64,
        fields: ProductFields,
        parent: Option<u64>,
        missing: ApiError,
    ) -> Result<(), ApiError> {
        let product = self.products.get(&id).ok_or_else(|| missing.clone())?;
        let belongs = match parent {
            Some(parent) => product.kind == "variation" && product.parent_id == parent,
            None => product.kind != "variation",
        };
        if !belongs {
            return Err(missing);
        }
        if self.locked.contains(&id) {
            return Err(ApiError::new(
                403,
                "woocommerce_rest_cannot_edit",
                "Sorry, you are not allowed to edit this resource.",
            ));
        }
        if let Some(sku) = fields.sku.as_deref().filter(|s| !s.is_empty())
            && let Some(owner) = self.sku_owner(sku, Some(id))
        {
            return Err(self.duplicate_sku(sku, owner));
        }
        let at = self.now();
        let sku_changed = fields.sku.is_some();
        let Some(product) = self.products.get_mut(&id) else {
            return Err(missing);
        };
        if let Some(name) = fields.name {
            product.name = name;
        }
        if let Some(sku) = fields.sku {
            product.sku = sku;
        }
        if let Some(value) = fields.regular_price {
            product.regular_price = price(value);
        }
        if let Some(value) = fields.sale_price {
            product.sale_price = price(value);
        }
        if let Some(manage) = fields.manage_stock {
            product.manage_stock = manage;
            if manage && product.stock_quantity.is_none() {
                product.stock_quantity = Some(0);
            }
        }
        // Like core: a quantity is only stored when the product manages stock.
        if let Some(quantity) = fields.stock_quantity
            && product.manage_stock
        {
            product.stock_quantity = Some(quantity);
        }
        if let Some(status) = fields.stock_status {
            product.stock_status = status;
        }
        if let Some(status) = fields.status {
            product.status = status;
        }
        product.modified = at;
        if sku_changed {
            self.forget_sku_index();
        }
        self.emit("product.updated", id);
        Ok(())
    }

    /// `DELETE /products/{id}`: to the trash, or gone with `force` (a variable product's variations too).
    /// Returns the product as it was.
    pub fn delete_product(
        &mut self,
        id: u64,
        force: bool,
        missing: ApiError,
    ) -> Result<Value, ApiError> {
        let before = self.product_json_by_id(id).ok_or(missing)?;
        if force {
            let removed = self.products.remove(&id);
            if let Some(product) = &removed {
                for variation in &product.variations {
                    self.products.remove(variation);
                }
                if let Some(parent) = self.products.get_mut(&product.parent_id) {
                    parent.variations.retain(|v| *v != id);
                }
            }
            self.locked.remove(&id);
            self.forget_sku_index();
            self.emit("product.deleted", id);
        } else {
            let at = self.now();
            if let Some(product) = self.products.get_mut(&id) {
                product.status = "trash".into();
                product.modified = at;
            }
            self.emit("product.deleted", id);
        }
        Ok(before)
    }

    /// `POST /orders` (or a batch `create`): lines by `product_id`/`variation_id` or `sku`, `set_paid`
    /// marks it paid (processing, stock reduced).
    pub fn create_order_from_api(
        &mut self,
        body: &Map<String, Value>,
        check: Check,
    ) -> Result<u64, ApiError> {
        let status = field_text(body, "status", check)?;
        if let Some(status) = &status
            && check == Check::Schema
        {
            check_api_status(status)?;
        }
        let set_paid = field_bool(body, "set_paid", check)?.unwrap_or(false);
        let mut lines = Vec::new();
        for line in body
            .get("line_items")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let Some(line) = line.as_object() else {
                continue;
            };
            let quantity = field_int(line, "quantity", Check::Lenient)?.unwrap_or(1);
            let variation = field_int(line, "variation_id", Check::Lenient)?.unwrap_or(0);
            let product = field_int(line, "product_id", Check::Lenient)?.unwrap_or(0);
            let by_sku = field_text(line, "sku", Check::Lenient)?
                .and_then(|sku| self.product_by_sku(&sku).map(|p| p.id));
            let id = [variation, product]
                .into_iter()
                .filter(|id| *id > 0)
                .map(|id| id as u64)
                .find(|id| self.products.contains_key(id))
                .or(by_sku);
            // Core keeps a line whose product it cannot find (id 0): no product, no SKU.
            lines.push((id.unwrap_or(0), quantity));
        }
        let customer = |name: &str| -> Customer {
            let address = body.get(name).and_then(Value::as_object);
            let get = |key: &str| {
                address
                    .and_then(|a| a.get(key))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            Customer {
                first_name: get("first_name"),
                last_name: get("last_name"),
                email: get("email"),
                city: get("city"),
            }
        };
        let billing = customer("billing");
        let shipping = if body.get("shipping").is_some() {
            customer("shipping")
        } else {
            billing.clone()
        };
        let at = self.now();
        let id = self.create_order_from_ids(&lines, "pending", billing, at)?;
        let paid_status = if set_paid { Some("processing") } else { None };
        let target = status.as_deref().or(paid_status);
        if let Some(order) = self.orders.get_mut(&id) {
            order.shipping = shipping;
            order.created_via = "rest-api";
            // An API order has the payment method it is given, none by default.
            order.payment_method =
                field_text(body, "payment_method", Check::Lenient)?.unwrap_or_default();
            order.payment_method_title =
                field_text(body, "payment_method_title", Check::Lenient)?.unwrap_or_default();
            order.customer_note = field_text(body, "customer_note", check)?.unwrap_or_default();
        }
        if set_paid && let Some(order) = self.orders.get_mut(&id) {
            order.date_paid = Some(at);
        }
        if let Some(target) = target.filter(|s| *s != "pending") {
            let target = if ORDER_STATUSES.contains(&target) {
                target
            } else {
                "pending"
            };
            self.change_status(id, target, at)?;
        }
        Ok(id)
    }

    /// `PUT /orders/{id}` (or a batch `update`): status, customer note, addresses.
    pub fn update_order_from_api(
        &mut self,
        id: u64,
        body: &Map<String, Value>,
        check: Check,
        missing: ApiError,
    ) -> Result<(), ApiError> {
        if !self.orders.contains_key(&id) {
            return Err(missing);
        }
        let status = field_text(body, "status", check)?;
        if let Some(status) = &status
            && check == Check::Schema
        {
            check_api_status(status)?;
        }
        let note = field_text(body, "customer_note", check)?;
        let at = self.now();
        if let Some(order) = self.orders.get_mut(&id) {
            if let Some(note) = note {
                order.customer_note = note;
            }
            for (name, who) in [
                ("billing", &mut order.customer),
                ("shipping", &mut order.shipping),
            ] {
                if let Some(address) = body.get(name).and_then(Value::as_object) {
                    let set = |key: &str, slot: &mut String| {
                        if let Some(value) = address.get(key).and_then(Value::as_str) {
                            *slot = value.to_string();
                        }
                    };
                    set("first_name", &mut who.first_name);
                    set("last_name", &mut who.last_name);
                    set("city", &mut who.city);
                    set("email", &mut who.email);
                }
            }
            order.modified = at;
        }
        if let Some(status) = status {
            // Core's set_status turns a status it does not know into `pending`.
            let status = if ORDER_STATUSES.contains(&status.as_str()) {
                status
            } else {
                "pending".to_string()
            };
            self.change_status(id, &status, at)?;
        }
        self.emit("order.updated", id);
        Ok(())
    }

    /// `DELETE /orders/{id}`: to the trash, or gone with `force`. Returns the order as it was.
    pub fn delete_order(&mut self, id: u64, force: bool) -> Result<Value, ApiError> {
        let before = self
            .order_json_by_id(id)
            .ok_or_else(|| invalid_order_id(404))?;
        if force {
            self.orders.remove(&id);
            self.notes.remove(&id);
        } else {
            let at = self.now();
            if let Some(order) = self.orders.get_mut(&id) {
                order.status = "trash".into();
                order.modified = at;
            }
        }
        self.emit("order.deleted", id);
        Ok(before)
    }
}

/// A status a direct `PUT`/`POST` accepts (the schema's enum).
fn check_api_status(status: &str) -> Result<(), ApiError> {
    if ORDER_STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(ApiError::not_in_enum("status", ORDER_STATUSES))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intval_like_php() {
        assert_eq!(php_intval("7.6"), 7);
        assert_eq!(php_intval(" -3x"), -3);
        assert_eq!(php_intval("abc"), 0);
    }
}
