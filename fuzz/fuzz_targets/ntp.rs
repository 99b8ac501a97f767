//! Fuzz the NTP analyzer: the first byte picks where the rest splits into
//! two datagrams (originator's, then responder's), so per-flow state is
//! exercised too. Seed corpus: crates/engine/tests/corpus/ntp holds bare
//! datagrams (replayed by `cargo test`); prefix a split byte to reuse them.
#![no_main]
use std::net::{IpAddr, Ipv4Addr};

use gatewatch_engine::log::ConnId;
use gatewatch_engine::proto::ntp::{probe, NtpAnalyzer, NtpCounters};
use gatewatch_engine::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let (orig, resp) = ("192.0.2.1", "192.0.2.2");
    let conn = ConnId {
        uid: "CFuzz".to_string(),
        orig_h: orig.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        orig_p: 1000,
        resp_h: resp.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        resp_p: 2000,
    };
    let split = usize::from(head) * rest.len() / 255;
    let (first, second) = rest.split_at(split.min(rest.len()));
    let mut analyzer = NtpAnalyzer::new(conn);
    let mut counters = NtpCounters::default();
    let mut out = Vec::new();
    analyzer.on_data(Timestamp(1), true, first, &mut counters, &mut out);
    analyzer.on_data(Timestamp(2), false, second, &mut counters, &mut out);
    analyzer.on_end(Timestamp(3), &mut counters, &mut out);
    let _ = probe(first, true);
});
