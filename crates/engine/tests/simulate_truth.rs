//! Every attack kind leaves a truth record inside the capture and traffic that matches it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod simulate_common;

use std::collections::BTreeSet;

use gatewatch_engine::simulate::{AttackKind, DeviceClass, SimSummary};
use simulate_common::{dns_qname, dns_walk, run, view, L4};

fn span(s: &SimSummary) -> (f64, f64) {
    (
        s.first_ts.unwrap().as_secs_f64(),
        s.last_ts.unwrap().as_secs_f64(),
    )
}

#[test]
fn benign_runs_have_no_truth() {
    let (packets, summary) = run(20, 0.5, 21, &[]);
    assert!(!packets.is_empty());
    assert!(summary.truth.is_empty());
}

#[test]
fn each_kind_alone_yields_one_record_inside_the_capture() {
    for kind in AttackKind::TRUTH_KINDS {
        let (_, s) = run(20, 1.0, 31, &[kind]);
        assert_eq!(s.truth.len(), 1, "{kind}: {:?}", s.truth);
        let t = &s.truth[0];
        let (first, last) = span(&s);
        assert_eq!(t.kind, kind.name());
        assert_eq!(t.id, "a1");
        assert!(t.start < t.end, "{kind}: start {} end {}", t.start, t.end);
        assert!(
            t.start >= first && t.end <= last,
            "{kind} outside the capture"
        );
        // After the benign warm-up (first quarter of the hour).
        assert!(
            t.start >= first + 0.2 * 3600.0,
            "{kind} starts during warm-up"
        );
        assert!(
            !t.devices.is_empty()
                && !t.ips.is_empty()
                && !t.targets.is_empty()
                && !t.notes.is_empty()
        );
        let known: BTreeSet<&str> = s.devices.iter().map(|d| d.mac.as_str()).collect();
        assert!(
            known.contains(t.devices[0].as_str()),
            "{kind}: device {} not in the device list",
            t.devices[0]
        );
    }
}

#[test]
fn all_expands_to_every_kind_in_time_order() {
    let (_, s) = run(20, 1.0, 33, &[AttackKind::All]);
    let kinds: BTreeSet<&str> = s.truth.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(kinds.len(), 14);
    assert!(s.truth.windows(2).all(|w| w[0].start <= w[1].start));
    let ids: Vec<&str> = s.truth.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids.first(), Some(&"a1"));
    assert_eq!(ids.last(), Some(&"a14"));
    let json = serde_json::to_value(&s.truth[0]).unwrap();
    let fields: BTreeSet<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from(["id", "kind", "devices", "ips", "start", "end", "targets", "notes"])
    );
    let rogue = s.devices.iter().filter(|d| !d.enrolled).count();
    assert_eq!(rogue, 1);
}

#[test]
fn mirai_is_four_stages_on_one_camera() {
    let (packets, s) = run(20, 1.0, 35, &[AttackKind::Mirai]);
    let kinds: Vec<&str> = s.truth.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec!["scan.horizontal", "bruteforce.telnet", "beacon", "flood"]
    );
    let macs: BTreeSet<&str> = s.truth.iter().map(|t| t.devices[0].as_str()).collect();
    assert_eq!(macs.len(), 1);
    let cam = s
        .devices
        .iter()
        .find(|d| d.mac == s.truth[0].devices[0])
        .unwrap();
    assert_eq!(cam.class, DeviceClass::IpCamera);
    assert!(s.truth.iter().all(|t| t.notes.starts_with("mirai-like")));
    // Mirai's scanner sets the SYN sequence number to the target address.
    let scanner = cam.ip;
    let mirai_syns = packets
        .iter()
        .filter(|p| {
            let v = view(&p.frame);
            matches!(v.l4, L4::Tcp { syn: true, ackf: false, dport: 23 | 2323, seq, .. } if v.src == Some(scanner) && Some(seq) == v.dst.map(u32::from))
        })
        .count();
    assert!(mirai_syns > 1000, "{mirai_syns} scanner SYNs");
    // The brute force ends in a shell on the NVR.
    let shell = packets.iter().any(|p| matches!(view(&p.frame).l4, L4::Tcp { sport: 23, payload, .. } if payload.windows(23).any(|w| w == b"MIRAI: applet not found")));
    assert!(shell);
}

