//! Properties of the DNS analyzer: random bytes and mutated valid messages,
//! in both directions and cut at random points, never panic, always end in
//! bounded state, and move the counters; valid random names round-trip.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on broken fixtures

mod dns_support;

use dns_support::*;
use gatewatch_engine::proto::dns::{
    parse_message, DnsAnalyzer, DnsCounters, DnsRecord, Message, MAX_ANSWERS, MAX_PENDING_QUERIES,
    MAX_TXT_BYTES,
};
use proptest::prelude::*;

/// Valid messages to mutate: queries, responses with every rendered type,
/// an mDNS announcement.
fn seeds() -> Vec<Vec<u8>> {
    let srv = [&[0, 1, 0, 5, 0x1f, 0x90][..], &wire_name("host.local")].concat();
    let mut announce = header(0, 0x8400, [0, 1, 0, 0]);
    put_name(&mut announce, "Kitchen._hap._tcp.local");
    announce.extend_from_slice(&[0, 16, 0x80, 1, 0, 0, 0x11, 0x94, 0, 3, 2, b'i', b'd']);
    vec![
        query(1, "www.example.com", A),
        response(
            1,
            "www.example.com",
            A,
            0,
            &[
                answer(CNAME, 300, &[3, b'c', b'd', b'n', 0xc0, 0x10]),
                answer(A, 60, &[1, 2, 3, 4]),
                answer(AAAA, 60, &[0; 16]),
                answer(TXT, 5, b"\x05hello"),
                answer(SRV, 5, &srv),
                answer(
                    46,
                    5,
                    &[
                        0, 1, 8, 2, 0, 0, 0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c,
                    ],
                ),
                answer(47, 5, &[0xc0, 0x0c, 0, 0]),
            ],
        ),
        response(2, "nx.example", AAAA, 3, &[]),
        announce,
    ]
}

/// Runs `chunks` (direction, bytes) through a fresh analyzer.
fn run(tcp: bool, mdns: bool, chunks: &[(bool, Vec<u8>)]) -> (Vec<DnsRecord>, DnsCounters, usize) {
    let c_id = if mdns {
        conn(5353, 5353)
    } else {
        conn(40000, 53)
    };
    let mut dns = if tcp {
        DnsAnalyzer::new_tcp(c_id)
    } else {
        DnsAnalyzer::new(c_id)
    };
    let mut c = DnsCounters::default();
    let mut out = Vec::new();
    let mut most_pending = 0;
    for (i, (is_orig, bytes)) in chunks.iter().enumerate() {
        dns.on_data(ts(i as i64), *is_orig, bytes, &mut c, &mut out);
        most_pending = most_pending.max(dns.pending_queries());
        if i % 7 == 6 {
            dns.on_gap(*is_orig, 10, &mut c);
        }
    }
    dns.on_end(ts(1000), &mut c, &mut out);
    assert_eq!(dns.pending_queries(), 0);
    (out, c, most_pending)
}

/// Every record has bounded answers and names.
fn check_records(records: &[DnsRecord], c: &DnsCounters) {
    assert_eq!(records.len() as u64, c.records);
    for r in records {
        assert_eq!(r.answers.len(), r.ttls.len());
        assert!(r.answers.len() <= MAX_ANSWERS);
        for s in r.query.iter().chain(&r.original_query) {
            // 255 wire bytes at most, each byte at most 3 (U+FFFD) in text.
            assert!(s.len() <= 3 * 255, "{s:?}");
        }
        for s in &r.answers {
            assert!(s.len() <= 3 * MAX_TXT_BYTES, "{}", s.len());
        }
        if let Some(len) = r.query_len {
            assert!(len <= 255);
        }
    }
}

