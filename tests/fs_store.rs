//! The filesystem logic with a local store on disk, over an in-memory source that counts
//! calls: a body evicted from memory is read from the store, never from the org, and a
//! stored body of another version (or a failing store) falls back to the org.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Value};
use sfmount::catalog::Group;
use sfmount::fs::{DirEntry, Filesystem, ROOT_INO};
use sfmount::index::store::{
    store_path, FolderHeader, FolderInfo, JournalEntry, LocalStore, SqliteStore, StoreBatch,
    StoreError, StoredBody, StoredFolder,
};
use sfmount::index::{
    FileFormat, FolderSpec, Index, IndexConfig, ListingPlan, MemorySource, Record,
};

/// Far below one record's body (~400 bytes) times the folder: nearly every read misses.
const TINY_BODY_CACHE: usize = 2_000;
const RECORDS: u64 = 300;

fn account(sequence: u64, description: &str) -> Record {
    let id = sfmount::sfid::make_id("001", "Hs0", sequence);
    let value = json!({
        "attributes": {"type": "Account"},
        "Id": id,
        "Name": format!("Company {sequence}"),
        "Description": description,
        "CreatedDate": "2024-01-15T10:30:00.000+0000",
        "LastModifiedDate": "2024-03-01T08:00:00.000+0000",
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal"),
    }
}

struct Fixture {
    fs: Filesystem,
    source: Arc<MemorySource>,
    _runtime: tokio::runtime::Runtime,
    _cache: tempfile::TempDir,
}

impl Fixture {
    fn index(&self) -> &Index {
        self.fs.index()
    }

    /// Every record file of the Account folder (listing it on first use).
    fn account_files(&self) -> Vec<DirEntry> {
        let standard = self.fs.lookup(ROOT_INO, OsStr::new("Standard Objects"));
        let folder = self
            .fs
            .lookup(standard.expect("group").ino, OsStr::new("Account"))
            .expect("Account folder")
            .ino;
        let fh = self.fs.opendir(folder).expect("opendir");
        let mut entries = Vec::new();
        self.fs
            .readdir(fh, 0, |entry| {
                entries.push(entry);
                false
            })
            .expect("readdir");
        self.fs.releasedir(fh);
        entries.retain(|e| e.name.ends_with(".json") && !e.name.starts_with('.'));
        entries
    }

    fn read_all(&self, ino: u64) -> Vec<u8> {
        let fh = self.fs.open(ino, false).expect("open").fh;
        let bytes = self
            .fs
            .read(fh, 0, 1 << 20)
            .expect("read")
            .as_slice()
            .to_vec();
        self.fs.release(fh);
        bytes
    }
}

fn fixture(store: impl FnOnce(PathBuf) -> Option<Arc<dyn LocalStore>>) -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let source = Arc::new(MemorySource::new());
    let plan = ListingPlan {
        fields: vec!["Id".into(), "Name".into(), "Description".into()],
        name_field: Some("Name".into()),
        subqueries: Vec::new(),
    };
    let records = (1..=RECORDS)
        .map(|i| account(i, &format!("Account number {i}")))
        .collect();
    source.insert_object("Account", plan, records);
    let mut config = IndexConfig::new(
        vec![FileFormat::Json],
        "https://example.my.salesforce.com".into(),
    );
    config.body_cache_bytes = TINY_BODY_CACHE;
    let folders = vec![FolderSpec {
        object: "Account".into(),
        label: "Account".into(),
        group: Group::Standard,
        key_prefix: Some("001".into()),
        custom: false,
    }];
    let cache = tempfile::tempdir().expect("tempdir");
    let store = store(store_path(cache.path(), "00Dorg", "005user"));
    let index = Index::with_store(
        source.clone(),
        runtime.handle().clone(),
        folders,
        config,
        store,
    );
    Fixture {
        fs: Filesystem::new(index),
        source,
        _runtime: runtime,
        _cache: cache,
    }
}

fn sqlite(path: PathBuf) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(&path).expect("store"))
}

/// A fixture with a SQLite store, and that store for the test to look into.
fn fixture_with_sqlite() -> (Fixture, Arc<SqliteStore>) {
    let mut kept = None;
    let f = fixture(|path| {
        let store = sqlite(path);
        kept = Some(store.clone());
        Some(store)
    });
    (f, kept.expect("the fixture opened the store"))
}

