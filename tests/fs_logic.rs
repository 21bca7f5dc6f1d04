//! The filesystem logic without FUSE, over an in-memory source that counts calls.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sfmount::catalog::Group;
use sfmount::fs::errno::errno;
use sfmount::fs::{DirEntry, Filesystem, FsError, NodeKind, ROOT_INO, SOBJECT_JSON};
use sfmount::index::{
    FileFormat, FolderSpec, Index, IndexConfig, ListingPlan, MemorySource, Record, SourceError,
};

fn account(sequence: u64, name: &str) -> Record {
    let id = sfmount::sfid::make_id("001", "Hs0", sequence);
    let value = json!({
        "attributes": {"type": "Account", "url": format!("/services/data/v62.0/sobjects/Account/{id}")},
        "Id": id,
        "Name": name,
        "Description": format!("Account number {sequence}"),
        "CreatedDate": "2024-01-15T10:30:00.000+0000",
        "LastModifiedDate": format!("2024-03-{:02}T08:00:00.000+0000", 1 + sequence % 28),
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal"),
    }
}

fn plan() -> ListingPlan {
    ListingPlan {
        fields: vec![
            "Id".into(),
            "Name".into(),
            "Description".into(),
            "CreatedDate".into(),
            "LastModifiedDate".into(),
        ],
        name_field: Some("Name".into()),
        subqueries: Vec::new(),
    }
}

fn folder(object: &str, group: &str) -> FolderSpec {
    FolderSpec {
        object: object.into(),
        label: object.into(),
        group: Group::from_folder_name(group).expect("a group folder name"),
        key_prefix: Some("001".into()),
        custom: object.ends_with("__c"),
    }
}

struct Fixture {
    fs: Filesystem,
    source: Arc<MemorySource>,
    // Keeps the runtime alive for the index's background work.
    _runtime: tokio::runtime::Runtime,
}

fn fixture(
    source: MemorySource,
    formats: Vec<FileFormat>,
    tune: impl FnOnce(&mut IndexConfig),
) -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let source = Arc::new(source);
    let mut config = IndexConfig::new(formats, "https://example.my.salesforce.com".into());
    tune(&mut config);
    let index = Index::new(
        source.clone(),
        runtime.handle().clone(),
        vec![
            folder("Account", "Standard Objects"),
            folder("Contact", "Standard Objects"),
            folder("Invoice__c", "Custom Objects"),
        ],
        config,
    );
    Fixture {
        fs: Filesystem::new(index),
        source,
        _runtime: runtime,
    }
}

fn accounts(count: u64) -> MemorySource {
    let source = MemorySource::new();
    source.insert_object(
        "Account",
        plan(),
        (1..=count)
            .map(|i| account(i, &format!("Company {i}")))
            .collect(),
    );
    source.insert_object("Contact", plan(), Vec::new());
    source.insert_object("Invoice__c", plan(), Vec::new());
    source
}

/// Every entry of a directory, read `batch` entries per readdir call, as the kernel does.
fn list_all(fs: &Filesystem, ino: u64, batch: usize) -> Vec<DirEntry> {
    let fh = fs.opendir(ino).expect("opendir");
    let mut entries = Vec::new();
    let mut offset = 0;
    loop {
        let mut taken = Vec::new();
        fs.readdir(fh, offset, |entry| {
            taken.push(entry);
            taken.len() >= batch
        })
        .expect("readdir");
        // The entry that made the buffer full counts as added (fuser's `add` semantics).
        let Some(last) = taken.last() else { break };
        offset = last.next_offset;
        entries.extend(taken);
    }
    fs.releasedir(fh);
    entries
}

fn lookup_path(fs: &Filesystem, path: &[&str]) -> Result<u64, FsError> {
    let mut ino = ROOT_INO;
    for part in path {
        ino = fs.lookup(ino, OsStr::new(part))?.ino;
    }
    Ok(ino)
}

