//! The transport: authentication, the per-request pipeline (deadline, retries, re-auth,
//! limit tracking) and the describe caches.

use crate::sync::{self, lock};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::OnceCell;

use super::describe::{DescribeGlobal, SObjectDescribe};
use super::error::{from_api_error, from_oauth_error, SfError};
use super::limits::{parse_limit_info, ApiUsage};
use super::login::LoginTarget;
use super::plan::ObjectPlan;
use crate::secret::Secret;

/// How to reach and authenticate to an org.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub login: LoginTarget,
    pub client_id: String,
    pub client_secret: Secret,
    /// Deadline of one API request, retries included.
    pub request_timeout: Duration,
    /// REST API version without the `v`, e.g. "62.0".
    pub api_version: String,
    /// Retries of a transient failure of a safe request (within the deadline).
    pub max_retries: u32,
    /// The API floor: background work stops when less than this share (0.0 to 1.0) of the
    /// org's daily API limit remains (see [`SalesforceClient::below_api_floor`]).
    pub min_remaining_fraction: f64,
}

/// Salesforce's own default for client tools (the coco connector also used 30 s per request).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Winter '25: recent enough for everything we use, old enough for every org in service.
pub const DEFAULT_API_VERSION: &str = "62.0";
/// Three retries at 0.25 s, 0.5 s, 1 s ride out a blip without hammering a struggling org.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// First backoff step; doubled each retry, randomised to spread concurrent callers.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// No single wait longer than this, whatever the attempt number.
const BACKOFF_CAP: Duration = Duration::from_secs(8);
/// After REQUEST_LIMIT_EXCEEDED every call fails at once for this long instead of reaching
/// the org: the daily quota frees up over a rolling 24 hours, so a minute of silence costs
/// nothing and keeps many concurrent callers from each spending a refused request.
const LIMIT_COOLDOWN: Duration = Duration::from_secs(60);

impl ClientSettings {
    pub fn new(login: LoginTarget, client_id: impl Into<String>, client_secret: Secret) -> Self {
        ClientSettings {
            login,
            client_id: client_id.into(),
            client_secret,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            api_version: DEFAULT_API_VERSION.to_string(),
            max_retries: DEFAULT_MAX_RETRIES,
            min_remaining_fraction: super::DEFAULT_MIN_REMAINING_FRACTION,
        }
    }
}

/// The current session. `generation` grows with every token request, so a caller that saw a
/// 401 with generation `g` can tell whether someone already replaced that token.
struct Session {
    access_token: Secret,
    instance_url: String,
    generation: u64,
}

type CacheCell<T> = Arc<OnceCell<Arc<T>>>;

struct Inner {
    http: reqwest::Client,
    settings: ClientSettings,
    token_url: String,
    session: RwLock<Arc<Session>>,
    /// Held while a token request is in flight, so concurrent 401s share one re-auth.
    reauth: tokio::sync::Mutex<()>,
    usage: Mutex<Option<ApiUsage>>,
    /// Set when the org answered REQUEST_LIMIT_EXCEEDED: until then calls fail without a request.
    limited_until: Mutex<Option<(Instant, String)>>,
    api_calls: AtomicU64,
    token_requests: AtomicU64,
    global: Mutex<CacheCell<DescribeGlobal>>,
    describes: Mutex<HashMap<String, CacheCell<SObjectDescribe>>>,
    plans: Mutex<HashMap<String, CacheCell<ObjectPlan>>>,
}

/// A Salesforce REST client. Cheap to clone (an `Arc` inside); share one per process so the
/// token and the describe caches are shared too.
#[derive(Clone)]
pub struct SalesforceClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SalesforceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalesforceClient")
            .field("instance_url", &self.instance_url())
            .field("client_id", &self.inner.settings.client_id)
            .finish_non_exhaustive()
    }
}

/// Counts the API calls one public operation makes (for [`super::FetchSummary`]).
#[derive(Default)]
pub(crate) struct Meter(AtomicU64);

impl Meter {
    pub(crate) fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

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
}

