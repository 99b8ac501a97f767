//! SSDP analyzer: hand-built NOTIFY / M-SEARCH / search responses (every
//! field), header oddities and malformed datagrams counted, random and
//! mutated datagrams (never a panic; every datagram logged or counted), the
//! seed corpus, and real captures compared with tshark's HTTP-over-UDP fields.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)] // tests may panic on broken fixtures

mod proto_udp_support;

use gatewatch_engine::counters::Counters;
use gatewatch_engine::log::{ConnId, LogRecord};
use gatewatch_engine::proto::ssdp::parser::MAX_HEADER_LINES;
use gatewatch_engine::proto::ssdp::{probe, SsdpAnalyzer, SsdpCounters, SsdpRecord};
use gatewatch_engine::proto::Probe;
use gatewatch_engine::Timestamp;
use proptest::prelude::*;
use proto_udp_support::{
    capture, conn, field, tshark_available, tshark_fields, udp_datagrams, Agreement,
};

const NOTIFY: &[u8] = b"NOTIFY * HTTP/1.1\r\n\
HOST: 239.255.255.250:1900\r\n\
CACHE-CONTROL: max-age=100\r\n\
LOCATION: http://10.10.10.6:80/description.xml\r\n\
SERVER: Linux/3.14.0 UPnP/1.0 IpBridge/1.9.0\r\n\
NTS: ssdp:alive\r\n\
NT: upnp:rootdevice\r\n\
USN: uuid:2f402f80-da50-11e1-9b23-0017881892ca::upnp:rootdevice\r\n\
\r\n";

const M_SEARCH: &[u8] = b"M-SEARCH * HTTP/1.1\r\n\
HOST: 239.255.255.250:1900\r\n\
MAN: \"ssdp:discover\"\r\n\
MX: 1\r\n\
ST: urn:dial-multiscreen-org:service:dial:1\r\n\
USER-AGENT: Google Chrome/99.0.4844.74 Mac OS X\r\n\
\r\n";

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Cache-Control: max-age = 1800\r\n\
Ext:\r\n\
Location: http://192.168.1.20:49153/setup.xml\r\n\
Server: Unspecified, UPnP/1.0, Unspecified\r\n\
St: urn:Belkin:device:controllee:1\r\n\
Usn: uuid:Socket-1_0-221517K0101769::urn:Belkin:device:controllee:1\r\n\
\r\n";

fn ssdp_conn() -> ConnId {
    conn("10.10.10.6", 1900, "239.255.255.250", 1900)
}

fn run(msgs: &[&[u8]]) -> (Vec<SsdpRecord>, SsdpCounters) {
    let mut a = SsdpAnalyzer::new(ssdp_conn());
    let mut c = SsdpCounters::default();
    let mut out = Vec::new();
    for m in msgs {
        a.on_data(Timestamp(1), true, m, &mut c, &mut out);
    }
    a.on_end(Timestamp(2), &mut c, &mut out);
    (out, c)
}

#[test]
fn notify_every_field() {
    let (out, c) = run(&[NOTIFY]);
    let r = &out[0];
    assert_eq!(r.path(), "ssdp");
    let get = |n: &str| field(r, n);
    assert_eq!(get("method"), "NOTIFY");
    assert_eq!(get("status_code"), "");
    assert_eq!(get("host"), "239.255.255.250:1900");
    assert_eq!(get("nt"), "upnp:rootdevice");
    assert_eq!(get("nts"), "ssdp:alive");
    assert_eq!(get("st"), "");
    assert_eq!(
        get("usn"),
        "uuid:2f402f80-da50-11e1-9b23-0017881892ca::upnp:rootdevice"
    );
    assert_eq!(get("server"), "Linux/3.14.0 UPnP/1.0 IpBridge/1.9.0");
    assert_eq!(get("location"), "http://10.10.10.6:80/description.xml");
    assert_eq!(get("user_agent"), "");
    assert_eq!(get("max_age"), "100");
    assert_eq!((c.messages, c.notify), (1, 1));
    assert_eq!(c.to_vec().iter().map(|(_, v)| v).sum::<u64>(), 2, "{c:?}");
}

