//! The ARP analyzer's two bounded tables: requests waiting for their reply
//! and the IP → MAC bindings seen so far, both kept in age order.
//!
//! In: keys built from ARP packets (VLAN, addresses). Out: the oldest entry
//! when a table is full or an entry has timed out, and the previous MAC of
//! an address when a new claim differs from a fresh binding.
//!
//! Limits: every [`AgedMap`] holds at most its `limit` entries; inserting
//! beyond hands back the oldest one for the caller to log and count. Its order
//! queue is compacted once it holds more than twice the limit, so it stays
//! bounded too.
#![deny(clippy::indexing_slicing)]

use std::collections::VecDeque;
use std::hash::Hash;
use std::net::Ipv4Addr;

use hashbrown::HashMap;

use crate::decode::MacAddr;
use crate::time::{Duration, Timestamp};

/// A map that remembers the order in which its keys were last inserted or
/// touched; the oldest entry goes first when the map is full.
///
/// Each key carries a sequence number; the order queue may hold outdated
/// `(key, seq)` pairs, which are skipped (and dropped) when they reach the
/// front.
pub(super) struct AgedMap<K, V> {
    map: HashMap<K, (V, u64), foldhash::fast::RandomState>,
    order: VecDeque<(K, u64)>,
    next_seq: u64,
    limit: usize,
}

impl<K: Hash + Eq + Copy, V> AgedMap<K, V> {
    pub(super) fn new(limit: usize) -> Self {
        AgedMap {
            map: HashMap::default(),
            order: VecDeque::new(),
            next_seq: 0,
            limit: limit.max(1),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    pub(super) fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|(v, _)| v)
    }

    pub(super) fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.map.get_mut(k).map(|(v, _)| v)
    }

    /// Inserts or replaces `k` as the youngest entry; when the map was full,
    /// the oldest entry is removed and returned.
    pub(super) fn insert(&mut self, k: K, v: V) -> Option<(K, V)> {
        let evicted = if !self.map.contains_key(&k) && self.map.len() >= self.limit {
            self.pop_oldest()
        } else {
            None
        };
        let seq = self.bump();
        self.map.insert(k, (v, seq));
        self.order.push_back((k, seq));
        self.compact();
        evicted
    }

    /// Makes `k` the youngest entry (no-op when absent).
    pub(super) fn touch(&mut self, k: &K) {
        let seq = self.next_seq;
        if let Some((_, s)) = self.map.get_mut(k) {
            *s = seq;
            self.next_seq += 1;
            self.order.push_back((*k, seq));
            self.compact();
        }
    }

    pub(super) fn remove(&mut self, k: &K) -> Option<V> {
        self.map.remove(k).map(|(v, _)| v)
    }

    /// The oldest live entry, dropping outdated queue slots on the way.
    pub(super) fn oldest(&mut self) -> Option<(&K, &V)> {
        while let Some((k, seq)) = self.order.front() {
            if self.map.get(k).is_some_and(|(_, s)| s == seq) {
                break;
            }
            self.order.pop_front();
        }
        let (k, _) = self.order.front()?;
        let (v, _) = self.map.get(k)?;
        Some((k, v))
    }

    /// Removes and returns the oldest live entry.
    pub(super) fn pop_oldest(&mut self) -> Option<(K, V)> {
        let k = *self.oldest()?.0;
        self.order.pop_front();
        self.map.remove(&k).map(|(v, _)| (k, v))
    }

    fn bump(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    /// Drops outdated queue slots once they outnumber the limit.
    fn compact(&mut self) {
        if self.order.len() > 2 * self.limit {
            let map = &self.map;
            self.order
                .retain(|(k, seq)| map.get(k).is_some_and(|(_, s)| s == seq));
        }
    }
}

/// What a binding table lookup found for a new claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Claim {
    /// First claim for this address, or the same MAC again.
    Consistent,
    /// A different MAC than the binding last seen within the freshness window.
    Conflict { previous: MacAddr },
    /// A different MAC than a binding older than the freshness window.
    Replaced,
}

