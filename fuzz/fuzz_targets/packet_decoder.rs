//! Fuzz the packet decoder: the first 4 bytes pick the link type (little
//! endian), the rest is the frame — the same layout as the seed corpus in
//! crates/engine/tests/corpus/decode (replayed by `cargo test`).
#![no_main]
use gatewatch_engine::source::LinkType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((head, frame)) = data.split_first_chunk::<4>() {
        let link = LinkType(u32::from_le_bytes(*head) % 300);
        let _ = gatewatch_engine::decode::decode_bytes(link, frame);
    }
});
