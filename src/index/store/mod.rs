//! The durable local store, one per org and run-as user: each folder's listing (its files'
//! names, sizes, times, stamps and digests, with the folder's watermark), the rendered
//! bodies, the describes the client revalidates, and the change journal. A body evicted
//! from memory is read back from disk instead of from Salesforce, and a restarted mount
//! serves the stored listings at once and follows the org from the stored watermark.
//!
//! The index owns the [`LocalStore`] trait and decides what goes in. Rows are keyed by
//! (object, record Id, format), not by inode, because inode numbers are handed out anew on
//! every mount while Ids are the org's own. Nothing in the store is trusted blindly: the
//! index checks a stored body against its listing's size and digest before serving it
//! ([`StoreGuard`] and `bodies.rs`), and a folder is restored only if its listing was
//! complete and was presented by this build the way this mount presents it.
//!
//! `sqlite.rs` is the engine of one mount; a shared, server-backed engine also offers
//! [`Fleet`] (`fleet.rs`), the coordination of the mounts that share it.
//! `postgres/` is that shared engine, for a fleet of mounts of one org.
//! `sqlite/budget.rs` bounds the SQLite engine's body bytes (`max_cache_size`), and
//! `lock.rs` is the one-mount-per-store lock that `cache clear` respects.

mod fleet;
mod guard;
mod lock;
mod postgres;
mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

pub use self::postgres::{redact_url, PostgresStore};
pub use fleet::{Fleet, FleetChange, ListingLock, Published};
pub use guard::{off_runtime, StoreGuard};
pub use lock::{lock_holder, lock_path, LockError, StoreLock, LOCK_FILE_NAME};
pub use sqlite::SqliteStore;

/// Journal entries kept in the store (older ones are dropped as new ones come): about
/// 2 MB of rows, days of changes for a busy org, and what `.sfmount-changes.jsonl` shows.
pub const JOURNAL_KEEP: usize = 10_000;

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

/// A folder's own row: how its listing was made and how far it has followed the org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderHeader {
    /// The listing plan (fields, subqueries, name field) as JSON: a restarted mount compares
    /// it with the plan the org's describes give now, and re-lists the folder if they differ.
    pub plan: String,
    /// How files were presented: this build's version, the formats and the instance URL.
    /// Another presentation means other names or bytes, so the folder is listed afresh.
    pub presentation: String,
    /// False while a first listing is being written: such a folder is never restored.
    pub complete: bool,
    pub watermark: Option<SystemTime>,
    pub refreshed_at: SystemTime,
    pub changed_at: SystemTime,
}

/// A folder as stored: its header and its files in listing order (inodes are not stored:
/// they are handed out anew by each mount).
#[derive(Debug, Clone)]
pub struct StoredFolder {
    pub header: FolderHeader,
    pub files: Vec<FileEntry>,
}

/// What kind of change a journal entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A folder's first listing: every file in it is new (one entry for the folder).
    Listed,
    Added,
    Updated,
    Renamed,
    Removed,
}

impl ChangeKind {
    pub fn word(self) -> &'static str {
        match self {
            ChangeKind::Listed => "listed",
            ChangeKind::Added => "added",
            ChangeKind::Updated => "updated",
            ChangeKind::Renamed => "renamed",
            ChangeKind::Removed => "removed",
        }
    }

    pub fn from_word(word: &str) -> Option<ChangeKind> {
        [
            ChangeKind::Listed,
            ChangeKind::Added,
            ChangeKind::Updated,
            ChangeKind::Renamed,
            ChangeKind::Removed,
        ]
        .into_iter()
        .find(|kind| kind.word() == word)
    }
}

/// One applied change, numbered by the store (or by the index when there is no store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// 0 until the store (or the index) numbers it.
    pub seq: u64,
    pub at: SystemTime,
    pub kind: ChangeKind,
    pub object: String,
    /// The record's Id (empty for a folder's `listed` entry).
    pub id: String,
    /// The file's path inside the mount (the folder's for `listed`).
    pub path: String,
    /// The path before a rename.
    pub old_path: Option<String>,
}

/// What one listing page or one rewrite changes in an object's stored state, written in
/// one transaction (one per record would make a 100,000-record listing pay 100,000 syncs).
#[derive(Debug, Clone, Default)]
pub struct StoreBatch {
    /// Bodies to add or replace.
    pub put: Vec<StoredBody>,
    /// Listing rows to add or replace (the inode is ignored).
    pub files: Vec<FileEntry>,
    /// Records whose rows and bodies (every format) go: deleted in the org.
    pub delete_ids: Vec<Arc<str>>,
    /// The folder's new header, written after the rows: a header never claims more than
    /// the rows written with or before it.
    pub header: Option<FolderHeader>,
    /// Changes to number and keep, in order.
    pub journal: Vec<JournalEntry>,
}

