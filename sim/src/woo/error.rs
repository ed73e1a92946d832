//! WooCommerce's error body `{code, message, data: {status, …}}` and the ones the simulator answers with,
//! including WordPress' `rest_invalid_param` with `data.params` and `data.details`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Members of `data` besides `status` (`params`, `details`, `resource_id`, …); boxed, as most errors
    /// have none.
    pub data: Option<Box<Map<String, Value>>>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Adds a member to `data`.
    pub fn with_data(mut self, key: &str, value: Value) -> Self {
        self.data
            .get_or_insert_with(Default::default)
            .insert(key.to_string(), value);
        self
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

    /// `rest_invalid_param` with WordPress' `data.params` and `data.details` entries for the parameter.
    pub fn invalid_param_detail(
        param: &str,
        message: String,
        detail_code: &str,
        detail_data: Value,
    ) -> Self {
        Self::new(
            400,
            "rest_invalid_param",
            format!("Invalid parameter(s): {param}"),
        )
        .with_data("params", json!({ param: message }))
        .with_data(
            "details",
            json!({ param: { "code": detail_code, "message": message, "data": detail_data } }),
        )
    }

    /// The same `rest_invalid_param` filed under `param` (an array item's error, e.g. `status[0] …`, is
    /// reported under `status`).
    pub fn for_param(mut self, param: &str) -> Self {
        self.message = format!("Invalid parameter(s): {param}");
        if let Some(data) = &mut self.data {
            for key in ["params", "details"] {
                let first = data
                    .get(key)
                    .and_then(Value::as_object)
                    .and_then(|m| m.values().next().cloned());
                if let Some(first) = first {
                    data.insert(key.into(), json!({ param: first }));
                }
            }
        }
        self
    }

    pub fn body(&self) -> Value {
        let mut data = Map::new();
        data.insert("status".into(), json!(self.status));
        if let Some(extra) = &self.data {
            data.extend(extra.as_ref().clone());
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
