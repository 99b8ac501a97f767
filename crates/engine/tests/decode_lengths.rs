//! Length fields: snaplen cuts (expected, `ip_len` still from the header)
//! versus headers that lie about their lengths (named weirds, what is sound
//! still decoded).
#![allow(clippy::expect_used)] // tests may panic on broken fixtures

mod decode_support;

use decode_support::*;
use gatewatch_engine::decode::{DecodeCounters, Decoder, Network, Transport};
use gatewatch_engine::source::LinkType;
use gatewatch_engine::{Counters, RawPacket, Timestamp};

const RAW: LinkType = LinkType::RAW;
const ETH: LinkType = LinkType::ETHERNET;

#[test]
fn snaplen_cut_tcp_keeps_header_lengths_and_captured_payload() {
    let frame = ethernet(ETHERTYPE_IPV4, &ipv4_tcp(&[0x42; 1000]));
    let wire = frame.len() as u32;
    let (s, c) = describe_cut(ETH, &frame[..100], wire);
    assert_eq!(
        s,
        "ether ip 192.168.1.10 -> 10.16.100.73 proto=6 ttl=64 ip_len=1040 tcp 40000->1883 flags=18 payload=46/1000"
    );
    assert_eq!(
        (
            c.truncated_by_snaplen,
            c.header_cut_by_snaplen,
            c.weird_total()
        ),
        (1, 0, 0)
    );
}

#[test]
fn snaplen_cut_in_tcp_options_keeps_the_fixed_header() {
    let options = [1u8; 12];
    let packet = ipv4_raw(6, &[], 0, 0, &tcp_raw(8, 0x02, &options, &[9; 300]));
    let frame = ethernet(ETHERTYPE_IPV4, &packet);
    // A 58-byte snaplen: Ethernet, IPv4 and 24 of the 32 TCP header bytes.
    let (s, c) = describe_cut(ETH, &frame[..58], frame.len() as u32);
    assert!(
        s.ends_with("ip_len=352 tcp 40000->80 flags=02 payload=0/300"),
        "{s}"
    );
    assert_eq!((c.header_cut_by_snaplen, c.tcp, c.weird_total()), (1, 1, 0));
}

#[test]
fn snaplen_cut_in_the_ip_header_is_not_a_weird() {
    let frame = ethernet(ETHERTYPE_IPV4, &ipv4_tcp(b"x"));
    let (s, c) = describe_cut(ETH, &frame[..24], frame.len() as u32);
    assert_eq!(s, "ether none");
    assert_eq!(
        (
            c.header_cut_by_snaplen,
            c.ipv4_truncated_header,
            c.weird_total()
        ),
        (1, 0, 0)
    );
    // The same bytes as a complete frame: the header really is short.
    let (_, c) = describe(ETH, &frame[..24]);
    assert_eq!((c.header_cut_by_snaplen, c.ipv4_truncated_header), (0, 1));
}

#[test]
fn snaplen_cut_ipv6_extension_header_is_not_a_weird() {
    let mut ext = vec![17, 1]; // hop-by-hop of 16 bytes, next UDP
    ext.extend_from_slice(&[1, 12]);
    ext.extend_from_slice(&[0; 12]);
    ext.extend_from_slice(&udp_raw(None, b"payload"));
    let packet = ipv6_raw(0, &ext);
    let (s, c) = describe_cut(RAW, &packet[..50], packet.len() as u32);
    assert!(s.ends_with("proto=0 ttl=32 ip_len=71 malformed"), "{s}");
    assert_eq!((c.header_cut_by_snaplen, c.weird_total()), (1, 0));
    // Declared payload too short for the extension header: a lie.
    let mut lying = packet.clone();
    lying[5] = 12;
    lying.truncate(52);
    let (s, c) = describe(RAW, &lying);
    assert!(s.ends_with("ip_len=52 malformed"), "{s}");
    assert_eq!(c.ipv6_bad_ext_header, 1);
}

#[test]
fn ipv4_header_length_below_five_words_drops_the_ip_layer() {
    let mut packet = ipv4_tcp(b"hello");
    packet[0] = 0x44;
    let (s, c) = describe(RAW, &packet);
    assert_eq!(
        (s.as_str(), c.ipv4_bad_header_length, c.ipv4),
        ("rawip none", 1, 0)
    );
}

