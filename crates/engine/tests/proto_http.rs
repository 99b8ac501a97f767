//! HTTP/RTSP analyzer: hand-built conversations (every field, byte-by-byte
//! delivery, pipelining, chunked and until-close bodies, 1xx, tunnels,
//! malformed input), random input never panics, and the seed corpus.
//! Real captures are in proto_http_captures.rs.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on broken fixtures

mod proto_support;

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use gatewatch_engine::log::{ConnId, LogRecord, Value};
use gatewatch_engine::proto::http::{self, HttpAnalyzer, HttpCounters, HttpRecord};
use gatewatch_engine::proto::Probe;
use gatewatch_engine::Timestamp;
use proptest::prelude::*;

fn conn() -> ConnId {
    ConnId {
        uid: "CHttpTest".into(),
        orig_h: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10)),
        orig_p: 40000,
        resp_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        resp_p: 80,
    }
}

/// Feeds `(is_orig, bytes)` deliveries, each cut in pieces of `split` bytes
/// (0 = whole), then ends the connection.
fn run_split(
    deliveries: &[(bool, &[u8])],
    split: usize,
) -> (Vec<HttpRecord>, HttpCounters, &'static str) {
    let mut a = HttpAnalyzer::new(conn());
    let mut c = HttpCounters::default();
    let mut out = Vec::new();
    for (i, (is_orig, bytes)) in deliveries.iter().enumerate() {
        let ts = Timestamp::from_secs_nanos(1_700_000_000 + i as i64, 0);
        if split == 0 {
            a.on_data(ts, *is_orig, bytes, &mut c, &mut out);
        } else {
            for piece in bytes.chunks(split) {
                a.on_data(ts, *is_orig, piece, &mut c, &mut out);
            }
        }
    }
    a.on_end(
        Timestamp::from_secs_nanos(1_700_000_100, 0),
        &mut c,
        &mut out,
    );
    let service = a.service();
    (out, c, service)
}

fn run(deliveries: &[(bool, &[u8])]) -> (Vec<HttpRecord>, HttpCounters) {
    let (r, c, _) = run_split(deliveries, 0);
    (r, c)
}

const GET: &[u8] =
    b"GET /login%20page?x=1 HTTP/1.1\r\nHost: cam.local:8080\r\nUser-Agent: curl/8.0\r\n\
Referer: http://a/\r\nOrigin: http://o\r\nX-Forwarded-For: 1.2.3.4\r\n\
Authorization: Basic YWRtaW46c2VjcmV0\r\n\r\n";
const RESP_401: &[u8] =
    b"HTTP/1.1 401 Unauthorized\r\nServer: lighttpd/1.4\r\nContent-Length: 5\r\n\r\nnope!";

#[test]
fn every_field_of_a_basic_auth_exchange() {
    let (recs, c) = run(&[(true, GET), (false, RESP_401)]);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.trans_depth, 1);
    assert_eq!(r.method.as_deref(), Some("GET"));
    assert_eq!(r.host.as_deref(), Some("cam.local:8080"));
    assert_eq!(r.uri.as_deref(), Some("/login page?x=1"));
    assert_eq!(r.referrer.as_deref(), Some("http://a/"));
    assert_eq!(r.origin.as_deref(), Some("http://o"));
    assert_eq!(r.user_agent.as_deref(), Some("curl/8.0"));
    assert_eq!(r.version.as_deref(), Some("1.1"));
    assert_eq!(r.status_code, Some(401));
    assert_eq!(r.status_msg.as_deref(), Some("Unauthorized"));
    assert_eq!(r.username.as_deref(), Some("admin"));
    assert_eq!(r.authorization_scheme.as_deref(), Some("Basic"));
    assert_eq!(r.server.as_deref(), Some("lighttpd/1.4"));
    assert_eq!(r.proxied, vec!["X-FORWARDED-FOR -> 1.2.3.4".to_string()]);
    assert_eq!((r.request_body_len, r.response_body_len), (0, 5));
    assert_eq!(r.path(), "http");
    assert_eq!(
        (
            c.requests,
            c.responses,
            c.basic_auth,
            c.auth_required_responses
        ),
        (1, 1, 1, 1)
    );

    // The visited values follow the declared columns, password stays unset.
    let mut values = Vec::new();
    r.visit_values(&mut |v| values.push(format!("{v:?}")));
    assert_eq!(values.len(), r.fields().len());
    let at = |name: &str| r.fields().iter().position(|f| f.name == name).unwrap();
    assert_eq!(values[at("password")], format!("{:?}", Value::Unset));
    assert_eq!(values[at("username")], format!("{:?}", Value::Str("admin")));
    assert_eq!(values[at("tags")], format!("{:?}", Value::StrList(&[])));
}

