//! SSH analyzer: hand-built handshakes (identification, KEXINIT, HASSH,
//! negotiation, host key, Zeek's authentication heuristic), split delivery,
//! malformed input, random input that must never panic, the seed corpus,
//! and real captures compared with tshark (`ssh.protocol`, `ssh.kex.hassh`,
//! `ssh.kex.hasshserver`) and with nDPI's expected HASSH output.
#![allow(clippy::expect_used)] // tests may panic on broken fixtures

mod proto_ics_support;

use gatewatch_engine::counters::Counters;
use gatewatch_engine::log::LogRecord;
use gatewatch_engine::proto::ssh::{self, SshAnalyzer, SshCounters, SshRecord};
use gatewatch_engine::proto::Probe;
use gatewatch_engine::Timestamp;
use md5::{Digest, Md5};
use proptest::prelude::*;
use proto_ics_support::*;

fn string(s: &[u8]) -> Vec<u8> {
    let mut v = (s.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(s);
    v
}

/// A cleartext binary packet with 4..=11 bytes of padding to a multiple of 8.
fn packet(msg: u8, body: &[u8]) -> Vec<u8> {
    let unpadded = 4 + 1 + 1 + body.len();
    let mut padding = 8 - unpadded % 8;
    if padding < 4 {
        padding += 8;
    }
    let mut p = ((1 + 1 + body.len() + padding) as u32)
        .to_be_bytes()
        .to_vec();
    p.push(padding as u8);
    p.push(msg);
    p.extend_from_slice(body);
    p.extend(std::iter::repeat_n(0u8, padding));
    p
}

struct Lists<'a> {
    kex: &'a str,
    host_key: &'a str,
    enc: (&'a str, &'a str),
    mac: (&'a str, &'a str),
    cmp: (&'a str, &'a str),
}

fn kexinit(l: &Lists<'_>) -> Vec<u8> {
    let mut body = vec![0x11; 16];
    for s in [
        l.kex, l.host_key, l.enc.0, l.enc.1, l.mac.0, l.mac.1, l.cmp.0, l.cmp.1, "", "",
    ] {
        body.extend(string(s.as_bytes()));
    }
    body.extend([0, 0, 0, 0, 0]);
    packet(20, &body)
}

const CLIENT: Lists<'static> = Lists {
    kex: "curve25519-sha256,ecdh-sha2-nistp256,diffie-hellman-group14-sha1",
    host_key: "ssh-ed25519,rsa-sha2-512",
    enc: ("aes128-ctr,aes256-ctr", "aes128-ctr,aes256-ctr"),
    mac: ("hmac-sha2-256,hmac-sha1", "hmac-sha2-256,hmac-sha1"),
    cmp: ("none,zlib@openssh.com", "none,zlib@openssh.com"),
};

const SERVER: Lists<'static> = Lists {
    kex: "ecdh-sha2-nistp256,curve25519-sha256",
    host_key: "rsa-sha2-512,ssh-ed25519",
    enc: ("aes256-ctr,aes128-ctr", "aes256-ctr"),
    mac: ("hmac-sha1,hmac-sha2-256", "hmac-sha1,hmac-sha2-256"),
    cmp: ("none", "none"),
};

const HOST_KEY: &[u8] =
    b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Client and server handshake up to NEWKEYS, then `encrypted` deliveries
