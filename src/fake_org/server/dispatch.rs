//! Routing: every request, as plain data, to a [`Reply`]. Kept apart from HTTP so composite
//! subrequests run through exactly the same code.

use base64::Engine as _;
use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};

use super::query::{self, read_store};
use super::reply::{oauth_error, ApiError, Payload, Reply};
use super::state::{Admission, Faults, RequestKind, Shared};

/// Salesforce refuses request URIs longer than this with 414.
pub const MAX_URI_BYTES: usize = 16_384;
/// ... and a URI plus headers longer than this with 431.
pub(crate) const MAX_URI_AND_HEADER_BYTES: usize = 16_384;
/// API versions the fake answers (v31.0, Summer '14, to v66.0, Spring '26).
pub(crate) const MIN_API_VERSION: u32 = 31;
pub(crate) const MAX_API_VERSION: u32 = 66;
/// Salesforce's documented composite limits.
pub const MAX_COMPOSITE_SUBREQUESTS: usize = 25;
pub const MAX_COMPOSITE_QUERIES: usize = 5;

/// A request as the router sees it.
#[derive(Debug, Default, Clone)]
pub(crate) struct Incoming {
    pub method: String,
    /// Raw (still percent-encoded) path.
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub query_options: Option<String>,
    pub body: Vec<u8>,
    /// Bytes taken by the request's headers, for the 431 rule.
    pub header_bytes: usize,
}

