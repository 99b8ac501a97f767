//! Golden tests: small captures in → the committed conn.log out; any diff fails.
//!
//! The captures are made here, deterministically: one built packet by packet
//! (every TCP ending Zeek distinguishes, UDP, ICMP, VLAN, IPv6) and one by
//! `gatewatch simulate`. Run with `GATEWATCH_BLESS=1` to rewrite the expected
//! files after an intended change, then review the diff by hand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use etherparse::PacketBuilder;

const BASE: u32 = 1_700_000_000;

/// Appends one classic-pcap record.
fn record(out: &mut Vec<u8>, t_ms: u64, frame: &[u8]) {
    let secs = BASE + (t_ms / 1000) as u32;
    let micros = ((t_ms % 1000) * 1000) as u32;
    out.extend_from_slice(&secs.to_le_bytes());
    out.extend_from_slice(&micros.to_le_bytes());
    out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    out.extend_from_slice(frame);
}

const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x10];
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x20];

/// A TCP segment between 10.0.0.16:port and 10.0.0.32:dport; `from_client` picks the direction.
#[allow(clippy::too_many_arguments)]
fn tcp(
    from_client: bool,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: Option<u32>,
    flags: &str,
    payload: &[u8],
) -> Vec<u8> {
    let (sm, dm, sip, dip, sp, dp) = if from_client {
        (
            CLIENT_MAC,
            SERVER_MAC,
            [10, 0, 0, 16],
            [10, 0, 0, 32],
            sport,
            dport,
        )
    } else {
        (
            SERVER_MAC,
            CLIENT_MAC,
            [10, 0, 0, 32],
            [10, 0, 0, 16],
            dport,
            sport,
        )
    };
    let mut b = PacketBuilder::ethernet2(sm, dm)
        .ipv4(sip, dip, 64)
        .tcp(sp, dp, seq, 64240);
    if flags.contains('S') {
        b = b.syn();
    }
    if flags.contains('F') {
        b = b.fin();
    }
    if flags.contains('R') {
        b = b.rst();
    }
    if flags.contains('P') {
        b = b.psh();
    }
    if let Some(a) = ack {
        b = b.ack(a);
    }
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

/// Every TCP ending Zeek distinguishes, plus UDP, ICMP, VLAN and IPv6.
fn handmade_capture() -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    p.extend_from_slice(&[0; 8]);
    p.extend_from_slice(&65535u32.to_le_bytes());
    p.extend_from_slice(&1u32.to_le_bytes());
    let r = &mut p;
    // SF: handshake, request, response, FIN both ways.
    record(r, 0, &tcp(true, 40000, 80, 100, None, "S", b""));
    record(r, 10, &tcp(false, 40000, 80, 900, Some(101), "SA", b""));
    record(r, 20, &tcp(true, 40000, 80, 101, Some(901), "A", b""));
    record(
        r,
        30,
        &tcp(
            true,
            40000,
            80,
            101,
            Some(901),
            "PA",
            b"GET / HTTP/1.1\r\n\r\n",
        ),
    );
    record(
        r,
        40,
        &tcp(
            false,
            40000,
            80,
            901,
            Some(119),
            "PA",
            b"HTTP/1.1 200 OK\r\n\r\n",
        ),
    );
    record(r, 50, &tcp(true, 40000, 80, 119, Some(920), "FA", b""));
    record(r, 60, &tcp(false, 40000, 80, 920, Some(120), "FA", b""));
    record(r, 70, &tcp(true, 40000, 80, 120, Some(921), "A", b""));
    // S0: a lone SYN.
    record(r, 100, &tcp(true, 40001, 23, 5000, None, "S", b""));
    // REJ: SYN answered by RST-ACK.
    record(r, 200, &tcp(true, 40002, 2323, 7000, None, "S", b""));
    record(r, 210, &tcp(false, 40002, 2323, 0, Some(7001), "RA", b""));
    // RSTO: established, originator aborts.
    record(r, 300, &tcp(true, 40003, 22, 1, None, "S", b""));
    record(r, 310, &tcp(false, 40003, 22, 50, Some(2), "SA", b""));
    record(r, 320, &tcp(true, 40003, 22, 2, Some(51), "A", b""));
    record(r, 330, &tcp(true, 40003, 22, 2, Some(51), "RA", b""));
    // OTH: midstream data only.
    record(
        r,
        400,
        &tcp(true, 40004, 1883, 10_000, Some(20_000), "PA", b"\xc0\x00"),
    );
    // UDP DNS query and answer (SF), and a one-way datagram (S0).
    let udp = |from_client: bool, sport: u16, dport: u16, payload: &[u8]| {
        let (sm, dm, sip, dip) = if from_client {
            (CLIENT_MAC, SERVER_MAC, [10, 0, 0, 16], [10, 0, 0, 1])
        } else {
            (SERVER_MAC, CLIENT_MAC, [10, 0, 0, 1], [10, 0, 0, 16])
        };
        let mut v = Vec::new();
        PacketBuilder::ethernet2(sm, dm)
            .ipv4(sip, dip, 64)
            .udp(sport, dport)
            .write(&mut v, payload)
            .unwrap();
        v
    };
    record(r, 500, &udp(true, 53000, 53, &[0xab; 29]));
    record(r, 505, &udp(false, 53, 53000, &[0xcd; 45]));
    record(r, 600, &udp(true, 123, 123, &[0x23; 48]));
    // ICMP echo request and reply: one connection.
    let icmp = |from_client: bool, reply: bool| {
        let (sm, dm, sip, dip) = if from_client {
            (CLIENT_MAC, SERVER_MAC, [10, 0, 0, 16], [8, 8, 8, 8])
        } else {
            (SERVER_MAC, CLIENT_MAC, [8, 8, 8, 8], [10, 0, 0, 16])
        };
        let b = PacketBuilder::ethernet2(sm, dm).ipv4(sip, dip, 64);
        let b = if reply {
            b.icmpv4_echo_reply(7, 1)
        } else {
            b.icmpv4_echo_request(7, 1)
        };
        let mut v = Vec::new();
        b.write(&mut v, &[0x61; 32]).unwrap();
        v
    };
    record(r, 700, &icmp(true, false));
    record(r, 720, &icmp(false, true));
    // 802.1Q-tagged UDP (vlan 42).
    let mut v = Vec::new();
    PacketBuilder::ethernet2(CLIENT_MAC, SERVER_MAC)
        .single_vlan(42.try_into().unwrap())
        .ipv4([10, 0, 42, 5], [10, 0, 42, 1], 64)
        .udp(5683, 5683)
        .write(&mut v, &[0x40, 0x01, 0x12, 0x34])
        .unwrap();
    record(r, 800, &v);
    // IPv6 TCP SYN (S0).
    let mut v = Vec::new();
    let src: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16];
    let dst: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x32];
    PacketBuilder::ethernet2(CLIENT_MAC, SERVER_MAC)
        .ipv6(src, dst, 64)
        .tcp(40005, 443, 1, 64240)
        .syn()
        .write(&mut v, b"")
        .unwrap();
    record(r, 900, &v);
    p
}