/// (direction, length).
fn handshake(encrypted: &[(bool, usize)]) -> Vec<(bool, Vec<u8>)> {
    let mut reply = string(HOST_KEY);
    reply.extend(string(&[7; 32]));
    reply.extend(string(b"signature"));
    let mut server_flight = packet(31, &reply);
    server_flight.extend(packet(21, &[]));
    let mut v = vec![
        (false, b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n".to_vec()),
        (
            true,
            [b"SSH-2.0-Go\r\n".to_vec(), kexinit(&CLIENT)].concat(),
        ),
        (false, kexinit(&SERVER)),
        (true, packet(30, &string(&[9; 32]))),
        (false, server_flight),
        (true, packet(21, &[])),
    ];
    for &(is_orig, len) in encrypted {
        v.push((is_orig, vec![0xee; len]));
    }
    v
}

fn borrowed(chunks: &[(bool, Vec<u8>)]) -> Vec<(bool, &[u8])> {
    chunks.iter().map(|(o, b)| (*o, b.as_slice())).collect()
}

fn run(chunks: &[(bool, &[u8])]) -> (Vec<SshRecord>, SshCounters) {
    let mut a = SshAnalyzer::new(conn("CSH1"));
    let mut c = SshCounters::default();
    let mut out = Vec::new();
    for (i, (is_orig, bytes)) in chunks.iter().enumerate() {
        a.on_data(
            Timestamp::from_secs_nanos(50 + i as i64, 0),
            *is_orig,
            bytes,
            &mut c,
            &mut out,
        );
    }
    a.on_end(Timestamp::from_secs_nanos(99, 0), &mut c, &mut out);
    (out, c)
}

#[test]
fn handshake_fields_hassh_and_negotiation() {
    let (out, c) = run(&borrowed(&handshake(&[])));
    assert_eq!(out.len(), 1);
    let r = &out[0];
    assert_eq!(r.path(), "ssh");
    assert_eq!(column(r, "ts"), "50.000000", "the first identification");
    assert_eq!(column(r, "version"), "2");
    assert_eq!(column(r, "client"), "SSH-2.0-Go");
    assert_eq!(column(r, "server"), "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3");
    assert_eq!(column(r, "kex_alg"), "curve25519-sha256");
    assert_eq!(column(r, "host_key_alg"), "ssh-ed25519");
    assert_eq!(
        column(r, "cipher_alg"),
        "To server: aes128-ctr, to client: aes256-ctr"
    );
    assert_eq!(column(r, "mac_alg"), "hmac-sha2-256");
    assert_eq!(column(r, "compression_alg"), "none");
    let fingerprint: Vec<String> = Md5::digest(HOST_KEY)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(column(r, "host_key"), fingerprint.join(":"));
    let client_algs = format!(
        "{};{};{};{}",
        CLIENT.kex, CLIENT.enc.0, CLIENT.mac.0, CLIENT.cmp.0
    );
    let server_algs = format!(
        "{};{};{};{}",
        SERVER.kex, SERVER.enc.1, SERVER.mac.1, SERVER.cmp.1
    );
    assert_eq!(column(r, "hasshAlgorithms"), client_algs);
    assert_eq!(column(r, "hasshServerAlgorithms"), server_algs);
    assert_eq!(column(r, "hassh"), md5_hex(&client_algs));
    assert_eq!(column(r, "hasshServer"), md5_hex(&server_algs));
    assert_eq!(column(r, "hasshVersion"), "1.1");
    assert_eq!(column(r, "cshka"), CLIENT.host_key);
    assert_eq!(column(r, "sshka"), SERVER.host_key);
    assert_eq!(column(r, "auth_success"), "-");
    assert_eq!(column(r, "auth_attempts"), "0");
    assert_eq!(column(r, "direction"), "-");
    assert_eq!(
        (c.identifications, c.kexinits, c.newkeys, c.host_keys),
        (2, 2, 2, 1)
    );
}

#[test]
fn split_delivery_gives_the_same_record() {
    let h = handshake(&[]);
    let (whole, _) = run(&borrowed(&h));
    let mut bytes = Vec::new();
    for (o, b) in &h {
        for x in b {
            bytes.push((*o, vec![*x]));
        }
    }
    let (split, c) = run(&borrowed(&bytes));
    assert_eq!(values(&whole[0])[1..], values(&split[0])[1..]);
    assert_eq!(c.malformed_packets + c.not_ssh + c.overflows, 0);
}

#[test]
fn zeek_heuristic_failures_then_success_logs_at_success() {
    // Client service request, server accept (52), two failures (68), success (36).
    let h = handshake(&[
        (true, 52),
        (false, 52),
        (true, 100),
        (false, 68),
        (true, 100),
        (false, 68),
        (true, 100),
        (false, 36),
        (false, 500),
    ]);
    let (out, c) = run(&borrowed(&h));
    assert_eq!(out.len(), 1, "logged once, at success");
    assert_eq!(column(&out[0], "auth_success"), "T");
    // The first failure only teaches the size (as in Zeek): 1 failure + 1 success.
    assert_eq!(column(&out[0], "auth_attempts"), "2");
    assert_eq!((c.auth_attempts, c.auth_successes), (2, 1));
    // Failures only.
    let h = handshake(&[
        (true, 52),
        (false, 52),
        (true, 100),
        (false, 68),
        (true, 100),
        (false, 68),
        (true, 100),
        (false, 68),
    ]);
    let (out, _) = run(&borrowed(&h));
    assert_eq!(column(&out[0], "auth_success"), "F");
    assert_eq!(column(&out[0], "auth_attempts"), "2");
}

#[test]
fn compression_turns_the_heuristic_off() {
    let zlib_server = Lists {
        cmp: ("zlib@openssh.com", "zlib@openssh.com"),
        ..SERVER
    };
    let mut h = handshake(&[(true, 52), (false, 52), (false, 36)]);
    h[2] = (false, kexinit(&zlib_server));
    let (out, c) = run(&borrowed(&h));
    assert_eq!(column(&out[0], "compression_alg"), "zlib@openssh.com");
    assert_eq!(column(&out[0], "auth_success"), "-");
    assert_eq!(c.auth_attempts, 0);
}

#[test]
fn gex_host_key_comes_from_message_33() {
    let gex = Lists {
        kex: "diffie-hellman-group-exchange-sha256",
        ..CLIENT
    };
    let mut h = handshake(&[]);
    h[1] = (
        true,
        [b"SSH-2.0-PuTTY_Release_0.78\r\n".to_vec(), kexinit(&gex)].concat(),
    );
    h[2] = (
        false,
        kexinit(&Lists {
            kex: "diffie-hellman-group-exchange-sha256",
            ..SERVER
        }),
    );
    let mut group = packet(31, &[string(&[0xff; 16]), string(&[2])].concat());
    let mut reply = string(HOST_KEY);
    reply.extend(string(&[7; 32]));
    reply.extend(string(b"sig"));
    group.extend(packet(33, &reply));
    h[4] = (false, group);
    let (out, c) = run(&borrowed(&h));
    assert_eq!(c.host_keys, 1);
    assert_eq!(column(&out[0], "host_key").len(), 47);
}

#[test]
fn server_text_before_identification_and_ssh1() {
    let mut h = handshake(&[]);
    h[0] = (
        false,
        b"Welcome\r\nto the box\r\nSSH-1.99-Cisco-1.25\r\n".to_vec(),
    );
    let (out, c) = run(&borrowed(&h));
    assert_eq!(c.lines_before_ident, 2);
    assert_eq!(column(&out[0], "server"), "SSH-1.99-Cisco-1.25");
    assert_eq!(column(&out[0], "version"), "2");
    let (out, c) = run(&[
        (false, b"SSH-1.5-old\n"),
        (true, b"SSH-1.5-client\n\x00\x00\x01\x04garbage"),
    ]);
    assert_eq!(c.ssh1, 2);
    assert_eq!(column(&out[0], "version"), "1");
    assert_eq!(column(&out[0], "kex_alg"), "-");
}

#[test]
fn malformed_input_is_counted() {
    let (out, c) = run(&[(true, b"GET / HTTP/1.1\r\n\r\n")]);
    assert!(out.is_empty(), "no SSH seen, no record");
    assert_eq!(c.not_ssh, 1);
    let (_, c) = run(&[(true, b"SSH-2.0-x\r\n\xff\xff\xff\xff\x04rest")]);
    assert_eq!(c.malformed_packets, 1);
    let bad_kex = packet(20, &[0u8; 20]);
    let (out, c) = run(&[(true, &[b"SSH-2.0-x\r\n".as_slice(), &bad_kex].concat())]);
    assert_eq!(c.malformed_kexinits, 1);
    assert_eq!(column(&out[0], "hassh"), "-");
    let (_, c) = run(&[(false, &vec![b'a'; 2000])]);
    assert_eq!(c.not_ssh, 1, "a line longer than the limit");
    let mut a = SshAnalyzer::new(conn("CSH2"));
    let mut c = SshCounters::default();
    let mut out = Vec::new();
    a.on_data(Timestamp::ZERO, false, b"SSH-2.0-s\r\n", &mut c, &mut out);
    a.on_gap(true, 10, &mut c);
    a.on_data(Timestamp::ZERO, true, b"SSH-2.0-c\r\n", &mut c, &mut out);
    a.on_end(Timestamp::ZERO, &mut c, &mut out);
    assert_eq!((c.gaps, c.skipped_bytes), (1, 11));
    assert_eq!(column(&out[0], "client"), "-");
}

#[test]
fn identification_is_bounded() {
    let long = format!("SSH-2.0-{}\r\n", "x".repeat(600));
    let (out, _) = run(&[(true, long.as_bytes())]);
    assert_eq!(column(&out[0], "client").len(), ssh::state::MAX_IDENT_LEN);
}

#[test]
fn probe_and_counters() {
    assert_eq!(ssh::probe(b"SSH-2.0-x", true), Probe::Yes);
    assert_eq!(ssh::probe(b"SS", true), Probe::Maybe);
    assert_eq!(ssh::probe(b"Hello\r\n", false), Probe::Maybe);
    assert_eq!(ssh::probe(b"Hello\r\n", true), Probe::No);
    assert_eq!(ssh::probe(&[0x16, 0x03, 0x01], false), Probe::No);
    assert!(SshCounters::default()
        .to_vec()
        .iter()
        .all(|(n, _)| n.starts_with("proto.ssh.")));
}

proptest! {
    #[test]
    fn random_bytes_never_panic(chunks in prop::collection::vec((any::<bool>(), prop::collection::vec(any::<u8>(), 0..300)), 0..10)) {
        let borrowed: Vec<(bool, &[u8])> = chunks.iter().map(|(o, b)| (*o, b.as_slice())).collect();
        let (out, c) = run(&borrowed);
        prop_assert!(out.len() <= 1);
        // Client bytes that are not an identification are counted.
        if let Some((_, first)) = chunks.iter().find(|(o, b)| *o && !b.is_empty()) {
            if !first.starts_with(b"SSH-") && first.contains(&b'\n') {
                prop_assert!(c.not_ssh >= 1);
            }
        }
    }

    #[test]
    fn mutated_handshakes_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
                                      cuts in prop::collection::vec(0usize..600, 0..8)) {
        let h = handshake(&[(true, 52), (false, 52), (false, 36)]);
        let mut orig: Vec<u8> = h.iter().filter(|(o, _)| *o).flat_map(|(_, b)| b.clone()).collect();
        let resp: Vec<u8> = h.iter().filter(|(o, _)| !*o).flat_map(|(_, b)| b.clone()).collect();
        for (at, v) in &flips {
            let i = at.index(orig.len());
            orig[i] = *v;
        }
        let mut chunks: Vec<(bool, &[u8])> = split_at_points(&resp, &cuts).into_iter().map(|p| (false, p)).collect();
        chunks.extend(split_at_points(&orig, &cuts).into_iter().map(|p| (true, p)));
        let (out, c) = run(&chunks);
        prop_assert!(out.len() <= 1);
        // The untouched server side always yields its identification.
        prop_assert!(c.identifications >= 1);
    }
}

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "handshake_then_auth.bin",
            script(&borrowed(&handshake(&[
                (true, 52),
                (false, 52),
                (true, 90),
                (false, 36),
            ]))),
        ),
        (
            "server_banner_lines.bin",
            script(&[
                (false, b"Hi there\r\nSSH-2.0-dropbear_2019.78\r\n"),
                (true, b"SSH-2.0-libssh2_1.8.0\r\n"),
            ]),
        ),
        (
            "not_ssh.bin",
            script(&[(true, b"\x16\x03\x01\x00\xee\x01\x00\x00\xea\x03\x03\n")]),
        ),
        (
            "bad_packet_length.bin",
            script(&[(true, b"SSH-2.0-x\r\n\x7f\xff\xff\xff\x04")]),
        ),
    ]
}

