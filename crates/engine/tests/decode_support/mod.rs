//! Shared helpers of the decode tests: hand-built frames for every link type,
//! a one-line summary of a decoded packet, and the invariants every decoded
//! packet must satisfy whatever bytes went in.
#![allow(clippy::expect_used)] // tests may panic on broken fixtures
#![allow(dead_code)]

use etherparse::PacketBuilder;
use gatewatch_engine::decode::{Decoded, Network, Transport};
use gatewatch_engine::source::LinkType;

pub const MAC_A: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0a];
pub const MAC_B: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0b];
pub const IP_A: [u8; 4] = [192, 168, 1, 10];
pub const IP_B: [u8; 4] = [10, 16, 100, 73];
pub const IP6_A: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a,
];
pub const IP6_B: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
];

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
pub const ETHERTYPE_ARP: u16 = 0x0806;

/// Raw IPv4 + TCP (PSH|ACK) from A:40000 to B:1883 carrying `payload`.
pub fn ipv4_tcp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(IP_A, IP_B, 64)
        .tcp(40000, 1883, 1000, 5840)
        .psh()
        .ack(2000)
        .write(&mut out, payload)
        .expect("build ipv4 tcp");
    out
}

/// Raw IPv4 + UDP from A:5353 to B:53 carrying `payload`.
pub fn ipv4_udp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(IP_A, IP_B, 64)
        .udp(5353, 53)
        .write(&mut out, payload)
        .expect("build ipv4 udp");
    out
}

/// Raw IPv6 + TCP SYN from A6:40000 to B6:443 carrying `payload`.
pub fn ipv6_tcp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv6(IP6_A, IP6_B, 32)
        .tcp(40000, 443, 7, 1024)
        .syn()
        .write(&mut out, payload)
        .expect("build ipv6 tcp");
    out
}

/// Raw IPv6 + UDP from A6:546 to B6:547 carrying `payload`.
pub fn ipv6_udp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv6(IP6_A, IP6_B, 32)
        .udp(546, 547)
        .write(&mut out, payload)
        .expect("build ipv6 udp");
    out
}

