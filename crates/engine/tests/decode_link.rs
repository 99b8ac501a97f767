//! Link layers: every supported link type, VLAN / QinQ tags, and the counters
//! for link headers the decoder cannot follow.
#![allow(clippy::expect_used)] // tests may panic on broken fixtures

mod decode_support;

use decode_support::*;
use gatewatch_engine::decode::{
    decode_bytes, MacAddr, Network, Transport, MAX_MPLS_LABELS, MAX_VLAN_TAGS,
};
use gatewatch_engine::source::LinkType;
use gatewatch_engine::Counters;

const IPV4_TCP_SUMMARY: &str =
    "ip 192.168.1.10 -> 10.16.100.73 proto=6 ttl=64 ip_len=45 tcp 40000->1883 flags=18 payload=5/5";

#[test]
fn ethernet_ipv4_tcp_gives_macs_addresses_and_ports() {
    let frame = ethernet(ETHERTYPE_IPV4, &ipv4_tcp(b"hello"));
    let (d, c) = decode_bytes(LinkType::ETHERNET, &frame);
    assert_eq!(d.src_mac, Some(MacAddr(MAC_A)));
    assert_eq!(d.dst_mac, Some(MacAddr(MAC_B)));
    assert_eq!(summary(&d), format!("ether {IPV4_TCP_SUMMARY}"));
    let Network::Ip(ip) = &d.network else {
        panic!("no IP layer")
    };
    let Transport::Tcp(t) = ip.transport else {
        panic!("no TCP")
    };
    assert_eq!(t.payload, b"hello");
    assert_eq!((t.seq, t.ack, t.window), (1000, 2000, 5840));
    assert!(t.flags.psh() && t.flags.ack() && !t.flags.syn());
    assert_eq!((c.ethernet, c.ipv4, c.tcp, c.weird_total()), (1, 1, 1, 0));
}

#[test]
fn ethernet_padding_after_the_ip_packet_is_not_payload_nor_weird() {
    // 14 + 20 + 8 + 2 = 44 bytes: the NIC pads to 60.
    let mut frame = ethernet(ETHERTYPE_IPV4, &ipv4_udp(b"hi"));
    frame.resize(60, 0);
    let (d, c) = decode_bytes(LinkType::ETHERNET, &frame);
    assert_eq!(
        summary(&d),
        "ether ip 192.168.1.10 -> 10.16.100.73 proto=17 ttl=64 ip_len=30 udp 5353->53 payload=2/2"
    );
    assert_eq!(c.weird_total(), 0);
}

#[test]
fn single_vlan_tag_sets_outer_vlan_only() {
    let frame = ethernet_tagged(&[(0x8100, 42)], ETHERTYPE_IPV4, &ipv4_tcp(b"hello"));
    let (d, c) = decode_bytes(LinkType::ETHERNET, &frame);
    assert_eq!(summary(&d), format!("ether vlan=42 {IPV4_TCP_SUMMARY}"));
    assert_eq!((c.vlan_tagged, c.qinq), (1, 0));
}

#[test]
fn qinq_tags_give_outer_and_inner_vlan_for_each_tpid() {
    for outer_tpid in [0x88a8, 0x9100, 0x8100] {
        let tags = [(outer_tpid, 100), (0x8100, 4000)];
        let frame = ethernet_tagged(&tags, ETHERTYPE_IPV6, &ipv6_udp(b"x"));
        let (d, c) = decode_bytes(LinkType::ETHERNET, &frame);
        assert_eq!(
            (d.vlan, d.inner_vlan),
            (Some(100), Some(4000)),
            "tpid {outer_tpid:#x}"
        );
        assert!(matches!(&d.network, Network::Ip(ip) if matches!(ip.transport, Transport::Udp(_))));
        assert_eq!((c.vlan_tagged, c.qinq), (1, 1));
    }
}

#[test]
fn too_many_vlan_tags_are_counted_and_left_undecoded() {
    let tags = vec![(0x8100, 1); MAX_VLAN_TAGS + 1];
    let frame = ethernet_tagged(&tags, ETHERTYPE_IPV4, &ipv4_tcp(b""));
    let (d, c) = decode_bytes(LinkType::ETHERNET, &frame);
    assert!(matches!(d.network, Network::None));
    assert_eq!(c.vlan_too_many_tags, 1);
    // Exactly the limit still decodes.
    let tags = vec![(0x8100, 1); MAX_VLAN_TAGS];
    let frame = ethernet_tagged(&tags, ETHERTYPE_IPV4, &ipv4_tcp(b""));
    assert!(matches!(
        decode_bytes(LinkType::ETHERNET, &frame).0.network,
        Network::Ip(_)
    ));
}

