//! Network and transport layers on well-formed packets: ARP, IPv4 options and
//! fragments, IPv6 extension headers and fragments, ICMP, ICMPv6, tunnels.
#![allow(clippy::expect_used)] // tests may panic on broken fixtures

mod decode_support;

use decode_support::*;
use etherparse::PacketBuilder;
use gatewatch_engine::decode::{
    decode_bytes, ArpOperation, Fragment, MacAddr, Network, Transport, MAX_IPV6_EXT_HEADERS,
};
use gatewatch_engine::source::LinkType;

const RAW: LinkType = LinkType::RAW;

#[test]
fn arp_request_and_reply() {
    let frame = ethernet(ETHERTYPE_ARP, &arp(1, [0; 6]));
    let (d, c) = decode_bytes(LinkType::ETHERNET, &frame);
    let Network::Arp(a) = d.network else {
        panic!("not ARP: {}", summary(&d))
    };
    assert_eq!(a.operation, ArpOperation::Request);
    assert_eq!(a.sender_mac, MacAddr(MAC_A));
    assert_eq!((a.sender_ip.octets(), a.target_ip.octets()), (IP_A, IP_B));
    assert_eq!(c.arp, 1);

    let (s, _) = describe(LinkType::ETHERNET, &ethernet(ETHERTYPE_ARP, &arp(2, MAC_B)));
    assert_eq!(
        s,
        "ether arp Reply 192.168.1.10/02:00:00:00:00:0a -> 10.16.100.73/02:00:00:00:00:0b"
    );
    let (s, _) = describe(LinkType::ETHERNET, &ethernet(ETHERTYPE_ARP, &arp(9, MAC_B)));
    assert!(s.starts_with("ether arp Other(9)"), "{s}");
}

#[test]
fn arp_of_other_address_sizes_and_short_arp_are_counted() {
    let mut odd = arp(1, [0; 6]);
    odd[5] = 16; // 16-byte protocol addresses: not IPv4
    odd.resize(8 + 2 * 6 + 2 * 16, 0);
    let (s, c) = describe(LinkType::ETHERNET, &ethernet(ETHERTYPE_ARP, &odd));
    assert_eq!((s.as_str(), c.arp_unsupported), ("ether none", 1));
    let (s, c) = describe(
        LinkType::ETHERNET,
        &ethernet(ETHERTYPE_ARP, &arp(1, [0; 6])[..20]),
    );
    assert_eq!((s.as_str(), c.arp_truncated), ("ether none", 1));
}

#[test]
fn ipv4_options_are_skipped_to_reach_the_transport() {
    // Router alert (4 bytes) + NOP padding and a timestamp-like option: 12 bytes.
    let options = [
        0x94, 0x04, 0, 0, 0x01, 0x01, 0x01, 0x01, 0x44, 0x04, 0x05, 0x00,
    ];
    let packet = ipv4_raw(6, &options, 0, 7, &tcp_raw(5, 0x02, &[], b"abc"));
    let (s, c) = describe(RAW, &packet);
    assert_eq!(
        s,
        "rawip ip 192.168.1.10 -> 10.16.100.73 proto=6 ttl=64 ip_len=55 tcp 40000->80 flags=02 payload=3/3"
    );
    assert_eq!(c.weird_total(), 0);
}

#[test]
fn ipv4_first_fragment_decodes_transport_and_later_fragment_does_not() {
    // First fragment: MF set, offset 0, the TCP header is in it.
    let first = ipv4_raw(6, &[], 0x2000, 0x1234, &tcp_raw(5, 0x18, &[], &[7; 32]));
    let (d, c) = decode_bytes(RAW, &first);
    let Network::Ip(ip) = &d.network else {
        panic!("no IP")
    };
    let expected = Fragment {
        offset: 0,
        more_fragments: true,
        id: 0x1234,
    };
    assert_eq!(ip.fragment, Some(expected));
    let Transport::Tcp(t) = ip.transport else {
        panic!("first fragment lost its TCP header")
    };
    assert_eq!((t.dst_port, t.payload_len), (80, 32));
    assert_eq!((c.ipv4_fragments, c.later_fragments, c.tcp), (1, 0, 1));

    // Later fragment: offset 40 bytes (5 units), last one.
    let later = ipv4_raw(6, &[], 5, 0x1234, &[0xab; 24]);
    let (s, c) = describe(RAW, &later);
    assert_eq!(
        s,
        "rawip ip 192.168.1.10 -> 10.16.100.73 proto=6 ttl=64 ip_len=44 frag(off=40 mf=false id=4660) other"
    );
    assert_eq!(
        (c.ipv4_fragments, c.later_fragments, c.tcp, c.weird_total()),
        (1, 1, 0, 0)
    );
}

