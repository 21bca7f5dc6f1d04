//! The [`LocalStore`] and [`DescribeStore`] operations as SQL over `schema.rs`, each
//! filtered by the store key. A batch travels as arrays (`UNNEST`), so a listing page of
//! thousands of rows costs a few round trips, not one per row.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use postgres::Transaction;

use super::session::Conn;
use super::PostgresStore;
use crate::index::store::{
    ChangeKind, Fleet, FolderHeader, FolderInfo, JournalEntry, LocalStore, StoreBatch, StoreError,
    StoredFolder, JOURNAL_KEEP,
};
use crate::index::{FileEntry, FileFormat};
use crate::salesforce::{DescribeStore, StoredDescribe};

impl LocalStore for PostgresStore {
    fn apply(&self, object: &str, batch: &StoreBatch) -> Result<Vec<u64>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let columns = Columns::of(batch);
        self.with("writing a batch", |conn| {
            let mut transaction = conn.client.transaction()?;
            let numbers = write_batch(&mut transaction, &self.store_key, object, &columns)?;
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
        self.with("reading a body", |conn| {
            let statement = conn.statement(
                "SELECT body FROM sfmount.bodies
                 WHERE store_key = $1 AND object = $2 AND id = $3 AND format = $4",
            )?;
            let row = conn.client.query_opt(
                &statement,
                &[&self.store_key, &object, &id, &format.extension()],
            )?;
            Ok(row.map(|row| row.get(0)))
        })
    }

    fn begin_listing(&self, object: &str, header: &FolderHeader) -> Result<(), StoreError> {
        self.with("starting a listing", |conn| {
            let mut transaction = conn.client.transaction()?;
            let key = &self.store_key;
            transaction.execute(
                "DELETE FROM sfmount.files WHERE store_key = $1 AND object = $2",
                &[key, &object],
            )?;
            transaction.execute(
                "DELETE FROM sfmount.bodies WHERE store_key = $1 AND object = $2",
                &[key, &object],
            )?;
            write_header(&mut transaction, key, object, header)?;
            transaction.commit()
        })
    }

    fn load_folder(&self, object: &str) -> Result<Option<StoredFolder>, StoreError> {
        self.with("reading a folder", |conn| {
            let key = &self.store_key;
            let Some(header) = read_header(conn, key, object)? else {
                return Ok(None);
            };
            let rows = conn.client.query(
                "SELECT id, format, name, size, mtime, ctime, modstamp, digest
                 FROM sfmount.files WHERE store_key = $1 AND object = $2 ORDER BY pos",
                &[key, &object],
            )?;
            let mut files = Vec::with_capacity(rows.len());
            let mut last_id: Option<Arc<str>> = None;
            for row in rows {
                // One Arc per record, shared by its files as in a listing built in memory.
                let id: &str = row.get(0);
                let id = match &last_id {
                    Some(last) if **last == *id => last.clone(),
                    _ => Arc::<str>::from(id),
                };
                last_id = Some(id.clone());
                let Some(format) = FileFormat::from_extension(row.get(1)) else {
                    continue; // a format this build does not know is never served
                };
                files.push(FileEntry {
                    ino: 0,
                    name: row.get(2),
                    id,
                    format,
                    size: row.get::<_, i64>(3).max(0) as u64,
                    mtime: from_nanos(row.get(4)),
                    ctime: from_nanos(row.get(5)),
                    modstamp: row.get::<_, Option<i64>>(6).map(from_nanos),
                    digest: row.get::<_, i64>(7) as u64,
                });
            }
            Ok(Some(StoredFolder { header, files }))
        })
    }

    fn journal_tail(&self, limit: usize) -> Result<Vec<JournalEntry>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with("reading the journal", |conn| {
            let rows = conn.client.query(
                "SELECT seq, at, kind, object, id, path, old_path FROM sfmount.journal
                 WHERE store_key = $1 ORDER BY seq DESC LIMIT $2",
                &[&self.store_key, &limit],
            )?;
            let mut entries: Vec<JournalEntry> = rows
                .iter()
                .filter_map(|row| {
                    Some(JournalEntry {
                        seq: row.get::<_, i64>(0).max(0) as u64,
                        at: from_nanos(row.get(1)),
                        kind: ChangeKind::from_word(row.get(2))?,
                        object: row.get(3),
                        id: row.get(4),
                        path: row.get(5),
                        old_path: row.get(6),
                    })
                })
                .collect();
            entries.reverse();
            Ok(entries)
        })
    }

