//! Real mounts over an in-memory source, for what the kernel's caches do with changing
//! files: an open file is one version (fstat and bytes agree, whole), a change shows as the
//! name leading to a new inode, slow listings hold no FUSE thread, and what tools ask of a
//! read-only mount (mmap, ioctl, xattrs) is answered quietly.

mod mount_support;

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sfmount::catalog::Group;
use sfmount::fs::fuse::{spawn_mount, MountConfig};
use sfmount::fs::invalidate::start_invalidator;
use sfmount::fs::requests::Op;
use sfmount::fs::Filesystem;
use sfmount::index::refresh::ChangeListener;
use sfmount::index::{
    FileFormat, FolderSpec, Index, IndexConfig, ListingPlan, MemorySource, Record,
};

use mount_support::*;

struct Mounted {
    dir: tempfile::TempDir,
    session: Option<fuser::BackgroundSession>,
    source: Arc<MemorySource>,
    index: Index,
    fs: Arc<Filesystem>,
    listener: ChangeListener,
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

    /// Applies changed records to Account as a refresh tick would, and tells the kernel.
    fn change(&self, records: Vec<Record>) {
        let summary = self.index.apply_changes(0, records, &[]).unwrap();
        (self.listener)(0, &summary);
    }
}

fn account(sequence: u64, name: &str, description: &str) -> Record {
    let value = json!({
        "attributes": {"type": "Account"},
        "Id": sfmount::sfid::make_id("001", "Hs0", sequence),
        "Name": name,
        "Description": description,
        "CreatedDate": "2024-01-15T10:30:00.000+0000",
        "LastModifiedDate": "2024-03-01T08:00:00.000+0000",
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn mount(records: u64, operation_deadline: Duration) -> Mounted {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let source = Arc::new(MemorySource::new());
    let plan = ListingPlan {
        fields: vec!["Id".into(), "Name".into(), "Description".into()],
        name_field: Some("Name".into()),
        subqueries: Vec::new(),
    };
    let accounts = (1..=records)
        .map(|i| account(i, &format!("Company {i}"), "first"))
        .collect();
    source.insert_object("Account", plan.clone(), accounts);
    let invoice = account(1, "INV-1", "an invoice");
    source.insert_object("Invoice__c", plan, vec![invoice]);
    let folder = |object: &str, group| FolderSpec {
        object: object.into(),
        label: object.into(),
        group,
        key_prefix: None,
        custom: group == Group::Custom,
    };
    let folders = vec![
        folder("Account", Group::Standard),
        folder("Invoice__c", Group::Custom),
    ];
    let mut config = IndexConfig::new(vec![FileFormat::Json], "https://x.example".into());
    config.operation_deadline = operation_deadline;
    let index = Index::new(source.clone(), runtime.handle().clone(), folders, config);
    let dir = tempfile::tempdir().unwrap();
    let fs = Arc::new(Filesystem::new(index.clone()));
    let session = spawn_mount(fs.clone(), dir.path(), &MountConfig::default()).expect("mount");
    let listener = start_invalidator(session.notifier(), fs.clone()).unwrap();
    let mounted = Mounted {
        dir,
        session: Some(session),
        source,
        index,
        fs,
        listener,
        _runtime: runtime,
    };
    assert!(wait_for_mount(mounted.dir.path(), Duration::from_secs(10)));
    mounted
}

/// Polls `done` every 20 ms; fails after `timeout` (a bound for a notice to arrive on a
/// loaded machine, not a speed figure).
fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < timeout,
            "{what}: not within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn file_of(folder: &Path, sequence: u64) -> PathBuf {
    let id = sfmount::sfid::make_id("001", "Hs0", sequence);
    let name = names(folder)
        .into_iter()
        .find(|name| name.contains(&id))
        .expect("the record's file");
    folder.join(name)
}

#[test]
fn an_open_file_keeps_its_version_whole_after_a_shorter_one_is_stat_ed() {
    if !fuse_available("an_open_file_keeps_its_version_whole") {
        return;
    }
    let m = mount(3, Duration::from_secs(30));
    let path = file_of(&m.accounts(), 2);
    let long = "a long description ".repeat(40);
    m.change(vec![account(2, "Company 2", &long)]);
    wait_until("the long version", Duration::from_secs(10), || {
        std::fs::read(&path).is_ok_and(|b| String::from_utf8_lossy(&b).contains(&long))
    });
    let mut held = std::fs::File::open(&path).unwrap();
    let held_size = held.metadata().unwrap().len();
    let old_ino = held.metadata().unwrap().ino();

    // The record becomes much shorter; `stat` of the path sees the new, shorter version.
    m.change(vec![account(2, "Company 2", "short")]);
    wait_until("stat shows the new size", Duration::from_secs(10), || {
        std::fs::metadata(&path).is_ok_and(|meta| meta.len() < held_size)
    });
    let new_meta = std::fs::metadata(&path).unwrap();
    assert_ne!(new_meta.ino(), old_ino, "a new version is a new inode");

    // The open file is still the long version: fstat and the bytes agree, and it is whole.
    assert_eq!(held.metadata().unwrap().len(), held_size);
    let mut bytes = Vec::new();
    held.read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes.len() as u64, held_size);
    let value: Value = serde_json::from_slice(&bytes).expect("whole JSON");
    assert_eq!(value["Description"], long.as_str());

    // A new open reads the new version, whose size stat shows.
    let fresh = std::fs::read(&path).unwrap();
    assert_eq!(fresh.len() as u64, new_meta.len());
    let value: Value = serde_json::from_slice(&fresh).unwrap();
    assert_eq!(value["Description"], "short");
}

#[test]
fn a_change_of_the_same_size_is_read_anew_despite_cached_pages() {
    if !fuse_available("a_change_of_the_same_size_is_read_anew") {
        return;
    }
    let m = mount(3, Duration::from_secs(30));
    let path = file_of(&m.accounts(), 1);
    let old = std::fs::read(&path).unwrap();
    std::fs::read(&path).unwrap(); // the pages are in the kernel's cache now
                                   // Same length as before ("first"): only the version says the bytes differ.
    m.change(vec![account(1, "Company 1", "FIRST")]);
    wait_until("the new bytes", Duration::from_secs(10), || {
        std::fs::read(&path).is_ok_and(|b| b != old)
    });
    let new = std::fs::read(&path).unwrap();
    assert_eq!(new.len(), old.len());
    assert!(String::from_utf8_lossy(&new).contains("FIRST"));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), new.len() as u64);
}

