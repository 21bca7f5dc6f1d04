//! The session: the access token from the client credentials grant, reused until a call gets
//! 401, and replaced then by one token request however many callers saw that 401.

use crate::sync;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::client::SalesforceClient;
use super::error::{api_error, from_oauth_error, oauth_error_fields, SfError};
use super::transport::{transport_error, Attempts};
use crate::secret::Secret;

/// The current session. `generation` grows with every token request, so a caller that saw a
/// 401 with generation `g` can tell whether someone already replaced that token.
pub(super) struct Session {
    pub access_token: Secret,
    pub instance_url: String,
    /// Whose session this is, from the token response's identity URL (no secret).
    pub identity: Option<OrgIdentity>,
    pub generation: u64,
}

/// The org and the run-as user a session acts for: the two Ids of the token response's
/// `id` URL (`https://login.salesforce.com/id/ORGID/USERID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgIdentity {
    pub org_id: String,
    pub user_id: String,
}

impl OrgIdentity {
    /// The Ids of an identity URL, if it has two that look like Salesforce Ids (15 or 18
    /// letters and digits: they name a folder on disk, so nothing else is taken).
    pub fn from_id_url(id_url: &str) -> Option<OrgIdentity> {
        let url = url::Url::parse(id_url).ok()?;
        let segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
        let [.., "id", org_id, user_id] = segments.as_slice() else {
            return None;
        };
        OrgIdentity::from_ids(org_id, user_id)
    }

    /// Two Ids that look like Salesforce Ids, as an identity (None otherwise).
    pub fn from_ids(org_id: &str, user_id: &str) -> Option<OrgIdentity> {
        let looks_like_id =
            |id: &str| matches!(id.len(), 15 | 18) && id.bytes().all(|b| b.is_ascii_alphanumeric());
        (looks_like_id(org_id) && looks_like_id(user_id)).then(|| OrgIdentity {
            org_id: org_id.to_string(),
            user_id: user_id.to_string(),
        })
    }
}

impl Session {
    /// The session before the first token request.
    pub(super) fn none() -> Session {
        Session {
            access_token: Secret::default(),
            instance_url: String::new(),
            identity: None,
            generation: 0,
        }
    }
}

impl SalesforceClient {
    pub(super) fn session(&self) -> Arc<Session> {
        sync::read(&self.inner.session).clone()
    }

    /// Replaces the session whose generation is `stale_generation` with a new token. Callers
    /// that arrive while another caller is already doing it wait, then reuse its token.
    pub(super) async fn reauthenticate(&self, stale_generation: u64) -> Result<(), SfError> {
        let _guard = self.inner.reauth.lock().await;
        if self.session().generation != stale_generation {
            return Ok(());
        }
        let (access_token, instance_url, identity) = self.request_token().await?;
        let mut session = sync::write(&self.inner.session);
        *session = Arc::new(Session {
            access_token,
            instance_url,
            identity,
            generation: stale_generation + 1,
        });
        Ok(())
    }

