//! Fuzz the dnp3 analyzer. Input layout (the same as the seed corpus in
//! crates/engine/tests/corpus/dnp3, replayed by `cargo test`): records of a
//! 2-byte little-endian header (bit 15 set = from the responder, bits 0–14 =
//! length) followed by that many bytes; a short last record takes the rest.
#![no_main]
use gatewatch_engine::log::ConnId;
use gatewatch_engine::proto::dnp3::{Dnp3Analyzer, Dnp3Counters};
use gatewatch_engine::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let conn = ConnId {
        uid: "Cfuzz".to_string(),
        orig_h: [10, 0, 0, 1].into(),
        orig_p: 40000,
        resp_h: [10, 0, 0, 2].into(),
        resp_p: 1,
    };
    let mut analyzer = Dnp3Analyzer::new(conn);
    let mut counters = Dnp3Counters::default();
    let mut out = Vec::new();
    let mut rest = data;
    let mut ts = 0;
    while let [lo, hi, tail @ ..] = rest {
        let head = u16::from_le_bytes([*lo, *hi]);
        let len = usize::from(head & 0x7fff).min(tail.len());
        let (chunk, next) = tail.split_at(len);
        ts += 1;
        analyzer.on_data(Timestamp(ts), head & 0x8000 == 0, chunk, &mut counters, &mut out);
        rest = next;
    }
    if rest.len() == 1 {
        analyzer.on_gap(true, 1, &mut counters);
    }
    analyzer.on_end(Timestamp(ts + 1), &mut counters, &mut out);
});
