//! Real FUSE mounts of the filesystem over an in-memory source, in-process: the adapter,
//! the kernel's view (sizes, offsets, errnos) and call counts, without HTTP.

mod mount_support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use sfmount::catalog::Group;
use sfmount::fs::fuse::{spawn_mount, MountConfig};
use sfmount::fs::Filesystem;
use sfmount::index::{
    FileFormat, FolderSpec, Index, IndexConfig, ListingPlan, MemorySource, Record,
};

use mount_support::*;

struct Mounted {
    dir: tempfile::TempDir,
    session: Option<fuser::BackgroundSession>,
    source: Arc<MemorySource>,
    _index: Index,
    _runtime: tokio::runtime::Runtime,
}

impl Mounted {
    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = session.umount_and_join();
        }
        force_unmount(self.dir.path());
    }
}

fn record(object: &str, prefix: &str, sequence: u64, name: &str) -> Record {
    let id = sfmount::sfid::make_id(prefix, "Hs0", sequence);
    let value = json!({
        "attributes": {"type": object},
        "Id": id,
        "Name": name,
        "Description": format!("{object} number {sequence}"),
        "CreatedDate": "2024-01-15T10:30:00.000+0000",
        "LastModifiedDate": "2024-03-01T08:00:00.000+0000",
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn mount(records: u64) -> Mounted {
    mount_with(records, |_| {})
}

fn mount_with(records: u64, tune: impl FnOnce(&mut IndexConfig)) -> Mounted {
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
    source.insert_object(
        "Account",
        plan.clone(),
        (1..=records)
            .map(|i| record("Account", "001", i, &format!("Company {i}")))
            .collect(),
    );
    source.insert_object(
        "Invoice__c",
        plan,
        vec![record("Invoice__c", "a01", 1, "INV-1")],
    );
    let folders = vec![
        FolderSpec {
            object: "Account".into(),
            label: "Account".into(),
            group: Group::Standard,
            key_prefix: Some("001".into()),
            custom: false,
        },
        FolderSpec {
            object: "Invoice__c".into(),
            label: "Invoice".into(),
            group: Group::Custom,
            key_prefix: Some("a01".into()),
            custom: true,
        },
    ];
    let mut config = IndexConfig::new(
        vec![FileFormat::Json],
        "https://example.my.salesforce.com".into(),
    );
    tune(&mut config);
    let index = Index::new(source.clone(), runtime.handle().clone(), folders, config);
    let dir = tempfile::tempdir().expect("tempdir");
    let session = spawn_mount(
        Arc::new(Filesystem::new(index.clone())),
        dir.path(),
        &MountConfig::default(),
    )
    .expect("mount");
    let mounted = Mounted {
        dir,
        session: Some(session),
        source,
        _index: index,
        _runtime: runtime,
    };
    assert!(wait_for_mount(mounted.path(), Duration::from_secs(10)));
    mounted
}

#[test]
fn the_tree_sizes_and_contents_through_the_kernel() {
    if !fuse_available("the_tree_sizes_and_contents_through_the_kernel") {
        return;
    }
    let test_started = std::time::SystemTime::now();
    let m = mount(300);
    let root = m.path();
    assert_eq!(
        names(root),
        [
            ".sfmount-changes.jsonl",
            ".sfmount-status.json",
            "Custom Objects",
            "Standard Objects"
        ]
    );
    assert_eq!(names(&root.join("Standard Objects")), ["Account"]);
    assert_eq!(names(&root.join("Custom Objects")), ["Invoice__c"]);
    let account = root.join("Standard Objects/Account");
    // .sobject.json before the listing: small, and its cached size goes stale once the
    // folder is listed; reading it afterwards must still give the whole, valid file.
    let status_path = account.join(".sobject.json");
    let early_size = std::fs::metadata(&status_path).unwrap().len();
    let files = names(&account);
    let status: Value = serde_json::from_slice(&std::fs::read(&status_path).unwrap()).unwrap();
    assert_eq!(status["state"], "listed");
    assert!(std::fs::read(&status_path).unwrap().len() as u64 > early_size);
    assert_eq!(files.len(), 301, ".sobject.json and 300 records");
    assert_eq!(m.source.calls().listings, 1);

    for name in &files {
        let path = account.join(name);
        let size = std::fs::metadata(&path).unwrap().len();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            size,
            bytes.len() as u64,
            "{name}: stat size equals bytes read"
        );
        let parsed: Value = serde_json::from_slice(&bytes).expect("valid JSON");
        if name != ".sobject.json" {
            assert!(name.contains(parsed["Id"].as_str().unwrap()));
        }
    }
    let metadata = std::fs::metadata(account.join(&files[1])).unwrap();
    let expected = sfmount::index::parse_salesforce_datetime("2024-03-01T08:00:00.000+0000");
    assert_eq!(
        Some(metadata.modified().unwrap()),
        expected,
        "mtime is LastModifiedDate"
    );
    // ctime is when the mount saw the content: at the listing, which ran during this test.
    let seen = std::time::UNIX_EPOCH
        + Duration::new(metadata.ctime() as u64, metadata.ctime_nsec() as u32);
    assert!(
        seen >= test_started && seen <= std::time::SystemTime::now(),
        "ctime is when the mount read the record, not CreatedDate"
    );

    // A second `ls -l` and stats make no call.
    let calls = m.source.calls();
    for name in names(&account) {
        std::fs::metadata(account.join(name)).unwrap();
    }
    assert_eq!(
        m.source.calls(),
        calls,
        "zero calls after the first listing"
    );
}

#[test]
fn sixteen_concurrent_readers_see_exact_contents() {
    if !fuse_available("sixteen_concurrent_readers_see_exact_contents") {
        return;
    }
    let m = mount(200);
    let account = m.path().join("Standard Objects/Account");
    let files: Vec<_> = names(&account)
        .into_iter()
        .map(|n| account.join(n))
        .collect();
    let expected: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    std::thread::scope(|scope| {
        for reader in 0..16 {
            let files = &files;
            let expected = &expected;
            scope.spawn(move || {
                for round in 0..3 {
                    for (i, path) in files.iter().enumerate().skip((reader + round) % 7) {
                        let bytes = std::fs::read(path).unwrap();
                        assert_eq!(&bytes, &expected[i]);
                    }
                }
            });
        }
    });
}

#[test]
fn every_mutation_fails_with_erofs() {
    if !fuse_available("every_mutation_fails_with_erofs") {
        return;
    }
    let m = mount(3);
    let account = m.path().join("Standard Objects/Account");
    let existing = account.join(&names(&account)[1]);
    let calls = m.source.calls();
    assert_every_mutation_fails_with_erofs(&account, &existing);
    assert_eq!(m.source.calls(), calls, "no mutation reached the source");
    assert_eq!(
        errno_of(std::fs::metadata(
            account.join("missing [001000000000000AAA].json")
        )),
        Some(libc::ENOENT)
    );
}

#[test]
fn a_stuck_org_gives_eio_at_the_deadline_and_the_mount_stays_usable() {
    if !fuse_available("a_stuck_org_gives_eio_at_the_deadline") {
        return;
    }
    let m = mount_with(5, |config| {
        config.operation_deadline = Duration::from_millis(500);
    });
    m.source.set_latency(Duration::from_secs(60));
    let account = m.path().join("Standard Objects/Account");
    let started = std::time::Instant::now();
    assert_eq!(errno_of(std::fs::read_dir(&account)), Some(libc::EIO));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Other folders and the root still answer while that listing is stuck.
    assert_eq!(
        names(m.path()),
        [
            ".sfmount-changes.jsonl",
            ".sfmount-status.json",
            "Custom Objects",
            "Standard Objects"
        ]
    );
    let status = std::fs::read(account.join(".sobject.json")).unwrap();
    let status: Value = serde_json::from_slice(&status).unwrap();
    assert_eq!(status["state"], "loading");
}

#[test]
fn statfs_answers_through_the_kernel() {
    if !fuse_available("statfs_answers_through_the_kernel") {
        return;
    }
    let m = mount(50);
    let statvfs = |path: &Path| -> libc::statvfs {
        use std::os::unix::ffi::OsStrExt;
        let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        let mut stats = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
        // SAFETY: a valid NUL-terminated path and a buffer of the right type to fill.
        let rc = unsafe { libc::statvfs(c_path.as_ptr(), stats.as_mut_ptr()) };
        assert_eq!(rc, 0, "statvfs: {}", std::io::Error::last_os_error());
        // SAFETY: statvfs returned 0, so it filled the buffer.
        unsafe { stats.assume_init() }
    };
    let before = statvfs(m.path());
    assert_eq!(before.f_namemax, 255);
    assert_ne!(before.f_flag & libc::ST_RDONLY, 0, "mounted read-only");
    assert_eq!(m.source.calls().listings, 0, "statfs lists nothing");
    let account = m.path().join("Standard Objects/Account");
    assert_eq!(names(&account).len(), 51);
    let after = statvfs(m.path());
    assert_eq!(after.f_files, before.f_files + 50, "listed records count");
    assert!(after.f_blocks > before.f_blocks);
}

#[test]
fn a_hundred_thousand_records_list_exactly_once_through_the_kernel() {
    if !fuse_available("a_hundred_thousand_records_list_exactly_once_through_the_kernel") {
        return;
    }
    let m = mount(100_000);
    let account = m.path().join("Standard Objects/Account");
    // The kernel reads the folder in many readdir calls of a few KiB each.
    let names: Vec<String> = std::fs::read_dir(&account)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names.len(), 100_001, "100,000 records and .sobject.json");
    let unique: std::collections::HashSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "no entry twice");
    assert_eq!(m.source.calls().listings, 1);
    // A second listing (ls -l style, with attributes) makes no call.
    let again = std::fs::read_dir(&account)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().metadata().unwrap().len() > 0)
        .count();
    assert_eq!(again, 100_001);
    assert_eq!(m.source.calls().listings, 1);
}
