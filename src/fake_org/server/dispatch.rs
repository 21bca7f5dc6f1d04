//! Routing: every request, as plain data, to a [`Reply`]. Kept apart from HTTP so composite
//! subrequests run through exactly the same code.

use crate::sync;
use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};

use super::bulk;
use super::columns::query_columns;
use super::composite::composite;
use super::control::control;
use super::describe;
use super::identity::{identity, userinfo};
use super::limits;
use super::oauth::token;
use super::query::{self, read_store};
use super::reply::{ApiError, Payload, Reply};
use super::search;
use super::state::{Admission, RequestKind, Shared};
use super::{tooling, tree};

/// Salesforce refuses request URIs longer than this with 414.
pub const MAX_URI_BYTES: usize = 16_384;
/// ... and a URI plus headers longer than this with 431.
pub(crate) const MAX_URI_AND_HEADER_BYTES: usize = 16_384;
/// API versions the fake answers (v31.0, Summer '14, to v66.0, Spring '26).
pub(crate) const MIN_API_VERSION: u32 = 31;
pub(crate) const MAX_API_VERSION: u32 = 66;

/// A request as the router sees it.
#[derive(Debug, Default, Clone)]
pub(crate) struct Incoming {
    pub method: String,
    /// Raw (still percent-encoded) path.
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub query_options: Option<String>,
    /// The `If-Modified-Since` header, which describes honour.
    pub if_modified_since: Option<String>,
    pub body: Vec<u8>,
    /// Bytes taken by the request's headers, for the 431 rule.
    pub header_bytes: usize,
}

