//! CoAP analyzer: hand-built requests and responses (every field, option
//! delta/length extensions, request matching), malformed datagrams counted,
//! random and mutated datagrams (never a panic; every datagram logged or
//! counted), the seed corpus, and `ndpi/pcap/coap_mqtt.pcap` compared with
//! tshark's `coap.*` fields.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)] // tests may panic on broken fixtures

mod proto_udp_support;

use gatewatch_engine::counters::Counters;
use gatewatch_engine::log::{ConnId, LogRecord};
use gatewatch_engine::proto::coap::state::MAX_PENDING_REQUESTS;
use gatewatch_engine::proto::coap::{probe, CoapAnalyzer, CoapCounters, CoapRecord};
use gatewatch_engine::proto::Probe;
use gatewatch_engine::Timestamp;
use proptest::prelude::*;
use proto_udp_support::{
    capture, conn, field, tshark_available, tshark_fields, udp_datagrams, Agreement,
};

fn coap_conn() -> ConnId {
    conn("2001:db8::1", 46819, "2001:db8::3", 5683)
}

/// A CoAP message; `options` are (number, value) in ascending order.
fn coap(
    first: u8,
    code: u8,
    mid: u16,
    token: &[u8],
    options: &[(u32, &[u8])],
    payload: &[u8],
) -> Vec<u8> {
    let mut m = vec![first | token.len() as u8, code];
    m.extend_from_slice(&mid.to_be_bytes());
    m.extend_from_slice(token);
    let mut last = 0;
    for (number, value) in options {
        let delta = number - last;
        last = *number;
        let nibble = |v: u32| match v {
            0..=12 => (v as u8, vec![]),
            13..=268 => (13, vec![(v - 13) as u8]),
            _ => (14, ((v - 269) as u16).to_be_bytes().to_vec()),
        };
        let (dn, dext) = nibble(delta);
        let (ln, lext) = nibble(value.len() as u32);
        m.push((dn << 4) | ln);
        m.extend(dext);
        m.extend(lext);
        m.extend_from_slice(value);
    }
    if !payload.is_empty() {
        m.push(0xff);
        m.extend_from_slice(payload);
    }
    m
}

const CON: u8 = 0x40;
const NON: u8 = 0x50;
const ACK: u8 = 0x60;

fn get_request() -> Vec<u8> {
    coap(
        CON,
        0x01,
        0x1234,
        &[0xaa, 0xbb],
        &[
            (3, b"sensor.local"),
            (6, &[]),
            (7, &[0x16, 0x33]),
            (11, b"storage"),
            (11, b"myresource"),
            (15, b"a=1"),
            (15, b"b=2"),
            (17, &[50]),
            (284, &[0; 20]),
        ],
        &[],
    )
}

fn run(msgs: &[(i64, bool, Vec<u8>)]) -> (Vec<CoapRecord>, CoapCounters) {
    let mut a = CoapAnalyzer::new(coap_conn());
    let mut c = CoapCounters::default();
    let mut out = Vec::new();
    for (ms, is_orig, m) in msgs {
        a.on_data(Timestamp(ms * 1_000_000), *is_orig, m, &mut c, &mut out);
    }
    a.on_end(Timestamp(0), &mut c, &mut out);
    (out, c)
}

#[test]
fn request_every_field() {
    let (out, c) = run(&[(0, true, get_request())]);
    let r = &out[0];
    assert_eq!(r.path(), "coap");
    let get = |n: &str| field(r, n);
    assert_eq!(get("version"), "1");
    assert_eq!(get("msg_type"), "CON");
    assert_eq!(get("code"), "GET");
    assert_eq!(get("message_id"), "4660");
    assert_eq!(get("token_len"), "2");
    assert_eq!(get("token"), "aabb");
    assert_eq!(get("uri_host"), "sensor.local");
    assert_eq!(get("uri_port"), "5683");
    assert_eq!(get("uri_path"), "/storage/myresource");
    assert_eq!(get("uri_query"), "a=1&b=2");
    assert_eq!(get("content_format"), "");
    assert_eq!(get("observe"), "0");
    assert_eq!(get("payload_len"), "0");
    assert_eq!(get("request_method"), "");
    assert_eq!(get("rtt"), "");
    assert_eq!((c.messages, c.requests), (1, 1));
    assert_eq!(c.to_vec().iter().map(|(_, v)| v).sum::<u64>(), 2, "{c:?}");
}

