//! Transport layer: an IP protocol number and a [`Segment`] (captured bytes
//! plus the length the IP header declares) in → [`Transport`] out.
//!
//! `payload_len` always comes from the headers (IP length − transport header;
//! UDP length clamped to the IP payload), `payload` is what was captured of it.
//! A transport header the IP length has no room for, a TCP data offset below 5
//! or beyond the segment, or a UDP length below 8 gives
//! [`Transport::Malformed`] and a named weird; a header cut by the snaplen is
//! counted as `decode.header_cut_by_snaplen` instead. IP-in-IP (4, 41) is not
//! followed: the outer packet only, [`Transport::Other`].
//!
//! UDP uses etherparse's `UdpHeaderSlice`. TCP is hand-written: etherparse's
//! `TcpHeaderSlice` refuses a header whose options the snaplen cut, but the 20
//! fixed bytes still give ports, flags and sequence numbers, which header-only
//! captures (snaplen 54–96) rely on. ICMP is hand-written: etherparse's ICMP
//! slices need 8 bytes, we need only type and code.
#![deny(clippy::indexing_slicing)]

use etherparse::UdpHeaderSlice;

use super::counters::DecodeCounters;
use super::{to_u32, IcmpMessage, TcpFlags, TcpSegment, Transport, UdpDatagram};

const ICMP: u8 = 1;
const IPV4_IN_IP: u8 = 4;
const TCP: u8 = 6;
const UDP: u8 = 17;
const IPV6_IN_IP: u8 = 41;
const ICMPV6: u8 = 58;

const TCP_MIN_HEADER: usize = 20;
const UDP_HEADER: usize = 8;
const ICMP_HEADER: usize = 4;

/// The transport part of an IP packet.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment<'a> {
    /// Captured bytes of the segment (never more than `len`).
    pub captured: &'a [u8],
    /// Segment length according to the IP header(s).
    pub len: usize,
    /// The packet is the first fragment of a larger datagram.
    pub first_fragment: bool,
}

/// Decodes the transport header `protocol` of an IPv4 (`v6 == false`) or IPv6 packet.
// Inlined into `Decoder::decode`: the result is then built in place, not
// copied through the stack (measured ~25% faster per packet).
#[inline(always)]
pub(super) fn decode_transport<'a>(
    protocol: u8,
    v6: bool,
    segment: Segment<'a>,
    c: &mut DecodeCounters,
) -> Transport<'a> {
    match (protocol, v6) {
        (TCP, _) => tcp(segment, c),
        (UDP, _) => udp(segment, c),
        (ICMP, false) | (ICMPV6, true) => icmp(segment, v6, c),
        (IPV4_IN_IP | IPV6_IN_IP, _) => {
            c.ip_in_ip += 1;
            Transport::Other
        }
        _ => {
            c.other_ip_proto += 1;
            Transport::Other
        }
    }
}

fn tcp<'a>(segment: Segment<'a>, c: &mut DecodeCounters) -> Transport<'a> {
    if segment.len < TCP_MIN_HEADER {
        c.tcp_truncated_header += 1;
        return Transport::Malformed;
    }
    let Some((fixed, after_fixed)) = segment.captured.split_first_chunk::<TCP_MIN_HEADER>() else {
        c.header_cut_by_snaplen += 1;
        return Transport::Malformed;
    };
    let [s0, s1, d0, d1, q0, q1, q2, q3, a0, a1, a2, a3, offset, flags, w0, w1, _, _, _, _] =
        *fixed;
    let header_len = usize::from(offset >> 4) * 4;
    if header_len < TCP_MIN_HEADER || header_len > segment.len {
        c.tcp_bad_data_offset += 1;
        return Transport::Malformed;
    }
    let payload = match after_fixed.get(header_len - TCP_MIN_HEADER..) {
        Some(payload) => payload,
        None => {
            // Options present on the wire but cut by the snaplen: the fixed
            // header is sound, the payload was not captured.
            c.header_cut_by_snaplen += 1;
            &[]
        }
    };
    c.tcp += 1;
    Transport::Tcp(TcpSegment {
        src_port: u16::from_be_bytes([s0, s1]),
        dst_port: u16::from_be_bytes([d0, d1]),
        seq: u32::from_be_bytes([q0, q1, q2, q3]),
        ack: u32::from_be_bytes([a0, a1, a2, a3]),
        flags: TcpFlags(flags),
        window: u16::from_be_bytes([w0, w1]),
        payload,
        payload_len: to_u32(segment.len - header_len),
    })
}

fn udp<'a>(segment: Segment<'a>, c: &mut DecodeCounters) -> Transport<'a> {
    if segment.len < UDP_HEADER {
        c.udp_truncated_header += 1;
        return Transport::Malformed;
    }
    let Ok(header) = UdpHeaderSlice::from_slice(segment.captured) else {
        c.header_cut_by_snaplen += 1;
        return Transport::Malformed;
    };
    let udp_len = usize::from(header.length());
    if udp_len < UDP_HEADER {
        c.udp_bad_length += 1;
        return Transport::Malformed;
    }
    let ip_room = segment.len - UDP_HEADER;
    let mut payload_len = udp_len - UDP_HEADER;
    if payload_len > ip_room {
        // A first fragment carries only the start of the datagram: expected.
        if !segment.first_fragment {
            c.udp_length_exceeds_ip += 1;
        }
        payload_len = ip_room;
    }
    let after_header = segment.captured.get(UDP_HEADER..).unwrap_or_default();
    let payload = after_header.get(..payload_len).unwrap_or(after_header);
    c.udp += 1;
    Transport::Udp(UdpDatagram {
        src_port: header.source_port(),
        dst_port: header.destination_port(),
        payload,
        payload_len: to_u32(payload_len),
    })
}

fn icmp<'a>(segment: Segment<'a>, v6: bool, c: &mut DecodeCounters) -> Transport<'a> {
    if segment.len < ICMP_HEADER {
        c.icmp_truncated_header += 1;
        return Transport::Malformed;
    }
    let Some((header, payload)) = segment.captured.split_first_chunk::<ICMP_HEADER>() else {
        c.header_cut_by_snaplen += 1;
        return Transport::Malformed;
    };
    let [icmp_type, code, _, _] = *header;
    if v6 {
        c.icmpv6 += 1;
    } else {
        c.icmp += 1;
    }
    Transport::Icmp(IcmpMessage {
        v6,
        icmp_type,
        code,
        payload,
        payload_len: to_u32(segment.len - ICMP_HEADER),
    })
}
