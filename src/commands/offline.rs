//! What `mount` keeps beside the local store so that it can start while the org is out of
//! reach: which store belongs to these login settings (the org and user are only known
//! from a token response), and the org's object list and instance URL as last seen.
//!
//! The pointer lives at `<cache_dir>/logins/<key>`, where the key is a hash of the login
//! host and the Connected App's client id (never the secret); it holds `<orgId>-<userId>`,
//! the store's folder name. Both are written after every successful login.

use std::collections::HashMap;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::catalog::OrgObject;
use crate::config::Settings;
use crate::index::store::{store_path, LockError, SqliteStore, StoreLock};
use crate::salesforce::{DescribeGlobal, OrgIdentity};

/// Store `meta` keys.
const META_OBJECTS: &str = "org_objects";
pub(crate) const META_INSTANCE_URL: &str = "instance_url";

/// The folder of login pointers under the cache folder.
pub(crate) const LOGINS_DIR: &str = "logins";

/// One describeGlobal entry, as much as a mount needs to start without the org.
#[derive(Debug, Serialize, Deserialize)]
struct StoredObject {
    name: String,
    label: String,
    custom: bool,
    queryable: bool,
    key_prefix: Option<String>,
}

/// What a mount started without the org works from.
pub(crate) struct OfflineOrg {
    /// Whose store it is: the first login must name the same org and user.
    pub identity: OrgIdentity,
    pub objects: Vec<OrgObject>,
    pub key_prefixes: HashMap<String, Option<String>>,
    pub instance_url: String,
    pub store: SqliteStore,
    /// Held for as long as the mount serves the store.
    pub lock: StoreLock,
}

/// The pointer file of these login settings, if they name a login host.
fn pointer_path(cache_dir: &Path, settings: &Settings) -> Option<PathBuf> {
    let client = settings.client_settings();
    let host = client.login.base_url().ok()?;
    let key = xxhash_rust::xxh3::xxh3_64(format!("{host}\n{}", client.client_id).as_bytes());
    Some(cache_dir.join(LOGINS_DIR).join(format!("{key:016x}")))
}

/// Notes which store these settings' login led to, and what the org looked like, so a
/// later start can serve the store if the org is out of reach. Failures only cost that.
pub(crate) fn remember(
    cache_dir: Option<&Path>,
    settings: &Settings,
    identity: &OrgIdentity,
    store: &super::store::MountStore,
    global: &DescribeGlobal,
    instance_url: &str,
) {
    if let Some(cache_dir) = cache_dir {
        if let Err(error) = write_pointer(cache_dir, settings, identity) {
            tracing::debug!(%error, "cannot note which store these login settings use");
        }
    }
    let objects: Vec<StoredObject> = global
        .sobjects
        .iter()
        .map(|entry| StoredObject {
            name: entry.name.clone(),
            label: entry.label.clone(),
            custom: entry.custom,
            queryable: entry.queryable,
            key_prefix: entry.key_prefix.clone(),
        })
        .collect();
    let objects = serde_json::to_string(&objects).unwrap_or_default();
    let saved = store
        .set_meta(META_OBJECTS, &objects)
        .and_then(|()| store.set_meta(META_INSTANCE_URL, instance_url));
    if let Err(error) = saved {
        tracing::debug!(%error, "cannot keep the org's object list in the store");
    }
}

fn write_pointer(
    cache_dir: &Path,
    settings: &Settings,
    identity: &OrgIdentity,
) -> std::io::Result<()> {
    let Some(path) = pointer_path(cache_dir, settings) else {
        return Ok(());
    };
    if let Some(folder) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)?;
    }
    let temporary = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(format!("{}-{}\n", identity.org_id, identity.user_id).as_bytes())?;
    }
    // Renamed into place, so a crash never leaves half a pointer.
    std::fs::rename(&temporary, &path)
}

/// The store these settings last logged in to and what it kept of the org, if any.
pub(crate) fn recall(cache_dir: &Path, settings: &Settings) -> Option<OfflineOrg> {
    let pointer = std::fs::read_to_string(pointer_path(cache_dir, settings)?).ok()?;
    let (org_id, user_id) = pointer.trim().split_once('-')?;
    let identity = OrgIdentity::from_ids(org_id, user_id)?;
    let path = store_path(cache_dir, &identity.org_id, &identity.user_id);
    if !path.exists() {
        return None;
    }
    let lock = match StoreLock::acquire(&path) {
        Ok(lock) => lock,
        Err(error @ LockError::InUse { .. }) => {
            tracing::warn!(%error, "the local store is taken; it cannot be served offline here");
            return None;
        }
        Err(error) => {
            tracing::debug!(%error, "cannot lock the local store");
            return None;
        }
    };
    let store = SqliteStore::open(&path).ok()?;
    let objects: Vec<StoredObject> = serde_json::from_str(&store.meta(META_OBJECTS).ok()??).ok()?;
    let instance_url = store.meta(META_INSTANCE_URL).ok()??;
    let key_prefixes = objects
        .iter()
        .map(|o| (o.name.clone(), o.key_prefix.clone()))
        .collect();
    let objects = objects
        .into_iter()
        .map(|o| OrgObject {
            name: o.name,
            label: o.label,
            custom: o.custom,
            queryable: o.queryable,
        })
        .collect();
    Some(OfflineOrg {
        identity,
        objects,
        key_prefixes,
        instance_url,
        store,
        lock,
    })
}

/// How often a mount started offline looks whether its first login has happened.
const IDENTITY_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// Watches a mount started without the org until its first login: if the login names
/// another org or user than the store's (the Connected App's run-as user changed while the
/// org was out of reach), the store holds what another user may read, so the mount stops
/// (SIGTERM to itself, the normal unmount) with an error saying why.
pub(crate) fn watch_first_login(
    client: crate::salesforce::SalesforceClient,
    expected: OrgIdentity,
) {
    let spawned = std::thread::Builder::new()
        .name("sfmount-identity".into())
        .spawn(move || loop {
            std::thread::sleep(IDENTITY_POLL);
            let Some(identity) = client.identity() else {
                continue;
            };
            if identity != expected {
                tracing::error!(
                    store_org = %expected.org_id,
                    store_user = %expected.user_id,
                    org = %identity.org_id,
                    user = %identity.user_id,
                    "the login now names another org or user than the local store served \
                     while the org was out of reach; unmounting (the next mount uses the \
                     right store)"
                );
                // SAFETY: kill(2) on our own pid with a signal the mount handles.
                unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
            }
            return;
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot watch the first login of a mount started offline");
    }
}
