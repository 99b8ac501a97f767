//! Modbus/TCP analyzer: hand-built ADUs (every field, split delivery, several
//! per chunk, malformed headers), random input that must never panic, the
//! seed corpus, and real captures compared with tshark (`mbtcp.trans_id`,
//! `mbtcp.unit_id`, `modbus.func_code`, `modbus.exception_code`).
#![allow(clippy::expect_used)] // tests may panic on broken fixtures

mod proto_ics_support;

use gatewatch_engine::counters::Counters;
use gatewatch_engine::log::LogRecord;
use gatewatch_engine::proto::modbus::{
    self, state::MAX_PENDING_REQUESTS, ModbusAnalyzer, ModbusCounters, ModbusRecord,
};
use gatewatch_engine::proto::Probe;
use gatewatch_engine::Timestamp;
use proptest::prelude::*;
use proto_ics_support::*;

fn adu(tid: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut v = tid.to_be_bytes().to_vec();
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&(pdu.len() as u16 + 1).to_be_bytes());
    v.push(unit);
    v.extend_from_slice(pdu);
    v
}

fn run(chunks: &[(bool, &[u8])]) -> (Vec<ModbusRecord>, ModbusCounters) {
    let mut a = ModbusAnalyzer::new(conn("CMB1"));
    let mut c = ModbusCounters::default();
    let mut out = Vec::new();
    for (i, (is_orig, bytes)) in chunks.iter().enumerate() {
        a.on_data(
            Timestamp::from_secs_nanos(100 + i as i64, 0),
            *is_orig,
            bytes,
            &mut c,
            &mut out,
        );
    }
    a.on_end(Timestamp::from_secs_nanos(999, 0), &mut c, &mut out);
    (out, c)
}

/// A read of holding registers, a write of multiple registers and an
/// exception, each answered.
fn session() -> Vec<(bool, Vec<u8>)> {
    vec![
        (true, adu(1, 17, &[0x03, 0x00, 0x6b, 0x00, 0x03])),
        (
            false,
            adu(1, 17, &[0x03, 0x06, 0x02, 0x2b, 0x00, 0x00, 0x00, 0x64]),
        ),
        (
            true,
            adu(
                2,
                17,
                &[0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0a, 0x01, 0x02],
            ),
        ),
        (false, adu(2, 17, &[0x10, 0x00, 0x01, 0x00, 0x02])),
        (true, adu(3, 17, &[0x05, 0x00, 0xac, 0xff, 0x00])),
        (false, adu(3, 17, &[0x85, 0x02])),
    ]
}

fn borrowed(chunks: &[(bool, Vec<u8>)]) -> Vec<(bool, &[u8])> {
    chunks.iter().map(|(o, b)| (*o, b.as_slice())).collect()
}

#[test]
fn every_field_of_a_session() {
    let (out, c) = run(&borrowed(&session()));
    let rows: Vec<Vec<String>> = out.iter().map(|r| values(r)[6..].to_vec()).collect();
    let want = [
        [
            "1",
            "17",
            "READ_HOLDING_REGISTERS",
            "REQ",
            "-",
            "F",
            "107",
            "3",
        ],
        [
            "1",
            "17",
            "READ_HOLDING_REGISTERS",
            "RESP",
            "-",
            "T",
            "107",
            "3",
        ],
        [
            "2",
            "17",
            "WRITE_MULTIPLE_REGISTERS",
            "REQ",
            "-",
            "F",
            "1",
            "2",
        ],
        [
            "2",
            "17",
            "WRITE_MULTIPLE_REGISTERS",
            "RESP",
            "-",
            "T",
            "1",
            "2",
        ],
        ["3", "17", "WRITE_SINGLE_COIL", "REQ", "-", "F", "172", "1"],
        [
            "3",
            "17",
            "WRITE_SINGLE_COIL_EXCEPTION",
            "RESP",
            "ILLEGAL_DATA_ADDRESS",
            "T",
            "172",
            "1",
        ],
    ];
    assert_eq!(rows, want);
    assert_eq!(out[0].path(), "modbus");
    assert_eq!(column(&out[0], "ts"), "100.000000");
    assert_eq!(column(&out[0], "uid"), "CMB1");
    assert_eq!(out[5].exception_code, Some(2));
    assert_eq!(out[5].function_code, 0x85);
    assert_eq!((c.requests, c.responses, c.exceptions), (3, 3, 1));
    assert_eq!((c.unmatched_responses, c.unanswered_requests), (0, 0));
}