#[test]
fn seed_corpus_matches_and_replays() {
    for (file, bytes) in seeds() {
        check_seed("ssh", file, &bytes);
    }
    for (file, bytes) in corpus_files("ssh") {
        let (out, c) = run(&script_chunks(&bytes));
        match file.as_str() {
            "handshake_then_auth.bin" => assert_eq!(column(&out[0], "auth_success"), "T"),
            "server_banner_lines.bin" => {
                assert_eq!(column(&out[0], "server"), "SSH-2.0-dropbear_2019.78")
            }
            "not_ssh.bin" => assert_eq!(c.not_ssh, 1),
            "bad_packet_length.bin" => assert_eq!(c.malformed_packets, 1),
            other => eprintln!("seed {other}: replayed ({} records)", out.len()),
        }
    }
}

/// Our records for every connection whose first payload the probe accepts.
fn ours(path: &std::path::Path) -> (Vec<SshRecord>, SshCounters) {
    let mut c = SshCounters::default();
    let mut out = Vec::new();
    for flow in flows(path) {
        if !flow.tcp {
            continue;
        }
        // Either side's first payload may identify the protocol.
        let first = |side: bool| {
            flow.events.iter().find_map(|e| match e {
                Event::Data { bytes, is_orig, .. } if *is_orig == side => Some(bytes.clone()),
                _ => None,
            })
        };
        if ![true, false]
            .iter()
            .any(|&side| first(side).is_some_and(|b| ssh::probe(&b, side) == Probe::Yes))
        {
            continue;
        }
        let mut a = SshAnalyzer::new(flow.conn.clone());
        for ev in &flow.events {
            match ev {
                Event::Data {
                    ts, is_orig, bytes, ..
                } => a.on_data(*ts, *is_orig, bytes, &mut c, &mut out),
                Event::Gap { is_orig, len } => a.on_gap(*is_orig, *len, &mut c),
            }
        }
        a.on_end(flow.last_ts, &mut c, &mut out);
    }
    (out, c)
}

