//! Robustness of the capture reader: random and mutated inputs never panic and
//! always terminate; the seed corpus for the fuzz targets replays here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod source_support;

use std::io::Write;
use std::path::PathBuf;

use gatewatch_engine::source::{read_all, SourceError};
use proptest::prelude::*;
use source_support::{frame, Pcap, PcapNg, OPT_IF_TSRESOL};

/// Every packet consumes at least 16 bytes of the stream (unless gzip expands it).
fn check_progress(bytes: &[u8]) {
    let (packets, _) = read_all(bytes);
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        assert!(
            packets <= bytes.len() as u64 / 16,
            "{packets} packets from {} bytes",
            bytes.len()
        );
    }
}

fn small_pcap() -> Vec<u8> {
    Pcap::new(false, false, 1)
        .packet(1_700_000_000, 5, &frame(1, 40), 40)
        .packet(1_700_000_001, 6, &frame(2, 33), 90)
        .packet(1_700_000_002, 7, &frame(3, 20), 20)
        .bytes
}

fn small_pcapng() -> Vec<u8> {
    PcapNg::new(false)
        .idb(1, 0, &[])
        .idb(113, 0, &[(OPT_IF_TSRESOL, &[9])])
        .epb(0, 1, &frame(1, 40), 40)
        .spb(&frame(2, 30), 30)
        .epb(1, 2, &frame(3, 21), 60)
        .opb(0, 3, &frame(4, 8))
        .block(5, &[0; 12])
        .bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).expect("compress");
    gz.finish().expect("finish")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_progress(&bytes);
    }

    #[test]
    fn random_bodies_behind_each_magic_never_panic(
        magic in 0usize..6,
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let prefix: &[u8] = match magic {
            0 => &[0xd4, 0xc3, 0xb2, 0xa1],
            1 => &[0xa1, 0xb2, 0x3c, 0x4d],
            2 => &[0x34, 0xcd, 0xb2, 0xa1],
            3 => &[0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a],
            4 => &[0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0x1c, 0x1a, 0x2b, 0x3c, 0x4d],
            _ => &[0x1f, 0x8b],
        };
        let mut input = prefix.to_vec();
        input.extend_from_slice(&bytes);
        check_progress(&input);
    }

    #[test]
    fn mutated_pcap_never_panics(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut bytes = small_pcap();
        for (at, value) in flips {
            let i = at % bytes.len();
            bytes[i] = value;
        }
        check_progress(&bytes);
        bytes.truncate(cut % (bytes.len() + 1));
        check_progress(&bytes);
    }

    #[test]
    fn mutated_pcapng_never_panics(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
        big_endian in any::<bool>(),
    ) {
        let mut bytes = if big_endian {
            PcapNg::new(true).idb(1, 0, &[]).epb(0, 1, &frame(1, 40), 40).spb(&frame(2, 9), 9).bytes
        } else {
            small_pcapng()
        };
        for (at, value) in flips {
            let i = at % bytes.len();
            bytes[i] = value;
        }
        check_progress(&bytes);
        bytes.truncate(cut % (bytes.len() + 1));
        check_progress(&bytes);
    }

    #[test]
    fn mutated_gzip_never_panics(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let mut bytes = gzip(&small_pcap());
        for (at, value) in flips {
            let i = 2 + at % (bytes.len() - 2);
            bytes[i] = value;
        }
        let _ = read_all(&bytes);
    }
}

/// Expected outcome of reading a corpus file.
#[derive(Debug, PartialEq, Eq)]
enum Ends {
    Clean,
    Empty,
    NotACapture,
    Truncated,
    Damaged,
}

fn ends(err: &Option<SourceError>) -> Ends {
    match err {
        None => Ends::Clean,
        Some(SourceError::Empty) => Ends::Empty,
        Some(SourceError::NotACapture { .. }) => Ends::NotACapture,
        Some(SourceError::Truncated { .. }) => Ends::Truncated,
        Some(SourceError::Damaged { .. }) => Ends::Damaged,
        Some(SourceError::Io { .. }) => panic!("no I/O errors from memory: {err:?}"),
    }
}

