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
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            params: None,
        }
    }

    pub fn invalid_param(param: &str, reason: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: "rest_invalid_param",
            message: format!("Invalid parameter(s): {param}"),
            params: Some(json!({ param: reason.into() })),
        }
    }

    pub fn body(&self) -> Value {
        let mut data = json!({ "status": self.status });
        if let (Some(params), Some(map)) = (&self.params, data.as_object_mut()) {
            map.insert("params".into(), params.clone());
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
