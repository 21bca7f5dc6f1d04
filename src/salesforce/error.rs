//! The client's error type: one variant per thing a caller (or a user) can act on.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

/// Everything that can go wrong talking to Salesforce. Messages are meant for users: they say
/// what went wrong and what to do. They never contain the client secret or an access token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SfError {
    /// Settings that cannot work (bad domain, bad login URL, empty client id).
    #[error("invalid Salesforce settings: {message}")]
    Config { message: String },
    /// OAuth or session failure, with the action that fixes it. `hint`, when set, says which
    /// setting the advice at the end of the message is about (see [`SetupHint`]).
    #[error("Salesforce authentication failed: {message}{}", hint_advice(.hint))]
    Auth {
        message: String,
        hint: Option<SetupHint>,
    },
    /// The request did not complete within its deadline (retries included).
    #[error("Salesforce did not answer {what} within {}s (the request deadline); check the network or raise request_timeout", .after.as_secs_f64())]
    Timeout { what: String, after: Duration },
    /// Connection refused, DNS failure, 5xx, maintenance page: the org cannot serve us now.
    #[error("Salesforce is unavailable for {what}: {detail}")]
    Unavailable { what: String, detail: String },
    /// REQUEST_LIMIT_EXCEEDED: the org's API quota is spent. Never retried.
    #[error("the org refused the request because an API limit is reached ({message}); sfmount pauses its API calls for a minute. A daily TotalRequests limit frees up over a rolling 24 hours (or ask an admin to raise it); a Concurrent* limit clears when other integrations finish")]
    LimitExceeded { message: String },
    /// NOT_FOUND: unknown object, record or path.
    #[error("not found: {what}")]
    NotFound { what: String },
    /// INVALID_FIELD: a field the query names does not exist or is not readable.
    #[error("invalid field: {message}")]
    InvalidField { message: String },
    /// INVALID_TYPE: the object does not exist or may not be queried.
    #[error("invalid object type: {message}")]
    InvalidType { message: String },
    /// Another query error (MALFORMED_QUERY, INVALID_QUERY_LOCATOR, QUERY_TIMEOUT...).
    #[error("query failed ({code}): {message}")]
    Query { code: String, message: String },
    /// The response could not be understood (truncated JSON, wrong shape, HTML instead of JSON).
    #[error("unexpected response to {what}: {detail}")]
    Malformed { what: String, detail: String },
    /// Any other HTTP error status.
    #[error("Salesforce answered HTTP {status} to {what}: {code}: {message}")]
    Http {
        status: u16,
        what: String,
        code: String,
        message: String,
    },
}

/// A refused login whose fix is a setting the user gives: the client words the advice without
/// naming where that setting comes from (it knows no flag or environment variable), and the
/// edge that does know may word it in its own terms with [`SfError::with_advice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupHint {
    /// The Consumer Key or Consumer Secret was refused.
    ClientCredentials,
    /// The login host is not the org's My Domain.
    MyDomain,
}

impl SetupHint {
    /// The advice in the client's own words.
    pub fn advice(self) -> &'static str {
        match self {
            SetupHint::ClientCredentials => {
                "check the Consumer Key (client_id) and Consumer Secret of the Connected App"
            }
            SetupHint::MyDomain => {
                "use your My Domain host (e.g. mycompany.my.salesforce.com), not login.salesforce.com or test.salesforce.com"
            }
        }
    }
}

fn hint_advice(hint: &Option<SetupHint>) -> String {
    hint.map(|hint| format!("; {}", hint.advice()))
        .unwrap_or_default()
}

impl SfError {
    /// Which setting the advice of this error is about, when it is about one.
    pub fn setup_hint(&self) -> Option<SetupHint> {
        match self {
            SfError::Auth { hint, .. } => *hint,
            _ => None,
        }
    }

    /// The message with `advice` in place of the hint's own (errors without a hint are
    /// unchanged): for the edge, which can say where the user sets what the hint is about.
    pub fn with_advice(&self, advice: &str) -> String {
        match self {
            SfError::Auth {
                message,
                hint: Some(_),
            } => format!("Salesforce authentication failed: {message}; {advice}"),
            other => other.to_string(),
        }
    }

