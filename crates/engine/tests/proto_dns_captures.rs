//! The DNS analyzer on real captures from `../shared/data`, compared with
//! tshark: per UDP frame the first `dns.qry.name` and `dns.flags.rcode`, per
//! capture the responses paired with a query (`dns.response_to`) and their
//! round-trip times (`dns.time`). Malformed captures must not panic and must
//! count their damage. Also: the seed corpus replayed, and an ignored speed
//! measurement. Skips with a message when the data or tshark is absent.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on broken fixtures

mod dns_support;

use std::collections::HashMap;
use std::path::PathBuf;

use dns_support::capture::{analyze, compare, data_dir, tshark, Agreement, Harness};
use gatewatch_engine::decode::{Decoder, Network, Transport};
use gatewatch_engine::proto::dns::{
    analyze_bytes, parse_message, DnsAnalyzer, DnsCounters, DnsTransport, Message,
};
use gatewatch_engine::source::CaptureReader;
use gatewatch_engine::Timestamp;

/// Captures compared with tshark.
const CAPTURES: [&str; 27] = [
    "ndpi/pcap/dns.pcap",
    "ndpi/pcap/dns-tunnel-iodine.pcap",
    "ndpi/pcap/dns_exfiltration.pcap",
    "ndpi/pcap/dns_long_domainname.pcap",
    "ndpi/pcap/malformed_dns.pcap",
    "ndpi/pcap/bad-dns-traffic.pcap",
    "ndpi/pcap/dns-invalid-chars.pcap",
    "ndpi/pcap/punycode-idn.pcap",
    "ndpi/pcap/netbios_wildcard_dns_query.pcap",
    "ndpi/pcap/dns-exf.pcap",
    "ndpi/pcap/dns_fragmented.pcap",
    "ndpi/pcap/iphone.pcap",
    "ndpi/pcap/tls_certificate_too_long.pcap",
    "ndpi/pcap/nest_log_sink.pcap",
    "stratosphere/slips-dataset/test7-malicious.pcap",
    "iot-sentinel/D-LinkCam/Setup-A-1-STA.pcap",
    "iot-sentinel/HueBridge/Setup-A-1-STA.pcap",
    "iot-sentinel/D-LinkSensor/Setup-A-1-STA.pcap",
    "iot-sentinel/D-LinkWaterSensor/Setup-A-1-STA.pcap",
    "iot-sentinel/D-LinkSiren/Setup-A-1-STA.pcap",
    "iot-sentinel/D-LinkHomeHub/Setup-A-1-STA.pcap",
    "iot-sentinel/D-LinkSwitch/Setup-A-1-STA.pcap",
    "iot-sentinel/WeMoInsightSwitch/Setup-A-1-STA.pcap",
    "iot-sentinel/Lightify/Setup-C-1-STA.pcap",
    "iot-sentinel/WeMoLink/Setup-A-1-STA.pcap",
    "iot-sentinel/HueSwitch/Setup-A-1-STA.pcap",
    "iot-sentinel/EdimaxCam1/Setup-A-1-STA.pcap",
];

#[test]
fn names_rcodes_and_pairs_agree_with_tshark() {
    let Some(dir) = data_dir() else { return };
    let mut total = Agreement::default();
    for rel in CAPTURES {
        let path = dir.join(rel);
        if !path.is_file() {
            eprintln!("skipping {rel}: not found");
            continue;
        }
        let Some(shark) = tshark(&path) else { return };
        let h = analyze(&path);
        let a = compare(&h, &shark);
        eprintln!(
            "{rel}: names {}/{} rcodes {}/{} pairs tshark {} ours {} equal rtt {} records {} malformed {}",
            a.names_equal,
            a.frames,
            a.rcodes_equal,
            a.rcodes,
            a.shark_paired,
            a.ours_paired,
            a.rtt_equal,
            h.records.len(),
            h.counters.malformed(),
        );
        for m in a.mismatches.iter().take(5) {
            eprintln!("  {m}");
        }
        total.frames += a.frames;
        total.names_equal += a.names_equal;
        total.rcodes += a.rcodes;
        total.rcodes_equal += a.rcodes_equal;
        total.shark_paired += a.shark_paired;
        total.ours_paired += a.ours_paired;
        total.rtt_equal += a.rtt_equal;
        total
            .mismatches
            .extend(a.mismatches.into_iter().map(|m| format!("{rel} {m}")));
    }
    eprintln!("total: {total:?}");
    assert!(
        total.frames > 1000,
        "too few DNS frames compared: {}",
        total.frames
    );
    assert_eq!(total.names_equal, total.frames, "{:#?}", total.mismatches);
    assert_eq!(total.rcodes_equal, total.rcodes);
    // Pairing differs by design in two cases: a response naming another
    // question than its query (dns-invalid-chars) stays alone, and a
    // retransmitted query is answered oldest-first (Zeek) where tshark picks
    // the newest. Everything else pairs, with the same round-trip time.
    assert!(
        total.ours_paired * 100 >= total.shark_paired * 99,
        "{total:?}"
    );
    assert!(total.rtt_equal * 100 >= total.ours_paired * 99, "{total:?}");
}