#[test]
fn attack_traffic_matches_its_truth() {
    let (packets, s) = run(20, 1.0, 37, &[AttackKind::All]);
    let rec = |k: &str| s.truth.iter().find(|t| t.kind == k).unwrap();
    let in_window = |ts: f64, k: &str| ts >= rec(k).start && ts <= rec(k).end;
    let (mut refused, mut telnet_fail, mut ssh_banners, mut nx, mut long_txt, mut modbus_from_cam) =
        (0, 0, 0, 0, 0, 0);
    let policy_ip: std::net::Ipv4Addr = rec("policy.violation").ips[0].parse().unwrap();
    let mut dup_ips = BTreeSet::new();
    let dup_mac = simulate_common::mac(&rec("identity.duplicate").devices[0]);
    for p in &packets {
        let ts = p.ts.as_secs_f64();
        let v = view(&p.frame);
        if v.src_mac == dup_mac {
            if let Some(ip) = v.src.filter(|ip| !ip.is_unspecified()) {
                dup_ips.insert(ip.to_string());
            }
        }
        match v.l4 {
            L4::Tcp {
                sport: 1883,
                payload,
                ..
            } if payload.first() == Some(&0x20)
                && payload.len() >= 4
                && matches!(payload[3], 5 | 0x87) =>
            {
                assert!(in_window(ts, "bruteforce.mqtt"));
                refused += 1;
            }
            L4::Tcp {
                sport: 23, payload, ..
            } if payload.windows(15).any(|w| w == b"Login incorrect") => telnet_fail += 1,
            L4::Tcp {
                sport: 22, payload, ..
            } if payload.starts_with(b"SSH-2.0-OpenSSH_8.9p1") => {
                assert!(in_window(ts, "bruteforce.ssh"));
                ssh_banners += 1;
            }
            L4::Tcp {
                dport: 502,
                payload,
                ..
            } if !payload.is_empty() && v.src == Some(policy_ip) => {
                assert!(in_window(ts, "policy.violation"));
                modbus_from_cam += 1;
            }
            L4::Udp {
                sport: 53, payload, ..
            } => {
                let (flags, ..) = dns_walk(payload).unwrap();
                if flags & 0xf == 3 {
                    assert!(in_window(ts, "dns.dga"));
                    nx += 1;
                }
                let name = dns_qname(payload).unwrap();
                if name.len() > 100 {
                    assert!(in_window(ts, "dns.tunnel"));
                    long_txt += 1;
                }
            }
            _ => {}
        }
    }
    assert!(refused >= 30, "mqtt refusals {refused}");
    assert!(telnet_fail >= 10, "telnet failures {telnet_fail}");
    assert!(ssh_banners >= 10, "ssh sessions {ssh_banners}");
    assert!(nx >= 50, "NXDOMAIN {nx}");
    assert!(long_txt >= 50, "tunnel queries {long_txt}");
    assert!(
        modbus_from_cam >= 10,
        "camera Modbus requests {modbus_from_cam}"
    );
    let expected: BTreeSet<String> = rec("identity.duplicate").ips.iter().cloned().collect();
    assert_eq!(
        dup_ips, expected,
        "the cloned MAC shows exactly the two addresses in the truth"
    );
}

#[test]
fn unknown_attack_names_are_rejected() {
    assert!("portscan".parse::<AttackKind>().is_err());
    assert_eq!(
        AttackKind::parse_list("all").unwrap(),
        vec![AttackKind::All]
    );
    assert_eq!(
        "firmware.behaviour_change".parse::<AttackKind>().unwrap(),
        AttackKind::FirmwareBehaviourChange
    );
}

#[test]
fn tiny_fleets_and_short_captures_still_work() {
    for devices in [1, 2, 3, 11] {
        for hours in [0.01, 0.1] {
            let (packets, s) = run(devices, hours, 41, &[AttackKind::All, AttackKind::Mirai]);
            assert!(packets.windows(2).all(|w| w[0].ts <= w[1].ts));
            assert!(
                !s.truth.is_empty(),
                "{devices} devices, {hours} h: no truth"
            );
            for t in &s.truth {
                assert!(
                    t.start <= t.end,
                    "{devices} devices, {hours} h: {} runs backwards",
                    t.kind
                );
            }
        }
    }
}