#[test]
fn first_udp_fragment_clamps_udp_length_without_a_weird() {
    // The UDP header claims 3000 bytes; this fragment holds 100.
    let first = ipv4_raw(17, &[], 0x2000, 9, &udp_raw(Some(3000), &[1; 92]));
    let (s, c) = describe(RAW, &first);
    assert!(
        s.ends_with("frag(off=0 mf=true id=9) udp 5353->53 payload=92/92"),
        "{s}"
    );
    assert_eq!((c.udp_length_exceeds_ip, c.weird_total()), (0, 0));
}

/// Hop-by-hop (PadN) → fragment → `next` after the IPv6 header.
fn ipv6_hbh_fragment(offset_units: u16, more: bool, next: u8, payload: &[u8]) -> Vec<u8> {
    let mut ext = vec![44, 0, 0x01, 0x04, 0, 0, 0, 0]; // hop-by-hop, next = fragment
    ext.extend_from_slice(&[next, 0]);
    ext.extend_from_slice(&((offset_units << 3) | u16::from(more)).to_be_bytes());
    ext.extend_from_slice(&0xdead_beefu32.to_be_bytes());
    ext.extend_from_slice(payload);
    ipv6_raw(0, &ext)
}

#[test]
fn ipv6_hop_by_hop_and_fragment_headers_first_fragment() {
    let packet = ipv6_hbh_fragment(0, true, 17, &udp_raw(Some(2000), b"first part"));
    let (d, c) = decode_bytes(RAW, &packet);
    let Network::Ip(ip) = &d.network else {
        panic!("no IP")
    };
    assert_eq!((ip.protocol, ip.ip_len, ip.ttl), (17, 40 + 16 + 18, 32));
    assert_eq!(
        ip.fragment,
        Some(Fragment {
            offset: 0,
            more_fragments: true,
            id: 0xdead_beef
        })
    );
    let Transport::Udp(u) = ip.transport else {
        panic!("no UDP: {}", summary(&d))
    };
    assert_eq!(
        (u.src_port, u.payload, u.payload_len),
        (5353, &b"first part"[..], 10)
    );
    assert_eq!(
        (c.ipv6, c.ipv6_fragments, c.udp, c.weird_total()),
        (1, 1, 1, 0)
    );
}

#[test]
fn ipv6_later_fragment_gives_protocol_but_no_transport() {
    let packet = ipv6_hbh_fragment(185, false, 6, &[0x55; 40]);
    let (s, c) = describe(RAW, &packet);
    assert_eq!(
        s,
        "rawip ip 2001:db8::a -> 2001:db8::b proto=6 ttl=32 ip_len=96 frag(off=1480 mf=false id=3735928559) other"
    );
    assert_eq!((c.ipv6_fragments, c.later_fragments, c.tcp), (1, 1, 0));
}

#[test]
fn ipv6_atomic_fragment_is_not_flagged() {
    let packet = ipv6_hbh_fragment(0, false, 6, &tcp_raw(5, 0x10, &[], b""));
    let (s, c) = describe(RAW, &packet);
    assert!(!s.contains("frag"), "{s}");
    assert!(s.ends_with("tcp 40000->80 flags=10 payload=0/0"), "{s}");
    assert_eq!(c.ipv6_fragments, 0);
}

#[test]
fn ipv6_destination_options_routing_and_authentication_headers() {
    let mut ext = vec![43, 0, 1, 4, 0, 0, 0, 0]; // destination options → routing
    ext.extend_from_slice(&[51, 0, 0, 0, 0, 0, 0, 0]); // routing (type 0, 0 left) → AH
    ext.extend_from_slice(&[58, 4, 0, 0]); // AH: 24 bytes, next ICMPv6
    ext.extend_from_slice(&[0; 20]);
    ext.extend_from_slice(&[128, 0, 0, 0, 0, 1, 0, 1]); // echo request
    let (s, c) = describe(RAW, &ipv6_raw(60, &ext));
    assert!(
        s.ends_with("proto=58 ttl=32 ip_len=88 icmpv6 type=128 code=0 payload=4/4"),
        "{s}"
    );
    assert_eq!((c.icmpv6, c.weird_total()), (1, 0));
}

#[test]
fn too_many_ipv6_extension_headers_are_malformed() {
    let mut ext = Vec::new();
    for _ in 0..=MAX_IPV6_EXT_HEADERS {
        ext.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
    }
    ext.extend_from_slice(&udp_raw(None, b""));
    let (s, c) = describe(RAW, &ipv6_raw(60, &ext));
    assert!(s.ends_with(" malformed"), "{s}");
    assert_eq!(c.ipv6_too_many_ext_headers, 1);
}