#[test]
fn ipv4_header_length_beyond_total_length() {
    // IHL 15 (60 bytes) but total length 45, frame 45 bytes: the header
    // cannot even be captured.
    let mut packet = ipv4_tcp(b"hello");
    packet[0] = 0x4f;
    let (s, c) = describe(RAW, &packet);
    assert_eq!((s.as_str(), c.ipv4_truncated_header), ("rawip none", 1));
    // Frame long enough for a 60-byte header, total length still 45.
    packet.resize(80, 0);
    let (s, c) = describe(RAW, &packet);
    assert_eq!(
        (s.as_str(), c.ipv4_bad_total_length, c.ipv4),
        ("rawip none", 1, 0)
    );
}

#[test]
fn ipv4_total_length_below_header_length() {
    let mut packet = ipv4_tcp(b"hello");
    packet[2..4].copy_from_slice(&12u16.to_be_bytes());
    let (s, c) = describe(RAW, &packet);
    assert_eq!((s.as_str(), c.ipv4_bad_total_length), ("rawip none", 1));
}

#[test]
fn ipv4_total_length_beyond_the_frame_is_a_weird_unless_snaplen() {
    let mut packet = ipv4_tcp(b"hello");
    packet[2..4].copy_from_slice(&1500u16.to_be_bytes());
    let (s, c) = describe(RAW, &packet);
    // IP layer kept, length clamped to the frame, transport decoded from the
    // bytes present (as Wireshark does), the lie counted.
    assert_eq!(
        s,
        "rawip ip 192.168.1.10 -> 10.16.100.73 proto=6 ttl=64 ip_len=45 tcp 40000->1883 flags=18 payload=5/5"
    );
    assert_eq!((c.ipv4_total_length_exceeds_capture, c.ipv4), (1, 1));
    // The same packet with a wire length of 1500: a snaplen cut.
    let (s, c) = describe_cut(RAW, &packet, 1500);
    assert!(
        s.ends_with("ip_len=1500 tcp 40000->1883 flags=18 payload=5/1460"),
        "{s}"
    );
    assert_eq!((c.truncated_by_snaplen, c.weird_total()), (1, 0));
}

#[test]
fn ipv4_zero_total_length_uses_the_frame_length() {
    let mut packet = ipv4_tcp(b"segmentation offload");
    packet[2..4].copy_from_slice(&[0, 0]);
    let (s, c) = describe(RAW, &packet);
    assert!(
        s.ends_with("ip_len=60 tcp 40000->1883 flags=18 payload=20/20"),
        "{s}"
    );
    assert_eq!((c.ipv4_zero_total_length, c.tcp), (1, 1));
}

#[test]
fn tcp_data_offset_below_five_is_malformed() {
    let packet = ipv4_raw(6, &[], 0, 0, &tcp_raw(4, 0x02, &[], b"abcdefgh"));
    let (s, c) = describe(RAW, &packet);
    assert!(s.ends_with("proto=6 ttl=64 ip_len=48 malformed"), "{s}");
    assert_eq!((c.tcp_bad_data_offset, c.tcp), (1, 0));
}

#[test]
fn tcp_data_offset_beyond_the_segment_is_malformed() {
    let packet = ipv4_raw(6, &[], 0, 0, &tcp_raw(15, 0x02, &[], b"abcd"));
    let (s, c) = describe(RAW, &packet);
    assert!(s.ends_with(" malformed"), "{s}");
    assert_eq!(c.tcp_bad_data_offset, 1);
    // Even when the snaplen cut the frame: the IP length decides.
    let (_, c) = describe_cut(RAW, &packet, 2000);
    assert_eq!((c.tcp_bad_data_offset, c.header_cut_by_snaplen), (1, 0));
}

#[test]
fn ip_length_too_short_for_a_transport_header() {
    let tcp = ipv4_raw(6, &[], 0, 0, &[0; 12]);
    let udp = ipv4_raw(17, &[], 0, 0, &[0; 6]);
    let icmp = ipv4_raw(1, &[], 0, 0, &[8, 0]);
    let mut c = DecodeCounters::default();
    for packet in [&tcp, &udp, &icmp] {
        let (s, counters) = describe(RAW, packet);
        assert!(s.ends_with(" malformed"), "{s}");
        c.tcp_truncated_header += counters.tcp_truncated_header;
        c.udp_truncated_header += counters.udp_truncated_header;
        c.icmp_truncated_header += counters.icmp_truncated_header;
    }
    assert_eq!(
        (
            c.tcp_truncated_header,
            c.udp_truncated_header,
            c.icmp_truncated_header
        ),
        (1, 1, 1)
    );
}

