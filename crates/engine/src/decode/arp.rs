//! ARP: the bytes after the link header in → an Ethernet/IPv4 [`ArpPacket`]
//! (or [`Network::None`]) out.
//!
//! Only 6-byte hardware and 4-byte IPv4 protocol addresses are decoded; other
//! ARP flavours count as `decode.arp.unsupported`. Read with etherparse's
//! zero-copy `ArpPacketSlice`, which checks the address sizes against the
//! captured length.
#![deny(clippy::indexing_slicing)]

use std::net::Ipv4Addr;

use etherparse::{ArpPacketSlice, EtherType};

use super::counters::DecodeCounters;
use super::{ArpOperation, ArpPacket, MacAddr, Network};

/// Decodes an ARP message; `wire_avail` tells a snaplen cut from a short message.
pub(super) fn decode_arp<'a>(
    bytes: &[u8],
    wire_avail: usize,
    c: &mut DecodeCounters,
) -> Network<'a> {
    let arp = match ArpPacketSlice::from_slice(bytes) {
        Ok(arp) => arp,
        Err(e) => {
            if e.required_len <= wire_avail {
                c.header_cut_by_snaplen += 1;
            } else {
                c.arp_truncated += 1;
            }
            return Network::None;
        }
    };
    let addresses = (
        mac(arp.sender_hw_addr()),
        ipv4(arp.sender_protocol_addr()),
        mac(arp.target_hw_addr()),
        ipv4(arp.target_protocol_addr()),
    );
    let (Some(sender_mac), Some(sender_ip), Some(target_mac), Some(target_ip)) = addresses else {
        c.arp_unsupported += 1;
        return Network::None;
    };
    if arp.proto_addr_type() != EtherType::IPV4 {
        c.arp_unsupported += 1;
        return Network::None;
    }
    let operation = match arp.operation().0 {
        1 => ArpOperation::Request,
        2 => ArpOperation::Reply,
        other => ArpOperation::Other(other),
    };
    c.arp += 1;
    Network::Arp(ArpPacket {
        operation,
        sender_mac,
        sender_ip,
        target_mac,
        target_ip,
    })
}

fn mac(bytes: &[u8]) -> Option<MacAddr> {
    <[u8; 6]>::try_from(bytes).ok().map(MacAddr)
}

fn ipv4(bytes: &[u8]) -> Option<Ipv4Addr> {
    <[u8; 4]>::try_from(bytes).ok().map(Ipv4Addr::from)
}
