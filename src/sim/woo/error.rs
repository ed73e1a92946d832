//! WooCommerce's error body `{code, message, data: {status}}` and the ones the simulator answers with.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// `data.params` of `rest_invalid_param`: parameter → reason.
    pub params: Option<Value>,
    /// `data.details` of `rest_invalid_param`: parameter → {code, message, data}.
    pub details: Option<Value>,
    /// Further members of `data` (e.g. `resource_id` and `unique_sku` of a duplicated SKU).
    pub extra: Option<Value>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            params: None,
            details: None,
            extra: None,
        }
    }

    /// `rest_invalid_param` for a value of the wrong JSON type (`rest_invalid_type`).
    pub fn invalid_type(param: &str, expected: &str) -> Self {
        let message = format!("{param} is not of type {expected}.");
        Self::invalid_param_detail(
            param,
            message,
            "rest_invalid_type",
            json!({ "param": param }),
        )
    }

    /// `rest_invalid_param` for a value outside an enumeration (`rest_not_in_enum`), worded as WordPress does:
    /// "status is not one of a, b, and c."
    pub fn not_in_enum(param: &str, allowed: &[&str]) -> Self {
        // WordPress' `%l`: "a", "a and b", "a, b, and c".
        let list = match allowed {
            [] => String::new(),
            [one] => (*one).to_string(),
            [first, second] => format!("{first} and {second}"),
            [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
        };
        let message = format!("{param} is not one of {list}.");
        Self::invalid_param_detail(param, message, "rest_not_in_enum", Value::Null)
    }

    /// `rest_invalid_param` with WordPress' `data.details` entry for the parameter.
    pub fn invalid_param_detail(
        param: &str,
        message: String,
        detail_code: &str,
        detail_data: Value,
    ) -> Self {
        Self {
            status: 400,
            code: "rest_invalid_param",
            message: format!("Invalid parameter(s): {param}"),
            params: Some(json!({ param: message })),
            details: Some(
                json!({ param: { "code": detail_code, "message": message, "data": detail_data } }),
            ),
            extra: None,
        }
    }

    /// The same `rest_invalid_param` filed under `param` (an array item's error, e.g. `status[0] …`, is
    /// reported under `status`).
    pub fn for_param(mut self, param: &str) -> Self {
        let take = |v: &Option<Value>| {
            v.as_ref()
                .and_then(|v| v.as_object())
                .and_then(|m| m.values().next().cloned())
        };
        self.message = format!("Invalid parameter(s): {param}");
        self.params = take(&self.params).map(|v| json!({ param: v }));
        self.details = take(&self.details).map(|v| json!({ param: v }));
        self
    }

    /// `data.params` as given (e.g. the list of missing parameters of `rest_missing_callback_param`).
    pub fn with_params(mut self, params: Value) -> Self {
        self.params = Some(params);
        self
    }

    pub fn body(&self) -> Value {
        let mut data = json!({ "status": self.status });
        if let Some(map) = data.as_object_mut() {
            if let Some(params) = &self.params {
                map.insert("params".into(), params.clone());
            }
            if let Some(details) = &self.details {
                map.insert("details".into(), details.clone());
            }
            if let Some(Value::Object(extra)) = &self.extra {
                map.extend(extra.clone());
            }
        }
        json!({ "code": self.code, "message": self.message, "data": data })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.body())).into_response()
    }
}
