//! The index's hold on its store: optional (a memory-only mount has none) and never a
//! reason to fail. A store error is logged once (a full disk would otherwise log on every
//! read) and the operation goes on from memory or the org.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{FolderHeader, JournalEntry, LocalStore, StoreBatch, StoreError, StoredFolder};
use crate::index::FileFormat;

/// The store, if any, and whether its failure was already reported.
pub struct StoreGuard {
    store: Option<Arc<dyn LocalStore>>,
    reported: AtomicBool,
}

impl StoreGuard {
    pub fn new(store: Option<Arc<dyn LocalStore>>) -> StoreGuard {
        StoreGuard {
            store,
            reported: AtomicBool::new(false),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.store.is_some()
    }

    /// Writes `batch` (one transaction) and returns the journal numbers it was given; `None`
    /// without a store or when the write failed (the change is then in memory only).
    pub fn write(&self, object: &str, batch: &StoreBatch) -> Option<Vec<u64>> {
        let store = self.store.as_ref()?;
        if batch.is_empty() {
            return Some(Vec::new());
        }
        self.report(store.apply(object, batch))
    }

    /// The stored body of a record file; `None` when absent or unreadable.
    pub fn read(&self, object: &str, id: &str, format: FileFormat) -> Option<Vec<u8>> {
        let store = self.store.as_ref()?;
        self.report(store.get(object, id, format)).flatten()
    }

    /// Forgets `object`'s rows and bodies before its first listing writes them anew (so
    /// records deleted while nothing was mounted do not stay on disk), marking the folder
    /// incomplete until the listing's last page is written.
    pub fn begin_listing(&self, object: &str, header: &FolderHeader) {
        if let Some(store) = &self.store {
            self.report(store.begin_listing(object, header));
        }
    }

    /// The stored folder of `object`; `None` when absent or unreadable.
    pub fn load_folder(&self, object: &str) -> Option<StoredFolder> {
        let store = self.store.as_ref()?;
        self.report(store.load_folder(object)).flatten()
    }

    /// The newest journal entries, oldest first (empty without a store).
    pub fn journal_tail(&self, limit: usize) -> Vec<JournalEntry> {
        match &self.store {
            Some(store) => self.report(store.journal_tail(limit)).unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// Whether attached files' bytes go to the store (else to temporary files).
    pub fn keeps_documents(&self) -> bool {
        self.store
            .as_ref()
            .is_some_and(|store| store.keeps_documents())
    }

    /// Keeps a chunk of an attached file; false when it could not be kept.
    pub fn put_document_chunk(&self, version_id: &str, chunk: u64, bytes: &[u8]) -> bool {
        match &self.store {
            Some(store) => self
                .report(store.put_document_chunk(version_id, chunk, bytes))
                .is_some(),
            None => false,
        }
    }

    /// A kept chunk of an attached file; `None` when absent or unreadable.
    pub fn document_chunk(&self, version_id: &str, chunk: u64) -> Option<Vec<u8>> {
        let store = self.store.as_ref()?;
        self.report(store.get_document_chunk(version_id, chunk))
            .flatten()
    }

    /// Keeps `object`'s `.files` folders (serialised by the index).
    pub fn put_document_folders(&self, object: &str, folders: &str) {
        if let Some(store) = &self.store {
            self.report(store.put_document_folders(object, folders));
        }
    }

    /// The `.files` folders kept for `object`.
    pub fn document_folders(&self, object: &str) -> Option<String> {
        let store = self.store.as_ref()?;
        self.report(store.load_document_folders(object)).flatten()
    }

    fn report<T>(&self, result: Result<T, StoreError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                if !self.reported.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = %error,
                        "the local store failed; serving from memory and the org \
                         (further store errors are logged at debug level)"
                    );
                } else {
                    tracing::debug!(error = %error, "the local store failed again");
                }
                None
            }
        }
    }
}
