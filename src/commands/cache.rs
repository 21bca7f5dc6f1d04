//! `sfmount cache info` and `sfmount cache clear`: the local stores under the cache folder,
//! looked at and removed without logging in (the folder is found as `mount` finds it, but
//! no credentials are needed). `info` opens each store read-only, so it never creates or
//! migrates one and may run beside a mount; `clear` takes each store's lock first, so it
//! refuses to remove a store a running mount holds.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Serialize;

use super::offline::{LOGINS_DIR, META_INSTANCE_URL};
use crate::cli::{CacheClearArgs, CacheCommand, CacheDirArgs, CacheInfoArgs};
use crate::config::Settings;
use crate::index::store::{
    lock_holder, LocalStore, LockError, SqliteStore, StoreLock, STORE_FILE_NAME,
};
use crate::salesforce::OrgIdentity;

pub fn run(command: CacheCommand) -> anyhow::Result<()> {
    match command {
        CacheCommand::Info(args) => info(&args),
        CacheCommand::Clear(args) => clear(&args),
    }
}

/// The cache folder the settings name; an error when they say memory only.
fn cache_dir(location: &CacheDirArgs) -> anyhow::Result<PathBuf> {
    let env = |name: &str| std::env::var(name).ok();
    Settings::resolve_cache_dir(location.config.as_deref(), &location.settings_layer(), &env)?
        .context(
            "no cache folder: the settings say memory only (cache_dir = \"\"), or neither \
             XDG_CACHE_HOME nor HOME is set; name one with --cache-dir",
        )
}

/// One store folder, `<cache_dir>/<orgId>-<userId>/`.
struct StoreDir {
    identity: OrgIdentity,
    folder: PathBuf,
}

impl StoreDir {
    fn store(&self) -> PathBuf {
        self.folder.join(STORE_FILE_NAME)
    }

    fn name(&self) -> String {
        format!("{}-{}", self.identity.org_id, self.identity.user_id)
    }
}

/// Every store folder under `cache_dir`, by name; none when the folder does not exist.
/// Other entries (the login pointers, a stray file) are left alone.
fn find_stores(cache_dir: &Path) -> anyhow::Result<Vec<StoreDir>> {
    let entries = match std::fs::read_dir(cache_dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => {
            return Err(error).with_context(|| format!("cannot list {}", cache_dir.display()))
        }
    };
    let mut stores = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", cache_dir.display()))?;
        let name = entry.file_name();
        let Some((org_id, user_id)) = name.to_str().and_then(|name| name.split_once('-')) else {
            continue;
        };
        let Some(identity) = OrgIdentity::from_ids(org_id, user_id) else {
            continue;
        };
        let folder = entry.path();
        if folder.join(STORE_FILE_NAME).is_file() {
            stores.push(StoreDir { identity, folder });
        }
    }
    stores.sort_by_key(StoreDir::name);
    Ok(stores)
}

/// What `info` shows of one store (`--json` prints exactly this).
#[derive(Debug, Serialize)]
struct StoreReport {
    org_id: String,
    user_id: String,
    instance_url: Option<String>,
    path: PathBuf,
    /// The database and its write-ahead log.
    disk_bytes: u64,
    /// Whether a mount holds the store's lock, and its pid when it wrote one.
    in_use: bool,
    pid: Option<u32>,
    schema_version: Option<i64>,
    /// Why the store could not be read, when it could not.
    error: Option<String>,
    folders: Vec<FolderReport>,
}

#[derive(Debug, Serialize)]
struct FolderReport {
    object: String,
    complete: bool,
    records: u64,
    files: u64,
    body_bytes: u64,
    /// RFC 3339, UTC.
    refreshed_at: String,
}

#[derive(Debug, Serialize)]
struct CacheReport {
    cache_dir: PathBuf,
    stores: Vec<StoreReport>,
}

fn info(args: &CacheInfoArgs) -> anyhow::Result<()> {
    let cache_dir = cache_dir(&args.location)?;
    let stores = find_stores(&cache_dir)?.iter().map(report).collect();
    let report = CacheReport { cache_dir, stores };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(())
}

/// One store's report; a store that cannot be read is still listed, with the reason.
fn report(dir: &StoreDir) -> StoreReport {
    let path = dir.store();
    let disk_bytes = [
        STORE_FILE_NAME.to_string(),
        format!("{STORE_FILE_NAME}-wal"),
    ]
    .iter()
    .filter_map(|name| std::fs::metadata(dir.folder.join(name)).ok())
    .map(|meta| meta.len())
    .sum();
    let (in_use, pid) = match lock_holder(&path) {
        Ok(Some(pid)) => (true, pid),
        Ok(None) => (false, None),
        Err(error) => {
            tracing::debug!(%error, "cannot tell whether the store is in use");
            (false, None)
        }
    };
    let mut report = StoreReport {
        org_id: dir.identity.org_id.clone(),
        user_id: dir.identity.user_id.clone(),
        instance_url: None,
        path: path.clone(),
        disk_bytes,
        in_use,
        pid,
        schema_version: None,
        error: None,
        folders: Vec::new(),
    };
    let read = SqliteStore::open_read_only(&path).and_then(|store| {
        let version = store.schema_version()?;
        let instance_url = store.meta(META_INSTANCE_URL)?;
        Ok((version, instance_url, store.info()?))
    });
    match read {
        Ok((version, instance_url, folders)) => {
            report.schema_version = Some(version);
            report.instance_url = instance_url;
            report.folders = folders
                .into_iter()
                .map(|folder| FolderReport {
                    object: folder.object,
                    complete: folder.complete,
                    records: folder.records,
                    files: folder.files,
                    body_bytes: folder.body_bytes,
                    refreshed_at: crate::sftime::rfc3339(folder.refreshed_at),
                })
                .collect();
        }
        Err(error) => report.error = Some(error.to_string()),
    }
    report
}

