//! Hand-built `Decoded` packets for the flow table tests.
#![allow(dead_code)]

use std::net::IpAddr;

use gatewatch_engine::decode::{
    ArpOperation, ArpPacket, Decoded, Fragment, IcmpMessage, IpPacket, MacAddr, Network, TcpFlags,
    TcpSegment, Transport, UdpDatagram,
};
use gatewatch_engine::flow::{ConnRecord, FlowConfig, FlowTable};
use gatewatch_engine::source::LinkType;
use gatewatch_engine::time::{Duration, Timestamp};

/// Epoch of every test capture (seconds).
pub const T0: i64 = 1_700_000_000;

static ZEROS: [u8; 4096] = [0; 4096];

pub const A: &str = "10.0.0.1";
pub const B: &str = "10.0.0.2";
pub const MAC_A: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0a]);
pub const MAC_B: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0b]);

/// Packet time `ms` milliseconds after `T0`.
pub fn at_ms(ms: i64) -> Timestamp {
    Timestamp(T0 * 1_000_000_000 + ms * 1_000_000)
}

pub fn ms(ms: i64) -> Duration {
    Duration::from_millis(ms)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn mac_of(addr: &str) -> MacAddr {
    match addr {
        A => MAC_A,
        B => MAC_B,
        _ => MacAddr([0x02, 0, 0, 0, 0, 0xff]),
    }
}

fn frame(
    ts_ms: i64,
    src: &str,
    dst: &str,
    protocol: u8,
    ip_len: u32,
    transport: Transport<'static>,
) -> Decoded<'static> {
    Decoded {
        ts: at_ms(ts_ms),
        wire_len: ip_len + 14,
        cap_len: ip_len + 14,
        link: LinkType::ETHERNET,
        src_mac: Some(mac_of(src)),
        dst_mac: Some(mac_of(dst)),
        vlan: None,
        inner_vlan: None,
        network: Network::Ip(IpPacket {
            src: ip(src),
            dst: ip(dst),
            protocol,
            ttl: 64,
            ip_len,
            fragment: None,
            transport,
        }),
    }
}

/// TCP flags from letters: S, A, F, R, P, U.
pub fn flags(s: &str) -> TcpFlags {
    let mut f = 0;
    for c in s.chars() {
        f |= match c {
            'S' => TcpFlags::SYN,
            'A' => TcpFlags::ACK,
            'F' => TcpFlags::FIN,
            'R' => TcpFlags::RST,
            'P' => TcpFlags::PSH,
            'U' => TcpFlags::URG,
            _ => panic!("unknown flag {c}"),
        };
    }
    TcpFlags(f)
}

/// A TCP segment with `len` payload bytes (all captured).
#[allow(clippy::too_many_arguments)]
pub fn tcp(
    ts_ms: i64,
    src: &str,
    sport: u16,
    dst: &str,
    dport: u16,
    fl: &str,
    seq: u32,
    ack: u32,
    len: u32,
) -> Decoded<'static> {
    tcp_cut(ts_ms, src, sport, dst, dport, fl, seq, ack, len, len)
}

/// A TCP segment with `len` payload bytes of which `captured` were captured.
#[allow(clippy::too_many_arguments)]
pub fn tcp_cut(
    ts_ms: i64,
    src: &str,
    sport: u16,
    dst: &str,
    dport: u16,
    fl: &str,
    seq: u32,
    ack: u32,
    len: u32,
    captured: u32,
) -> Decoded<'static> {
    let seg = TcpSegment {
        src_port: sport,
        dst_port: dport,
        seq,
        ack,
        flags: flags(fl),
        window: 65535,
        payload: &ZEROS[..captured as usize],
        payload_len: len,
    };
    frame(ts_ms, src, dst, 6, 40 + len, Transport::Tcp(seg))
}

/// Same as [`tcp`] with an explicit window.
#[allow(clippy::too_many_arguments)]
pub fn tcp_win(
    ts_ms: i64,
    src: &str,
    sport: u16,
    dst: &str,
    dport: u16,
    fl: &str,
    seq: u32,
    ack: u32,
    window: u16,
) -> Decoded<'static> {
    let mut d = tcp(ts_ms, src, sport, dst, dport, fl, seq, ack, 0);
    if let Network::Ip(ip) = &mut d.network {
        if let Transport::Tcp(t) = &mut ip.transport {
            t.window = window;
        }
    }
    d
}