    fn info(&self) -> Result<Vec<FolderInfo>, StoreError> {
        self.with("reading the store's folders", |conn| {
            let rows = conn.client.query(
                "SELECT f.object, f.complete, f.refreshed_at,
                    (SELECT COUNT(DISTINCT id) FROM sfmount.files
                        WHERE store_key = f.store_key AND object = f.object),
                    (SELECT COUNT(*) FROM sfmount.files
                        WHERE store_key = f.store_key AND object = f.object),
                    (SELECT COALESCE(SUM(octet_length(body)), 0)::BIGINT FROM sfmount.bodies
                        WHERE store_key = f.store_key AND object = f.object)
                 FROM sfmount.folders f WHERE f.store_key = $1 ORDER BY f.object",
                &[&self.store_key],
            )?;
            Ok(rows
                .iter()
                .map(|row| FolderInfo {
                    object: row.get(0),
                    complete: row.get(1),
                    refreshed_at: from_nanos(row.get(2)),
                    records: row.get::<_, i64>(3).max(0) as u64,
                    files: row.get::<_, i64>(4).max(0) as u64,
                    body_bytes: row.get::<_, i64>(5).max(0) as u64,
                })
                .collect())
        })
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.with("clearing the store", |conn| {
            let mut transaction = conn.client.transaction()?;
            for table in [
                "bodies",
                "files",
                "folders",
                "journal",
                "describes",
                "document_chunks",
                "document_folders",
            ] {
                transaction.execute(
                    &format!("DELETE FROM sfmount.{table} WHERE store_key = $1"),
                    &[&self.store_key],
                )?;
            }
            transaction.commit()
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

    fn get_document_chunk(
        &self,
        version_id: &str,
        chunk: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.get_chunk(version_id, chunk)
    }

    fn put_document_folders(&self, object: &str, folders: &str) -> Result<(), StoreError> {
        self.put_folders(object, folders)
    }

    fn load_document_folders(&self, object: &str) -> Result<Option<String>, StoreError> {
        self.load_folders(object)
    }

    fn fleet(&self) -> Option<&dyn Fleet> {
        Some(self)
    }
}

/// Describes kept for the client, as the SQLite engine keeps them. A failure costs a
/// download, never a describe.
impl DescribeStore for PostgresStore {
    fn hold(&self, key: &str, deadline: std::time::Duration) -> Option<Box<dyn Send>> {
        use crate::index::store::Fleet;
        match self.lock_listing(&format!("describe {key}"), deadline) {
            Ok(held) => Some(Box::new(held)),
            Err(error) => {
                tracing::debug!(%error, "cannot hold a describe for the fleet; fetching it anyway");
                None
            }
        }
    }

    fn load(&self, key: &str) -> Option<StoredDescribe> {
        let kept = self.with("reading a describe", |conn| {
            conn.client.query_opt(
                "SELECT last_modified, body FROM sfmount.describes
                 WHERE store_key = $1 AND key = $2",
                &[&self.store_key, &key],
            )
        });
        match kept {
            Ok(row) => row.map(|row| StoredDescribe {
                last_modified: row.get(0),
                body: row.get(1),
            }),
            Err(error) => {
                tracing::debug!(%error, "cannot read a kept describe");
                None
            }
        }
    }

    fn save(&self, key: &str, describe: &StoredDescribe) {
        let saved = self.with("keeping a describe", |conn| {
            conn.client.execute(
                "INSERT INTO sfmount.describes (store_key, key, last_modified, body)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (store_key, key) DO UPDATE
                    SET last_modified = EXCLUDED.last_modified, body = EXCLUDED.body",
                &[
                    &self.store_key,
                    &key,
                    &describe.last_modified,
                    &describe.body,
                ],
            )
        });
        if let Err(error) = saved {
            tracing::debug!(%error, "cannot keep a describe");
        }
    }
}

impl PostgresStore {
    /// A fact about the store itself (the instance URL a mount started offline needs).
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.with("reading a store fact", |conn| {
            Ok(conn
                .client
                .query_opt(
                    "SELECT value FROM sfmount.meta WHERE store_key = $1 AND key = $2",
                    &[&self.store_key, &key],
                )?
                .map(|row| row.get(0)))
        })
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.with("keeping a store fact", |conn| {
            conn.client
                .execute(
                    "INSERT INTO sfmount.meta (store_key, key, value) VALUES ($1, $2, $3)
                     ON CONFLICT (store_key, key) DO UPDATE SET value = EXCLUDED.value",
                    &[&self.store_key, &key, &value],
                )
                .map(drop)
        })
    }
}

/// A batch as column arrays. Within one batch a body or a file may come twice: as in
/// SQLite the last one's values win, and a file keeps the place of its first row
/// (PostgreSQL refuses to upsert one row twice in one statement, so duplicates are
/// merged here).
struct Columns {
    body_ids: Vec<String>,
    body_formats: Vec<&'static str>,
    bodies: Vec<Vec<u8>>,
    file_ids: Vec<String>,
    file_formats: Vec<&'static str>,
    names: Vec<String>,
    sizes: Vec<i64>,
    mtimes: Vec<i64>,
    ctimes: Vec<i64>,
    modstamps: Vec<Option<i64>>,
    digests: Vec<i64>,
    deleted: Vec<String>,
    header: Option<FolderHeader>,
    journal: Vec<JournalEntry>,
}

impl Columns {
    fn of(batch: &StoreBatch) -> Columns {
        let mut body_at: HashMap<(&str, &str), usize> = HashMap::new();
        let mut columns = Columns {
            body_ids: Vec::new(),
            body_formats: Vec::new(),
            bodies: Vec::new(),
            file_ids: Vec::new(),
            file_formats: Vec::new(),
            names: Vec::new(),
            sizes: Vec::new(),
            mtimes: Vec::new(),
            ctimes: Vec::new(),
            modstamps: Vec::new(),
            digests: Vec::new(),
            deleted: batch.delete_ids.iter().map(|id| id.to_string()).collect(),
            header: batch.header.clone(),
            journal: batch.journal.clone(),
        };
        for stored in &batch.put {
            let format = stored.format.extension();
            match body_at.get(&(&*stored.id, format)) {
                Some(&at) => columns.bodies[at] = stored.body.to_vec(),
                None => {
                    body_at.insert((&stored.id, format), columns.bodies.len());
                    columns.body_ids.push(stored.id.to_string());
                    columns.body_formats.push(format);
                    columns.bodies.push(stored.body.to_vec());
                }
            }
        }
        let mut file_at: HashMap<(&str, &str), usize> = HashMap::new();
        for entry in &batch.files {
            let format = entry.format.extension();
            let at = *file_at.entry((&entry.id, format)).or_insert_with(|| {
                columns.file_ids.push(entry.id.to_string());
                columns.file_formats.push(format);
                columns.names.push(String::new());
                columns.sizes.push(0);
                columns.mtimes.push(0);
                columns.ctimes.push(0);
                columns.modstamps.push(None);
                columns.digests.push(0);
                columns.file_ids.len() - 1
            });
            columns.names[at] = entry.name.clone();
            columns.sizes[at] = entry.size as i64;
            columns.mtimes[at] = to_nanos(entry.mtime);
            columns.ctimes[at] = to_nanos(entry.ctime);
            columns.modstamps[at] = entry.modstamp.map(to_nanos);
            // The digest's bits, as PostgreSQL's signed bigint.
            columns.digests[at] = entry.digest as i64;
        }
        columns
    }
}

/// Every part of a batch in the SQLite engine's order: bodies, rows, deletions, then the
/// header (a header never claims more than the rows written with or before it), then the
/// journal. The journal's new numbers, in order.
fn write_batch(
    transaction: &mut Transaction<'_>,
    key: &str,
    object: &str,
    columns: &Columns,
) -> Result<Vec<u64>, postgres::Error> {
    if !columns.bodies.is_empty() {
        transaction.execute(
            "INSERT INTO sfmount.bodies (store_key, object, id, format, body)
             SELECT $1, $2, b.id, b.format, b.body
             FROM UNNEST($3::TEXT[], $4::TEXT[], $5::BYTEA[]) AS b(id, format, body)
             ON CONFLICT (store_key, object, id, format) DO UPDATE SET body = EXCLUDED.body",
            &[
                &key,
                &object,
                &columns.body_ids,
                &columns.body_formats,
                &columns.bodies,
            ],
        )?;
    }
    if !columns.file_ids.is_empty() {
        // ORDER BY the array position, so new rows take their positions in listing order.
        transaction.execute(
            "INSERT INTO sfmount.files
                (store_key, object, id, format, name, size, mtime, ctime, modstamp, digest)
             SELECT $1, $2, f.id, f.format, f.name, f.size, f.mtime, f.ctime, f.modstamp, f.digest
             FROM UNNEST($3::TEXT[], $4::TEXT[], $5::TEXT[], $6::BIGINT[], $7::BIGINT[],
                         $8::BIGINT[], $9::BIGINT[], $10::BIGINT[])
                WITH ORDINALITY AS f(id, format, name, size, mtime, ctime, modstamp, digest, n)
             ORDER BY f.n
             ON CONFLICT (store_key, object, id, format) DO UPDATE SET name = EXCLUDED.name,
                size = EXCLUDED.size, mtime = EXCLUDED.mtime, ctime = EXCLUDED.ctime,
                modstamp = EXCLUDED.modstamp, digest = EXCLUDED.digest",
            &[
                &key,
                &object,
                &columns.file_ids,
                &columns.file_formats,
                &columns.names,
                &columns.sizes,
                &columns.mtimes,
                &columns.ctimes,
                &columns.modstamps,
                &columns.digests,
            ],
        )?;
    }
    if !columns.deleted.is_empty() {
        for table in ["bodies", "files"] {
            transaction.execute(
                &format!(
                    "DELETE FROM sfmount.{table}
                     WHERE store_key = $1 AND object = $2 AND id = ANY($3)"
                ),
                &[&key, &object, &columns.deleted],
            )?;
        }
    }
    if let Some(header) = &columns.header {
        write_header(transaction, key, object, header)?;
    }
    write_journal(transaction, key, &columns.journal)
}

/// Numbers the entries from the store key's counter (one row, locked by the update until
/// the transaction ends, so two writers never take the same numbers) and keeps the
/// newest [`JOURNAL_KEEP`].
fn write_journal(
    transaction: &mut Transaction<'_>,
    key: &str,
    entries: &[JournalEntry],
) -> Result<Vec<u64>, postgres::Error> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let count = entries.len() as i64;
    let last: i64 = transaction
        .query_one(
            "INSERT INTO sfmount.counters (store_key, journal_seq) VALUES ($1, $2)
             ON CONFLICT (store_key) DO UPDATE
                SET journal_seq = sfmount.counters.journal_seq + EXCLUDED.journal_seq
             RETURNING journal_seq",
            &[&key, &count],
        )?
        .get(0);
    let first = last - count + 1;
    let seqs: Vec<i64> = (first..=last).collect();
    let ats: Vec<i64> = entries.iter().map(|e| to_nanos(e.at)).collect();
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.word()).collect();
    let objects: Vec<&str> = entries.iter().map(|e| e.object.as_str()).collect();
    let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    let old_paths: Vec<Option<&str>> = entries.iter().map(|e| e.old_path.as_deref()).collect();
    transaction.execute(
        "INSERT INTO sfmount.journal (store_key, seq, at, kind, object, id, path, old_path)
         SELECT $1, j.* FROM UNNEST($2::BIGINT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[],
                                    $6::TEXT[], $7::TEXT[], $8::TEXT[])
            AS j(seq, at, kind, object, id, path, old_path)",
        &[
            &key, &seqs, &ats, &kinds, &objects, &ids, &paths, &old_paths,
        ],
    )?;
    let keep = JOURNAL_KEEP as i64;
    transaction.execute(
        "DELETE FROM sfmount.journal WHERE store_key = $1 AND seq <= $2",
        &[&key, &(last - keep)],
    )?;
    Ok(seqs.into_iter().map(|seq| seq.max(0) as u64).collect())
}