#[test]
fn byte_by_byte_delivery_gives_the_same_records() {
    let whole = run(&[(true, GET), (false, RESP_401)]).0;
    for split in [1, 2, 3, 7, 64] {
        let (pieces, c, _) = run_split(&[(true, GET), (false, RESP_401)], split);
        assert_eq!(pieces, whole, "split {split}");
        assert_eq!(c.directions_stopped, 0);
    }
}

#[test]
fn pipelined_requests_pair_in_order() {
    let reqs = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h\r\n\r\n\
POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd";
    let resps = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi\
HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n\
HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: 1\r\n\r\n";
    for split in [0, 1, 5] {
        let (recs, c, _) = run_split(&[(true, reqs), (false, resps)], split);
        let got: Vec<_> = recs
            .iter()
            .map(|r| {
                (
                    r.trans_depth,
                    r.uri.clone().unwrap(),
                    r.status_code.unwrap(),
                    r.request_body_len,
                    r.response_body_len,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "/a".into(), 200, 0, 2),
                (2, "/b".into(), 200, 0, 0), // HEAD: Content-Length describes nothing
                (3, "/c".into(), 201, 4, 19),
            ],
            "split {split}"
        );
        assert_eq!(c.chunks, 2);
        assert_eq!(c.unanswered_requests, 0);
    }
}

#[test]
fn response_without_length_runs_until_close() {
    let (recs, _) = run(&[
        (true, b"GET / HTTP/1.0\r\n\r\n"),
        (false, b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\n"),
        (false, b"0123456789"),
        (false, b"HTTP/1.1 200 not a new response"),
    ]);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].response_body_len, 10 + 31);
    assert_eq!(recs[0].version.as_deref(), Some("1.0"));
}

#[test]
fn informational_reply_keeps_the_pair_open() {
    let (recs, c) = run(&[
        (
            true,
            b"PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
        ),
        (false, b"HTTP/1.1 100 Continue\r\n\r\n"),
        (true, b"xyz"),
        (
            false,
            b"HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n",
        ),
        (true, b"GET /next HTTP/1.1\r\n\r\n"),
    ]);
    assert_eq!(recs.len(), 2);
    assert_eq!(
        (recs[0].info_code, recs[0].status_code),
        (Some(100), Some(204))
    );
    assert_eq!(recs[0].info_msg.as_deref(), Some("Continue"));
    assert_eq!(recs[0].request_body_len, 3);
    assert_eq!(recs[1].uri.as_deref(), Some("/next"));
    assert_eq!(recs[1].status_code, None);
    assert_eq!((c.informational_responses, c.unanswered_requests), (1, 1));
}

#[test]
fn orphan_response_and_connect_tunnel() {
    let (recs, c) = run(&[(
        false,
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    )]);
    assert_eq!((recs.len(), c.orphan_responses), (1, 1));
    assert_eq!(recs[0].method, None);

    let (recs, c) = run(&[
        (
            true,
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        ),
        (
            false,
            b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x00\x05hello",
        ),
        (true, b"\x16\x03\x01 binary tls"),
    ]);
    assert_eq!(recs.len(), 1);
    assert_eq!(c.tunnels, 1);
    assert_eq!(c.malformed_request_line + c.malformed_status_line, 0);
}