    /// Whether repeating the same request later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            SfError::Timeout { .. } | SfError::Unavailable { .. } => true,
            SfError::Http { status, .. } => *status >= 500,
            SfError::Query { code, .. } => code == "QUERY_TIMEOUT" || code == "SERVER_UNAVAILABLE",
            _ => false,
        }
    }

    /// The Salesforce errorCode this error came from, when there was one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            SfError::Query { code, .. } | SfError::Http { code, .. } => Some(code),
            SfError::InvalidField { .. } => Some("INVALID_FIELD"),
            SfError::InvalidType { .. } => Some("INVALID_TYPE"),
            SfError::NotFound { .. } => Some("NOT_FOUND"),
            SfError::LimitExceeded { .. } => Some("REQUEST_LIMIT_EXCEEDED"),
            _ => None,
        }
    }
}

/// Maps a REST error (`status` plus the first `errorCode`/`message` of the JSON array body)
/// to an [`SfError`]. `what` names the request for the message.
pub(crate) fn from_api_error(status: u16, code: &str, message: &str, what: &str) -> SfError {
    let message = message.trim().to_string();
    match code {
        "REQUEST_LIMIT_EXCEEDED" => SfError::LimitExceeded { message },
        "NOT_FOUND" => SfError::NotFound {
            what: format!("{what}: {message}"),
        },
        "INVALID_FIELD" => SfError::InvalidField { message },
        "INVALID_TYPE" => SfError::InvalidType { message },
        "SERVER_UNAVAILABLE" => SfError::Unavailable {
            what: what.to_string(),
            detail: format!("{code}: {message}"),
        },
        "INVALID_SESSION_ID" | "INVALID_AUTH_HEADER" => SfError::Auth {
            message: format!(
                "the session was rejected ({code}: {message}) even after re-authenticating; check that the Run As user is active and has API Enabled"
            ),
            hint: None,
        },
        "INVALID_QUERY_LOCATOR" => SfError::Query {
            code: code.to_string(),
            message: format!(
                "{message} (the query cursor expired after 15 idle minutes or was evicted by newer cursors of the same user; the listing has to start again)"
            ),
        },
        "MALFORMED_QUERY" | "QUERY_TIMEOUT" | "INVALID_QUERY_FILTER_OPERATOR"
        | "NUMBER_OUTSIDE_VALID_RANGE" | "QUERY_TOO_COMPLICATED" => SfError::Query {
            code: code.to_string(),
            message,
        },
        _ if status >= 500 => SfError::Unavailable {
            what: what.to_string(),
            detail: format!("HTTP {status} {code}: {message}"),
        },
        _ => SfError::Http {
            status,
            what: what.to_string(),
            code: code.to_string(),
            message,
        },
    }
}

/// One actionable message per OAuth error of the token endpoint (`error`,
/// `error_description` as Salesforce sends them).
pub(crate) fn from_oauth_error(error: &str, description: &str) -> SfError {
    let desc_lower = description.to_ascii_lowercase();
    let hinted = |hint| SfError::Auth {
        message: format!("{error}: {description}"),
        hint: Some(hint),
    };
    let advice = match error {
        "invalid_client_id" | "invalid_client" => return hinted(SetupHint::ClientCredentials),
        "invalid_grant" if desc_lower.contains("not supported on this domain") => {
            return hinted(SetupHint::MyDomain)
        }
        "unsupported_grant_type" => {
            "enable \"Client Credentials Flow\" in the Connected App's OAuth settings (Setup > App Manager > your app > Edit)"
        }
        "invalid_grant" if desc_lower.contains("no client credentials user enabled") => {
            "assign a Run As user in the Connected App's Client Credentials Flow settings (Setup > App Manager > your app > Manage > Edit Policies)"
        }
        "invalid_grant" => {
            "check that the Run As user of the Client Credentials Flow is active, has API Enabled and the needed permissions"
        }
        _ => "check the Connected App's OAuth settings",
    };
    SfError::Auth {
        message: format!("{error}: {description}; {advice}"),
        hint: None,
    }
}

/// Maps an error response of the REST API (JSON array of `errorCode`/`message`, an OAuth
/// `error` object, or anything else such as an HTML page).
pub fn error_from_response(status: u16, body: &[u8], what: &str) -> SfError {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    api_error(status, body, what)
}