#[test]
fn icmp_echo_and_destination_unreachable() {
    let mut echo = Vec::new();
    PacketBuilder::ipv4(IP_A, IP_B, 64)
        .icmpv4_echo_request(0x77, 1)
        .write(&mut echo, b"ping")
        .expect("build echo");
    let (s, c) = describe(RAW, &echo);
    // Payload after type/code/checksum: id, sequence, data.
    assert!(
        s.ends_with("proto=1 ttl=64 ip_len=32 icmp type=8 code=0 payload=8/8"),
        "{s}"
    );
    assert_eq!(c.icmp, 1);

    // Port unreachable quoting the offending IPv4 header + 8 bytes of UDP.
    let quoted = ipv4_udp(b"query");
    let mut error = vec![3, 3, 0, 0, 0, 0, 0, 0];
    error.extend_from_slice(&quoted[..28]);
    let packet = ipv4_raw(1, &[], 0, 1, &error);
    let (d, _) = decode_bytes(RAW, &packet);
    let Network::Ip(ip) = &d.network else {
        panic!("no IP")
    };
    let Transport::Icmp(i) = ip.transport else {
        panic!("no ICMP")
    };
    assert_eq!(
        (i.v6, i.icmp_type, i.code, i.payload_len),
        (false, 3, 3, 32)
    );
    assert_eq!(
        &i.payload[4..],
        &quoted[..28],
        "the quoted packet is the payload"
    );
}

#[test]
fn icmpv6_echo_and_neighbor_solicitation() {
    let mut echo = Vec::new();
    PacketBuilder::ipv6(IP6_A, IP6_B, 64)
        .icmpv6_echo_reply(1, 2)
        .write(&mut echo, b"pong")
        .expect("build echo reply");
    let (s, c) = describe(RAW, &echo);
    assert!(s.ends_with("icmpv6 type=129 code=0 payload=8/8"), "{s}");
    assert_eq!(c.icmpv6, 1);
    let mut solicitation = vec![135, 0, 0, 0, 0, 0, 0, 0];
    solicitation.extend_from_slice(&IP6_B);
    let (s, _) = describe(
        LinkType::ETHERNET,
        &ethernet(ETHERTYPE_IPV6, &ipv6_raw(58, &solicitation)),
    );
    assert!(s.ends_with("icmpv6 type=135 code=0 payload=20/20"), "{s}");
}

#[test]
fn icmp_numbers_belong_to_their_ip_version() {
    // ICMPv4 (1) inside IPv6 and ICMPv6 (58) inside IPv4 are not ICMP.
    let (s, c) = describe(RAW, &ipv6_raw(1, &[8, 0, 0, 0]));
    assert!(s.ends_with("proto=1 ttl=32 ip_len=44 other"), "{s}");
    assert_eq!((c.icmp, c.other_ip_proto), (0, 1));
    let (s, _) = describe(RAW, &ipv4_raw(58, &[], 0, 0, &[128, 0, 0, 0]));
    assert!(s.ends_with(" other"), "{s}");
}

#[test]
fn ip_in_ip_and_gre_are_not_followed() {
    let (s, c) = describe(RAW, &ipv4_raw(4, &[], 0, 0, &ipv4_tcp(b"inner")));
    assert!(
        s.starts_with("rawip ip 192.168.1.10 -> 10.16.100.73 proto=4"),
        "{s}"
    );
    assert!(s.ends_with(" other"), "{s}");
    assert_eq!((c.ip_in_ip, c.tcp), (1, 0));
    let (_, c) = describe(RAW, &ipv4_raw(41, &[], 0, 0, &ipv6_tcp(b"inner")));
    assert_eq!(c.ip_in_ip, 1);
    let (s, c) = describe(RAW, &ipv4_raw(47, &[], 0, 0, &[0, 0, 0x08, 0x00]));
    assert!(s.contains("proto=47") && s.ends_with(" other"), "{s}");
    assert_eq!((c.other_ip_proto, c.ip_in_ip), (1, 0));
}

#[test]
fn udp_length_shorter_than_ip_payload_limits_the_payload() {
    // UDP says 8 + 3 bytes; the IP packet carries 5 more bytes after it.
    let packet = ipv4_raw(17, &[], 0, 0, &udp_raw(Some(11), b"abcdefgh"));
    let (d, c) = decode_bytes(RAW, &packet);
    let Network::Ip(ip) = &d.network else {
        panic!("no IP")
    };
    let Transport::Udp(u) = ip.transport else {
        panic!("no UDP")
    };
    assert_eq!((u.payload, u.payload_len), (&b"abc"[..], 3));
    assert_eq!(c.weird_total(), 0);
}

#[test]
fn tcp_options_are_skipped_and_flags_kept() {
    let options = [2, 4, 0x05, 0xb4, 1, 1, 4, 2]; // MSS, NOP, NOP, SACK permitted
    let packet = ipv4_raw(6, &[], 0, 0, &tcp_raw(7, 0x12, &options, b"data!"));
    let (d, _) = decode_bytes(RAW, &packet);
    let Network::Ip(ip) = &d.network else {
        panic!("no IP")
    };
    let Transport::Tcp(t) = ip.transport else {
        panic!("no TCP")
    };
    assert!(t.flags.syn() && t.flags.ack() && !t.flags.fin() && !t.flags.rst());
    assert_eq!(
        (t.payload, t.payload_len, t.window),
        (&b"data!"[..], 5, 0xffff)
    );
}
