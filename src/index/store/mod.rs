//! The durable local store of rendered bodies, one per org and run-as user, so a body
//! evicted from memory is read back from disk instead of from Salesforce.
//!
//! The index owns the [`BodyStore`] trait and decides what goes in: the store only keeps
//! bytes under a key. Bodies are keyed by (object, record Id, format), not by inode, because
//! inode numbers are handed out anew on every mount while Ids are the org's own. Nothing in
//! the store is trusted blindly: the index checks a stored body against its listing's size
//! and digest before serving it ([`StoreGuard`] and `bodies.rs`).
//!
//! `sqlite.rs` is the one engine today; the trait is small so that a shared, server-backed
//! store can follow.

mod guard;
mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use guard::StoreGuard;
pub use sqlite::SqliteStore;

use super::{FileEntry, FileFormat};

/// The file name of the store inside its org's folder.
pub const STORE_FILE_NAME: &str = "store.sqlite3";

/// Where the store of one org and run-as user lives under `cache_dir`:
/// `<cache_dir>/<orgId>-<userId>/store.sqlite3`. Two users of one org get two stores,
/// since what a user may read is what that user's session returned.
pub fn store_path(cache_dir: &Path, org_id: &str, user_id: &str) -> PathBuf {
    cache_dir
        .join(format!("{org_id}-{user_id}"))
        .join(STORE_FILE_NAME)
}

/// One rendered body to keep.
#[derive(Debug, Clone)]
pub struct StoredBody {
    pub id: Arc<str>,
    pub format: FileFormat,
    pub body: Arc<[u8]>,
}

/// What one listing page or one rewrite changes in an object's stored bodies, written in
/// one transaction (one per record would make a 100,000-record listing pay 100,000 syncs).
#[derive(Debug, Clone, Default)]
pub struct StoreBatch {
    /// Bodies to add or replace.
    pub put: Vec<StoredBody>,
    /// Records whose bodies (every format) go: deleted in the org.
    pub delete_ids: Vec<Arc<str>>,
}

impl StoreBatch {
    /// Adds the body of one listed file.
    pub fn put_file(&mut self, entry: &FileEntry, body: &Arc<[u8]>) {
        self.put.push(StoredBody {
            id: entry.id.clone(),
            format: entry.format,
            body: body.clone(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.put.is_empty() && self.delete_ids.is_empty()
    }
}

/// A store problem. The index never fails a filesystem operation because of one: it logs
/// it and serves from memory or the org.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot prepare the store folder {}: {source}", path.display())]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("store {} is unreadable even after a fresh start: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("store {} was unreadable ({reason}) and could not be set aside: {source}", path.display())]
    SetAside {
        path: PathBuf,
        reason: String,
        source: std::io::Error,
    },
}

/// Rendered bodies on disk, by object, record Id and format.
pub trait BodyStore: Send + Sync {
    /// Applies `batch` to `object`'s bodies in one transaction: all of it or none.
    fn apply(&self, object: &str, batch: &StoreBatch) -> Result<(), StoreError>;

    /// The stored body of one record file, if any.
    fn get(
        &self,
        object: &str,
        id: &str,
        format: FileFormat,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Forgets every body of `object` (before its first listing rewrites them all).
    fn clear_object(&self, object: &str) -> Result<(), StoreError>;

    /// Forgets every body.
    fn clear(&self) -> Result<(), StoreError>;
}
