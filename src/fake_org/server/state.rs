//! Shared server state: configuration, the store, issued tokens, counters, faults, cursors.

use crate::sync::lock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::bulk::QueryJobTable;
use super::cursor::CursorTable;
use super::FakeOrgConfig;
use crate::fake_org::store::Store;

/// Requests the server has received, by kind (counted whether or not they succeed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    /// `POST /services/oauth2/token`.
    pub token: u64,
    /// `GET .../sobjects`.
    pub describe_global: u64,
    /// `GET .../sobjects/{name}/describe` (and the `GET .../sobjects/{name}` summary).
    pub describe: u64,
    /// `GET .../query?q=` and `.../queryAll?q=` (a query opened by a request).
    pub query: u64,
    /// `GET .../query/{locator}`: a further page of a query or of a child subquery.
    pub query_more: u64,
    /// `POST .../composite` (its subrequests are not counted again under their own kind).
    pub composite: u64,
    /// `GET .../sobjects/{name}/{id}`.
    pub record: u64,
    /// `POST`, `PATCH` and `DELETE` on sobject records, and fake-only undeletes.
    pub mutation: u64,
    /// `GET .../sobjects/ContentVersion/{id}/VersionData`.
    pub blob: u64,
    /// `GET /id/{org}/{user}` and `GET /services/oauth2/userinfo`.
    pub identity: u64,
    /// Bulk API 2.0 query jobs: create, info, list, abort and delete (`.../jobs/query[/{id}]`).
    pub bulk_query_job: u64,
    /// Bulk API 2.0 query results: `GET .../jobs/query/{id}/results`, one per page.
    pub bulk_query_results: u64,
    /// `GET .../limits`.
    pub limits: u64,
    /// `GET .../search?q=` (SOSL) and `GET .../parameterizedSearch?q=`.
    pub search: u64,
    /// `POST .../composite/tree/{name}`.
    pub composite_tree: u64,
    /// `GET .../tooling/query?q=`.
    pub tooling_query: u64,
}

/// What `GET /_fake/stats` returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeStats {
    pub requests: RequestCounts,
    /// API calls counted against the daily limit (what `Sforce-Limit-Info` reports as used).
    pub api_usage: u64,
}

/// Run-time behaviour changes (`POST /_fake/faults`, [`super::FakeOrg::set_faults`]).
/// Every field left `None` keeps its current setting.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Delay added to every `/services` request, in milliseconds.
    pub latency_ms: Option<u64>,
    /// Probability (0.0 to 1.0) that an API request (`/services/data/vNN.N/...`) fails with
    /// 503 SERVER_UNAVAILABLE.
    pub error_rate: Option<f64>,
    /// The next N API requests fail with 503 SERVER_UNAVAILABLE.
    pub fail_next: Option<u64>,
    /// `true` invalidates every access token issued so far (new logins work again).
    pub expire_tokens: Option<bool>,
    /// Sets the daily API usage so that exactly this many calls remain.
    pub api_remaining: Option<u64>,
    /// Simulates a connected app without a "Run As" user: the token endpoint answers
    /// `invalid_grant` / `no client credentials user enabled`.
    pub no_run_as_user: Option<bool>,
    /// How long a Bulk API 2.0 query job stays `InProgress` after it is created, in
    /// milliseconds, at most [`MAX_LATENCY_MS`] (default 0: `JobComplete` at the first poll).
    /// Applies to jobs created after the change.
    pub bulk_processing_ms: Option<u64>,
    /// `true` closes every open query cursor now, as the org does past its cursor limit or
    /// idle timeout: the next `queryMore` of any of them answers INVALID_QUERY_LOCATOR.
    pub drop_cursors: Option<bool>,
}

/// The longest delay `latency_ms` may ask for: past ten minutes a delay is a hang to any
/// client deadline, and a test that wants a dead server can stop it instead.
pub const MAX_LATENCY_MS: u64 = 10 * 60 * 1000;

impl Faults {
    /// Why these settings cannot be applied, or `None` when they can.
    pub fn invalid_setting(&self) -> Option<String> {
        if let Some(rate) = self.error_rate {
            if !(0.0..=1.0).contains(&rate) {
                return Some(format!(
                    "error_rate must be a probability between 0.0 and 1.0, not {rate}"
                ));
            }
        }
        [
            ("latency_ms", self.latency_ms),
            ("bulk_processing_ms", self.bulk_processing_ms),
        ]
        .into_iter()
        .find_map(|(name, value)| match value {
            Some(ms) if ms > MAX_LATENCY_MS => Some(format!(
                "{name} must be at most {MAX_LATENCY_MS} (ten minutes), not {ms}"
            )),
            _ => None,
        })
    }
}

