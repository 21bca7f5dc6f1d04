//! The SQLite store against real files in a temporary folder.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::index::store::{
    ChangeKind, FolderHeader, JournalEntry, LocalStore, StoreBatch, StoredBody, JOURNAL_KEEP,
};
use crate::index::{FileEntry, FileFormat};
use crate::sync::lock;

fn stored(id: &str, format: FileFormat, body: &str) -> StoredBody {
    StoredBody {
        id: Arc::from(id),
        format,
        body: Arc::from(body.as_bytes()),
    }
}

fn put(bodies: Vec<StoredBody>) -> StoreBatch {
    StoreBatch {
        put: bodies,
        ..StoreBatch::default()
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn bodies_round_trip_by_object_id_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("org/store.sqlite3")).unwrap();
    store
        .apply(
            "Account",
            &put(vec![
                stored("001A", FileFormat::Json, "{\"a\":1}"),
                stored("001A", FileFormat::Text, "a is 1"),
            ]),
        )
        .unwrap();
    let get = |object, id, format| store.get(object, id, format).unwrap();
    assert_eq!(
        get("Account", "001A", FileFormat::Json).unwrap(),
        b"{\"a\":1}"
    );
    assert_eq!(get("Account", "001A", FileFormat::Text).unwrap(), b"a is 1");
    assert_eq!(get("Contact", "001A", FileFormat::Json), None);
    assert_eq!(get("Account", "001B", FileFormat::Json), None);

    store
        .apply(
            "Account",
            &put(vec![stored("001A", FileFormat::Json, "v2")]),
        )
        .unwrap();
    assert_eq!(get("Account", "001A", FileFormat::Json).unwrap(), b"v2");

    let delete = StoreBatch {
        put: Vec::new(),
        delete_ids: vec![Arc::from("001A")],
        ..StoreBatch::default()
    };
    store.apply("Account", &delete).unwrap();
    assert_eq!(get("Account", "001A", FileFormat::Json), None);
    assert_eq!(get("Account", "001A", FileFormat::Text), None);
}

#[test]
fn a_batch_is_one_transaction_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap();
    // A trigger makes the third insert fail: the first two must not stay.
    lock(&store.connection)
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON bodies WHEN NEW.id = 'bad'
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
    let batch = put(vec![
        stored("001A", FileFormat::Json, "a"),
        stored("001B", FileFormat::Json, "b"),
        stored("bad", FileFormat::Json, "x"),
    ]);
    assert!(store.apply("Account", &batch).is_err());
    assert_eq!(
        store.get("Account", "001A", FileFormat::Json).unwrap(),
        None
    );
    assert_eq!(
        store.get("Account", "001B", FileFormat::Json).unwrap(),
        None
    );
}

#[test]
fn bodies_survive_a_reopen_and_clear_forgets_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .apply(
                "Account",
                &put(vec![stored("001A", FileFormat::Json, "kept")]),
            )
            .unwrap();
        store
            .apply("Case", &put(vec![stored("500A", FileFormat::Json, "case")]))
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let mode: String = lock(&store.connection)
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = lock(&store.connection)
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(
        store
            .get("Account", "001A", FileFormat::Json)
            .unwrap()
            .unwrap(),
        b"kept"
    );
    store.begin_listing("Account", &header(false)).unwrap();
    assert_eq!(
        store.get("Account", "001A", FileFormat::Json).unwrap(),
        None
    );
    assert!(store
        .get("Case", "500A", FileFormat::Json)
        .unwrap()
        .is_some());
    store.clear().unwrap();
    assert_eq!(store.get("Case", "500A", FileFormat::Json).unwrap(), None);
}

#[test]
fn an_unreadable_file_is_set_aside_and_a_fresh_store_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    let garbage = b"this is not a database, it is a note".repeat(200);
    std::fs::write(&path, &garbage).unwrap();
    let store = SqliteStore::open(&path).unwrap();
    store
        .apply(
            "Account",
            &put(vec![stored("001A", FileFormat::Json, "new")]),
        )
        .unwrap();
    assert!(store
        .get("Account", "001A", FileFormat::Json)
        .unwrap()
        .is_some());
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.starts_with("store.sqlite3.unreadable-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(dir.path().join(&aside[0])).unwrap(), garbage);
}