fn read_all(fs: &Filesystem, ino: u64) -> Vec<u8> {
    let fh = fs.open(ino, false).expect("open").fh;
    let mut bytes = Vec::new();
    loop {
        let chunk = fs.read(fh, bytes.len() as u64, 4096).expect("read");
        if chunk.as_slice().is_empty() {
            break;
        }
        bytes.extend_from_slice(chunk.as_slice());
    }
    fs.release(fh);
    bytes
}

#[test]
fn group_and_object_folders_exist_without_listing_records() {
    let f = fixture(accounts(10), vec![FileFormat::Json], |_| {});
    let root: Vec<String> = list_all(&f.fs, ROOT_INO, 100)
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(
        root,
        [
            ".",
            "..",
            ".sfmount-changes.jsonl",
            ".sfmount-status.json",
            "Standard Objects",
            "Custom Objects"
        ]
    );
    let standard = lookup_path(&f.fs, &["Standard Objects"]).unwrap();
    let names: Vec<String> = list_all(&f.fs, standard, 100)
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, [".", "..", "Account", "Contact"]);
    let account = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    assert_eq!(f.fs.getattr(account).unwrap().kind, NodeKind::Directory);
    let status = f.fs.lookup(account, OsStr::new(SOBJECT_JSON)).unwrap();
    let summary: Value = serde_json::from_slice(&read_all(&f.fs, status.ino)).unwrap();
    assert_eq!(summary["state"], "unlisted");
    assert_eq!(summary["recordCount"], Value::Null);
    assert_eq!(f.source.calls().listings, 0, "nothing listed yet");
    assert_eq!(
        lookup_path(&f.fs, &["Custom Objects", "Account"]),
        Err(FsError::NotFound)
    );
}

#[test]
fn listing_once_then_everything_is_served_from_memory() {
    let f = fixture(accounts(50), vec![FileFormat::Json], |_| {});
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    let entries = list_all(&f.fs, folder, 7);
    assert_eq!(entries.len(), 2 + 1 + 50);
    let calls_after_listing = f.source.calls();
    assert_eq!(calls_after_listing.listings, 1);

    for entry in &entries[3..] {
        let attr = f.fs.lookup(folder, OsStr::new(&entry.name)).unwrap();
        assert_eq!(attr, entry.attr, "lookup agrees with readdir");
        assert_eq!(f.fs.getattr(attr.ino).unwrap(), attr);
        let bytes = read_all(&f.fs, attr.ino);
        assert_eq!(
            bytes.len() as u64,
            attr.size,
            "{}: size is exact",
            entry.name
        );
        let record: Value = serde_json::from_slice(&bytes).expect("valid JSON");
        assert!(entry.name.contains(record["Id"].as_str().unwrap()));
    }
    list_all(&f.fs, folder, 1000);
    assert_eq!(
        f.source.calls(),
        calls_after_listing,
        "zero calls after listing"
    );

    let status = f.fs.lookup(folder, OsStr::new(SOBJECT_JSON)).unwrap();
    let summary: Value = serde_json::from_slice(&read_all(&f.fs, status.ino)).unwrap();
    assert_eq!(summary["state"], "listed");
    assert_eq!(summary["recordCount"], 50);
    assert_eq!(summary["fields"][1], "Name");
    assert_eq!(summary["keyPrefix"], "001");
    assert_eq!(summary["object"], "Account");
    assert_eq!(summary["label"], "Account");
    assert_eq!(summary["custom"], false);
    let refreshed = summary["lastRefresh"].as_str().expect("lastRefresh");
    assert!(
        chrono::DateTime::parse_from_rfc3339(refreshed).is_ok(),
        "{refreshed}"
    );
    // The latest LastModifiedDate of the 50 records (day 1 + 50 % 28 at most = March 28).
    assert_eq!(summary["watermark"], "2024-03-28T08:00:00Z");
}

