//! The identity stage: decoded packets, connection records and protocol
//! records in → the device table ([`DeviceRecord`]s) and identity
//! [`Evidence`] out.
//!
//! Per packet the stage does at most one hash lookup, for the source's
//! device (created on first sight, IP binding by a scan of its few
//! addresses), and usually none: a packet repeating its MAC's last source
//! address and VLAN within a second is one probe of the packet memo
//! (`memo.rs`). Traffic totals come from connection records (exact counts,
//! accounted when the connection ends), ARP messages per packet. The IP →
//! MAC index is consulted only when a device starts using an address or has
//! lost it to another MAC. Protocol and connection records are rarer and may do more
//! (rule matching, memoized per device). Devices on local segments are keyed
//! by MAC, hosts in routed fleet subnets by IP; remote addresses are never
//! bound to a MAC, and a MAC sending from many foreign addresses is a router.
//!
//! Limits: [`IdentityConfig::max_devices`] devices, [`MAX_IP_BINDINGS`]
//! bindings, [`MAX_IDENTIFIERS`] DHCP client ids and TLS client
//! certificates, [`IdentityConfig::max_pending_evidence`] findings waiting
//! to be drained; see `config.rs` for the per-device lists.

use std::collections::VecDeque;
use std::net::IpAddr;

use super::bounded::{BoundedMap, Recency};
use super::classify::{add_evidence, classify};
use super::config::{IdentityConfig, MAX_IDENTIFIERS, MAX_IP_BINDINGS, NEW_DEVICE_SETTLE};
use super::counters::IdentityCounters;
use super::findings::{Finding, FindingKind};
use super::fingerprints::{Field, RuleSet};
use super::memo::PacketMemo;
use super::model::is_group;
use super::nets::NetMatcher;
use super::record::{ClassEvidence, DeviceRecord, EvidenceSource};
use super::seen::{mix, with_address, SeenCache};
use super::table::{observation_hash, DeviceEntry};
use super::DeviceKey;
use crate::decode::{Decoded, MacAddr, Network};
use crate::evidence::Evidence;
use crate::sink::Sink;
use crate::time::Timestamp;

/// Which MAC an IP address is bound to, since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBinding {
    pub mac: MacAddr,
    pub since: Timestamp,
}

impl Recency for IpBinding {
    fn last_seen(&self) -> Timestamp {
        self.since
    }
}

/// Which MAC last presented an identifier (DHCP client id, TLS client certificate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdBinding {
    pub mac: MacAddr,
    pub last: Timestamp,
}

impl Recency for IdBinding {
    fn last_seen(&self) -> Timestamp {
        self.last
    }
}

/// Where an address sits relative to the watched network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// 0.0.0.0 or `::` (DHCP discover, ARP probe).
    Unspecified,
    /// In a configured routed fleet subnet: keyed by IP.
    Routed,
    /// On a local segment: keyed by MAC.
    Local,
    Remote,
}

/// How an address was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Via {
    Packet,
    /// An ARP reply or gratuitous announcement claiming the address.
    ArpClaim,
    /// An ARP request naming the address as its sender.
    ArpRequest,
}

/// The source MAC and time of the packet being processed, so records emitted
/// while processing it can be tied to the frame (DHCP sender checks).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CurrentPacket {
    pub ts: Timestamp,
    pub src_mac: Option<MacAddr>,
}

pub struct IdentityStage {
    pub(super) cfg: IdentityConfig,
    local: NetMatcher,
    routed: NetMatcher,
    pub(super) rules: &'static RuleSet,
    pub(super) devices: BoundedMap<DeviceKey, Box<DeviceEntry>>,
    pub(super) ip_index: BoundedMap<IpAddr, IpBinding>,
    pub(super) client_ids: BoundedMap<String, IdBinding>,
    pub(super) client_certs: BoundedMap<String, IdBinding>,
    pub(super) gateway_ips: Vec<IpAddr>,
    capture_start: Option<Timestamp>,
    pending_new: VecDeque<(Timestamp, DeviceKey)>,
    pub(super) packet: CurrentPacket,
    /// Observations handled recently (cleared when a binding changes).
    pub(super) seen: SeenCache,
    /// The per-packet shortcut (see `memo.rs`).
    pub(super) memo: PacketMemo,
    evidence: Vec<Evidence>,
    pub(super) counters: IdentityCounters,
    scratch: Vec<ClassEvidence>,
}