/// Cuts `bytes` at the given fractions, alternating directions.
fn split(bytes: &[u8], cuts: &[f64]) -> Vec<(bool, Vec<u8>)> {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|f| (f * bytes.len() as f64) as usize)
        .collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for (i, p) in points.into_iter().chain([bytes.len()]).enumerate() {
        let p = p.min(bytes.len());
        if p > start {
            out.push((i % 2 == 0, bytes[start..p].to_vec()));
            start = p;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_datagrams_never_panic(
        datagrams in prop::collection::vec((any::<bool>(), prop::collection::vec(any::<u8>(), 0..600)), 1..20),
        mdns in any::<bool>(),
    ) {
        let (records, c, pending) = run(false, mdns, &datagrams);
        check_records(&records, &c);
        prop_assert!(pending <= MAX_PENDING_QUERIES);
        // Every datagram is counted, and is either classified or damaged.
        prop_assert_eq!(c.messages, datagrams.len() as u64);
        let classified = c.queries + c.responses + c.nonstandard_opcode;
        prop_assert!(classified <= c.messages);
        prop_assert!(classified + c.malformed() >= c.messages);
    }

    #[test]
    fn random_streams_never_panic(
        stream in prop::collection::vec(any::<u8>(), 0..3000),
        cuts in prop::collection::vec(0.0f64..1.0, 0..12),
    ) {
        let (records, c, _) = run(true, false, &split(&stream, &cuts));
        check_records(&records, &c);
        prop_assert!(c.tcp_messages >= c.messages);
    }

    #[test]
    fn mutated_messages_never_panic(
        seed in 0usize..4,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        tcp in any::<bool>(),
        cuts in prop::collection::vec(0.0f64..1.0, 0..6),
    ) {
        let mut msg = seeds()[seed].clone();
        for (at, byte) in &flips {
            let i = at.index(msg.len());
            msg[i] = *byte;
        }
        msg.truncate(cut.index(msg.len() + 1).max(1));
        let (records, c, _) = if tcp {
            let mut stream = framed(&msg);
            stream.extend_from_slice(&framed(&seeds()[0]));
            run(true, false, &split(&stream, &cuts))
        } else {
            run(false, seed == 3, &[(true, msg.clone()), (false, msg)])
        };
        check_records(&records, &c);
    }

    #[test]
    fn valid_names_round_trip(
        labels in prop::collection::vec("[a-zA-Z0-9_-]{1,20}", 1..8),
        id in any::<u16>(),
        qtype in any::<u16>(),
    ) {
        let name = labels.join(".");
        let mut m = Message::default();
        let mut c = DnsCounters::default();
        parse_message(&query(id, &name, qtype), &mut m, &mut c).unwrap();
        prop_assert_eq!(&m.qname, &name);
        let q = m.question.unwrap();
        prop_assert_eq!(q.qtype, qtype);
        prop_assert_eq!(usize::from(q.name.labels), labels.len());
        prop_assert_eq!(usize::from(q.name.text_len), name.len());
        prop_assert_eq!(c.malformed(), 0);
    }
}

#[test]
fn garbage_moves_the_malformed_counters() {
    let garbage: Vec<(bool, Vec<u8>)> = (0..50u8)
        .map(|i| {
            (
                i % 2 == 0,
                (0..(i as usize % 11)).map(|j| i ^ j as u8).collect(),
            )
        })
        .collect();
    let (records, c, _) = run(false, false, &garbage);
    assert!(records.is_empty());
    assert_eq!(c.malformed_short_header, 50);
    // A TCP stream of noise is abandoned, never buffered without bound.
    let noise: Vec<u8> = (0..70_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let mut dns = DnsAnalyzer::new_tcp(conn(40000, 53));
    let mut c = DnsCounters::default();
    let mut out = Vec::new();
    for chunk in noise.chunks(1400) {
        dns.on_data(ts(0), true, chunk, &mut c, &mut out);
    }
    dns.on_end(ts(1), &mut c, &mut out);
    assert_eq!(c.tcp_abandoned, 1);
    assert!(c.tcp_messages <= 1);
}
