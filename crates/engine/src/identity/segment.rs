//! What the local segment itself shows: ARP claims (bindings, spoofing of
//! the gateway's address), routers (MACs sending from many foreign
//! addresses), and devices moving to another VLAN.
//!
//! In: ARP messages and source addresses the stage could not bind. Out:
//! bindings via `bindings.rs`, router flags and the gateway address list
//! (bounded by `MAX_GATEWAY_IPS`), `identity.arp_spoof` and
//! `identity.unexpected_vlan` findings.

use std::net::IpAddr;

use super::config::{MAX_GATEWAY_IPS, ROUTER_WINDOW};
use super::findings::{Finding, FindingKind};
use super::fingerprints::Field;
use super::model::is_group;
use super::record::EvidenceSource;
use super::stage::{IdentityStage, Place, Via};
use super::table::{RouterProbe, RouterState};
use super::DeviceKey;
use crate::decode::{ArpOperation, ArpPacket, Decoded, MacAddr};
use crate::time::Timestamp;

impl IdentityStage {
    pub(super) fn arp(&mut self, pkt: &Decoded<'_>, a: &ArpPacket) {
        let ts = pkt.ts;
        if pkt.src_mac.is_some_and(|m| m != a.sender_mac) {
            self.counters.arp_sender_mismatch += 1;
        }
        let mac = a.sender_mac;
        if is_group(mac) || mac.0 == [0; 6] {
            return;
        }
        let sip = IpAddr::V4(a.sender_ip);
        let place = self.place(sip);
        if !matches!(place, Place::Local | Place::Unspecified) {
            return;
        }
        let e = self.device_entry(DeviceKey::Mac(mac), ts);
        e.record.last_seen = e.record.last_seen.max(ts);
        e.record.traffic.packets_out += 1;
        e.record.traffic.bytes_out += u64::from(pkt.wire_len);
        let moved_vlan = pkt.vlan.is_some_and(|v| e.note_vlan(v));
        if moved_vlan {
            self.vlan_moved(DeviceKey::Mac(mac), pkt.vlan.unwrap_or(0), ts);
        }
        if place == Place::Unspecified {
            return;
        }
        let claim = a.operation == ArpOperation::Reply || a.sender_ip == a.target_ip;
        if claim {
            self.check_gateway_claim(mac, sip, ts);
        }
        let via = if claim {
            Via::ArpClaim
        } else {
            Via::ArpRequest
        };
        self.use_ip(mac, sip, via, ts);
    }

    pub(super) fn vlan_moved(&mut self, key: DeviceKey, vlan: u16, ts: Timestamp) {
        let Some(e) = self.devices.get(&key) else {
            return;
        };
        let before: Vec<String> = e
            .record
            .vlans
            .iter()
            .filter(|v| **v != vlan)
            .map(u16::to_string)
            .collect();
        let f = Finding::new(
            FindingKind::UnexpectedVlan,
            ts,
            key,
            0.8,
            format!(
                "{key} seen on VLAN {vlan}; before only on VLAN {}",
                before.join(", ")
            ),
        )
        .attr("vlan", vlan);
        self.raise(f);
    }

    /// An ARP claim on a gateway address from a MAC other than the router
    /// that owns it.
    fn check_gateway_claim(&mut self, mac: MacAddr, ip: IpAddr, ts: Timestamp) {
        if !self.gateway_ips.contains(&ip) {
            return;
        }
        let Some(owner) = self.ip_index.get(&ip).map(|b| b.mac) else {
            return;
        };
        let owner_is_router = self
            .devices
            .get(&DeviceKey::Mac(owner))
            .is_some_and(|e| e.is_router());
        if owner == mac || !owner_is_router {
            return;
        }
        let f = Finding::new(
            FindingKind::ArpSpoof,
            ts,
            DeviceKey::Mac(mac),
            0.9,
            format!("ARP claim: gateway address {ip} is at {mac}; the gateway is {owner}"),
        )
        .ip(ip)
        .severity(8)
        .attr("gateway_mac", owner.to_string())
        .attr("claimed_ip", ip.to_string());
        self.raise(f);
    }

    /// A MAC sent from an address that is not local: count it towards
    /// router detection (remote addresses are never bound to a MAC).
    pub(super) fn foreign_source(&mut self, mac: MacAddr, ip: IpAddr, ts: Timestamp) {
        let min = self.cfg.router_min_sources;
        let Some(e) = self.devices.get_mut(&DeviceKey::Mac(mac)) else {
            return;
        };
        let became_router = match &mut e.router {
            RouterState::Router => return,
            RouterState::Host => {
                e.router = RouterState::Probing(Box::new(RouterProbe {
                    window_start: ts,
                    sources: vec![ip],
                }));
                false
            }
            RouterState::Probing(p) => {
                if ts.since(p.window_start).0 > ROUTER_WINDOW.0 {
                    p.window_start = ts;
                    p.sources.clear();
                }
                if !p.sources.contains(&ip) {
                    p.sources.push(ip);
                }
                p.sources.len() > min
            }
        };
        if became_router {
            e.router = RouterState::Router;
            self.counters.routers += 1;
            let owned: Vec<IpAddr> = e.owned_ips().collect();
            for ip in owned {
                if self.gateway_ips.len() < MAX_GATEWAY_IPS && !self.gateway_ips.contains(&ip) {
                    self.gateway_ips.push(ip);
                }
            }
            let key = DeviceKey::Mac(mac);
            self.hint(key, Field::Service, EvidenceSource::Service, "router");
        }
    }
}
