//! The DNS analyzer on hand-built messages: every dns.log field, transaction
//! matching (id + name, 0x20 case, mDNS), the pending table bound, TCP
//! framing split byte by byte, malformed messages counted, and the probe.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on broken fixtures

mod dns_support;

use dns_support::*;
use gatewatch_engine::log::{LogRecord, Value};
use gatewatch_engine::proto::dns::{
    probe, probe_tcp, probe_udp, DnsAnalyzer, DnsCounters, DnsTransport, MAX_PENDING_QUERIES,
};
use gatewatch_engine::proto::Probe;
use gatewatch_engine::time::Duration;

fn secs(s: i64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn query_and_response_fill_every_field() {
    let q = query(0x1234, "WwW.Example.com", A);
    let r = {
        let mut r = response(
            0x1234,
            "WwW.Example.com",
            A,
            0,
            &[
                answer(CNAME, 300, &wire_name("Edge.Example.net")),
                answer(A, 60, &[93, 184, 216, 34]),
                answer(
                    AAAA,
                    60,
                    &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                ),
                answer(TXT, 5, b"\x05hello\x02hi"),
            ],
        );
        r[2] |= 0x04; // AA
        r
    };
    let (records, c) = drive(
        DnsAnalyzer::new(conn(40000, 53)),
        &[(0, true, q), (25, false, r)],
    );
    assert_eq!(records.len(), 1);
    let rec = &records[0];
    assert_eq!(rec.ts, ts(0));
    assert_eq!(rec.proto, DnsTransport::Udp);
    assert_eq!(rec.trans_id, 0x1234);
    assert_eq!(rec.rtt, Some(Duration::from_millis(25)));
    assert_eq!(rec.query.as_deref(), Some("www.example.com"));
    assert_eq!(rec.original_query.as_deref(), Some("WwW.Example.com"));
    assert_eq!(
        (rec.qtype, rec.qclass, rec.rcode),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!(rec.qtype_name().as_deref(), Some("A"));
    assert_eq!(rec.qclass_name().as_deref(), Some("C_INTERNET"));
    assert_eq!(rec.rcode_name().as_deref(), Some("NOERROR"));
    assert!(rec.aa && !rec.tc && rec.rd && rec.ra);
    assert_eq!(rec.z, 0);
    assert_eq!(
        rec.answers,
        [
            "edge.example.net",
            "93.184.216.34",
            "2001:db8::1",
            "TXT 5 hello TXT 2 hi"
        ]
    );
    assert_eq!(rec.ttls, [secs(300), secs(60), secs(60), secs(5)]);
    assert!(!rec.rejected && !rec.mdns && !rec.is_nxdomain());
    assert_eq!((rec.query_labels, rec.query_len), (Some(3), Some(15)));
    assert_eq!((c.queries, c.responses, c.matched, c.records), (1, 1, 1, 1));
    assert_eq!(c.malformed(), 0);

    // The log line: one value per column, TTLs as an interval list.
    let mut values = Vec::new();
    rec.visit_values(&mut |v| values.push(format!("{v:?}")));
    assert_eq!(values.len(), rec.fields().len());
    let names: Vec<&str> = rec.fields().iter().map(|f| f.name).collect();
    assert_eq!(&names[6..10], ["proto", "trans_id", "rtt", "query"]);
    let ttl_col = names.iter().position(|n| *n == "TTLs").unwrap();
    let mut ttl_value = None;
    let mut i = 0;
    rec.visit_values(&mut |v| {
        if i == ttl_col {
            ttl_value = Some(matches!(v, Value::IntervalList(l) if l.len() == 4));
        }
        i += 1;
    });
    assert_eq!(ttl_value, Some(true));
}

#[test]
fn nxdomain_without_records_is_rejected_and_flagged() {
    let q = query(7, "nope.invalid", AAAA);
    let r = response(7, "nope.invalid", AAAA, 3, &[]);
    let (records, _) = drive(
        DnsAnalyzer::new(conn(40001, 53)),
        &[(0, true, q), (3, false, r)],
    );
    let rec = &records[0];
    assert!(rec.is_nxdomain() && rec.rejected);
    assert_eq!(rec.rcode_name().as_deref(), Some("NXDOMAIN"));
    assert!(rec.answers.is_empty());
    assert_eq!(rec.rtt, Some(Duration::from_millis(3)));
}

#[test]
fn unanswered_and_unsolicited_are_logged_alone() {
    let q = query(1, "lost.example", A);
    let r = response(2, "other.example", A, 0, &[answer(A, 1, &[1, 2, 3, 4])]);
    let (records, c) = drive(
        DnsAnalyzer::new(conn(40002, 53)),
        &[(0, true, q), (5, false, r)],
    );
    // The unsolicited response is written at once, the query at the end.
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].query.as_deref(), Some("other.example"));
    assert_eq!(records[0].rtt, None);
    assert_eq!(records[0].answers, ["1.2.3.4"]);
    assert_eq!(records[1].query.as_deref(), Some("lost.example"));
    assert_eq!(records[1].rcode, None);
    assert_eq!((c.unmatched_responses, c.unanswered_queries), (1, 1));
}