#[test]
fn udp_length_below_eight_is_malformed() {
    let packet = ipv4_raw(17, &[], 0, 0, &udp_raw(Some(7), b"abc"));
    let (s, c) = describe(RAW, &packet);
    assert!(s.ends_with(" malformed"), "{s}");
    assert_eq!((c.udp_bad_length, c.udp), (1, 0));
}

#[test]
fn udp_length_beyond_ip_payload_is_clamped_and_counted() {
    let packet = ipv4_raw(17, &[], 0, 0, &udp_raw(Some(500), b"abc"));
    let (s, c) = describe(RAW, &packet);
    assert!(s.ends_with("udp 5353->53 payload=3/3"), "{s}");
    assert_eq!((c.udp_length_exceeds_ip, c.udp), (1, 1));
}

#[test]
fn ipv6_payload_length_beyond_the_frame_is_a_weird() {
    let mut packet = ipv6_tcp(b"abc");
    packet[4..6].copy_from_slice(&900u16.to_be_bytes());
    let (s, c) = describe(RAW, &packet);
    assert_eq!(
        s,
        "rawip ip 2001:db8::a -> 2001:db8::b proto=6 ttl=32 ip_len=63 tcp 40000->443 flags=02 payload=3/3"
    );
    assert_eq!(c.ipv6_payload_length_exceeds_capture, 1);
    let (s, c) = describe_cut(RAW, &packet, 940);
    assert!(
        s.ends_with("ip_len=940 tcp 40000->443 flags=02 payload=3/880"),
        "{s}"
    );
    assert_eq!(c.weird_total(), 0);
}

#[test]
fn ipv6_zero_payload_length_uses_the_frame_unless_no_next_header() {
    let mut packet = ipv6_tcp(b"abc");
    packet[4..6].copy_from_slice(&[0, 0]);
    let (s, c) = describe(RAW, &packet);
    assert!(
        s.ends_with("ip_len=63 tcp 40000->443 flags=02 payload=3/3"),
        "{s}"
    );
    assert_eq!(c.ipv6_zero_payload_length, 1);
    let (s, c) = describe(RAW, &ipv6_raw(59, &[]));
    assert!(s.ends_with("proto=59 ttl=32 ip_len=40 other"), "{s}");
    assert_eq!(c.weird_total(), 0);
}

#[test]
fn record_with_wire_length_below_capture_length_is_corrected() {
    let packet = ipv4_tcp(b"hello");
    let mut decoder = Decoder::new();
    let raw = RawPacket {
        ts: Timestamp(5),
        data: &packet,
        orig_len: 10,
        link: RAW,
        interface: 0,
    };
    let d = decoder.decode(&raw);
    assert_eq!((d.wire_len, d.cap_len, d.ts), (45, 45, Timestamp(5)));
    assert!(matches!(&d.network, Network::Ip(ip) if matches!(ip.transport, Transport::Tcp(_))));
    assert_eq!(decoder.counters().wire_len_below_cap_len, 1);
}

#[test]
fn decoder_accumulates_counters_and_lists_every_name_once() {
    let good = ethernet(ETHERTYPE_IPV4, &ipv4_tcp(b"a"));
    let mut lying = good.clone();
    lying[14] = 0x43;
    let mut decoder = Decoder::new();
    for frame in [&good, &lying, &good] {
        let raw = RawPacket {
            ts: Timestamp::ZERO,
            data: frame,
            orig_len: 55,
            link: ETH,
            interface: 0,
        };
        decoder.decode(&raw);
    }
    let c = decoder.counters();
    assert_eq!(
        (
            c.packets,
            c.ethernet,
            c.ipv4,
            c.tcp,
            c.ipv4_bad_header_length
        ),
        (3, 3, 2, 2, 1)
    );
    let listed = c.to_vec();
    assert_eq!(listed.len(), DecodeCounters::NAMES.len());
    let mut names: Vec<_> = listed.iter().map(|(n, _)| *n).collect();
    assert!(names.iter().all(|n| n.starts_with("decode.")));
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), listed.len(), "counter names are unique");
    assert!(listed.contains(&("decode.ipv4.bad_header_length", 1)));
    assert_eq!(decoder.to_vec(), listed, "the decoder lists its counters");
}
