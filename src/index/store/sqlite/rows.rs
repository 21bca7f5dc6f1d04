//! The [`LocalStore`] operations as SQL over the schema in `sqlite.rs`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::SqliteStore;
use crate::index::store::{
    ChangeKind, FolderHeader, FolderInfo, JournalEntry, LocalStore, StoreBatch, StoreError,
    StoredFolder, JOURNAL_KEEP,
};
use crate::index::{FileEntry, FileFormat};
use crate::salesforce::{DescribeStore, StoredDescribe};

impl LocalStore for SqliteStore {
    fn apply(&self, object: &str, batch: &StoreBatch) -> Result<Vec<u64>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        self.with(|connection| {
            let transaction = connection.transaction()?;
            let stamp = self.before_write(&transaction)?;
            let numbers = write_batch(&transaction, object, batch, stamp)?;
            self.after_write(&transaction)?;
            transaction.commit()?;
            Ok(numbers)
        })
    }

    fn get(
        &self,
        object: &str,
        id: &str,
        format: FileFormat,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|connection| {
            let body: Option<Vec<u8>> = connection
                .prepare_cached(
                    "SELECT body FROM bodies WHERE object = ?1 AND id = ?2 AND format = ?3",
                )?
                .query_row(params![object, id, format.extension()], |row| row.get(0))
                .optional()?;
            if body.is_some() {
                self.note_read(connection, object, id, format);
            }
            Ok(body)
        })
    }

    fn begin_listing(&self, object: &str, header: &FolderHeader) -> Result<(), StoreError> {
        self.with(|connection| {
            let transaction = connection.transaction()?;
            transaction.execute("DELETE FROM files WHERE object = ?1", params![object])?;
            transaction.execute("DELETE FROM bodies WHERE object = ?1", params![object])?;
            transaction.execute(
                "DELETE FROM document_folders WHERE object = ?1",
                params![object],
            )?;
            write_header(&transaction, object, header)?;
            transaction.commit()
        })
    }

    fn load_folder(&self, object: &str) -> Result<Option<StoredFolder>, StoreError> {
        self.with(|connection| {
            let Some(header) = read_header(connection, object)? else {
                return Ok(None);
            };
            let mut statement = connection.prepare_cached(
                "SELECT id, format, name, size, mtime, ctime, modstamp, digest FROM files
                 WHERE object = ?1 ORDER BY rowid",
            )?;
            let mut files = Vec::new();
            let mut last_id: Option<Arc<str>> = None;
            let mut rows = statement.query(params![object])?;
            while let Some(row) = rows.next()? {
                // One Arc per record, shared by its files as in a listing built in memory.
                let id: String = row.get(0)?;
                let id = match &last_id {
                    Some(last) if **last == *id => last.clone(),
                    _ => Arc::<str>::from(id),
                };
                last_id = Some(id.clone());
                if let Some(entry) = file_row(row, id)? {
                    files.push(entry);
                }
            }
            Ok(Some(StoredFolder { header, files }))
        })
    }

    fn journal_tail(&self, limit: usize) -> Result<Vec<JournalEntry>, StoreError> {
        self.with(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT seq, at, kind, object, id, path, old_path FROM journal
                 ORDER BY seq DESC LIMIT ?1",
            )?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut entries = statement
                .query_map(params![limit], journal_row)?
                .filter_map(|row| row.transpose())
                .collect::<Result<Vec<_>, _>>()?;
            entries.reverse();
            Ok(entries)
        })
    }

    fn info(&self) -> Result<Vec<FolderInfo>, StoreError> {
        self.with(|connection| {
            let mut statement = connection.prepare(
                "SELECT f.object, f.complete, f.refreshed_at,
                    (SELECT COUNT(DISTINCT id) FROM files WHERE object = f.object),
                    (SELECT COUNT(*) FROM files WHERE object = f.object),
                    (SELECT COALESCE(SUM(LENGTH(body)), 0) FROM bodies WHERE object = f.object)
                 FROM folders f ORDER BY f.object",
            )?;
            let rows = statement.query_map([], |row| {
                Ok(FolderInfo {
                    object: row.get(0)?,
                    complete: row.get::<_, i64>(1)? != 0,
                    refreshed_at: from_nanos(row.get(2)?),
                    records: row.get::<_, i64>(3)?.max(0) as u64,
                    files: row.get::<_, i64>(4)?.max(0) as u64,
                    body_bytes: row.get::<_, i64>(5)?.max(0) as u64,
                })
            })?;
            rows.collect()
        })
    }

    fn keeps_documents(&self) -> bool {
        true
    }

    fn put_document_chunk(
        &self,
        version_id: &str,
        chunk: u64,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        self.put_chunk(version_id, chunk, bytes)
    }

    fn put_document_folders(&self, object: &str, folders: &str) -> Result<(), StoreError> {
        self.with(|connection| {
            connection
                .execute(
                    "INSERT OR REPLACE INTO document_folders (object, folders) VALUES (?1, ?2)",
                    params![object, folders],
                )
                .map(|_| ())
        })
    }

    fn load_document_folders(&self, object: &str) -> Result<Option<String>, StoreError> {
        self.with(|connection| {
            connection
                .query_row(
                    "SELECT folders FROM document_folders WHERE object = ?1",
                    params![object],
                    |row| row.get(0),
                )
                .optional()
        })
    }

    fn get_document_chunk(
        &self,
        version_id: &str,
        chunk: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.get_chunk(version_id, chunk)
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.with(|connection| {
            connection.execute_batch(
                "BEGIN; DELETE FROM bodies; DELETE FROM files; DELETE FROM folders;
                 DELETE FROM journal; DELETE FROM describes; DELETE FROM document_chunks;
                 DELETE FROM document_folders; COMMIT;",
            )
        })
    }
}