#[test]
fn a_missing_name_is_cached_until_it_appears() {
    if !fuse_available("a_missing_name_is_cached_until_it_appears") {
        return;
    }
    let m = mount(3, Duration::from_secs(30));
    let id = sfmount::sfid::make_id("001", "Hs0", 9);
    let path = m.accounts().join(format!("Company 9 [{id}].json"));
    assert!(!path.exists());
    let lookups = m.fs.requests().get(Op::Lookup);
    assert!(!path.exists());
    assert!(!path.exists());
    assert_eq!(
        m.fs.requests().get(Op::Lookup),
        lookups,
        "the kernel remembers"
    );
    m.change(vec![account(9, "Company 9", "new")]);
    wait_until("the new name", Duration::from_secs(10), || path.exists());
    let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(value["Description"], "new");
}

#[test]
fn status_files_are_fresh_on_every_open() {
    if !fuse_available("status_files_are_fresh_on_every_open") {
        return;
    }
    let m = mount(3, Duration::from_secs(30));
    names(&m.accounts());
    let sobject = m.accounts().join(".sobject.json");
    let count = |path: &Path| -> u64 {
        let value: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        value["recordCount"].as_u64().unwrap()
    };
    assert_eq!(count(&sobject), 3);
    m.change(vec![account(7, "Company 7", "new")]);
    // No notice is sent for it: the name is looked up on every open.
    assert_eq!(count(&sobject), 4);
    let file = std::fs::File::open(&sobject).unwrap();
    let size = file.metadata().unwrap().len();
    let bytes = std::fs::read(&sobject).unwrap();
    assert_eq!(size, bytes.len() as u64, "fstat and bytes agree");
}