#[test]
fn piggybacked_and_separate_responses_name_their_request() {
    let put = coap(CON, 0x03, 7, &[], &[(11, b"storage")], b"hello");
    let ack = coap(ACK, 0x44, 7, &[], &[(12, &[0])], b"ok");
    let get = coap(CON, 0x01, 8, &[9, 9], &[(11, b"separate")], &[]);
    let empty_ack = coap(ACK, 0x00, 8, &[], &[], &[]);
    let separate = coap(CON, 0x45, 0x5000, &[9, 9], &[], b"later");
    let msgs = [
        (0, true, put),
        (30, false, ack),
        (100, true, get),
        (110, false, empty_ack),
        (1100, false, separate),
    ];
    let (out, c) = run(&msgs);
    assert_eq!(field(&out[0], "payload_len"), "5");
    assert_eq!(field(&out[1], "code"), "2.04");
    assert_eq!(field(&out[1], "content_format"), "0");
    assert_eq!(field(&out[1], "request_method"), "PUT");
    assert_eq!(field(&out[1], "request_uri_path"), "/storage");
    assert_eq!(field(&out[1], "rtt"), "0.030000");
    assert_eq!(field(&out[3], "code"), "EMPTY");
    assert_eq!(
        field(&out[3], "request_method"),
        "",
        "an empty ACK is not a response"
    );
    assert_eq!(field(&out[4], "code"), "2.05");
    assert_eq!(field(&out[4], "request_uri_path"), "/separate");
    assert_eq!(field(&out[4], "rtt"), "1.000000");
    assert_eq!((c.responses, c.responses_matched), (2, 2));
}

#[test]
fn pending_requests_are_bounded() {
    let mut msgs: Vec<_> = (0..MAX_PENDING_REQUESTS as u16 + 3)
        .map(|mid| (0, true, coap(NON, 0x01, mid, &[mid as u8, 1], &[], &[])))
        .collect();
    // The first requests were evicted: their response does not match.
    msgs.push((1, false, coap(NON, 0x45, 999, &[0, 1], &[], &[])));
    let (out, c) = run(&msgs);
    assert_eq!(c.requests_evicted, 3);
    assert_eq!(field(out.last().unwrap(), "request_method"), "");
    assert_eq!(c.responses_matched, 0);
}

#[test]
fn malformed_is_counted() {
    let reserved_delta = vec![CON, 0x01, 0, 1, 0xf1, 0];
    let reserved_len = vec![CON, 0x01, 0, 1, 0x1f, 0];
    let value_past_end = vec![CON, 0x01, 0, 1, 0xb5, b'a', b'b'];
    let marker_without_payload = vec![NON, 0x45, 0, 1, 0xff];
    let empty_with_token = vec![0x41, 0x00, 0, 1, 7];
    let many: Vec<(u32, &[u8])> = (0..80).map(|_| (60, &[][..])).collect();
    let too_many = coap(CON, 0x01, 0, &[], &many, &[]);
    let msgs: Vec<_> = [
        reserved_delta,
        reserved_len,
        value_past_end,
        marker_without_payload,
        empty_with_token,
        too_many,
    ]
    .into_iter()
    .map(|m| (0, true, m))
    .collect();
    let (out, c) = run(&msgs);
    assert_eq!(out.len(), 6);
    assert_eq!(field(&out[2], "uri_path"), "", "the cut option is not used");
    assert_eq!(
        (
            c.bad_option,
            c.empty_payload,
            c.non_empty_empty,
            c.too_many_options
        ),
        (3, 1, 1, 1)
    );

    let not_coap = [
        vec![0x80, 0x01, 0, 1],
        vec![0x49, 0x01, 0, 1],
        vec![0x44, 0x01, 0, 1, 1],
        vec![0x40],
    ];
    let msgs: Vec<_> = not_coap.into_iter().map(|m| (0, true, m)).collect();
    let (out, c) = run(&msgs);
    assert!(out.is_empty());
    assert_eq!((c.bad_version, c.bad_token_length, c.too_short), (1, 1, 2));
}

#[test]
fn every_truncation_is_logged_or_counted() {
    let full = get_request();
    for len in 0..=full.len() {
        let (out, c) = run(&[(0, true, full[..len].to_vec())]);
        assert_eq!(
            out.len() as u64 + c.too_short + c.bad_version + c.bad_token_length,
            1,
            "len {len}"
        );
    }
}

#[test]
fn probe_tells_coap_apart() {
    assert_eq!(probe(&get_request(), true), Probe::Yes);
    assert_eq!(
        probe(&coap(ACK, 0x45, 1, &[], &[], b"x"), false),
        Probe::Maybe
    );
    assert_eq!(probe(&[0x60, 0, 0, 1], false), Probe::Maybe);
    assert_eq!(
        probe(&[0x40, 0x21, 0, 1], true),
        Probe::No,
        "class 1 is undefined"
    );
    assert_eq!(probe(b"GET / HTTP/1.1\r\n", true), Probe::No);
}

