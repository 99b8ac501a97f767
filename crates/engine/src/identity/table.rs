//! One tracked device: its [`DeviceRecord`] plus the bookkeeping the stage
//! needs and does not publish (which of its IPs the binding index points
//! at, router detection, recently matched observations, suppression).
//!
//! In: updates from the stage. Out: the record. Every list is bounded by a
//! named limit in [`super::config`]; IP history drops the least recently
//! used address, host names the least recently seen, VLANs and sites stop
//! growing at their limit.

use std::net::{IpAddr, Ipv4Addr};

use super::bounded::Recency;
use super::config::{
    MAX_HOSTNAMES_PER_DEVICE, MAX_IPS_PER_DEVICE, MAX_RECENT_HINTS, MAX_SITES_PER_DEVICE,
    MAX_VLANS_PER_DEVICE,
};
use super::findings::Suppression;
use super::record::{DeviceRecord, Seen};
use super::DeviceKey;
use crate::time::Timestamp;

/// Router detection state of a MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouterState {
    /// No source address other than its own seen yet.
    Host,
    /// Counting distinct foreign source addresses in the current window.
    Probing(Box<RouterProbe>),
    /// Many foreign source addresses: a router; new addresses are not bound.
    Router,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterProbe {
    pub window_start: Timestamp,
    pub sources: Vec<IpAddr>,
}

/// A device and its private bookkeeping.
#[derive(Debug, Clone)]
pub struct DeviceEntry {
    pub record: DeviceRecord,
    /// Parallel to `record.ips`: whether the IP index points at this device.
    owned: Vec<bool>,
    /// The IPv4 address the device used last (change/duplicate tracking).
    current_v4: Option<Ipv4Addr>,
    /// 1 + the index in `record.ips` of the address the last packet came
    /// from when it needed no further work; 0 for none. Cleared whenever the
    /// history, ownership or current address changes.
    fast_ip: u8,
    pub router: RouterState,
    /// Hashes of observations already matched against the rules (a ring).
    recent_hints: Vec<u64>,
    recent_pos: usize,
    /// Allocated on the first finding about the device.
    suppression: Option<Box<Suppression>>,
}

impl Recency for DeviceEntry {
    fn last_seen(&self) -> Timestamp {
        self.record.last_seen
    }
}

/// What happened when a device used an IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpUse {
    /// The address was already in the device's history.
    pub known: bool,
    /// The binding index still pointed at this device.
    pub owned: bool,
    /// When the device last used this address before now.
    pub previous_last: Option<Timestamp>,
}

impl DeviceEntry {
    pub fn new(key: DeviceKey, ts: Timestamp, site: &str) -> Self {
        let mut record = DeviceRecord::new(key, ts);
        push_tight(&mut record.sites, site.to_string());
        DeviceEntry {
            record,
            owned: Vec::new(),
            current_v4: None,
            fast_ip: 0,
            router: RouterState::Host,
            recent_hints: Vec::new(),
            recent_pos: 0,
            suppression: None,
        }
    }

    /// The device's finding suppression state (allocated on first use).
    pub fn suppression(&mut self) -> &mut Suppression {
        self.suppression.get_or_insert_with(Box::default)
    }

    pub fn is_router(&self) -> bool {
        self.router == RouterState::Router
    }

    /// Marks `ip` used at `ts` (fast path: no allocation when known).
    pub fn touch_ip(&mut self, ip: IpAddr, ts: Timestamp) -> IpUse {
        for (slot, owned) in self.record.ips.iter_mut().zip(&self.owned) {
            if slot.value == ip {
                let previous_last = Some(slot.last);
                slot.last = slot.last.max(ts);
                return IpUse {
                    known: true,
                    owned: *owned,
                    previous_last,
                };
            }
        }
        IpUse {
            known: false,
            owned: false,
            previous_last: None,
        }
    }

    /// Marks `ip` used at `ts`. `None` when nothing else is needed (the
    /// device owns the address and used it last time too); otherwise what
    /// the slow path needs to know.
    pub fn use_ip_fast(&mut self, ip: IpAddr, ts: Timestamp) -> Option<IpUse> {
        if let Some(slot) = usize::from(self.fast_ip)
            .checked_sub(1)
            .and_then(|i| self.record.ips.get_mut(i))
        {
            if slot.value == ip {
                slot.last = slot.last.max(ts);
                return None;
            }
        }
        let used = self.touch_ip(ip, ts);
        let switched = match ip {
            IpAddr::V4(a) => {
                super::bindings::trackable_v4(ip).is_some() && self.current_v4 != Some(a)
            }
            IpAddr::V6(_) => false,
        };
        if used.known && used.owned && !switched {
            let i = self.record.ips.iter().position(|s| s.value == ip);
            self.fast_ip = i.and_then(|i| u8::try_from(i + 1).ok()).unwrap_or(0);
            None
        } else {
            Some(used)
        }
    }