/// Runs one capture of `ndpi/pcap`, if present.
fn ndpi(name: &str) -> Option<Harness> {
    let path = data_dir()?.join("ndpi/pcap").join(name);
    if !path.is_file() {
        eprintln!("skipping {name}: not found");
        return None;
    }
    Some(analyze(&path))
}

#[test]
fn malformed_and_odd_captures_count_their_damage() {
    // Two questions, the second 870 bytes long: cut and counted; the two
    // retransmitted responses find no query and are logged alone.
    let Some(h) = ndpi("malformed_dns.pcap") else {
        return;
    };
    let c = &h.counters;
    assert_eq!((c.queries, c.responses, c.multi_question), (2, 4, 4));
    assert!(c.names_too_long >= 4);
    assert_eq!(
        (c.matched, c.unmatched_responses, h.records.len()),
        (2, 2, 4)
    );
    assert!(h
        .records
        .iter()
        .all(|r| r.query.as_deref() == Some("www.xt.com")));
    assert_eq!(h.records[0].answers[0], "66.66.66.66");

    // Control bytes in labels are kept; the response names another
    // question, so query and response stay two records.
    let Some(h) = ndpi("dns-invalid-chars.pcap") else {
        return;
    };
    let queries: Vec<_> = h
        .records
        .iter()
        .filter_map(|r| r.original_query.clone())
        .collect();
    assert_eq!(
        queries,
        [
            "www.allyourbasesare\u{1}\u{2}\u{3}ongto.cn",
            "www.allyourba\u{4}\u{5}\u{6}arebelongto.cn"
        ]
    );
    assert_eq!(
        (
            h.counters.unmatched_responses,
            h.counters.unanswered_queries
        ),
        (1, 1)
    );

    // A long tunnel name answered NXDOMAIN: the detector inputs are there.
    let Some(h) = ndpi("dns_long_domainname.pcap") else {
        return;
    };
    let r = &h.records[0];
    assert!(r.is_nxdomain() && r.rtt.is_some());
    assert_eq!((r.query_labels, r.query_len), (Some(7), Some(43)));

    // dnscat2: more than MAX_PENDING_QUERIES unanswered queries in one flow.
    let Some(h) = ndpi("bad-dns-traffic.pcap") else {
        return;
    };
    assert!(h.counters.pending_evicted > 0);
    assert_eq!(h.counters.records, h.counters.queries);
    assert!(h
        .records
        .iter()
        .any(|r| r.qtype_name().as_deref() == Some("MX")));

    // iodine: NULL records, long labels.
    let Some(h) = ndpi("dns-tunnel-iodine.pcap") else {
        return;
    };
    let null = h
        .records
        .iter()
        .filter(|r| r.answers == ["<unknown type=10>"])
        .count();
    assert!(null > 200, "{null}");
    assert!(h.records.iter().filter_map(|r| r.query_len).max() > Some(200));

    // DNS over TCP (RRSIG/DNSKEY answers) next to IP fragments we skip.
    let Some(h) = ndpi("dns_fragmented.pcap") else {
        return;
    };
    assert_eq!(h.counters.tcp_messages, 4);
    assert!(h.fragments_skipped > 0);
    let tcp: Vec<_> = h
        .records
        .iter()
        .filter(|r| r.proto == DnsTransport::Tcp)
        .collect();
    assert_eq!(tcp.len(), 2);
    assert!(tcp
        .iter()
        .all(|r| r.answers.iter().any(|a| a.starts_with("DNSKEY "))));
    assert_eq!(h.counters.rdata_length_mismatch, 0);
    assert_eq!(h.counters.malformed(), 0);
}

