//! The decode seed corpus in `tests/corpus/decode/`: one frame per file, the
//! first 4 bytes the little-endian link type. Fuzz targets replay it; here
//! every file must decode without panicking, and the seeds built below must
//! match their files byte for byte and decode to the summary given.
//! Regenerate with `GATEWATCH_WRITE_CORPUS=1 cargo test --test decode_corpus`.
#![allow(clippy::expect_used)] // tests may panic on broken fixtures

mod decode_support;

use std::path::PathBuf;

use decode_support::*;
use etherparse::PacketBuilder;
use gatewatch_engine::decode::decode_bytes;
use gatewatch_engine::source::LinkType;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/decode")
}

struct Seed {
    file: &'static str,
    link: LinkType,
    frame: Vec<u8>,
    summary: &'static str,
}

fn seed(file: &'static str, link: LinkType, frame: Vec<u8>, summary: &'static str) -> Seed {
    Seed {
        file,
        link,
        frame,
        summary,
    }
}

fn icmp_echo() -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(IP_A, IP_B, 64)
        .icmpv4_echo_request(1, 1)
        .write(&mut out, b"abcdefgh")
        .expect("build echo");
    out
}

fn seeds() -> Vec<Seed> {
    let syn = ipv4_raw(6, &[], 0x4000, 1, &tcp_raw(6, 0x02, &[2, 4, 5, 0xb4], b""));
    let mqtt = ipv4_tcp(&[
        0x30, 0x0b, 0x00, 0x04, b't', b'e', b'm', b'p', b'2', b'1', b'.', b'5', b'C',
    ]);
    let dns = ipv4_raw(
        17,
        &[],
        0,
        2,
        &udp_raw(None, &[0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    );
    let hbh_fragment = {
        let mut ext = vec![44, 0, 1, 4, 0, 0, 0, 0, 17, 0, 0, 1, 0, 0, 0, 7];
        ext.extend_from_slice(&udp_raw(Some(1400), b"start of a big datagram"));
        ipv6_raw(0, &ext)
    };
    let unreachable = {
        let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&ipv4_udp(b"lookup")[..28]);
        ipv4_raw(1, &[], 0, 3, &icmp)
    };
    let mut bad_ihl = ipv4_tcp(b"x");
    bad_ihl[0] = 0x43;
    let mut frames = vec![
        seed("eth_ipv4_tcp_syn.bin", LinkType::ETHERNET, ethernet(ETHERTYPE_IPV4, &syn),
            "ether ip 192.168.1.10 -> 10.16.100.73 proto=6 ttl=64 ip_len=44 tcp 40000->80 flags=02 payload=0/0"),
        seed("eth_vlan_ipv4_udp_dns.bin", LinkType::ETHERNET, ethernet_tagged(&[(0x8100, 20)], ETHERTYPE_IPV4, &dns),
            "ether vlan=20 ip 192.168.1.10 -> 10.16.100.73 proto=17 ttl=64 ip_len=40 udp 5353->53 payload=12/12"),
        seed("eth_qinq_ipv6_tcp.bin", LinkType::ETHERNET, ethernet_tagged(&[(0x88a8, 300), (0x8100, 12)], ETHERTYPE_IPV6, &ipv6_tcp(b"hello")),
            "ether vlan=300 inner_vlan=12 ip 2001:db8::a -> 2001:db8::b proto=6 ttl=32 ip_len=65 tcp 40000->443 flags=02 payload=5/5"),
        seed("eth_arp_request.bin", LinkType::ETHERNET, ethernet(ETHERTYPE_ARP, &arp(1, [0; 6])),
            "ether arp Request 192.168.1.10/02:00:00:00:00:0a -> 10.16.100.73/00:00:00:00:00:00"),
        seed("eth_ipv4_options_tcp.bin", LinkType::ETHERNET, ethernet(ETHERTYPE_IPV4, &ipv4_raw(6, &[0x94, 4, 0, 0, 1, 1, 1, 0], 0, 4, &tcp_raw(5, 0x11, &[], b"bye"))),
            "ether ip 192.168.1.10 -> 10.16.100.73 proto=6 ttl=64 ip_len=51 tcp 40000->80 flags=11 payload=3/3"),
        seed("eth_ipv4_first_fragment_udp.bin", LinkType::ETHERNET, ethernet(ETHERTYPE_IPV4, &ipv4_raw(17, &[], 0x2000, 5, &udp_raw(Some(2000), &[0x61; 64]))),
            "ether ip 192.168.1.10 -> 10.16.100.73 proto=17 ttl=64 ip_len=92 frag(off=0 mf=true id=5) udp 5353->53 payload=64/64"),
        seed("eth_ipv4_later_fragment.bin", LinkType::ETHERNET, ethernet(ETHERTYPE_IPV4, &ipv4_raw(17, &[], 9, 5, &[0x62; 40])),
            "ether ip 192.168.1.10 -> 10.16.100.73 proto=17 ttl=64 ip_len=60 frag(off=72 mf=false id=5) other"),
        seed("raw_ipv6_hbh_fragment_udp.bin", LinkType::RAW, hbh_fragment,
            "rawip ip 2001:db8::a -> 2001:db8::b proto=17 ttl=32 ip_len=87 frag(off=0 mf=true id=7) udp 5353->53 payload=23/23"),
        seed("sll_ipv4_tcp_mqtt.bin", LinkType::LINUX_SLL, sll(1, ETHERTYPE_IPV4, &mqtt),
            "linux-sll ip 192.168.1.10 -> 10.16.100.73 proto=6 ttl=64 ip_len=53 tcp 40000->1883 flags=18 payload=13/13"),
        seed("sll2_ipv6_udp.bin", LinkType::LINUX_SLL2, sll2(772, ETHERTYPE_IPV6, &ipv6_udp(b"dhcp")),
            "linux-sll2 ip 2001:db8::a -> 2001:db8::b proto=17 ttl=32 ip_len=52 udp 546->547 payload=4/4"),
        seed("null_ipv4_icmp_echo.bin", LinkType::NULL, null(2, true, &icmp_echo()),
            "null ip 192.168.1.10 -> 10.16.100.73 proto=1 ttl=64 ip_len=36 icmp type=8 code=0 payload=12/12"),
        seed("loop_ipv6_tcp.bin", LinkType::LOOP, null(24, false, &ipv6_tcp(b"")),
            "loop ip 2001:db8::a -> 2001:db8::b proto=6 ttl=32 ip_len=60 tcp 40000->443 flags=02 payload=0/0"),
        seed("ppp_ipv4_tcp.bin", LinkType::PPP, with_prefix(&[0xff, 0x03, 0x00, 0x21], &mqtt),
            "ppp ip 192.168.1.10 -> 10.16.100.73 proto=6 ttl=64 ip_len=53 tcp 40000->1883 flags=18 payload=13/13"),
        seed("chdlc_ipv4_udp.bin", LinkType::CHDLC, with_prefix(&[0x0f, 0x00, 0x08, 0x00], &dns),
            "chdlc ip 192.168.1.10 -> 10.16.100.73 proto=17 ttl=64 ip_len=40 udp 5353->53 payload=12/12"),
        seed("ipv4_icmp_unreachable.bin", LinkType::IPV4, unreachable,
            "ipv4 ip 192.168.1.10 -> 10.16.100.73 proto=1 ttl=64 ip_len=56 icmp type=3 code=3 payload=32/32"),
        seed("eth_ipv4_bad_ihl.bin", LinkType::ETHERNET, ethernet(ETHERTYPE_IPV4, &bad_ihl),
            "ether none"),
        seed("eth_ipv4_tcp_bad_data_offset.bin", LinkType::ETHERNET, ethernet(ETHERTYPE_IPV4, &ipv4_raw(6, &[], 0, 6, &tcp_raw(3, 0x10, &[], b"12345678"))),
            "ether ip 192.168.1.10 -> 10.16.100.73 proto=6 ttl=64 ip_len=48 malformed"),
        seed("raw_ipv4_udp_bad_length.bin", LinkType::RAW, ipv4_raw(17, &[], 0, 7, &udp_raw(Some(4), b"abc")),
            "rawip ip 192.168.1.10 -> 10.16.100.73 proto=17 ttl=64 ip_len=31 malformed"),
        seed("eth_ipv4_in_ipv4.bin", LinkType::ETHERNET, ethernet(ETHERTYPE_IPV4, &ipv4_raw(4, &[], 0, 8, &ipv4_tcp(b"inner"))),
            "ether ip 192.168.1.10 -> 10.16.100.73 proto=4 ttl=64 ip_len=65 other"),
    ];
    frames.sort_by_key(|s| s.file);
    frames
}

#[test]
fn corpus_seeds_match_their_files_and_summaries() {
    let dir = corpus_dir();
    let write = std::env::var_os("GATEWATCH_WRITE_CORPUS").is_some();
    if write {
        std::fs::create_dir_all(&dir).expect("create corpus dir");
    }
    for s in seeds() {
        let bytes = corpus_file(s.link, &s.frame);
        assert!(bytes.len() < 2048, "{} is too big for a seed", s.file);
        let path = dir.join(s.file);
        if write {
            std::fs::write(&path, &bytes).expect("write seed");
        }
        let on_disk = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; regenerate with GATEWATCH_WRITE_CORPUS=1",
                path.display()
            )
        });
        assert_eq!(on_disk, bytes, "{} differs from its builder", s.file);
        let (summary, _) = describe(s.link, &s.frame);
        assert_eq!(summary, s.summary, "{}", s.file);
    }
}

#[test]
fn every_corpus_file_decodes() {
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("tests/corpus/decode exists")
        .map(|entry| entry.expect("dir entry").path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 15,
        "the seed corpus has {} files",
        files.len()
    );
    for path in files {
        let bytes = std::fs::read(&path).expect("read corpus file");
        // Fuzzer-found files may be shorter than the link-type prefix.
        let (link, frame) = match bytes.split_first_chunk::<4>() {
            Some((link, frame)) => (LinkType(u32::from_le_bytes(*link)), frame),
            None => (LinkType(u32::MAX), &bytes[..]),
        };
        let (d, c) = decode_bytes(link, frame);
        check_invariants(frame, &d);
        assert_eq!(c.packets, 1, "{}", path.display());
    }
}
