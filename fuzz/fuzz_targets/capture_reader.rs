//! Fuzz the capture reader (pcap, pcapng, gzip) with arbitrary files.
//! Seed corpus: crates/engine/tests/corpus/source (replayed by `cargo test`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gatewatch_engine::source::read_all(data);
});