fn non_empty(v: Vec<String>) -> Vec<String> {
    v.into_iter()
        .filter(|s| !s.is_empty() && s != "-")
        .collect()
}

#[test]
fn real_captures_agree_with_tshark_and_ndpi() {
    let Some(data) = data_dir() else { return };
    let files: [(&str, &[&str]); 4] = [
        ("ndpi/pcap/ssh.pcap", &["-d", "tcp.port==8000,ssh"]),
        ("ndpi/pcap/ssh_unidirectional.pcap", &[]),
        (
            "stratosphere/slips-dataset/test19-malicious-ssh/malicious-ssh-bruteforce.pcap",
            &["-d", "tcp.port==902,ssh"],
        ),
        ("stratosphere/slips-dataset/test7-malicious.pcap", &[]),
    ];
    for (file, decode_as) in files {
        let path = data.join(file);
        let (records, c) = ours(&path);
        let our_banners = non_empty(
            records
                .iter()
                .flat_map(|r| [column(r, "client"), column(r, "server")])
                .collect(),
        );
        let our_hassh = non_empty(records.iter().map(|r| column(r, "hassh")).collect());
        let our_hassh_server =
            non_empty(records.iter().map(|r| column(r, "hasshServer")).collect());
        let mut args = vec!["-Y", "ssh && !tcp.analysis.retransmission"];
        args.extend_from_slice(decode_as);
        let Some(lines) = tshark(
            &path,
            &args,
            &["ssh.protocol", "ssh.kex.hassh", "ssh.kex.hasshserver"],
        ) else {
            return;
        };
        let col = |i: usize| {
            non_empty(
                lines
                    .iter()
                    .flat_map(|l| l[i].split(',').map(str::to_string).collect::<Vec<_>>())
                    .collect(),
            )
        };
        let (bm, ba, bb, brate) = agreement(&our_banners, &col(0));
        let (hm, ha, hb, hrate) = agreement(&our_hassh, &col(1));
        let (sm, sa, sb, srate) = agreement(&our_hassh_server, &col(2));
        let auth: Vec<String> = records
            .iter()
            .map(|r| {
                format!(
                    "{}/{}",
                    column(r, "auth_success"),
                    column(r, "auth_attempts")
                )
            })
            .collect();
        let mut auth_summary: Vec<(String, usize)> = Vec::new();
        for a in auth {
            match auth_summary.iter_mut().find(|(k, _)| *k == a) {
                Some((_, n)) => *n += 1,
                None => auth_summary.push((a, 1)),
            }
        }
        eprintln!(
            "{file}: {} records; banners {bm}/{ba} vs {bb} = {brate:.3}; hassh {hm}/{ha} vs {hb} = {hrate:.3}; hasshServer {sm}/{sa} vs {sb} = {srate:.3}; auth success/attempts {auth_summary:?}; counters {:?}",
            records.len(),
            c.to_vec().into_iter().filter(|(_, v)| *v > 0).collect::<Vec<_>>()
        );
        assert!(
            brate >= 1.0 && hrate >= 1.0 && srate >= 1.0,
            "{file}: disagreement with tshark"
        );
    }
    // nDPI's expected output lists HASSH-C/HASSH-S per flow of ssh.pcap.
    let expected =
        std::fs::read_to_string(data.join("ndpi/result/ssh.pcap.out")).expect("ndpi result");
    let grab = |tag: &str| -> Vec<String> {
        expected
            .split(&format!("[{tag}: "))
            .skip(1)
            .filter_map(|s| s.split(']').next())
            .map(str::to_ascii_lowercase)
            .collect()
    };
    let (records, _) = ours(&data.join("ndpi/pcap/ssh.pcap"));
    let (m, _, _, rate) = agreement(
        &non_empty(records.iter().map(|r| column(r, "hassh")).collect()),
        &grab("HASSH-C"),
    );
    let (ms, _, _, srate) = agreement(
        &non_empty(records.iter().map(|r| column(r, "hasshServer")).collect()),
        &grab("HASSH-S"),
    );
    eprintln!(
        "nDPI ssh.pcap.out: HASSH-C {m} matched ({rate:.3}), HASSH-S {ms} matched ({srate:.3})"
    );
    assert!(rate >= 1.0 && srate >= 1.0);
}