impl StoreBatch {
    /// Adds one listed file: its row and its body.
    pub fn put_file(&mut self, entry: &FileEntry, body: &Arc<[u8]>) {
        self.files.push(entry.clone());
        self.put.push(StoredBody {
            id: entry.id.clone(),
            format: entry.format,
            body: body.clone(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.put.is_empty()
            && self.files.is_empty()
            && self.delete_ids.is_empty()
            && self.header.is_none()
            && self.journal.is_empty()
    }
}

/// What `sfmount cache info` shows of one folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderInfo {
    pub object: String,
    pub complete: bool,
    pub records: u64,
    pub files: u64,
    /// Bytes of the stored bodies.
    pub body_bytes: u64,
    pub refreshed_at: SystemTime,
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
    /// A PostgreSQL store's statement or connection failed. `target` is the URL as it may
    /// be shown (`user@host:port/db`); the server's messages never hold a password.
    #[error("PostgreSQL store {target}: {what}: {}", self::postgres::error_chain(.source))]
    Postgres {
        target: String,
        what: &'static str,
        source: ::postgres::Error,
    },
    /// A PostgreSQL store that cannot be used as it is (a bad URL, a newer schema, a
    /// stored value this build cannot read).
    #[error("PostgreSQL store {target}: {reason}")]
    PostgresUnusable { target: String, reason: String },
}

/// Listings, bodies and the journal on disk, by object, record Id and format.
pub trait LocalStore: Send + Sync {
    /// Applies `batch` to `object` in one transaction: all of it or none. Journal entries
    /// are numbered on the way; the numbers given are returned in order.
    fn apply(&self, object: &str, batch: &StoreBatch) -> Result<Vec<u64>, StoreError>;

    /// The stored body of one record file, if any.
    fn get(
        &self,
        object: &str,
        id: &str,
        format: FileFormat,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Starts `object`'s first listing: forgets its rows and bodies and writes `header`
    /// (not complete), in one transaction.
    fn begin_listing(&self, object: &str, header: &FolderHeader) -> Result<(), StoreError>;

    /// The stored folder of `object`, if any (complete or not: the caller decides).
    fn load_folder(&self, object: &str) -> Result<Option<StoredFolder>, StoreError>;

    /// The newest `limit` journal entries, oldest first.
    fn journal_tail(&self, limit: usize) -> Result<Vec<JournalEntry>, StoreError>;

    /// Per stored folder: records, bytes, when last refreshed.
    fn info(&self) -> Result<Vec<FolderInfo>, StoreError>;

    /// Forgets everything.
    fn clear(&self) -> Result<(), StoreError>;

    /// Whether this engine keeps attached files' bytes (the chunk methods below). An
    /// engine that does not keeps the defaults, and the index then downloads each file
    /// into a temporary file for as long as it is open.
    fn keeps_documents(&self) -> bool {
        false
    }

    /// Keeps chunk number `chunk` of ContentVersion `version_id` (a version's bytes never
    /// change, so the Id is the key), counted in the store's byte bound and evicted least
    /// recently used like bodies. The index writes only whole, checked chunks.
    fn put_document_chunk(
        &self,
        version_id: &str,
        chunk: u64,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let _ = (version_id, chunk, bytes);
        Ok(())
    }

    /// Keeps `object`'s `.files` folders (what records have which documents, as the index
    /// serialises them), replacing what was kept, so a restarted mount shows them at once.
    fn put_document_folders(&self, object: &str, folders: &str) -> Result<(), StoreError> {
        let _ = (object, folders);
        Ok(())
    }

    /// The `.files` folders kept for `object`, if any.
    fn load_document_folders(&self, object: &str) -> Result<Option<String>, StoreError> {
        let _ = object;
        Ok(None)
    }

    /// A kept chunk, if it is still there (the bound may have evicted it).
    fn get_document_chunk(
        &self,
        version_id: &str,
        chunk: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let _ = (version_id, chunk);
        Ok(None)
    }

    /// The coordination of mounts sharing this store, if the engine is shared (a server):
    /// None for a store one mount owns (SQLite).
    fn fleet(&self) -> Option<&dyn Fleet> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_orgs_or_two_users_never_share_a_store() {
        let cache = Path::new("/cache");
        let org_a = "00D000000000001AAA";
        let org_b = "00D000000000002AAA";
        let user_a = "005000000000001AAA";
        let user_b = "005000000000002AAA";
        let paths = [
            store_path(cache, org_a, user_a),
            store_path(cache, org_b, user_a),
            store_path(cache, org_a, user_b),
        ];
        assert_ne!(paths[0], paths[1]);
        assert_ne!(paths[0], paths[2]);
        assert_ne!(paths[1].parent(), paths[2].parent());
        assert!(paths.iter().all(|p| p.starts_with(cache)));
    }
}