impl Incoming {
    pub(super) fn params(&self) -> Vec<(String, String)> {
        self.query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(super) fn param(&self, name: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub(super) fn bearer_token(&self) -> Option<&str> {
        let header = self.authorization.as_deref()?.trim();
        let (scheme, token) = header.split_once(' ')?;
        // `OAuth <token>` is the older spelling real orgs still accept.
        (scheme.eq_ignore_ascii_case("Bearer") || scheme.eq_ignore_ascii_case("OAuth"))
            .then(|| token.trim())
    }
}

pub(super) fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

/// Parses `v59.0` into the version text echoed in URLs (`59.0`), if the fake serves it.
pub(super) fn api_version(segment: &str) -> Option<String> {
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

/// The major number of a version already checked by [`api_version`] (`59` for `59.0`).
pub(super) fn major_version(version: &str) -> u32 {
    version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(MAX_API_VERSION)
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
        ["services", "oauth2", "userinfo"] => userinfo(shared, req),
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
        (_, ["jobs", "query", _, "results"]) => RequestKind::BulkQueryResults,
        (_, ["jobs", "query"] | ["jobs", "query", _]) => RequestKind::BulkQueryJob,
        ("GET", ["limits"]) => RequestKind::Limits,
        (_, ["search" | "parameterizedSearch"]) => RequestKind::Search,
        (_, ["composite", "tree", _]) => RequestKind::CompositeTree,
        (_, ["tooling", "query"]) => RequestKind::ToolingQuery,
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
pub(super) fn route(
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
        ["limits", sub @ ..] => limits::route(shared, req, version, sub),
        ["sobjects"] => {
            only(&["GET"])?;
            Ok(describe::describe_global(shared, req, version))
        }
        ["sobjects", object] => match method {
            "GET" => sobject_summary(shared, version, object),
            "POST" => create(shared, version, object, &req.body),
            other => Err(ApiError::method_not_allowed(other, &["GET", "POST"])),
        },
        ["sobjects", object, "describe"] => {
            only(&["GET"])?;
            describe::describe(shared, req, version, object)
        }
        ["sobjects", object, id] => record(shared, req, version, object, id),
        ["sobjects", object, id, field] => {
            only(&["GET"])?;
            blob(shared, object, id, field)
        }
        ["query" | "queryAll"] => {
            only(&["GET"])?;
            query(shared, req, version, rest[0] == "queryAll")
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
        ["jobs", "query", job @ ..] if top_level => bulk::route(shared, req, version, job),
        ["search" | "parameterizedSearch"] => search::route(shared, req, version, rest[0]),
        ["composite", "tree", object] if top_level => tree::route(shared, req, object),
        ["tooling", tooling @ ..] => tooling::route(shared, req, version, tooling),
        _ => Err(ApiError::not_found()),
    }
}

/// One record by Id: read (optionally some fields), update or delete.
fn record(
    shared: &Shared,
    req: &Incoming,
    version: &str,
    object: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    match req.method.as_str() {
        "GET" => {
            let fields: Option<Vec<String>> = req.param("fields").map(|f| {
                f.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            });
            let record = read_store(shared).get_record(object, id, fields.as_deref(), version)?;
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
    }
}

/// The first page of a query, or with `columns=true` its column metadata and no rows.
fn query(
    shared: &Shared,
    req: &Incoming,
    version: &str,
    include_deleted: bool,
) -> Result<Reply, ApiError> {
    let q = req.param("q");
    if req
        .param("columns")
        .is_some_and(|c| c.eq_ignore_ascii_case("true"))
    {
        if let Some(q) = q.as_deref().filter(|q| !q.trim().is_empty()) {
            return query_columns(shared, version, q, include_deleted).map(Reply::ok);
        }
    }
    let body = query::run_query(
        shared,
        version,
        q.as_deref(),
        include_deleted,
        req.query_options.as_deref(),
    )?;
    Ok(Reply::ok(body))
}

pub(super) fn write_store(
    shared: &Shared,
) -> std::sync::RwLockWriteGuard<'_, crate::fake_org::store::Store> {
    sync::write(&shared.store)
}

pub(super) fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
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
        "search": format!("{base}/search"),
        "parameterizedSearch": format!("{base}/parameterizedSearch"),
        "tooling": format!("{base}/tooling"),
        "identity": identity,
    })
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
    // The blob fields the fake org holds bytes for, with the key prefix of their object's
    // Ids: the store keeps every blob by record Id, so the prefix keeps an Attachment's
    // bytes from answering at a ContentVersion's address and the other way round.
    const BLOB_FIELDS: &[(&str, &str, &str)] = &[
        ("ContentVersion", "VersionData", "068"),
        ("Attachment", "Body", "00P"),
    ];
    let known = BLOB_FIELDS.iter().any(|(o, f, prefix)| {
        object.eq_ignore_ascii_case(o) && field.eq_ignore_ascii_case(f) && id.starts_with(prefix)
    });
    if !known {
        return Err(ApiError::not_found());
    }
    let (blob, content_type) = read_store(shared)
        .version_blob(id)
        .ok_or_else(ApiError::not_found)?;
    // Streamed by the HTTP layer, which also honours a `Range` header (`http.rs`).
    Ok(Reply {
        status: 200,
        payload: Payload::Blob { blob, content_type },
        headers: Vec::new(),
    })
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
        assert_eq!(
            classify("POST", &["jobs", "query"]),
            Some(RequestKind::BulkQueryJob)
        );
        assert_eq!(
            classify("DELETE", &["jobs", "query", "750"]),
            Some(RequestKind::BulkQueryJob)
        );
        assert_eq!(
            classify("GET", &["jobs", "query", "750", "results"]),
            Some(RequestKind::BulkQueryResults)
        );
        assert_eq!(classify("GET", &["limits"]), Some(RequestKind::Limits));
        assert_eq!(classify("GET", &["search"]), Some(RequestKind::Search));
        assert_eq!(
            classify("POST", &["composite", "tree", "Account"]),
            Some(RequestKind::CompositeTree)
        );
        assert_eq!(
            classify("GET", &["tooling", "query"]),
            Some(RequestKind::ToolingQuery)
        );
        assert_eq!(classify("GET", &["limits", "recordCount"]), None);
    }

