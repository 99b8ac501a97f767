//! MQTT analyzer on random and mutated input (never panics, counters move
//! on garbage) and the seed corpus in tests/corpus/mqtt.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on broken fixtures

mod proto_support;

use std::path::Path;

use gatewatch_engine::proto::mqtt::{MqttAnalyzer, MqttCounters};
use gatewatch_engine::Timestamp;
use proptest::prelude::*;
use proto_support::mqtt::{conn, conversation, run};

proptest! {
    #[test]
    fn random_bytes_never_panic(chunks in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..12)) {
        let mut a = MqttAnalyzer::new(conn());
        let mut c = MqttCounters::default();
        let mut out = Vec::new();
        let mut fed = 0;
        for (is_orig, bytes) in &chunks {
            a.on_data(Timestamp::ZERO, *is_orig, bytes, &mut c, &mut out);
            fed += bytes.len();
        }
        a.on_end(Timestamp::ZERO, &mut c, &mut out);
        // Every record stems from a framed packet; every framed packet took at least 2 bytes.
        prop_assert!(out.len() as u64 <= c.packets);
        prop_assert!(c.packets as usize * 2 <= fed);
    }

    #[test]
    fn garbage_is_counted(bytes in proptest::collection::vec(any::<u8>(), 64..400)) {
        // Reserved type 0 in every first byte of a packet: nothing can be read.
        let mut junk = bytes;
        junk[0] &= 0x0f;
        junk[1] = 0;
        let mut a = MqttAnalyzer::new(conn());
        let mut c = MqttCounters::default();
        let mut out = Vec::new();
        a.on_data(Timestamp::ZERO, true, &junk, &mut c, &mut out);
        prop_assert!(c.malformed_reserved_type >= 1);
        prop_assert!(c.malformed_total() >= 1);
    }

    #[test]
    fn mutated_conversations_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        split in 1usize..30,
        gap_at in proptest::option::of(0usize..7),
    ) {
        let mut conv = conversation();
        for (at, byte) in flips {
            let i = at % conv.len();
            let msg = &mut conv[i].1;
            let j = at % msg.len();
            msg[j] = byte;
        }
        let mut a = MqttAnalyzer::new(conn());
        let mut c = MqttCounters::default();
        let mut out = Vec::new();
        for (i, (is_orig, bytes)) in conv.iter().enumerate() {
            if gap_at == Some(i) {
                a.on_gap(*is_orig, 3, &mut c);
            }
            for piece in bytes.chunks(split) {
                a.on_data(Timestamp::ZERO, *is_orig, piece, &mut c, &mut out);
            }
        }
        a.on_end(Timestamp::ZERO, &mut c, &mut out);
        prop_assert!(out.len() as u64 <= c.packets);
    }
}

fn split_directions(bytes: &[u8]) -> (&[u8], &[u8]) {
    let (len, rest) = bytes.split_at(2);
    let n = usize::from(u16::from_be_bytes([len[0], len[1]])).min(rest.len());
    rest.split_at(n)
}

#[test]
fn seed_corpus_replays() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/mqtt");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 3);
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        // Same layout as the fuzz target: big-endian u16 length of the
        // originator's bytes, those, then the responder's.
        let (orig, resp) = split_directions(&bytes);
        let r = run(&[(true, orig.to_vec()), (false, resp.to_vec())]);
        let name = path.file_name().unwrap().to_string_lossy();
        if name.starts_with("ok_") {
            assert!(!r.records.is_empty(), "{name}: no record");
            assert_eq!(r.c.malformed_total(), 0, "{name}: {:?}", r.c);
        } else {
            assert!(r.c.malformed_total() > 0, "{name}: {:?}", r.c);
        }
    }
}