#[test]
fn a_hundred_thousand_entries_list_exactly_once_across_offsets() {
    let f = fixture(accounts(100_000), vec![FileFormat::Json], |_| {});
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    // Uneven batches, like a kernel buffer that fits a varying number of names.
    let entries = list_all(&f.fs, folder, 337);
    assert_eq!(entries.len(), 100_000 + 3);
    let names: HashSet<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names.len(), entries.len(), "no name twice");
    let inodes: HashSet<u64> = entries[2..].iter().map(|e| e.ino).collect();
    assert_eq!(inodes.len(), entries.len() - 2, "no inode twice");
    for (position, entry) in entries.iter().enumerate() {
        assert_eq!(entry.next_offset, position as u64 + 1);
    }
    // Restarting in the middle continues from there.
    let fh = f.fs.opendir(folder).unwrap();
    let mut first = None;
    f.fs.readdir(fh, 50_000, |entry| {
        first = Some(entry);
        true
    })
    .unwrap();
    assert_eq!(first.unwrap().name, entries[50_000].name);
    f.fs.releasedir(fh);
    assert_eq!(f.source.calls().listings, 1);
}

#[test]
fn concurrent_first_listers_share_one_load() {
    let source = accounts(500);
    source.set_latency(Duration::from_millis(300));
    let f = fixture(source, vec![FileFormat::Json], |_| {});
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    let name = list_all_names_later(&f);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                let attr = f.fs.lookup(folder, OsStr::new(&name)).expect("lookup");
                assert_eq!(attr.kind, NodeKind::File);
            });
        }
    });
    let calls = f.source.calls();
    assert_eq!(calls.listings, 1, "one shared load");
    assert_eq!(calls.plans, 1);
}

/// The name the first Account will have, computed as the catalog does.
fn list_all_names_later(_f: &Fixture) -> String {
    let record = account(1, "Company 1");
    let id = record["Id"].as_str().unwrap().to_string();
    sfmount::catalog::file_name("Company 1", &id, "json")
}

#[test]
fn both_formats_give_two_files_per_record_with_exact_sizes() {
    let f = fixture(
        accounts(5),
        vec![FileFormat::Json, FileFormat::Text],
        |_| {},
    );
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    let entries = list_all(&f.fs, folder, 100);
    let files = &entries[3..];
    assert_eq!(files.len(), 10);
    assert_eq!(
        files.iter().filter(|e| e.name.ends_with(".json")).count(),
        5
    );
    assert_eq!(files.iter().filter(|e| e.name.ends_with(".txt")).count(), 5);
    for entry in files {
        let bytes = read_all(&f.fs, entry.ino);
        assert_eq!(bytes.len() as u64, entry.attr.size);
        if entry.name.ends_with(".txt") {
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.contains("Company"), "{text}");
        }
    }
}

#[test]
fn every_mutation_is_read_only() {
    let f = fixture(accounts(3), vec![FileFormat::Json], |_| {});
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    let file = list_all(&f.fs, folder, 100)[3].ino;
    assert_eq!(f.fs.open(file, true), Err(FsError::ReadOnly));
    assert_eq!(errno(&f.fs.mutation()), libc::EROFS);
    assert_eq!(f.fs.open(folder, false), Err(FsError::IsADirectory));
    assert_eq!(f.fs.opendir(file), Err(FsError::NotADirectory));
    assert_eq!(
        f.fs.lookup(file, OsStr::new("x")),
        Err(FsError::NotADirectory)
    );
}

#[test]
fn an_evicted_body_is_fetched_again_with_its_neighbours_in_one_call() {
    let f = fixture(accounts(1000), vec![FileFormat::Json], |config| {
        config.neighbour_batch = 100;
    });
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    let entries = list_all(&f.fs, folder, 1000);
    let expected: Vec<Vec<u8>> = entries[3..13]
        .iter()
        .map(|e| read_all(&f.fs, e.ino))
        .collect();
    f.fs.clear_body_cache();
    let before = f.source.calls();
    let stats_before = f.fs.index().body_stats();
    for (entry, expected) in entries[3..13].iter().zip(&expected) {
        assert_eq!(
            &read_all(&f.fs, entry.ino),
            expected,
            "same bytes after a miss"
        );
    }
    let after = f.source.calls();
    assert_eq!(after.fetches_by_id - before.fetches_by_id, 1, "one batch");
    assert_eq!(after.listings, before.listings);
    // The metrics' counters agree: one body fetched, the other nine (and every later read
    // of the first) answered from memory.
    let stats = f.fs.index().body_stats();
    assert_eq!(stats.fetched - stats_before.fetched, 1);
    assert!(
        stats.memory_hits - stats_before.memory_hits >= 9,
        "{stats:?}"
    );
    assert_eq!(stats.store_hits, 0, "no store in this fixture");
    assert_eq!(
        f.fs.index().body_cache_usage().1,
        100,
        "the batch is cached"
    );
}

