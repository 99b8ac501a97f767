//! The connection key: a [`Decoded`] packet in → a [`PacketView`] (addresses,
//! ports, transport facts) and a canonical, bidirectional [`FlowKey`] out.
//!
//! Like Zeek's `IPBasedConnKey`, the two (address, port) pairs are stored in
//! sorted order so both directions find the same entry; the packet's side of
//! the key (0 or 1) says which pair sent it. ICMP uses the message type as
//! source port and the counterpart type (echo request ↔ reply, …) as
//! destination port, so a request and its reply are one connection; ICMP
//! messages without a counterpart are one-way: their key is not sorted and
//! their destination "port" is the ICMP code. Other IP protocols use ports 0.
//! Packets without an IP layer, non-first fragments and malformed transport
//! headers produce a [`Skip`] reason for the counters.
#![deny(clippy::indexing_slicing)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::decode::{Decoded, Network, TcpFlags, Transport};

pub(crate) const PROTO_ICMP: u8 = 1;
pub(crate) const PROTO_TCP: u8 = 6;
pub(crate) const PROTO_UDP: u8 = 17;
pub(crate) const PROTO_ICMPV6: u8 = 58;

const FLAG_V6: u8 = 1;
const FLAG_ONE_WAY: u8 = 2;

/// Canonical connection key: two (address, port) sides, protocol, flags.
/// IPv4 addresses are stored IPv4-mapped, with the family in `flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FlowKey {
    pub addr: [[u8; 16]; 2],
    pub port: [u16; 2],
    pub proto: u8,
    pub flags: u8,
}

impl FlowKey {
    pub fn ip(&self, side: usize) -> IpAddr {
        let octets = if side == 0 {
            self.addr[0]
        } else {
            self.addr[1]
        };
        let v6 = Ipv6Addr::from(octets);
        if self.flags & FLAG_V6 != 0 {
            IpAddr::V6(v6)
        } else {
            IpAddr::V4(v6.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED))
        }
    }

    pub fn port(&self, side: usize) -> u16 {
        if side == 0 {
            self.port[0]
        } else {
            self.port[1]
        }
    }
}

/// The transport facts the flow table needs from one packet.
#[derive(Debug, Clone, Copy)]
pub(crate) enum L4 {
    Tcp(TcpFacts),
    Udp {
        payload_len: u32,
    },
    /// ICMP payload bytes after the 8-byte ICMP header, as Zeek counts them.
    Icmp {
        payload_len: u32,
    },
    Other,
}

/// The parts of a TCP segment the state machine reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TcpFacts {
    pub flags: TcpFlags,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    /// Payload length from the IP and TCP headers.
    pub len: u32,
    /// The whole payload was captured (Zeek hands only those to reassembly).
    pub captured_all: bool,
}

/// One IP packet reduced to what the flow table keys and counts on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PacketView {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub src_port: u16,
    pub dst_port: u16,
    pub proto: u8,
    pub v6: bool,
    pub one_way: bool,
    /// Destination is the IPv4 limited broadcast (Zeek never flips those).
    pub dst_broadcast: bool,
    pub ip_len: u32,
    pub l4: L4,
}

/// Why a packet was not accounted to any connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skip {
    NonIp,
    LaterFragment,
    MalformedTransport,
}

fn mapped(addr: IpAddr) -> ([u8; 16], bool) {
    match addr {
        IpAddr::V4(a) => (a.to_ipv6_mapped().octets(), false),
        IpAddr::V6(a) => (a.octets(), true),
    }
}

