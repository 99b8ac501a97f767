//! Capture summary: decoded packets in → totals, time span, link types,
//! protocol mix and top talkers out (what `gatewatch stats` prints).
//!
//! Limits: talkers are tracked for at most [`MAX_TALKERS`] addresses; packets
//! of addresses beyond that are counted in `stats.talkers_untracked`.

use std::net::IpAddr;

use hashbrown::HashMap;
use serde::Serialize;

use crate::counters::Counters;
use crate::decode::{Decoded, Network, Transport};
use crate::source::LinkType;
use crate::time::Timestamp;

/// Distinct IP addresses whose traffic is totalled for the top-talkers list.
pub const MAX_TALKERS: usize = 65_536;

/// Packets and wire bytes sent by one address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TalkerTotals {
    pub packets: u64,
    pub bytes: u64,
}

/// Running totals over a capture.
#[derive(Debug, Default)]
pub struct CaptureSummary {
    pub packets: u64,
    pub wire_bytes: u64,
    pub captured_bytes: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    /// Packets whose timestamp is earlier than the one before.
    pub out_of_order: u64,
    link_types: Vec<(LinkType, u64)>,
    talkers: HashMap<IpAddr, TalkerTotals, foldhash::fast::RandomState>,
    pub talkers_untracked: u64,
    protocols: [u64; PROTOCOL_NAMES.len()],
}

/// Rows of the protocol-mix table, in display order.
pub const PROTOCOL_NAMES: [&str; 8] = [
    "tcp",
    "udp",
    "icmp",
    "icmpv6",
    "other-ip",
    "malformed-ip",
    "arp",
    "non-ip",
];

impl CaptureSummary {
    pub fn new() -> Self {
        Self::default()
    }

    /// Accounts one decoded packet.
    pub fn observe(&mut self, pkt: &Decoded<'_>) {
        self.packets += 1;
        self.wire_bytes += u64::from(pkt.wire_len);
        self.captured_bytes += u64::from(pkt.cap_len);
        if self.first_ts.is_none() {
            self.first_ts = Some(pkt.ts);
        }
        if let Some(last) = self.last_ts {
            if pkt.ts < last {
                self.out_of_order += 1;
            }
        }
        self.last_ts = Some(self.last_ts.map_or(pkt.ts, |l| l.max(pkt.ts)));
        match self.link_types.iter_mut().find(|(l, _)| *l == pkt.link) {
            Some((_, n)) => *n += 1,
            None => self.link_types.push((pkt.link, 1)),
        }
        let proto = transport_name(pkt);
        if let Some(i) = PROTOCOL_NAMES.iter().position(|n| *n == proto) {
            if let Some(c) = self.protocols.get_mut(i) {
                *c += 1;
            }
        }
        if let Network::Ip(ip) = &pkt.network {
            let len = self.talkers.len();
            match self.talkers.get_mut(&ip.src) {
                Some(t) => {
                    t.packets += 1;
                    t.bytes += u64::from(pkt.wire_len);
                }
                None if len < MAX_TALKERS => {
                    self.talkers.insert(
                        ip.src,
                        TalkerTotals {
                            packets: 1,
                            bytes: u64::from(pkt.wire_len),
                        },
                    );
                }
                None => self.talkers_untracked += 1,
            }
        }
    }

    /// Link types with their packet counts, most frequent first.
    pub fn link_types(&self) -> Vec<(LinkType, u64)> {
        let mut v = self.link_types.clone();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    /// The `n` addresses that sent the most bytes (ties broken by address).
    pub fn top_talkers(&self, n: usize) -> Vec<(IpAddr, TalkerTotals)> {
        let mut v: Vec<_> = self.talkers.iter().map(|(a, t)| (*a, *t)).collect();
        v.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// Packets per protocol, in [`PROTOCOL_NAMES`] order, zero rows left out.
    pub fn protocol_mix(&self) -> Vec<(&'static str, u64)> {
        PROTOCOL_NAMES
            .iter()
            .zip(self.protocols.iter())
            .filter(|(_, n)| **n > 0)
            .map(|(name, n)| (*name, *n))
            .collect()
    }

    /// Seconds between the first and the last packet.
    pub fn span_secs(&self) -> f64 {
        match (self.first_ts, self.last_ts) {
            (Some(a), Some(b)) => b.since(a).as_secs_f64(),
            _ => 0.0,
        }
    }
}

impl Counters for CaptureSummary {
    fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
        f("stats.out_of_order_timestamps", self.out_of_order);
        f("stats.talkers_untracked", self.talkers_untracked);
    }
}

/// The transport name of a decoded packet, for protocol-mix tables.
pub fn transport_name(pkt: &Decoded<'_>) -> &'static str {
    match &pkt.network {
        Network::None => "non-ip",
        Network::Arp(_) => "arp",
        Network::Ip(ip) => match ip.transport {
            Transport::Tcp(_) => "tcp",
            Transport::Udp(_) => "udp",
            Transport::Icmp(m) if m.v6 => "icmpv6",
            Transport::Icmp(_) => "icmp",
            Transport::Other => "other-ip",
            Transport::Malformed => "malformed-ip",
        },
    }
}