#[test]
fn with_a_tiny_memory_cache_every_read_after_the_listing_is_served_from_the_store() {
    let f = fixture(|path| Some(sqlite(path)));
    let files = f.account_files();
    assert_eq!(files.len() as u64, RECORDS);
    let listed = f.source.calls();
    for round in 0..2 {
        for file in &files {
            let body = f.read_all(file.ino);
            assert_eq!(body.len() as u64, file.attr.size, "round {round}");
        }
    }
    assert!(f.index().body_cache_usage().0 <= TINY_BODY_CACHE);
    let after = f.source.calls();
    assert_eq!(after.fetches_by_id, 0, "no body was fetched again");
    assert_eq!(after.listings, listed.listings);
    assert_eq!(after.plans, listed.plans);
}

#[test]
fn without_a_store_the_same_reads_go_to_the_org() {
    let f = fixture(|_| None);
    let files = f.account_files();
    for file in &files {
        f.read_all(file.ino);
    }
    assert!(
        f.source.calls().fetches_by_id > 0,
        "the control case misses"
    );
}

#[test]
fn a_stored_body_of_another_version_is_refetched_not_served() {
    let (f, store) = fixture_with_sqlite();
    let files = f.account_files();
    let target = &files[7];
    let id = sfmount::sfid::make_id("001", "Hs0", 8);
    // As if a change had been applied in memory but its store write had failed.
    let stale = StoreBatch {
        put: vec![StoredBody {
            id: Arc::from(id.as_str()),
            format: FileFormat::Json,
            body: Arc::from(&b"{\"stale\": true}"[..]),
        }],
        ..StoreBatch::default()
    };
    store.apply("Account", &stale).unwrap();
    f.fs.clear_body_cache();
    let body = f.read_all(target.ino);
    assert_eq!(body.len() as u64, target.attr.size);
    assert!(String::from_utf8_lossy(&body).contains(&id));
    assert_eq!(f.source.calls().fetches_by_id, 1, "one refetch");
    // The refetch wrote the right version back.
    let stored = store
        .get("Account", &id, FileFormat::Json)
        .unwrap()
        .unwrap();
    assert_eq!(stored, body);
}

#[test]
fn changes_and_deletions_reach_the_store() {
    let (f, store) = fixture_with_sqlite();
    let files = f.account_files();
    let changed = account(1, "a much longer description than the one before it");
    let gone = sfmount::sfid::make_id("001", "Hs0", 2);
    let summary = f
        .index()
        .apply_changes(0, vec![changed], std::slice::from_ref(&gone))
        .unwrap();
    assert_eq!((summary.updated, summary.removed), (1, 1));
    f.fs.clear_body_cache();
    // The changed record is a new version: its name leads to a new inode.
    let attr =
        f.fs.lookup(
            Filesystem::folder_ino(0),
            std::ffi::OsStr::new(&files[0].name),
        )
        .unwrap();
    assert_ne!(attr.ino, files[0].ino);
    let body = f.read_all(attr.ino);
    assert_eq!(body.len() as u64, attr.size);
    assert!(String::from_utf8_lossy(&body).contains("much longer"));
    assert_eq!(f.source.calls().fetches_by_id, 0, "served from the store");
    let stats = f.index().body_stats();
    assert!(stats.store_hits >= 1 && stats.fetched == 0, "{stats:?}");
    assert_eq!(store.get("Account", &gone, FileFormat::Json).unwrap(), None);
}

/// A store whose every operation fails, as a full or vanished disk would.
struct BrokenStore;

fn broken() -> StoreError {
    StoreError::Folder {
        path: PathBuf::from("/nowhere"),
        source: std::io::Error::other("disk gone"),
    }
}

impl LocalStore for BrokenStore {
    fn apply(&self, _: &str, _: &StoreBatch) -> Result<Vec<u64>, StoreError> {
        Err(broken())
    }
    fn get(&self, _: &str, _: &str, _: FileFormat) -> Result<Option<Vec<u8>>, StoreError> {
        Err(broken())
    }
    fn begin_listing(&self, _: &str, _: &FolderHeader) -> Result<(), StoreError> {
        Err(broken())
    }
    fn load_folder(&self, _: &str) -> Result<Option<StoredFolder>, StoreError> {
        Err(broken())
    }
    fn journal_tail(&self, _: usize) -> Result<Vec<JournalEntry>, StoreError> {
        Err(broken())
    }
    fn info(&self) -> Result<Vec<FolderInfo>, StoreError> {
        Err(broken())
    }
    fn clear(&self) -> Result<(), StoreError> {
        Err(broken())
    }
}

#[test]
fn a_failing_store_never_fails_a_read() {
    let f = fixture(|_| Some(Arc::new(BrokenStore)));
    let files = f.account_files();
    for file in &files {
        assert_eq!(f.read_all(file.ino).len() as u64, file.attr.size);
    }
    assert!(f.source.calls().fetches_by_id > 0, "misses went to the org");
}