/// An Ethernet II frame A → B.
pub fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&MAC_B);
    out.extend_from_slice(&MAC_A);
    out.extend_from_slice(&ethertype.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An Ethernet frame with VLAN tags `(tpid, vlan id)`, outermost first.
pub fn ethernet_tagged(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&MAC_B);
    out.extend_from_slice(&MAC_A);
    for &(tpid, id) in tags {
        out.extend_from_slice(&tpid.to_be_bytes());
        // Priority 3 in the top bits must not leak into the id.
        out.extend_from_slice(&((3u16 << 13) | id).to_be_bytes());
    }
    out.extend_from_slice(&ethertype.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Linux cooked v1: outgoing packet, ARPHRD `hatype`, sender MAC A.
pub fn sll(hatype: u16, protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&4u16.to_be_bytes()); // outgoing
    out.extend_from_slice(&hatype.to_be_bytes());
    out.extend_from_slice(&6u16.to_be_bytes());
    out.extend_from_slice(&MAC_A);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&protocol.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Linux cooked v2: interface 3, ARPHRD `hatype`, sender MAC A.
pub fn sll2(hatype: u16, protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&protocol.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&3u32.to_be_bytes());
    out.extend_from_slice(&hatype.to_be_bytes());
    out.push(0); // to us
    out.push(6);
    out.extend_from_slice(&MAC_A);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(payload);
    out
}

/// BSD null / loop header: the 4-byte family in the given byte order.
pub fn null(family: u32, little_endian: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if little_endian {
        out.extend_from_slice(&family.to_le_bytes());
    } else {
        out.extend_from_slice(&family.to_be_bytes());
    }
    out.extend_from_slice(payload);
    out
}

pub fn with_prefix(prefix: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    out.extend_from_slice(payload);
    out
}

/// A frame in the seed-corpus file format: little-endian link type, then the frame.
pub fn corpus_file(link: LinkType, frame: &[u8]) -> Vec<u8> {
    with_prefix(&link.0.to_le_bytes(), frame)
}

/// A one-line, stable description of what was decoded.
pub fn summary(d: &Decoded<'_>) -> String {
    let mut s = String::from(d.link.name());
    if let Some(v) = d.vlan {
        s.push_str(&format!(" vlan={v}"));
    }
    if let Some(v) = d.inner_vlan {
        s.push_str(&format!(" inner_vlan={v}"));
    }
    match &d.network {
        Network::None => s.push_str(" none"),
        Network::Arp(a) => s.push_str(&format!(
            " arp {:?} {}/{} -> {}/{}",
            a.operation, a.sender_ip, a.sender_mac, a.target_ip, a.target_mac
        )),
        Network::Ip(ip) => {
            s.push_str(&format!(
                " ip {} -> {} proto={} ttl={} ip_len={}",
                ip.src, ip.dst, ip.protocol, ip.ttl, ip.ip_len
            ));
            if let Some(f) = ip.fragment {
                s.push_str(&format!(
                    " frag(off={} mf={} id={})",
                    f.offset, f.more_fragments, f.id
                ));
            }
            match ip.transport {
                Transport::Tcp(t) => s.push_str(&format!(
                    " tcp {}->{} flags={:02x} payload={}/{}",
                    t.src_port,
                    t.dst_port,
                    t.flags.0,
                    t.payload.len(),
                    t.payload_len
                )),
                Transport::Udp(u) => s.push_str(&format!(
                    " udp {}->{} payload={}/{}",
                    u.src_port,
                    u.dst_port,
                    u.payload.len(),
                    u.payload_len
                )),
                Transport::Icmp(i) => s.push_str(&format!(
                    " icmp{} type={} code={} payload={}/{}",
                    if i.v6 { "v6" } else { "" },
                    i.icmp_type,
                    i.code,
                    i.payload.len(),
                    i.payload_len
                )),
                Transport::Other => s.push_str(" other"),
                Transport::Malformed => s.push_str(" malformed"),
            }
        }
    }
    s
}

/// Checks what must hold for any input; panics with the broken rule.
pub fn check_invariants(data: &[u8], d: &Decoded<'_>) {
    assert_eq!(
        d.cap_len as usize,
        data.len(),
        "cap_len is the captured length"
    );
    assert!(
        d.wire_len >= d.cap_len,
        "wire_len {} < cap_len {}",
        d.wire_len,
        d.cap_len
    );
    let frame = data.as_ptr_range();
    let inside = |payload: &[u8]| {
        payload.is_empty()
            || (frame.start <= payload.as_ptr() && payload.as_ptr_range().end <= frame.end)
    };
    if let Network::Ip(ip) = &d.network {
        assert!(
            ip.ip_len <= d.wire_len,
            "ip_len {} beyond wire_len {}",
            ip.ip_len,
            d.wire_len
        );
        let min_header = if ip.src.is_ipv4() { 20 } else { 40 };
        assert!(
            ip.ip_len >= min_header,
            "ip_len {} below the header",
            ip.ip_len
        );
        if let Some(f) = ip.fragment {
            if f.offset != 0 {
                assert!(matches!(
                    ip.transport,
                    Transport::Other | Transport::Malformed
                ));
            }
        }
        let (payload, payload_len) = match ip.transport {
            Transport::Tcp(t) => (t.payload, t.payload_len),
            Transport::Udp(u) => (u.payload, u.payload_len),
            Transport::Icmp(i) => (i.payload, i.payload_len),
            Transport::Other | Transport::Malformed => (&[][..], 0),
        };
        assert!(
            payload.len() as u64 <= u64::from(payload_len),
            "captured payload {} longer than payload_len {payload_len}",
            payload.len()
        );
        assert!(
            payload_len < ip.ip_len,
            "payload_len {payload_len} >= ip_len {}",
            ip.ip_len
        );
        assert!(inside(payload), "payload must borrow from the frame");
    }
}

/// Decodes `frame` and returns its summary and counters (nothing borrowed).
pub fn describe(
    link: LinkType,
    frame: &[u8],
) -> (String, gatewatch_engine::decode::DecodeCounters) {
    let (d, c) = gatewatch_engine::decode::decode_bytes(link, frame);
    check_invariants(frame, &d);
    (summary(&d), c)
}

/// A hand-built IPv4 packet A → B with correct IHL and total length (checksum
/// left 0: the decoder does not verify it). `flags_fragment` is the raw 16-bit
/// flags + fragment offset field (0x2000 = more fragments).
pub fn ipv4_raw(
    protocol: u8,
    options: &[u8],
    flags_fragment: u16,
    id: u16,
    payload: &[u8],
) -> Vec<u8> {
    assert!(options.len() % 4 == 0 && options.len() <= 40);
    let header_len = 20 + options.len();
    let total = (header_len + payload.len()) as u16;
    let mut out = vec![0x40 | (header_len / 4) as u8, 0];
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags_fragment.to_be_bytes());
    out.extend_from_slice(&[64, protocol, 0, 0]);
    out.extend_from_slice(&IP_A);
    out.extend_from_slice(&IP_B);
    out.extend_from_slice(options);
    out.extend_from_slice(payload);
    out
}