impl SalesforceClient {
    /// Authenticates once (client credentials) and returns a client holding the token.
    pub async fn connect(settings: ClientSettings) -> Result<SalesforceClient, SfError> {
        if settings.client_id.trim().is_empty() {
            return Err(SfError::Config {
                message: "client_id is empty; give the Connected App's Consumer Key".into(),
            });
        }
        if settings.client_secret.is_empty() {
            return Err(SfError::Config {
                message: "the client secret is empty; give the Connected App's Consumer Secret"
                    .into(),
            });
        }
        if !is_api_version(&settings.api_version) {
            return Err(SfError::Config {
                message: format!(
                    "API version {:?} is not of the form 62.0",
                    settings.api_version
                ),
            });
        }
        if !(0.0..=1.0).contains(&settings.min_remaining_fraction) {
            return Err(SfError::Config {
                message: format!(
                    "the API floor {} is not a share between 0 and 1 (0.1 keeps 10 % of the daily limit for other integrations)",
                    settings.min_remaining_fraction
                ),
            });
        }
        let token_url = format!("{}/services/oauth2/token", settings.login.base_url()?);
        let http = reqwest::Client::builder()
            .user_agent(concat!("sfmount/", env!("CARGO_PKG_VERSION")))
            // Connect timeouts are covered by the request deadline; this only stops a dead
            // host from eating the whole deadline on the first attempt.
            .connect_timeout(settings.request_timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| SfError::Config {
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        let client = SalesforceClient {
            inner: Arc::new(Inner {
                http,
                settings,
                token_url,
                session: RwLock::new(Arc::new(Session {
                    access_token: Secret::default(),
                    instance_url: String::new(),
                    generation: 0,
                })),
                reauth: tokio::sync::Mutex::new(()),
                usage: Mutex::new(None),
                limited_until: Mutex::new(None),
                api_calls: AtomicU64::new(0),
                token_requests: AtomicU64::new(0),
                global: Mutex::default(),
                describes: Mutex::new(HashMap::new()),
                plans: Mutex::new(HashMap::new()),
            }),
        };
        client.reauthenticate(0).await?;
        Ok(client)
    }

    /// The org's instance URL from the token response (all API calls go there).
    pub fn instance_url(&self) -> String {
        self.session().instance_url.clone()
    }

    pub fn api_version(&self) -> &str {
        &self.inner.settings.api_version
    }

    /// The last `Sforce-Limit-Info` the org sent.
    pub fn api_usage(&self) -> Option<ApiUsage> {
        *lock(&self.inner.usage)
    }

    /// Whether less than `min_remaining_fraction` (e.g. 0.1 for 10 %) of the org's daily API
    /// limit is left, by the last figure seen. Background work checks this before spending
    /// calls; with no figure yet it answers false.
    pub fn below_floor(&self, min_remaining_fraction: f64) -> bool {
        self.api_usage()
            .is_some_and(|u| u.remaining_fraction() < min_remaining_fraction)
    }

    /// Whether background work should stop spending calls: less than the configured
    /// `min_remaining_fraction` of the daily API limit is left, by the last figure seen.
    pub fn below_api_floor(&self) -> bool {
        self.below_floor(self.inner.settings.min_remaining_fraction)
    }

    /// The configured API floor (share of the daily limit kept for other integrations).
    pub fn api_floor(&self) -> f64 {
        self.inner.settings.min_remaining_fraction
    }

    /// API calls (requests under /services/data) this client has made, retries included.
    pub fn api_calls_made(&self) -> u64 {
        self.inner.api_calls.load(Ordering::Relaxed)
    }

    /// Token requests this client has made.
    pub fn token_requests_made(&self) -> u64 {
        self.inner.token_requests.load(Ordering::Relaxed)
    }

    /// describeGlobal, fetched once per process.
    pub async fn describe_global(&self) -> Result<Arc<DescribeGlobal>, SfError> {
        let cell = lock(&self.inner.global).clone();
        cell.get_or_try_init(|| async {
            let path = format!("{}/sobjects", self.data_path());
            let value = self
                .get_json(path, "describeGlobal".into(), &Meter::default())
                .await?;
            let global: DescribeGlobal =
                serde_json::from_value(value).map_err(|e| SfError::Malformed {
                    what: "describeGlobal".into(),
                    detail: e.to_string(),
                })?;
            Ok(Arc::new(global))
        })
        .await
        .cloned()
    }

    /// Drops every cached describe and plan, so the next listing describes again. Called when
    /// the org rejects a query built from the cache (a field was removed or hidden, an object
    /// stopped being queryable): the schema changed under us.
    pub fn forget_schema(&self) {
        tracing::info!("the org's schema changed: describes will be fetched again");
        *lock(&self.inner.global) = CacheCell::default();
        lock(&self.inner.describes).clear();
        lock(&self.inner.plans).clear();
    }

    /// One object's describe, fetched once per process and object (concurrent callers share
    /// the request).
    pub async fn describe(&self, object: &str) -> Result<Arc<SObjectDescribe>, SfError> {
        check_api_name(object)?;
        let cell = cache_cell(&self.inner.describes, object);
        cell.get_or_try_init(|| async {
            let path = format!("{}/sobjects/{object}/describe", self.data_path());
            let what = format!("describe {object}");
            let value = self.get_json(path, what.clone(), &Meter::default()).await?;
            let describe: SObjectDescribe =
                serde_json::from_value(value).map_err(|e| SfError::Malformed {
                    what,
                    detail: e.to_string(),
                })?;
            Ok(Arc::new(describe))
        })
        .await
        .cloned()
    }

    /// The listing plan of `object`, built by `build` (from the cached describes) the first
    /// time it is asked for and kept with the describes: [`Self::forget_schema`] drops it too.
    /// Concurrent callers share one build.
    pub async fn cached_plan<F, Fut>(
        &self,
        object: &str,
        build: F,
    ) -> Result<Arc<ObjectPlan>, SfError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<ObjectPlan, SfError>>,
    {
        check_api_name(object)?;
        let cell = cache_cell(&self.inner.plans, object);
        cell.get_or_try_init(|| async { build().await.map(Arc::new) })
            .await
            .cloned()
    }

    pub(crate) fn data_path(&self) -> String {
        format!("/services/data/v{}", self.inner.settings.api_version)
    }

    fn session(&self) -> Arc<Session> {
        sync::read(&self.inner.session).clone()
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
            },
            meter,
        )
        .await
    }

