//! What a handler answers, before it becomes an HTTP response or a composite sub-response.

use serde_json::{json, Map, Value};

use crate::fake_org::soql::SoqlError;
use crate::fake_org::store::StoreError;

/// The body of a reply.
#[derive(Debug)]
pub(crate) enum Payload {
    Json(Value),
    Bytes {
        data: Vec<u8>,
        content_type: String,
    },
    /// A file's bytes, written out piece by piece as they are sent (never whole in memory).
    Blob {
        blob: crate::fake_org::store::Blob,
        content_type: String,
    },
    Empty,
}

/// A handler's answer: status, body and any extra headers.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub payload: Payload,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            payload: Payload::Json(body),
            headers: Vec::new(),
        }
    }

    pub fn ok(body: Value) -> Reply {
        Reply::json(200, body)
    }

    pub fn no_content() -> Reply {
        Reply {
            status: 204,
            payload: Payload::Empty,
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}

/// A REST API error, sent as Salesforce does: a JSON array of `{message, errorCode, fields?}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub error_code: String,
    pub message: String,
    pub fields: Vec<String>,
}

impl ApiError {
    pub fn new(status: u16, error_code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error_code: error_code.to_string(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn not_found() -> ApiError {
        ApiError::new(404, "NOT_FOUND", "The requested resource does not exist")
    }

    pub fn invalid_session() -> ApiError {
        ApiError::new(401, "INVALID_SESSION_ID", "Session expired or invalid")
    }

    pub fn limit_exceeded() -> ApiError {
        ApiError::new(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        )
    }

    pub fn server_unavailable() -> ApiError {
        ApiError::new(503, "SERVER_UNAVAILABLE", "Server Unavailable")
    }

    pub fn invalid_locator() -> ApiError {
        ApiError::new(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    }

    pub fn malformed_json(detail: &str) -> ApiError {
        ApiError::new(
            400,
            "JSON_PARSER_ERROR",
            format!("The request body is not valid JSON: {detail}"),
        )
    }

    /// 405 with the wording Salesforce uses, listing what the resource accepts.
    pub fn method_not_allowed(method: &str, allowed: &[&str]) -> ApiError {
        ApiError::new(
            405,
            "METHOD_NOT_ALLOWED",
            format!(
                "HTTP Method '{method}' not allowed. Allowed are {}",
                allowed.join(",")
            ),
        )
    }

    pub fn body(&self) -> Value {
        let mut entry = Map::new();
        entry.insert("message".into(), Value::String(self.message.clone()));
        entry.insert("errorCode".into(), Value::String(self.error_code.clone()));
        if !self.fields.is_empty() {
            entry.insert("fields".into(), json!(self.fields));
        }
        Value::Array(vec![Value::Object(entry)])
    }

    pub fn into_reply(self) -> Reply {
        let status = self.status;
        let body = self.body();
        let reply = Reply::json(status, body);
        if status == 405 {
            // The message lists the allowed methods; the Allow header says the same to HTTP tools.
            let allowed = self
                .message
                .rsplit("Allowed are ")
                .next()
                .unwrap_or_default()
                .to_string();
            reply.with_header("allow", allowed)
        } else {
            reply
        }
    }
}

impl From<SoqlError> for ApiError {
    fn from(err: SoqlError) -> ApiError {
        // Every SOQL error Salesforce reports (MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE,
        // NUMBER_OUTSIDE_VALID_RANGE, ...) comes back as 400.
        ApiError::new(400, &err.error_code, err.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        ApiError {
            status: err.status_code(),
            error_code: err.error_code().to_string(),
            message: err.to_string(),
            fields: err.fields(),
        }
    }
}

/// An OAuth token-endpoint error: a JSON object, not an array, always HTTP 400.
pub(crate) fn oauth_error(error: &str, description: &str) -> Reply {
    Reply::json(
        400,
        json!({ "error": error, "error_description": description }),
    )
}