/// The report as a person reads it: a few lines per store, then its folders as columns.
fn table(report: &CacheReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "cache folder: {}", report.cache_dir.display());
    if report.stores.is_empty() {
        let _ = writeln!(out, "no local stores");
        return out;
    }
    for store in &report.stores {
        let _ = writeln!(out);
        let _ = writeln!(out, "store    org {}, user {}", store.org_id, store.user_id);
        let instance = store.instance_url.as_deref().unwrap_or("(not recorded)");
        let _ = writeln!(out, "instance {instance}");
        let _ = writeln!(out, "path     {}", store.path.display());
        let _ = writeln!(out, "on disk  {}", human_bytes(store.disk_bytes));
        let in_use = match (store.in_use, store.pid) {
            (true, Some(pid)) => format!("yes, by the mount with pid {pid}"),
            (true, None) => "yes".to_string(),
            (false, _) => "no".to_string(),
        };
        let _ = writeln!(out, "in use   {in_use}");
        if let Some(error) = &store.error {
            let _ = writeln!(out, "unreadable: {error}");
            continue;
        }
        if store.folders.is_empty() {
            let _ = writeln!(out, "no folders listed yet");
            continue;
        }
        let width = store
            .folders
            .iter()
            .map(|f| f.object.len())
            .max()
            .unwrap_or(0)
            .max("FOLDER".len());
        let _ = writeln!(
            out,
            "  {:width$}  {:>8}  {:>8}  {:>10}  {:8}  REFRESHED",
            "FOLDER", "RECORDS", "FILES", "BODIES", "COMPLETE"
        );
        for folder in &store.folders {
            let _ = writeln!(
                out,
                "  {:width$}  {:>8}  {:>8}  {:>10}  {:8}  {}",
                folder.object,
                folder.records,
                folder.files,
                human_bytes(folder.body_bytes),
                if folder.complete { "yes" } else { "no" },
                folder.refreshed_at
            );
        }
    }
    out
}

/// Bytes with a binary unit, one decimal above a KiB (`812 B`, `1.5 KiB`, `64.0 MiB`).
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Whether `wanted` names this org: the 18-character Id, or its 15-character form.
fn is_org(identity: &OrgIdentity, wanted: &str) -> bool {
    let org = identity.org_id.as_str();
    org == wanted || (wanted.len() == 15 && org.len() == 18 && org.starts_with(wanted))
}

fn clear(args: &CacheClearArgs) -> anyhow::Result<()> {
    let cache_dir = cache_dir(&args.location)?;
    let mut stores = find_stores(&cache_dir)?;
    if let Some(org) = &args.org {
        stores.retain(|store| is_org(&store.identity, org.trim()));
        if stores.is_empty() {
            bail!(
                "no store of org {org} under {} (`sfmount cache info` lists them)",
                cache_dir.display()
            );
        }
    }
    if stores.is_empty() {
        println!("no local stores under {}", cache_dir.display());
        return Ok(());
    }
    // Every lock first, so either all the chosen stores go or none does; the locks are held
    // while the folders are removed, so no mount can open one meanwhile.
    let mut locks = Vec::new();
    let mut busy = Vec::new();
    for store in &stores {
        match StoreLock::acquire(&store.store()) {
            Ok(lock) => locks.push(lock),
            Err(LockError::InUse { holder, .. }) => busy.push(match holder {
                Some(pid) => format!("{} (mount pid {pid})", store.name()),
                None => store.name(),
            }),
            Err(error) => return Err(error.into()),
        }
    }
    if !busy.is_empty() {
        bail!(
            "not clearing: a running mount is using {}; unmount it first (Ctrl-C the mount, \
             or fusermount3 -u MOUNTPOINT), then run this again",
            busy.join(", ")
        );
    }
    let mut freed = 0;
    for store in &stores {
        freed += folder_bytes(&store.folder);
        std::fs::remove_dir_all(&store.folder)
            .with_context(|| format!("cannot remove {}", store.folder.display()))?;
        println!("removed {}", store.folder.display());
    }
    drop(locks);
    let names: Vec<String> = stores.iter().map(StoreDir::name).collect();
    let pointers = remove_pointers(&cache_dir.join(LOGINS_DIR), &names)?;
    println!(
        "cleared {} store{} ({} freed), {pointers} login pointer{}",
        stores.len(),
        if stores.len() == 1 { "" } else { "s" },
        human_bytes(freed),
        if pointers == 1 { "" } else { "s" },
    );
    Ok(())
}

/// Bytes of the regular files directly in `folder` (a store folder has no subfolders).
fn folder_bytes(folder: &Path) -> u64 {
    std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.metadata().ok())
        .filter(|meta| meta.is_file())
        .map(|meta| meta.len())
        .sum()
}

/// Removes the login pointers that name one of `stores`; how many went. Pointers to other
/// stores stay: they still let those stores be served when their org is out of reach.
fn remove_pointers(logins: &Path, stores: &[String]) -> anyhow::Result<usize> {
    let entries = match std::fs::read_dir(logins) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => {
            return Err(error).with_context(|| format!("cannot list {}", logins.display()))
        }
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if stores.iter().any(|name| name == text.trim()) {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(64 << 20), "64.0 MiB");
    }

    #[test]
    fn an_org_is_named_by_its_long_or_short_id() {
        let identity = OrgIdentity::from_ids("00D000000000001AAA", "005000000000001AAA").unwrap();
        assert!(is_org(&identity, "00D000000000001AAA"));
        assert!(is_org(&identity, "00D000000000001"));
        assert!(!is_org(&identity, "00D000000000002"));
        assert!(!is_org(&identity, "00D"));
    }
}
