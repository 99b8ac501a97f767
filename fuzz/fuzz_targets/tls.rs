//! Fuzzes the TLS analyzer: the input is a sequence of `[flags, len_hi,
//! len_lo, bytes...]` segments (bit 0 of flags: responder side, bit 1: a
//! capture gap), replayed through one connection's analyzer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (records, _counters) = gatewatch_engine::proto::tls::replay_segments(data);
    assert!(records.len() <= 1, "one ssl record per connection");
});
