//! Which store a mount keeps: its own SQLite file under `cache_dir` (one mount at a time,
//! held by a lock), or a fleet's shared PostgreSQL database (`store` setting), where every
//! mount of the org and run-as user meets the others.
//!
//! The two differ in how a failure is taken. A local store that cannot be opened costs API
//! calls, never the mount: the mount goes on in memory. A shared store that cannot be
//! reached at start is an error, since the user asked for the fleet and a mount on its own
//! would spend the calls the fleet exists to save.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::index::store::{
    store_path, LocalStore, LockError, PostgresStore, SqliteStore, StoreError, StoreLock,
};
use crate::salesforce::{DescribeStore, OrgIdentity};

/// The store a mount serves from and writes to.
pub(crate) enum MountStore {
    /// This mount's own SQLite file, with the lock that keeps other mounts off it.
    Local {
        store: Arc<SqliteStore>,
        lock: StoreLock,
    },
    /// The fleet's database.
    Shared(Arc<PostgresStore>),
}

/// How long opening the shared store may take (connect, and create or migrate its schema):
/// a database on the same network answers in milliseconds; one that takes longer is not
/// going to serve a mount well either.
const SHARED_STORE_CONNECT: Duration = Duration::from_secs(10);

impl MountStore {
    /// The store of this org and run-as user: the shared one when `shared_url` is set
    /// (errors are returned), else the local one under `cache_dir` (problems are logged and
    /// give `None`: memory only).
    pub(crate) fn open(
        shared_url: Option<&str>,
        cache_dir: Option<&Path>,
        identity: Option<OrgIdentity>,
    ) -> anyhow::Result<Option<MountStore>> {
        match shared_url {
            Some(url) => {
                let identity = identity.context(
                    "the token response did not name the org and user, so the shared store \
                     cannot tell this org's data from another's",
                )?;
                let key = format!("{}-{}", identity.org_id, identity.user_id);
                let store = PostgresStore::connect(url, &key, SHARED_STORE_CONNECT)
                    .context("cannot open the shared store (the `store` setting)")?;
                tracing::info!(store = %store.shown(), key = %key, "shared store open");
                Ok(Some(MountStore::Shared(Arc::new(store))))
            }
            None => Ok(open_local(cache_dir, identity)),
        }
    }

    pub(crate) fn describe_store(&self) -> Arc<dyn DescribeStore> {
        match self {
            MountStore::Local { store, .. } => store.clone(),
            MountStore::Shared(store) => store.clone(),
        }
    }

    pub(crate) fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        match self {
            MountStore::Local { store, .. } => store.set_meta(key, value),
            MountStore::Shared(store) => store.set_meta(key, value),
        }
    }

    /// Whether another mount of the fleet leads the refresh right now (then this one
    /// follows, and trusts the describes the leader keeps current).
    pub(crate) fn led_elsewhere(&self) -> bool {
        let MountStore::Shared(store) = self else {
            return false;
        };
        let Some(fleet) = store.fleet() else {
            return false;
        };
        matches!(fleet.lead(), Ok(false))
    }

    /// Applies `max_cache_size`; a failure leaves the store unbounded (and is logged), since
    /// a store over its bound still serves correctly.
    pub(crate) fn bound(&self, limit: Option<u64>) {
        let bounded = match self {
            MountStore::Local { store, .. } => store.set_body_limit(limit),
            MountStore::Shared(store) => store.set_body_limit(limit),
        };
        if let Err(error) = bounded {
            tracing::warn!(%error, "cannot apply max_cache_size to the store");
        } else if let Some(limit) = limit {
            tracing::info!(
                max_bytes = limit,
                "stored bodies are bounded; the least recently used go first"
            );
        }
    }

    /// The local store's lock (held until the mount ends), if this is one.
    pub(crate) fn into_parts(self) -> (Arc<dyn LocalStore>, Option<StoreLock>) {
        match self {
            MountStore::Local { store, lock } => (store, Some(lock)),
            MountStore::Shared(store) => (store, None),
        }
    }
}

/// The local store of this org and run-as user under `cache_dir` with its lock, or none
/// (memory only) when there is no cache folder, the session did not say whose it is,
/// another mount holds the store, or it cannot be opened: a missing disk cache costs API
/// calls, never the mount.
fn open_local(cache_dir: Option<&Path>, identity: Option<OrgIdentity>) -> Option<MountStore> {
    let Some(cache_dir) = cache_dir else {
        tracing::info!("no local store (cache_dir is empty): bodies are kept in memory only");
        return None;
    };
    let Some(identity) = identity else {
        tracing::warn!(
            "the token response did not name the org and user; no local store, bodies are \
             kept in memory only"
        );
        return None;
    };
    let path = store_path(cache_dir, &identity.org_id, &identity.user_id);
    let lock = match StoreLock::acquire(&path) {
        Ok(lock) => lock,
        Err(error @ LockError::InUse { .. }) => {
            tracing::warn!(
                %error,
                "another mount uses this org's local store; this one keeps bodies in memory only"
            );
            return None;
        }
        Err(error) => {
            tracing::warn!(%error, "no local store; bodies are kept in memory only");
            return None;
        }
    };
    match SqliteStore::open(&path) {
        Ok(store) => {
            tracing::info!(store = %path.display(), "local store open");
            Some(MountStore::Local {
                store: Arc::new(store),
                lock,
            })
        }
        Err(error) => {
            tracing::warn!(error = %error, "no local store; bodies are kept in memory only");
            None
        }
    }
}