#[test]
fn malformed_input_is_counted_and_stops_the_direction() {
    let (recs, c) = run(&[(
        true,
        b"\x16\x03\x01\x02\x00 not http\r\nGET / HTTP/1.1\r\n\r\n",
    )]);
    assert!(recs.is_empty());
    assert_eq!((c.malformed_request_line, c.directions_stopped), (1, 1));

    let (_, c) = run(&[
        (
            true,
            b"GET / HTTP/1.1\r\nBad Header\r\n folded\r\nContent-Length: x\r\n\r\n",
        ),
        (
            false,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ),
    ]);
    assert_eq!(c.malformed_header_line, 1);
    assert_eq!(c.malformed_folded_header, 1);
    assert_eq!(c.malformed_content_length, 1);
    assert_eq!(c.malformed_chunk_size, 1);

    let long = [b"GET /".as_slice(), &vec![b'a'; http::MAX_LINE_LEN + 10]].concat();
    let (_, c) = run(&[(true, &long)]);
    assert_eq!((c.limit_line_too_long, c.directions_stopped), (1, 1));

    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..http::MAX_HEADERS + 5 {
        many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(
        b"User-Agent: late\r\nContent-Length: 2\r\n\r\nokGET /2 HTTP/1.1\r\n\r\n",
    );
    let (recs, c) = run(&[(true, &many)]);
    assert_eq!(c.limit_too_many_headers, 1);
    assert_eq!(recs.len(), 2, "framing headers still read past the limit");
    assert_eq!(recs[0].user_agent, None);
    assert_eq!(recs[0].request_body_len, 2);
}

#[test]
fn pending_queue_is_bounded() {
    let mut reqs = Vec::new();
    for i in 0..http::MAX_PENDING_TRANSACTIONS + 3 {
        reqs.extend_from_slice(format!("GET /{i} HTTP/1.1\r\n\r\n").as_bytes());
    }
    let (recs, c) = run(&[(true, &reqs)]);
    assert_eq!(c.pending_evicted, 3);
    assert_eq!(recs.len(), http::MAX_PENDING_TRANSACTIONS + 3);
    assert_eq!(recs[0].uri.as_deref(), Some("/0"));
}

#[test]
fn gap_inside_a_body_keeps_sync() {
    let mut a = HttpAnalyzer::new(conn());
    let mut c = HttpCounters::default();
    let mut out = Vec::new();
    let ts = Timestamp::from_secs_nanos(1, 0);
    a.on_data(ts, true, b"GET / HTTP/1.1\r\n\r\n", &mut c, &mut out);
    a.on_data(
        ts,
        false,
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
        &mut c,
        &mut out,
    );
    a.on_gap(false, 90, &mut c);
    a.on_data(ts, true, b"GET /2 HTTP/1.1\r\n\r\n", &mut c, &mut out);
    a.on_data(
        ts,
        false,
        b"HTTP/1.1 304 Not Modified\r\n\r\n",
        &mut c,
        &mut out,
    );
    a.on_end(ts, &mut c, &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].status_code, Some(304));
    assert_eq!((c.gaps, c.gap_lost_sync), (1, 0));

    a = HttpAnalyzer::new(conn());
    a.on_data(ts, true, b"GET / HT", &mut c, &mut out);
    a.on_gap(true, 5, &mut c);
    assert_eq!(c.gap_lost_sync, 1);
}

