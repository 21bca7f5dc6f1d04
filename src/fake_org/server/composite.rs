//! `POST .../composite`: up to 25 subrequests (at most 5 queries) run through the same
//! router as top-level requests, answered together and counted as one API call.

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::dispatch::{api_version, json_object, route, segments, Incoming};
use super::reply::{ApiError, Payload, Reply};
use super::state::Shared;

/// Salesforce's documented composite limits.
pub const MAX_COMPOSITE_SUBREQUESTS: usize = 25;
pub const MAX_COMPOSITE_QUERIES: usize = 5;

pub(super) fn composite(shared: &Shared, req: &Incoming) -> Result<Reply, ApiError> {
    let body = json_object(&req.body)?;
    let subrequests = body
        .get("compositeRequest")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ApiError::new(
                400,
                "INVALID_INPUT",
                "The request body must hold a compositeRequest array.",
            )
        })?;
    if subrequests.is_empty() || subrequests.len() > MAX_COMPOSITE_SUBREQUESTS {
        return Err(ApiError::new(
            400,
            "INVALID_INPUT",
            format!(
                "A composite request holds 1 to {MAX_COMPOSITE_SUBREQUESTS} subrequests; this one has {}.",
                subrequests.len()
            ),
        ));
    }
    let parsed: Vec<SubRequest> = subrequests
        .iter()
        .map(SubRequest::parse)
        .collect::<Result<_, _>>()?;
    let queries = parsed.iter().filter(|s| s.is_query()).count();
    if queries > MAX_COMPOSITE_QUERIES {
        return Err(ApiError::new(
            400,
            "INVALID_INPUT",
            format!(
                "A composite request may hold at most {MAX_COMPOSITE_QUERIES} query subrequests; this one has {queries}."
            ),
        ));
    }
    let responses: Vec<Value> = parsed.iter().map(|sub| sub.run(shared, req)).collect();
    Ok(Reply::ok(json!({ "compositeResponse": responses })))
}

struct SubRequest {
    method: String,
    path: String,
    query: Option<String>,
    reference_id: String,
    body: Vec<u8>,
}

impl SubRequest {
    fn parse(value: &Value) -> Result<SubRequest, ApiError> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
        let missing = |key: &str| {
            ApiError::new(
                400,
                "INVALID_INPUT",
                format!("Each composite subrequest needs a '{key}' string."),
            )
        };
        let method = text("method")
            .ok_or_else(|| missing("method"))?
            .to_uppercase();
        let url = text("url").ok_or_else(|| missing("url"))?;
        let reference_id = text("referenceId").ok_or_else(|| missing("referenceId"))?;
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (url.clone(), None),
        };
        let body = match value.get("body") {
            None | Some(Value::Null) => Vec::new(),
            Some(b) => serde_json::to_vec(b).unwrap_or_default(),
        };
        Ok(SubRequest {
            method,
            path,
            query,
            reference_id,
            body,
        })
    }

    fn is_query(&self) -> bool {
        let segs = segments(&self.path);
        segs.len() >= 4 && matches!(segs[3].as_str(), "query" | "queryAll")
    }

    fn run(&self, shared: &Shared, parent: &Incoming) -> Value {
        let sub = Incoming {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            authorization: parent.authorization.clone(),
            query_options: parent.query_options.clone(),
            // Subrequests are unconditional: the fake reads no per-subrequest httpHeaders.
            if_modified_since: None,
            body: self.body.clone(),
            header_bytes: 0,
        };
        let segs = segments(&self.path);
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let result = match segs.as_slice() {
            ["services", "data", version, rest @ ..] => match api_version(version) {
                Some(version) => route(shared, &sub, &version, rest, false),
                None => Err(ApiError::not_found()),
            },
            _ => Err(ApiError::not_found()),
        };
        let reply = result.unwrap_or_else(ApiError::into_reply);
        let mut headers = Map::new();
        for (name, value) in &reply.headers {
            if *name == "location" {
                headers.insert("Location".into(), Value::String(value.clone()));
            }
        }
        let body = match reply.payload {
            Payload::Json(v) => v,
            Payload::Empty => Value::Null,
            Payload::Bytes { data, .. } => {
                Value::String(base64::engine::general_purpose::STANDARD.encode(data))
            }
            Payload::Blob { blob, .. } => {
                Value::String(base64::engine::general_purpose::STANDARD.encode(blob.to_vec()))
            }
        };
        json!({
            "body": body,
            "httpHeaders": headers,
            "httpStatusCode": reply.status,
            "referenceId": self.reference_id,
        })
    }
}
