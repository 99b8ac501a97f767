//! The identity stage under hostile and huge input: random packet sequences
//! and random protocol payloads never panic and every table and per-device
//! list stays within its named limit; a million distinct MACs and addresses
//! stay within `MAX_DEVICES`. Prints the memory a tracked device costs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::PacketBuilder;
use gatewatch_engine::decode::{
    ArpOperation, ArpPacket, Decoded, IpPacket, MacAddr, Network, Transport,
};
use gatewatch_engine::identity::config::{
    MAX_CLASS_EVIDENCE, MAX_HOSTNAMES_PER_DEVICE, MAX_IPS_PER_DEVICE, MAX_IP_BINDINGS,
    MAX_VLANS_PER_DEVICE,
};
use gatewatch_engine::identity::{IdentityConfig, IdentityStage, MAX_DEVICES};
use gatewatch_engine::pipeline::{Pipeline, PipelineConfig};
use gatewatch_engine::sink::CountingSink;
use gatewatch_engine::source::{LinkType, RawPacket};
use gatewatch_engine::time::Timestamp;
use proptest::prelude::*;

fn check_bounds(s: &IdentityStage, max_devices: usize) {
    assert!(s.len() <= max_devices, "{} devices", s.len());
    assert_eq!(s.counters().devices as usize, s.len());
    assert!(s.counters().ip_bindings as usize <= MAX_IP_BINDINGS);
    for d in s.devices() {
        assert!(d.ips.len() <= MAX_IPS_PER_DEVICE);
        assert!(d.hostnames.len() <= MAX_HOSTNAMES_PER_DEVICE);
        assert!(d.vlans.len() <= MAX_VLANS_PER_DEVICE);
        assert!(d.evidence.len() <= MAX_CLASS_EVIDENCE);
        assert!((0.0..=1.0).contains(&d.confidence));
        assert!(d.evidence.windows(2).all(|w| w[0].weight >= w[1].weight));
    }
}

fn address(k: u8) -> IpAddr {
    match k % 6 {
        0 => IpAddr::V4(Ipv4Addr::new(10, 0, 0, k / 6)),
        1 => IpAddr::V4(Ipv4Addr::new(93, 184, 216, k)),
        2 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        3 => IpAddr::V4(Ipv4Addr::new(169, 254, 1, k)),
        4 => IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(k))),
        _ => IpAddr::V4(Ipv4Addr::new(192, 168, 1, k / 6)),
    }
}

#[derive(Debug, Clone)]
struct Step {
    arp: bool,
    reply: bool,
    src_mac: u8,
    dst_mac: u8,
    src: u8,
    dst: u8,
    vlan: Option<u16>,
    dt_ms: u32,
}

fn step() -> impl Strategy<Value = Step> {
    (
        any::<bool>(),
        any::<bool>(),
        0u8..40,
        0u8..40,
        any::<u8>(),
        any::<u8>(),
        proptest::option::of(0u16..12),
        0u32..600_000,
    )
        .prop_map(
            |(arp, reply, src_mac, dst_mac, src, dst, vlan, dt_ms)| Step {
                arp,
                reply,
                src_mac,
                dst_mac,
                src,
                dst,
                vlan,
                dt_ms,
            },
        )
}