#[test]
fn a_store_of_a_newer_schema_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
        .unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let version: i64 = lock(&store.connection)
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        names.iter().any(|name| name.contains(".unreadable-")),
        "{names:?}"
    );
}

#[test]
fn the_file_is_0600_in_a_0700_folder_with_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("cache/00Dorg-005user");
    std::fs::create_dir_all(&folder).unwrap();
    // A folder that already existed with a looser mode is tightened.
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = folder.join("store.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    store
        .apply("Account", &put(vec![stored("001A", FileFormat::Json, "x")]))
        .unwrap();
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&path), 0o600);
    for companion in ["store.sqlite3-wal", "store.sqlite3-shm"] {
        let companion = folder.join(companion);
        if companion.exists() {
            assert_eq!(mode(&companion), 0o600, "{}", companion.display());
        }
    }
}

#[test]
fn a_folder_that_cannot_be_made_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let error = SqliteStore::open(&blocker.join("store.sqlite3"))
        .err()
        .expect("a file where the folder should be");
    assert!(
        matches!(error, StoreError::Folder { .. }),
        "{error}: {error:?}"
    );
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn header(complete: bool) -> FolderHeader {
    FolderHeader {
        plan: "{\"fields\":[\"Id\",\"Name\"]}".into(),
        presentation: "test".into(),
        complete,
        watermark: Some(at(1_700_000_000)),
        refreshed_at: at(1_700_000_100),
        changed_at: at(1_700_000_050),
    }
}

fn file(id: &str, format: FileFormat, name: &str, size: u64) -> FileEntry {
    FileEntry {
        ino: 99,
        name: name.into(),
        id: Arc::from(id),
        format,
        size,
        mtime: at(1_600_000_000),
        ctime: UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789),
        modstamp: Some(at(1_650_000_000)),
        digest: u64::MAX - 7,
    }
}

fn rows(files: Vec<FileEntry>, header: Option<FolderHeader>) -> StoreBatch {
    StoreBatch {
        files,
        header,
        ..StoreBatch::default()
    }
}

#[test]
fn a_listing_round_trips_in_listing_order_and_an_update_keeps_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    store.begin_listing("Account", &header(false)).unwrap();
    let listed = vec![
        file("001B", FileFormat::Json, "B [001B].json", 10),
        file("001B", FileFormat::Text, "B [001B].txt", 5),
        file("001A", FileFormat::Json, "A [001A].json", 20),
    ];
    store.apply("Account", &rows(listed.clone(), None)).unwrap();
    let partial = store.load_folder("Account").unwrap().unwrap();
    assert!(
        !partial.header.complete,
        "a listing in progress is not complete"
    );
    store
        .apply("Account", &rows(Vec::new(), Some(header(true))))
        .unwrap();
    // 001B renamed and longer: same place in the listing.
    let renamed = file("001B", FileFormat::Json, "B2 [001B].json", 12);
    store
        .apply("Account", &rows(vec![renamed.clone()], None))
        .unwrap();
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    let folder = store.load_folder("Account").unwrap().unwrap();
    assert_eq!(folder.header, header(true));
    let names: Vec<&str> = folder.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["B2 [001B].json", "B [001B].txt", "A [001A].json"]);
    let expected = FileEntry { ino: 0, ..renamed };
    assert_eq!(
        folder.files[0], expected,
        "every field survives, to the nanosecond"
    );
    assert!(
        Arc::ptr_eq(&folder.files[0].id, &folder.files[1].id),
        "a record's files share one Id"
    );
    assert_eq!(
        store.load_folder("Contact").unwrap().map(|f| f.files.len()),
        None
    );
    let info = store.info().unwrap();
    assert_eq!(info.len(), 1);
    assert_eq!((info[0].records, info[0].files), (2, 3));
}

