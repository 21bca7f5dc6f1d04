//! Operations that wait on Salesforce (a first listing, a body fetched again) run on their
//! own thread and reply from there (fuser's reply objects may be sent across threads), so
//! the session's FUSE threads stay free for everything the mount can answer at once.
//! Each waiting operation ends by the index's operation deadline, so its thread does too.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// At most this many operations wait on their own threads; past it they wait on the FUSE
/// thread that received them, as without offloading. A wait costs a thread's stack
/// (mostly untouched, so little memory); 64 covers a parallel `find` or an indexer's
/// burst of first listings with room, and bounds a pathological flood.
pub const MAX_WAITING: usize = 64;

#[derive(Default)]
pub struct Waiters {
    running: Arc<AtomicUsize>,
}

/// Gives the slot back when the waiting thread ends, however it ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Waiters {
    /// Runs `work` on a thread of its own when a slot is free (true), else here (false).
    pub fn run(&self, work: impl FnOnce() + Send + 'static) -> bool {
        if self.running.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
            self.running.fetch_sub(1, Ordering::AcqRel);
            work();
            return false;
        }
        let slot = Slot(self.running.clone());
        let spawned = std::thread::Builder::new()
            .name("sfmount-wait".to_string())
            .spawn(move || {
                let _slot = slot;
                work();
            });
        if let Err(error) = spawned {
            // The work (and the reply in it) is dropped: fuser answers a dropped reply
            // with EIO, so the caller still gets an answer.
            tracing::warn!(%error, "cannot start a waiting thread");
        }
        true
    }

    /// Operations waiting on their own threads now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }
}
