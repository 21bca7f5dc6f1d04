//! The request pipeline every API call goes through: a deadline over all attempts, one
//! re-authentication on 401, retries with backoff for transient failures of safe requests,
//! `Sforce-Limit-Info` tracking and the REQUEST_LIMIT_EXCEEDED cool-down. A conditional GET
//! (`If-Modified-Since`) gets `304 Not Modified` back as an answer, not as a failure.

use crate::sync::lock;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::client::{Meter, SalesforceClient};
use super::error::{api_error, snippet, SfError};
use super::limits::parse_limit_info;
use super::session::Session;

/// First backoff step; doubled each retry, randomised to spread concurrent callers.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// No single wait longer than this, whatever the attempt number.
const BACKOFF_CAP: Duration = Duration::from_secs(8);
/// After REQUEST_LIMIT_EXCEEDED every call fails at once for this long instead of reaching
/// the org: the daily quota frees up over a rolling 24 hours, so a minute of silence costs
/// nothing and keeps many concurrent callers from each spending a refused request.
const LIMIT_COOLDOWN: Duration = Duration::from_secs(60);

/// One REST request to the org's instance.
pub(crate) struct Call<'a> {
    pub method: Method,
    /// Path and query, starting with `/services/data/`.
    pub path: String,
    pub body: Option<&'a Value>,
    /// Whether repeating it has no effect beyond the first time (GET, composite of queries).
    pub safe: bool,
    /// Names the request in errors and logs ("query Account", "describe Case").
    pub what: String,
    /// An HTTP date: ask the org to answer 304 with no body when the resource has not
    /// changed since then (describes honour it).
    pub if_modified_since: Option<String>,
    /// The body is raw bytes (a file's content), not JSON: kept as sent, never parsed.
    pub raw: bool,
}

/// What the org answered a call.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A 2xx: the JSON (null for a raw call), the bytes it was parsed from, and the `Last-Modified` header if sent.
    Body {
        value: Value,
        bytes: Vec<u8>,
        last_modified: Option<String>,
    },
    /// 304 to a call with `if_modified_since`: the copy the caller holds is current.
    NotModified,
}

/// One attempt's response, as far as the pipeline reads it.
struct Response {
    status: StatusCode,
    body: Vec<u8>,
    last_modified: Option<String>,
}

/// The attempts one request may make: a deadline covering all of them, and a number of
/// retries. Shared by API calls and token requests.
pub(super) struct Attempts {
    started: Instant,
    timeout: Duration,
    retries: u32,
    max_retries: u32,
}

impl Attempts {
    pub(super) fn new(timeout: Duration, max_retries: u32) -> Attempts {
        Attempts {
            started: Instant::now(),
            timeout,
            retries: 0,
            max_retries,
        }
    }

    /// The time left before the deadline, or the timeout error when there is none.
    pub(super) fn remaining(&self, what: &str) -> Result<Duration, SfError> {
        let left = (self.started + self.timeout).saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(self.timed_out(what))
        } else {
            Ok(left)
        }
    }

    pub(super) fn timed_out(&self, what: &str) -> SfError {
        SfError::Timeout {
            what: what.to_string(),
            after: self.timeout,
        }
    }

    /// How long to wait before retrying, or None when the request must fail now: the
    /// failure may not be retried (`retryable`: it is transient and the request is safe to
    /// repeat), the retries are spent, or the wait would reach the deadline.
    pub(super) fn retry_wait(&mut self, retryable: bool) -> Option<Duration> {
        if !(retryable && self.retries < self.max_retries) {
            return None;
        }
        let wait = backoff(self.retries);
        if Instant::now() + wait >= self.started + self.timeout {
            return None;
        }
        self.retries += 1;
        Some(wait)
    }

    /// Retries made so far.
    pub(super) fn retries(&self) -> u32 {
        self.retries
    }
}

impl SalesforceClient {
    pub(crate) fn data_path(&self) -> String {
        format!("/services/data/v{}", self.inner.settings.api_version)
    }

    /// GET `path` and parse the JSON body.
    pub(crate) async fn get_json(
        &self,
        path: String,
        what: String,
        meter: &Meter,
    ) -> Result<Value, SfError> {
        self.call_json(
            Call {
                method: Method::GET,
                path,
                body: None,
                safe: true,
                what,
                if_modified_since: None,
                raw: false,
            },
            meter,
        )
        .await
    }