#[test]
fn warm_reads_cost_no_read_request_and_mmap_shared_works() {
    if !fuse_available("warm_reads_cost_no_read_request") {
        return;
    }
    let m = mount(20, Duration::from_secs(30));
    let files: Vec<PathBuf> = walk_files(&m.accounts())
        .into_iter()
        .filter(|p| !p.ends_with(".sobject.json"))
        .collect();
    let first: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let counts = m.fs.requests();
    let (reads, lookups, getattrs) = (
        counts.get(Op::Read),
        counts.get(Op::Lookup),
        counts.get(Op::Getattr),
    );
    let again: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert_eq!(again, first);
    assert_eq!(counts.get(Op::Read), reads, "pages kept across opens");
    assert_eq!(counts.get(Op::Lookup), lookups, "names trusted");
    assert_eq!(counts.get(Op::Getattr), getattrs, "attributes trusted");

    // mmap(MAP_SHARED, PROT_READ) of a record file maps its bytes.
    let file = std::fs::File::open(&files[0]).unwrap();
    let len = first[0].len();
    // SAFETY: a fresh read-only shared mapping of an open file, unmapped below.
    let mapped = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    assert_ne!(
        mapped,
        libc::MAP_FAILED,
        "{}",
        std::io::Error::last_os_error()
    );
    // SAFETY: the mapping is `len` readable bytes until munmap.
    let mapped_bytes = unsafe { std::slice::from_raw_parts(mapped as *const u8, len) }.to_vec();
    // SAFETY: unmapping the mapping made above.
    unsafe { libc::munmap(mapped, len) };
    assert_eq!(mapped_bytes, first[0]);
}

