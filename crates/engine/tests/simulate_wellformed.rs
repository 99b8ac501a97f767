//! Every frame parses, checksums verify, time never goes backwards, and the
//! application payloads (DHCP, DNS, MQTT, TLS) are structurally valid.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod simulate_common;

use std::collections::{BTreeMap, BTreeSet};

use gatewatch_engine::simulate::{AttackKind, DeviceClass, DEFAULT_START_SECS};
/// Cipher suites and extension types of a ClientHello.
type Fingerprint = (Vec<u16>, Vec<u16>);
/// Client address and port, server address and port.
type ConnKey = (String, u16, String, u16);

use simulate_common::{
    client_hello_fingerprint, dhcp_options, dns_walk, mqtt_header, run, view, L4,
};

#[test]
fn frames_parse_with_valid_checksums_in_time_order() {
    let (packets, summary) = run(20, 1.0, 7, &[AttackKind::All]);
    assert_eq!(summary.packets, packets.len() as u64);
    assert_eq!(
        summary.bytes,
        packets.iter().map(|p| p.frame.len() as u64).sum::<u64>()
    );
    let start = DEFAULT_START_SECS * 1_000_000_000;
    assert!(packets.first().unwrap().ts.0 >= start);
    assert!(
        packets.windows(2).all(|w| w[0].ts <= w[1].ts),
        "timestamps go backwards"
    );
    assert!(packets.last().unwrap().ts.0 <= start + 3_700 * 1_000_000_000);
    let mut tcp = 0;
    let mut udp = 0;
    let mut arp = 0;
    for p in &packets {
        assert!(p.frame.len() <= 1514, "frame longer than the MTU");
        match view(&p.frame) {
            v if v.arp => arp += 1,
            v => match v.l4 {
                L4::Tcp { .. } => tcp += 1,
                L4::Udp { .. } => udp += 1,
                L4::Other => panic!("IPv4 frame without TCP/UDP"),
            },
        }
    }
    assert!(
        tcp > 10_000 && udp > 1_000 && arp > 100,
        "tcp {tcp} udp {udp} arp {arp}"
    );
}

#[test]
fn fleet_of_twenty_holds_every_class() {
    let (_, summary) = run(20, 0.05, 3, &[]);
    let classes: BTreeSet<DeviceClass> = summary.devices.iter().map(|d| d.class).collect();
    for c in DeviceClass::FLEET {
        assert!(classes.contains(&c), "{c:?} missing");
    }
    assert_eq!(summary.devices.len(), 20);
    assert_eq!(summary.infrastructure.len(), 5);
}

#[test]
fn dhcp_joins_are_complete_and_fingerprints_stable_per_device() {
    let (packets, summary) = run(20, 0.25, 5, &[]);
    let mut kinds: BTreeMap<[u8; 6], BTreeSet<u8>> = BTreeMap::new();
    let mut params: BTreeMap<[u8; 6], BTreeSet<Vec<u8>>> = BTreeMap::new();
    for p in &packets {
        let v = view(&p.frame);
        let L4::Udp {
            sport,
            dport,
            payload,
        } = v.l4
        else {
            continue;
        };
        if !(sport == 67 || sport == 68) || !(dport == 67 || dport == 68) {
            continue;
        }
        let opts = dhcp_options(payload).expect("DHCP options walk to the end option");
        assert!(payload.len() >= 300);
        let chaddr: [u8; 6] = payload[28..34].try_into().unwrap();
        let t = opts
            .iter()
            .find(|o| o.0 == 53)
            .map(|o| o.1[0])
            .expect("option 53");
        kinds.entry(chaddr).or_default().insert(t);
        if let Some(p55) = opts.iter().find(|o| o.0 == 55) {
            params.entry(chaddr).or_default().insert(p55.1.clone());
            assert!(
                opts.iter().any(|o| o.0 == 61),
                "client id (option 61) missing"
            );
        }
    }
    for d in &summary.devices {
        let m = simulate_common::mac(&d.mac);
        assert_eq!(
            kinds.get(&m),
            Some(&BTreeSet::from([1, 2, 3, 5])),
            "{} did not complete DORA",
            d.hostname
        );
        assert_eq!(
            params.get(&m).map(BTreeSet::len),
            Some(1),
            "{} changed its option 55",
            d.hostname
        );
    }
    let distinct: BTreeSet<_> = params.values().flatten().collect();
    assert!(
        distinct.len() >= 8,
        "DHCP fingerprints are not class-specific: {}",
        distinct.len()
    );
}

#[test]
fn dns_messages_walk_and_answers_follow_queries() {
    let (packets, _) = run(20, 0.5, 9, &[AttackKind::DnsDga, AttackKind::DnsTunnel]);
    let (mut queries, mut answered, mut nx, mut txt) = (0, 0, 0, 0);
    for p in &packets {
        let L4::Udp {
            sport,
            dport,
            payload,
        } = view(&p.frame).l4
        else {
            continue;
        };
        if sport != 53 && dport != 53 && sport != 5353 {
            continue;
        }
        let (flags, qd, an, ns, _) =
            dns_walk(payload).unwrap_or_else(|| panic!("malformed DNS: {payload:02x?}"));
        if flags & 0x8000 == 0 {
            queries += 1;
            assert_eq!(qd, if sport == 5353 { qd } else { 1 });
        } else if dport != 5353 {
            if flags & 0x000f == 3 {
                nx += 1;
                assert_eq!((an, ns), (0, 1), "NXDOMAIN carries the zone's SOA");
            } else if an > 0 {
                answered += 1;
            }
            if payload.len() > 200 && payload.windows(2).any(|w| w == [0, 16]) {
                txt += 1;
            }
        }
    }
    assert!(
        queries > 100 && answered > 50 && nx > 50 && txt > 50,
        "q {queries} a {answered} nx {nx} txt {txt}"
    );
}

