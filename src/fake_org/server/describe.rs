//! describeGlobal (`GET .../sobjects`) and sObject describe (`GET .../sobjects/{name}/describe`)
//! with the dates Salesforce gives them: `Last-Modified` says when the schema last changed,
//! and a request whose `If-Modified-Since` is not older gets `304 Not Modified`, no body.
//!
//! A 304 was admitted like any other request before it got here, so it is counted in the
//! stats and against the daily limit: Salesforce counts a conditional describe as an API
//! call whatever it answers.

use chrono::{DateTime, Utc};

use super::dispatch::Incoming;
use super::query::read_store;
use super::reply::{ApiError, Payload, Reply};
use super::state::Shared;
use crate::sftime;

/// `GET .../sobjects`: dated by the latest change to any object.
pub(super) fn describe_global(shared: &Shared, req: &Incoming, version: &str) -> Reply {
    let store = read_store(shared);
    dated(req, store.global_schema_modified(), || {
        store.describe_global(version)
    })
}

/// `GET .../sobjects/{object}/describe`: dated by that object's last schema change.
pub(super) fn describe(
    shared: &Shared,
    req: &Incoming,
    version: &str,
    object: &str,
) -> Result<Reply, ApiError> {
    let store = read_store(shared);
    // An unknown object is a 404 whatever the request's conditions.
    let modified = store
        .schema_modified(object)
        .ok_or_else(ApiError::not_found)?;
    let reply = dated(req, modified, || {
        store
            .describe(object, version, &shared.base_url)
            .unwrap_or_default()
    });
    Ok(reply)
}

/// 304 when the request's `If-Modified-Since` is at or after `modified`, else the body with
/// `Last-Modified`. A header that is not an HTTP date is ignored, as RFC 9110 §13.1.3 says.
fn dated(
    req: &Incoming,
    modified: DateTime<Utc>,
    body: impl FnOnce() -> serde_json::Value,
) -> Reply {
    let since = req
        .if_modified_since
        .as_deref()
        .and_then(sftime::parse_http_date);
    if since.is_some_and(|since| modified <= since) {
        return Reply {
            status: 304,
            payload: Payload::Empty,
            headers: Vec::new(),
        };
    }
    Reply::ok(body()).with_header("last-modified", sftime::http_date(modified))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asking(since: Option<&str>) -> Incoming {
        Incoming {
            if_modified_since: since.map(str::to_string),
            ..Incoming::default()
        }
    }

    #[test]
    fn the_date_decides_between_a_body_and_304() {
        let modified = sftime::parse("2024-01-15T10:30:00.000+0000").unwrap();
        let body = || serde_json::json!({"name": "Account"});
        let fresh = dated(&asking(None), modified, body);
        assert_eq!(fresh.status, 200);
        assert_eq!(
            fresh.headers,
            vec![("last-modified", "Mon, 15 Jan 2024 10:30:00 GMT".to_string())]
        );
        for same_or_later in [
            "Mon, 15 Jan 2024 10:30:00 GMT",
            "Mon, 15 Jan 2024 10:30:01 GMT",
        ] {
            let reply = dated(&asking(Some(same_or_later)), modified, body);
            assert_eq!(reply.status, 304, "{same_or_later}");
            assert!(matches!(reply.payload, Payload::Empty));
        }
        for older_or_unreadable in ["Mon, 15 Jan 2024 10:29:59 GMT", "last tuesday", ""] {
            let reply = dated(&asking(Some(older_or_unreadable)), modified, body);
            assert_eq!(reply.status, 200, "{older_or_unreadable}");
        }
    }
}