    mod never_panics {
        use super::*;
        use crate::fake_org::server::FakeOrgConfig;
        use crate::fake_org::store::{GenerateOptions, Store};
        use proptest::prelude::*;
        use std::sync::OnceLock;

        fn shared() -> &'static Shared {
            static SHARED: OnceLock<Shared> = OnceLock::new();
            SHARED.get_or_init(|| {
                let store = Store::generate(&GenerateOptions {
                    records: 5,
                    seed: 7,
                });
                Shared::new(
                    "http://127.0.0.1:1".into(),
                    &FakeOrgConfig::default(),
                    store,
                )
            })
        }

        fn token() -> &'static str {
            static TOKEN: OnceLock<String> = OnceLock::new();
            TOKEN.get_or_init(|| {
                let org = shared().store.read().unwrap().org_id().to_string();
                shared().issue_token(&org).0
            })
        }

        /// Path pieces that reach deep into the router, mixed with arbitrary text.
        fn segment() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("services".to_string()),
                Just("data".to_string()),
                Just("v59.0".to_string()),
                Just("sobjects".to_string()),
                Just("query".to_string()),
                Just("queryAll".to_string()),
                Just("composite".to_string()),
                Just("tree".to_string()),
                Just("search".to_string()),
                Just("parameterizedSearch".to_string()),
                Just("tooling".to_string()),
                Just("limits".to_string()),
                Just("jobs".to_string()),
                Just("results".to_string()),
                Just("Account".to_string()),
                Just("ContentVersion".to_string()),
                Just("describe".to_string()),
                Just("VersionData".to_string()),
                Just("_fake".to_string()),
                Just("01gFK00000000000AA-2000".to_string()),
                Just("001000000000000AAA".to_string()),
                "[a-zA-Z0-9%._~-]{0,20}",
                any::<String>(),
            ]
        }

        fn request() -> impl Strategy<Value = Incoming> {
            (
                prop::sample::select(vec!["GET", "POST", "PATCH", "DELETE", "PUT"]),
                prop::sample::select(vec![
                    "",
                    "/services/data/v59.0",
                    "/services/data/v59.0/sobjects",
                    "/services/data/v59.0/query",
                    "/_fake",
                ]),
                prop::collection::vec(segment(), 0..5),
                prop::option::of(any::<String>()),
                prop_oneof![
                    Just(b"{\"compositeRequest\": [{\"method\": \"GET\", \"url\": \"/services/data/v59.0/query?q=SELECT+Id+FROM+Account\", \"referenceId\": \"r\"}]}".to_vec()),
                    Just(b"{\"Name\": \"x\"}".to_vec()),
                    Just(b"{\"records\": [{\"attributes\": {\"type\": \"Account\", \"referenceId\": \"r\"}, \"Name\": \"x\", \"Contacts\": {\"records\": [{}]}}]}".to_vec()),
                    prop::collection::vec(any::<u8>(), 0..64),
                ],
                any::<bool>(),
            )
                .prop_map(|(method, prefix, segments, query, body, authorised)| Incoming {
                    method: method.to_string(),
                    path: format!("{prefix}/{}", segments.join("/")),
                    query,
                    authorization: authorised.then(|| format!("Bearer {}", token())),
                    query_options: None,
                    if_modified_since: None,
                    body,
                    header_bytes: 100,
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
            #[test]
            fn any_request_gets_an_http_status(req in request()) {
                let reply = handle(shared(), &req);
                prop_assert!((200..600).contains(&reply.status), "{}", reply.status);
                if reply.status >= 400 {
                    let is_error_shape = match &reply.payload {
                        Payload::Json(Value::Array(items)) => items.iter().all(|e| e.get("errorCode").is_some()),
                        Payload::Json(Value::Object(m)) => m.contains_key("error"),
                        _ => false,
                    };
                    prop_assert!(is_error_shape, "{:?}", reply.payload);
                }
            }
        }
    }
}