    /// Sends `call` through the pipeline and parses the JSON body: a deadline over all
    /// attempts, one re-authentication on 401, retries with exponential backoff and jitter
    /// for transient failures of safe requests. A 2xx body that is not JSON counts as
    /// transient for a safe request: a proxy or load balancer that cuts a response short or
    /// swaps in an HTML page answers the same request properly a moment later, exactly like
    /// a 5xx would.
    pub(crate) async fn call_json(&self, call: Call<'_>, meter: &Meter) -> Result<Value, SfError> {
        let what = call.what.clone();
        match self.call(call, meter).await? {
            Answer::Body { value, .. } => Ok(value),
            // `call` answers NotModified only to a conditional call, which callers of this
            // method do not make; should one slip through, it is an answer without a body.
            Answer::NotModified => Err(SfError::Malformed {
                what,
                detail: "HTTP 304 to a request that asked for a body".into(),
            }),
        }
    }

    /// [`Self::call_json`], keeping what a conditional call needs: a 304 (to a call with
    /// `if_modified_since`) comes back as [`Answer::NotModified`], neither an error nor a
    /// reason to retry, and a 2xx keeps its raw bytes and its `Last-Modified` header.
    pub(crate) async fn call(&self, call: Call<'_>, meter: &Meter) -> Result<Answer, SfError> {
        let settings = &self.inner.settings;
        let mut attempts = Attempts::new(settings.request_timeout, settings.max_retries);
        let mut reauthenticated = false;
        if self.session().generation == 0 {
            // A client made without logging in (a mount started while the org was out of
            // reach) logs in on its first call.
            self.reauthenticate(0).await?;
        }
        loop {
            if let Some(message) = self.limit_latched() {
                return Err(SfError::LimitExceeded { message });
            }
            let session = self.session();
            let remaining = attempts.remaining(&call.what)?;
            let (error, transient) = match self.send_once(&call, &session, remaining, meter).await {
                Ok(answer) if answer.status.is_success() && call.raw => {
                    return Ok(Answer::Body {
                        value: Value::Null,
                        bytes: answer.body,
                        last_modified: answer.last_modified,
                    })
                }
                Ok(answer) if answer.status.is_success() => {
                    match parse_body(answer.status, &answer.body, &call.what) {
                        Ok(value) => {
                            return Ok(Answer::Body {
                                value,
                                bytes: answer.body,
                                last_modified: answer.last_modified,
                            })
                        }
                        Err(error) => (error, true),
                    }
                }
                Ok(answer)
                    if answer.status == StatusCode::NOT_MODIFIED
                        && call.if_modified_since.is_some() =>
                {
                    return Ok(Answer::NotModified)
                }
                Ok(Response {
                    status: StatusCode::UNAUTHORIZED,
                    ..
                }) if !reauthenticated => {
                    // A 401 means the request was not executed, so repeating it is safe
                    // whatever its method.
                    reauthenticated = true;
                    tracing::info!(what = %call.what, "session expired; re-authenticating");
                    // The token request (or the wait for another caller's) spends this
                    // call's deadline too, so a slow login cannot double it.
                    let left = attempts.remaining(&call.what)?;
                    tokio::time::timeout(left, self.reauthenticate(session.generation))
                        .await
                        .map_err(|_| attempts.timed_out(&call.what))??;
                    continue;
                }
                Ok(Response { status, body, .. }) => {
                    let error = api_error(status, &body, &call.what);
                    if let SfError::LimitExceeded { message } = &error {
                        self.latch_limit(message);
                    }
                    let transient = error.is_transient();
                    (error, transient)
                }
                Err(error) => {
                    let transient = error.is_transient();
                    (error, transient)
                }
            };
            let Some(wait) = attempts.retry_wait(transient && call.safe) else {
                return Err(error);
            };
            // Debug, not warn: a retry that works needs no attention, and one that fails
            // comes back as an error that the caller reports once (the background refresh
            // logs per state change, not per attempt, so an outage does not flood the log).
            tracing::debug!(what = %call.what, error = %error, retry = attempts.retries(), "transient failure; retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt of `call` with `session`'s token: the status and body of whatever the org
    /// answered (counted as an API call, its limit figure kept), or the network failure.
    async fn send_once(
        &self,
        call: &Call<'_>,
        session: &Session,
        remaining: Duration,
        meter: &Meter,
    ) -> Result<Response, SfError> {
        let timeout = self.inner.settings.request_timeout;
        let url = format!("{}{}", session.instance_url, call.path);
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), &url)
            .bearer_auth(session.access_token.expose())
            .header(
                reqwest::header::ACCEPT,
                if call.raw { "*/*" } else { "application/json" },
            )
            .timeout(remaining);
        if let Some(body) = call.body {
            request = request.json(body);
        }
        if let Some(since) = &call.if_modified_since {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, since);
        }
        tracing::debug!(what = %call.what, method = %call.method, "Salesforce request");
        let outcome = tokio::time::timeout(remaining, async {
            let response = request.send().await?;
            let status = response.status();
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let limit_info = header("Sforce-Limit-Info");
            // The date a describe is revalidated from: its `Last-Modified` when the org sends
            // one; otherwise the response's own `Date`, which is as good for
            // `If-Modified-Since` (a 304 then means "unchanged since we fetched it") and is
            // what an org that does not date its metadata still sends.
            let last_modified = header(reqwest::header::LAST_MODIFIED.as_str())
                .or_else(|| header(reqwest::header::DATE.as_str()));
            let body: Vec<u8> = response.bytes().await?.into();
            Ok::<_, reqwest::Error>((
                Response {
                    status,
                    body,
                    last_modified,
                },
                limit_info,
            ))
        })
        .await;
        let (response, limit_info) = match outcome {
            Err(_) => {
                return Err(SfError::Timeout {
                    what: call.what.clone(),
                    after: timeout,
                })
            }
            Ok(Err(e)) => return Err(transport_error(e, &call.what, timeout)),
            Ok(Ok(answer)) => answer,
        };
        self.inner.api_calls.fetch_add(1, Ordering::Relaxed);
        meter.add_call();
        if let Some(usage) = limit_info.as_deref().and_then(parse_limit_info) {
            *lock(&self.inner.usage) = Some(usage);
        }
        Ok(response)
    }

