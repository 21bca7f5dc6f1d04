//! Attached files' bytes and each object's `.files` folders in the shared store, as the
//! SQLite engine keeps them (`sqlite/documents.rs`): a document one mount of a fleet
//! downloaded is read from the database by the others, and a follower that lists a folder
//! from the store shows its `.files` folders at once. The shared store has no byte bound
//! (its operator sizes the database), so chunks stay until the store is cleared.

use super::PostgresStore;
use crate::index::store::StoreError;

impl PostgresStore {
    pub(super) fn put_chunk(
        &self,
        version_id: &str,
        chunk: u64,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let chunk = i64::try_from(chunk).unwrap_or(i64::MAX);
        self.with("keeping a chunk of an attached file", |conn| {
            conn.client.execute(
                "INSERT INTO sfmount.document_chunks (store_key, version_id, chunk, bytes)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (store_key, version_id, chunk) DO UPDATE SET bytes = EXCLUDED.bytes",
                &[&self.store_key, &version_id, &chunk, &bytes],
            )
        })
        .map(drop)
    }

    pub(super) fn get_chunk(
        &self,
        version_id: &str,
        chunk: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let chunk = i64::try_from(chunk).unwrap_or(i64::MAX);
        self.with("reading a chunk of an attached file", |conn| {
            conn.client
                .query_opt(
                    "SELECT bytes FROM sfmount.document_chunks
                     WHERE store_key = $1 AND version_id = $2 AND chunk = $3",
                    &[&self.store_key, &version_id, &chunk],
                )
                .map(|row| row.map(|row| row.get(0)))
        })
    }

    pub(super) fn put_folders(&self, object: &str, folders: &str) -> Result<(), StoreError> {
        self.with("keeping a folder's attached files", |conn| {
            conn.client.execute(
                "INSERT INTO sfmount.document_folders (store_key, object, folders)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (store_key, object) DO UPDATE SET folders = EXCLUDED.folders",
                &[&self.store_key, &object, &folders],
            )
        })
        .map(drop)
    }

    pub(super) fn load_folders(&self, object: &str) -> Result<Option<String>, StoreError> {
        self.with("reading a folder's attached files", |conn| {
            conn.client
                .query_opt(
                    "SELECT folders FROM sfmount.document_folders
                     WHERE store_key = $1 AND object = $2",
                    &[&self.store_key, &object],
                )
                .map(|row| row.map(|row| row.get(0)))
        })
    }
}
