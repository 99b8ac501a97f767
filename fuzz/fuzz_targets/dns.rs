//! Fuzz the DNS analyzer: byte 0 picks UDP/TCP and mDNS, byte 1 where the
//! originator's bytes end and the responder's begin — the same layout as the
//! seed corpus in crates/engine/tests/corpus/dns (replayed by `cargo test`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gatewatch_engine::proto::dns::analyze_bytes(data);
});
