//! Properties: random bytes and random mutations of valid frames never make the
//! decoder panic and always give a self-consistent [`Decoded`]; valid packets
//! built with random fields decode back to those fields.
#![allow(clippy::expect_used)] // tests may panic on broken fixtures

mod decode_support;

use decode_support::*;
use etherparse::PacketBuilder;
use gatewatch_engine::decode::{decode_bytes, Decoder, Network, Transport};
use gatewatch_engine::source::LinkType;
use gatewatch_engine::{RawPacket, Timestamp};
use proptest::prelude::*;

const LINKS: [LinkType; 12] = [
    LinkType::NULL,
    LinkType::ETHERNET,
    LinkType::PPP,
    LinkType::RAW,
    LinkType::CHDLC,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::LINUX_SLL2,
    LinkType::PPI,
    LinkType(147),
];

fn link() -> impl Strategy<Value = LinkType> {
    prop::sample::select(LINKS.to_vec())
}

/// Valid frames of every supported link type and layer to mutate.
fn seeds() -> Vec<(LinkType, Vec<u8>)> {
    let tcp = ipv4_tcp(b"GET / HTTP/1.1\r\n");
    let options = [2, 4, 5, 0xb4, 1, 3, 3, 7];
    let fragment_ext = {
        let mut ext = vec![44, 0, 1, 4, 0, 0, 0, 0, 17, 0, 0, 1, 0, 0, 0, 9];
        ext.extend_from_slice(&udp_raw(None, b"dns"));
        ipv6_raw(0, &ext)
    };
    vec![
        (LinkType::ETHERNET, ethernet(ETHERTYPE_IPV4, &tcp)),
        (
            LinkType::ETHERNET,
            ethernet_tagged(&[(0x88a8, 5), (0x8100, 6)], ETHERTYPE_IPV6, &ipv6_udp(b"x")),
        ),
        (LinkType::ETHERNET, ethernet(ETHERTYPE_ARP, &arp(1, [0; 6]))),
        (
            LinkType::ETHERNET,
            ethernet(
                ETHERTYPE_IPV4,
                &ipv4_raw(
                    6,
                    &[0x94, 4, 0, 0],
                    0,
                    1,
                    &tcp_raw(7, 0x12, &options, b"hi"),
                ),
            ),
        ),
        (
            LinkType::LINUX_SLL,
            sll(1, ETHERTYPE_IPV4, &ipv4_udp(b"mqtt")),
        ),
        (
            LinkType::LINUX_SLL2,
            sll2(772, ETHERTYPE_IPV6, &fragment_ext),
        ),
        (
            LinkType::RAW,
            ipv4_raw(17, &[], 0x2000, 3, &udp_raw(Some(900), b"frag")),
        ),
        (LinkType::IPV6, ipv6_tcp(b"tls")),
        (LinkType::NULL, null(30, true, &ipv6_udp(b"q"))),
        (
            LinkType::LOOP,
            null(2, false, &ipv4_raw(1, &[], 0, 0, &[3, 3, 0, 0, 0, 0, 0, 0])),
        ),
        (LinkType::PPP, with_prefix(&[0xff, 0x03, 0x00, 0x21], &tcp)),
        (
            LinkType::CHDLC,
            with_prefix(&[0x0f, 0, 0x86, 0xdd], &ipv6_udp(b"bgp")),
        ),
    ]
}