impl Incoming {
    fn params(&self) -> Vec<(String, String)> {
        self.query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn param(&self, name: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    fn bearer_token(&self) -> Option<&str> {
        let header = self.authorization.as_deref()?.trim();
        let (scheme, token) = header.split_once(' ')?;
        // `OAuth <token>` is the older spelling real orgs still accept.
        (scheme.eq_ignore_ascii_case("Bearer") || scheme.eq_ignore_ascii_case("OAuth"))
            .then(|| token.trim())
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

/// Parses `v59.0` into the version text echoed in URLs (`59.0`), if the fake serves it.
fn api_version(segment: &str) -> Option<String> {
    let text = segment.strip_prefix('v')?;
    let (major, minor) = text.split_once('.')?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(major) || !all_digits(minor) || major.len() > 3 || minor.len() > 1 {
        return None;
    }
    let major_n: u32 = major.parse().ok()?;
    (MIN_API_VERSION..=MAX_API_VERSION)
        .contains(&major_n)
        .then(|| text.to_string())
}

/// The release name of an API version: v59.0 is Winter '24, and releases go Winter, Spring,
/// Summer, one version each.
fn release_label(major: u32) -> String {
    let offset = major as i64 - 59;
    let season = ["Winter", "Spring", "Summer"][offset.rem_euclid(3) as usize];
    let year = 24 + offset.div_euclid(3);
    format!("{season} '{year:02}")
}

/// Handles one request from the network.
pub(crate) fn handle(shared: &Shared, req: &Incoming) -> Reply {
    let uri_len = req.path.len() + req.query.as_ref().map_or(0, |q| q.len() + 1);
    if uri_len > MAX_URI_BYTES {
        return ApiError::new(
            414,
            "URI_TOO_LONG",
            format!("The request URI is {uri_len} bytes long; the limit is {MAX_URI_BYTES}."),
        )
        .into_reply();
    }
    if uri_len + req.header_bytes > MAX_URI_AND_HEADER_BYTES {
        return ApiError::new(
            431,
            "REQUEST_HEADER_FIELDS_TOO_LARGE",
            format!("The request URI and headers exceed {MAX_URI_AND_HEADER_BYTES} bytes."),
        )
        .into_reply();
    }
    let segs = segments(&req.path);
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["services", "oauth2", "token"] => token(shared, req),
        ["services", "data"] => match req.method.as_str() {
            "GET" => versions(),
            other => ApiError::method_not_allowed(other, &["GET", "HEAD"]).into_reply(),
        },
        ["services", "data", version, rest @ ..] => api(shared, req, version, rest),
        ["id", org, user] => identity(shared, req, org, user),
        ["_fake", rest @ ..] => control(shared, req, rest),
        _ => ApiError::not_found().into_reply(),
    }
}

fn versions() -> Reply {
    let list: Vec<Value> = (MIN_API_VERSION..=MAX_API_VERSION)
        .map(|major| {
            json!({
                "label": release_label(major),
                "url": format!("/services/data/v{major}.0"),
                "version": format!("{major}.0"),
            })
        })
        .collect();
    Reply::ok(Value::Array(list))
}

// ---------------------------------------------------------------- OAuth

fn token(shared: &Shared, req: &Incoming) -> Reply {
    shared.count(RequestKind::Token);
    if req.method != "POST" {
        return ApiError::method_not_allowed(&req.method, &["POST"]).into_reply();
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let reply = if field("grant_type").as_deref() != Some("client_credentials") {
        oauth_error("unsupported_grant_type", "grant type not supported")
    } else {
        let (client_id, client_secret) = match basic_credentials(req) {
            Some(pair) => (Some(pair.0), Some(pair.1)),
            None => (field("client_id"), field("client_secret")),
        };
        if client_id.as_deref() != Some(shared.client_id.as_str()) {
            oauth_error("invalid_client_id", "client identifier invalid")
        } else if client_secret.as_deref() != Some(shared.client_secret.as_str()) {
            oauth_error("invalid_client", "invalid client credentials")
        } else if shared.no_run_as_user() {
            oauth_error("invalid_grant", "no client credentials user enabled")
        } else {
            token_success(shared)
        }
    };
    reply
        .with_header("cache-control", "no-cache, no-store".into())
        .with_header("pragma", "no-cache".into())
}

/// `Authorization: Basic base64(client_id:client_secret)`, as simple-salesforce sends.
fn basic_credentials(req: &Incoming) -> Option<(String, String)> {
    let header = req.authorization.as_deref()?.trim();
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    // Clients (simple-salesforce among them) send the two parts raw, not form-encoded.
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn token_success(shared: &Shared) -> Reply {
    let (org_id, user_id) = {
        let store = read_store(shared);
        (
            store.org_id().to_string(),
            store.integration_user_id().to_string(),
        )
    };
    let (access_token, _) = shared.issue_token(&org_id);
    let issued_at = chrono::Utc::now().timestamp_millis().to_string();
    let id = format!("{}/id/{org_id}/{user_id}", shared.base_url);
    let signature = signature(&shared.client_secret, &id, &issued_at);
    // The key set and order of a real client-credentials answer: no expires_in, no refresh_token.
    Reply::ok(json!({
        "access_token": access_token,
        "signature": signature,
        "scope": "api",
        "instance_url": shared.base_url,
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
    }))
}

/// A Base64 value standing in for HMAC-SHA256(secret, id + issued_at); clients never check it.
fn signature(secret: &str, id: &str, issued_at: &str) -> String {
    // FNV-1a over four lanes: deterministic, 32 bytes, no crypto crate needed for a fake.
    let mut out = Vec::with_capacity(32);
    for lane in 0u64..4 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ lane;
        for byte in secret.bytes().chain(id.bytes()).chain(issued_at.bytes()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        out.extend_from_slice(&hash.to_be_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(out)
}

fn identity(shared: &Shared, req: &Incoming, org: &str, user: &str) -> Reply {
    if req.method != "GET" {
        return ApiError::method_not_allowed(&req.method, &["GET"]).into_reply();
    }
    if !req.bearer_token().is_some_and(|t| shared.token_is_valid(t)) {
        return ApiError::invalid_session().into_reply();
    }
    let store = read_store(shared);
    if org != store.org_id() || user != store.integration_user_id() {
        return ApiError::not_found().into_reply();
    }
    let fields = ["Username", "Name", "Email", "FirstName", "LastName"].map(String::from);
    let user_record = store
        .get_record("User", user, Some(&fields), "59.0")
        .unwrap_or(Value::Null);
    let text = |k: &str| user_record.get(k).cloned().unwrap_or(Value::Null);
    Reply::ok(json!({
        "id": format!("{}/id/{org}/{user}", shared.base_url),
        "asserted_user": true,
        "user_id": user,
        "organization_id": org,
        "username": text("Username"),
        "nick_name": text("Username"),
        "display_name": text("Name"),
        "email": text("Email"),
        "first_name": text("FirstName"),
        "last_name": text("LastName"),
        "active": true,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "urls": {
            "rest": format!("{}/services/data/v{{version}}/", shared.base_url),
            "sobjects": format!("{}/services/data/v{{version}}/sobjects/", shared.base_url),
            "query": format!("{}/services/data/v{{version}}/query/", shared.base_url),
        },
    }))
}

// ---------------------------------------------------------------- REST API

/// The request kind for counters, decided from the route alone.
fn classify(method: &str, rest: &[&str]) -> Option<RequestKind> {
    Some(match (method, rest) {
        ("GET", ["sobjects"]) => RequestKind::DescribeGlobal,
        ("GET", ["sobjects", _]) | ("GET", ["sobjects", _, "describe"]) => RequestKind::Describe,
        (_, ["query" | "queryAll"]) => RequestKind::Query,
        (_, ["query" | "queryAll", _]) => RequestKind::QueryMore,
        (_, ["composite"]) => RequestKind::Composite,
        ("GET", ["sobjects", _, _]) => RequestKind::Record,
        ("GET", ["sobjects", _, _, _]) => RequestKind::Blob,
        ("POST", ["sobjects", _]) | ("PATCH" | "DELETE", ["sobjects", _, _]) => {
            RequestKind::Mutation
        }
        _ => return None,
    })
}

fn api(shared: &Shared, req: &Incoming, version_segment: &str, rest: &[&str]) -> Reply {
    let Some(version) = api_version(version_segment) else {
        return ApiError::not_found().into_reply();
    };
    if let Some(kind) = classify(&req.method, rest) {
        shared.count(kind);
    }
    let result = admit(shared, req).and_then(|()| route(shared, req, &version, rest, true));
    let reply = result.unwrap_or_else(ApiError::into_reply);
    reply.with_header("sforce-limit-info", shared.limit_info())
}

/// Fault injection, authentication and the daily limit, in that order; an admitted request
/// counts once against the limit.
fn admit(shared: &Shared, req: &Incoming) -> Result<(), ApiError> {
    if shared.inject_failure() {
        return Err(ApiError::server_unavailable());
    }
    if !req.bearer_token().is_some_and(|t| shared.token_is_valid(t)) {
        return Err(ApiError::invalid_session());
    }
    match shared.admit_api_call() {
        Admission::Allowed => Ok(()),
        Admission::LimitExceeded => Err(ApiError::limit_exceeded()),
    }
}

/// Routes an authenticated API request. `top_level` is false for composite subrequests.
fn route(
    shared: &Shared,
    req: &Incoming,
    version: &str,
    rest: &[&str],
    top_level: bool,
) -> Result<Reply, ApiError> {
    let method = req.method.as_str();
    let only = |allowed: &[&str]| -> Result<(), ApiError> {
        if allowed.contains(&method) {
            Ok(())
        } else {
            Err(ApiError::method_not_allowed(method, allowed))
        }
    };
    match rest {
        [] => {
            only(&["GET"])?;
            Ok(Reply::ok(resources(shared, version)))
        }
        ["limits"] => {
            only(&["GET"])?;
            Ok(Reply::ok(limits(shared)))
        }
        ["limits", "recordCount"] => {
            only(&["GET"])?;
            Ok(Reply::ok(record_counts(shared, req)))
        }
        ["sobjects"] => {
            only(&["GET"])?;
            Ok(Reply::ok(read_store(shared).describe_global(version)))
        }
        ["sobjects", object] => match method {
            "GET" => sobject_summary(shared, version, object),
            "POST" => create(shared, version, object, &req.body),
            other => Err(ApiError::method_not_allowed(other, &["GET", "POST"])),
        },
        ["sobjects", object, "describe"] => {
            only(&["GET"])?;
            read_store(shared)
                .describe(object, version, &shared.base_url)
                .map(Reply::ok)
                .ok_or_else(ApiError::not_found)
        }
        ["sobjects", object, id] => match method {
            "GET" => {
                let fields: Option<Vec<String>> = req.param("fields").map(|f| {
                    f.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                });
                let record =
                    read_store(shared).get_record(object, id, fields.as_deref(), version)?;
                Ok(Reply::ok(record))
            }
            "PATCH" => {
                let body = json_object(&req.body)?;
                write_store(shared).update(object, id, &body)?;
                Ok(Reply::no_content())
            }
            "DELETE" => {
                write_store(shared).delete(object, id)?;
                Ok(Reply::no_content())
            }
            other => Err(ApiError::method_not_allowed(
                other,
                &["GET", "HEAD", "PATCH", "DELETE"],
            )),
        },
        ["sobjects", object, id, field] => {
            only(&["GET"])?;
            blob(shared, object, id, field)
        }
        ["query" | "queryAll"] => {
            only(&["GET"])?;
            let include_deleted = rest[0] == "queryAll";
            let q = req.param("q");
            let body = query::run_query(
                shared,
                version,
                q.as_deref(),
                include_deleted,
                req.query_options.as_deref(),
            )?;
            Ok(Reply::ok(body))
        }
        ["query" | "queryAll", locator] => {
            only(&["GET"])?;
            // A stray `q` (tap-salesforce re-sends it) is ignored: the locator says it all.
            let body = query::query_more(shared, version, locator, req.query_options.as_deref())?;
            Ok(Reply::ok(body))
        }
        ["composite"] if top_level => {
            only(&["POST"])?;
            composite(shared, req)
        }
        _ => Err(ApiError::not_found()),
    }
}

fn write_store(shared: &Shared) -> std::sync::RwLockWriteGuard<'_, crate::fake_org::store::Store> {
    shared
        .store
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::malformed_json("expected a JSON object")),
        Err(err) => Err(ApiError::malformed_json(&err.to_string())),
    }
}

fn resources(shared: &Shared, version: &str) -> Value {
    let base = format!("/services/data/v{version}");
    let identity = {
        let store = read_store(shared);
        format!(
            "{}/id/{}/{}",
            shared.base_url,
            store.org_id(),
            store.integration_user_id()
        )
    };
    json!({
        "limits": format!("{base}/limits"),
        "sobjects": format!("{base}/sobjects"),
        "query": format!("{base}/query"),
        "queryAll": format!("{base}/queryAll"),
        "composite": format!("{base}/composite"),
        "identity": identity,
    })
}

fn limits(shared: &Shared) -> Value {
    json!({
        "DailyApiRequests": {"Max": shared.api_limit, "Remaining": shared.api_remaining()},
        "DailyBulkApiRequests": {"Max": 10000, "Remaining": 10000},
        "DataStorageMB": {"Max": 1024, "Remaining": 1000},
        "FileStorageMB": {"Max": 1024, "Remaining": 1000},
    })
}

fn record_counts(shared: &Shared, req: &Incoming) -> Value {
    let store = read_store(shared);
    let names: Vec<String> = req
        .param("sObjects")
        .map(|s| {
            s.split(',')
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let entries: Vec<Value> = names
        .iter()
        .map(|name| json!({"count": store.record_count(name), "name": name}))
        .collect();
    json!({ "sObjects": entries })
}

/// `GET .../sobjects/{name}`: the describeGlobal entry and no recent items.
fn sobject_summary(shared: &Shared, version: &str, object: &str) -> Result<Reply, ApiError> {
    let global = read_store(shared).describe_global(version);
    let entry = global
        .get("sobjects")
        .and_then(Value::as_array)
        .and_then(|list| {
            list.iter().find(|e| {
                e.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(object))
            })
        })
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(
        json!({"objectDescribe": entry, "recentItems": []}),
    ))
}

fn create(shared: &Shared, version: &str, object: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let fields = json_object(body)?;
    let id = write_store(shared).create(object, &fields)?;
    let canonical = read_store(shared)
        .describe(object, version, &shared.base_url)
        .and_then(|d| d.get("name").and_then(Value::as_str).map(String::from))
        .unwrap_or_else(|| object.to_string());
    Ok(
        Reply::json(201, json!({"id": id, "success": true, "errors": []})).with_header(
            "location",
            format!("/services/data/v{version}/sobjects/{canonical}/{id}"),
        ),
    )
}

fn blob(shared: &Shared, object: &str, id: &str, field: &str) -> Result<Reply, ApiError> {
    if !object.eq_ignore_ascii_case("ContentVersion") || !field.eq_ignore_ascii_case("VersionData")
    {
        return Err(ApiError::not_found());
    }
    let (data, content_type) = read_store(shared)
        .version_data(id)
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply {
        status: 200,
        payload: Payload::Bytes { data, content_type },
        headers: Vec::new(),
    })
}

// ---------------------------------------------------------------- composite

fn composite(shared: &Shared, req: &Incoming) -> Result<Reply, ApiError> {
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
        };
        json!({
            "body": body,
            "httpHeaders": headers,
            "httpStatusCode": reply.status,
            "referenceId": self.reference_id,
        })
    }
}

// ---------------------------------------------------------------- fake-only control

fn control(shared: &Shared, req: &Incoming, rest: &[&str]) -> Reply {
    let result = match (req.method.as_str(), rest) {
        ("GET", ["stats"]) => serde_json::to_value(shared.stats())
            .map(Reply::ok)
            .map_err(|e| ApiError::new(500, "UNKNOWN_EXCEPTION", e.to_string())),
        ("POST" | "DELETE", ["stats"]) | ("POST", ["stats", "reset"]) => {
            shared.reset_stats();
            Ok(Reply::no_content())
        }
        ("POST", ["faults"]) => match serde_json::from_slice::<Faults>(&req.body) {
            Ok(faults) => {
                shared.apply_faults(&faults);
                Ok(Reply::no_content())
            }
            Err(err) => Err(ApiError::malformed_json(&err.to_string())),
        },
        ("POST", ["undelete", id]) => {
            shared.count(RequestKind::Mutation);
            write_store(shared)
                .undelete(id)
                .map(|()| Reply::no_content())
                .map_err(ApiError::from)
        }
        ("POST", ["clock"]) => match serde_json::from_slice::<Value>(&req.body)
            .ok()
            .and_then(|v| v.get("advance_secs").and_then(Value::as_u64))
        {
            Some(secs) => {
                shared.advance_clock(std::time::Duration::from_secs(secs));
                Ok(Reply::no_content())
            }
            None => Err(ApiError::malformed_json(
                "expected {\"advance_secs\": <non-negative integer>}",
            )),
        },
        (_, ["stats" | "faults" | "clock"]) | (_, ["undelete", _]) => {
            Err(ApiError::method_not_allowed(&req.method, &["GET", "POST"]))
        }
        _ => Err(ApiError::not_found()),
    };
    result.unwrap_or_else(ApiError::into_reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_in_range_are_echoed() {
        assert_eq!(api_version("v59.0").as_deref(), Some("59.0"));
        assert_eq!(api_version("v31.0").as_deref(), Some("31.0"));
        assert_eq!(api_version("v66.0").as_deref(), Some("66.0"));
        for bad in [
            "v30.0", "v67.0", "59.0", "vxx.0", "v59", "v59.", "v.0", "v59.00", "v-1.0",
        ] {
            assert_eq!(api_version(bad), None, "{bad}");
        }
    }

    #[test]
    fn release_labels_follow_the_three_a_year_cadence() {
        assert_eq!(release_label(59), "Winter '24");
        assert_eq!(release_label(60), "Spring '24");
        assert_eq!(release_label(61), "Summer '24");
        assert_eq!(release_label(31), "Summer '14");
        assert_eq!(release_label(66), "Spring '26");
    }

    #[test]
    fn routes_are_classified_for_counters() {
        assert_eq!(
            classify("GET", &["sobjects"]),
            Some(RequestKind::DescribeGlobal)
        );
        assert_eq!(
            classify("GET", &["sobjects", "Account", "describe"]),
            Some(RequestKind::Describe)
        );
        assert_eq!(classify("GET", &["query"]), Some(RequestKind::Query));
        assert_eq!(
            classify("GET", &["queryAll", "01g-2000"]),
            Some(RequestKind::QueryMore)
        );
        assert_eq!(
            classify("GET", &["sobjects", "Account", "001"]),
            Some(RequestKind::Record)
        );
        assert_eq!(
            classify("PATCH", &["sobjects", "Account", "001"]),
            Some(RequestKind::Mutation)
        );
        assert_eq!(
            classify("POST", &["sobjects", "Account"]),
            Some(RequestKind::Mutation)
        );
        assert_eq!(
            classify("GET", &["sobjects", "ContentVersion", "068", "VersionData"]),
            Some(RequestKind::Blob)
        );
        assert_eq!(classify("GET", &["limits"]), None);
    }

    #[test]
    fn basic_credentials_decode() {
        let req = Incoming {
            authorization: Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("id:se:cret+%")
            )),
            ..Incoming::default()
        };
        assert_eq!(
            basic_credentials(&req),
            Some(("id".to_string(), "se:cret+%".to_string()))
        );
        let bearer = Incoming {
            authorization: Some("Bearer abc".into()),
            ..Incoming::default()
        };
        assert_eq!(basic_credentials(&bearer), None);
        assert_eq!(bearer.bearer_token(), Some("abc"));
    }
}
