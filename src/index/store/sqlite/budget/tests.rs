//! The bound on body bytes, the use clock, and the migration that brought them.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use rusqlite::Connection;

use super::super::{SqliteStore, SCHEMA_V1, SCHEMA_V2, SCHEMA_VERSION};
use crate::index::store::{FolderHeader, LocalStore, StoreBatch};
use crate::index::{FileEntry, FileFormat};
use crate::sync::lock;

fn entry(id: &str, size: u64) -> FileEntry {
    FileEntry {
        ino: 0,
        name: format!("{id}.json"),
        id: Arc::from(id),
        format: FileFormat::Json,
        size,
        mtime: UNIX_EPOCH + Duration::from_secs(1_600_000_000),
        ctime: UNIX_EPOCH + Duration::from_secs(1_600_000_000),
        modstamp: None,
        digest: 7,
    }
}

/// One record's row and a body of `size` bytes, as a listing page writes it.
fn page(ids: &[&str], size: usize) -> StoreBatch {
    let mut batch = StoreBatch::default();
    for id in ids {
        let body: Arc<[u8]> = vec![b'x'; size].into();
        batch.put_file(&entry(id, size as u64), &body);
    }
    batch
}

fn has_body(store: &SqliteStore, id: &str) -> bool {
    store
        .get("Account", id, FileFormat::Json)
        .unwrap()
        .is_some()
}

/// Whether the body is there, without counting as a read.
fn holds(store: &SqliteStore, id: &str) -> bool {
    let count: i64 = lock(&store.connection)
        .query_row("SELECT COUNT(*) FROM bodies WHERE id = ?1", [id], |row| {
            row.get(0)
        })
        .unwrap();
    count == 1
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|n| format!("001{n:02}")).collect()
}

#[test]
fn over_the_bound_the_least_recently_used_bodies_go_and_every_row_stays() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap();
    store.set_body_limit(Some(1000)).unwrap();
    let all = ids(0..11);
    // Ten 100-byte bodies, one write each: exactly at the bound, nothing evicted.
    for id in &all[..10] {
        store.apply("Account", &page(&[id], 100)).unwrap();
    }
    assert_eq!(store.body_bytes().unwrap(), 1000);
    assert!(all[..10].iter().all(|id| holds(&store, id)));
    // Reading the oldest makes it the most recently used (noted, written before the next
    // write); the 11th body then pushes the total over and eviction goes to 90 %.
    assert!(has_body(&store, &all[0]));
    store.apply("Account", &page(&[&all[10]], 100)).unwrap();

    let bytes = store.body_bytes().unwrap();
    assert!(bytes <= 900, "down to the low-water mark: {bytes}");
    let kept: Vec<bool> = all.iter().map(|id| holds(&store, id)).collect();
    assert!(kept[0], "the body read last is kept: {kept:?}");
    assert!(kept[10], "the body just written is kept: {kept:?}");
    assert_eq!(
        kept.iter().filter(|k| !**k).count(),
        2,
        "two bodies freed 200 bytes: {kept:?}"
    );
    assert!(
        !kept[1] && !kept[2],
        "the oldest unread bodies went: {kept:?}"
    );
    // The listing is whole: names and sizes are still served.
    let folder = store.load_folder("Account").unwrap();
    assert!(folder.is_none(), "no header was written in this test");
    let rows: i64 = lock(&store.connection)
        .query_row("SELECT COUNT(*) FROM files", [], |row| row.get(0))
        .unwrap();
    assert_eq!(rows, 11);
    let counted: i64 = lock(&store.connection)
        .query_row("SELECT SUM(LENGTH(body)) FROM bodies", [], |row| row.get(0))
        .unwrap();
    assert_eq!(counted as u64, bytes, "the running total is the real total");
}

#[test]
fn one_batch_larger_than_the_bound_still_ends_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap();
    store.set_body_limit(Some(500)).unwrap();
    let all = ids(0..20);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    store.apply("Account", &page(&refs, 100)).unwrap();
    assert!(store.body_bytes().unwrap() <= 500);
    // Within one write the front of the batch stays: a reader in listing order reads it
    // first (the rest is fetched again when reached).
    let kept: Vec<bool> = all.iter().map(|id| holds(&store, id)).collect();
    assert_eq!(kept.iter().filter(|k| **k).count(), 4, "{kept:?}");
    assert!(kept[..4].iter().all(|k| *k), "{kept:?}");
    let info = store.info().unwrap();
    assert!(info.is_empty(), "no folder header: {info:?}");
}