#[test]
fn byte_by_byte_and_one_chunk_per_direction_agree() {
    let s = session();
    let (whole, _) = run(&borrowed(&s));
    let mut bytes = Vec::new();
    for (is_orig, b) in &s {
        for byte in b {
            bytes.push((*is_orig, vec![*byte]));
        }
    }
    let (split, c) = run(&borrowed(&bytes));
    let strip = |rs: &[ModbusRecord]| {
        rs.iter()
            .map(|r| values(r)[1..].to_vec())
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&whole), strip(&split));
    assert_eq!(c.messages, 6);
    // All requests in one chunk, then all responses in one chunk: pairing still works.
    let reqs: Vec<u8> = s
        .iter()
        .filter(|(o, _)| *o)
        .flat_map(|(_, b)| b.clone())
        .collect();
    let resps: Vec<u8> = s
        .iter()
        .filter(|(o, _)| !*o)
        .flat_map(|(_, b)| b.clone())
        .collect();
    let (batched, c) = run(&[(true, &reqs), (false, &resps)]);
    assert_eq!(batched.len(), 6);
    assert_eq!(c.unmatched_responses, 0);
    assert_eq!(column(&batched[3], "start_address"), "107");
}

#[test]
fn malformed_headers_stop_the_direction_and_are_counted() {
    let mut bad_pid = adu(9, 1, &[0x03, 0, 0, 0, 1]);
    bad_pid[3] = 1;
    let good = adu(10, 1, &[0x03, 0, 0, 0, 1]);
    let (out, c) = run(&[
        (true, &bad_pid),
        (true, &good),
        (false, &adu(10, 1, &[0x03, 2, 0, 7])),
    ]);
    assert_eq!(c.bad_protocol_id, 1);
    assert_eq!(c.skipped_bytes, (bad_pid.len() + good.len()) as u64);
    assert_eq!(out.len(), 1, "the responder's direction still parses");
    assert_eq!(c.unmatched_responses, 1);

    let mut long = adu(1, 1, &[0x03]);
    long[4..6].copy_from_slice(&300u16.to_be_bytes());
    let (out, c) = run(&[(true, &long)]);
    assert!(out.is_empty());
    assert_eq!(c.bad_length, 1);

    let (out, c) = run(&[(true, &adu(1, 1, &[0x03, 0x00]))]);
    assert_eq!(out.len(), 1);
    assert_eq!(c.malformed_pdus, 1);
    assert_eq!(column(&out[0], "start_address"), "-");
}

#[test]
fn pending_requests_are_bounded() {
    let reqs: Vec<Vec<u8>> = (0..MAX_PENDING_REQUESTS as u16 + 5)
        .map(|t| adu(t, 1, &[0x01, 0, 0, 0, 8]))
        .collect();
    let chunks: Vec<(bool, &[u8])> = reqs.iter().map(|r| (true, r.as_slice())).collect();
    let (out, c) = run(&chunks);
    assert_eq!(out.len(), MAX_PENDING_REQUESTS + 5);
    assert_eq!(c.pending_evicted, 5);
    assert_eq!(c.unanswered_requests, MAX_PENDING_REQUESTS as u64);
}

#[test]
fn gap_stops_a_direction() {
    let mut a = ModbusAnalyzer::new(conn("CMB2"));
    let mut c = ModbusCounters::default();
    let mut out = Vec::new();
    let r = adu(1, 1, &[0x03, 0, 0, 0, 1]);
    a.on_data(Timestamp::ZERO, true, &r[..5], &mut c, &mut out);
    a.on_gap(true, 100, &mut c);
    a.on_data(Timestamp::ZERO, true, &r, &mut c, &mut out);
    assert!(out.is_empty());
    assert_eq!(c.gaps, 1);
    assert_eq!(c.skipped_bytes, r.len() as u64);
}