/// One binding: the MAC an address was last claimed by, and when.
#[derive(Debug, Clone, Copy)]
struct Binding {
    mac: MacAddr,
    last_seen: Timestamp,
}

/// IP → MAC bindings per VLAN, least recently claimed first out.
pub(super) struct BindingTable {
    map: AgedMap<(Option<u16>, Ipv4Addr), Binding>,
    fresh_for: Duration,
}

impl BindingTable {
    pub(super) fn new(limit: usize, fresh_for: Duration) -> Self {
        BindingTable {
            map: AgedMap::new(limit),
            fresh_for,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    /// The MAC currently bound to `ip` on `vlan`.
    pub(super) fn lookup(&self, vlan: Option<u16>, ip: Ipv4Addr) -> Option<MacAddr> {
        self.map.get(&(vlan, ip)).map(|b| b.mac)
    }

    /// Records that `mac` claims `ip` at `ts` (the newest claim wins) and
    /// says how it relates to the binding held so far; `evicted` is set when
    /// a new address pushed the least recently claimed one out.
    pub(super) fn claim(
        &mut self,
        vlan: Option<u16>,
        ip: Ipv4Addr,
        mac: MacAddr,
        ts: Timestamp,
        evicted: &mut bool,
    ) -> Claim {
        let key = (vlan, ip);
        if let Some(b) = self.map.get_mut(&key) {
            let fresh = ts.since(b.last_seen) <= self.fresh_for;
            let previous = b.mac;
            b.mac = mac;
            b.last_seen = b.last_seen.max(ts);
            self.map.touch(&key);
            return match (previous == mac, fresh) {
                (true, _) => Claim::Consistent,
                (false, true) => Claim::Conflict { previous },
                (false, false) => Claim::Replaced,
            };
        }
        *evicted = self
            .map
            .insert(key, Binding { mac, last_seen: ts })
            .is_some();
        Claim::Consistent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aged_map_evicts_the_oldest_and_touch_refreshes() {
        let mut m = AgedMap::new(2);
        assert!(m.insert(1, "a").is_none());
        assert!(m.insert(2, "b").is_none());
        m.touch(&1);
        assert_eq!(m.insert(3, "c"), Some((2, "b")));
        assert_eq!(m.len(), 2);
        assert_eq!(m.oldest().map(|(k, _)| *k), Some(1));
        assert_eq!(m.remove(&1), Some("a"));
        assert_eq!(m.pop_oldest(), Some((3, "c")));
        assert!(m.pop_oldest().is_none());
    }

    #[test]
    fn aged_map_order_queue_stays_bounded() {
        let mut m = AgedMap::new(4);
        for i in 0..1000u32 {
            m.insert(i % 3, i);
            m.touch(&(i % 3));
        }
        assert!(m.order.len() <= 8, "queue grew to {}", m.order.len());
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn binding_conflict_only_while_fresh() {
        let ip = Ipv4Addr::new(10, 0, 0, 1);
        let a = MacAddr([2, 0, 0, 0, 0, 1]);
        let b = MacAddr([2, 0, 0, 0, 0, 2]);
        let mut t = BindingTable::new(8, Duration::from_secs(60));
        let mut ev = false;
        let at = |s| Timestamp::from_secs_nanos(s, 0);
        assert_eq!(t.claim(None, ip, a, at(0), &mut ev), Claim::Consistent);
        assert_eq!(t.claim(None, ip, a, at(10), &mut ev), Claim::Consistent);
        assert_eq!(
            t.claim(None, ip, b, at(20), &mut ev),
            Claim::Conflict { previous: a }
        );
        assert_eq!(t.lookup(None, ip), Some(b));
        // Another VLAN is another broadcast domain.
        assert_eq!(t.claim(Some(7), ip, a, at(21), &mut ev), Claim::Consistent);
        assert_eq!(t.claim(None, ip, a, at(200), &mut ev), Claim::Replaced);
        assert!(!ev);
    }
}