fn write_header(
    transaction: &mut Transaction<'_>,
    key: &str,
    object: &str,
    header: &FolderHeader,
) -> Result<(), postgres::Error> {
    transaction
        .execute(
            "INSERT INTO sfmount.folders (store_key, object, plan, presentation, complete,
                watermark, refreshed_at, changed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (store_key, object) DO UPDATE SET plan = EXCLUDED.plan,
                presentation = EXCLUDED.presentation, complete = EXCLUDED.complete,
                watermark = EXCLUDED.watermark, refreshed_at = EXCLUDED.refreshed_at,
                changed_at = EXCLUDED.changed_at",
            &[
                &key,
                &object,
                &header.plan,
                &header.presentation,
                &header.complete,
                &header.watermark.map(to_nanos),
                &to_nanos(header.refreshed_at),
                &to_nanos(header.changed_at),
            ],
        )
        .map(drop)
}

fn read_header(
    conn: &mut Conn,
    key: &str,
    object: &str,
) -> Result<Option<FolderHeader>, postgres::Error> {
    let row = conn.client.query_opt(
        "SELECT plan, presentation, complete, watermark, refreshed_at, changed_at
         FROM sfmount.folders WHERE store_key = $1 AND object = $2",
        &[&key, &object],
    )?;
    Ok(row.map(|row| FolderHeader {
        plan: row.get(0),
        presentation: row.get(1),
        complete: row.get(2),
        watermark: row.get::<_, Option<i64>>(3).map(from_nanos),
        refreshed_at: from_nanos(row.get(4)),
        changed_at: from_nanos(row.get(5)),
    }))
}

/// Nanoseconds since the epoch, the SQLite engine's encoding; times before it (none in an
/// org) are stored as 0. An i64 holds nanoseconds until the year 2262.
pub(super) fn to_nanos(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
    })
}

pub(super) fn from_nanos(nanos: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos.max(0) as u64)
}