#[test]
fn m_search_and_response() {
    let (out, c) = run(&[M_SEARCH, RESPONSE]);
    let get = |i: usize, n: &str| field(&out[i], n);
    assert_eq!(get(0, "method"), "M-SEARCH");
    assert_eq!(get(0, "man"), "\"ssdp:discover\"");
    assert_eq!(get(0, "mx"), "1");
    assert_eq!(get(0, "st"), "urn:dial-multiscreen-org:service:dial:1");
    assert_eq!(get(0, "user_agent"), "Google Chrome/99.0.4844.74 Mac OS X");
    assert_eq!(get(1, "method"), "");
    assert_eq!(get(1, "status_code"), "200");
    assert_eq!(
        get(1, "max_age"),
        "1800",
        "mixed-case names, spaces around ="
    );
    assert_eq!(get(1, "st"), "urn:Belkin:device:controllee:1");
    assert_eq!(get(1, "server"), "Unspecified, UPnP/1.0, Unspecified");
    assert_eq!(get(1, "location"), "http://192.168.1.20:49153/setup.xml");
    assert_eq!((c.m_search, c.responses), (1, 1));
}

#[test]
fn header_oddities() {
    let lf_only = b"NOTIFY * HTTP/1.1\nNT: a\nNTS: ssdp:byebye\n\n";
    let unterminated = b"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\nMX: 3";
    let first_wins = b"NOTIFY * HTTP/1.1\r\nNT: first\r\nnt: second\r\n\r\n";
    let bad_line = b"NOTIFY * HTTP/1.1\r\ngarbage line\r\n: empty name\r\nNT: x\r\n\r\n";
    let mut many = b"NOTIFY * HTTP/1.1\r\n".to_vec();
    for i in 0..MAX_HEADER_LINES + 5 {
        many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"NT: too-late\r\n\r\n");
    let (out, c) = run(&[lf_only, unterminated, first_wins, bad_line, &many]);
    assert_eq!(out.len(), 5);
    assert_eq!(field(&out[0], "nts"), "ssdp:byebye");
    assert_eq!(
        field(&out[1], "mx"),
        "3",
        "last header without CRLF is kept"
    );
    assert_eq!(field(&out[2], "nt"), "first");
    assert_eq!(field(&out[3], "nt"), "x");
    assert_eq!(field(&out[4], "nt"), "");
    assert_eq!(
        (c.unterminated, c.bad_header_line, c.too_many_headers),
        (1, 1, 1)
    );
}

#[test]
fn non_http_is_counted_not_logged() {
    let xml = b"<?xml version=\"1.0\"?><soap:Envelope/>";
    let lower = b"notify * HTTP/1.1\r\n\r\n";
    let no_newline = b"NOTIFY * HTTP/1.1";
    let long = [b'A'; 400];
    let (out, c) = run(&[xml, lower, no_newline, &long, b""]);
    assert!(out.is_empty());
    assert_eq!(c.not_http, 5);
}

#[test]
fn every_truncation_is_logged_or_counted() {
    for len in 0..=RESPONSE.len() {
        let (out, c) = run(&[&RESPONSE[..len]]);
        assert_eq!(out.len() as u64 + c.not_http, 1, "len {len}");
        if len > 17 && len < RESPONSE.len() - 1 {
            assert_eq!(c.unterminated, 1, "len {len}");
        }
    }
}

#[test]
fn probe_tells_ssdp_apart() {
    assert_eq!(probe(NOTIFY, true), Probe::Yes);
    assert_eq!(probe(M_SEARCH, true), Probe::Yes);
    assert_eq!(probe(RESPONSE, false), Probe::Yes);
    assert_eq!(
        probe(b"HTTP/1.1 404 Not Found\r\n\r\n", false),
        Probe::Maybe
    );
    assert_eq!(probe(b"GET / HTTP/1.1\r\n\r\n", true), Probe::Maybe);
    assert_eq!(probe(b"<?xml", true), Probe::No);
}

#[test]
fn seed_corpus_replays() {
    for (name, bytes) in proto_udp_support::corpus("ssdp") {
        let (out, c) = run(&[&bytes]);
        assert_eq!(out.len(), 1, "{name}: {c:?}");
    }
}

