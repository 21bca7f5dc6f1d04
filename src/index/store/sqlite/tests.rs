//! The SQLite store against real files in a temporary folder.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use super::*;
use crate::index::store::{StoreBatch, StoredBody};

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
        delete_ids: Vec::new(),
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
    store.clear_object("Account").unwrap();
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