#[test]
fn probe_recognises_mbap() {
    let r = adu(1, 1, &[0x03, 0, 0, 0, 1]);
    assert_eq!(modbus::probe(&r, true), Probe::Yes);
    assert_eq!(modbus::probe(&r[..4], true), Probe::Maybe);
    assert_eq!(modbus::probe(b"GET / HTTP/1.1\r\n", true), Probe::No);
    assert_eq!(modbus::probe(&adu(1, 1, &[0x42, 0]), true), Probe::Maybe);
}

#[test]
fn counters_are_named() {
    let names: Vec<&str> = ModbusCounters::default()
        .to_vec()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.iter().all(|n| n.starts_with("proto.modbus.")));
    assert!(names.contains(&"proto.modbus.bad_protocol_id"));
}

proptest! {
    #[test]
    fn random_bytes_never_panic(chunks in prop::collection::vec((any::<bool>(), prop::collection::vec(any::<u8>(), 0..300)), 0..12)) {
        let borrowed: Vec<(bool, &[u8])> = chunks.iter().map(|(o, b)| (*o, b.as_slice())).collect();
        let (out, c) = run(&borrowed);
        let first_orig: usize = chunks.iter().filter(|(o, _)| *o).map(|(_, b)| b.len()).sum();
        if first_orig >= 6 {
            // Either something was framed or the garbage was counted.
            prop_assert!(c.messages + c.bad_protocol_id + c.bad_length > 0);
        }
        prop_assert_eq!(out.len() as u64, c.messages);
    }

    #[test]
    fn mutated_sessions_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
                                    cuts in prop::collection::vec(0usize..200, 0..6)) {
        let s = session();
        let mut orig: Vec<u8> = s.iter().filter(|(o, _)| *o).flat_map(|(_, b)| b.clone()).collect();
        let resp: Vec<u8> = s.iter().filter(|(o, _)| !*o).flat_map(|(_, b)| b.clone()).collect();
        for (at, v) in flips {
            let i = at.index(orig.len());
            orig[i] = v;
        }
        let mut chunks = Vec::new();
        for piece in split_at_points(&orig, &cuts) {
            chunks.push((true, piece));
        }
        for piece in split_at_points(&resp, &cuts) {
            chunks.push((false, piece));
        }
        let (out, c) = run(&chunks);
        prop_assert_eq!(out.len() as u64, c.messages);
        prop_assert!(c.responses == 3);
    }
}

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let s = session();
    let mut bad_pid = adu(9, 1, &[0x03, 0, 0, 0, 1]);
    bad_pid[3] = 7;
    vec![
        ("session.bin", script(&borrowed(&s))),
        (
            "exception_illegal_function.bin",
            script(&[
                (true, &adu(5, 2, &[0x2b, 0x0e, 0x01, 0x00])),
                (false, &adu(5, 2, &[0xab, 0x01])),
            ]),
        ),
        ("bad_protocol_id.bin", script(&[(true, &bad_pid)])),
        (
            "split_header.bin",
            script(&[
                (true, &adu(7, 1, &[0x04, 0, 1, 0, 2])[..3]),
                (true, &adu(7, 1, &[0x04, 0, 1, 0, 2])[3..]),
            ]),
        ),
    ]
}

#[test]
fn seed_corpus_matches_and_replays() {
    for (file, bytes) in seeds() {
        check_seed("modbus", file, &bytes);
    }
    for (file, bytes) in corpus_files("modbus") {
        let (out, c) = run(&script_chunks(&bytes));
        match file.as_str() {
            "session.bin" => assert_eq!(out.len(), 6),
            "exception_illegal_function.bin" => {
                assert_eq!(
                    column(&out[1], "func"),
                    "ENCAP_INTERFACE_TRANSPORT_EXCEPTION"
                );
                assert_eq!(column(&out[1], "exception"), "ILLEGAL_FUNCTION");
            }
            "bad_protocol_id.bin" => assert_eq!(c.bad_protocol_id, 1),
            "split_header.bin" => assert_eq!(column(&out[0], "quantity"), "2"),
            other => eprintln!("seed {other}: replayed ({} records)", out.len()),
        }
    }
}

/// (sender port, receiver port, transaction id, unit, function without the exception bit).
type Row = (u16, u16, u16, u8, u8);