#[test]
fn every_udp_and_tcp_payload_of_the_ndpi_captures_is_survived() {
    // Not only DNS: every payload of every capture, as if it were DNS.
    let Some(dir) = data_dir() else { return };
    let mut files: Vec<_> = std::fs::read_dir(dir.join("ndpi/pcap"))
        .expect("ndpi/pcap")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let mut payloads = 0u64;
    let mut c = DnsCounters::default();
    for path in files {
        let bytes = std::fs::read(&path).expect("read capture");
        let Ok(mut reader) = CaptureReader::new(bytes.as_slice()) else {
            continue;
        };
        let mut decoder = Decoder::new();
        let mut records = Vec::new();
        while let Ok(Some(raw)) = reader.next_packet() {
            let pkt = decoder.decode(&raw);
            let Network::Ip(ip) = &pkt.network else {
                continue;
            };
            let (payload, tcp) = match ip.transport {
                Transport::Udp(u) => (u.payload, false),
                Transport::Tcp(t) => (t.payload, true),
                _ => continue,
            };
            payloads += 1;
            let conn = dns_support::conn(40000, 53);
            let mut dns = if tcp {
                DnsAnalyzer::new_tcp(conn)
            } else {
                DnsAnalyzer::new(conn)
            };
            dns.on_data(pkt.ts, true, payload, &mut c, &mut records);
            dns.on_end(pkt.ts, &mut c, &mut records);
        }
    }
    eprintln!("{payloads} payloads: {c:?}");
    assert!(payloads > 10_000);
    assert!(c.malformed() > 1000);
}

#[test]
fn seed_corpus_replays() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/dns");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus/dns")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 8);
    let mut seen = HashMap::new();
    for path in &files {
        let bytes = std::fs::read(path).expect("read seed");
        assert!(bytes.len() < 2048);
        let (records, c) = analyze_bytes(&bytes);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        seen.insert(name, (records, c));
    }
    let (r, c) = &seen["udp_pointer_loops.bin"];
    assert_eq!(c.compression_loops, 2);
    // The looped query name is empty, the response asks for "a": two records.
    assert_eq!(r.len(), 2);
    assert!(r[0].answers.is_empty()); // an empty name is no answer (Zeek)
    let (r, c) = &seen["tcp_rrsig_response.bin"];
    assert_eq!((c.tcp_messages, c.matched), (2, 1));
    assert!(r[0].answers.iter().any(|a| a.starts_with("RRSIG 48 ")));
    let (r, _) = &seen["mdns_query_announcement.bin"];
    assert!(r.iter().all(|r| r.mdns) && !r.is_empty());
    let (r, _) = &seen["udp_long_name_nxdomain.bin"];
    assert!(r[0].is_nxdomain());
    let (_, c) = &seen["udp_malformed_long_question.bin"];
    assert!(c.names_too_long > 0);
}

/// Rough cost per message: `cargo test --release -p gatewatch-engine
/// --test proto_dns_captures -- --ignored --nocapture`.
#[test]
#[ignore]
fn speed_per_message() {
    let q = dns_support::query(1, "time.example.com", dns_support::A);
    let r = dns_support::response(
        1,
        "time.example.com",
        dns_support::A,
        0,
        &[
            dns_support::answer(
                dns_support::CNAME,
                300,
                &[4, b'e', b'd', b'g', b'e', 0xc0, 0x11],
            ),
            dns_support::answer(dns_support::A, 60, &[1, 2, 3, 4]),
        ],
    );
    let mut dns = DnsAnalyzer::new(dns_support::conn(40000, 53));
    let mut c = DnsCounters::default();
    let mut sink = gatewatch_engine::sink::CountingSink::default();
    let n = 1_000_000u32;
    let start = std::time::Instant::now();
    for i in 0..n {
        let t = Timestamp(i64::from(i) * 1000);
        dns.on_data(t, true, &q, &mut c, &mut sink);
        dns.on_data(t, false, &r, &mut c, &mut sink);
    }
    let per = start.elapsed().as_nanos() as f64 / f64::from(2 * n);
    eprintln!("{per:.0} ns/message with records ({} records)", sink.count);
    assert_eq!(sink.count, u64::from(n));
    // Parsing alone (header, question, two rendered answers).
    let mut m = Message::default();
    let start = std::time::Instant::now();
    for _ in 0..n {
        parse_message(std::hint::black_box(&r), &mut m, &mut c).expect("valid");
    }
    let per = start.elapsed().as_nanos() as f64 / f64::from(n);
    eprintln!("{per:.0} ns/response parsed");
}