/// Small MAC pool; indexes 30+ are group addresses.
fn mac_of(i: u8) -> MacAddr {
    let first = if i >= 30 {
        0x01
    } else if i % 3 == 0 {
        0x02
    } else {
        0x00
    };
    MacAddr([first, 0x17, 0x88, 0, 0, i])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_packet_sequences_stay_bounded(steps in proptest::collection::vec(step(), 1..400)) {
        let max = 8;
        let mut s = IdentityStage::new(IdentityConfig { max_devices: max, ..IdentityConfig::default() });
        let mut ts = Timestamp::from_secs_nanos(1_700_000_000, 0);
        for st in &steps {
            ts = Timestamp(ts.0 + i64::from(st.dt_ms) * 1_000_000);
            let network = if st.arp {
                let (IpAddr::V4(sip), IpAddr::V4(tip)) = (address(st.src), address(st.dst)) else {
                    continue;
                };
                Network::Arp(ArpPacket {
                    operation: if st.reply { ArpOperation::Reply } else { ArpOperation::Request },
                    sender_mac: mac_of(st.src_mac),
                    sender_ip: sip,
                    target_mac: mac_of(st.dst_mac),
                    target_ip: if st.reply { sip } else { tip },
                })
            } else {
                Network::Ip(IpPacket {
                    src: address(st.src),
                    dst: address(st.dst),
                    protocol: 17,
                    ttl: 64,
                    ip_len: 60,
                    fragment: None,
                    transport: Transport::Other,
                })
            };
            let d = Decoded {
                ts,
                wire_len: 74,
                cap_len: 74,
                link: LinkType::ETHERNET,
                src_mac: Some(mac_of(st.src_mac)),
                dst_mac: Some(mac_of(st.dst_mac)),
                vlan: st.vlan,
                inner_vlan: None,
                network,
            };
            s.observe_packet(&d);
            check_bounds(&s, max);
        }
        s.finish();
        let mut ev = Vec::new();
        s.drain_evidence(&mut ev);
        prop_assert!(ev.iter().all(|e| (1..=10).contains(&e.severity) && e.kind.starts_with("identity.")));
    }

    /// Random payloads on the ports whose records identity reads (DHCP,
    /// mDNS, SSDP, DNS), from a small pool of local hosts, through the whole
    /// pipeline.
    #[test]
    fn random_protocol_payloads_never_panic(
        frames in proptest::collection::vec(
            (0u8..16, prop::sample::select(vec![(68u16, 67u16), (5353, 5353), (1900, 1900), (40000, 53), (40001, 1900)]),
             proptest::collection::vec(any::<u8>(), 0..600)),
            1..60)
    ) {
        let mut pipe = Pipeline::new(PipelineConfig {
            identity: Some(IdentityConfig { max_devices: 8, ..IdentityConfig::default() }),
            ..PipelineConfig::default()
        });
        let (mut c, mut p, mut ev) = (CountingSink::default(), CountingSink::default(), Vec::new());
        for (i, (host, (sport, dport), payload)) in frames.iter().enumerate() {
            let mut payload = payload.clone();
            if *sport == 68 && payload.len() > 240 {
                // Keep the BOOTP magic cookie so the options get parsed.
                payload[0] = 1;
                payload[236..240].copy_from_slice(&[99, 130, 83, 99]);
            }
            let mut f = Vec::new();
            PacketBuilder::ethernet2([0, 0x17, 0x88, 0, 0, *host], [0xff; 6])
                .ipv4([10, 0, 0, *host], [224, 0, 0, 251], 64)
                .udp(*sport, *dport)
                .write(&mut f, &payload)
                .unwrap();
            let raw = RawPacket {
                ts: Timestamp::from_secs_nanos(1_700_000_000 + i as i64, 0),
                data: &f,
                orig_len: f.len() as u32,
                link: LinkType::ETHERNET,
                interface: 0,
            };
            pipe.process_with_evidence(&raw, &mut c, &mut p, &mut ev);
        }
        pipe.finish_all(&mut c, &mut p);
        check_bounds(pipe.identity().unwrap(), 8);
    }
}

#[test]
fn a_million_distinct_macs_and_addresses_stay_within_max_devices() {
    const N: u32 = 1_000_000;
    let rss_before = vm_rss_kib();
    let mut s = IdentityStage::new(IdentityConfig::default());
    for i in 0..N {
        let [_, b, c, d] = i.to_be_bytes();
        let d = Decoded {
            ts: Timestamp::from_secs_nanos(
                1_700_000_000 + i64::from(i / 1000),
                (i % 1000) * 1_000_000,
            ),
            wire_len: 64,
            cap_len: 64,
            link: LinkType::ETHERNET,
            src_mac: Some(MacAddr([0x00, 0x17, 0x88, b, c, d])),
            dst_mac: Some(MacAddr([0x00, 0x17, 0x88, 0xff, 0xff, 0xfe])),
            vlan: None,
            inner_vlan: None,
            network: Network::Ip(IpPacket {
                src: IpAddr::V4(Ipv4Addr::new(10, b, c, d)),
                dst: IpAddr::V4(Ipv4Addr::new(10, 255, 255, 254)),
                protocol: 17,
                ttl: 64,
                ip_len: 50,
                fragment: None,
                transport: Transport::Other,
            }),
        };
        s.observe_packet(&d);
    }
    assert!(s.len() <= MAX_DEVICES);
    assert!(
        s.len() >= MAX_DEVICES - MAX_DEVICES / 16,
        "evicts in batches of 1/16"
    );
    assert_eq!(s.counters().devices_created, u64::from(N));
    assert_eq!(s.counters().evicted as usize + s.len(), N as usize);
    assert!(s.counters().ip_bindings as usize <= MAX_IP_BINDINGS);
    // The survivors are the most recently seen.
    let oldest = s.devices().map(|d| d.last_seen).min().unwrap();
    assert!(
        oldest.0
            >= Timestamp::from_secs_nanos(
                1_700_000_000 + i64::from((N - MAX_DEVICES as u32) / 1000) - 1,
                0
            )
            .0
    );
    let bytes = s.approx_memory_bytes();
    eprintln!(
        "size_of: DeviceEntry {} (DeviceRecord {}), ClassEvidence {}",
        std::mem::size_of::<gatewatch_engine::identity::table::DeviceEntry>(),
        std::mem::size_of::<gatewatch_engine::identity::DeviceRecord>(),
        std::mem::size_of::<gatewatch_engine::identity::ClassEvidence>()
    );
    eprintln!(
        "{} devices (OUI hint, one IP each): {} MiB, {} bytes per device",
        s.len(),
        bytes >> 20,
        bytes / s.len()
    );
    if let (Some(a), Some(b)) = (rss_before, vm_rss_kib()) {
        eprintln!(
            "RSS grew {} MiB (includes freed memory of evicted devices)",
            b.saturating_sub(a) >> 10
        );
    }
    assert!(bytes / s.len() < 4096);
}

fn vm_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
