//! A bounded, least-recently-used cache: at most so many entries and so
//! many bytes (each entry's size is given when it is put in), shared
//! between threads.
//!
//! What is kept in one is decided by its key alone, so a key must say
//! everything the value depends on (for a child's page: the person, the
//! last log index of their chronology, the reader's scope and the day; see
//! [`crate::guard::record`]). A value is never changed in place: a new
//! event makes a new key, and the entry of the old key is simply no longer
//! asked for and falls out of the cache.

use hashlink::LruCache;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// How full a cache is and how it has been used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub entries: usize,
    pub bytes: usize,
    pub hits: u64,
    pub misses: u64,
}

struct Inner<K: Hash + Eq, V> {
    lru: LruCache<K, (Arc<V>, usize)>,
    bytes: usize,
    hits: u64,
    misses: u64,
}

/// At most `max_entries` values and `max_bytes` bytes (as their sizes were
/// given); putting one in evicts the least recently used until both hold.
pub struct Bounded<K: Hash + Eq, V> {
    inner: Mutex<Inner<K, V>>,
    max_entries: usize,
    max_bytes: usize,
}

impl<K: Hash + Eq, V> Bounded<K, V> {
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Bounded {
            inner: Mutex::new(Inner {
                lru: LruCache::new_unbounded(),
                bytes: 0,
                hits: 0,
                misses: 0,
            }),
            max_entries,
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        // A panic while holding the lock leaves the map consistent (every
        // change below is one call), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value kept under `key`, if any (and it becomes the most recent).
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        let mut g = self.lock();
        let found = g.lru.get(key).map(|(v, _)| Arc::clone(v));
        if found.is_some() {
            g.hits += 1;
        } else {
            g.misses += 1;
        }
        found
    }

    /// Keeps `value` under `key` as `bytes` bytes; a value bigger than the
    /// whole cache is not kept.
    pub fn put(&self, key: K, value: Arc<V>, bytes: usize) {
        if self.max_entries == 0 || bytes > self.max_bytes {
            return;
        }
        let mut g = self.lock();
        if let Some((_, old)) = g.lru.insert(key, (value, bytes)) {
            g.bytes -= old;
        }
        g.bytes += bytes;
        while g.lru.len() > self.max_entries || g.bytes > self.max_bytes {
            match g.lru.remove_lru() {
                Some((_, (_, b))) => g.bytes -= b,
                None => break,
            }
        }
    }

    pub fn stats(&self) -> CacheStats {
        let g = self.lock();
        CacheStats {
            entries: g.lru.len(),
            bytes: g.bytes,
            hits: g.hits,
            misses: g.misses,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_bytes_stay_within_their_bounds() {
        let c: Bounded<u32, String> = Bounded::new(3, 100);
        for i in 0..10 {
            c.put(i, Arc::new(i.to_string()), 10);
            let s = c.stats();
            assert!(s.entries <= 3 && s.bytes <= 100, "{s:?}");
        }
        // The three most recent are kept.
        assert!(c.get(&6).is_none());
        for i in 7..10 {
            assert_eq!(
                c.get(&i).as_deref().map(String::as_str),
                Some(&*i.to_string())
            );
        }
        // Bytes bind before entries: two of 40 fit in 100, a third evicts.
        let c: Bounded<u32, ()> = Bounded::new(10, 100);
        c.put(1, Arc::new(()), 40);
        c.put(2, Arc::new(()), 40);
        c.get(&1); // 2 is now the least recently used
        c.put(3, Arc::new(()), 40);
        assert!(c.get(&2).is_none());
        assert!(c.get(&1).is_some() && c.get(&3).is_some());
        assert_eq!(c.stats().bytes, 80);
        // Too big for the whole cache: not kept, nothing evicted.
        c.put(4, Arc::new(()), 101);
        assert!(c.get(&4).is_none());
        assert_eq!(c.stats().entries, 2);
        // Replacing a key counts its bytes once.
        c.put(1, Arc::new(()), 10);
        assert_eq!(c.stats().bytes, 50);
        // A cache of no entries keeps nothing.
        let c: Bounded<u32, ()> = Bounded::new(0, 100);
        c.put(1, Arc::new(()), 1);
        assert!(c.get(&1).is_none());
    }
}