proptest! {
    #[test]
    fn random_datagrams_are_logged_or_counted(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let (out, c) = run(&[&data]);
        prop_assert_eq!(out.len() as u64 + c.not_http, 1);
    }

    #[test]
    fn mutated_messages_never_panic(
        which in 0usize..3,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut m = [NOTIFY, M_SEARCH, RESPONSE][which].to_vec();
        for (at, byte) in flips {
            let i = at.index(m.len());
            m[i] = byte;
        }
        m.truncate(cut.index(m.len() + 1));
        let (out, c) = run(&[&m]);
        prop_assert_eq!(out.len() as u64 + c.not_http, 1);
        for r in &out {
            for v in [&r.nt, &r.usn, &r.server, &r.location] {
                prop_assert!(v.as_ref().is_none_or(|s| s.len() <= 3 * 512));
            }
        }
        let _ = probe(&m, true);
    }
}

/// Compares the SSDP records of one capture with tshark's HTTP fields:
/// method, status code, SERVER, USER-AGENT, LOCATION.
pub fn compare_with_tshark(rel: &str, decode_as: &[&str], ports: &[u16]) -> Option<[Agreement; 5]> {
    let path = capture(rel)?;
    if !tshark_available() {
        return None;
    }
    let cap = udp_datagrams(&path);
    let mut analyzers = std::collections::HashMap::new();
    let mut counters = SsdpCounters::default();
    let mut ours = std::collections::HashMap::new();
    for d in cap.on_ports(ports) {
        let a = analyzers
            .entry(d.flow)
            .or_insert_with(|| SsdpAnalyzer::new(cap.flows[d.flow].clone()));
        let mut out = Vec::new();
        a.on_data(d.ts, d.is_orig, &d.payload, &mut counters, &mut out);
        if let Some(r) = out.pop() {
            ours.insert(d.frame, r);
        }
    }
    let fields = [
        "http.request.method",
        "http.response.code",
        "http.server",
        "http.user_agent",
        "http.location",
    ];
    let theirs = tshark_fields(&path, "ssdp", &fields, decode_as);
    let mut agree = [Agreement::default(); 5];
    let mut missing = 0;
    for (frame, t) in &theirs {
        let Some(r) = ours.get(frame) else {
            missing += 1;
            continue;
        };
        let code = r.status_code.map(|c| c.to_string()).unwrap_or_default();
        agree[0].add(r.method.as_deref().unwrap_or_default(), &t[0]);
        agree[1].add(&code, &t[1]);
        agree[2].add(r.server.as_deref().unwrap_or_default(), &t[2]);
        agree[3].add(r.user_agent.as_deref().unwrap_or_default(), &t[3]);
        agree[4].add(r.location.as_deref().unwrap_or_default(), &t[4]);
    }
    assert_eq!(
        missing, 0,
        "{rel}: frames tshark dissects as SSDP that we did not log"
    );
    Some(agree)
}

#[test]
fn ndpi_captures_agree_with_tshark() {
    let cases: [(&str, &[&str], &[u16]); 3] = [
        ("ndpi/pcap/ssdp-m-search-ua.pcap", &[], &[1900]),
        ("ndpi/pcap/iphone.pcap", &[], &[1900]),
        // M-SEARCH start lines broadcast to port 32412 (no headers).
        (
            "ndpi/pcap/ssdp-m-search.pcap",
            &["-d", "udp.port==32412,ssdp"],
            &[32412],
        ),
    ];
    let mut total = [Agreement::default(); 5];
    for (rel, decode_as, ports) in cases {
        let Some(agree) = compare_with_tshark(rel, decode_as, ports) else {
            return;
        };
        eprintln!(
            "{rel}: method {} server {} user_agent {}",
            agree[0], agree[2], agree[3]
        );
        for (t, a) in total.iter_mut().zip(agree) {
            t.merge(a);
        }
    }
    eprintln!(
        "total: method {} status {} server {} user_agent {} location {}",
        total[0], total[1], total[2], total[3], total[4]
    );
    assert!(total[0].compared >= 20);
    for a in total {
        assert_eq!(a.equal, a.compared, "disagreement with tshark: {a}");
    }
}

#[test]
fn ws_discovery_is_not_ssdp() {
    let Some(path) = capture("ndpi/pcap/upnp.pcap") else {
        return;
    };
    let cap = udp_datagrams(&path);
    let mut c = SsdpCounters::default();
    let mut out = Vec::new();
    for d in &cap.datagrams {
        assert_eq!(probe(&d.payload, d.is_orig), Probe::No);
        SsdpAnalyzer::new(cap.flows[d.flow].clone())
            .on_data(d.ts, d.is_orig, &d.payload, &mut c, &mut out);
    }
    assert!(out.is_empty());
    assert_eq!(c.not_http, cap.datagrams.len() as u64);
}