/// Describes kept for the client, so a restart revalidates them (`If-Modified-Since`)
/// instead of downloading them again. A failure costs a download, never a describe.
impl DescribeStore for SqliteStore {
    fn load(&self, key: &str) -> Option<StoredDescribe> {
        match self.load_describe(key) {
            Ok(kept) => kept.map(|(last_modified, body)| StoredDescribe {
                last_modified,
                body,
            }),
            Err(error) => {
                tracing::debug!(%error, "cannot read a kept describe");
                None
            }
        }
    }

    fn save(&self, key: &str, describe: &StoredDescribe) {
        if let Err(error) = self.save_describe(key, &describe.last_modified, &describe.body) {
            tracing::debug!(%error, "cannot keep a describe");
        }
    }
}

impl SqliteStore {
    /// A stored describe: the `Last-Modified` the org sent with it, and its body.
    pub fn load_describe(&self, key: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.with(|connection| {
            connection
                .prepare_cached("SELECT last_modified, body FROM describes WHERE key = ?1")?
                .query_row(params![key], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
        })
    }

    pub fn save_describe(
        &self,
        key: &str,
        last_modified: &str,
        body: &[u8],
    ) -> Result<(), StoreError> {
        self.with(|connection| {
            connection
                .prepare_cached(
                    "INSERT OR REPLACE INTO describes (key, last_modified, body) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![key, last_modified, body])
                .map(drop)
        })
    }

    /// A fact about the store itself (the instance URL a mount started offline needs).
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.with(|connection| {
            connection
                .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
                .query_row(params![key], |row| row.get(0))
                .optional()
        })
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.with(|connection| {
            connection
                .prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
                .execute(params![key, value])
                .map(drop)
        })
    }
}

/// Every part of `batch`, rows before the header so a header never claims more than the
/// rows beside it; the bodies it puts are marked used at `stamp`. The journal's new
/// sequence numbers, in order.
fn write_batch(
    transaction: &Transaction<'_>,
    object: &str,
    batch: &StoreBatch,
    stamp: i64,
) -> Result<Vec<u64>, rusqlite::Error> {
    let mut put = transaction.prepare_cached(
        "INSERT OR REPLACE INTO bodies (object, id, format, body, used)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for stored in &batch.put {
        let format = stored.format.extension();
        put.execute(params![object, &*stored.id, format, &*stored.body, stamp])?;
    }
    // An upsert, not a replace: the row keeps its rowid, so the listing's order survives.
    let mut file = transaction.prepare_cached(
        "INSERT INTO files (object, id, format, name, size, mtime, ctime, modstamp, digest)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (object, id, format) DO UPDATE SET name = excluded.name,
            size = excluded.size, mtime = excluded.mtime, ctime = excluded.ctime,
            modstamp = excluded.modstamp, digest = excluded.digest",
    )?;
    for entry in &batch.files {
        file.execute(params![
            object,
            &*entry.id,
            entry.format.extension(),
            entry.name,
            entry.size as i64,
            to_nanos(entry.mtime),
            to_nanos(entry.ctime),
            entry.modstamp.map(to_nanos),
            // The digest's bits, stored as SQLite's signed 64-bit integer.
            entry.digest as i64,
        ])?;
    }
    let mut delete_bodies =
        transaction.prepare_cached("DELETE FROM bodies WHERE object = ?1 AND id = ?2")?;
    let mut delete_files =
        transaction.prepare_cached("DELETE FROM files WHERE object = ?1 AND id = ?2")?;
    for id in &batch.delete_ids {
        delete_bodies.execute(params![object, &**id])?;
        delete_files.execute(params![object, &**id])?;
    }
    if let Some(header) = &batch.header {
        write_header(transaction, object, header)?;
    }
    let numbers = write_journal(transaction, &batch.journal)?;
    Ok(numbers)
}

fn write_journal(
    transaction: &Transaction<'_>,
    entries: &[JournalEntry],
) -> Result<Vec<u64>, rusqlite::Error> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let mut insert = transaction.prepare_cached(
        "INSERT INTO journal (at, kind, object, id, path, old_path) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut numbers = Vec::with_capacity(entries.len());
    for entry in entries {
        insert.execute(params![
            to_nanos(entry.at),
            entry.kind.word(),
            entry.object,
            entry.id,
            entry.path,
            entry.old_path,
        ])?;
        numbers.push(transaction.last_insert_rowid().max(0) as u64);
    }
    let keep = JOURNAL_KEEP as i64;
    transaction.execute(
        "DELETE FROM journal WHERE seq <= (SELECT MAX(seq) FROM journal) - ?1",
        params![keep],
    )?;
    Ok(numbers)
}

fn write_header(
    transaction: &Transaction<'_>,
    object: &str,
    header: &FolderHeader,
) -> Result<(), rusqlite::Error> {
    transaction
        .prepare_cached(
            "INSERT OR REPLACE INTO folders
                (object, plan, presentation, complete, watermark, refreshed_at, changed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            object,
            header.plan,
            header.presentation,
            i64::from(header.complete),
            header.watermark.map(to_nanos),
            to_nanos(header.refreshed_at),
            to_nanos(header.changed_at),
        ])
        .map(drop)
}

fn read_header(
    connection: &Connection,
    object: &str,
) -> Result<Option<FolderHeader>, rusqlite::Error> {
    connection
        .prepare_cached(
            "SELECT plan, presentation, complete, watermark, refreshed_at, changed_at
             FROM folders WHERE object = ?1",
        )?
        .query_row(params![object], |row| {
            Ok(FolderHeader {
                plan: row.get(0)?,
                presentation: row.get(1)?,
                complete: row.get::<_, i64>(2)? != 0,
                watermark: row.get::<_, Option<i64>>(3)?.map(from_nanos),
                refreshed_at: from_nanos(row.get(4)?),
                changed_at: from_nanos(row.get(5)?),
            })
        })
        .optional()
}

/// One listing row; `None` for a row of a format this build does not know (never served).
fn file_row(row: &Row<'_>, id: Arc<str>) -> Result<Option<FileEntry>, rusqlite::Error> {
    let format: String = row.get(1)?;
    let Some(format) = FileFormat::from_extension(&format) else {
        return Ok(None);
    };
    Ok(Some(FileEntry {
        ino: 0,
        name: row.get(2)?,
        id,
        format,
        size: row.get::<_, i64>(3)?.max(0) as u64,
        mtime: from_nanos(row.get(4)?),
        ctime: from_nanos(row.get(5)?),
        modstamp: row.get::<_, Option<i64>>(6)?.map(from_nanos),
        digest: row.get::<_, i64>(7)? as u64,
    }))
}

/// One journal row; `None` for a kind this build does not know.
fn journal_row(row: &Row<'_>) -> Result<Option<JournalEntry>, rusqlite::Error> {
    let kind: String = row.get(2)?;
    let Some(kind) = ChangeKind::from_word(&kind) else {
        return Ok(None);
    };
    Ok(Some(JournalEntry {
        seq: row.get::<_, i64>(0)?.max(0) as u64,
        at: from_nanos(row.get(1)?),
        kind,
        object: row.get(3)?,
        id: row.get(4)?,
        path: row.get(5)?,
        old_path: row.get(6)?,
    }))
}

/// Nanoseconds since the epoch; times before it (none in an org) are stored as 0. An i64
/// holds nanoseconds until the year 2262.
fn to_nanos(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
    })
}

fn from_nanos(nanos: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos.max(0) as u64)
}
