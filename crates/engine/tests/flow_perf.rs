//! Memory and speed of the flow table. The budget test always runs; the
//! measurements are `#[ignore]`d, run them in release:
//! `cargo test --release -p gatewatch-engine --test flow_perf -- --ignored --nocapture`

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use gatewatch_engine::decode::{
    Decoded, IcmpMessage, IpPacket, Network, TcpFlags, TcpSegment, Transport, UdpDatagram,
};
use gatewatch_engine::flow::{FlowConfig, FlowTable};
use gatewatch_engine::sink::CountingSink;
use gatewatch_engine::source::LinkType;
use gatewatch_engine::time::Timestamp;

static PAYLOAD: [u8; 512] = [0; 512];

fn v4(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(n))
}

fn packet(
    ts: i64,
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    ip_len: u32,
    transport: Transport<'static>,
) -> Decoded<'static> {
    Decoded {
        ts: Timestamp(ts),
        wire_len: ip_len + 14,
        cap_len: ip_len + 14,
        link: LinkType::ETHERNET,
        src_mac: None,
        dst_mac: None,
        vlan: None,
        inner_vlan: None,
        network: Network::Ip(IpPacket {
            src,
            dst,
            protocol,
            ttl: 64,
            ip_len,
            fragment: None,
            transport,
        }),
    }
}

fn udp(ts: i64, src: IpAddr, sport: u16, dst: IpAddr, dport: u16, len: u32) -> Decoded<'static> {
    let d = UdpDatagram {
        src_port: sport,
        dst_port: dport,
        payload: &PAYLOAD[..len as usize],
        payload_len: len,
    };
    packet(ts, src, dst, 17, 28 + len, Transport::Udp(d))
}

#[allow(clippy::too_many_arguments)]
fn tcp(
    ts: i64,
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    dport: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    len: u32,
) -> Decoded<'static> {
    let t = TcpSegment {
        src_port: sport,
        dst_port: dport,
        seq,
        ack,
        flags: TcpFlags(flags),
        window: 65535,
        payload: &PAYLOAD[..len as usize],
        payload_len: len,
    };
    packet(ts, src, dst, 6, 40 + len, Transport::Tcp(t))
}

fn icmp(ts: i64, src: IpAddr, dst: IpAddr, icmp_type: u8) -> Decoded<'static> {
    let m = IcmpMessage {
        v6: false,
        icmp_type,
        code: 0,
        payload: &PAYLOAD[..60],
        payload_len: 60,
    };
    packet(ts, src, dst, 1, 84, Transport::Icmp(m))
}

fn vm_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn bytes_per_flow_within_budget() {
    let b = FlowTable::bytes_per_flow();
    println!("bytes_per_flow = {b}");
    assert!(b <= 1024, "a flow costs {b} bytes, over the 1 KiB budget");
}

#[test]
#[ignore]
fn rss_one_million_udp_flows() {
    const N: u32 = 1_000_000;
    let before = vm_rss_kib().unwrap_or(0);
    let mut table = FlowTable::new(FlowConfig::default());
    let mut out = CountingSink::default();
    let server = v4(0xC0A8_0001);
    let started = Instant::now();
    for i in 0..N {
        let p = udp(
            i64::from(i) * 1000,
            v4(0x0A00_0000 + i),
            40000,
            server,
            5683,
            32,
        );
        table.observe(&p, &mut out);
    }
    let elapsed = started.elapsed();
    let after = vm_rss_kib().unwrap_or(0);
    assert_eq!(table.len(), N as usize);
    let per_flow = (after.saturating_sub(before)) * 1024 / u64::from(N);
    println!(
        "1M UDP flows: RSS +{} MiB ({} bytes/flow), insert {:.0} ns/flow, bytes_per_flow() = {}",
        (after - before) / 1024,
        per_flow,
        elapsed.as_nanos() as f64 / f64::from(N),
        FlowTable::bytes_per_flow()
    );
    assert!(per_flow <= 1024);
}

/// A packet mix of concurrent connections: 60 % TCP (handshake, data both
/// ways, FINs: 9 packets), 30 % UDP request/response, 10 % ICMP echo.
fn packet_mix(sessions: u32, waves: u32) -> Vec<Decoded<'static>> {
    let mut pkts = Vec::new();
    let mut ts: i64 = 1_700_000_000_000_000_000;
    let server = v4(0xC0A8_0001);
    for wave in 0..waves {
        for pos in 0..9u32 {
            for s in 0..sessions {
                ts += 20_000; // 50k packets/s of packet time: flows close and expire
                let client = v4(0x0A00_0000 + wave * sessions + s);
                let port = 20000 + (wave as u16) * 7;
                let (a, b) = (client, server);
                const S: u8 = TcpFlags::SYN;
                const A: u8 = TcpFlags::ACK;
                const F: u8 = TcpFlags::FIN;
                const P: u8 = TcpFlags::PSH;
                let p = match s % 10 {
                    0..=5 => match pos {
                        0 => tcp(ts, a, port, b, 443, S, 1000, 0, 0),
                        1 => tcp(ts, b, 443, a, port, S | A, 5000, 1001, 0),
                        2 => tcp(ts, a, port, b, 443, A, 1001, 5001, 0),
                        3 => tcp(ts, a, port, b, 443, P | A, 1001, 5001, 200),
                        4 => tcp(ts, b, 443, a, port, A, 5001, 1201, 0),
                        5 => tcp(ts, b, 443, a, port, P | A, 5001, 1201, 400),
                        6 => tcp(ts, a, port, b, 443, F | A, 1201, 5401, 0),
                        7 => tcp(ts, b, 443, a, port, F | A, 5401, 1202, 0),
                        _ => tcp(ts, a, port, b, 443, A, 1202, 5402, 0),
                    },
                    6..=8 => match pos {
                        0 => udp(ts, a, port, b, 53, 40),
                        1 => udp(ts, b, 53, a, port, 120),
                        _ => continue,
                    },
                    _ => match pos {
                        0 => icmp(ts, a, b, 8),
                        1 => icmp(ts, b, a, 0),
                        _ => continue,
                    },
                };
                pkts.push(p);
            }
        }
    }
    pkts
}

fn measure(sessions: u32, waves: u32) {
    let pkts = packet_mix(sessions, waves);
    let mut best = f64::MAX;
    for _ in 0..3 {
        let mut table = FlowTable::new(FlowConfig::default());
        let mut out = CountingSink::default();
        let started = Instant::now();
        for p in &pkts {
            table.observe(p, &mut out);
        }
        let ns = started.elapsed().as_nanos() as f64 / pkts.len() as f64;
        best = best.min(ns);
        table.flush(&mut out);
        assert_eq!(out.count, u64::from(waves * sessions));
    }
    println!(
        "observe: {best:.1} ns/packet = {:.1} M packets/s over {} packets ({sessions} interleaved connections per wave, 60% TCP / 30% UDP / 10% ICMP, records built)",
        1e3 / best,
        pkts.len(),
    );
}

#[test]
#[ignore]
fn observe_ns_per_packet() {
    // Worst case for caches: every packet hits another of 50k connections.
    measure(50_000, 8);
    // Typical: a few hundred connections active at once.
    measure(500, 800);
}