#[test]
fn a_small_cache_budget_bounds_memory_and_still_serves_every_file() {
    let f = fixture(accounts(300), vec![FileFormat::Json], |config| {
        config.body_cache_bytes = 20_000;
        config.neighbour_batch = 10;
    });
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    let entries = list_all(&f.fs, folder, 1000);
    for entry in &entries[3..] {
        assert_eq!(read_all(&f.fs, entry.ino).len() as u64, entry.attr.size);
        assert!(f.fs.index().body_cache_usage().0 <= 20_000);
    }
    assert!(f.source.calls().fetches_by_id > 0, "misses were fetched");
}

#[test]
fn an_open_handle_keeps_the_version_it_opened() {
    let source = accounts(3);
    let f = fixture(source, vec![FileFormat::Json], |_| {});
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    let entry = list_all(&f.fs, folder, 100)[3].clone();
    let opened = f.fs.open(entry.ino, false).unwrap();
    let fh = opened.fh;
    let before = f.fs.read(fh, 0, 1 << 20).unwrap().as_slice().to_vec();

    let mut changed = account(1, "Company 1");
    changed.insert(
        "Description".into(),
        json!("a much longer description than before"),
    );
    changed.insert(
        "LastModifiedDate".into(),
        json!("2025-01-01T00:00:00.000+0000"),
    );
    let summary = f.fs.index().apply_changes(0, vec![changed], &[]).unwrap();
    assert_eq!(summary.updated, 1);
    assert!(!summary.membership_changed());

    assert_eq!(f.fs.read(fh, 0, 1 << 20).unwrap().as_slice(), &before[..]);
    f.fs.release(fh);
    // The inode the kernel holds is still the old version, whole; opening it again once
    // nobody holds its bytes is stale (the kernel then looks the name up again).
    assert_eq!(f.fs.getattr(entry.ino).unwrap().size, before.len() as u64);
    assert_eq!(f.fs.open(entry.ino, false), Err(FsError::Stale));
    // The name now leads to a new inode: the new version.
    let attr = f.fs.lookup(folder, OsStr::new(&entry.name)).unwrap();
    assert_ne!(attr.ino, entry.ino, "a new version is a new inode");
    assert_eq!(f.fs.getattr(attr.ino).unwrap(), attr);
    let now = read_all(&f.fs, attr.ino);
    assert_eq!(now.len() as u64, attr.size);
    assert!(String::from_utf8_lossy(&now).contains("much longer"));
}