    /// The refusal message while the REQUEST_LIMIT_EXCEEDED cool-down runs.
    pub(super) fn limit_latched(&self) -> Option<String> {
        let mut latch = lock(&self.inner.limited_until);
        match latch.as_ref() {
            Some((until, message)) if Instant::now() < *until => Some(message.clone()),
            Some(_) => {
                *latch = None;
                None
            }
            None => None,
        }
    }

    pub(crate) fn latch_limit(&self, message: &str) {
        tracing::warn!(
            "the org's API request limit is exhausted; pausing API calls for {}s",
            LIMIT_COOLDOWN.as_secs()
        );
        *lock(&self.inner.limited_until) =
            Some((Instant::now() + LIMIT_COOLDOWN, message.to_string()));
    }
}

/// The JSON of a successful response. Only 204 No Content may be empty: every other
/// answer of the calls the client makes (queries, describes, composite, limits) carries a
/// JSON document, so an empty 200 was cut short on the way.
fn parse_body(status: StatusCode, bytes: &[u8], what: &str) -> Result<Value, SfError> {
    if bytes.is_empty() && status == StatusCode::NO_CONTENT {
        return Ok(Value::Null);
    }
    if bytes.is_empty() {
        return Err(SfError::Malformed {
            what: what.to_string(),
            detail: format!("the body of an HTTP {} answer is empty", status.as_u16()),
        });
    }
    serde_json::from_slice(bytes).map_err(|e| SfError::Malformed {
        what: what.to_string(),
        detail: format!("the body is not valid JSON ({e}): {}", snippet(bytes)),
    })
}

/// Exponential backoff with jitter: a random wait between half and all of base·2^attempt.
fn backoff(attempt: u32) -> Duration {
    let full = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_CAP);
    let half = full / 2;
    half + rand::thread_rng().gen_range(Duration::ZERO..=half)
}

/// A network-level failure (no HTTP response): connection refused, reset, DNS, timeout.
pub(super) fn transport_error(e: reqwest::Error, what: &str, deadline: Duration) -> SfError {
    if e.is_timeout() {
        return SfError::Timeout {
            what: what.to_string(),
            after: deadline,
        };
    }
    let connect = e.is_connect();
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    if connect {
        // Refused connections and unknown hosts are nearly always a mistyped domain or
        // login URL, or a network that does not reach Salesforce.
        detail.push_str(
            "; check the domain (or login URL) and that this machine can reach that host",
        );
    }
    SfError::Unavailable {
        what: what.to_string(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 0..20 {
            let full = BACKOFF_BASE
                .saturating_mul(1u32 << attempt.min(16))
                .min(BACKOFF_CAP);
            let wait = backoff(attempt);
            assert!(wait >= full / 2 && wait <= full, "{attempt}: {wait:?}");
        }
        assert!(backoff(30) <= BACKOFF_CAP);
    }
}
