//! NTP analyzer: hand-built client/server/control/private messages (every
//! field, Zeek's unit conversions), extension fields and malformed datagrams
//! counted, random and mutated datagrams (never a panic; every datagram
//! logged or counted), the seed corpus, and real captures compared with
//! tshark's `ntp.*` fields.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)] // tests may panic on broken fixtures

mod proto_udp_support;

use gatewatch_engine::counters::Counters;
use gatewatch_engine::log::{ConnId, LogRecord};
use gatewatch_engine::proto::ntp::record::NTP_UNIX_OFFSET;
use gatewatch_engine::proto::ntp::{probe, NtpAnalyzer, NtpCounters, NtpRecord};
use gatewatch_engine::proto::Probe;
use gatewatch_engine::Timestamp;
use proptest::prelude::*;
use proto_udp_support::{
    capture, conn, field, tshark_available, tshark_fields, udp_datagrams, Agreement,
};

fn ntp_conn() -> ConnId {
    conn("10.10.10.6", 123, "195.113.144.238", 123)
}

/// A standard NTP header.
fn ntp(
    first: u8,
    stratum: u8,
    poll: i8,
    precision: i8,
    ref_id: [u8; 4],
    xmt: (u32, u32),
) -> Vec<u8> {
    let mut m = vec![first, stratum, poll as u8, precision as u8];
    m.extend_from_slice(&0x0000_0450u32.to_be_bytes()); // root delay
    m.extend_from_slice(&0x0001_8000u32.to_be_bytes()); // root dispersion 1.5 s
    m.extend_from_slice(&ref_id);
    m.extend_from_slice(&[0xde, 0x40, 0x4e, 0x9f, 0, 0, 0, 0]); // reference
    m.extend_from_slice(&[0; 8]); // origin
    m.extend_from_slice(&[0xde, 0x40, 0x4e, 0xa0, 0x80, 0, 0, 0]); // receive
    m.extend_from_slice(&xmt.0.to_be_bytes());
    m.extend_from_slice(&xmt.1.to_be_bytes());
    m
}

fn server_reply() -> Vec<u8> {
    ntp(
        0x24,
        2,
        6,
        -20,
        [195, 113, 144, 238],
        (0xde40_4ea1, 0x4000_0000),
    )
}

fn run(msgs: &[&[u8]]) -> (Vec<NtpRecord>, NtpCounters) {
    let mut a = NtpAnalyzer::new(ntp_conn());
    let mut c = NtpCounters::default();
    let mut out = Vec::new();
    for m in msgs {
        a.on_data(Timestamp(5), true, m, &mut c, &mut out);
    }
    a.on_end(Timestamp(6), &mut c, &mut out);
    (out, c)
}

#[test]
fn server_reply_every_field() {
    let (out, c) = run(&[&server_reply()]);
    let r = &out[0];
    assert_eq!(r.path(), "ntp");
    let get = |n: &str| field(r, n);
    assert_eq!(get("ts"), "0.000000");
    assert_eq!(get("version"), "4");
    assert_eq!(get("mode"), "4");
    assert_eq!(get("stratum"), "2");
    assert_eq!(get("poll"), "64.000000");
    assert_eq!(get("precision"), "0.000001");
    assert_eq!(get("root_delay"), "0.016846");
    assert_eq!(get("root_disp"), "1.500000");
    assert_eq!(get("ref_id"), "195.113.144.238");
    let secs = |ntp: i64| ntp - NTP_UNIX_OFFSET;
    assert_eq!(get("ref_time"), format!("{}.000000", secs(0xde40_4e9f)));
    assert_eq!(
        get("org_time"),
        "0.000000",
        "a zero timestamp stays 0 as in Zeek"
    );
    assert_eq!(get("rec_time"), format!("{}.500000", secs(0xde40_4ea0)));
    assert_eq!(get("xmt_time"), format!("{}.250000", secs(0xde40_4ea1)));
    assert_eq!(get("num_exts"), "0");
    assert_eq!(get("leap"), "0");
    assert_eq!(get("control_op"), "");
    assert_eq!(get("private_req"), "");
    assert_eq!(get("response"), "");
    assert_eq!(c.messages, 1);
    assert_eq!(c.to_vec().iter().map(|(_, v)| v).sum::<u64>(), 1);
}

#[test]
fn kiss_code_and_reference_clock() {
    let kiss = ntp(0xe3, 0, 6, -6, *b"INIT", (1, 0));
    let gps = ntp(0x1c, 1, 4, -20, *b"GPS\0", (1, 0));
    let (out, _) = run(&[&kiss, &gps]);
    assert_eq!(field(&out[0], "ref_id"), "INIT");
    assert_eq!(field(&out[0], "leap"), "3");
    assert_eq!(field(&out[0], "mode"), "3");
    assert_eq!(field(&out[1], "ref_id"), "GPS");
    assert_eq!(field(&out[1], "version"), "3");
}

