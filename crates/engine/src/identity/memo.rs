//! The per-packet shortcut: which (source MAC, source IP, VLAN) each MAC
//! sent from last, and when. A packet that repeats its MAC's last triple
//! within [`MEMO_WINDOW`] changes nothing the identity stage tracks (the
//! device, its binding and VLAN are as before; traffic totals come from
//! connection records), so it costs one probe here instead of a device
//! lookup. A router's slot matches any source address.
//!
//! Direct-mapped by MAC, [`MEMO_SLOTS`] slots: a collision only costs the
//! full path. The stage clears a MAC's slot whenever its bindings change and
//! the whole memo when devices are evicted or an address changes owner, so
//! a hit never hides a change.

use std::net::IpAddr;

use crate::decode::MacAddr;
use crate::time::{Duration, Timestamp};

/// Slots of the memo (a power of two).
pub const MEMO_SLOTS: usize = 1024;
/// A repeat within this long is skipped; `last_seen` is exact to it.
pub const MEMO_WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    mac: MacAddr,
    ip: IpAddr,
    vlan: Option<u16>,
    since: Timestamp,
    router: bool,
}

#[derive(Debug, Clone)]
pub struct PacketMemo {
    slots: Vec<Option<Slot>>,
}

impl Default for PacketMemo {
    fn default() -> Self {
        PacketMemo {
            slots: vec![None; MEMO_SLOTS],
        }
    }
}

fn index(mac: MacAddr) -> usize {
    let [a, b, c, d, e, f] = mac.0;
    let v = u64::from_be_bytes([0, 0, a, b, c, d, e, f]);
    (v.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) as usize & (MEMO_SLOTS - 1)
}

impl PacketMemo {
    /// True when `mac` sent from `ip` on `vlan` within the window before `ts`.
    #[inline]
    pub fn hit(&self, mac: MacAddr, ip: IpAddr, vlan: Option<u16>, ts: Timestamp) -> bool {
        match self.slots.get(index(mac)) {
            Some(Some(s)) => {
                s.mac == mac
                    && s.vlan == vlan
                    && (s.router || s.ip == ip)
                    && ts.0 >= s.since.0
                    && ts.0 - s.since.0 < MEMO_WINDOW.0
            }
            _ => false,
        }
    }

    /// Remembers the triple just handled in full.
    pub fn note(
        &mut self,
        mac: MacAddr,
        ip: IpAddr,
        vlan: Option<u16>,
        ts: Timestamp,
        router: bool,
    ) {
        if let Some(s) = self.slots.get_mut(index(mac)) {
            *s = Some(Slot {
                mac,
                ip,
                vlan,
                since: ts,
                router,
            });
        }
    }

    /// Forgets `mac` (its bindings changed).
    pub fn forget(&mut self, mac: MacAddr) {
        if let Some(s) = self.slots.get_mut(index(mac)) {
            if s.is_some_and(|s| s.mac == mac) {
                *s = None;
            }
        }
    }

    pub fn clear(&mut self) {
        self.slots.fill(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_only_the_same_triple_within_the_window() {
        let mut m = PacketMemo::default();
        let mac = MacAddr([0, 1, 2, 3, 4, 5]);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t = |ms: i64| Timestamp(ms * 1_000_000);
        m.note(mac, a, None, t(0), false);
        assert!(m.hit(mac, a, None, t(999)));
        assert!(!m.hit(mac, a, None, t(1000)));
        assert!(!m.hit(mac, b, None, t(1)));
        assert!(!m.hit(mac, a, Some(3), t(1)));
        assert!(!m.hit(MacAddr([9; 6]), a, None, t(1)));
        m.note(mac, a, None, t(0), true);
        assert!(
            m.hit(mac, b, None, t(1)),
            "a router's slot matches any address"
        );
        m.forget(mac);
        assert!(!m.hit(mac, a, None, t(1)));
    }
}
