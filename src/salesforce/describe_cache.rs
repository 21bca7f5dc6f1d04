//! The describe caches: describeGlobal once per process, each object's describe once, and the
//! listing plans built from them, all dropped together when the org's schema changed. The
//! first fetch of each revalidates a copy kept from an earlier run (`describe_store`).

use crate::sync::lock;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::OnceCell;

use super::client::SalesforceClient;
use super::describe::{DescribeGlobal, SObjectDescribe};
use super::describe_store::{DescribeStore, GLOBAL_KEY};
use super::error::SfError;
use super::plan::ObjectPlan;

/// One cached value, filled by the first caller; concurrent callers wait for that one request.
pub(super) type CacheCell<T> = Arc<OnceCell<Arc<T>>>;

/// What the client keeps from the org's schema.
#[derive(Default)]
pub(super) struct SchemaCache {
    global: Mutex<CacheCell<DescribeGlobal>>,
    describes: Mutex<HashMap<String, CacheCell<SObjectDescribe>>>,
    plans: Mutex<HashMap<String, CacheCell<ObjectPlan>>>,
    /// Describes kept between runs, when the caller gave a store.
    pub(super) store: RwLock<Option<Arc<dyn DescribeStore>>>,
    /// Set by [`SalesforceClient::forget_schema`]: kept describes are no longer revalidated.
    pub(super) changed: AtomicBool,
    /// Set by [`SalesforceClient::trust_kept_describes`]: a kept describe is used without
    /// asking the org (a fleet's follower: the leader keeps them current).
    pub(super) trust_kept: AtomicBool,
}

impl SalesforceClient {
    /// describeGlobal, fetched once per process (revalidated when a copy was kept).
    pub async fn describe_global(&self) -> Result<Arc<DescribeGlobal>, SfError> {
        let cell = lock(&self.inner.schema.global).clone();
        cell.get_or_try_init(|| async {
            let path = format!("{}/sobjects", self.data_path());
            self.fetch_describe(GLOBAL_KEY, path, "describeGlobal".into())
                .await
                .map(Arc::new)
        })
        .await
        .cloned()
    }

    /// Drops every cached describe and plan, so the next listing describes again. Called when
    /// the org rejects a query built from the cache (a field was removed or hidden, an object
    /// stopped being queryable): the schema changed under us. Describes kept from an earlier
    /// run are fetched in full from then on, not revalidated.
    pub fn forget_schema(&self) {
        tracing::info!("the org's schema changed: describes will be fetched again");
        self.distrust_kept_describes();
        *lock(&self.inner.schema.global) = CacheCell::default();
        lock(&self.inner.schema.describes).clear();
        lock(&self.inner.schema.plans).clear();
    }

    /// One object's describe, fetched once per process and object (concurrent callers share
    /// the request; revalidated when a copy was kept).
    pub async fn describe(&self, object: &str) -> Result<Arc<SObjectDescribe>, SfError> {
        check_api_name(object)?;
        let cell = cache_cell(&self.inner.schema.describes, object);
        cell.get_or_try_init(|| async {
            let path = format!("{}/sobjects/{object}/describe", self.data_path());
            let key = object.to_ascii_lowercase();
            self.fetch_describe(&key, path, format!("describe {object}"))
                .await
                .map(Arc::new)
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
        Fut: Future<Output = Result<ObjectPlan, SfError>>,
    {
        check_api_name(object)?;
        let cell = cache_cell(&self.inner.schema.plans, object);
        cell.get_or_try_init(|| async { build().await.map(Arc::new) })
            .await
            .cloned()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_names_are_validated() {
        assert!(check_api_name("Wide_Object__c").is_ok());
        for bad in ["", "../x", "Account/describe", "1abc", "a b"] {
            assert!(check_api_name(bad).is_err(), "{bad}");
        }
    }
}