#[test]
fn mqtt_packets_have_consistent_lengths() {
    let (packets, _) = run(20, 0.5, 11, &[AttackKind::BruteforceMqtt]);
    let mut seen: BTreeMap<u8, usize> = BTreeMap::new();
    for p in &packets {
        let L4::Tcp {
            sport,
            dport,
            payload,
            ..
        } = view(&p.frame).l4
        else {
            continue;
        };
        if (sport != 1883 && dport != 1883) || payload.is_empty() {
            continue;
        }
        // Every MQTT message the simulator sends fits one segment: walk the control packets in it.
        let mut at = 0;
        while at < payload.len() {
            let (first, hl, len) = mqtt_header(&payload[at..]).expect("fixed header");
            *seen.entry(first >> 4).or_default() += 1;
            if first == 0x10 {
                let body = &payload[at + hl..at + hl + len];
                assert_eq!(&body[..6], &[0, 4, b'M', b'Q', b'T', b'T']);
                assert!(body[6] == 4 || body[6] == 5);
            }
            if first >> 4 == 2 {
                let code = payload[at + hl + 1];
                assert!(matches!(code, 0 | 5 | 0x87), "CONNACK code {code}");
            }
            at += hl + len;
        }
        assert_eq!(
            at,
            payload.len(),
            "MQTT lengths do not add up to the segment"
        );
    }
    for t in [1, 2, 3, 8, 9, 12, 13] {
        assert!(
            seen.get(&t).copied().unwrap_or(0) > 0,
            "no MQTT packet of type {t}: {seen:?}"
        );
    }
}

#[test]
fn tls_client_hellos_parse_and_keep_one_fingerprint_per_device() {
    let (packets, summary) = run(20, 1.0, 13, &[]);
    let mut per_ip: BTreeMap<String, BTreeSet<Fingerprint>> = BTreeMap::new();
    let mut snis = 0;
    let mut server_hellos = 0;
    for p in &packets {
        let v = view(&p.frame);
        let L4::Tcp {
            dport,
            sport,
            payload,
            ..
        } = v.l4
        else {
            continue;
        };
        if dport == 443 && payload.first() == Some(&22) && payload.get(5) == Some(&1) {
            let (ciphers, exts, sni) =
                client_hello_fingerprint(payload).expect("well-formed ClientHello");
            snis += usize::from(sni.is_some());
            per_ip
                .entry(v.src.unwrap().to_string())
                .or_default()
                .insert((ciphers, exts));
        }
        if sport == 443 && payload.len() > 6 && payload[0] == 22 && payload[5] == 2 {
            server_hellos += 1;
        }
    }
    assert!(per_ip.len() >= 12, "only {} devices used TLS", per_ip.len());
    for (ip, fps) in &per_ip {
        assert_eq!(fps.len(), 1, "{ip} shows {} TLS fingerprints", fps.len());
    }
    let distinct: BTreeSet<_> = per_ip.values().flatten().collect();
    assert!(
        distinct.len() >= 5,
        "only {} TLS stacks in the fleet",
        distinct.len()
    );
    assert!(snis > 50 && server_hellos > 50);
    assert!(summary.truth.is_empty());
}

#[test]
fn tcp_sessions_finish_with_fins_both_ways() {
    let (packets, _) = run(20, 0.5, 17, &[]);
    // Per connection (client, server): SYN seen, FIN from each side.
    let mut conns: BTreeMap<ConnKey, (bool, bool, bool)> = BTreeMap::new();
    for p in &packets {
        let v = view(&p.frame);
        let L4::Tcp {
            sport,
            dport,
            syn,
            fin,
            ackf,
            ..
        } = v.l4
        else {
            continue;
        };
        let (s, d) = (v.src.unwrap().to_string(), v.dst.unwrap().to_string());
        if syn && !ackf {
            conns.insert((s.clone(), sport, d.clone(), dport), (true, false, false));
        }
        if fin {
            if let Some(c) = conns.get_mut(&(s.clone(), sport, d.clone(), dport)) {
                c.1 = true;
            } else if let Some(c) = conns.get_mut(&(d, dport, s, sport)) {
                c.2 = true;
            }
        }
    }
    let closed = conns.values().filter(|c| c.1 && c.2).count();
    let persistent = conns.keys().filter(|k| k.3 == 1883 || k.3 == 502).count();
    assert!(conns.len() > 150, "{} connections", conns.len());
    // Everything but the long-lived MQTT/Modbus connections still open at the end closes cleanly.
    assert!(
        closed + persistent >= conns.len(),
        "{closed} closed of {} ({persistent} persistent)",
        conns.len()
    );
}
