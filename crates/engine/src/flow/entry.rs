//! One tracked connection: the fixed-size entry the table keeps per flow
//! (about 200 bytes, no heap), and the per-packet accounting every protocol
//! shares: packets, IP bytes (IP header length fields, like Zeek's ConnSize
//! analyzer), wire bytes, payload bytes for UDP/ICMP, first-seen MAC
//! addresses and VLANs.
//!
//! Per-direction data is indexed by the physical side of the flow key
//! (0/1); `orig_side` says which side is the originator, so flipping roles
//! is a single toggle. TCP state lives in a separate slab (`tcp` index) so
//! UDP and ICMP flows stay small.
#![deny(clippy::indexing_slicing)]

use crate::decode::{Decoded, MacAddr};

use super::expiry::{Links, Timed};
use super::history::History;
use super::key::FlowKey;

/// Marks a flow without TCP state.
pub(crate) const NO_TCP: u32 = u32::MAX;

/// Counts of one direction.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DirStats {
    pub pkts: u64,
    pub ip_bytes: u64,
    pub l2_bytes: u64,
    /// UDP/ICMP payload bytes (TCP sizes come from sequence numbers).
    pub payload: u64,
}

/// A tracked connection.
#[derive(Debug, Clone)]
pub(crate) struct Flow {
    pub key: FlowKey,
    /// Side of the key that is the originator (0 or 1).
    pub orig_side: u8,
    /// Separates uids of connections on one key starting at the same instant.
    pub salt: u8,
    /// Bit per side: the MAC address is known.
    pub mac_known: u8,
    pub vlan: u16,
    pub inner_vlan: u16,
    /// First packet time (ns).
    pub start: i64,
    /// Connection last time (ns; never before `start`).
    pub last: i64,
    /// When the current timer class writes the flow (ns).
    pub deadline: i64,
    /// Creation ordinal, the `flow_id` analyzers see.
    pub id: u64,
    pub links: Links,
    /// Index into the TCP slab, or [`NO_TCP`].
    pub tcp: u32,
    pub stats: [DirStats; 2],
    pub mac: [[u8; 6]; 2],
    pub history: History,
}

impl Timed for Flow {
    fn links(&self) -> &Links {
        &self.links
    }

    fn links_mut(&mut self) -> &mut Links {
        &mut self.links
    }

    fn deadline(&self) -> i64 {
        self.deadline
    }
}

fn other(side: usize) -> usize {
    1 - (side & 1)
}

impl Flow {
    /// A new flow whose first packet `pkt` was sent by `src_side`.
    pub fn new(key: FlowKey, src_side: usize, pkt: &Decoded<'_>, id: u64, salt: u8) -> Flow {
        let ts = pkt.ts.as_nanos();
        let mut flow = Flow {
            key,
            orig_side: (src_side & 1) as u8,
            salt,
            mac_known: 0,
            vlan: pkt.vlan.unwrap_or(0),
            inner_vlan: pkt.inner_vlan.unwrap_or(0),
            start: ts,
            last: ts,
            deadline: i64::MAX,
            id,
            links: Links::default(),
            tcp: NO_TCP,
            stats: [DirStats::default(); 2],
            mac: [[0; 6]; 2],
            history: History::default(),
        };
        // Zeek takes both MACs from the first packet (source → its sender).
        flow.learn_mac(src_side, pkt.src_mac);
        flow.learn_mac(other(src_side), pkt.dst_mac);
        flow
    }

    pub fn orig_side(&self) -> usize {
        usize::from(self.orig_side & 1)
    }

    pub fn is_orig(&self, side: usize) -> bool {
        side == self.orig_side()
    }

    fn learn_mac(&mut self, side: usize, mac: Option<MacAddr>) {
        let bit = 1u8 << (side & 1);
        if self.mac_known & bit != 0 {
            return;
        }
        if let (Some(m), Some(slot)) = (mac, self.mac.get_mut(side)) {
            *slot = m.0;
            self.mac_known |= bit;
        }
    }

    pub fn mac_of(&self, side: usize) -> Option<MacAddr> {
        let bit = 1u8 << (side & 1);
        if self.mac_known & bit == 0 {
            return None;
        }
        self.mac.get(side).map(|m| MacAddr(*m))
    }

    /// Counts one packet from `side` (ConnSize: every packet, any protocol).
    pub fn account(&mut self, side: usize, pkt: &Decoded<'_>, ip_len: u32) {
        if let Some(s) = self.stats.get_mut(side) {
            s.pkts += 1;
            s.ip_bytes += u64::from(ip_len);
            s.l2_bytes += u64::from(pkt.wire_len);
        }
        // A MAC the first packet lacked is taken from the side's own packets.
        if self.mac_known != 0b11 {
            self.learn_mac(side, pkt.src_mac);
            self.learn_mac(other(side), pkt.dst_mac);
        }
    }

    pub fn add_payload(&mut self, side: usize, bytes: u32) {
        if let Some(s) = self.stats.get_mut(side) {
            s.payload += u64::from(bytes);
        }
    }

    /// Moves the last time forward (packet times may go backwards).
    pub fn touch(&mut self, ts: i64) {
        if ts > self.last {
            self.last = ts;
        }
    }

    pub fn stats_of(&self, side: usize) -> DirStats {
        self.stats.get(side).copied().unwrap_or_default()
    }
}