#[test]
fn truncated_vlan_tag_and_short_ethernet_are_link_weirds() {
    let mut frame = ethernet_tagged(&[(0x8100, 7)], ETHERTYPE_IPV4, &[]);
    frame.truncate(16);
    let (d, c) = decode_bytes(LinkType::ETHERNET, &frame);
    assert_eq!((d.vlan, c.link_header_truncated), (None, 1));
    let (d, c) = decode_bytes(LinkType::ETHERNET, &[0u8; 13]);
    assert!(d.src_mac.is_none() && matches!(d.network, Network::None));
    assert_eq!(c.link_header_truncated, 1);
}

#[test]
fn other_ethertypes_and_llc_frames_are_counted_apart() {
    let (s, c) = describe(LinkType::ETHERNET, &ethernet(0x888e, &[1, 0, 0, 5])); // EAPOL
    assert_eq!(s, "ether none");
    assert_eq!((c.other_ethertype, c.llc), (1, 0));
    let (_, c) = describe(LinkType::ETHERNET, &ethernet(38, &[0x42, 0x42, 3, 0, 0])); // STP
    assert_eq!((c.other_ethertype, c.llc), (0, 1));
}

#[test]
fn linux_sll_reports_sender_mac_and_follows_ethertype() {
    let frame = sll(1, ETHERTYPE_IPV4, &ipv4_tcp(b"hello"));
    let (d, c) = decode_bytes(LinkType::LINUX_SLL, &frame);
    assert_eq!(summary(&d), format!("linux-sll {IPV4_TCP_SUMMARY}"));
    assert_eq!((d.src_mac, d.dst_mac), (Some(MacAddr(MAC_A)), None));
    assert_eq!(c.linux_sll, 1);
}

#[test]
fn linux_sll_accepts_loopback_and_tunnel_devices_etherparse_rejects() {
    for hatype in [772u16, 0xfffe, 512] {
        let frame = sll(hatype, ETHERTYPE_IPV6, &ipv6_tcp(b""));
        let (d, _) = decode_bytes(LinkType::LINUX_SLL, &frame);
        assert!(d.src_mac.is_none(), "hatype {hatype} is not Ethernet");
        assert!(matches!(&d.network, Network::Ip(ip) if matches!(ip.transport, Transport::Tcp(_))));
    }
    // Netlink's protocol field is not an ethertype.
    let (s, c) = describe(
        LinkType::LINUX_SLL,
        &sll(824, ETHERTYPE_IPV4, &ipv4_tcp(b"")),
    );
    assert_eq!(s, "linux-sll none");
    assert_eq!(c.other_ethertype, 1);
}

#[test]
fn linux_sll_with_reinserted_vlan_tag() {
    let mut tagged = vec![0x20, 0x05]; // TCI: priority 1, vlan 5
    tagged.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    tagged.extend_from_slice(&ipv4_tcp(b"hello"));
    let (s, _) = describe(LinkType::LINUX_SLL, &sll(1, 0x8100, &tagged));
    assert_eq!(s, format!("linux-sll vlan=5 {IPV4_TCP_SUMMARY}"));
}

#[test]
fn linux_sll2_follows_protocol_field() {
    let frame = sll2(1, ETHERTYPE_IPV4, &ipv4_tcp(b"hello"));
    let (d, c) = decode_bytes(LinkType::LINUX_SLL2, &frame);
    assert_eq!(summary(&d), format!("linux-sll2 {IPV4_TCP_SUMMARY}"));
    assert_eq!(d.src_mac, Some(MacAddr(MAC_A)));
    assert_eq!(c.linux_sll2, 1);
    let (_, c) = decode_bytes(LinkType::LINUX_SLL2, &frame[..19]);
    assert_eq!(c.link_header_truncated, 1);
}

