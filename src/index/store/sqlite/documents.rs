//! Attached files' bytes in the store: one row per chunk of a ContentVersion, written by
//! the index as a download streams in and read back for every read of the file, so a
//! document read once is served from disk afterwards, across restarts too.

use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::index::store::StoreError;

impl SqliteStore {
    /// Keeps one chunk, stamped as just used, then keeps the store under its bound.
    pub(super) fn put_chunk(
        &self,
        version_id: &str,
        chunk: u64,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        self.with(|connection| {
            let transaction = connection.transaction()?;
            let stamp = self.before_write(&transaction)?;
            transaction
                .prepare_cached(
                    "INSERT OR REPLACE INTO document_chunks (version_id, chunk, bytes, used)
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![version_id, chunk as i64, bytes, stamp])?;
            self.after_write(&transaction)?;
            transaction.commit()
        })
    }

    /// One chunk, if kept. With a bound, its use is stamped at once: a chunk is a
    /// megabyte read, next to which one small update is noise.
    pub(super) fn get_chunk(
        &self,
        version_id: &str,
        chunk: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|connection| {
            let bytes: Option<Vec<u8>> = connection
                .prepare_cached(
                    "SELECT bytes FROM document_chunks WHERE version_id = ?1 AND chunk = ?2",
                )?
                .query_row(params![version_id, chunk as i64], |row| row.get(0))
                .optional()?;
            if bytes.is_some() {
                let stamp = {
                    let mut usage = crate::sync::lock(&self.usage);
                    usage.limit().map(|_| usage.tick())
                };
                if let Some(stamp) = stamp {
                    connection
                        .prepare_cached(
                            "UPDATE document_chunks SET used = ?1
                             WHERE version_id = ?2 AND chunk = ?3",
                        )?
                        .execute(params![stamp, version_id, chunk as i64])?;
                }
            }
            Ok(bytes)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::index::store::{LocalStore, SqliteStore};

    #[test]
    fn chunks_are_kept_counted_in_the_bound_and_evicted_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("store.sqlite3")).unwrap();
        assert!(store.keeps_documents());
        let chunk = vec![7u8; 1000];
        for k in 0..3 {
            store.put_document_chunk("068A", k, &chunk).unwrap();
        }
        assert_eq!(store.body_bytes().unwrap(), 3000);
        assert_eq!(
            store.get_document_chunk("068A", 1).unwrap(),
            Some(chunk.clone())
        );
        assert_eq!(store.get_document_chunk("068A", 3).unwrap(), None);
        // Chunk 0 is read again, so chunk 1 is the least recently used after 2.
        store.set_body_limit(Some(10_000)).unwrap();
        store.get_document_chunk("068A", 0).unwrap();
        store.set_body_limit(Some(2_500)).unwrap();
        assert!(store.body_bytes().unwrap() <= 2_500);
        assert_eq!(store.get_document_chunk("068A", 1).unwrap(), None);
        assert!(store.get_document_chunk("068A", 0).unwrap().is_some());
        store.clear().unwrap();
        assert_eq!(store.body_bytes().unwrap(), 0);
        assert_eq!(store.get_document_chunk("068A", 0).unwrap(), None);
    }
}
