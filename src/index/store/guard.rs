//! The index's hold on its store: optional (a memory-only mount has none) and never a
//! reason to fail. A store error is logged once (a full disk would otherwise log on every
//! read) and the operation goes on from memory or the org.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{BodyStore, StoreBatch, StoreError};
use crate::index::FileFormat;

/// The store, if any, and whether its failure was already reported.
pub struct StoreGuard {
    store: Option<Arc<dyn BodyStore>>,
    reported: AtomicBool,
}

impl StoreGuard {
    pub fn new(store: Option<Arc<dyn BodyStore>>) -> StoreGuard {
        StoreGuard {
            store,
            reported: AtomicBool::new(false),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.store.is_some()
    }

    /// Writes `batch` (one transaction); a failure leaves the bodies in memory only.
    pub fn write(&self, object: &str, batch: &StoreBatch) {
        if let Some(store) = &self.store {
            if !batch.is_empty() {
                self.report(store.apply(object, batch));
            }
        }
    }

    /// The stored body of a record file; `None` when absent or unreadable.
    pub fn read(&self, object: &str, id: &str, format: FileFormat) -> Option<Vec<u8>> {
        let store = self.store.as_ref()?;
        self.report(store.get(object, id, format)).flatten()
    }

    /// Forgets `object`'s bodies before its first listing writes them anew, so records
    /// deleted while nothing was mounted do not stay on disk.
    pub fn clear_object(&self, object: &str) {
        if let Some(store) = &self.store {
            self.report(store.clear_object(object));
        }
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
