//! Rendered record bodies, bounded by bytes rather than entries: record sizes vary from a
//! few hundred bytes to megabytes (a Case with a long feed), so an entry count says
//! nothing about memory. Each body is charged its bytes plus what keeping it costs
//! ([`ENTRY_OVERHEAD`]), so the budget bounds the memory the cache holds, not only its
//! payload.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use lru::LruCache;

/// What keeping one body costs beyond its bytes: the LRU node (key, `Arc` and two links,
/// 40 bytes in a 48-byte allocation), its hash slot (16 bytes and a control byte, up to
/// half empty after the table grows) and the `Arc`'s two counts with the allocator's
/// header and rounding. About 100 bytes, rounded up: short bodies (a Contact is a few
/// hundred bytes) would otherwise overshoot the budget by a fifth.
pub const ENTRY_OVERHEAD: usize = 128;

/// Bodies keyed by the file's inode number, least recently used evicted first.
pub struct BodyCache {
    entries: LruCache<u64, Arc<[u8]>>,
    /// Bytes charged: every body's length plus [`ENTRY_OVERHEAD`].
    bytes: usize,
    budget: usize,
}

impl BodyCache {
    pub fn new(budget: usize) -> BodyCache {
        BodyCache {
            entries: LruCache::unbounded(),
            bytes: 0,
            budget,
        }
    }

    pub fn get(&mut self, ino: u64) -> Option<Arc<[u8]>> {
        self.entries.get(&ino).cloned()
    }

    /// Stores `body`, evicting the least recently used bodies until the budget holds. A body
    /// costing more than the whole budget is not kept (the caller still has its Arc).
    pub fn insert(&mut self, ino: u64, body: Arc<[u8]>) {
        self.remove(ino);
        if cost(&body) > self.budget {
            return;
        }
        self.bytes += cost(&body);
        self.entries.put(ino, body);
        while self.bytes > self.budget {
            match self.entries.pop_lru() {
                Some((_, evicted)) => self.bytes -= cost(&evicted),
                None => break,
            }
        }
    }

    pub fn remove(&mut self, ino: u64) {
        if let Some(old) = self.entries.pop(&ino) {
            self.bytes -= cost(&old);
        }
    }

    /// Bytes charged against the budget: bodies and their per-entry overhead.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Where the bodies readers asked for came from, and the attached files downloaded: plain
/// counters, bumped where the index decides (`bodies.rs`, `documents.rs`) and read by
/// `/metrics`.
#[derive(Default)]
pub struct BodyStats {
    memory_hits: AtomicU64,
    store_hits: AtomicU64,
    fetched: AtomicU64,
    document_downloads: AtomicU64,
    document_download_failures: AtomicU64,
}

/// The counters of [`BodyStats`] at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BodyStatsSnapshot {
    /// Bodies answered from memory.
    pub memory_hits: u64,
    /// Bodies read back from the local store (a miss in memory).
    pub store_hits: u64,
    /// Bodies that needed a fetch from the org (missed in memory and store), whether this
    /// reader's fetch or one it waited on.
    pub fetched: u64,
    /// Attached files' downloads started (each is one API call).
    pub document_downloads: u64,
    /// Of those, the ones that failed.
    pub document_download_failures: u64,
}

impl BodyStats {
    pub(super) fn memory_hit(&self) {
        self.memory_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn store_hit(&self) {
        self.store_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn fetched(&self) {
        self.fetched.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn document_download(&self) {
        self.document_downloads.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn document_download_failed(&self) {
        self.document_download_failures
            .fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> BodyStatsSnapshot {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        BodyStatsSnapshot {
            memory_hits: get(&self.memory_hits),
            store_hits: get(&self.store_hits),
            fetched: get(&self.fetched),
            document_downloads: get(&self.document_downloads),
            document_download_failures: get(&self.document_download_failures),
        }
    }
}

fn cost(body: &[u8]) -> usize {
    body.len() + ENTRY_OVERHEAD
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(len: usize) -> Arc<[u8]> {
        vec![b'x'; len].into()
    }

    #[test]
    fn evicts_least_recently_used_until_within_budget() {
        let mut cache = BodyCache::new(2 * (40 + ENTRY_OVERHEAD) + 20);
        cache.insert(1, body(40));
        cache.insert(2, body(40));
        assert!(cache.get(1).is_some()); // 1 is now the most recent
        cache.insert(3, body(40));
        assert!(cache.get(2).is_none(), "2 was least recently used");
        assert!(cache.get(1).is_some());
        assert!(cache.get(3).is_some());
        assert_eq!(cache.bytes(), 2 * (40 + ENTRY_OVERHEAD));
    }

    #[test]
    fn replacing_a_body_counts_bytes_once() {
        let mut cache = BodyCache::new(1000);
        cache.insert(1, body(60));
        cache.insert(1, body(30));
        assert_eq!(cache.bytes(), 30 + ENTRY_OVERHEAD);
        cache.remove(1);
        assert_eq!(cache.bytes(), 0);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_body_over_budget_is_not_kept() {
        let mut cache = BodyCache::new(ENTRY_OVERHEAD + 10);
        cache.insert(1, body(5));
        cache.insert(2, body(11));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.bytes(), 5 + ENTRY_OVERHEAD);
    }

    #[test]
    fn many_short_bodies_are_bounded_by_their_overhead_too() {
        // 1,000 empty bodies would cost nothing by length alone.
        let mut cache = BodyCache::new(100 * ENTRY_OVERHEAD);
        for ino in 0..1000 {
            cache.insert(ino, body(0));
        }
        assert_eq!(cache.len(), 100);
        assert_eq!(cache.bytes(), 100 * ENTRY_OVERHEAD);
        assert!(cache.get(999).is_some() && cache.get(899).is_none());
    }
}
