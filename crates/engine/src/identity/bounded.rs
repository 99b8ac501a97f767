//! A hash map with a hard size limit and least-recently-seen eviction, used
//! for every identity table keyed by packet data (devices, IP bindings, DHCP
//! client ids, TLS client certificates).
//!
//! In: entries that know when they were last seen ([`Recency`]). Out: the
//! entries evicted to make room, so the owner can clean its indexes.
//! Eviction is batched: when full, the least recently seen sixteenth
//! (at least one entry) goes at once, found with one selection pass, so an
//! insert costs O(1) amortized instead of a scan per insert. Ties on the
//! last-seen time are broken by key order, so eviction is deterministic.

use std::hash::Hash;

use hashbrown::hash_map::Entry;
use hashbrown::HashMap;

use crate::time::Timestamp;

/// Fraction of the limit evicted at once when the map is full (1/16).
pub const EVICTION_BATCH_DIVISOR: usize = 16;

/// An entry that knows when it was last seen.
pub trait Recency {
    fn last_seen(&self) -> Timestamp;
}

impl<T: Recency> Recency for Box<T> {
    fn last_seen(&self) -> Timestamp {
        (**self).last_seen()
    }
}

/// A map of at most `limit` entries.
#[derive(Debug)]
pub struct BoundedMap<K, V> {
    map: HashMap<K, V, foldhash::fast::RandomState>,
    limit: usize,
}

impl<K: Hash + Eq + Ord + Clone, V: Recency> BoundedMap<K, V> {
    pub fn new(limit: usize) -> Self {
        BoundedMap {
            map: HashMap::with_hasher(foldhash::fast::RandomState::default()),
            limit: limit.max(1),
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Buckets allocated (for memory accounting).
    pub fn capacity(&self) -> usize {
        self.map.capacity()
    }

    pub fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k)
    }

    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.map.get_mut(k)
    }

    pub fn contains_key(&self, k: &K) -> bool {
        self.map.contains_key(k)
    }

    pub fn remove(&mut self, k: &K) -> Option<V> {
        self.map.remove(k)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values()
    }

    pub fn into_values(self) -> impl Iterator<Item = V> {
        self.map.into_values()
    }

    /// The entry of `k`, created with `make` when absent (after evicting the
    /// least recently seen entries into `evicted` if the map is full).
    /// Returns the entry and whether it was created.
    pub fn get_or_insert_with(
        &mut self,
        k: K,
        evicted: &mut Vec<(K, V)>,
        make: impl FnOnce() -> V,
    ) -> (&mut V, bool) {
        if self.map.len() >= self.limit && !self.map.contains_key(&k) {
            self.evict_batch(evicted);
        }
        match self.map.entry(k) {
            Entry::Occupied(o) => (o.into_mut(), false),
            Entry::Vacant(v) => (v.insert(make()), true),
        }
    }

    /// Inserts or replaces `k` (evicting into `evicted` when full).
    pub fn insert(&mut self, k: K, v: V, evicted: &mut Vec<(K, V)>) {
        if self.map.len() >= self.limit && !self.map.contains_key(&k) {
            self.evict_batch(evicted);
        }
        self.map.insert(k, v);
    }

    /// Removes the least recently seen sixteenth of the limit (at least one).
    fn evict_batch(&mut self, evicted: &mut Vec<(K, V)>) {
        let batch = (self.limit / EVICTION_BATCH_DIVISOR).clamp(1, self.map.len().max(1));
        let mut order: Vec<(Timestamp, K)> = self
            .map
            .iter()
            .map(|(k, v)| (v.last_seen(), k.clone()))
            .collect();
        if order.len() > batch {
            order.select_nth_unstable(batch - 1);
            order.truncate(batch);
        }
        for (_, k) in order {
            if let Some(v) = self.map.remove(&k) {
                evicted.push((k, v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct At(i64);
    impl Recency for At {
        fn last_seen(&self) -> Timestamp {
            Timestamp(self.0)
        }
    }

    #[test]
    fn never_exceeds_the_limit_and_evicts_the_oldest() {
        let mut m: BoundedMap<u32, At> = BoundedMap::new(32);
        let mut evicted = Vec::new();
        for i in 0..1000u32 {
            m.insert(i, At(i64::from(i)), &mut evicted);
            assert!(m.len() <= 32);
        }
        assert_eq!(evicted.len() + m.len(), 1000);
        // The survivors are the most recent ones.
        assert!(m.iter().all(|(k, _)| *k >= 1000 - 32));
        let (v, created) = m.get_or_insert_with(999, &mut evicted, || At(0));
        assert!(!created);
        assert_eq!(v.0, 999);
    }

    #[test]
    fn ties_are_broken_by_key() {
        let mut m: BoundedMap<u32, At> = BoundedMap::new(2);
        let mut evicted = Vec::new();
        m.insert(7, At(5), &mut evicted);
        m.insert(3, At(5), &mut evicted);
        m.insert(9, At(6), &mut evicted);
        assert_eq!(evicted.len(), 1);
        assert_eq!(evicted[0].0, 3);
    }
}