    /// Sends `call` through the pipeline and parses the JSON body.
    pub(crate) async fn call_json(&self, call: Call<'_>, meter: &Meter) -> Result<Value, SfError> {
        let what = call.what.clone();
        let bytes = self.call(call, meter).await?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| SfError::Malformed {
            what,
            detail: format!("the body is not valid JSON ({e}): {}", snippet(&bytes)),
        })
    }

    /// The pipeline: deadline over all attempts, one re-authentication on 401, retries with
    /// exponential backoff and jitter for transient failures of safe requests.
    pub(crate) async fn call(&self, call: Call<'_>, meter: &Meter) -> Result<Vec<u8>, SfError> {
        let settings = &self.inner.settings;
        let deadline = Instant::now() + settings.request_timeout;
        let mut retries = 0u32;
        let mut reauthenticated = false;
        loop {
            if let Some(message) = self.limit_latched() {
                return Err(SfError::LimitExceeded { message });
            }
            let session = self.session();
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(SfError::Timeout {
                    what: call.what.clone(),
                    after: settings.request_timeout,
                });
            }
            let url = format!("{}{}", session.instance_url, call.path);
            let mut request = self
                .inner
                .http
                .request(call.method.clone(), &url)
                .bearer_auth(session.access_token.expose())
                .header(reqwest::header::ACCEPT, "application/json")
                .timeout(remaining);
            if let Some(body) = call.body {
                request = request.json(body);
            }
            tracing::debug!(what = %call.what, method = %call.method, "Salesforce request");
            let outcome = tokio::time::timeout(remaining, async {
                let response = request.send().await?;
                let status = response.status();
                let limit_info = response
                    .headers()
                    .get("Sforce-Limit-Info")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let body: Vec<u8> = response.bytes().await?.into();
                Ok::<_, reqwest::Error>((status, limit_info, body))
            })
            .await;
            let error = match outcome {
                Err(_) => SfError::Timeout {
                    what: call.what.clone(),
                    after: settings.request_timeout,
                },
                Ok(Err(e)) => transport_error(e, &call.what, settings.request_timeout),
                Ok(Ok((status, limit_info, body))) => {
                    self.inner.api_calls.fetch_add(1, Ordering::Relaxed);
                    meter.0.fetch_add(1, Ordering::Relaxed);
                    if let Some(usage) = limit_info.as_deref().and_then(parse_limit_info) {
                        *lock(&self.inner.usage) = Some(usage);
                    }
                    if status.is_success() {
                        return Ok(body);
                    }
                    if status == StatusCode::UNAUTHORIZED && !reauthenticated {
                        // A 401 means the request was not executed, so repeating it is safe
                        // whatever its method.
                        reauthenticated = true;
                        tracing::info!(what = %call.what, "session expired; re-authenticating");
                        // The token request (or the wait for another caller's) spends this
                        // call's deadline too, so a slow login cannot double it.
                        let left = deadline.saturating_duration_since(Instant::now());
                        tokio::time::timeout(left, self.reauthenticate(session.generation))
                            .await
                            .map_err(|_| SfError::Timeout {
                                what: call.what.clone(),
                                after: settings.request_timeout,
                            })??;
                        continue;
                    }
                    let error = api_error(status, &body, &call.what);
                    if let SfError::LimitExceeded { message } = &error {
                        self.latch_limit(message);
                    }
                    error
                }
            };
            if !(error.is_transient() && call.safe && retries < settings.max_retries) {
                return Err(error);
            }
            let wait = backoff(retries);
            if Instant::now() + wait >= deadline {
                return Err(error);
            }
            // Debug, not warn: a retry that works needs no attention, and one that fails
            // comes back as an error that the caller reports once (the background refresh
            // logs per state change, not per attempt, so an outage does not flood the log).
            tracing::debug!(what = %call.what, error = %error, retry = retries + 1, "transient failure; retrying");
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }

    /// The refusal message while the REQUEST_LIMIT_EXCEEDED cool-down runs.
    fn limit_latched(&self) -> Option<String> {
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

    /// Replaces the session whose generation is `stale_generation` with a new token. Callers
    /// that arrive while another caller is already doing it wait, then reuse its token.
    async fn reauthenticate(&self, stale_generation: u64) -> Result<(), SfError> {
        let _guard = self.inner.reauth.lock().await;
        if self.session().generation != stale_generation {
            return Ok(());
        }
        let (access_token, instance_url) = self.request_token().await?;
        let mut session = sync::write(&self.inner.session);
        *session = Arc::new(Session {
            access_token,
            instance_url,
            generation: stale_generation + 1,
        });
        Ok(())
    }

    /// POST the client-credentials grant to the login host.
    async fn request_token(&self) -> Result<(Secret, String), SfError> {
        let settings = &self.inner.settings;
        // Naming the host lets a user spot a mistyped domain; the URL holds nothing secret.
        let what = match url::Url::parse(&self.inner.token_url) {
            Ok(url) => format!(
                "the OAuth token request to {}",
                &url[url::Position::BeforeHost..url::Position::AfterPort]
            ),
            Err(_) => "the OAuth token request".to_string(),
        };
        let deadline = Instant::now() + settings.request_timeout;
        let mut retries = 0u32;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(SfError::Timeout {
                    what,
                    after: settings.request_timeout,
                });
            }
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
                Ok::<_, reqwest::Error>((status, response.bytes().await?))
            })
            .await;
            let error = match outcome {
                Err(_) => SfError::Timeout {
                    what: what.clone(),
                    after: settings.request_timeout,
                },
                Ok(Err(e)) => transport_error(e, &what, settings.request_timeout),
                Ok(Ok((status, body))) => match parse_token_response(status, &body) {
                    Ok(token) => return Ok(token),
                    Err(e) => e,
                },
            };
            // Token requests carry no side effect on the org, so transient failures retry.
            if !(error.is_transient() && retries < settings.max_retries) {
                return Err(error);
            }
            let wait = backoff(retries);
            if Instant::now() + wait >= deadline {
                return Err(error);
            }
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }
}

