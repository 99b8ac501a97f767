//! Every capture of ../shared/data read end to end: the packet count must equal
//! the manifest's `packets` column (capinfos), except the known damaged files,
//! which must deliver their readable packets and then report the damaged tail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod source_support;

use std::collections::BTreeMap;
use std::fs::File;

use gatewatch_engine::source::{CaptureFormat, CaptureReader, SourceError};
use gatewatch_engine::Counters;

/// Files whose last record is cut: packets readable before the damage.
const DAMAGED: &[(&str, u64)] = &[
    ("ndpi/pcap/fuzz-2021-10-13.pcap", 1),
    ("ics/MELSEC/melsoft_129_clean.pcap", 2041),
];

struct Outcome {
    packets: u64,
    error: Option<SourceError>,
    format: CaptureFormat,
    links: Vec<u32>,
}

fn read_file(path: &std::path::Path) -> Result<Outcome, SourceError> {
    let file = File::open(path).map_err(|source| SourceError::Io { offset: 0, source })?;
    let mut reader = CaptureReader::new(file)?;
    let mut packets = 0u64;
    let mut last_offset = reader.offset();
    let error = loop {
        match reader.next_packet() {
            Ok(Some(pkt)) => {
                packets += 1;
                assert!(pkt.data.len() as u64 <= u64::from(pkt.orig_len));
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
        assert!(
            reader.offset() > last_offset,
            "no progress in {}",
            path.display()
        );
        last_offset = reader.offset();
    };
    assert!(
        matches!(reader.next_packet(), Ok(None)),
        "stream must stay finished"
    );
    assert_eq!(reader.counters().packets, packets);
    Ok(Outcome {
        packets,
        error,
        format: reader.format(),
        links: reader.link_types().iter().map(|l| l.0).collect(),
    })
}

#[test]
fn every_shared_capture_reads_its_manifest_packet_count() {
    let Some(data) = source_support::shared_data() else {
        return;
    };
    let manifest = std::fs::read_to_string(data.join("MANIFEST.tsv")).expect("manifest");
    let mut files = 0u64;
    let mut total_packets = 0u64;
    let mut formats: BTreeMap<String, u64> = BTreeMap::new();
    let mut links: BTreeMap<u32, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(path), Some(expected)) = (cols.first(), cols.get(3)) else {
            continue;
        };
        let Ok(expected) = expected.parse::<u64>() else {
            continue; // not a capture
        };
        files += 1;
        let outcome = match read_file(&data.join(path)) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{path}: cannot open: {e}"));
                continue;
            }
        };
        total_packets += outcome.packets;
        *formats.entry(format!("{:?}", outcome.format)).or_default() += 1;
        for l in &outcome.links {
            *links.entry(*l).or_default() += 1;
        }
        let damaged = DAMAGED.iter().find(|(p, _)| p == path);
        match (damaged, &outcome.error) {
            (Some((_, readable)), Some(e)) => {
                if outcome.packets != *readable || e.offset().is_none() {
                    failures.push(format!("{path}: {} packets then {e}", outcome.packets));
                }
                println!(
                    "known damaged tail: {path}: {} packets, then: {e}",
                    outcome.packets
                );
            }
            (Some(_), None) => failures.push(format!("{path}: damaged tail not reported")),
            (None, Some(e)) => {
                failures.push(format!("{path}: {} packets, then {e}", outcome.packets))
            }
            (None, None) => {
                if outcome.packets != expected {
                    failures.push(format!(
                        "{path}: {} packets, manifest says {expected}",
                        outcome.packets
                    ));
                }
            }
        }
    }
    println!("read {files} capture files, {total_packets} packets; formats {formats:?}; link types (files) {links:?}");
    assert!(
        files > 800,
        "manifest lists {files} captures, expected > 800"
    );
    assert!(
        failures.is_empty(),
        "{} files disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn fuzz_2021_10_13_is_tolerated_like_libpcap() {
    let Some(data) = source_support::shared_data() else {
        return;
    };
    let file = File::open(data.join("ndpi/pcap/fuzz-2021-10-13.pcap")).expect("open");
    let mut reader = CaptureReader::new(file).expect("valid header");
    assert_eq!(reader.format(), CaptureFormat::PcapNanos);
    let pkt = reader
        .next_packet()
        .expect("first record")
        .expect("one packet");
    // Version 2.0 file: caplen and len are swapped, as libpcap reads them.
    assert_eq!(pkt.data.len(), 197);
    assert_eq!(pkt.link.0, 0, "low 16 bits of 0x40000000");
    // Fraction 1882137472 ns ≥ 1 s: clamped into the second.
    assert_eq!(pkt.ts.as_nanos(), 980_658_802 * 1_000_000_000 + 999_999_999);
    let err = reader.next_packet().expect_err("cut second record");
    assert_eq!(err.offset(), Some(24 + 16 + 197));
    assert!(err.to_string().contains("offset 237"), "{err}");
    let c = reader.counters().to_vec();
    let get = |name: &str| c.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    assert_eq!(get("source.bad_timestamp_fraction"), Some(1));
    assert_eq!(get("source.linktype_upper_bits"), Some(1));
    assert_eq!(get("source.swapped_lengths"), Some(1));
    assert_eq!(get("source.damaged_tail"), Some(1));
}
