//! Properties of the TLS analyzer (random and mutated input never panics,
//! counters move on garbage, split points do not change the record) and the
//! seed corpus in `tests/corpus/tls/` replayed through
//! `proto::tls::replay_segments`, the fuzz target's entry point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod tls_support;

use std::path::PathBuf;

use gatewatch_engine::proto::tls::{cert, replay_segments, SslRecord, TlsAnalyzer, TlsCounters};
use proptest::prelude::*;
use tls_support::*;

/// Feeds (direction, bytes) messages, each cut at the given split points.
fn run_split(msgs: &[(bool, Vec<u8>)], cuts: &[usize]) -> (Vec<SslRecord>, TlsCounters) {
    let mut a = TlsAnalyzer::new(conn());
    let mut c = TlsCounters::default();
    let mut out = Vec::new();
    let mut cut = cuts.iter().cycle();
    for (is_orig, bytes) in msgs {
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let n = (cut.next().copied().unwrap_or(1) % 97 + 1).min(rest.len());
            a.on_data(ts(0), *is_orig, &rest[..n], &mut c, &mut out);
            rest = &rest[n..];
        }
    }
    a.on_end(ts(1), &mut c, &mut out);
    (out, c)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_segments_never_panic(
        segments in prop::collection::vec((any::<bool>(), prop::collection::vec(any::<u8>(), 0..300)), 0..20),
        dtls in any::<bool>(),
    ) {
        let mut a = TlsAnalyzer::new(conn());
        let mut c = TlsCounters::default();
        let mut out = Vec::new();
        if dtls {
            a.on_data(ts(0), true, &[22, 0xfe, 0xfd], &mut c, &mut out);
        }
        for (is_orig, bytes) in &segments {
            a.on_data(ts(0), *is_orig, bytes, &mut c, &mut out);
        }
        a.on_end(ts(1), &mut c, &mut out);
        prop_assert!(out.len() <= 1);
    }

    #[test]
    fn garbage_first_bytes_are_counted_as_not_tls(
        first in 25u8..=127,
        rest in prop::collection::vec(any::<u8>(), 4..200),
    ) {
        let mut a = TlsAnalyzer::new(conn());
        let mut c = TlsCounters::default();
        let mut out = Vec::new();
        let data = [&[first][..], &rest].concat();
        a.on_data(ts(0), true, &data, &mut c, &mut out);
        a.on_end(ts(1), &mut c, &mut out);
        prop_assert_eq!(c.not_tls, 1);
        prop_assert!(out.is_empty());
    }

    #[test]
    fn mutated_connections_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut_at in any::<prop::sample::Index>(),
        cuts in prop::collection::vec(0usize..200, 1..10),
    ) {
        let mut msgs = tls12_connection();
        for (idx, byte) in &flips {
            let m = idx.index(msgs.len());
            let len = msgs[m].1.len();
            let at = idx.index(len);
            msgs[m].1[at] = *byte;
        }
        let m = cut_at.index(msgs.len());
        let keep = cut_at.index(msgs[m].1.len() + 1);
        msgs[m].1.truncate(keep);
        let (out, _) = run_split(&msgs, &cuts);
        prop_assert!(out.len() <= 1);
    }

    #[test]
    fn mutated_certificates_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        keep in any::<prop::sample::Index>(),
    ) {
        let mut der = LEAF.to_vec();
        for (idx, byte) in &flips {
            let at = idx.index(der.len());
            der[at] = *byte;
        }
        der.truncate(keep.index(der.len() + 1));
        if let Ok(leaf) = cert::parse_leaf(&der) {
            prop_assert!(leaf.subject.len() <= cert::MAX_NAME_LEN);
        }
        prop_assert_eq!(cert::sha256_fingerprint(&der).len(), 64);
    }

    #[test]
    fn split_points_do_not_change_the_record(cuts in prop::collection::vec(0usize..200, 1..12)) {
        let msgs = tls12_connection();
        let (whole, _) = run_split(&msgs, &[usize::MAX - 1]);
        let (split, c) = run_split(&msgs, &cuts);
        prop_assert_eq!(split.len(), 1);
        prop_assert_eq!(&whole[0], &split[0]);
        prop_assert_eq!(c.malformed_records + c.handshake_interleaved, 0);
    }
}

// ---------- seed corpus ----------

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/tls")
}

/// Encodes messages in the replay format: `[flags, len_hi, len_lo, bytes]`.
fn segments(msgs: &[(bool, Vec<u8>)]) -> Vec<u8> {
    let mut v = Vec::new();
    for (is_orig, bytes) in msgs {
        v.push(u8::from(!is_orig));
        v.extend_from_slice(&u16b(bytes.len() as u16));
        v.extend_from_slice(bytes);
    }
    v
}