/// The seed corpus: name, bytes, packets read, how reading ends.
fn seed_corpus() -> Vec<(&'static str, Vec<u8>, u64, Ends)> {
    let mut cut = small_pcap();
    cut.truncate(cut.len() - 7);
    let mut huge = Pcap::new(false, false, 1).packet(1, 0, &frame(1, 20), 20);
    huge.record(2, 0, 0x7fff_ffff, 60, &frame(2, 16));
    let absurd = PcapNg::new(false)
        .idb(1, 0, &[])
        .epb(0, 1, &frame(1, 20), 20);
    let absurd_len = absurd.u32_bytes(0xffff_fff0);
    let absurd = absurd
        .raw(&[6, 0, 0, 0])
        .raw(&absurd_len)
        .raw(&[0; 20])
        .bytes;
    let mut two_sections = small_pcapng();
    two_sections.extend(
        PcapNg::new(true)
            .idb(101, 0, &[])
            .epb(0, 9, &frame(9, 28), 28)
            .bytes,
    );
    vec![
        ("pcap_le_us.pcap", small_pcap(), 3, Ends::Clean),
        (
            "pcap_be_ns.pcap",
            Pcap::new(true, true, 113)
                .packet(5, 999_999_999, &frame(5, 50), 60)
                .bytes,
            1,
            Ends::Clean,
        ),
        (
            "pcap_fcs_bits_bad_fraction.pcap",
            Pcap::new(false, false, 0x4000_0000)
                .packet(5, 2_000_000, &frame(5, 30), 30)
                .bytes,
            1,
            Ends::Clean,
        ),
        ("pcap_truncated.pcap", cut, 2, Ends::Truncated),
        ("pcap_huge_caplen.pcap", huge.bytes, 1, Ends::Damaged),
        (
            "pcap_header_only.pcap",
            Pcap::new(false, false, 1).bytes,
            0,
            Ends::Clean,
        ),
        ("pcapng_mixed_blocks.pcapng", small_pcapng(), 4, Ends::Clean),
        ("pcapng_two_sections.pcapng", two_sections, 5, Ends::Clean),
        (
            "pcapng_bad_interface.pcapng",
            PcapNg::new(true)
                .idb(1, 0, &[])
                .epb(3, 1, &frame(1, 20), 20)
                .epb(0, 2, &frame(2, 20), 20)
                .bytes,
            1,
            Ends::Clean,
        ),
        ("pcapng_absurd_length.pcapng", absurd, 1, Ends::Damaged),
        ("pcap_gzip.pcap.gz", gzip(&small_pcap()), 3, Ends::Clean),
        (
            "not_capture_zip.bin",
            b"PK\x03\x04\x14\x00\x00\x00".to_vec(),
            0,
            Ends::NotACapture,
        ),
        (
            "not_capture_text.log",
            b"#separator \\x09\n#fields\tts\n".to_vec(),
            0,
            Ends::NotACapture,
        ),
        ("empty.pcap", Vec::new(), 0, Ends::Empty),
    ]
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/source")
}

#[test]
fn seed_corpus_outcomes_and_committed_copies() {
    let dir = corpus_dir();
    for (name, bytes, packets, end) in seed_corpus() {
        assert!(bytes.len() < 2048, "{name} too big for the corpus");
        let (read, err) = read_all(&bytes);
        assert_eq!((read, ends(&err)), (packets, end), "{name}: {err:?}");
        let committed = std::fs::read(dir.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}; run the ignored test write_seed_corpus"));
        if !name.ends_with(".gz") {
            // The gzip bytes depend on the compressor version; their content is checked above.
            assert_eq!(
                committed, bytes,
                "{name} differs: run the ignored test write_seed_corpus"
            );
        }
    }
}

#[test]
fn every_corpus_file_replays_without_panic() {
    let mut files = 0;
    for entry in std::fs::read_dir(corpus_dir()).expect("corpus dir") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("read corpus file");
        check_progress(&bytes);
        files += 1;
    }
    assert!(files >= seed_corpus().len(), "only {files} corpus files");
}

/// Regenerates tests/corpus/source/ (run after changing `seed_corpus`).
#[test]
#[ignore]
fn write_seed_corpus() {
    let dir = corpus_dir();
    std::fs::create_dir_all(&dir).expect("create corpus dir");
    for (name, bytes, _, _) in seed_corpus() {
        std::fs::write(dir.join(name), bytes).expect("write corpus file");
    }
}