/// An Ethernet ARP frame, optionally 802.1Q-tagged.
fn arp_frame(
    eth: ([u8; 6], [u8; 6]),
    vlan: Option<u16>,
    op: u16,
    sender: ([u8; 6], [u8; 4]),
    target: ([u8; 6], [u8; 4]),
) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&eth.1);
    f.extend_from_slice(&eth.0);
    if let Some(v) = vlan {
        f.extend_from_slice(&[0x81, 0x00]);
        f.extend_from_slice(&v.to_be_bytes());
    }
    f.extend_from_slice(&[0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4]);
    f.extend_from_slice(&op.to_be_bytes());
    f.extend_from_slice(&sender.0);
    f.extend_from_slice(&sender.1);
    f.extend_from_slice(&target.0);
    f.extend_from_slice(&target.1);
    f.resize(f.len().max(60), 0);
    f
}

/// Every kind of arp.log line: answered, retransmitted, unanswered, probe,
/// announcement, unsolicited and gratuitous replies, a binding conflict, an
/// Ethernet/ARP sender mismatch, a VLAN, and a request still pending at the end.
fn arp_capture() -> Vec<u8> {
    const BCAST: [u8; 6] = [0xff; 6];
    const NONE: [u8; 6] = [0; 6];
    const GW: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
    const CAM: [u8; 6] = [0x02, 0, 0, 0, 0, 0x10];
    const PLUG: [u8; 6] = [0x02, 0, 0, 0, 0, 0x20];
    const EVIL: [u8; 6] = [0x02, 0, 0, 0, 0, 0x66];
    let (gw, cam, plug) = ([10, 0, 0, 1], [10, 0, 0, 16], [10, 0, 0, 32]);
    let mut p = Vec::new();
    p.extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    p.extend_from_slice(&[0; 8]);
    p.extend_from_slice(&65535u32.to_le_bytes());
    p.extend_from_slice(&1u32.to_le_bytes());
    let r = &mut p;
    // Probe, announcement, then the camera resolves the gateway (twice asked).
    record(
        r,
        0,
        &arp_frame((CAM, BCAST), None, 1, (CAM, [0; 4]), (NONE, cam)),
    );
    record(
        r,
        1500,
        &arp_frame((CAM, BCAST), None, 1, (CAM, cam), (NONE, cam)),
    );
    record(
        r,
        1600,
        &arp_frame((CAM, BCAST), None, 1, (CAM, cam), (NONE, gw)),
    );
    record(
        r,
        2600,
        &arp_frame((CAM, BCAST), None, 1, (CAM, cam), (NONE, gw)),
    );
    record(
        r,
        2601,
        &arp_frame((GW, CAM), None, 2, (GW, gw), (CAM, cam)),
    );
    // The gateway asks for an address nobody has.
    record(
        r,
        3000,
        &arp_frame((GW, BCAST), None, 1, (GW, gw), (NONE, [10, 0, 0, 99])),
    );
    // Another MAC claims the gateway's address: unsolicited, conflicting reply,
    // sent from a third Ethernet address.
    record(
        r,
        20_000,
        &arp_frame((PLUG, CAM), None, 2, (EVIL, gw), (CAM, cam)),
    );
    // A gratuitous reply from the plug.
    record(
        r,
        21_000,
        &arp_frame((PLUG, BCAST), None, 2, (PLUG, plug), (BCAST, plug)),
    );
    // Same addresses on VLAN 7: another domain, answered.
    record(
        r,
        22_000,
        &arp_frame((CAM, BCAST), Some(7), 1, (CAM, cam), (NONE, gw)),
    );
    record(
        r,
        22_002,
        &arp_frame((GW, CAM), Some(7), 2, (GW, gw), (CAM, cam)),
    );
    // Still waiting when the capture ends.
    record(
        r,
        23_000,
        &arp_frame((PLUG, BCAST), None, 1, (PLUG, plug), (NONE, cam)),
    );
    p
}

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `actual` with the committed file, or rewrites it when blessing.
fn check_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("GATEWATCH_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing: run with GATEWATCH_BLESS=1", path.display()));
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .filter(|(a, b)| a != b)
            .take(5)
            .map(|(a, b)| format!("- {a}\n+ {b}"))
            .collect();
        panic!(
            "{name} differs from the golden file ({} vs {} lines):\n{}",
            expected.lines().count(),
            actual.lines().count(),
            diff.join("\n")
        );
    }
}