#[test]
fn raw_ip_link_types_pick_the_version() {
    let (s, _) = describe(LinkType::RAW, &ipv4_tcp(b"hello"));
    assert_eq!(s, format!("rawip {IPV4_TCP_SUMMARY}"));
    let (s, _) = describe(LinkType::RAW, &ipv6_tcp(b""));
    assert!(
        s.starts_with("rawip ip 2001:db8::a -> 2001:db8::b proto=6"),
        "{s}"
    );
    let (s, _) = describe(LinkType::IPV4, &ipv4_udp(b"q"));
    assert!(s.starts_with("ipv4 ip 192.168.1.10"), "{s}");
    let (s, _) = describe(LinkType::IPV6, &ipv6_udp(b"q"));
    assert!(s.starts_with("ipv6 ip 2001:db8::a"), "{s}");
    // Link 228 promises IPv4: an IPv6 packet there is a bad version.
    let (s, c) = describe(LinkType::IPV4, &ipv6_udp(b"q"));
    assert_eq!(s, "ipv4 none");
    assert_eq!(c.ip_bad_version, 1);
    let (_, c) = describe(LinkType::RAW, &[0x50; 40]);
    assert_eq!(c.ip_bad_version, 1);
}

#[test]
fn null_and_loop_accept_both_byte_orders_and_all_inet6_values() {
    for link in [LinkType::NULL, LinkType::LOOP] {
        for little_endian in [true, false] {
            let (s, _) = describe(link, &null(2, little_endian, &ipv4_tcp(b"hello")));
            assert_eq!(s, format!("{} {IPV4_TCP_SUMMARY}", link.name()));
            for family in [10, 24, 28, 30] {
                let (s, _) = describe(link, &null(family, little_endian, &ipv6_tcp(b"")));
                assert!(
                    s.contains(" ip 2001:db8::a -> 2001:db8::b proto=6"),
                    "{family}: {s}"
                );
            }
        }
    }
    let (s, c) = describe(LinkType::NULL, &null(7, true, &ipv4_tcp(b"")));
    assert_eq!(s, "null none");
    assert_eq!(c.null_unknown_family, 1);
}

#[test]
fn ppp_with_and_without_address_control_and_compressed_protocol() {
    let packet = ipv4_tcp(b"hello");
    for prefix in [
        &[0xff, 0x03, 0x00, 0x21][..],
        &[0x00, 0x21],
        &[0x21],
        &[0xff, 0x03, 0x21],
    ] {
        let (s, c) = describe(LinkType::PPP, &with_prefix(prefix, &packet));
        assert_eq!(s, format!("ppp {IPV4_TCP_SUMMARY}"), "prefix {prefix:02x?}");
        assert_eq!(c.ppp, 1);
    }
    let frame = with_prefix(&[0xff, 0x03, 0x00, 0x57], &ipv6_tcp(b""));
    let (s, _) = describe(LinkType::PPP, &frame);
    assert!(s.starts_with("ppp ip 2001:db8::a"), "{s}");
    // LCP configure-request.
    let (d, c) = decode_bytes(LinkType::PPP, &[0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4]);
    assert!(matches!(d.network, Network::None));
    assert_eq!(c.ppp_other_protocol, 1);
}

#[test]
fn cisco_hdlc_and_cisco_hdlc_inside_ppp_link() {
    let frame = with_prefix(&[0x0f, 0x00, 0x08, 0x00], &ipv4_tcp(b"hello"));
    let (d, c) = decode_bytes(LinkType::CHDLC, &frame);
    assert_eq!(summary(&d), format!("chdlc {IPV4_TCP_SUMMARY}"));
    assert_eq!(c.chdlc, 1);
    let (d, c) = decode_bytes(LinkType::PPP, &frame);
    assert_eq!(summary(&d), format!("ppp {IPV4_TCP_SUMMARY}"));
    assert_eq!((c.chdlc, c.ppp), (1, 0));
    // SLARP keepalive.
    let (d, c) = decode_bytes(LinkType::CHDLC, &[0x8f, 0x00, 0x80, 0x35, 0, 0, 0, 2]);
    assert!(matches!(d.network, Network::None));
    assert_eq!(c.other_ethertype, 1);
}