pub fn udp(ts_ms: i64, src: &str, sport: u16, dst: &str, dport: u16, len: u32) -> Decoded<'static> {
    let d = UdpDatagram {
        src_port: sport,
        dst_port: dport,
        payload: &ZEROS[..len as usize],
        payload_len: len,
    };
    frame(ts_ms, src, dst, 17, 28 + len, Transport::Udp(d))
}

/// An ICMPv4 message with `data` bytes after the 8-byte ICMP header.
pub fn icmp(
    ts_ms: i64,
    src: &str,
    dst: &str,
    icmp_type: u8,
    code: u8,
    data: u32,
) -> Decoded<'static> {
    let m = IcmpMessage {
        v6: false,
        icmp_type,
        code,
        payload: &ZEROS[..(data + 4) as usize],
        payload_len: data + 4,
    };
    frame(ts_ms, src, dst, 1, 28 + data, Transport::Icmp(m))
}

/// An ICMPv6 message with `data` bytes after the 8-byte ICMP header.
pub fn icmp6(ts_ms: i64, src: &str, dst: &str, icmp_type: u8, data: u32) -> Decoded<'static> {
    let m = IcmpMessage {
        v6: true,
        icmp_type,
        code: 0,
        payload: &ZEROS[..(data + 4) as usize],
        payload_len: data + 4,
    };
    frame(ts_ms, src, dst, 58, 48 + data, Transport::Icmp(m))
}

/// An IP packet of another protocol (e.g. 47 GRE).
pub fn other_ip(ts_ms: i64, src: &str, dst: &str, protocol: u8, len: u32) -> Decoded<'static> {
    frame(ts_ms, src, dst, protocol, 20 + len, Transport::Other)
}

pub fn later_fragment(ts_ms: i64, src: &str, dst: &str) -> Decoded<'static> {
    let mut d = frame(ts_ms, src, dst, 17, 100, Transport::Other);
    if let Network::Ip(ip) = &mut d.network {
        ip.fragment = Some(Fragment {
            offset: 1480,
            more_fragments: false,
            id: 7,
        });
    }
    d
}

pub fn malformed(ts_ms: i64, src: &str, dst: &str) -> Decoded<'static> {
    frame(ts_ms, src, dst, 6, 30, Transport::Malformed)
}

pub fn arp(ts_ms: i64) -> Decoded<'static> {
    let mut d = frame(ts_ms, A, B, 0, 28, Transport::Other);
    d.network = Network::Arp(ArpPacket {
        operation: ArpOperation::Request,
        sender_mac: MAC_A,
        sender_ip: A.parse().unwrap(),
        target_mac: MacAddr::default(),
        target_ip: B.parse().unwrap(),
    });
    d
}

/// Feeds `pkts` to a new table with `config`, then flushes; returns all records.
pub fn run_with(config: FlowConfig, pkts: &[Decoded<'static>]) -> (Vec<ConnRecord>, FlowTable) {
    let mut table = FlowTable::new(config);
    let mut out = Vec::new();
    for p in pkts {
        table.observe(p, &mut out);
    }
    table.flush(&mut out);
    (out, table)
}

pub fn run(pkts: &[Decoded<'static>]) -> Vec<ConnRecord> {
    run_with(FlowConfig::default(), pkts).0
}

/// The only record of a run.
pub fn single(pkts: &[Decoded<'static>]) -> ConnRecord {
    let recs = run(pkts);
    assert_eq!(recs.len(), 1, "expected one record, got {recs:#?}");
    recs.into_iter().next().unwrap()
}

/// The three packets of a handshake A:51234 → B:80 (ISNs 1000 and 5000) at 0, 10, 20 ms.
pub fn handshake() -> Vec<Decoded<'static>> {
    vec![
        tcp(0, A, 51234, B, 80, "S", 1000, 0, 0),
        tcp(10, B, 80, A, 51234, "SA", 5000, 1001, 0),
        tcp(20, A, 51234, B, 80, "A", 1001, 5001, 0),
    ]
}
