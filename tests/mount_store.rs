//! The local store through a real mount of an in-process fake org: with a memory cache far
//! smaller than the folder, a second `grep -r` (after the kernel's page cache of the files
//! is dropped) reads every body from the store and makes no API call; the store file is
//! private and holds neither the client secret nor the access token.

mod mount_support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use sfmount::catalog::Group;
use sfmount::fake_org::{FakeOrg, RequestCounts};
use sfmount::fs::fuse::{spawn_mount, MountConfig};
use sfmount::fs::Filesystem;
use sfmount::index::salesforce_source::{key_prefix, ClientSource};
use sfmount::index::store::{store_path, LocalStore, SqliteStore};
use sfmount::index::{FileFormat, FolderSpec, Index, IndexConfig};

use mount_support::*;

/// A few bodies' worth: nearly every read of the folder misses memory.
const TINY_MEMORY_CACHE: usize = 4_096;
const RECORDS: usize = 300;

struct Mounted {
    session: Option<fuser::BackgroundSession>,
    dir: tempfile::TempDir,
    fs: Arc<Filesystem>,
    org: FakeOrg,
    /// Where the store is, when the mount has one.
    store_file: Option<PathBuf>,
    _cache: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = session.umount_and_join();
        }
        force_unmount(self.dir.path());
    }
}

impl Mounted {
    fn accounts(&self) -> PathBuf {
        self.dir.path().join("Standard Objects/Account")
    }

    /// `grep -r` over the Account folder, which reads every file.
    fn grep(&self) {
        let status = Command::new("grep")
            .args(["-rqs", "no such text 7f3c9a"])
            .arg(self.accounts())
            .status()
            .expect("grep");
        assert_eq!(
            status.code(),
            Some(1),
            "grep read the folder and found nothing"
        );
    }

    /// Forgets the bodies in memory and the kernel's cached pages of every file, so the
    /// next read of each reaches the index's miss path.
    fn forget_cached_bodies(&self) {
        self.fs.clear_body_cache();
        for file in walk_files(&self.accounts()) {
            let opened = std::fs::File::open(&file).expect("open");
            // SAFETY: an open descriptor; the advice only drops clean cached pages.
            let rc =
                unsafe { libc::posix_fadvise(opened.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
            assert_eq!(rc, 0, "fadvise {}", file.display());
        }
    }
}

fn mount_account(with_store: bool) -> Option<Mounted> {
    if !fuse_available("mount_store") {
        return None;
    }
    let ConnectedOrg {
        org,
        runtime,
        client,
        global,
    } = connect_fake_org(RECORDS);
    let identity = client
        .identity()
        .expect("the token response names org and user");
    let cache = tempfile::tempdir().unwrap();
    let store_file =
        with_store.then(|| store_path(cache.path(), &identity.org_id, &identity.user_id));
    let store = store_file
        .as_ref()
        .map(|path| Arc::new(SqliteStore::open(path).expect("store")) as Arc<dyn LocalStore>);
    let mut config = IndexConfig::new(vec![FileFormat::Json], client.instance_url());
    config.body_cache_bytes = TINY_MEMORY_CACHE;
    let folders = vec![FolderSpec {
        object: "Account".into(),
        label: "Account".into(),
        group: Group::Standard,
        key_prefix: key_prefix(&global, "Account"),
        custom: false,
    }];
    let source = Arc::new(ClientSource::new(client));
    let index = Index::with_store(source, runtime.handle().clone(), folders, config, store);
    let dir = tempfile::tempdir().unwrap();
    let fs = Arc::new(Filesystem::new(index));
    let session = spawn_mount(fs.clone(), dir.path(), &MountConfig::default()).expect("mount");
    assert!(wait_for_mount(dir.path(), Duration::from_secs(20)));
    Some(Mounted {
        session: Some(session),
        dir,
        fs,
        org,
        store_file,
        _cache: cache,
        _runtime: runtime,
    })
}

/// Calls that read records: what a body miss would spend.
fn record_reads(counts: &RequestCounts) -> u64 {
    counts.query + counts.query_more + counts.composite + counts.record
}

/// Record-reading calls of a second `grep -r` once memory and page caches are dropped.
fn second_grep_calls(m: &Mounted) -> u64 {
    m.grep();
    let before = record_reads(&m.org.stats().requests);
    m.forget_cached_bodies();
    m.grep();
    record_reads(&m.org.stats().requests) - before
}

#[test]
fn a_second_grep_with_a_tiny_memory_cache_reads_the_store_not_the_org() {
    let Some(m) = mount_account(true) else { return };
    let calls = second_grep_calls(&m);
    println!("second grep -r with the store: {calls} record-reading calls");
    assert_eq!(calls, 0, "every evicted body came from the store");
    assert!(m.fs.index().body_cache_usage().0 <= TINY_MEMORY_CACHE);
}

#[test]
fn without_a_store_the_second_grep_fetches_bodies_again() {
    // The control case: proves the second grep does reach the index's miss path.
    let Some(m) = mount_account(false) else {
        return;
    };
    let calls = second_grep_calls(&m);
    println!("second grep -r without a store: {calls} record-reading calls");
    assert!(calls > 0, "the evicted bodies were fetched again");
}

#[test]
fn the_store_file_is_private_and_holds_no_secret_or_token() {
    let Some(m) = mount_account(true) else { return };
    m.grep();
    let path = m.store_file.clone().unwrap();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    let secret = m.org.client_secret().as_bytes().to_vec();
    // Fake org tokens are `<org id, 15 characters>!<opaque>`, as Salesforce's are.
    let folder = path
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy();
    let token_prefix = format!("{}!", &folder[..15]).into_bytes();
    let mut checked = 0;
    for entry in std::fs::read_dir(path.parent().unwrap()).unwrap() {
        let file = entry.unwrap().path();
        assert_eq!(mode(&file), 0o600, "{}", file.display());
        let bytes = std::fs::read(&file).unwrap();
        checked += bytes.len();
        for needle in [&secret, &token_prefix] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == &needle[..]),
                "{} holds {:?}",
                file.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    assert!(
        checked > 10_000,
        "the store holds the bodies ({checked} bytes)"
    );
}