fn cache_cell<T>(map: &Mutex<HashMap<String, CacheCell<T>>>, key: &str) -> CacheCell<T> {
    let mut map = lock(map);
    map.entry(key.to_ascii_lowercase()).or_default().clone()
}

/// Object names go into URL paths: only API-name characters are allowed.
pub(crate) fn check_api_name(name: &str) -> Result<(), SfError> {
    let ok = !name.is_empty()
        && name.len() <= 80
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if ok {
        Ok(())
    } else {
        Err(SfError::NotFound {
            what: format!("{name:?} is not a valid object API name"),
        })
    }
}

fn is_api_version(v: &str) -> bool {
    match v.split_once('.') {
        Some((major, minor)) => {
            !major.is_empty()
                && !minor.is_empty()
                && major.chars().all(|c| c.is_ascii_digit())
                && minor.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
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
fn transport_error(e: reqwest::Error, what: &str, deadline: Duration) -> SfError {
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

/// The start of a body for an error message, on one line.
fn snippet(body: &[u8]) -> String {
    const MAX: usize = 120;
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX * 4)]);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(MAX).collect();
    if one_line.chars().count() > MAX {
        cut.push('…');
    }
    format!("{cut:?}")
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
fn oauth_error_fields(obj: &serde_json::Map<String, Value>) -> (&str, &str) {
    let field = |key: &str| obj.get(key).and_then(Value::as_str);
    (
        field("error").unwrap_or("unknown"),
        field("error_description").unwrap_or(""),
    )
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
    fn api_names_are_validated() {
        assert!(check_api_name("Wide_Object__c").is_ok());
        for bad in ["", "../x", "Account/describe", "1abc", "a b"] {
            assert!(check_api_name(bad).is_err(), "{bad}");
        }
        assert!(is_api_version("62.0") && !is_api_version("v62.0") && !is_api_version("62"));
    }
}
