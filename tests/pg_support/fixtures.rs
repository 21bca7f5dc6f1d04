//! Store fixtures shared by the PostgreSQL tests: the batches a mount writes (a first
//! listing in pages, a rewrite, a second folder) and a published change.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use sfmount::index::store::{
    ChangeKind, FleetChange, FolderHeader, JournalEntry, StoreBatch, StoredBody,
};
use sfmount::index::{FileEntry, FileFormat, Record};

pub fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

pub fn header(complete: bool) -> FolderHeader {
    FolderHeader {
        plan: "{\"fields\":[\"Id\",\"Name\"]}".into(),
        presentation: "test".into(),
        complete,
        watermark: Some(at(1_700_000_000)),
        refreshed_at: at(1_700_000_100),
        changed_at: at(1_700_000_050),
    }
}

pub fn file(id: &str, format: FileFormat, name: &str, size: u64) -> FileEntry {
    FileEntry {
        ino: 0,
        name: name.into(),
        id: Arc::from(id),
        format,
        size,
        mtime: at(1_600_000_000),
        // Nanoseconds survive the trip.
        ctime: UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789),
        modstamp: Some(at(1_650_000_000)),
        digest: u64::MAX - 7,
    }
}

pub fn body(id: &str, format: FileFormat, text: &str) -> StoredBody {
    StoredBody {
        id: Arc::from(id),
        format,
        body: Arc::from(text.as_bytes()),
    }
}

pub fn entry(kind: ChangeKind, id: &str, path: &str) -> JournalEntry {
    JournalEntry {
        seq: 0,
        at: at(1_700_000_200),
        kind,
        object: "Account".into(),
        id: id.into(),
        path: path.into(),
        old_path: (kind == ChangeKind::Renamed).then(|| "old name".to_string()),
    }
}

/// A first listing in two pages, a rewrite that renames, updates and deletes (with a
/// file given twice in one batch), and a second folder: what a mount writes.
pub fn batches() -> Vec<(&'static str, StoreBatch)> {
    let page_one = StoreBatch {
        put: vec![
            body("001B", FileFormat::Json, "{\"b\":1}"),
            body("001B", FileFormat::Text, "b is 1"),
        ],
        files: vec![
            file("001B", FileFormat::Json, "B [001B].json", 7),
            file("001B", FileFormat::Text, "B [001B].txt", 6),
        ],
        ..StoreBatch::default()
    };
    let page_two = StoreBatch {
        put: vec![body("001A", FileFormat::Json, "{\"a\":1}")],
        files: vec![file("001A", FileFormat::Json, "A [001A].json", 7)],
        header: Some(header(true)),
        journal: vec![entry(ChangeKind::Listed, "", "Account")],
        ..StoreBatch::default()
    };
    let rewrite = StoreBatch {
        put: vec![
            body("001A", FileFormat::Json, "{\"a\":2}"),
            body("001C", FileFormat::Json, "{\"c\":1}"),
            body("001C", FileFormat::Json, "{\"c\":2}"),
        ],
        files: vec![
            file("001A", FileFormat::Json, "A2 [001A].json", 7),
            file("001C", FileFormat::Json, "C [001C].json", 1),
            file("001C", FileFormat::Json, "C [001C].json", 7),
        ],
        delete_ids: vec![Arc::from("001B")],
        header: Some(FolderHeader {
            watermark: Some(at(1_700_000_300)),
            ..header(true)
        }),
        journal: vec![
            entry(ChangeKind::Renamed, "001A", "Account/A2 [001A].json"),
            entry(ChangeKind::Added, "001C", "Account/C [001C].json"),
            entry(ChangeKind::Removed, "001B", "Account/B [001B].json"),
        ],
    };
    let case = StoreBatch {
        put: vec![body("500A", FileFormat::Json, "case")],
        files: vec![file("500A", FileFormat::Json, "1 [500A].json", 4)],
        header: Some(header(false)),
        journal: vec![entry(ChangeKind::Listed, "", "Case")],
        ..StoreBatch::default()
    };
    vec![
        ("Account", page_one),
        ("Account", page_two),
        ("Account", rewrite),
        ("Case", case),
    ]
}

pub fn change(object: &str, publisher: &str) -> FleetChange {
    let record: Record = json!({"attributes": {"type": object}, "Name": "Zed", "Id": "001A"})
        .as_object()
        .unwrap()
        .clone();
    FleetChange {
        object: object.into(),
        records: vec![record],
        deleted: vec!["001B".into()],
        refreshed: vec!["Contact".into()],
        publisher: publisher.into(),
        at: UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_001),
    }
}
