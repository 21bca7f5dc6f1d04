//! Rendered record bodies, bounded by bytes rather than entries: record sizes vary from a
//! few hundred bytes to megabytes (a Case with a long feed), so an entry count says
//! nothing about memory.

use std::sync::Arc;

use lru::LruCache;

/// Bodies keyed by the file's inode number, least recently used evicted first.
pub struct BodyCache {
    entries: LruCache<u64, Arc<[u8]>>,
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
    /// larger than the whole budget is not kept (the caller still has its Arc).
    pub fn insert(&mut self, ino: u64, body: Arc<[u8]>) {
        if let Some(old) = self.entries.pop(&ino) {
            self.bytes -= old.len();
        }
        if body.len() > self.budget {
            return;
        }
        self.bytes += body.len();
        self.entries.put(ino, body);
        while self.bytes > self.budget {
            match self.entries.pop_lru() {
                Some((_, evicted)) => self.bytes -= evicted.len(),
                None => break,
            }
        }
    }

    pub fn remove(&mut self, ino: u64) {
        if let Some(old) = self.entries.pop(&ino) {
            self.bytes -= old.len();
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn body(len: usize) -> Arc<[u8]> {
        vec![b'x'; len].into()
    }

    #[test]
    fn evicts_least_recently_used_until_within_budget() {
        let mut cache = BodyCache::new(100);
        cache.insert(1, body(40));
        cache.insert(2, body(40));
        assert!(cache.get(1).is_some()); // 1 is now the most recent
        cache.insert(3, body(40));
        assert!(cache.get(2).is_none(), "2 was least recently used");
        assert!(cache.get(1).is_some());
        assert!(cache.get(3).is_some());
        assert_eq!(cache.bytes(), 80);
    }

    #[test]
    fn replacing_a_body_counts_bytes_once() {
        let mut cache = BodyCache::new(100);
        cache.insert(1, body(60));
        cache.insert(1, body(30));
        assert_eq!(cache.bytes(), 30);
        cache.remove(1);
        assert_eq!(cache.bytes(), 0);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_body_over_budget_is_not_kept() {
        let mut cache = BodyCache::new(10);
        cache.insert(1, body(5));
        cache.insert(2, body(11));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.bytes(), 5);
    }
}
