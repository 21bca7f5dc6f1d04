//! The OAuth token endpoint (client credentials). The identity URL it names is served by
//! [`super::identity`].

use base64::Engine as _;
use serde_json::json;

use super::dispatch::Incoming;
use super::query::read_store;
use super::reply::{oauth_error, ApiError, Reply};
use super::state::{RequestKind, Shared};

pub(super) fn token(shared: &Shared, req: &Incoming) -> Reply {
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

#[cfg(test)]
mod tests {
    use super::*;

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