#[test]
fn control_and_private_modes_are_logged() {
    // Mode 6 READVAR request (opcode 2); mode 7 MON_GETLIST_1 request and response.
    let readvar = [0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    let monlist = [0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0];
    let monlist_reply = [0x97, 0x0e, 0x03, 0x2a, 0x00, 0x05, 0x00, 0x48];
    let (out, c) = run(&[&readvar, &monlist, &monlist_reply]);
    assert_eq!(out.len(), 3);
    assert_eq!(field(&out[0], "mode"), "6");
    assert_eq!(field(&out[0], "control_op"), "2");
    assert_eq!(field(&out[0], "response"), "F");
    assert_eq!(field(&out[0], "stratum"), "");
    assert_eq!(field(&out[1], "private_req"), "42");
    assert_eq!(field(&out[2], "response"), "T");
    assert_eq!((c.control, c.private), (1, 2));
}

#[test]
fn extensions_and_mac() {
    let mut with_ext = server_reply();
    with_ext.extend_from_slice(&[0x01, 0x04, 0x00, 0x10]);
    with_ext.extend_from_slice(&[0; 12]);
    with_ext.extend_from_slice(&[0x02, 0x04, 0x00, 0x14]);
    with_ext.extend_from_slice(&[0; 16]);
    with_ext.extend_from_slice(&[0; 20]); // MAC
    let mut mac_only = server_reply();
    mac_only.extend_from_slice(&[0; 24]);
    let mut bad = server_reply();
    bad.extend_from_slice(&[0x01, 0x04, 0xff, 0xf0]);
    bad.extend_from_slice(&[0; 40]);
    let mut odd_tail = server_reply();
    odd_tail.extend_from_slice(&[0; 7]);
    let (out, c) = run(&[&with_ext, &mac_only, &bad, &odd_tail]);
    assert_eq!(field(&out[0], "num_exts"), "2");
    assert_eq!(field(&out[1], "num_exts"), "0");
    assert_eq!(c.bad_extensions, 2);
    assert_eq!(c.messages, 4);
}

#[test]
fn malformed_is_counted_not_logged() {
    let v0 = ntp(0x03, 2, 6, -20, [0; 4], (1, 0));
    let v5 = ntp(0x2b, 2, 6, -20, [0; 4], (1, 0));
    let short = &server_reply()[..47];
    let short_private = [0x17, 0, 3];
    let (out, c) = run(&[&v0, &v5, short, &short_private, &[]]);
    assert!(out.is_empty());
    assert_eq!((c.bad_version, c.too_short, c.empty), (2, 2, 1));
}

#[test]
fn every_truncation_is_logged_or_counted() {
    let full = server_reply();
    for len in 0..=full.len() {
        let (out, c) = run(&[&full[..len]]);
        assert_eq!(
            out.len() as u64 + c.empty + c.too_short + c.bad_version,
            1,
            "len {len}"
        );
        assert_eq!(out.len(), usize::from(len == full.len()), "len {len}");
    }
}

#[test]
fn probe_tells_ntp_apart() {
    assert_eq!(probe(&server_reply(), false), Probe::Yes);
    assert_eq!(
        probe(&[0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0], true),
        Probe::Maybe
    );
    assert_eq!(probe(b"GET / HTTP/1.1\r\n", true), Probe::No);
    assert_eq!(
        probe(&ntp(0x20, 2, 6, -20, [0; 4], (1, 0)), true),
        Probe::No,
        "mode 0"
    );
}

#[test]
fn seed_corpus_replays() {
    for (name, bytes) in proto_udp_support::corpus("ntp") {
        let (out, c) = run(&[&bytes]);
        assert_eq!(out.len(), 1, "{name}: {c:?}");
    }
}

proptest! {
    #[test]
    fn random_datagrams_are_logged_or_counted(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (out, c) = run(&[&data]);
        prop_assert_eq!(out.len() as u64 + c.empty + c.too_short + c.bad_version, 1);
        for r in &out {
            let mut n = 0;
            r.visit_values(&mut |_| n += 1);
            prop_assert_eq!(n, r.fields().len());
        }
    }

    #[test]
    fn mutated_messages_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        tail in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        let mut m = server_reply();
        m.extend_from_slice(&tail);
        for (at, byte) in flips {
            let i = at.index(m.len());
            m[i] = byte;
        }
        let (out, c) = run(&[&m]);
        prop_assert_eq!(out.len() as u64 + c.empty + c.too_short + c.bad_version, 1);
        let _ = probe(&m, true);
    }
}

/// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// tshark's `Feb 26, 2018 07:17:35.743602024 UTC` (or `NULL`) as Zeek-style
/// seconds with six decimals.
fn tshark_time(s: &str) -> String {
    if s == "NULL" || s.is_empty() {
        return "0.000000".to_string();
    }
    let parts: Vec<&str> = s.split_whitespace().collect();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[0])
    .unwrap() as i64
        + 1;
    let day: i64 = parts[1].trim_end_matches(',').parse().unwrap();
    let year: i64 = parts[2].parse().unwrap();
    let (hms, frac) = parts[3].split_once('.').unwrap();
    let hms: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
    let nanos: i64 = format!("{frac:0<9}")[..9].parse().unwrap();
    let secs = days_from_civil(year, month, day) * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
    Timestamp(secs * 1_000_000_000 + nanos).to_string()
}

/// Compares one capture with tshark: version, mode, stratum, poll exponent,
/// reference id, transmit time, private request code.
pub fn compare_with_tshark(rel: &str) -> Option<[Agreement; 7]> {
    let path = capture(rel)?;
    if !tshark_available() {
        return None;
    }
    let cap = udp_datagrams(&path);
    let mut c = NtpCounters::default();
    let mut ours = std::collections::HashMap::new();
    for d in cap.on_ports(&[123]) {
        let mut out = Vec::new();
        NtpAnalyzer::new(cap.flows[d.flow].clone())
            .on_data(d.ts, d.is_orig, &d.payload, &mut c, &mut out);
        if let Some(r) = out.pop() {
            ours.insert(d.frame, r);
        }
    }
    let fields = [
        "ntp.flags.vn",
        "ntp.flags.mode",
        "ntp.stratum",
        "ntp.ppoll",
        "ntp.refid",
        "ntp.xmt",
        "ntp.priv.reqcode",
    ];
    let theirs = tshark_fields(&path, "ntp", &fields, &[]);
    let mut agree = [Agreement::default(); 7];
    for (frame, t) in &theirs {
        let r = ours
            .get(frame)
            .unwrap_or_else(|| panic!("{rel}: frame {frame} not logged"));
        let std = r.std.as_ref();
        agree[0].add(&r.version.to_string(), &t[0]);
        agree[1].add(&r.mode.to_string(), &t[1]);
        agree[2].add(
            &std.map(|s| s.stratum.to_string()).unwrap_or_default(),
            &t[2],
        );
        // Poll as an exponent: our interval is 2^poll seconds.
        let poll = std.map(|s| (s.poll.as_secs_f64().log2().round() as i64).to_string());
        agree[3].add(&poll.unwrap_or_default(), &t[3]);
        let their_ref = match (std, t[4].len()) {
            (Some(s), 8) => {
                let b: Vec<u8> = (0..4)
                    .map(|i| u8::from_str_radix(&t[4][2 * i..2 * i + 2], 16).unwrap())
                    .collect();
                if s.stratum <= 1 {
                    let end = b.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
                    String::from_utf8_lossy(&b[..end]).into_owned()
                } else {
                    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
                }
            }
            _ => String::new(),
        };
        agree[4].add(
            &std.map(|s| s.ref_id.clone()).unwrap_or_default(),
            &their_ref,
        );
        let xmt = std.map(|s| s.xmt_time.to_string()).unwrap_or_default();
        let their_xmt = if t[5].is_empty() {
            String::new()
        } else {
            tshark_time(&t[5])
        };
        agree[5].add(&xmt, &their_xmt);
        agree[6].add(
            &r.private_req.map(|c| c.to_string()).unwrap_or_default(),
            &t[6],
        );
    }
    Some(agree)
}

pub const NAMES: [&str; 7] = [
    "version",
    "mode",
    "stratum",
    "poll",
    "ref_id",
    "xmt_time",
    "private_req",
];

#[test]
fn ndpi_and_stratosphere_captures_agree_with_tshark() {
    let files = [
        "ndpi/pcap/NTPv2.pcap",
        "ndpi/pcap/NTPv4.pcap",
        "ndpi/pcap/tls_certificate_too_long.pcap",
        "stratosphere/slips-dataset/test7-malicious.pcap",
    ];
    let mut total = [Agreement::default(); 7];
    for rel in files {
        let Some(agree) = compare_with_tshark(rel) else {
            return;
        };
        for (t, a) in total.iter_mut().zip(agree) {
            t.merge(a);
        }
    }
    for (name, a) in NAMES.iter().zip(total) {
        eprintln!("{name}: {a}");
    }
    assert!(total[0].compared >= 140);
    for a in total {
        assert_eq!(a.equal, a.compared, "disagreement with tshark: {a}");
    }
}