#[test]
fn deleting_a_record_drops_its_rows_and_bodies_and_begin_listing_drops_all() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap();
    let mut batch = rows(
        vec![
            file("001A", FileFormat::Json, "A.json", 1),
            file("001B", FileFormat::Json, "B.json", 1),
        ],
        Some(header(true)),
    );
    batch.put = vec![
        stored("001A", FileFormat::Json, "a"),
        stored("001B", FileFormat::Json, "b"),
    ];
    store.apply("Account", &batch).unwrap();
    let delete = StoreBatch {
        delete_ids: vec![Arc::from("001A")],
        ..StoreBatch::default()
    };
    store.apply("Account", &delete).unwrap();
    let folder = store.load_folder("Account").unwrap().unwrap();
    assert_eq!(folder.files.len(), 1);
    assert_eq!(
        store.get("Account", "001A", FileFormat::Json).unwrap(),
        None
    );
    store.begin_listing("Account", &header(false)).unwrap();
    let folder = store.load_folder("Account").unwrap().unwrap();
    assert!(folder.files.is_empty() && !folder.header.complete);
    assert_eq!(
        store.get("Account", "001B", FileFormat::Json).unwrap(),
        None
    );
}

fn change(path: &str) -> JournalEntry {
    JournalEntry {
        seq: 0,
        at: at(1_700_000_000),
        kind: ChangeKind::Updated,
        object: "Account".into(),
        id: "001A".into(),
        path: path.into(),
        old_path: Some("old".into()),
    }
}

#[test]
fn the_journal_numbers_every_change_and_keeps_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    let first = StoreBatch {
        journal: vec![change("a"), change("b")],
        ..StoreBatch::default()
    };
    assert_eq!(store.apply("Account", &first).unwrap(), [1, 2]);
    let many = StoreBatch {
        journal: (0..JOURNAL_KEEP)
            .map(|i| change(&format!("p{i}")))
            .collect(),
        ..StoreBatch::default()
    };
    let numbers = store.apply("Account", &many).unwrap();
    assert_eq!(numbers.last(), Some(&(JOURNAL_KEEP as u64 + 2)));
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    let tail = store.journal_tail(JOURNAL_KEEP + 10).unwrap();
    assert_eq!(tail.len(), JOURNAL_KEEP, "older entries are dropped");
    assert_eq!(tail[0].seq, 3);
    assert_eq!(tail.last().unwrap().path, format!("p{}", JOURNAL_KEEP - 1));
    assert_eq!(tail[0].old_path.as_deref(), Some("old"));
    // Numbers never go back, even after entries were dropped.
    let next = StoreBatch {
        journal: vec![change("z")],
        ..StoreBatch::default()
    };
    assert_eq!(
        store.apply("Account", &next).unwrap(),
        [JOURNAL_KEEP as u64 + 3]
    );
}

#[test]
fn a_version_1_store_is_migrated_and_keeps_its_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    {
        let connection = Connection::open(&path).unwrap();
        connection
            .execute_batch(&format!(
                "{SCHEMA_V1} INSERT INTO bodies VALUES ('Account', '001A', 'json', x'7b7d');
                 PRAGMA user_version = 1;"
            ))
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store
            .get("Account", "001A", FileFormat::Json)
            .unwrap()
            .unwrap(),
        b"{}"
    );
    assert_eq!(
        store.load_folder("Account").unwrap().map(|f| f.files.len()),
        None
    );
    let version: i64 = lock(&store.connection)
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn describes_and_facts_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap();
    assert_eq!(store.load_describe("account").unwrap(), None);
    store
        .save_describe(
            "account",
            "Tue, 01 Dec 2026 10:00:00 GMT",
            b"{\"name\":\"Account\"}",
        )
        .unwrap();
    let (stamp, body) = store.load_describe("account").unwrap().unwrap();
    assert_eq!(stamp, "Tue, 01 Dec 2026 10:00:00 GMT");
    assert_eq!(body, b"{\"name\":\"Account\"}");
    store.set_meta("instance_url", "https://x").unwrap();
    assert_eq!(
        store.meta("instance_url").unwrap().as_deref(),
        Some("https://x")
    );
}
