//! MAC ↔ IP bindings and the identity findings they reveal.
//!
//! In: "MAC m used IP a at t" from IP packets and ARP messages. Out: the
//! device's IP history and the IP → MAC index, plus findings:
//! - `identity.arp_spoof`: an ARP claim takes an address whose owner used it
//!   within the active window (the gateway-address claim is in `stage.rs`);
//! - `identity.duplicate`: an address used from two MACs within the window
//!   (IP conflict), or one MAC alternating between two IPv4 addresses of one
//!   network ([`SAME_NETWORK_PREFIX`]) within the window on one VLAN (a
//!   cloned MAC);
//! - `identity.change.ip`: a MAC moved to a new IPv4 address.
//!
//! The fast path (a device using an address it owns, as last time) is a
//! scan of at most `MAX_IPS_PER_DEVICE` addresses; the index is touched only
//! when ownership changes. IPv6 and link-local IPv4 addresses are bound but
//! not tracked for changes (hosts legitimately hold several).

use std::net::{IpAddr, Ipv4Addr};

use super::findings::{Finding, FindingKind};
use super::stage::{IdentityStage, IpBinding, Via};
use super::table::IpUse;
use super::DeviceKey;
use crate::decode::MacAddr;
use crate::time::Timestamp;

/// Prefix length within which two addresses of one MAC count as one
/// network. A MAC alternating between unrelated networks is multi-homed (an
/// IoT device serving its setup access point while joining the LAN), not
/// cloned: a clone takes an address where its victim lives.
pub const SAME_NETWORK_PREFIX: u32 = 16;

fn same_network(a: Ipv4Addr, b: Ipv4Addr) -> bool {
    let mask = u32::MAX << (32 - SAME_NETWORK_PREFIX);
    u32::from(a) & mask == u32::from(b) & mask
}

/// An IPv4 address whose changes mean something: not link-local,
/// unspecified, broadcast or multicast.
pub fn trackable_v4(ip: IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(a)
            if !(a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_multicast()) =>
        {
            Some(a)
        }
        _ => None,
    }
}

impl IdentityStage {
    /// `mac` used `ip` (a local address) at `ts`.
    pub(super) fn use_ip(&mut self, mac: MacAddr, ip: IpAddr, via: Via, ts: Timestamp) {
        let slow = match self.devices.get_mut(&DeviceKey::Mac(mac)) {
            Some(e) => e.use_ip_fast(ip, ts),
            None => return,
        };
        if let Some(used) = slow {
            self.use_ip_slow(mac, ip, via, ts, used);
        }
    }

    /// The rest of [`use_ip`](Self::use_ip) when the fast path
    /// ([`DeviceEntry::use_ip_fast`](super::table::DeviceEntry::use_ip_fast)) did not settle it.
    pub(super) fn use_ip_slow(
        &mut self,
        mac: MacAddr,
        ip: IpAddr,
        via: Via,
        ts: Timestamp,
        used: IpUse,
    ) {
        let key = DeviceKey::Mac(mac);
        let window = self.cfg.binding_active_window;
        let Some(e) = self.devices.get_mut(&key) else {
            return;
        };
        let v4 = trackable_v4(ip);
        if !used.known && e.is_router() {
            return;
        }
        let previous_v4 = e.current_v4();
        let previous_v4_last = previous_v4.and_then(|p| e.ip_last(IpAddr::V4(p)));
        let one_vlan = e.record.vlans.len() <= 1;
        if !used.owned {
            self.claim_binding(mac, ip, via, ts);
            let Some(e) = self.devices.get_mut(&key) else {
                return;
            };
            let dropped = e.bind_ip(ip, ts);
            let addresses = e.record.ips.len();
            if let Some(dropped) = dropped {
                if self.ip_index.get(&dropped).is_some_and(|b| b.mac == mac) {
                    self.ip_index.remove(&dropped);
                }
            }
            if !used.known && addresses > 2 {
                // Many new addresses behind one MAC is a router too.
                self.foreign_source(mac, ip, ts);
            }
        }
        self.memo.forget(mac);
        let Some(a) = v4 else { return };
        if let Some(e) = self.devices.get_mut(&key) {
            e.set_current_v4(a);
        }
        let (Some(prev), Some(prev_last)) = (previous_v4, previous_v4_last) else {
            return;
        };
        if prev == a {
            return;
        }
        if used.known {
            let both_active = ts.since(prev_last).0 <= window.0
                && used
                    .previous_last
                    .is_some_and(|t| ts.since(t).0 <= window.0);
            if both_active && one_vlan && same_network(prev, a) {
                let f = Finding::new(
                    FindingKind::Duplicate,
                    ts,
                    key,
                    0.7,
                    format!(
                        "{mac} alternates between {prev} and {a} within {:.0} s (cloned MAC?)",
                        window.as_secs_f64()
                    ),
                )
                .ip(ip)
                .attr("reason", "mac_on_two_ips")
                .attr("other_ip", prev.to_string());
                self.raise(f);
            }
        } else {
            let f = Finding::new(
                FindingKind::ChangeIp,
                ts,
                key,
                0.9,
                format!("{mac} moved from {prev} to {a}"),
            )
            .ip(ip)
            .attr("previous_ip", prev.to_string());
            self.raise(f);
        }
    }

    /// Points the index entry of `ip` at `mac`; a takeover from a MAC that
    /// used the address within the active window is a finding.
    fn claim_binding(&mut self, mac: MacAddr, ip: IpAddr, via: Via, ts: Timestamp) {
        let window = self.cfg.binding_active_window;
        if let Some(b) = self.ip_index.get(&ip).copied() {
            if b.mac == mac {
                return;
            }
            let other_last = self
                .devices
                .get_mut(&DeviceKey::Mac(b.mac))
                .and_then(|o| o.disown_ip(ip));
            let active = other_last.is_some_and(|t| ts.since(t).0 <= window.0);
            if active {
                let ago = other_last.map_or(0.0, |t| ts.since(t).as_secs_f64().max(0.0));
                let f = match via {
                    Via::ArpClaim => Finding::new(
                        FindingKind::ArpSpoof,
                        ts,
                        DeviceKey::Mac(mac),
                        0.7,
                        format!(
                            "ARP claim: {ip} is at {mac}, but {} used it {ago:.0} s ago",
                            b.mac
                        ),
                    ),
                    Via::Packet | Via::ArpRequest => Finding::new(
                        FindingKind::Duplicate,
                        ts,
                        DeviceKey::Mac(mac),
                        0.7,
                        format!(
                            "IP conflict: {ip} used by {mac} and by {} {ago:.0} s earlier",
                            b.mac
                        ),
                    )
                    .attr("reason", "ip_conflict"),
                };
                self.raise(f.ip(ip).attr("other_mac", b.mac.to_string()));
            }
        }
        let mut evicted = Vec::new();
        self.seen.clear();
        self.memo.clear();
        self.ip_index
            .insert(ip, IpBinding { mac, since: ts }, &mut evicted);
        self.counters.ip_bindings_evicted += evicted.len() as u64;
        for (old_ip, b) in evicted {
            if let Some(e) = self.devices.get_mut(&DeviceKey::Mac(b.mac)) {
                e.disown_ip(old_ip);
            }
        }
        self.counters.ip_bindings = self.ip_index.len() as u64;
    }
}
