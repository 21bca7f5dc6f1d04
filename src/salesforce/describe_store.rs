//! Describes kept between runs: the trait a persistent store implements (the client only
//! names it; the index's local store provides one), and the conditional GET that revalidates
//! a kept describe with `If-Modified-Since` instead of downloading it again.
//!
//! Salesforce answers a describe (and describeGlobal) sent with `If-Modified-Since` with
//! `304 Not Modified` and no body when the object's metadata has not changed since that
//! date. A 304 still costs one API call, but not the body: a describe of a wide object is
//! hundreds of kilobytes, describeGlobal of a large org a few megabytes.

use crate::sync;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use reqwest::Method;
use serde::de::DeserializeOwned;

use super::client::{Meter, SalesforceClient};
use super::error::SfError;
use super::transport::{Answer, Call};

/// A describe as the org sent it, kept between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDescribe {
    pub last_modified: String,
    pub body: Vec<u8>,
}

/// Where describes are kept between runs. Failures are the store's to log: a describe that
/// cannot be loaded is fetched, one that cannot be saved is fetched again next run.
pub trait DescribeStore: Send + Sync {
    /// key: "global" for describeGlobal, or the object's API name lowercased.
    fn load(&self, key: &str) -> Option<StoredDescribe>;
    fn save(&self, key: &str, describe: &StoredDescribe);

    /// For a store several processes share: holds `key` (until the value is dropped, at most
    /// `deadline` of waiting) so that one of them fetches a describe while the others wait
    /// and then find it kept. `None`: nothing to hold (a store of one process).
    fn hold(&self, _key: &str, _deadline: std::time::Duration) -> Option<Box<dyn Send>> {
        None
    }
}

/// How long a describe waits for another process of a fleet fetching the same one: a
/// describe is one request, well inside a request deadline with its retry.
const HOLD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// The [`DescribeStore`] key of describeGlobal.
pub(super) const GLOBAL_KEY: &str = "global";

/// A kept describe that can be revalidated: the date to send and the body, parsed.
struct Revalidatable<T> {
    since: String,
    value: T,
}

impl SalesforceClient {
    /// Keeps describes in `store` between runs. Set once, right after connecting and before
    /// the first describe; a describe already cached in memory is not affected.
    pub fn set_describe_store(&self, store: Arc<dyn DescribeStore>) {
        *sync::write(&self.inner.schema.store) = Some(store);
    }

    /// GET a describe (`key` as [`DescribeStore::load`] names it) and parse it as `T`. When
    /// the store holds a usable copy and the schema has not been forgotten in this process,
    /// the request carries `If-Modified-Since` and a 304 returns that copy; a 200 is parsed
    /// and, when it carries `Last-Modified`, saved for the next run.
    pub(super) async fn fetch_describe<T: DeserializeOwned>(
        &self,
        key: &str,
        path: String,
        what: String,
    ) -> Result<T, SfError> {
        let store = sync::read(&self.inner.schema.store).clone();
        // After forget_schema the org has just refused a query built from what we knew, so a
        // kept copy is not trusted even if the org would call it current: a field hidden by
        // field-level security is a change of the user's profile, and need not move the
        // object's metadata date.
        let revalidate = !self.inner.schema.changed.load(Ordering::Relaxed);
        let trust = self.inner.schema.trust_kept.load(Ordering::Relaxed);
        // In a fleet, one process fetches a describe at a time: a follower waiting here then
        // finds the copy the other one kept, and trusts it.
        let _held = match &store {
            Some(store) => {
                let (store, held_key) = (store.clone(), key.to_string());
                tokio::task::spawn_blocking(move || store.hold(&held_key, HOLD_DEADLINE))
                    .await
                    .ok()
                    .flatten()
            }
            None => None,
        };
        let kept = match &store {
            Some(store) if revalidate => store
                .load(key)
                .and_then(|kept| revalidatable::<T>(kept, &what)),
            _ => None,
        };
        if trust {
            if let Some(kept) = kept {
                tracing::debug!(what = %what, "using the kept describe as it is (the fleet's leader keeps it current)");
                return Ok(kept.value);
            }
        }
        let call = Call {
            method: Method::GET,
            path,
            body: None,
            safe: true,
            what: what.clone(),
            if_modified_since: kept.as_ref().map(|k| k.since.clone()),
            raw: false,
        };
        match self.call(call, &Meter::default()).await? {
            Answer::NotModified => match kept {
                Some(kept) => {
                    tracing::debug!(what = %what, since = %kept.since, "describe unchanged; using the kept copy");
                    Ok(kept.value)
                }
                // The pipeline answers NotModified only to a call that sent the header.
                None => Err(SfError::Malformed {
                    what,
                    detail: "HTTP 304 to a request that asked for a body".into(),
                }),
            },
            Answer::Body {
                value,
                bytes,
                last_modified,
            } => {
                let parsed: T = serde_json::from_value(value).map_err(|e| SfError::Malformed {
                    what: what.clone(),
                    detail: e.to_string(),
                })?;
                match (store, last_modified) {
                    // A date we could not send back is not worth keeping.
                    (Some(store), Some(last_modified))
                        if crate::sftime::parse_http_date(&last_modified).is_some() =>
                    {
                        store.save(
                            key,
                            &StoredDescribe {
                                last_modified,
                                body: bytes,
                            },
                        );
                    }
                    (Some(_), _) => {
                        tracing::debug!(what = %what, "no usable Last-Modified; describe not kept")
                    }
                    (None, _) => {}
                }
                Ok(parsed)
            }
        }
    }

    /// Uses kept describes (describeGlobal included) as they are, without revalidating
    /// them: for a mount that follows a fleet's leader, which revalidates them in the shared
    /// store, so that a follower's start costs its login and nothing more. A describe not
    /// kept is still fetched. Set once, before the first describe.
    pub fn trust_kept_describes(&self) {
        self.inner.schema.trust_kept.store(true, Ordering::Relaxed);
    }

    /// Makes the next describe of every object (and describeGlobal) unconditional for the
    /// rest of the process (see [`Self::fetch_describe`]).
    pub(super) fn distrust_kept_describes(&self) {
        self.inner.schema.changed.store(true, Ordering::Relaxed);
    }
}

/// A kept describe worth revalidating: its date reads as an HTTP date and its body still
/// parses as `T` (a copy saved by an older sfmount, or damaged on disk, is fetched afresh).
/// The date is sent in the canonical form, so nothing odd read from disk reaches a header.
fn revalidatable<T: DeserializeOwned>(
    kept: StoredDescribe,
    what: &str,
) -> Option<Revalidatable<T>> {
    let Some(since) = crate::sftime::parse_http_date(&kept.last_modified) else {
        tracing::debug!(what = %what, "the kept describe's date does not read; fetching it again");
        return None;
    };
    match serde_json::from_slice::<T>(&kept.body) {
        Ok(value) => Some(Revalidatable {
            since: crate::sftime::http_date(since),
            value,
        }),
        Err(e) => {
            tracing::debug!(what = %what, error = %e, "the kept describe does not parse; fetching it again");
            None
        }
    }
}