/// Current fault settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct FaultState {
    pub latency_ms: u64,
    pub error_rate: f64,
    pub fail_next: u64,
    pub no_run_as_user: bool,
    pub bulk_processing_ms: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub token: AtomicU64,
    pub describe_global: AtomicU64,
    pub describe: AtomicU64,
    pub query: AtomicU64,
    pub query_more: AtomicU64,
    pub composite: AtomicU64,
    pub record: AtomicU64,
    pub mutation: AtomicU64,
    pub blob: AtomicU64,
    pub identity: AtomicU64,
    pub bulk_query_job: AtomicU64,
    pub bulk_query_results: AtomicU64,
    pub limits: AtomicU64,
    pub search: AtomicU64,
    pub composite_tree: AtomicU64,
    pub tooling_query: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> RequestCounts {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RequestCounts {
            token: get(&self.token),
            describe_global: get(&self.describe_global),
            describe: get(&self.describe),
            query: get(&self.query),
            query_more: get(&self.query_more),
            composite: get(&self.composite),
            record: get(&self.record),
            mutation: get(&self.mutation),
            blob: get(&self.blob),
            identity: get(&self.identity),
            bulk_query_job: get(&self.bulk_query_job),
            bulk_query_results: get(&self.bulk_query_results),
            limits: get(&self.limits),
            search: get(&self.search),
            composite_tree: get(&self.composite_tree),
            tooling_query: get(&self.tooling_query),
        }
    }

    fn reset(&self) {
        for c in [
            &self.token,
            &self.describe_global,
            &self.describe,
            &self.query,
            &self.query_more,
            &self.composite,
            &self.record,
            &self.mutation,
            &self.blob,
            &self.identity,
            &self.bulk_query_job,
            &self.bulk_query_results,
            &self.limits,
            &self.search,
            &self.composite_tree,
            &self.tooling_query,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// The kind of request, for [`RequestCounts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    Token,
    DescribeGlobal,
    Describe,
    Query,
    QueryMore,
    Composite,
    Record,
    Mutation,
    Blob,
    Identity,
    BulkQueryJob,
    BulkQueryResults,
    Limits,
    Search,
    CompositeTree,
    ToolingQuery,
}

/// Why an API call was refused before it was handled.
pub(crate) enum Admission {
    Allowed,
    LimitExceeded,
}

pub(crate) struct Shared {
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub api_limit: u64,
    pub token_ttl: Option<Duration>,
    pub store: RwLock<Store>,
    pub counters: Counters,
    api_usage: Mutex<u64>,
    faults: Mutex<FaultState>,
    /// Access token to the server-clock instant it was issued.
    tokens: Mutex<HashMap<String, Instant>>,
    pub cursors: Mutex<CursorTable>,
    pub bulk_jobs: Mutex<QueryJobTable>,
    rng: Mutex<ChaCha8Rng>,
    /// Added to the real clock, so tests can age tokens and cursors without waiting.
    clock_offset: Mutex<Duration>,
}

/// Characters of the opaque part of an access token, as real tokens use.
const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
/// Real access tokens carry about 96 to 112 opaque characters after the org Id.
const TOKEN_OPAQUE_LEN: usize = 96;

impl Shared {
    pub fn new(base_url: String, config: &FakeOrgConfig, store: Store) -> Shared {
        Shared {
            base_url,
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            api_limit: config.api_limit,
            token_ttl: config.token_ttl,
            store: RwLock::new(store),
            counters: Counters::default(),
            api_usage: Mutex::new(0),
            faults: Mutex::new(FaultState {
                latency_ms: config.latency_ms,
                ..FaultState::default()
            }),
            tokens: Mutex::new(HashMap::new()),
            cursors: Mutex::new(CursorTable::default()),
            bulk_jobs: Mutex::new(QueryJobTable::default()),
            // Fault dice are seeded too, so a run with error_rate is reproducible.
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(config.seed ^ 0x5eed_f00d)),
            clock_offset: Mutex::new(Duration::ZERO),
        }
    }

    /// The server's clock: real monotonic time plus any offset a test added.
    pub fn now(&self) -> Instant {
        Instant::now() + *lock(&self.clock_offset)
    }

    pub fn advance_clock(&self, by: Duration) {
        *lock(&self.clock_offset) += by;
    }

    pub fn count(&self, kind: RequestKind) {
        let c = &self.counters;
        let counter = match kind {
            RequestKind::Token => &c.token,
            RequestKind::DescribeGlobal => &c.describe_global,
            RequestKind::Describe => &c.describe,
            RequestKind::Query => &c.query,
            RequestKind::QueryMore => &c.query_more,
            RequestKind::Composite => &c.composite,
            RequestKind::Record => &c.record,
            RequestKind::Mutation => &c.mutation,
            RequestKind::Blob => &c.blob,
            RequestKind::Identity => &c.identity,
            RequestKind::BulkQueryJob => &c.bulk_query_job,
            RequestKind::BulkQueryResults => &c.bulk_query_results,
            RequestKind::Limits => &c.limits,
            RequestKind::Search => &c.search,
            RequestKind::CompositeTree => &c.composite_tree,
            RequestKind::ToolingQuery => &c.tooling_query,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn stats(&self) -> FakeStats {
        FakeStats {
            requests: self.counters.snapshot(),
            api_usage: *lock(&self.api_usage),
        }
    }

    pub fn reset_stats(&self) {
        self.counters.reset();
        *lock(&self.api_usage) = 0;
        lock(&self.bulk_jobs).start_new_day();
    }

    /// Counts one API call against the daily limit, unless the limit is already spent.
    pub fn admit_api_call(&self) -> Admission {
        let mut used = lock(&self.api_usage);
        if *used >= self.api_limit {
            return Admission::LimitExceeded;
        }
        *used += 1;
        Admission::Allowed
    }

    /// `api-usage=USED/MAX`, exactly as Salesforce spells it (tap-salesforce anchors its regex).
    pub fn limit_info(&self) -> String {
        format!("api-usage={}/{}", *lock(&self.api_usage), self.api_limit)
    }

    pub fn api_remaining(&self) -> u64 {
        self.api_limit.saturating_sub(*lock(&self.api_usage))
    }

    pub fn latency(&self) -> Duration {
        Duration::from_millis(lock(&self.faults).latency_ms)
    }

    pub fn bulk_processing(&self) -> Duration {
        Duration::from_millis(lock(&self.faults).bulk_processing_ms)
    }

    pub fn no_run_as_user(&self) -> bool {
        lock(&self.faults).no_run_as_user
    }

    /// Decides whether this API request fails by fault injection (and uses up a `fail_next`).
    pub fn inject_failure(&self) -> bool {
        let mut faults = lock(&self.faults);
        if faults.fail_next > 0 {
            faults.fail_next -= 1;
            return true;
        }
        faults.error_rate > 0.0 && lock(&self.rng).gen_bool(faults.error_rate.clamp(0.0, 1.0))
    }

    pub fn apply_faults(&self, update: &Faults) {
        {
            let mut faults = lock(&self.faults);
            if let Some(ms) = update.latency_ms {
                faults.latency_ms = ms.min(MAX_LATENCY_MS);
            }
            if let Some(rate) = update.error_rate {
                faults.error_rate = if rate.is_finite() {
                    rate.clamp(0.0, 1.0)
                } else {
                    0.0
                };
            }
            if let Some(n) = update.fail_next {
                faults.fail_next = n;
            }
            if let Some(ms) = update.bulk_processing_ms {
                faults.bulk_processing_ms = ms.min(MAX_LATENCY_MS);
            }
            if let Some(flag) = update.no_run_as_user {
                faults.no_run_as_user = flag;
            }
        }
        if update.expire_tokens == Some(true) {
            lock(&self.tokens).clear();
        }
        if update.drop_cursors == Some(true) {
            lock(&self.cursors).close_all();
        }
        if let Some(remaining) = update.api_remaining {
            *lock(&self.api_usage) = self.api_limit.saturating_sub(remaining);
        }
    }

    /// Issues a new access token: the org's 15-character Id, `!`, then opaque characters.
    pub fn issue_token(&self, org_id: &str) -> (String, Instant) {
        let mut token = String::with_capacity(16 + TOKEN_OPAQUE_LEN);
        token.push_str(&org_id[..org_id.len().min(15)]);
        token.push('!');
        // Not from the seeded generator: two orgs with the same seed (or a restarted one)
        // must never accept each other's tokens.
        let mut rng = rand::thread_rng();
        for _ in 0..TOKEN_OPAQUE_LEN {
            token.push(TOKEN_ALPHABET[rng.gen_range(0..TOKEN_ALPHABET.len())] as char);
        }
        let issued = self.now();
        lock(&self.tokens).insert(token.clone(), issued);
        (token, issued)
    }

    /// True when the token was issued here, was not invalidated, and has not outlived its TTL.
    pub fn token_is_valid(&self, token: &str) -> bool {
        let now = self.now();
        let mut tokens = lock(&self.tokens);
        let Some(issued) = tokens.get(token).copied() else {
            return false;
        };
        match self.token_ttl {
            Some(ttl) if now.saturating_duration_since(issued) >= ttl => {
                tokens.remove(token);
                false
            }
            _ => true,
        }
    }
}
