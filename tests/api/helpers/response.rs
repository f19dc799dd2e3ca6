//! [`TestResponse`]: an HTTP answer with its body read as JSON.

use http::{HeaderMap, StatusCode};
use serde_json::Value;

/// An HTTP answer.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// The `extensions.code` of the first error.
    pub fn error_code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }

    /// The `extensions.field` of the first error.
    pub fn error_field(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["field"].as_str()
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// Panics with the body unless the response has no errors.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            self.body
        );
        &self.body["data"]
    }
}
