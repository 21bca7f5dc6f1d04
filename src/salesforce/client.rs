//! The client itself: its settings, the state it shares between clones, connecting, and the
//! figures it reports. The request pipeline is in `transport`, the token in `session`, the
//! describe caches in `describe_cache`.

use crate::sync::lock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::describe_cache::SchemaCache;
use super::error::SfError;
use super::limits::ApiUsage;
use super::login::LoginTarget;
use super::session::Session;
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
}

/// Salesforce's own default for client tools (the coco connector also used 30 s per request).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Winter '25: recent enough for everything we use, old enough for every org in service.
pub const DEFAULT_API_VERSION: &str = "62.0";
/// Three retries at 0.25 s, 0.5 s, 1 s ride out a blip without hammering a struggling org.
pub const DEFAULT_MAX_RETRIES: u32 = 3;

impl ClientSettings {
    pub fn new(login: LoginTarget, client_id: impl Into<String>, client_secret: Secret) -> Self {
        ClientSettings {
            login,
            client_id: client_id.into(),
            client_secret,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            api_version: DEFAULT_API_VERSION.to_string(),
            max_retries: DEFAULT_MAX_RETRIES,
        }
    }
}

pub(super) struct Inner {
    pub http: reqwest::Client,
    pub settings: ClientSettings,
    pub token_url: String,
    pub session: RwLock<Arc<Session>>,
    /// Held while a token request is in flight, so concurrent 401s share one re-auth.
    pub reauth: tokio::sync::Mutex<()>,
    pub usage: Mutex<Option<ApiUsage>>,
    /// Set when the org answered REQUEST_LIMIT_EXCEEDED: until then calls fail without a request.
    pub limited_until: Mutex<Option<(Instant, String)>>,
    pub api_calls: AtomicU64,
    pub token_requests: AtomicU64,
    pub schema: SchemaCache,
}

/// A Salesforce REST client. Cheap to clone (an `Arc` inside); share one per process so the
/// token and the describe caches are shared too.
#[derive(Clone)]
pub struct SalesforceClient {
    pub(super) inner: Arc<Inner>,
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

    pub(crate) fn add_call(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl SalesforceClient {
    /// Authenticates once (client credentials) and returns a client holding the token.
    pub async fn connect(settings: ClientSettings) -> Result<SalesforceClient, SfError> {
        let client = Self::build(settings)?;
        client.reauthenticate(0).await?;
        Ok(client)
    }

    fn build(settings: ClientSettings) -> Result<SalesforceClient, SfError> {
        check_settings(&settings)?;
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
                session: RwLock::new(Arc::new(Session::none())),
                reauth: tokio::sync::Mutex::new(()),
                usage: Mutex::new(None),
                limited_until: Mutex::new(None),
                api_calls: AtomicU64::new(0),
                token_requests: AtomicU64::new(0),
                schema: SchemaCache::default(),
            }),
        };
        Ok(client)
    }

    /// A client that logs in on its first API call instead of now: for a mount that serves
    /// its local store while the org is out of reach, and catches up once it answers.
    pub fn connect_later(settings: ClientSettings) -> Result<SalesforceClient, SfError> {
        Self::build(settings)
    }

    /// The org's instance URL from the token response (all API calls go there).
    pub fn instance_url(&self) -> String {
        self.session().instance_url.clone()
    }

    /// The org and run-as user of the current session (after `connect`), when the token
    /// response named them.
    pub fn identity(&self) -> Option<super::session::OrgIdentity> {
        self.session().identity.clone()
    }

    pub fn api_version(&self) -> &str {
        &self.inner.settings.api_version
    }

    /// The last `Sforce-Limit-Info` the org sent.
    pub fn api_usage(&self) -> Option<ApiUsage> {
        *lock(&self.inner.usage)
    }

    /// API calls (requests under /services/data) this client has made, retries included.
    pub fn api_calls_made(&self) -> u64 {
        self.inner.api_calls.load(Ordering::Relaxed)
    }

    /// Token requests this client has made.
    pub fn token_requests_made(&self) -> u64 {
        self.inner.token_requests.load(Ordering::Relaxed)
    }
}

/// Settings that cannot work, refused before any request.
fn check_settings(settings: &ClientSettings) -> Result<(), SfError> {
    if settings.client_id.trim().is_empty() {
        return Err(SfError::Config {
            message: "client_id is empty; give the Connected App's Consumer Key".into(),
        });
    }
    if settings.client_secret.is_empty() {
        return Err(SfError::Config {
            message: "the client secret is empty; give the Connected App's Consumer Secret".into(),
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
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_are_validated() {
        assert!(is_api_version("62.0") && !is_api_version("v62.0") && !is_api_version("62"));
    }
}