/// The seed corpus: file name and the exchange it holds.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let tls13_sh = server_hello_body(
        0x0303,
        &[],
        0x1301,
        &[ext(43, &[3, 4]), ext(51, &[0, 29, 0, 1, 9])],
    );
    let mut v2 = vec![0x80, 0, 1, 3, 1, 0, 3, 0, 0, 0, 16, 0, 0, 0x2f];
    v2.extend([0x42; 16]);
    v2[1] = (v2.len() - 2) as u8;
    let mut dtls_hello = vec![22, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut ch = u16b(0xfeff).to_vec();
    ch.extend([0x11; 32]);
    ch.extend([0, 0, 0, 2, 0x00, 0x35, 1, 0]);
    let mut frag = vec![1];
    frag.extend(u24b(ch.len()));
    frag.extend([0, 0, 0, 0, 0]);
    frag.extend(u24b(ch.len()));
    frag.extend(&ch);
    dtls_hello.extend(u16b(frag.len() as u16));
    dtls_hello.extend(frag);
    let hello = record(22, &chrome_like_hello());
    vec![
        ("tls12_full.bin", segments(&tls12_connection())),
        (
            "tls13_compat.bin",
            segments(&[
                (true, hello.clone()),
                (
                    false,
                    [
                        record(22, &handshake(2, &tls13_sh)),
                        record(20, &[1]),
                        record(23, &[1; 40]),
                    ]
                    .concat(),
                ),
                (true, [record(20, &[1]), record(23, &[2; 40])].concat()),
            ]),
        ),
        (
            "sslv2_hello.bin",
            segments(&[
                (true, v2),
                (
                    false,
                    record(
                        22,
                        &handshake(2, &server_hello_body(0x0301, &[], 0x2f, &[])),
                    ),
                ),
            ]),
        ),
        ("dtls10_hello.bin", segments(&[(true, dtls_hello)])),
        (
            "not_tls.bin",
            segments(&[(true, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec())]),
        ),
        ("gap_in_hello.bin", {
            let mut s = segments(&[(true, hello[..40].to_vec())]);
            s.extend([2, 0, 10]);
            s.extend(segments(&[(true, hello[50..].to_vec())]));
            s
        }),
        (
            "cut_hello.bin",
            segments(&[(true, hello[..hello.len() - 30].to_vec())]),
        ),
    ]
}

/// Rewrites the corpus files (run after changing `corpus()`).
#[test]
#[ignore = "writes tests/corpus/tls; run with --ignored to regenerate"]
fn write_seed_corpus() {
    for (name, bytes) in corpus() {
        assert!(bytes.len() < 2048, "{name} is {} bytes", bytes.len());
        std::fs::write(corpus_dir().join(name), bytes).unwrap();
    }
}

#[test]
fn seed_corpus_replays_to_expected_records() {
    let expected: [(&str, Option<&str>); 7] = [
        ("tls12_full.bin", Some("CsxknGIi")),
        ("tls13_compat.bin", Some("CsiI")),
        ("sslv2_hello.bin", Some("Cs")),
        ("dtls10_hello.bin", Some("C")),
        ("not_tls.bin", None),
        ("gap_in_hello.bin", None),
        ("cut_hello.bin", None),
    ];
    for ((name, history), (gen_name, bytes)) in expected.iter().zip(corpus()) {
        assert_eq!(*name, gen_name);
        let on_disk = std::fs::read(corpus_dir().join(name))
            .expect("corpus file (regenerate with --ignored)");
        assert_eq!(on_disk, bytes, "{name} differs from its generator");
        let (records, c) = replay_segments(&on_disk);
        assert_eq!(
            records.first().map(|r| r.ssl_history.as_str()),
            *history,
            "{name}"
        );
        if name.starts_with("dtls") {
            assert_eq!(
                records[0].ja4.as_deref().map(|j| &j[..10]),
                Some("dd1i010000")
            );
            assert_eq!(c.dtls_datagrams, 1);
        }
    }
    let (records, c) =
        replay_segments(&std::fs::read(corpus_dir().join("gap_in_hello.bin")).unwrap());
    assert!(records.is_empty());
    assert_eq!(c.gaps_lost_sync, 1);
}

#[test]
fn replay_handles_cut_segment_headers() {
    let full = std::fs::read(corpus_dir().join("tls12_full.bin")).unwrap();
    for len in [0, 1, 2, 3, 4, 100, full.len() - 1] {
        let (records, _) = replay_segments(&full[..len]);
        assert!(records.len() <= 1);
    }
}