#[test]
fn ioctl_and_xattrs_answer_what_tools_expect() {
    if !fuse_available("ioctl_and_xattrs_answer_what_tools_expect") {
        return;
    }
    let m = mount(3, Duration::from_secs(30));
    let path = file_of(&m.accounts(), 1);
    let file = std::fs::File::open(&path).unwrap();
    // SAFETY: isatty on an open descriptor; Python's open() does the same (TCGETS).
    assert_eq!(unsafe { libc::isatty(file.as_raw_fd()) }, 0);
    assert_eq!(
        std::io::Error::last_os_error().raw_os_error(),
        Some(libc::ENOTTY)
    );
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let attr = c"user.origin";
    let mut buffer = [0u8; 64];
    for _ in 0..3 {
        // SAFETY: valid C strings and a buffer of the length given.
        let rc = unsafe {
            libc::getxattr(
                c_path.as_ptr(),
                attr.as_ptr(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
            )
        };
        assert_eq!(rc, -1);
        let errno = std::io::Error::last_os_error().raw_os_error();
        assert!(
            matches!(errno, Some(libc::ENOTSUP) | Some(libc::ENODATA)),
            "{errno:?}"
        );
        // SAFETY: as above.
        let rc =
            unsafe { libc::listxattr(c_path.as_ptr(), buffer.as_mut_ptr().cast(), buffer.len()) };
        assert!(rc <= 0);
    }
    // The kernel stops asking after the first "not implemented".
    assert!(m.fs.requests().get(Op::Getxattr) <= 1);
    assert!(m.fs.requests().get(Op::Ioctl) >= 1);
}

#[test]
fn slow_first_listings_hold_no_fuse_thread() {
    if !fuse_available("slow_first_listings_hold_no_fuse_thread") {
        return;
    }
    // The stuck listings end at this deadline, with EIO.
    let m = mount(5, Duration::from_secs(15));
    let invoices = m.dir.path().join("Custom Objects/Invoice__c");
    let invoice = walk_files(&invoices)
        .into_iter()
        .find(|p| !p.ends_with(".sobject.json"))
        .unwrap();
    let before = std::fs::read(&invoice).unwrap();
    m.source.set_latency(Duration::from_secs(120));
    let waiting = 3 * MountConfig::default().threads;
    let accounts = m.accounts();
    let stuck: Vec<_> = (0..waiting)
        .map(|_| {
            let accounts = accounts.clone();
            std::thread::spawn(move || errno_of(std::fs::read_dir(accounts)))
        })
        .collect();
    wait_until("every listing is waiting", Duration::from_secs(30), || {
        offloaded(&m.fs) >= waiting as u64
    });
    // With every listing waiting, the mount answers everything it has at hand.
    assert!(std::fs::metadata(m.dir.path()).unwrap().is_dir());
    assert_eq!(names(&invoices).len(), 2);
    assert_eq!(std::fs::read(&invoice).unwrap(), before);
    assert!(
        stuck.iter().all(|t| !t.is_finished()),
        "answered while the listings still waited"
    );
    for thread in stuck {
        assert_eq!(thread.join().unwrap(), Some(libc::EIO));
    }
}

fn offloaded(fs: &Filesystem) -> u64 {
    let document: Value = serde_json::from_slice(&fs.requests().to_json(0, 0)).unwrap();
    document["offloaded"].as_u64().unwrap()
}

/// How long the churn test runs: 20 s by default, `SFMOUNT_CHURN_SECS` for the full minute.
fn churn_duration() -> Duration {
    let secs = std::env::var("SFMOUNT_CHURN_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    Duration::from_secs(secs)
}

#[test]
fn sixteen_readers_under_churn_see_fstat_and_bytes_agree() {
    if !fuse_available("sixteen_readers_under_churn") {
        return;
    }
    let m = Arc::new(mount(30, Duration::from_secs(30)));
    let stop = Arc::new(AtomicBool::new(false));
    let disagreements = Arc::new(AtomicU64::new(0));
    let reads = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..16)
        .map(|_| {
            let (folder, stop) = (m.accounts(), stop.clone());
            let (disagreements, reads) = (disagreements.clone(), reads.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    for name in names(&folder) {
                        let mut file = match std::fs::File::open(folder.join(&name)) {
                            Ok(file) => file,
                            // Renamed away since the listing.
                            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
                            Err(e) => {
                                disagreements.fetch_add(1, Ordering::Relaxed);
                                eprintln!("{name}: open failed: {e}");
                                continue;
                            }
                        };
                        let size = file.metadata().unwrap().len();
                        let mut bytes = Vec::new();
                        file.read_to_end(&mut bytes).unwrap();
                        let whole = serde_json::from_slice::<Value>(&bytes).is_ok();
                        if bytes.len() as u64 != size || !whole {
                            disagreements.fetch_add(1, Ordering::Relaxed);
                            eprintln!("{name}: fstat {size}, read {}", bytes.len());
                        }
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    let mut change = 0u64;
    while started.elapsed() < churn_duration() {
        change += 1;
        let sequence = 1 + change % 30;
        // A fifth of the changes rename the record; the others change its length.
        let name = match change % 5 {
            0 => format!("Renamed {change}"),
            _ => format!("Company {sequence}"),
        };
        let description = "x".repeat((change as usize * 37) % 900);
        m.change(vec![account(sequence, &name, &description)]);
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().unwrap();
    }
    let reads = reads.load(Ordering::Relaxed);
    println!("{reads} reads by 16 readers across {change} changes");
    assert!(reads > 1000, "{reads}");
    assert_eq!(disagreements.load(Ordering::Relaxed), 0);
}

#[test]
fn with_no_open_a_file_opened_before_a_change_reads_its_old_version_whole() {
    if !fuse_available("with_no_open_a_file_opened_before_a_change") {
        return;
    }
    let m = mount(3, Duration::from_secs(30));
    let path = file_of(&m.accounts(), 3);
    let long = "an old and rather long description ".repeat(30);
    m.change(vec![account(3, "Company 3", &long)]);
    wait_until("the long version", Duration::from_secs(10), || {
        std::fs::read(&path).is_ok_and(|b| String::from_utf8_lossy(&b).contains(&long))
    });
    let counts = m.fs.requests();
    let opens = counts.get(Op::Open);
    let mut held = std::fs::File::open(&path).unwrap();
    if counts.get(Op::Open) > opens {
        // Files opened before sent their opens; with no-open the kernel sends no more.
        eprintln!("skipped: this kernel has no no-open support");
        return;
    }
    let held_size = held.metadata().unwrap().len();

    m.change(vec![account(3, "Company 3", "new")]);
    wait_until(
        "the name leads to the new version",
        Duration::from_secs(10),
        || std::fs::metadata(&path).is_ok_and(|meta| meta.len() != held_size),
    );
    // Drop the kernel's pages of the held file: its bytes must come from the mount, by
    // inode, with no handle to have kept them.
    // SAFETY: an open descriptor; the advice only drops clean cached pages.
    let rc = unsafe { libc::posix_fadvise(held.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    assert_eq!(rc, 0);
    let reads = counts.get(Op::Read);
    let mut bytes = Vec::new();
    held.read_to_end(&mut bytes).unwrap();
    assert!(
        counts.get(Op::Read) > reads,
        "read from the mount, not from pages"
    );
    assert_eq!(bytes.len() as u64, held_size);
    assert_eq!(held.metadata().unwrap().len(), held_size, "fstat agrees");
    let value: Value = serde_json::from_slice(&bytes).expect("whole JSON");
    assert_eq!(value["Description"], long.as_str());

    // A new open reads the new version.
    let fresh = std::fs::read(&path).unwrap();
    assert_eq!(fresh.len() as u64, std::fs::metadata(&path).unwrap().len());
    let value: Value = serde_json::from_slice(&fresh).unwrap();
    assert_eq!(value["Description"], "new");
    // And no open, release or flush reached the mount for any of it.
    assert_eq!(counts.get(Op::Open), opens);
    assert_eq!(counts.get(Op::Release), 0);
    assert!(counts.get(Op::Flush) <= 1);
}