fn gatewatch(args: &[&str], stdin: Option<&[u8]>) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatewatch"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "gatewatch {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn handmade_capture_conn_log() {
    let pcap = handmade_capture();
    let zeek = gatewatch(&["--quiet", "flows", "-"], Some(&pcap));
    check_golden("handmade.conn.log", &zeek);
    let json = gatewatch(&["--quiet", "flows", "--format", "jsonl", "-"], Some(&pcap));
    check_golden("handmade.conn.jsonl", &json);
}

#[test]
fn handmade_arp_log() {
    let dir = temp_dir("golden-arp");
    let pcap = dir.join("arp.pcap");
    std::fs::write(&pcap, arp_capture()).unwrap();
    let logs = dir.join("logs");
    gatewatch(
        &[
            "--quiet",
            "analyze",
            pcap.to_str().unwrap(),
            "--out",
            logs.to_str().unwrap(),
        ],
        None,
    );
    let text = std::fs::read_to_string(logs.join("arp.log")).unwrap();
    check_golden("handmade.arp.log", &text);
    let _ = std::fs::remove_dir_all(&dir);
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gatewatch-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn simulated_fleet_conn_log() {
    let dir = temp_dir("golden-sim");
    let out = dir.to_str().unwrap();
    gatewatch(
        &[
            "--quiet",
            "simulate",
            "--devices",
            "4",
            "--hours",
            "0.1",
            "--seed",
            "42",
            "--attacks",
            "bruteforce.telnet",
            "--out",
            out,
        ],
        None,
    );
    let pcap = dir.join("fleet.pcap");
    let conn = gatewatch(&["--quiet", "flows", pcap.to_str().unwrap()], None);
    check_golden("sim4.conn.log", &conn);
    let truth = std::fs::read_to_string(dir.join("truth.jsonl")).unwrap();
    check_golden("sim4.truth.jsonl", &truth);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every log `analyze` writes for a small simulated fleet (all device
/// classes, a telnet brute force): one golden file per protocol log.
#[test]
fn simulated_fleet_protocol_logs() {
    let dir = temp_dir("golden-analyze");
    let out = dir.to_str().unwrap();
    gatewatch(
        &[
            "--quiet",
            "simulate",
            "--devices",
            "10",
            "--hours",
            "0.1",
            "--seed",
            "42",
            "--attacks",
            "bruteforce.telnet",
            "--out",
            out,
        ],
        None,
    );
    let logs = dir.join("logs");
    let pcap = dir.join("fleet.pcap");
    gatewatch(
        &[
            "--quiet",
            "analyze",
            pcap.to_str().unwrap(),
            "--out",
            logs.to_str().unwrap(),
        ],
        None,
    );
    let mut names: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".log") && n != "conn.log")
        .collect();
    names.sort();
    for must in [
        "dns.log",
        "dhcp.log",
        "ssl.log",
        "http.log",
        "mqtt_connect.log",
        "telnet.log",
        "arp.log",
    ] {
        assert!(
            names.iter().any(|n| n == must),
            "{must} missing from {names:?}"
        );
    }
    for name in &names {
        let text = std::fs::read_to_string(logs.join(name)).unwrap();
        check_golden(&format!("sim10/{name}"), &text);
    }
    // The golden folder holds exactly these logs.
    if std::env::var_os("GATEWATCH_BLESS").is_none() {
        let mut golden: Vec<String> = std::fs::read_dir(golden_path("sim10"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        golden.sort();
        assert_eq!(golden, names);
    }
    // The identity stage's view of the same capture: devices sorted by key,
    // and its findings (none: the whole fleet joins in the learning period).
    for name in ["devices.jsonl", "evidence.jsonl"] {
        let text = std::fs::read_to_string(logs.join(name)).unwrap();
        check_golden(&format!("sim10.{name}"), &text);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