    /// The IPv4 address the device used last.
    pub fn current_v4(&self) -> Option<Ipv4Addr> {
        self.current_v4
    }

    pub fn set_current_v4(&mut self, a: Ipv4Addr) {
        if self.current_v4 != Some(a) {
            self.current_v4 = Some(a);
            self.fast_ip = 0;
        }
    }

    /// Adds `ip` (owned) to the history, or marks it owned; when the history
    /// is full the least recently used address is dropped and returned if
    /// this device owned it (the caller unbinds it).
    pub fn bind_ip(&mut self, ip: IpAddr, ts: Timestamp) -> Option<IpAddr> {
        self.fast_ip = 0;
        if let Some(i) = self.record.ips.iter().position(|s| s.value == ip) {
            if let Some(o) = self.owned.get_mut(i) {
                *o = true;
            }
            return None;
        }
        let mut dropped = None;
        if self.record.ips.len() >= MAX_IPS_PER_DEVICE {
            let oldest = self
                .record
                .ips
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| (s.last, s.value))
                .map(|(i, _)| i);
            if let Some(i) = oldest {
                let old = self.record.ips.swap_remove(i);
                if self.owned.get(i).copied().unwrap_or(false) {
                    dropped = Some(old.value);
                }
                if i < self.owned.len() {
                    self.owned.swap_remove(i);
                }
                if self.current_v4.map(IpAddr::V4) == Some(old.value) {
                    self.current_v4 = None;
                }
            }
        }
        push_tight(
            &mut self.record.ips,
            Seen {
                value: ip,
                first: ts,
                last: ts,
            },
        );
        push_tight(&mut self.owned, true);
        dropped
    }

    /// The binding index moved `ip` to another device.
    pub fn disown_ip(&mut self, ip: IpAddr) -> Option<Timestamp> {
        self.fast_ip = 0;
        let i = self.record.ips.iter().position(|s| s.value == ip)?;
        if let Some(o) = self.owned.get_mut(i) {
            *o = false;
        }
        self.record.ips.get(i).map(|s| s.last)
    }

    /// The addresses the binding index points at this device for.
    pub fn owned_ips(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.record
            .ips
            .iter()
            .zip(&self.owned)
            .filter(|(_, o)| **o)
            .map(|(s, _)| s.value)
    }

    /// When the device last used `ip`.
    pub fn ip_last(&self, ip: IpAddr) -> Option<Timestamp> {
        self.record
            .ips
            .iter()
            .find(|s| s.value == ip)
            .map(|s| s.last)
    }

    /// Records a VLAN; true when it is new and the device was already seen
    /// on another one.
    pub fn note_vlan(&mut self, vlan: u16) -> bool {
        if self.record.vlans.contains(&vlan) || self.record.vlans.len() >= MAX_VLANS_PER_DEVICE {
            return false;
        }
        let moved = !self.record.vlans.is_empty();
        push_tight(&mut self.record.vlans, vlan);
        moved
    }

    /// Records a site name (bounded).
    pub fn note_site(&mut self, site: &str) {
        if !self.record.sites.iter().any(|s| s == site)
            && self.record.sites.len() < MAX_SITES_PER_DEVICE
        {
            push_tight(&mut self.record.sites, site.to_string());
        }
    }

    /// Records a host name; the least recently seen is dropped when full.
    pub fn note_hostname(&mut self, name: &str, ts: Timestamp) {
        // Host names are case-insensitive (DHCP `Philips-hue`, mDNS `philips-hue`).
        if let Some(s) = self
            .record
            .hostnames
            .iter_mut()
            .find(|s| s.value.eq_ignore_ascii_case(name))
        {
            s.last = s.last.max(ts);
            return;
        }
        if self.record.hostnames.len() >= MAX_HOSTNAMES_PER_DEVICE {
            if let Some(i) = self
                .record
                .hostnames
                .iter()
                .enumerate()
                .min_by(|a, b| {
                    a.1.last
                        .cmp(&b.1.last)
                        .then_with(|| a.1.value.cmp(&b.1.value))
                })
                .map(|(i, _)| i)
            {
                self.record.hostnames.swap_remove(i);
            }
        }
        push_tight(
            &mut self.record.hostnames,
            Seen {
                value: super::text::bounded(name),
                first: ts,
                last: ts,
            },
        );
    }

    /// True the first time (within the ring) an observation hash is offered.
    pub fn first_sight(&mut self, hash: u64) -> bool {
        if self.recent_hints.contains(&hash) {
            return false;
        }
        if self.recent_hints.len() < MAX_RECENT_HINTS {
            push_tight(&mut self.recent_hints, hash);
        } else {
            if let Some(slot) = self.recent_hints.get_mut(self.recent_pos) {
                *slot = hash;
            }
            self.recent_pos = (self.recent_pos + 1) % MAX_RECENT_HINTS;
        }
        true
    }

    /// Bytes this entry holds on the heap (record lists, strings, bookkeeping).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let r = &self.record;
        let strings = |v: &[Seen<String>]| v.iter().map(|s| s.value.capacity()).sum::<usize>();
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
        let evidence: usize = r
            .evidence
            .iter()
            .map(|e| e.observed.capacity() + opt(&e.vendor) + opt(&e.model) + opt(&e.firmware))
            .sum();
        let dhcp = r.dhcp.as_ref().map_or(0, |d| {
            size_of::<super::DhcpFingerprint>()
                + d.params.capacity()
                + opt(&d.vendor_class)
                + opt(&d.client_id)
                + opt(&d.hostname)
        });
        let probe = match &self.router {
            RouterState::Probing(p) => {
                size_of::<RouterProbe>() + p.sources.capacity() * size_of::<IpAddr>()
            }
            _ => 0,
        };
        r.ips.capacity() * size_of::<Seen<IpAddr>>()
            + r.hostnames.capacity() * size_of::<Seen<String>>()
            + strings(&r.hostnames)
            + r.vlans.capacity() * size_of::<u16>()
            + r.sites.capacity() * size_of::<String>()
            + r.sites.iter().map(String::capacity).sum::<usize>()
            + r.evidence.capacity() * size_of::<super::ClassEvidence>()
            + evidence
            + dhcp
            + opt(&r.vendor)
            + opt(&r.model)
            + opt(&r.firmware)
            + self.owned.capacity()
            + self.recent_hints.capacity() * size_of::<u64>()
            + self
                .suppression
                .as_ref()
                .map_or(0, |_| size_of::<Suppression>())
            + probe
    }
}