fn decode_with_wire(link: LinkType, data: &[u8], orig_len: u32) {
    let mut decoder = Decoder::new();
    let raw = RawPacket {
        ts: Timestamp::ZERO,
        data,
        orig_len,
        link,
        interface: 0,
    };
    let d = decoder.decode(&raw);
    check_invariants(data, &d);
    assert_eq!(decoder.counters().packets, 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(link in link(), data in prop::collection::vec(any::<u8>(), 0..200)) {
        let (d, _) = decode_bytes(link, &data);
        check_invariants(&data, &d);
    }

    #[test]
    fn random_bytes_with_any_wire_length_never_panic(
        link in link(),
        data in prop::collection::vec(any::<u8>(), 0..120),
        orig_len in any::<u32>(),
    ) {
        decode_with_wire(link, &data, orig_len);
    }

    #[test]
    fn random_bytes_behind_a_valid_ip_header_start_never_panic(
        link in link(),
        version in prop::sample::select(vec![0x45u8, 0x46, 0x4f, 0x60]),
        rest in prop::collection::vec(any::<u8>(), 0..120),
    ) {
        // Biases the input towards the IP and transport decoders.
        let mut packet = vec![version];
        packet.extend_from_slice(&rest);
        let frame = match link {
            LinkType::ETHERNET => ethernet(if version == 0x60 { ETHERTYPE_IPV6 } else { ETHERTYPE_IPV4 }, &packet),
            _ => packet,
        };
        let (d, _) = decode_bytes(link, &frame);
        check_invariants(&frame, &d);
    }

    #[test]
    fn mutated_valid_frames_never_panic(
        seed in 0..seeds().len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        snaplen_cut in any::<bool>(),
    ) {
        let (link, mut frame) = seeds().swap_remove(seed);
        let wire = frame.len() as u32;
        for (at, byte) in edits {
            let i = at.index(frame.len());
            frame[i] = byte;
        }
        frame.truncate(cut.index(frame.len() + 1));
        decode_with_wire(link, &frame, if snaplen_cut { wire } else { frame.len() as u32 });
    }

    #[test]
    fn valid_tcp_and_udp_decode_back_to_their_fields(
        src_port in any::<u16>(),
        dst_port in any::<u16>(),
        seq in any::<u32>(),
        payload in prop::collection::vec(any::<u8>(), 0..300),
        v6 in any::<bool>(),
        udp in any::<bool>(),
        vlan in prop::option::of(0u16..4095),
    ) {
        let builder = match (v6, vlan) {
            (false, None) => PacketBuilder::ethernet2(MAC_A, MAC_B).ipv4(IP_A, IP_B, 9),
            (true, None) => PacketBuilder::ethernet2(MAC_A, MAC_B).ipv6(IP6_A, IP6_B, 9),
            (false, Some(id)) => PacketBuilder::ethernet2(MAC_A, MAC_B)
                .single_vlan(id.try_into().expect("vlan id"))
                .ipv4(IP_A, IP_B, 9),
            (true, Some(id)) => PacketBuilder::ethernet2(MAC_A, MAC_B)
                .single_vlan(id.try_into().expect("vlan id"))
                .ipv6(IP6_A, IP6_B, 9),
        };
        let mut frame = Vec::new();
        if udp {
            builder.udp(src_port, dst_port).write(&mut frame, &payload).expect("build");
        } else {
            builder.tcp(src_port, dst_port, seq, 100).write(&mut frame, &payload).expect("build");
        }
        let (d, c) = decode_bytes(LinkType::ETHERNET, &frame);
        check_invariants(&frame, &d);
        prop_assert_eq!(d.vlan, vlan);
        prop_assert_eq!(c.weird_total(), 0);
        let Network::Ip(ip) = &d.network else { panic!("no IP: {}", summary(&d)) };
        let header = if v6 { 40 } else { 20 } + if udp { 8 } else { 20 };
        prop_assert_eq!(ip.ip_len as usize, header + payload.len());
        match ip.transport {
            Transport::Tcp(t) if !udp => {
                prop_assert_eq!((t.src_port, t.dst_port, t.seq), (src_port, dst_port, seq));
                prop_assert_eq!(t.payload, &payload[..]);
            }
            Transport::Udp(u) if udp => {
                prop_assert_eq!((u.src_port, u.dst_port), (src_port, dst_port));
                prop_assert_eq!(u.payload, &payload[..]);
            }
            other => panic!("wrong transport {other:?}"),
        }
    }
}
