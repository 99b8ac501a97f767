//! The decoder stage: [`RawPacket`] in → [`Decoded`] out, counting what it saw
//! in [`DecodeCounters`].
//!
//! One call decodes the link, network and transport layers as far as the bytes
//! allow, borrows payloads from the capture buffer and never allocates. The
//! wire length of the record tells a snaplen cut (expected, counted as
//! `decode.truncated_by_snaplen`) from headers whose lengths lie (weirds).
//!
//! Why not etherparse's `LaxSlicedPacket` for the whole packet: it stops at the
//! first error with one error value (too coarse for named counters), skips the
//! transport header of first fragments, and rejects link headers we must
//! accept. The layers use etherparse's header slices where they fit instead.
#![deny(clippy::indexing_slicing)]

use super::arp::decode_arp;
use super::counters::DecodeCounters;
use super::ipv4::decode_ipv4;
use super::ipv6::decode_ipv6;
use super::link::{decode_link, LinkHeader, NetKind, NetStart};
use super::{Decoded, Network};
use crate::counters::Counters;
use crate::source::{LinkType, RawPacket};
use crate::time::Timestamp;

/// Decodes packets one at a time and keeps the counters of all of them.
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    counters: DecodeCounters,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes as far as the bytes allow; never panics; problems are counted.
    pub fn decode<'a>(&mut self, raw: &RawPacket<'a>) -> Decoded<'a> {
        let c = &mut self.counters;
        c.packets += 1;
        let cap_len = raw.data.len();
        let recorded = usize::try_from(raw.orig_len).unwrap_or(usize::MAX);
        // A record claiming fewer bytes on the wire than it holds is damaged:
        // the capture length wins.
        let wire_len = if recorded < cap_len {
            c.wire_len_below_cap_len += 1;
            cap_len
        } else {
            if recorded > cap_len {
                c.truncated_by_snaplen += 1;
            }
            recorded
        };
        let mut link = LinkHeader::default();
        let network = match decode_link(raw.link, raw.data, &mut link, c) {
            Some(start) => decode_network(start, wire_len, c),
            None => Network::None,
        };
        // Built in one expression so it lands in the caller's slot uncopied.
        Decoded {
            ts: raw.ts,
            wire_len: super::to_u32(wire_len),
            cap_len: super::to_u32(cap_len),
            link: raw.link,
            src_mac: link.src_mac,
            dst_mac: link.dst_mac,
            vlan: link.vlan,
            inner_vlan: link.inner_vlan,
            network,
        }
    }

    pub fn counters(&self) -> &DecodeCounters {
        &self.counters
    }
}

/// Decodes the network layer (and what it carries) found by the link layer.
// Inlined into `Decoder::decode`: the result is then built in place, not
// copied through the stack (measured ~25% faster per packet).
#[inline(always)]
fn decode_network<'a>(start: NetStart<'a>, wire_len: usize, c: &mut DecodeCounters) -> Network<'a> {
    let wire_avail = wire_len.saturating_sub(start.offset);
    let kind = match start.kind {
        // Raw IP: the version nibble decides. An empty packet or a bad
        // version is counted by the IPv4 decoder.
        NetKind::IpAnyVersion if start.bytes.first().map(|b| b >> 4) == Some(6) => NetKind::Ipv6,
        NetKind::IpAnyVersion => NetKind::Ipv4,
        kind => kind,
    };
    match kind {
        NetKind::Ipv6 => decode_ipv6(start.bytes, wire_avail, c),
        NetKind::Arp => decode_arp(start.bytes, wire_avail, c),
        NetKind::Ipv4 | NetKind::IpAnyVersion => decode_ipv4(start.bytes, wire_avail, c),
    }
}

/// Decodes one frame with a fresh decoder (wire length = captured length,
/// time 0). Convenience for fuzzing and property tests.
pub fn decode_bytes(link: LinkType, data: &[u8]) -> (Decoded<'_>, DecodeCounters) {
    let mut decoder = Decoder::new();
    let raw = RawPacket {
        ts: Timestamp::ZERO,
        data,
        orig_len: super::to_u32(data.len()),
        link,
        interface: 0,
    };
    let decoded = decoder.decode(&raw);
    (decoded, decoder.counters)
}

/// The counters are listed through the engine-wide trait.
impl Counters for Decoder {
    fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
        self.counters.visit(f);
    }
}
