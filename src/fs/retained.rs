//! Bytes the filesystem keeps for reads that arrive by inode, with no open handle to hold
//! them (the kernel's no-open mode, see `fuse.rs`): a least-recently-used set bounded by
//! bytes, so the reads of one file are cut from one copy, and a version that is replaced
//! while a reader is part way through still has its bytes (`versions.rs` moves them out of
//! here when that happens).

use std::sync::Arc;

use lru::LruCache;

/// Bytes of files read lately, kept across reads, at most. Record files are 1–10 KB, so
/// this holds a few thousand of them, far more than are being read at any instant; most are
/// the same `Arc`s the index's body cache holds, so the memory this adds beyond that cache
/// is small. An attached document larger than the whole budget is still kept while it is
/// the newest (otherwise each of its reads would download it again).
pub const RECENT_BYTES: usize = 16 << 20;

/// The budget for a mount whose memory cache (the index's body cache) is `cache_bytes`: a
/// quarter of it, so `--memory-cache-size` bounds this store too, and at most
/// [`RECENT_BYTES`].
pub fn recent_budget(cache_bytes: usize) -> usize {
    (cache_bytes / 4).min(RECENT_BYTES)
}

/// What keeping one entry costs beyond its bytes (LRU node, hash slot, `Arc` counts); the
/// same reckoning as the index's body cache.
const ENTRY_OVERHEAD: usize = 128;

pub(super) struct RecentBytes {
    entries: LruCache<u64, Arc<[u8]>>,
    bytes: usize,
    budget: usize,
}

fn cost(bytes: &[u8]) -> usize {
    bytes.len() + ENTRY_OVERHEAD
}

impl RecentBytes {
    pub fn new(budget: usize) -> RecentBytes {
        RecentBytes {
            entries: LruCache::unbounded(),
            bytes: 0,
            budget,
        }
    }

    pub fn get(&mut self, ino: u64) -> Option<Arc<[u8]>> {
        self.entries.get(&ino).cloned()
    }

    /// Whether `ino`'s bytes are kept (tests of the eviction order).
    #[cfg(test)]
    pub fn contains(&self, ino: u64) -> bool {
        self.entries.contains(&ino)
    }

    /// Keeps `bytes` for `ino`, evicting the least recently read until the budget holds
    /// (never the entry just put).
    pub fn insert(&mut self, ino: u64, bytes: Arc<[u8]>) {
        self.remove(ino);
        self.bytes += cost(&bytes);
        self.entries.put(ino, bytes);
        while self.bytes > self.budget && self.entries.len() > 1 {
            match self.entries.pop_lru() {
                Some((_, evicted)) => self.bytes -= cost(&evicted),
                None => break,
            }
        }
    }

    /// Takes `ino`'s bytes out (its version was replaced, or forgotten).
    pub fn remove(&mut self, ino: u64) -> Option<Arc<[u8]>> {
        let bytes = self.entries.pop(&ino)?;
        self.bytes -= cost(&bytes);
        Some(bytes)
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    #[cfg(any(test, feature = "testing"))]
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_evicts_the_least_recently_read_but_never_the_newest() {
        let mut recent = RecentBytes::new(2 * (100 + ENTRY_OVERHEAD));
        recent.insert(1, vec![1u8; 100].into());
        recent.insert(2, vec![2u8; 100].into());
        assert!(recent.get(1).is_some(), "1 read last: 2 is the oldest now");
        recent.insert(3, vec![3u8; 100].into());
        assert!(recent.contains(1) && recent.contains(3) && !recent.contains(2));

        recent.insert(4, vec![4u8; 10_000].into());
        assert!(
            recent.contains(4),
            "larger than the budget, kept while newest"
        );
        assert!(!recent.contains(1) && !recent.contains(3));
        assert_eq!(recent.bytes(), 10_000 + ENTRY_OVERHEAD);
        assert_eq!(recent.remove(4).map(|b| b.len()), Some(10_000));
        assert_eq!(recent.bytes(), 0);
    }
}