/// Our rows and exception codes per message of a capture, for connections
/// on port 502.
fn ours(path: &std::path::Path) -> (Vec<Row>, Vec<u8>, ModbusCounters) {
    let mut c = ModbusCounters::default();
    let mut rows = Vec::new();
    let mut exceptions = Vec::new();
    for flow in flows(path) {
        if !flow.tcp || (flow.conn.resp_p != modbus::PORT && flow.conn.orig_p != modbus::PORT) {
            continue;
        }
        let mut a = ModbusAnalyzer::new(flow.conn.clone());
        let mut out = Vec::new();
        for ev in &flow.events {
            match ev {
                Event::Data {
                    ts, is_orig, bytes, ..
                } => a.on_data(*ts, *is_orig, bytes, &mut c, &mut out),
                Event::Gap { is_orig, len } => a.on_gap(*is_orig, *len, &mut c),
            }
        }
        a.on_end(flow.last_ts, &mut c, &mut out);
        for r in out {
            let (src, dst) = if r.is_response {
                (r.conn.resp_p, r.conn.orig_p)
            } else {
                (r.conn.orig_p, r.conn.resp_p)
            };
            rows.push((src, dst, r.tid, r.unit, r.function_code & 0x7f));
            exceptions.extend(r.exception_code);
        }
    }
    (rows, exceptions, c)
}

/// tshark's view: the same tuples (several ADUs of a frame are comma-joined).
fn theirs(path: &std::path::Path) -> Option<(Vec<Row>, Vec<u8>)> {
    let lines = tshark(
        path,
        &["-Y", "mbtcp"],
        &[
            "tcp.srcport",
            "tcp.dstport",
            "mbtcp.trans_id",
            "mbtcp.unit_id",
            "modbus.func_code",
            "modbus.exception_code",
        ],
    )?;
    let mut rows = Vec::new();
    let mut exceptions = Vec::new();
    for l in lines {
        let (Ok(src), Ok(dst)) = (l[0].parse::<u16>(), l[1].parse::<u16>()) else {
            continue;
        };
        let split = |s: &String| {
            s.split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let (tids, units, funcs) = (split(&l[2]), split(&l[3]), split(&l[4]));
        for (i, tid) in tids.iter().enumerate() {
            let (Some(u), Some(f)) = (units.get(i), funcs.get(i)) else {
                continue;
            };
            rows.push((
                src,
                dst,
                tid.parse().unwrap_or(0),
                u.parse().unwrap_or(0),
                f.parse().unwrap_or(0),
            ));
        }
        exceptions.extend(split(&l[5]).iter().filter_map(|e| e.parse::<u8>().ok()));
    }
    Some((rows, exceptions))
}

#[test]
fn real_captures_agree_with_tshark() {
    let Some(data) = data_dir() else { return };
    // (file, minimum agreement on messages); the fuzz files are damaged on purpose.
    let files = [
        ("ndpi/pcap/modbus.pcap", 1.0),
        ("ics/ModbusTCP/ModbusTCP.pcap", 0.99),
        ("ics/ModbusTCP/modbus_test_data_part1.pcap", 0.99),
        ("ics/ModbusTCP/modbus_test_data_part2.pcap", 0.95),
        ("ics/ModbusTCP/Modbus/modbus_test.pcap", 0.99),
        ("ics/bro/modbus/modbusSmall.pcap", 1.0),
        ("ics/bro/modbus/fuzz-72.pcap", 0.0),
        ("ics/bro/modbus/fuzz-1011.pcap", 0.0),
    ];
    for (file, min) in files {
        let path = data.join(file);
        let (rows, exc, c) = ours(&path);
        let Some((their_rows, their_exc)) = theirs(&path) else {
            return;
        };
        let (m, a, b, rate) = agreement(&rows, &their_rows);
        let (em, ea, eb, erate) = agreement(&exc, &their_exc);
        eprintln!(
            "{file}: messages {m}/{a} ours vs {b} tshark = {:.4}; exceptions {em}/{ea} vs {eb} = {:.3}; counters {:?}",
            rate,
            erate,
            c.to_vec().into_iter().filter(|(_, v)| *v > 0).collect::<Vec<_>>()
        );
        assert!(rate >= min, "{file}: agreement {rate:.4} < {min}");
    }
}
