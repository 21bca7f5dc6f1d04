//! The fake org's HTTP server: OAuth (token, identity URL, userinfo), REST routes, query
//! locators and `columns=true`, composite and sObject trees, SOSL search, tooling queries,
//! limits, Bulk API 2.0 query jobs, counters, faults.
//!
//! [`FakeOrg::start`] runs the server on its own thread and tokio runtime, so synchronous
//! tests, async tests on any runtime flavour and `sfmount demo` can all embed it.
//!
//! Choices where the real API leaves room (each documented where it is made):
//! - faults (`error_rate`, `fail_next`) hit API requests under `/services/data/vNN.N/`, not
//!   the token endpoint nor the version list, so a test's "next N calls fail" is exact;
//! - `latency_ms` delays every `/services` and identity request, not the `/_fake` controls;
//! - at most [`MAX_OPEN_CURSORS`] query locators are open at once (real orgs: 10 per
//!   user), idle ones expire after 15 minutes of server clock ([`FakeOrg::advance_clock`]);
//! - describe and describeGlobal dates (`Last-Modified`, `If-Modified-Since`) are whole
//!   seconds from seeding, moved by each schema change ([`crate::fake_org::store::Store`]'s
//!   `add_field`, `set_field_hidden`, `set_queryable`) to now or a second after the last;
//!   composite subrequests are always unconditional;
//! - `X-PrettyPrint: 1` gets the Jackson-style layout real orgs use; otherwise bodies are compact.
//! - a Bulk API 2.0 query job runs its query when it is created and stays `InProgress` for
//!   the `bulk_processing_ms` fault (default 0); results default to
//!   [`DEFAULT_RESULTS_PAGE`] rows a page (real orgs cut pages by size).

mod bulk;
mod bulk_csv;
mod columns;
mod composite;
mod control;
mod cursor;
mod describe;
mod dispatch;
mod http;
mod identity;
mod limits;
mod oauth;
mod pretty;
mod query;
mod reply;
mod search;
mod search_term;
mod sosl;
mod state;
mod tooling;
mod tree;

use crate::sync::{self, lock};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use bulk::DEFAULT_RESULTS_PAGE;
pub use composite::{MAX_COMPOSITE_QUERIES, MAX_COMPOSITE_SUBREQUESTS};
pub use cursor::{CURSOR_IDLE_TTL, MAX_OPEN_CHILD_CURSORS, MAX_OPEN_CURSORS};
pub use dispatch::MAX_URI_BYTES;
pub use query::{CHILD_BATCH_SIZE, MAX_BATCH_SIZE, MIN_BATCH_SIZE};
pub use state::{FakeStats, Faults, RequestCounts, MAX_LATENCY_MS};
pub use tree::MAX_TREE_RECORDS;

use crate::fake_org::store::{GenerateOptions, Store};
use state::Shared;

/// How to start a fake org.
#[derive(Clone)]
pub struct FakeOrgConfig {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// About this many records of each standard object (Accounts at least this many).
    pub records: usize,
    /// Seed for deterministic data.
    pub seed: u64,
    /// Consumer key the token endpoint accepts.
    pub client_id: String,
    /// Consumer secret the token endpoint accepts.
    pub client_secret: String,
    /// Delay added to every `/services` and identity request (not the `/_fake` controls), in
    /// milliseconds, at most [`MAX_LATENCY_MS`]; changeable later through faults.
    pub latency_ms: u64,
    /// Daily API request limit.
    pub api_limit: u64,
    /// Access tokens stop working this long after they were issued (`None`: never).
    pub token_ttl: Option<Duration>,
}

impl Default for FakeOrgConfig {
    fn default() -> FakeOrgConfig {
        FakeOrgConfig {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            records: 200,
            seed: 42,
            client_id: "sfmount-demo-client".to_string(),
            client_secret: "sfmount-demo-secret".to_string(),
            latency_ms: 0,
            api_limit: 100_000,
            token_ttl: None,
        }
    }
}

impl std::fmt::Debug for FakeOrgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeOrgConfig")
            .field("listen", &self.listen)
            .field("records", &self.records)
            .field("seed", &self.seed)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("latency_ms", &self.latency_ms)
            .field("api_limit", &self.api_limit)
            .field("token_ttl", &self.token_ttl)
            .finish()
    }
}

/// A running fake org. Dropping it (or calling [`FakeOrg::shutdown`]) stops the server.
pub struct FakeOrg {
    shared: Arc<Shared>,
    base_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeOrg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeOrg")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// How long in-flight requests may take to finish once the server is told to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

impl FakeOrg {
    /// Generates the org's data, binds the listener and starts serving on a background
    /// thread with its own tokio runtime. Returns once the server is listening.
    pub fn start(config: FakeOrgConfig) -> std::io::Result<FakeOrg> {
        if config.latency_ms > MAX_LATENCY_MS {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "latency {} ms is over the {MAX_LATENCY_MS} ms (ten minutes) the fake org accepts",
                    config.latency_ms
                ),
            ));
        }
        let listener = std::net::TcpListener::bind(config.listen)?;
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        let host = if local.ip().is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            local.ip()
        };
        let base_url = format!("http://{}", SocketAddr::new(host, local.port()));
        let options = GenerateOptions {
            records: config.records,
            seed: config.seed,
        };
        // A bug in data generation must reach the caller as an error, not unwind through
        // it (the demo and tests report it; the panic message is already on stderr).
        let store = std::panic::catch_unwind(|| Store::generate(&options)).map_err(|_| {
            std::io::Error::other(format!(
                "generating the fake org's data failed (records {}, seed {})",
                options.records, options.seed
            ))
        })?;
        let shared = Arc::new(Shared::new(base_url.clone(), &config, store));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fake-org-worker")
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let app_state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("fake-org".into())
            .spawn(move || {
                runtime.block_on(http::serve(listener, app_state, stopped, SHUTDOWN_GRACE));
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            })?;
        tracing::debug!(%base_url, "fake org listening");
        Ok(FakeOrg {
            shared,
            base_url,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`: both the login URL and the instance URL.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    pub fn client_id(&self) -> &str {
        &self.shared.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.shared.client_secret
    }

    /// The same numbers as `GET /_fake/stats`.
    pub fn stats(&self) -> FakeStats {
        self.shared.stats()
    }

    /// Zeroes the request counters and the API usage (a new day for the daily limit).
    pub fn reset_stats(&self) {
        self.shared.reset_stats();
    }

    /// The same knobs as `POST /_fake/faults`; fields left `None` keep their setting. Values
    /// out of range are clamped here ([`Faults::invalid_setting`]; the endpoint refuses them).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.apply_faults(&faults);
    }

    /// Runs `f` with the store locked for writing (mutate data, hide fields, undelete...).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let mut store = sync::write(&self.shared.store);
        f(&mut store)
    }

    /// Moves the server's clock forward: token TTLs and idle query locators age by `by`
    /// without the test waiting (`POST /_fake/clock {"advance_secs": n}` does the same).
    pub fn advance_clock(&self, by: Duration) {
        self.shared.advance_clock(by);
    }

    /// Query locators currently open (top-level queries and cut child lists).
    pub fn open_cursors(&self) -> usize {
        lock(&self.shared.cursors).open_count()
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for FakeOrg {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the fake org's server thread panicked");
            }
        }
    }
}