#[test]
fn changes_rename_add_and_remove_files_and_move_the_folder_mtime() {
    let f = fixture(accounts(3), vec![FileFormat::Json], |_| {});
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    let entries = list_all(&f.fs, folder, 100);
    let mtime_before = f.fs.getattr(folder).unwrap().mtime;
    let renamed_ino = entries[3].ino;
    let removed_id = sfmount::sfid::make_id("001", "Hs0", 2);
    std::thread::sleep(Duration::from_millis(20));

    let summary =
        f.fs.index()
            .apply_changes(
                0,
                vec![account(1, "Renamed Company"), account(4, "New Company")],
                std::slice::from_ref(&removed_id),
            )
            .unwrap();
    assert_eq!((summary.renamed, summary.added, summary.removed), (1, 1, 1));
    // What a refresher must make the kernel forget: the old name and the removed file.
    assert!(summary.stale_names.contains(&entries[3].name));
    assert!(summary.stale_names.iter().any(|n| n.contains(&removed_id)));
    assert!(summary.stale_inodes.contains(&renamed_ino));
    assert_eq!(summary.stale_names.len(), 2);
    let names: Vec<String> = list_all(&f.fs, folder, 100)
        .into_iter()
        .skip(3)
        .map(|e| e.name)
        .collect();
    assert_eq!(names.len(), 3);
    assert!(names[0].starts_with("Renamed Company ["));
    assert!(names.iter().all(|n| !n.contains(&removed_id)));
    assert!(names[2].starts_with("New Company ["));
    let renamed = f.fs.lookup(folder, OsStr::new(&names[0])).unwrap();
    // The title is in the bytes, so a rename is a new version: a new inode.
    assert_ne!(
        renamed.ino, renamed_ino,
        "a renamed record is a new version"
    );
    assert_eq!(
        f.fs.lookup(folder, OsStr::new(&entries[3].name)),
        Err(FsError::NotFound),
        "the old name is gone"
    );
    assert!(f.fs.getattr(folder).unwrap().mtime > mtime_before);
}

#[test]
fn an_org_down_gives_eio_and_no_request_storm() {
    let source = accounts(3);
    source.set_failure(Some(SourceError::Unavailable("connection refused".into())));
    let f = fixture(source, vec![FileFormat::Json], |_| {});
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    let error = f.fs.opendir(folder).unwrap_err();
    assert_eq!(errno(&error), libc::EIO);
    let calls = f.source.calls();
    for _ in 0..5 {
        assert_eq!(
            errno(&f.fs.lookup(folder, OsStr::new("x")).unwrap_err()),
            libc::EIO
        );
    }
    assert_eq!(f.source.calls(), calls, "failures are not retried at once");
    let status = f.fs.lookup(folder, OsStr::new(SOBJECT_JSON)).unwrap();
    let summary: Value = serde_json::from_slice(&read_all(&f.fs, status.ino)).unwrap();
    assert!(summary["lastError"]
        .as_str()
        .unwrap()
        .contains("connection refused"));
}

#[test]
fn a_slow_org_ends_in_eio_at_the_deadline_not_a_hang() {
    let source = accounts(3);
    source.set_latency(Duration::from_secs(30));
    let f = fixture(source, vec![FileFormat::Json], |config| {
        config.operation_deadline = Duration::from_millis(300);
    });
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    let started = Instant::now();
    let error = f.fs.opendir(folder).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(errno(&error), libc::EIO);
}

#[test]
fn an_evicted_body_on_a_stuck_org_ends_in_eio_at_the_deadline() {
    let f = fixture(accounts(3), vec![FileFormat::Json], |config| {
        config.operation_deadline = Duration::from_millis(300);
    });
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    let entries = list_all(&f.fs, folder, 100);
    f.fs.clear_body_cache();
    f.source.set_latency(Duration::from_secs(30));
    // The open does not wait (the kernel may have the pages); the first read does.
    let opened = f.fs.open(entries[3].ino, false).unwrap();
    assert!(f.fs.read_would_wait(opened.fh));
    let started = Instant::now();
    let error = f.fs.read(opened.fh, 0, 4096).err().unwrap();
    f.fs.release(opened.fh);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(errno(&error), libc::EIO, "{error:?}");
    // The listing is still served from memory meanwhile.
    let attr = f.fs.lookup(folder, OsStr::new(&entries[3].name)).unwrap();
    assert_eq!(attr, entries[3].attr);
}