    /// POST the client-credentials grant to the login host, retrying transient failures
    /// (a token request carries no side effect on the org).
    async fn request_token(&self) -> Result<(Secret, String, Option<OrgIdentity>), SfError> {
        let settings = &self.inner.settings;
        // Naming the host lets a user spot a mistyped domain; the URL holds nothing secret.
        let what = match url::Url::parse(&self.inner.token_url) {
            Ok(url) => format!(
                "the OAuth token request to {}",
                &url[url::Position::BeforeHost..url::Position::AfterPort]
            ),
            Err(_) => "the OAuth token request".to_string(),
        };
        let mut attempts = Attempts::new(settings.request_timeout, settings.max_retries);
        loop {
            let remaining = attempts.remaining(&what)?;
            let (error, retryable) = match self.send_token_request(&what, remaining).await {
                Ok((status, body)) => match parse_token_response(status, &body) {
                    Ok((token, instance)) => return Ok((token, instance, token_identity(&body))),
                    // A grant whose body does not parse (cut short, an HTML page from a
                    // proxy) is retried like a 5xx, as API calls are: asking again for a
                    // client-credentials token has no effect on the org.
                    Err(e) => {
                        let unparsed =
                            status.is_success() && serde_json::from_slice::<Value>(&body).is_err();
                        let retryable = unparsed || e.is_transient();
                        (e, retryable)
                    }
                },
                Err(e) => {
                    let retryable = e.is_transient();
                    (e, retryable)
                }
            };
            let Some(wait) = attempts.retry_wait(retryable) else {
                return Err(error);
            };
            tracing::debug!(what = %what, error = %error, retry = attempts.retries(), "transient failure; retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One token request: the status and body the login host answered, or the network failure.
    async fn send_token_request(
        &self,
        what: &str,
        remaining: Duration,
    ) -> Result<(StatusCode, Vec<u8>), SfError> {
        let settings = &self.inner.settings;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", settings.client_id.as_str()),
            ("client_secret", settings.client_secret.expose()),
        ];
        let request = self
            .inner
            .http
            .post(&self.inner.token_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .timeout(remaining);
        self.inner.token_requests.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(url = %self.inner.token_url, "requesting an access token");
        let outcome = tokio::time::timeout(remaining, async {
            let response = request.send().await?;
            let status = response.status();
            Ok::<_, reqwest::Error>((status, response.bytes().await?.to_vec()))
        })
        .await;
        match outcome {
            Err(_) => Err(SfError::Timeout {
                what: what.to_string(),
                after: settings.request_timeout,
            }),
            Ok(Err(e)) => Err(transport_error(e, what, settings.request_timeout)),
            Ok(Ok(answer)) => Ok(answer),
        }
    }
}

/// The org and user of a successful token response (its `id` field), if it names them.
fn token_identity(body: &[u8]) -> Option<OrgIdentity> {
    let value: Value = serde_json::from_slice(body).ok()?;
    OrgIdentity::from_id_url(value.get("id")?.as_str()?)
}

fn parse_token_response(status: StatusCode, body: &[u8]) -> Result<(Secret, String), SfError> {
    let what = "the OAuth token request";
    let parsed: Result<Value, _> = serde_json::from_slice(body);
    if status.is_success() {
        // The body is never quoted here: a cut-off token response would show the token.
        let value = parsed.map_err(|e| SfError::Malformed {
            what: what.into(),
            detail: format!(
                "the body is not valid JSON ({e}); check that the domain or login URL names your org's My Domain"
            ),
        })?;
        let token = value.get("access_token").and_then(Value::as_str);
        let instance = value.get("instance_url").and_then(Value::as_str);
        return match (token, instance) {
            (Some(t), Some(i))
                if !t.is_empty() && (i.starts_with("https://") || i.starts_with("http://")) =>
            {
                Ok((Secret::new(t), i.trim_end_matches('/').to_string()))
            }
            _ => Err(SfError::Malformed {
                what: what.into(),
                detail: "the token response lacks access_token or a valid instance_url".into(),
            }),
        };
    }
    match parsed {
        Ok(Value::Object(obj)) if obj.contains_key("error") => {
            let (error, description) = oauth_error_fields(&obj);
            Err(from_oauth_error(error, description))
        }
        // A host that is not a Salesforce login host has no token endpoint.
        _ if matches!(
            status,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        ) =>
        {
            Err(SfError::Auth {
                message: format!(
                    "the login host has no OAuth token endpoint (HTTP {}); check that the domain or login URL names your org's My Domain (e.g. mycompany.my.salesforce.com)",
                    status.as_u16()
                ),
                hint: None,
            })
        }
        _ => Err(api_error(status, body, what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_response_parsing() {
        let ok = br#"{"access_token":"00D!abc","instance_url":"https://acme.my.salesforce.com/","id":"x","token_type":"Bearer","issued_at":"1705314600000","signature":"s"}"#;
        let (token, url) = parse_token_response(StatusCode::OK, ok).unwrap();
        assert_eq!(token.expose(), "00D!abc");
        assert_eq!(url, "https://acme.my.salesforce.com");
        let err = parse_token_response(
            StatusCode::BAD_REQUEST,
            br#"{"error":"invalid_grant","error_description":"no client credentials user enabled"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("Run As"), "{err}");
        assert!(matches!(
            parse_token_response(StatusCode::OK, br#"{"access_token":"x"#).unwrap_err(),
            SfError::Malformed { .. }
        ));
        assert!(
            parse_token_response(StatusCode::SERVICE_UNAVAILABLE, b"<html>")
                .unwrap_err()
                .is_transient()
        );
    }

    #[test]
    fn the_identity_url_names_the_org_and_the_run_as_user() {
        let body = br#"{"access_token":"t","instance_url":"https://a.my.salesforce.com","id":"https://login.salesforce.com/id/00D5e000000AbCdEAK/0055e000001XyZwAAK"}"#;
        assert_eq!(
            token_identity(body),
            Some(OrgIdentity {
                org_id: "00D5e000000AbCdEAK".into(),
                user_id: "0055e000001XyZwAAK".into(),
            })
        );
        for unusable in [
            "x",
            "https://login.salesforce.com/id/00D5e000000AbCd",
            "https://login.salesforce.com/id/../0055e000001XyZwAAK",
            "https://login.salesforce.com/id/00D5e000000AbCdEAK/005%2F..%2Fetc%2F",
        ] {
            assert_eq!(OrgIdentity::from_id_url(unusable), None, "{unusable}");
        }
    }
}