pub(crate) fn api_error(status: StatusCode, body: &[u8], what: &str) -> SfError {
    let code = status.as_u16();
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) if !items.is_empty() => {
            let first = &items[0];
            let error_code = first
                .get("errorCode")
                .and_then(Value::as_str)
                .unwrap_or("UNKNOWN");
            let message = first.get("message").and_then(Value::as_str).unwrap_or("");
            from_api_error(code, error_code, message, what)
        }
        Ok(Value::Object(obj)) if obj.contains_key("error") => {
            let (error, description) = oauth_error_fields(&obj);
            from_api_error(code, error, description, what)
        }
        _ if code >= 500 => SfError::Unavailable {
            what: what.to_string(),
            detail: format!(
                "HTTP {code} with a non-JSON body (a maintenance or proxy page?): {}",
                snippet(body)
            ),
        },
        _ => SfError::Http {
            status: code,
            what: what.to_string(),
            code: "UNKNOWN".into(),
            message: format!("unexpected body: {}", snippet(body)),
        },
    }
}

/// `error` and `error_description` of an OAuth-style error body.
pub(crate) fn oauth_error_fields(obj: &serde_json::Map<String, Value>) -> (&str, &str) {
    let field = |key: &str| obj.get(key).and_then(Value::as_str);
    (
        field("error").unwrap_or("unknown"),
        field("error_description").unwrap_or(""),
    )
}

/// The start of a body for an error message, on one line.
pub(crate) fn snippet(body: &[u8]) -> String {
    const MAX: usize = 120;
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX * 4)]);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(MAX).collect();
    if one_line.chars().count() > MAX {
        cut.push('…');
    }
    format!("{cut:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_503_is_unavailable_and_transient() {
        let err = api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            b"<html><body>Down for maintenance</body></html>",
            "query",
        );
        assert!(matches!(err, SfError::Unavailable { .. }), "{err}");
        assert!(err.is_transient());
        assert!(err.to_string().contains("maintenance"));
    }

    #[test]
    fn oauth_errors_are_actionable() {
        let cases = [
            (
                "invalid_client_id",
                "client identifier invalid",
                "Consumer Key",
            ),
            (
                "invalid_client",
                "invalid client credentials",
                "Consumer Secret",
            ),
            (
                "invalid_grant",
                "no client credentials user enabled",
                "Run As user",
            ),
            (
                "unsupported_grant_type",
                "grant type not supported",
                "Client Credentials Flow",
            ),
            (
                "invalid_grant",
                "request not supported on this domain",
                "My Domain",
            ),
            ("invalid_grant", "authentication failure", "active"),
        ];
        for (code, desc, advice) in cases {
            let msg = from_oauth_error(code, desc).to_string();
            assert!(msg.contains(advice), "{code}/{desc}: {msg}");
            assert!(msg.contains(desc), "{msg}");
        }
        let refused = from_oauth_error("invalid_client", "invalid client credentials");
        assert_eq!(refused.setup_hint(), Some(SetupHint::ClientCredentials));
        assert_eq!(
            refused.with_advice("give the right secret"),
            "Salesforce authentication failed: invalid_client: invalid client credentials; give the right secret"
        );
        assert!(!refused.to_string().contains("--"), "{refused}");
    }

    #[test]
    fn api_errors_map_to_their_variants() {
        assert!(matches!(
            from_api_error(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
                "q"
            ),
            SfError::LimitExceeded { .. }
        ));
        assert!(matches!(
            from_api_error(400, "INVALID_FIELD", "No such column", "q"),
            SfError::InvalidField { .. }
        ));
        assert!(matches!(
            from_api_error(
                400,
                "INVALID_TYPE",
                "sObject type 'X' is not supported",
                "q"
            ),
            SfError::InvalidType { .. }
        ));
        assert!(matches!(
            from_api_error(
                404,
                "NOT_FOUND",
                "The requested resource does not exist",
                "q"
            ),
            SfError::NotFound { .. }
        ));
        let unavailable = from_api_error(503, "SERVER_UNAVAILABLE", "Server Unavailable", "q");
        assert!(unavailable.is_transient());
        let locator = from_api_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator", "q");
        assert!(matches!(locator, SfError::Query { .. }));
        assert!(!locator.is_transient());
        assert!(!from_api_error(403, "REQUEST_LIMIT_EXCEEDED", "x", "q").is_transient());
        assert!(from_api_error(502, "BAD_GATEWAY", "x", "q").is_transient());
    }
}