#[test]
fn awkward_titles_and_records_still_get_usable_unique_names() {
    let source = MemorySource::new();
    let mut records: Vec<Record> = ["..", ".", "/", "", "same", "same", "🙂🙂🙂"]
        .iter()
        .enumerate()
        .map(|(i, title)| account(i as u64 + 1, title))
        .collect();
    records.push(account(20, &"x".repeat(1000)));
    records.push(account(21, "nul\0inside"));
    let mut without_id = account(22, "no id");
    without_id.remove("Id");
    records.push(without_id);
    // A record delivered twice is listed once.
    records.push(account(1, ".."));
    source.insert_object("Account", plan(), records);
    source.insert_object("Contact", plan(), Vec::new());
    source.insert_object("Invoice__c", plan(), Vec::new());
    let f = fixture(source, vec![FileFormat::Json], |_| {});
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    let entries = list_all(&f.fs, folder, 100);
    let files = &entries[3..];
    assert_eq!(files.len(), 9, "10 distinct Ids, one without Id skipped");
    let names: HashSet<&str> = files.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names.len(), files.len());
    for entry in files {
        assert!(entry.name != "." && entry.name != "..");
        assert!(!entry.name.contains('/') && !entry.name.contains('\0'));
        assert!(entry.name.len() <= 255);
        assert_eq!(
            f.fs.lookup(folder, OsStr::new(&entry.name)).unwrap().ino,
            entry.ino
        );
        assert_eq!(read_all(&f.fs, entry.ino).len() as u64, entry.attr.size);
    }
}

#[test]
fn statfs_counts_listed_files_without_listing() {
    let f = fixture(accounts(10), vec![FileFormat::Json], |_| {});
    let before = f.fs.statfs();
    assert_eq!(f.source.calls().listings, 0);
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    list_all(&f.fs, folder, 100);
    let after = f.fs.statfs();
    assert_eq!(after.files, before.files + 10);
    assert!(
        after.blocks > after.free_blocks,
        "the listed files use blocks"
    );
    assert!(
        after.free_blocks > 0 && after.free_files > 0,
        "never shown full"
    );
    assert_eq!(after.max_name_length, 255);
}

#[test]
fn applying_an_unchanged_record_again_changes_nothing() {
    let f = fixture(accounts(3), vec![FileFormat::Json], |_| {});
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    let before = list_all(&f.fs, folder, 100);
    let mtime = f.fs.getattr(folder).unwrap().mtime;
    let summary =
        f.fs.index()
            .apply_changes(
                0,
                vec![account(1, "Company 1"), account(1, "Company 1")],
                &[],
            )
            .unwrap();
    assert_eq!(summary, Default::default(), "idempotent by Id");
    assert_eq!(list_all(&f.fs, folder, 100), before);
    assert_eq!(f.fs.getattr(folder).unwrap().mtime, mtime);
    // Deleting an Id the folder never had is not a change either.
    let summary =
        f.fs.index()
            .apply_changes(0, Vec::new(), &["001000000000000AAA".to_string()])
            .unwrap();
    assert_eq!(summary, Default::default());
}

#[test]
fn concurrent_readers_of_evicted_bodies_share_one_fetch() {
    let f = fixture(accounts(100), vec![FileFormat::Json], |_| {});
    let folder = lookup_path(&f.fs, &["Standard Objects", "Account"]).unwrap();
    let entries = list_all(&f.fs, folder, 1000);
    f.fs.clear_body_cache();
    f.source.set_latency(Duration::from_millis(300));
    let before = f.source.calls().fetches_by_id;
    let read = |entry: &DirEntry| {
        assert_eq!(read_all(&f.fs, entry.ino).len() as u64, entry.attr.size);
    };
    std::thread::scope(|scope| {
        // The first reader's fetch is under way (counted as it starts, and its batch is
        // marked in flight before that) when the seven readers of the next files arrive.
        // Which of eight simultaneous readers gets in first is up to the scheduler, and one
        // that starts with a later file cannot cover the earlier ones, so the order is fixed.
        scope.spawn(|| read(&entries[3]));
        let started = Instant::now();
        while f.source.calls().fetches_by_id == before {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no fetch started"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        for entry in &entries[4..11] {
            scope.spawn(move || read(entry));
        }
    });
    let fetches = f.source.calls().fetches_by_id - before;
    assert_eq!(fetches, 1, "8 neighbouring readers share one fetch");
}