#[test]
fn mpls_label_stack_is_skipped_to_the_ip_packet() {
    // Two labels, the second with the bottom-of-stack bit.
    let labels = [0x00, 0x01, 0x20, 0x40, 0x00, 0x02, 0x31, 0x40];
    let frame = ethernet(0x8847, &with_prefix(&labels, &ipv4_tcp(b"hello")));
    let (s, c) = describe(LinkType::ETHERNET, &frame);
    assert_eq!(s, format!("ether {IPV4_TCP_SUMMARY}"));
    assert_eq!(c.mpls, 1);
    let frame = with_prefix(&[0x0f, 0, 0x88, 0x47, 0, 1, 0x21, 0x40], &ipv6_udp(b""));
    let (s, _) = describe(LinkType::CHDLC, &frame);
    assert!(s.starts_with("chdlc ip 2001:db8::a"), "{s}");
    // No bottom of stack within the limit.
    let deep = vec![0u8; 4 * (MAX_MPLS_LABELS + 1)];
    let (s, c) = describe(LinkType::ETHERNET, &ethernet(0x8847, &deep));
    assert_eq!((s.as_str(), c.mpls_too_many_labels), ("ether none", 1));
    // Ethernet pseudowire control word under the stack: not followed.
    let (_, c) = describe(
        LinkType::ETHERNET,
        &ethernet(0x8847, &[0, 0, 1, 64, 0, 0, 0, 0]),
    );
    assert_eq!(c.other_ethertype, 1);
}

#[test]
fn ppi_header_around_ethernet() {
    // Version 0, flags 0, 16-byte header (8 + one 8-byte field), DLT 1.
    let mut header = vec![0, 0, 16, 0, 1, 0, 0, 0];
    header.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0]);
    let frame = with_prefix(&header, &ethernet(ETHERTYPE_IPV4, &ipv4_tcp(b"hello")));
    let (d, c) = decode_bytes(LinkType::PPI, &frame);
    assert_eq!(d.src_mac, Some(MacAddr(MAC_A)));
    assert_eq!(summary(&d), format!("ppi {IPV4_TCP_SUMMARY}"));
    assert_eq!((c.ppi, c.ethernet), (1, 1));
    // 802.11 inside is not followed; a header length beyond the frame is cut.
    let mut wifi = frame.clone();
    wifi[4] = 105;
    let (s, c) = describe(LinkType::PPI, &wifi);
    assert_eq!((s.as_str(), c.unknown_link_type), ("ppi none", 1));
    let (_, c) = describe(LinkType::PPI, &[0, 0, 200, 0, 1, 0, 0, 0, 0]);
    assert_eq!(c.link_header_truncated, 1);
}

#[test]
fn unknown_link_type_gives_no_network_and_a_counter() {
    let frame = ethernet(ETHERTYPE_IPV4, &ipv4_tcp(b""));
    let (d, c) = decode_bytes(LinkType(195), &frame);
    assert!(matches!(d.network, Network::None));
    assert!(d.src_mac.is_none());
    assert_eq!(c.unknown_link_type, 1);
    let listed: Vec<_> = c.to_vec();
    assert!(listed.contains(&("decode.unknown_link_type", 1)));
    assert!(listed.contains(&("decode.packets", 1)));
}

#[test]
fn pppoe_session_carries_ip() {
    // version/type 0x11, code 0 (session data), session 0x556a, length, PPP IPv4.
    let inner = ipv4_tcp(b"hello");
    let mut hdr = vec![0x11, 0x00, 0x55, 0x6a];
    hdr.extend_from_slice(&((inner.len() + 2) as u16).to_be_bytes());
    hdr.extend_from_slice(&[0x00, 0x21]);
    let frame = ethernet(0x8864, &with_prefix(&hdr, &inner));
    let (s, c) = describe(LinkType::ETHERNET, &frame);
    assert_eq!(s, format!("ether {IPV4_TCP_SUMMARY}"));
    assert_eq!(c.pppoe, 1);
    // LCP inside PPPoE: no IP, counted.
    let frame = ethernet(
        0x8864,
        &[0x11, 0x00, 0x55, 0x6a, 0x00, 0x06, 0xc0, 0x21, 1, 1],
    );
    let (s, c) = describe(LinkType::ETHERNET, &frame);
    assert_eq!(s, "ether none");
    assert_eq!(c.ppp_other_protocol, 1);
    // Cut inside the PPPoE header.
    let (_, c) = describe(LinkType::ETHERNET, &ethernet(0x8864, &[0x11, 0x00, 0x55]));
    assert_eq!(c.link_header_truncated, 1);
}