#[test]
fn seed_corpus_replays() {
    for (name, bytes) in proto_udp_support::corpus("coap") {
        let (out, c) = run(&[(0, true, bytes)]);
        assert_eq!(out.len(), 1, "{name}: {c:?}");
    }
}

proptest! {
    #[test]
    fn random_datagrams_are_logged_or_counted(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        is_orig in any::<bool>(),
    ) {
        let (out, c) = run(&[(0, is_orig, data)]);
        prop_assert_eq!(out.len() as u64 + c.too_short + c.bad_version + c.bad_token_length, 1);
        for r in &out {
            prop_assert!(r.uri_path.as_ref().is_none_or(|p| p.len() <= 255));
            let mut n = 0;
            r.visit_values(&mut |_| n += 1);
            prop_assert_eq!(n, r.fields().len());
        }
    }

    #[test]
    fn mutated_sequences_never_panic(
        flips in proptest::collection::vec((0usize..3, any::<prop::sample::Index>(), any::<u8>()), 1..10),
    ) {
        let mut msgs = vec![
            (0, true, get_request()),
            (1, false, coap(ACK, 0x45, 0x1234, &[0xaa, 0xbb], &[(12, &[0])], b"{}")),
            (2, false, coap(CON, 0x45, 9, &[0xaa, 0xbb], &[(6, &[1])], b"{}")),
        ];
        for (which, at, byte) in flips {
            let m = &mut msgs[which].2;
            let i = at.index(m.len());
            m[i] = byte;
        }
        let (out, _) = run(&msgs);
        prop_assert!(out.len() <= 3);
        for (_, _, m) in &msgs {
            let _ = probe(m, true);
        }
    }
}

#[test]
fn coap_mqtt_capture_agrees_with_tshark() {
    let Some(path) = capture("ndpi/pcap/coap_mqtt.pcap") else {
        return;
    };
    if !tshark_available() {
        return;
    }
    let cap = udp_datagrams(&path);
    let mut analyzers = std::collections::HashMap::new();
    let mut c = CoapCounters::default();
    let mut ours = std::collections::HashMap::new();
    for d in cap.on_ports(&[5683]) {
        let a = analyzers
            .entry(d.flow)
            .or_insert_with(|| CoapAnalyzer::new(cap.flows[d.flow].clone()));
        let mut out = Vec::new();
        a.on_data(d.ts, d.is_orig, &d.payload, &mut c, &mut out);
        if let Some(r) = out.pop() {
            ours.insert(d.frame, r);
        }
    }
    let fields = [
        "coap.type",
        "coap.code",
        "coap.mid",
        "coap.token_len",
        "coap.opt.uri_path",
        "coap.opt.uri_host",
    ];
    let theirs = tshark_fields(&path, "coap", &fields, &[]);
    let names = ["type", "code", "mid", "token_len", "uri_path", "uri_host"];
    let mut agree = [Agreement::default(); 6];
    for (frame, t) in &theirs {
        let r = ours
            .get(frame)
            .unwrap_or_else(|| panic!("frame {frame} not logged"));
        let coap_type = ["CON", "NON", "ACK", "RST"]
            .iter()
            .position(|n| *n == r.msg_type)
            .unwrap();
        agree[0].add(&coap_type.to_string(), &t[0]);
        // tshark prints the raw code byte.
        let code = match r.code.as_str() {
            "EMPTY" => 0,
            "GET" => 1,
            "POST" => 2,
            "PUT" => 3,
            "DELETE" => 4,
            other => {
                let (class, detail) = other.split_once('.').unwrap();
                class.parse::<u32>().unwrap() * 32 + detail.parse::<u32>().unwrap()
            }
        };
        agree[1].add(&code.to_string(), &t[1]);
        agree[2].add(&r.message_id.to_string(), &t[2]);
        agree[3].add(&r.token_len.to_string(), &t[3]);
        let segments = r
            .uri_path
            .as_deref()
            .unwrap_or_default()
            .trim_start_matches('/')
            .replace('/', ",");
        agree[4].add(&segments, &t[4]);
        agree[5].add(r.uri_host.as_deref().unwrap_or_default(), &t[5]);
    }
    for (name, a) in names.iter().zip(agree) {
        eprintln!("coap_mqtt.pcap {name}: {a}");
    }
    eprintln!("counters: {c:?}");
    assert_eq!(agree[0].compared, 19);
    for a in agree {
        assert_eq!(a.equal, a.compared, "disagreement with tshark: {a}");
    }
}