/// A hand-built IPv6 header A6 → B6; `payload` includes any extension headers.
pub fn ipv6_raw(next_header: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x60, 0, 0, 0];
    out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    out.extend_from_slice(&[next_header, 32]);
    out.extend_from_slice(&IP6_A);
    out.extend_from_slice(&IP6_B);
    out.extend_from_slice(payload);
    out
}

/// A hand-built TCP header 40000 → 80 with the given data offset (in 32-bit
/// words, may lie), flags, options and payload.
pub fn tcp_raw(data_offset: u8, flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&40000u16.to_be_bytes());
    out.extend_from_slice(&80u16.to_be_bytes());
    out.extend_from_slice(&1u32.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&[data_offset << 4, flags]);
    out.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
    out.extend_from_slice(options);
    out.extend_from_slice(payload);
    out
}

/// A hand-built UDP header 5353 → 53; `length` None means the true length.
pub fn udp_raw(length: Option<u16>, payload: &[u8]) -> Vec<u8> {
    let len = length.unwrap_or((8 + payload.len()) as u16);
    let mut out = Vec::new();
    out.extend_from_slice(&5353u16.to_be_bytes());
    out.extend_from_slice(&53u16.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(payload);
    out
}

/// An Ethernet/IPv4 ARP message; `operation` 1 = request, 2 = reply.
pub fn arp(operation: u16, target_mac: [u8; 6]) -> Vec<u8> {
    let mut out = vec![0, 1, 0x08, 0x00, 6, 4];
    out.extend_from_slice(&operation.to_be_bytes());
    out.extend_from_slice(&MAC_A);
    out.extend_from_slice(&IP_A);
    out.extend_from_slice(&target_mac);
    out.extend_from_slice(&IP_B);
    out
}

/// Decodes `data` as a packet whose wire length was `orig_len` (snaplen cut
/// when larger than `data`), returning summary and counters.
pub fn describe_cut(
    link: LinkType,
    data: &[u8],
    orig_len: u32,
) -> (String, gatewatch_engine::decode::DecodeCounters) {
    let mut decoder = gatewatch_engine::decode::Decoder::new();
    let raw = gatewatch_engine::RawPacket {
        ts: gatewatch_engine::Timestamp::ZERO,
        data,
        orig_len,
        link,
        interface: 0,
    };
    let d = decoder.decode(&raw);
    check_invariants(data, &d);
    (summary(&d), decoder.counters().clone())
}
