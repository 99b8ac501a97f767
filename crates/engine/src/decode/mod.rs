//! Packet decoding: [`RawPacket`](crate::source::RawPacket) in → [`Decoded`]
//! (layers as borrowed slices) out, through [`Decoder::decode`].
//!
//! Link types: Ethernet (802.1Q / 802.1ad / QinQ VLAN, MPLS), Linux cooked SLL
//! and SLL2, raw IPv4/IPv6, BSD null/loopback, PPP, Cisco HDLC, PPI (Ethernet
//! inside). Layers: ARP, IPv4 (options; fragments counted and flagged), IPv6
//! (extension headers), TCP, UDP, ICMP, ICMPv6. Tunnels (GRE, VXLAN,
//! IP-in-IP) are not followed: the outer packet only. Malformed packets never
//! stop the run: what could be
//! decoded is returned and the problem is counted in [`DecodeCounters`].
//! Limits: [`MAX_VLAN_TAGS`], [`MAX_MPLS_LABELS`], [`MAX_IPV6_EXT_HEADERS`]; nothing is allocated
//! per packet.
//!
//! Files: `link` (link headers, VLANs), `arp`, `ipv4`, `ipv6` (extension
//! headers, fragments), `transport` (TCP, UDP, ICMP), `counters`, `decoder`
//! (the stage that chains them).
#![deny(clippy::indexing_slicing)]

mod arp;
mod counters;
mod decoder;
mod ipv4;
mod ipv6;
mod link;
mod transport;

pub use counters::DecodeCounters;
pub use decoder::{decode_bytes, Decoder};
pub use ipv6::MAX_IPV6_EXT_HEADERS;
pub use link::{MAX_MPLS_LABELS, MAX_VLAN_TAGS};

use std::net::IpAddr;

use crate::source::LinkType;
use crate::time::Timestamp;

/// A 48-bit IEEE MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl std::fmt::Display for MacAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl serde::Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for MacAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::identity::model::parse_mac(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a MAC address")))
    }
}

/// One decoded packet. Everything borrowed points into the capture buffer.
#[derive(Debug, Clone)]
pub struct Decoded<'a> {
    pub ts: Timestamp,
    /// Length of the frame on the wire (pcap `orig_len`; raised to `cap_len`
    /// when a damaged record claims less, counted as
    /// `decode.wire_len_below_cap_len`).
    pub wire_len: u32,
    /// Bytes actually captured.
    pub cap_len: u32,
    pub link: LinkType,
    pub src_mac: Option<MacAddr>,
    pub dst_mac: Option<MacAddr>,
    /// Outer 802.1Q VLAN id, if tagged.
    pub vlan: Option<u16>,
    /// Inner VLAN id for QinQ.
    pub inner_vlan: Option<u16>,
    pub network: Network<'a>,
}

/// The network layer of a packet.
#[derive(Debug, Clone)]
pub enum Network<'a> {
    /// No network layer could be decoded (unknown ethertype, truncated, …).
    None,
    Arp(ArpPacket),
    Ip(IpPacket<'a>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpOperation {
    Request,
    Reply,
    Other(u16),
}

/// An Ethernet/IPv4 ARP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpPacket {
    pub operation: ArpOperation,
    pub sender_mac: MacAddr,
    pub sender_ip: std::net::Ipv4Addr,
    pub target_mac: MacAddr,
    pub target_ip: std::net::Ipv4Addr,
}

/// IP fragment information (IPv4 flags/offset or IPv6 fragment header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment {
    /// Offset of this fragment's payload in bytes.
    pub offset: u32,
    pub more_fragments: bool,
    pub id: u32,
}

/// An IPv4 or IPv6 packet.
#[derive(Debug, Clone)]
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Transport protocol number after IPv6 extension headers.
    pub protocol: u8,
    /// TTL / hop limit.
    pub ttl: u8,
    /// IP length from the header: IPv4 total length, IPv6 payload length + 40.
    /// This is what Zeek counts as `ip_bytes`, even when the capture was cut.
    pub ip_len: u32,
    /// Set when this packet is a fragment (first or later).
    pub fragment: Option<Fragment>,
    pub transport: Transport<'a>,
}

/// TCP flag bits as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;

    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn psh(self) -> bool {
        self.0 & Self::PSH != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
    pub fn urg(self) -> bool {
        self.0 & Self::URG != 0
    }
}

/// A TCP segment.
#[derive(Debug, Clone, Copy)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// Payload bytes present in the capture (may be cut by snaplen).
    pub payload: &'a [u8],
    /// Payload length according to the IP and TCP headers.
    pub payload_len: u32,
}

/// A UDP datagram.
#[derive(Debug, Clone, Copy)]
pub struct UdpDatagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    /// Payload bytes present in the capture.
    pub payload: &'a [u8],
    /// Payload length according to the UDP header (clamped to the IP length).
    pub payload_len: u32,
}

/// An ICMP (v4) or ICMPv6 message.
#[derive(Debug, Clone, Copy)]
pub struct IcmpMessage<'a> {
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
    /// Bytes after the 4-byte type/code/checksum header.
    pub payload: &'a [u8],
    /// Payload length according to the IP header.
    pub payload_len: u32,
}

/// The transport layer of an IP packet.
#[derive(Debug, Clone, Copy)]
pub enum Transport<'a> {
    Tcp(TcpSegment<'a>),
    Udp(UdpDatagram<'a>),
    Icmp(IcmpMessage<'a>),
    /// A non-first fragment, or a protocol we do not decode (counted by protocol number).
    Other,
    /// The transport header was expected but missing or malformed (counted as weird).
    Malformed,
}

/// A length as `u32`; lengths here come from 16-bit header fields or a
/// capture record, so saturation never happens in practice.
fn to_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}