impl PacketView {
    pub fn from_decoded(pkt: &Decoded<'_>) -> Result<PacketView, Skip> {
        let ip = match &pkt.network {
            Network::Ip(ip) => ip,
            Network::None | Network::Arp(_) => return Err(Skip::NonIp),
        };
        if ip.fragment.is_some_and(|f| f.offset > 0) {
            return Err(Skip::LaterFragment);
        }
        let (src, v6) = mapped(ip.src);
        let (dst, _) = mapped(ip.dst);
        let dst_broadcast = ip.dst == IpAddr::V4(Ipv4Addr::BROADCAST);
        let (src_port, dst_port, one_way, l4) = match &ip.transport {
            Transport::Tcp(t) => {
                let facts = TcpFacts {
                    flags: t.flags,
                    seq: t.seq,
                    ack: t.ack,
                    window: t.window,
                    len: t.payload_len,
                    captured_all: t.payload.len() >= t.payload_len as usize,
                };
                (t.src_port, t.dst_port, false, L4::Tcp(facts))
            }
            Transport::Udp(u) => {
                let l4 = L4::Udp {
                    payload_len: u.payload_len,
                };
                (u.src_port, u.dst_port, false, l4)
            }
            Transport::Icmp(m) => {
                let (counterpart, one_way) = if m.v6 {
                    icmp6_counterpart(m.icmp_type, m.code)
                } else {
                    icmp4_counterpart(m.icmp_type, m.code)
                };
                // `payload_len` counts from the end of the 4-byte
                // type/code/checksum header; Zeek counts after 8 bytes.
                let l4 = L4::Icmp {
                    payload_len: m.payload_len.saturating_sub(4),
                };
                (u16::from(m.icmp_type), counterpart, one_way, l4)
            }
            Transport::Other => (0, 0, false, L4::Other),
            Transport::Malformed => return Err(Skip::MalformedTransport),
        };
        Ok(PacketView {
            src,
            dst,
            src_port,
            dst_port,
            proto: ip.protocol,
            v6,
            one_way,
            dst_broadcast,
            ip_len: ip.ip_len,
            l4,
        })
    }

    /// The canonical key and the side (0 or 1) of the key that sent the packet.
    pub fn key(&self) -> (FlowKey, usize) {
        let mut flags = if self.v6 { FLAG_V6 } else { 0 };
        if self.one_way {
            flags |= FLAG_ONE_WAY;
        }
        let src_first = self.one_way || (self.src, self.src_port) < (self.dst, self.dst_port);
        let (addr, port, side) = if src_first {
            ([self.src, self.dst], [self.src_port, self.dst_port], 0)
        } else {
            ([self.dst, self.src], [self.dst_port, self.src_port], 1)
        };
        (
            FlowKey {
                addr,
                port,
                proto: self.proto,
                flags,
            },
            side,
        )
    }
}

/// Zeek `ICMP4_counterpart`: (counterpart type or code, one-way).
pub(crate) fn icmp4_counterpart(icmp_type: u8, code: u8) -> (u16, bool) {
    let counterpart = match icmp_type {
        8 => 0,   // echo request → echo reply
        0 => 8,   // echo reply → echo request
        13 => 14, // timestamp
        14 => 13,
        15 => 16, // information request
        16 => 15,
        10 => 9, // router solicitation → advertisement
        9 => 10,
        17 => 18, // address mask
        18 => 17,
        _ => return (u16::from(code), true),
    };
    (counterpart, false)
}

/// Zeek `ICMP6_counterpart`: (counterpart type or code, one-way).
pub(crate) fn icmp6_counterpart(icmp_type: u8, code: u8) -> (u16, bool) {
    let counterpart = match icmp_type {
        128 => 129, // echo request → reply
        129 => 128,
        133 => 134, // router solicitation → advertisement
        134 => 133,
        135 => 136, // neighbor solicitation → advertisement
        136 => 135,
        130 => 131, // MLD query → report
        131 => 130,
        139 => 140, // node information query → response
        140 => 139,
        144 => 145, // home agent address discovery
        145 => 144,
        _ => return (u16::from(code), true),
    };
    (counterpart, false)
}

/// The protocol number as Zeek's transport name.
pub(crate) fn proto_name(proto: u8) -> crate::flow::Proto {
    match proto {
        PROTO_TCP => crate::flow::Proto::Tcp,
        PROTO_UDP => crate::flow::Proto::Udp,
        PROTO_ICMP | PROTO_ICMPV6 => crate::flow::Proto::Icmp,
        _ => crate::flow::Proto::Other,
    }
}