#[test]
fn matching_needs_id_and_name_but_ignores_case() {
    let steps = [
        (0, true, query(9, "a.example", A)),
        (1, true, query(9, "b.example", A)),
        (2, false, response(9, "B.EXAMPLE", A, 0, &[])),
        (3, false, response(9, "c.example", A, 0, &[])),
    ];
    let (records, c) = drive(DnsAnalyzer::new(conn(40003, 53)), &steps);
    assert_eq!(c.matched, 1);
    let matched = records.iter().find(|r| r.rtt.is_some()).unwrap();
    assert_eq!(matched.original_query.as_deref(), Some("b.example"));
    assert_eq!(matched.rtt, Some(Duration::from_millis(1)));
    assert_eq!(records.len(), 3); // b matched, c alone, a unanswered
}

#[test]
fn response_without_question_matches_by_id_except_on_mdns() {
    let bare = header(5, 0x8182, [0, 0, 0, 0]); // SERVFAIL, no question
    let (records, c) = drive(
        DnsAnalyzer::new(conn(40004, 53)),
        &[
            (0, true, query(5, "x.example", A)),
            (1, false, bare.clone()),
        ],
    );
    assert_eq!(c.matched, 1);
    assert!(records[0].rejected);
    assert_eq!(records[0].query.as_deref(), Some("x.example"));

    // mDNS: an announcement (id 0, no question) is not an answer to a query.
    let mut announce = header(0, 0x8400, [0, 1, 0, 0]);
    put_name(&mut announce, "Kitchen._hap._tcp.local");
    announce.extend_from_slice(&[0, 16, 0x80, 1, 0, 0, 0x11, 0x94, 0, 3, 2, b'i', b'd']);
    let mut mdns_query = header(0, 0, [1, 0, 0, 0]);
    put_name(&mut mdns_query, "_hap._tcp.local");
    mdns_query.extend_from_slice(&[0, 12, 0, 1]);
    let (records, c) = drive(
        DnsAnalyzer::new(conn(5353, 5353)),
        &[(0, true, mdns_query), (1, true, announce)],
    );
    assert_eq!((c.matched, c.mdns_messages, records.len()), (0, 2, 2));
    assert!(records.iter().all(|r| r.mdns));
    let alone = &records[0];
    assert_eq!(
        alone.original_query.as_deref(),
        Some("Kitchen._hap._tcp.local")
    );
    assert_eq!(alone.query.as_deref(), Some("kitchen._hap._tcp.local"));
    assert_eq!(alone.qtype, None);
    assert_eq!(alone.answers, ["TXT 2 id"]);
    assert!(alone.aa);
    assert_eq!(records[1].qtype_name().as_deref(), Some("PTR"));
}