impl IdentityStage {
    pub fn new(config: IdentityConfig) -> Self {
        let cfg = config.normalized();
        IdentityStage {
            local: NetMatcher::new(cfg.local_nets.nets()),
            routed: NetMatcher::new(&cfg.routed_fleet_nets),
            rules: RuleSet::builtin(),
            devices: BoundedMap::new(cfg.max_devices),
            ip_index: BoundedMap::new(MAX_IP_BINDINGS.max(cfg.max_devices.saturating_mul(2))),
            client_ids: BoundedMap::new(
                MAX_IDENTIFIERS
                    .min(cfg.max_devices.saturating_mul(2))
                    .max(1),
            ),
            client_certs: BoundedMap::new(
                MAX_IDENTIFIERS
                    .min(cfg.max_devices.saturating_mul(2))
                    .max(1),
            ),
            gateway_ips: Vec::new(),
            capture_start: None,
            pending_new: VecDeque::new(),
            packet: CurrentPacket::default(),
            seen: SeenCache::default(),
            memo: PacketMemo::default(),
            evidence: Vec::new(),
            counters: IdentityCounters::default(),
            scratch: Vec::new(),
            cfg,
        }
    }

    pub fn config(&self) -> &IdentityConfig {
        &self.cfg
    }

    pub fn counters(&self) -> &IdentityCounters {
        &self.counters
    }