#[test]
fn simulated_ssh_password_guessing() {
    use gatewatch_engine::simulate::AttackKind;
    let capture = simulated_capture(20, 1.0, 11, &[AttackKind::BruteforceSsh]);
    let mut c = SshCounters::default();
    let mut out = Vec::new();
    for flow in flows_from_bytes(&capture) {
        if !flow.tcp || flow.conn.resp_p != ssh::PORT {
            continue;
        }
        let mut a = SshAnalyzer::new(flow.conn.clone());
        for ev in &flow.events {
            match ev {
                Event::Data {
                    ts, is_orig, bytes, ..
                } => a.on_data(*ts, *is_orig, bytes, &mut c, &mut out),
                Event::Gap { is_orig, len } => a.on_gap(*is_orig, *len, &mut c),
            }
        }
        a.on_end(flow.last_ts, &mut c, &mut out);
    }
    assert!(out.len() >= 2, "sessions: {}", out.len());
    // Each session fails 2–3 times; Zeek's heuristic learns the failure size
    // from the first, so it reports 1–2 failed attempts.
    for r in &out {
        assert_eq!(r.auth_success, Some(false), "{r:?}");
        assert!((1..=2).contains(&r.auth_attempts), "{r:?}");
        assert_eq!(r.client.as_deref(), Some("SSH-2.0-Go"));
        assert!(r.hassh.is_some() && r.hassh_server.is_some() && r.host_key.is_some());
    }
    eprintln!(
        "simulated SSH guessing: {} sessions; counters {:?}",
        out.len(),
        c.to_vec()
            .into_iter()
            .filter(|(_, v)| *v > 0)
            .collect::<Vec<_>>()
    );
}