#[test]
fn lowering_the_bound_evicts_at_once_and_no_bound_evicts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap();
    let all = ids(0..10);
    for id in &all {
        store.apply("Account", &page(&[id], 100)).unwrap();
    }
    assert_eq!(store.body_bytes().unwrap(), 1000, "unbounded by default");
    store.set_body_limit(Some(400)).unwrap();
    assert!(store.body_bytes().unwrap() <= 400);
    assert!(holds(&store, &all[9]) && !holds(&store, &all[0]));
}

#[test]
fn the_running_total_follows_replacements_deletions_and_clears() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap();
    store
        .apply("Account", &page(&["001A", "001B"], 100))
        .unwrap();
    // INSERT OR REPLACE deletes the old row itself: the trigger must still see it.
    store.apply("Account", &page(&["001A"], 30)).unwrap();
    assert_eq!(store.body_bytes().unwrap(), 130);
    let delete = StoreBatch {
        delete_ids: vec![Arc::from("001B")],
        ..StoreBatch::default()
    };
    store.apply("Account", &delete).unwrap();
    assert_eq!(store.body_bytes().unwrap(), 30);
    store.apply("Contact", &page(&["003A"], 50)).unwrap();
    let header = FolderHeader {
        plan: String::new(),
        presentation: String::new(),
        complete: false,
        watermark: None,
        refreshed_at: UNIX_EPOCH,
        changed_at: UNIX_EPOCH,
    };
    store.begin_listing("Account", &header).unwrap();
    assert_eq!(store.body_bytes().unwrap(), 50);
    store.clear().unwrap();
    assert_eq!(store.body_bytes().unwrap(), 0);
}

#[test]
fn reads_noted_before_a_close_are_written_when_it_closes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.set_body_limit(Some(1 << 20)).unwrap();
        store.apply("Account", &page(&["001A"], 10)).unwrap();
        store.apply("Account", &page(&["001B"], 10)).unwrap();
        assert!(has_body(&store, "001A"));
    }
    let connection = Connection::open(&path).unwrap();
    let used = |id: &str| -> i64 {
        connection
            .query_row("SELECT used FROM bodies WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .unwrap()
    };
    assert!(
        used("001A") > used("001B"),
        "the read is newer than the last write"
    );
}

#[test]
fn a_version_2_store_is_migrated_with_every_row_and_its_byte_total() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    {
        let connection = Connection::open(&path).unwrap();
        connection
            .execute_batch(&format!(
                "{SCHEMA_V1} {SCHEMA_V2}
                 INSERT INTO bodies VALUES ('Account', '001A', 'json', x'7b7d');
                 INSERT INTO bodies VALUES ('Account', '001B', 'json', x'7b2261223a317d');
                 INSERT INTO folders VALUES ('Account', '{{}}', 'p', 1, NULL, 5, 5);
                 INSERT INTO files VALUES ('Account', '001A', 'json', 'a.json', 2, 0, 0, NULL, 1);
                 INSERT INTO files VALUES ('Account', '001B', 'json', 'b.json', 7, 0, 0, NULL, 2);
                 PRAGMA user_version = 2;"
            ))
            .unwrap();
    }
    // Looking at it read-only leaves it at version 2.
    {
        let look = SqliteStore::open_read_only(&path).unwrap();
        assert_eq!(look.schema_version().unwrap(), 2);
        assert_eq!(look.info().unwrap()[0].body_bytes, 9);
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 4);
    assert_eq!(
        store
            .get("Account", "001A", FileFormat::Json)
            .unwrap()
            .unwrap(),
        b"{}"
    );
    let info = store.info().unwrap();
    assert_eq!(
        (info[0].records, info[0].files, info[0].body_bytes),
        (2, 2, 9)
    );
    assert_eq!(
        store.body_bytes().unwrap(),
        9,
        "the total counts the old bodies"
    );
    assert_eq!(
        store.load_folder("Account").unwrap().unwrap().files.len(),
        2
    );
    // Old bodies are the least recently used: a new one outlives them.
    store.set_body_limit(Some(12)).unwrap();
    store.apply("Account", &page(&["001C"], 5)).unwrap();
    assert!(store.body_bytes().unwrap() <= 12);
    assert!(has_body(&store, "001C"));
}

#[test]
fn opening_read_only_creates_nothing_and_refuses_what_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("org/store.sqlite3");
    assert!(SqliteStore::open_read_only(&missing).is_err());
    assert!(!missing.exists() && !dir.path().join("org").exists());
    let empty = dir.path().join("empty.sqlite3");
    std::fs::write(&empty, b"").unwrap();
    assert!(
        SqliteStore::open_read_only(&empty).is_err(),
        "version 0 is no store"
    );
    assert_eq!(
        std::fs::metadata(&empty).unwrap().len(),
        0,
        "and it stays empty"
    );
}