    /// Devices tracked now.
    pub fn len(&self) -> usize {
        self.devices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// Every tracked device, in no particular order.
    pub fn devices(&self) -> impl Iterator<Item = &DeviceRecord> {
        self.devices.values().map(|e| &e.record)
    }

    pub fn device(&self, key: &DeviceKey) -> Option<&DeviceRecord> {
        self.devices.get(key).map(|e| &e.record)
    }

    /// Every tracked device, sorted by key.
    pub fn into_devices(self) -> Vec<DeviceRecord> {
        let mut v: Vec<DeviceRecord> = self.devices.into_values().map(|e| e.record).collect();
        v.sort_by_key(|d| d.key);
        v
    }

    /// Approximate bytes held by the device table and its indexes.
    pub fn approx_memory_bytes(&self) -> usize {
        use std::mem::size_of;
        let bucket = |k: usize, v: usize| k + v + 1;
        let devices: usize = self
            .devices
            .values()
            .map(|e| size_of::<DeviceEntry>() + e.heap_bytes())
            .sum();
        let ids: usize = self
            .client_ids
            .iter()
            .chain(self.client_certs.iter())
            .map(|(k, _)| k.capacity())
            .sum();
        devices
            + self.devices.capacity()
                * bucket(size_of::<DeviceKey>(), size_of::<Box<DeviceEntry>>())
            + self.ip_index.capacity() * bucket(size_of::<IpAddr>(), size_of::<IpBinding>())
            + (self.client_ids.capacity() + self.client_certs.capacity())
                * bucket(size_of::<String>(), size_of::<IdBinding>())
            + ids
    }

    /// Moves the findings raised so far into `out`.
    pub fn drain_evidence(&mut self, out: &mut impl Sink<Evidence>) {
        if self.evidence.is_empty() {
            return;
        }
        for e in self.evidence.drain(..) {
            out.push(e);
        }
    }

    /// Findings waiting to be drained.
    pub fn pending_evidence(&self) -> usize {
        self.evidence.len()
    }

    /// End of input: new devices still settling are reported now.
    pub fn finish(&mut self) {
        while let Some((_, key)) = self.pending_new.pop_front() {
            self.report_new_device(key);
        }
    }

    /// Accounts one decoded packet: the sender's device, bindings, VLANs, ARP claims.
    pub fn observe_packet(&mut self, pkt: &Decoded<'_>) {
        self.tick(pkt.ts);
        self.packet = CurrentPacket {
            ts: pkt.ts,
            src_mac: pkt.src_mac,
        };
        match &pkt.network {
            Network::Ip(ip) => {
                let routed = !self.routed.is_empty() && self.routed.contains(ip.src);
                let repeat = pkt
                    .src_mac
                    .is_some_and(|m| self.memo.hit(m, ip.src, pkt.vlan, pkt.ts));
                if routed || !repeat {
                    self.ip_source(pkt, ip.src);
                } else {
                    self.counters.packets_repeated += 1;
                }
            }
            Network::Arp(arp) => self.arp(pkt, arp),
            Network::None => {}
        }
    }

    fn tick(&mut self, ts: Timestamp) {
        if self.capture_start.is_none() {
            self.capture_start = Some(ts);
        }
        while let Some(&(due, key)) = self.pending_new.front() {
            if due > ts {
                break;
            }
            self.pending_new.pop_front();
            self.report_new_device(key);
        }
    }

    pub(super) fn place(&self, ip: IpAddr) -> Place {
        if ip.is_unspecified() {
            Place::Unspecified
        } else if !self.routed.is_empty() && self.routed.contains(ip) {
            Place::Routed
        } else if self.local.contains(ip) {
            Place::Local
        } else {
            Place::Remote
        }
    }

    /// The device of `key`, created at `ts` when absent (one hash lookup
    /// when it exists).
    pub(super) fn device_entry(&mut self, key: DeviceKey, ts: Timestamp) -> &mut DeviceEntry {
        let mut evicted = Vec::new();
        let rules = self.rules;
        let site = &self.cfg.site;
        let (entry, created) = self.devices.get_or_insert_with(key, &mut evicted, || {
            Box::new(new_device(rules, key, ts, site))
        });
        if created {
            self.counters.devices_created += 1;
            self.counters.classifications += 1;
            if entry.record.mac_randomized {
                self.counters.randomized_macs += 1;
            }
            self.counters.devices =
                (self.counters.devices + 1).saturating_sub(evicted.len() as u64);
            if !evicted.is_empty() {
                self.memo.clear();
            }
            forget(
                &mut self.ip_index,
                &mut self.seen,
                &mut self.counters,
                evicted,
            );
            let learned = self
                .capture_start
                .is_some_and(|s| ts.since(s).0 >= self.cfg.learning_period.0);
            if learned {
                if self.pending_new.len() < self.cfg.max_pending_evidence {
                    self.pending_new
                        .push_back((ts.plus(NEW_DEVICE_SETTLE), key));
                } else {
                    self.counters.evidence_dropped += 1;
                }
            }
        }
        entry
    }

    fn report_new_device(&mut self, key: DeviceKey) {
        let start = self.capture_start.unwrap_or(Timestamp::ZERO);
        let Some(e) = self.devices.get(&key) else {
            return;
        };
        let r = &e.record;
        let at = r.first_seen.plus(NEW_DEVICE_SETTLE);
        let vendor = r
            .vendor
            .clone()
            .unwrap_or_else(|| "unknown vendor".to_string());
        let host = r.current_hostname().unwrap_or("-").to_string();
        let mut f = Finding::new(
            FindingKind::NewDevice,
            at,
            key,
            0.9,
            format!(
                "new device {key}: {vendor}, class {} ({:.0}%), host name {host}, first seen {:.0} s into the capture",
                r.class,
                r.confidence * 100.0,
                r.first_seen.since(start).as_secs_f64()
            ),
        )
        .attr("class", r.class.as_str())
        .attr("vendor", vendor)
        .attr("mac_randomized", r.mac_randomized);
        if let Some(ip) = r.current_ip() {
            f = f.ip(ip);
        }
        self.raise(f);
    }

    /// Raises a finding unless the same kind was raised about the device
    /// within the suppression interval.
    pub(super) fn raise(&mut self, f: Finding) {
        let interval = self.cfg.suppress_interval;
        if let Some(e) = self.devices.get_mut(&f.device) {
            if !e.suppression().allow(f.kind, f.ts, interval) {
                self.counters.findings_suppressed += 1;
                return;
            }
        }
        if self.evidence.len() >= self.cfg.max_pending_evidence {
            self.counters.evidence_dropped += 1;
            return;
        }
        self.counters.findings += 1;
        self.evidence.push(f.into_evidence());
    }

    /// Matches `value` seen in `field` against the rules, once per device
    /// (memoized), and reclassifies the device when its evidence changed.
    pub(super) fn hint(
        &mut self,
        key: DeviceKey,
        field: Field,
        source: EvidenceSource,
        value: &str,
    ) {
        self.hint_parts(key, field, source, &[value]);
    }

    /// [`hint`](Self::hint) for a value given in parts (`server:` + `rtsp`):
    /// the string is only built when the observation is new to the device.
    pub(super) fn hint_parts(
        &mut self,
        key: DeviceKey,
        field: Field,
        source: EvidenceSource,
        parts: &[&str],
    ) {
        if parts.iter().all(|p| p.is_empty()) {
            return;
        }
        let rules = self.rules;
        let tag = u8::try_from(field as usize).unwrap_or(u8::MAX);
        let h = observation_hash(tag, parts);
        if !self.seen.insert(mix(h, key_bits(key))) {
            return;
        }
        let Some(e) = self.devices.get_mut(&key) else {
            return;
        };
        if !e.first_sight(h) {
            return;
        }
        let value = parts.concat();
        let mut hints = std::mem::take(&mut self.scratch);
        hints.clear();
        rules.hints(field, source, &value, &mut hints);
        self.add_hints(key, &mut hints);
        self.scratch = hints;
    }

    /// [`hint_parts`](Self::hint_parts) for the device using address `ip`:
    /// a repeat of a recent observation from the same address costs one
    /// cache probe, no binding or device lookup.
    pub(super) fn hint_at(
        &mut self,
        ip: IpAddr,
        field: Field,
        source: EvidenceSource,
        parts: &[&str],
    ) {
        let tag = u8::try_from(field as usize).unwrap_or(u8::MAX);
        if !self
            .seen
            .insert(with_address(observation_hash(tag, parts), ip))
        {
            return;
        }
        if let Some(k) = self.attributed(ip) {
            self.hint_parts(k, field, source, parts);
        }
    }

    /// Adds ready-made hints to a device and reclassifies it if they changed anything.
    pub(super) fn add_hints(&mut self, key: DeviceKey, hints: &mut Vec<ClassEvidence>) {
        let Some(e) = self.devices.get_mut(&key) else {
            hints.clear();
            return;
        };
        let mut changed = false;
        for h in hints.drain(..) {
            changed |= add_evidence(&mut e.record, h);
        }
        if changed {
            self.counters.hints += 1;
            classify(&mut e.record);
            self.counters.classifications += 1;
        }
    }

    fn ip_source(&mut self, pkt: &Decoded<'_>, src: IpAddr) {
        let ts = pkt.ts;
        let place = self.place(src);
        let key = match place {
            Place::Routed => DeviceKey::Ip(src),
            Place::Local | Place::Unspecified | Place::Remote => match pkt.src_mac {
                Some(m) if !is_group(m) => DeviceKey::Mac(m),
                _ => return,
            },
        };
        let site_vlan = pkt.vlan;
        let e = self.device_entry(key, ts);
        let r = &mut e.record;
        r.last_seen = r.last_seen.max(ts);
        // The binding fast path on the entry in hand: no second lookup.
        let is_router = e.is_router();
        let slow = if place == Place::Local {
            e.use_ip_fast(src, ts)
        } else {
            None
        };
        let moved_vlan = site_vlan.is_some_and(|v| e.note_vlan(v));
        self.counters.packets_attributed += 1;
        if moved_vlan {
            self.vlan_moved(key, site_vlan.unwrap_or(0), ts);
        }
        match (place, key) {
            (Place::Routed, _) => {
                if let Some(e) = self.devices.get_mut(&key) {
                    if !e.touch_ip(src, ts).known {
                        e.bind_ip(src, ts);
                    }
                }
            }
            (Place::Local, DeviceKey::Mac(mac)) => {
                if let Some(used) = slow {
                    self.use_ip_slow(mac, src, Via::Packet, ts, used);
                }
            }
            (Place::Remote, DeviceKey::Mac(mac)) if !is_router => self.foreign_source(mac, src, ts),
            _ => {}
        }
        if let (DeviceKey::Mac(mac), false) = (key, place == Place::Routed) {
            self.memo.note(mac, src, site_vlan, ts, is_router);
        }
    }
}

/// 64 bits naming a device key, for the observation cache.
pub(super) fn key_bits(key: DeviceKey) -> u64 {
    match key {
        DeviceKey::Mac(m) => {
            let [a, b, c, d, e, f] = m.0;
            u64::from_be_bytes([0, 1, a, b, c, d, e, f])
        }
        DeviceKey::Ip(ip) => with_address(2, ip),
    }
}

/// A new device with the hints its key gives by itself (the MAC's OUI),
/// classified.
fn new_device(rules: &RuleSet, key: DeviceKey, ts: Timestamp, site: &str) -> DeviceEntry {
    let mut e = DeviceEntry::new(key, ts, site);
    if let DeviceKey::Mac(mac) = key {
        let mut hints = Vec::new();
        super::oui::hints(rules, mac, &mut hints);
        for h in hints {
            add_evidence(&mut e.record, h);
        }
    }
    classify(&mut e.record);
    e
}

/// Drops the IP bindings of evicted devices.
fn forget(
    ip_index: &mut BoundedMap<IpAddr, IpBinding>,
    seen: &mut SeenCache,
    counters: &mut IdentityCounters,
    evicted: Vec<(DeviceKey, Box<DeviceEntry>)>,
) {
    if evicted.is_empty() {
        return;
    }
    counters.evicted += evicted.len() as u64;
    seen.clear();
    for (key, e) in evicted {
        let DeviceKey::Mac(mac) = key else { continue };
        for ip in e.owned_ips() {
            if ip_index.get(&ip).is_some_and(|b| b.mac == mac) {
                ip_index.remove(&ip);
            }
        }
    }
    counters.ip_bindings = ip_index.len() as u64;
}