#[test]
fn pending_table_is_bounded_and_evicts_oldest_first() {
    let steps: Vec<_> = (0..MAX_PENDING_QUERIES as u16 + 3)
        .map(|i| (i64::from(i), true, query(i, "q.example", A)))
        .collect();
    let mut dns = DnsAnalyzer::new(conn(40005, 53));
    let mut c = DnsCounters::default();
    let mut out = Vec::new();
    for (ms, is_orig, bytes) in &steps {
        dns.on_data(ts(*ms), *is_orig, bytes, &mut c, &mut out);
    }
    assert_eq!(dns.pending_queries(), MAX_PENDING_QUERIES);
    assert_eq!(c.pending_evicted, 3);
    assert_eq!(
        out.iter().map(|r| r.trans_id).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    dns.on_end(ts(100), &mut c, &mut out);
    assert_eq!(out.len(), steps.len());
    assert_eq!(c.unanswered_queries, steps.len() as u64);
}

#[test]
fn tcp_messages_split_byte_by_byte_and_batched() {
    let q1 = framed(&query(1, "one.example", A));
    let q2 = framed(&query(2, "two.example", TXT));
    let r1 = framed(&response(
        1,
        "one.example",
        A,
        0,
        &[answer(A, 9, &[10, 0, 0, 1])],
    ));
    let r2 = framed(&response(
        2,
        "two.example",
        TXT,
        0,
        &[answer(TXT, 9, b"\x01x")],
    ));
    // Client bytes one at a time, server's two responses in one chunk.
    let mut steps: Vec<(i64, bool, Vec<u8>)> =
        q1.iter().chain(&q2).map(|b| (0, true, vec![*b])).collect();
    steps.push((4, false, [r1, r2].concat()));
    let (records, c) = drive(DnsAnalyzer::new_tcp(conn(40006, 53)), &steps);
    assert_eq!(c.tcp_messages, 4);
    assert_eq!(c.matched, 2);
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.proto == DnsTransport::Tcp));
    assert_eq!(records[0].answers, ["10.0.0.1"]);
    assert_eq!(records[1].answers, ["TXT 1 x"]);
    assert_eq!(c.tcp_incomplete_at_end, 0);
}

#[test]
fn malformed_messages_are_counted_by_reason() {
    let mut loop_msg = header(3, 0x0100, [1, 0, 0, 0]);
    loop_msg.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]); // pointer to itself
    let mut bad_pointer = header(4, 0x0100, [1, 0, 0, 0]);
    bad_pointer.extend_from_slice(&[0xc0, 0xff, 0, 1, 0, 1]);
    let mut past_end = header(5, 0x0100, [1, 0, 0, 0]);
    past_end.extend_from_slice(&[9, b'a']);
    let mut reserved = header(6, 0x0100, [1, 0, 0, 0]);
    reserved.extend_from_slice(&[0x41, 0, 0, 1, 0, 1]);
    let mut cut_question = query(7, "cut.example", A);
    cut_question.truncate(cut_question.len() - 2);
    let mut long = header(8, 0x0100, [1, 0, 0, 0]);
    for _ in 0..5 {
        long.push(63);
        long.extend_from_slice(&[b'x'; 63]);
    }
    long.extend_from_slice(&[0, 0, 1, 0, 1]);
    let mut many = header(9, 0x0100, [60, 0, 0, 0]);
    many.extend_from_slice(&[0; 10]);
    let mut cut_answer = response(10, "ok.example", A, 0, &[answer(A, 1, &[1, 2, 3, 4])]);
    cut_answer.truncate(cut_answer.len() - 3);
    let mut bad_a = response(11, "ok.example", A, 0, &[answer(A, 1, &[1, 2, 3])]);
    bad_a.extend_from_slice(&[]);
    let steps = [
        (0, true, vec![1, 2, 3]),
        (1, true, loop_msg),
        (2, true, bad_pointer),
        (3, true, past_end),
        (4, true, reserved),
        (5, true, cut_question),
        (6, true, long),
        (7, true, many),
        (8, false, cut_answer),
        (9, false, bad_a),
    ];
    let (records, c) = drive(DnsAnalyzer::new(conn(40007, 53)), &steps);
    assert_eq!(c.malformed_short_header, 1);
    assert_eq!(c.compression_loops, 1);
    assert_eq!(c.malformed_bad_pointer, 1);
    assert_eq!(c.malformed_label_past_end, 1);
    assert_eq!(c.malformed_bad_label_type, 1);
    assert_eq!(c.malformed_truncated_question, 1);
    assert_eq!(c.names_too_long, 1);
    assert_eq!(c.malformed_too_many_questions, 1);
    assert_eq!(c.malformed_truncated_record, 1);
    assert_eq!(c.malformed_bad_rdata, 1);
    // The looped and the long name still make records; so do the
    // responses whose answers are damaged (their questions were fine).
    let ids: Vec<u16> = records.iter().map(|r| r.trans_id).collect();
    assert_eq!(ids, [10, 11, 3, 8]);
    let long_rec = records.iter().find(|r| r.trans_id == 8).unwrap();
    assert_eq!(long_rec.query_labels, Some(3));
    assert_eq!(long_rec.query_len, Some(63 * 3 + 2));
}