#[test]
fn rtsp_with_interleaved_frames() {
    let (recs, c, service) = run_split(
        &[
            (true, b"OPTIONS rtsp://10.2.2.2:8554/ RTSP/1.0\r\nCSeq: 2\r\nUser-Agent: LibVLC/3.0.16\r\n\r\n"),
            (false, b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nPublic: DESCRIBE, SETUP\r\n\r\n"),
            (true, b"PLAY rtsp://10.2.2.2:8554/ RTSP/1.0\r\nCSeq: 3\r\n\r\n"),
            (false, b"RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n$\x00\x00\x04abcd$\x01\x00\x02xyRTSP/1.0 200 OK\r\nCSeq: 4\r\nContent-Length: 2\r\n\r\nok"),
        ],
        3,
    );
    assert_eq!(service, "rtsp");
    assert_eq!(recs.len(), 3);
    assert!(recs.iter().all(|r| r.path() == "rtsp"));
    assert_eq!(recs[0].method.as_deref(), Some("OPTIONS"));
    assert_eq!(recs[0].user_agent.as_deref(), Some("LibVLC/3.0.16"));
    assert_eq!(recs[1].status_code, Some(200));
    assert_eq!(recs[2].response_body_len, 2);
    assert_eq!(c.rtsp_interleaved_frames, 2);
    assert_eq!(c.unknown_method, 0);
}

#[test]
fn probes() {
    assert_eq!(
        http::probe(b"GET / HTTP/1.1\r\nHost: x\r\n", true),
        Probe::Yes
    );
    assert_eq!(http::probe(b"GET /index.html HT", true), Probe::Maybe);
    assert_eq!(http::probe(b"\x16\x03\x01\x00", true), Probe::No);
    assert_eq!(http::probe(b"GET / SSH-2.0\r\n", true), Probe::No);
    assert_eq!(http::probe(b"HTTP/1.1 200 OK\r\n", false), Probe::Yes);
    assert_eq!(http::probe(b"HTTP/1.", false), Probe::Maybe);
    assert_eq!(http::probe(b"SSH-2.0-x\r\n", false), Probe::No);
    assert_eq!(
        http::probe_service(b"DESCRIBE rtsp://c/ RTSP/1.0\r\n", true),
        Some("rtsp")
    );
    assert_eq!(
        http::probe_service(b"GET / HTTP/1.0\r\n", true),
        Some("http")
    );
    assert_eq!(http::probe_service(b"GET / HTTP", true), None);
}

fn valid_conversation() -> Vec<(bool, Vec<u8>)> {
    vec![
        (true, GET.to_vec()),
        (false, RESP_401.to_vec()),
        (
            true,
            b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"
                .to_vec(),
        ),
        (
            false,
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc".to_vec(),
        ),
    ]
}

proptest! {
    #[test]
    fn random_bytes_never_panic(chunks in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..12)) {
        let mut a = HttpAnalyzer::new(conn());
        let mut c = HttpCounters::default();
        let mut out = Vec::new();
        for (is_orig, bytes) in &chunks {
            a.on_data(Timestamp::ZERO, *is_orig, bytes, &mut c, &mut out);
        }
        a.on_end(Timestamp::ZERO, &mut c, &mut out);
        // Every record stems from a parsed request or response.
        prop_assert!(out.len() as u64 <= c.requests + c.responses);
    }

    #[test]
    fn garbage_lines_are_counted(
        first in 0u8..9,
        rest in proptest::collection::vec(any::<u8>(), 0..200),
        is_orig in any::<bool>(),
        split in 1usize..50,
    ) {
        let mut bytes = vec![first];
        bytes.extend(rest);
        bytes.push(b'\n');
        let mut a = HttpAnalyzer::new(conn());
        let mut c = HttpCounters::default();
        let mut out = Vec::new();
        for piece in bytes.chunks(split) {
            a.on_data(Timestamp::ZERO, is_orig, piece, &mut c, &mut out);
        }
        a.on_end(Timestamp::ZERO, &mut c, &mut out);
        prop_assert!(out.is_empty());
        prop_assert_eq!(c.directions_stopped, 1);
        prop_assert_eq!(c.malformed_request_line + c.malformed_status_line, 1);
    }

    #[test]
    fn mutated_conversations_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        split in 1usize..40,
        gap_at in proptest::option::of(0usize..4),
    ) {
        let mut conv = valid_conversation();
        for (at, byte) in flips {
            let i = at % conv.len();
            let msg = &mut conv[i].1;
            let j = at % msg.len();
            msg[j] = byte;
        }
        let mut a = HttpAnalyzer::new(conn());
        let mut c = HttpCounters::default();
        let mut out = Vec::new();
        for (i, (is_orig, bytes)) in conv.iter().enumerate() {
            if gap_at == Some(i) {
                a.on_gap(*is_orig, 7, &mut c);
            }
            for piece in bytes.chunks(split) {
                a.on_data(Timestamp::ZERO, *is_orig, piece, &mut c, &mut out);
            }
        }
        a.on_end(Timestamp::ZERO, &mut c, &mut out);
        prop_assert!(out.len() <= 4);
    }
}

fn split_directions(bytes: &[u8]) -> (&[u8], &[u8]) {
    let (len, rest) = bytes.split_at(2);
    let n = usize::from(u16::from_be_bytes([len[0], len[1]])).min(rest.len());
    rest.split_at(n)
}

#[test]
fn seed_corpus_replays() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/http");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 3);
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        // Same layout as the fuzz target: a big-endian u16 giving the length
        // of the originator's bytes, then those, then the responder's.
        let (orig, resp) = split_directions(&bytes);
        let (recs, c) = run(&[(true, orig), (false, resp)]);
        let name = path.file_name().unwrap().to_string_lossy();
        if name.starts_with("ok_") {
            assert!(!recs.is_empty(), "{name}: no record");
            assert_eq!(c.directions_stopped, 0, "{name}: {c:?}");
        } else {
            assert!(
                c.directions_stopped + c.orphan_responses > 0,
                "{name}: {c:?}"
            );
        }
    }
}