/// Pushes growing the capacity by one: device lists are short and many,
/// so the default doubling (to four at first) would waste most of the memory.
pub fn push_tight<T>(v: &mut Vec<T>, item: T) {
    if v.len() == v.capacity() {
        v.reserve_exact(1);
    }
    v.push(item);
}

/// A hash of a field tag and the parts of a value, for the per-device memo
/// and the stage's observation cache: foldhash with a fixed seed, so runs
/// are reproducible. The same value split differently hashes differently;
/// callers pass a given observation the same way each time.
pub fn observation_hash(tag: u8, parts: &[&str]) -> u64 {
    observation_hash_iter(tag, parts.iter().copied())
}

/// [`observation_hash`] of parts given by an iterator.
pub fn observation_hash_iter<'a>(tag: u8, parts: impl IntoIterator<Item = &'a str>) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = foldhash::fast::FixedState::with_seed(0x6761_7465_7761_7463).build_hasher();
    h.write_u8(tag);
    for p in parts {
        h.write(p.as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> DeviceEntry {
        DeviceEntry::new("02:00:00:00:00:01".parse().unwrap(), Timestamp::ZERO, "lab")
    }

    #[test]
    fn ip_history_is_bounded_and_reports_the_dropped_owned_address() {
        let mut e = entry();
        for i in 0..MAX_IPS_PER_DEVICE as u8 {
            assert_eq!(
                e.bind_ip(
                    IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)),
                    Timestamp(i64::from(i))
                ),
                None
            );
        }
        let dropped = e.bind_ip("10.0.1.1".parse().unwrap(), Timestamp(100));
        assert_eq!(dropped, Some("10.0.0.0".parse().unwrap()));
        assert_eq!(e.record.ips.len(), MAX_IPS_PER_DEVICE);
        let u = e.touch_ip("10.0.1.1".parse().unwrap(), Timestamp(200));
        assert!(u.known && u.owned);
        assert_eq!(u.previous_last, Some(Timestamp(100)));
        e.disown_ip("10.0.1.1".parse().unwrap());
        assert!(
            !e.touch_ip("10.0.1.1".parse().unwrap(), Timestamp(201))
                .owned
        );
    }

    #[test]
    fn vlans_hostnames_and_memo() {
        let mut e = entry();
        assert!(!e.note_vlan(10));
        assert!(!e.note_vlan(10));
        assert!(e.note_vlan(20));
        for i in 0..20 {
            e.note_hostname(&format!("h{i}"), Timestamp(i));
        }
        assert_eq!(e.record.hostnames.len(), MAX_HOSTNAMES_PER_DEVICE);
        assert!(e.record.hostnames.iter().any(|s| s.value == "h19"));
        assert!(e.first_sight(1));
        assert!(!e.first_sight(1));
        for i in 2..100 {
            e.first_sight(i);
        }
        assert!(e.first_sight(1), "forgotten after the ring wrapped");
        assert_ne!(observation_hash(1, &["a"]), observation_hash(2, &["a"]));
    }
}