#[test]
fn other_opcodes_are_counted_not_logged() {
    let mut notify = query(12, "zone.example", 6);
    notify[2] = 0x20; // opcode 4 (NOTIFY)
    let (records, c) = drive(DnsAnalyzer::new(conn(40008, 53)), &[(0, true, notify)]);
    assert!(records.is_empty());
    assert_eq!(c.nonstandard_opcode, 1);
}

#[test]
fn srv_ptr_and_unknown_answers_render_like_zeek() {
    let srv = [&[0, 1, 0, 5, 0x1f, 0x90][..], &wire_name("Host.local")].concat();
    let r = response(
        13,
        "_svc._tcp.example",
        SRV,
        0,
        &[
            answer(SRV, 120, &srv),
            answer(PTR, 120, &wire_name("name.example")),
            answer(10, 0, b"iodine-data"),
            answer(13, 0, b"\x03cpu\x02os"), // HINFO: no answer in dns.log
        ],
    );
    let (records, _) = drive(DnsAnalyzer::new(conn(40009, 53)), &[(0, false, r)]);
    assert_eq!(
        records[0].answers,
        ["host.local", "name.example", "<unknown type=10>"]
    );
    assert_eq!(records[0].ttls, [secs(120), secs(120), secs(0)]);
}

#[test]
fn probe_tells_dns_from_other_bytes() {
    let q = query(1, "example.com", A);
    assert_eq!(probe_udp(&q), Probe::Yes);
    assert_eq!(probe(&q, true), Probe::Yes);
    assert_eq!(probe_tcp(&framed(&q)), Probe::Yes);
    assert_eq!(probe(&framed(&q), true), Probe::Yes);
    // The start of a TCP message split after its header: not decided yet.
    assert_eq!(probe_tcp(&framed(&q)[..10]), Probe::Maybe);
    assert_eq!(probe_tcp(&[0]), Probe::Maybe);
    let r = response(1, "example.com", A, 0, &[answer(A, 1, &[1, 1, 1, 1])]);
    assert_eq!(probe(&r, false), Probe::Yes);
    assert_eq!(probe(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", true), Probe::No);
    assert_eq!(
        probe(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", true),
        Probe::No
    );
    assert_eq!(probe_udp(&q[..q.len() - 3]), Probe::No);
    assert_eq!(probe_udp(&[0; 12]), Probe::No); // a query without a question
}
