//! Open file and directory handles: what each open saw, kept until release.

use crate::sync::lock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::dir::DirSnapshot;

pub(super) enum Handle {
    Dir(Arc<DirSnapshot>),
    /// The bytes of the version opened: every read of this handle is cut from them.
    File(Arc<[u8]>),
}

#[derive(Default)]
pub(super) struct Handles {
    open: Mutex<HashMap<u64, Handle>>,
    next: AtomicU64,
}

impl Handles {
    pub fn insert(&self, handle: Handle) -> u64 {
        // Handle 0 is never given out: with it a FUSE request means "no handle".
        let fh = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        lock(&self.open).insert(fh, handle);
        fh
    }

    pub fn dir(&self, fh: u64) -> Option<Result<Arc<DirSnapshot>, ()>> {
        match lock(&self.open).get(&fh)? {
            Handle::Dir(snapshot) => Some(Ok(snapshot.clone())),
            Handle::File(_) => Some(Err(())),
        }
    }

    pub fn file(&self, fh: u64) -> Option<Result<Arc<[u8]>, ()>> {
        match lock(&self.open).get(&fh)? {
            Handle::File(bytes) => Some(Ok(bytes.clone())),
            Handle::Dir(_) => Some(Err(())),
        }
    }

    pub fn remove(&self, fh: u64) {
        lock(&self.open).remove(&fh);
    }

    pub fn len(&self) -> usize {
        lock(&self.open).len()
    }
}
