//! Classic pcap and input handling: hand-built files, one defect per test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod source_support;

use std::io::Write;

use gatewatch_engine::source::{
    read_all, CaptureFormat, CaptureReader, Damage, LinkType, SourceError, MAX_RECORD_LEN,
};
use gatewatch_engine::{Counters, Timestamp};
use source_support::{frame, OneByteReader, Pcap};

type Seen = (Timestamp, Vec<u8>, u32, LinkType);

/// Reads every packet as (ts, data, orig_len, link) plus the final error.
fn collect(bytes: &[u8]) -> (Vec<Seen>, Option<SourceError>) {
    let mut reader = CaptureReader::new(bytes).expect("capture opens");
    let mut out = Vec::new();
    loop {
        match reader.next_packet() {
            Ok(Some(p)) => out.push((p.ts, p.data.to_vec(), p.orig_len, p.link)),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn counter(reader_counters: &impl Counters, name: &str) -> u64 {
    reader_counters
        .to_vec()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no counter {name}"))
        .1
}

fn three_packets() -> Pcap {
    Pcap::new(false, false, 1)
        .packet(1_700_000_000, 1, &frame(1, 60), 60)
        .packet(1_700_000_001, 500_000, &frame(2, 74), 74)
        .packet(1_700_000_002, 999_999, &frame(3, 42), 42)
}

#[test]
fn reads_microsecond_pcap_with_times_lengths_and_offsets() {
    let file = three_packets();
    let mut reader = CaptureReader::new(&file.bytes[..]).expect("opens");
    assert_eq!(reader.format(), CaptureFormat::PcapMicros);
    assert!(!reader.compressed());
    assert_eq!(reader.link_types(), vec![LinkType::ETHERNET]);
    assert_eq!(reader.offset(), 24);
    let p = reader.next_packet().expect("ok").expect("packet");
    assert_eq!(p.ts, Timestamp::from_secs_nanos(1_700_000_000, 1_000));
    assert_eq!(p.data, &frame(1, 60)[..]);
    assert_eq!(
        (p.orig_len, p.link, p.interface),
        (60, LinkType::ETHERNET, 0)
    );
    assert_eq!(reader.offset(), 24 + 16 + 60);
    let p = reader.next_packet().expect("ok").expect("packet");
    assert_eq!(p.ts, Timestamp::from_secs_nanos(1_700_000_001, 500_000_000));
    let p = reader.next_packet().expect("ok").expect("packet");
    assert_eq!(p.ts, Timestamp::from_secs_nanos(1_700_000_002, 999_999_000));
    assert!(reader.next_packet().expect("clean end").is_none());
    assert!(reader.next_packet().expect("stays ended").is_none());
    assert_eq!(reader.offset(), file.bytes.len() as u64);
    let c = reader.counters();
    assert_eq!(
        (c.packets, c.bytes_captured, c.bytes_on_wire),
        (3, 176, 176)
    );
    assert_eq!(c.damaged_tail, 0);
}

#[test]
fn truncated_mid_record_delivers_earlier_packets_and_names_offset() {
    let mut bytes = three_packets().bytes;
    let third_at = 24 + (16 + 60) + (16 + 74);
    bytes.truncate(third_at + 16 + 10); // third record: header and 10 of 42 bytes
    let mut reader = CaptureReader::new(&bytes[..]).expect("opens");
    assert!(reader.next_packet().expect("1").is_some());
    assert!(reader.next_packet().expect("2").is_some());
    let err = reader.next_packet().expect_err("cut third record");
    match &err {
        SourceError::Truncated {
            offset,
            needed,
            available,
            ..
        } => {
            assert_eq!(*offset, third_at as u64);
            assert_eq!((*needed, *available), (58, 26));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        err.to_string().contains(&format!("byte offset {third_at}")),
        "{err}"
    );
    assert!(reader.next_packet().expect("after error").is_none());
    assert_eq!(reader.counters().damaged_tail, 1);
    assert_eq!(reader.counters().packets, 2);
}

#[test]
fn truncated_inside_record_header_is_reported_too() {
    let mut bytes = three_packets().bytes;
    bytes.truncate(24 + 16 + 60 + 5);
    let (packets, err) = collect(&bytes);
    assert_eq!(packets.len(), 1);
    let err = err.expect("cut header");
    assert_eq!(err.offset(), Some(100));
    assert!(err.to_string().contains("record header"), "{err}");
}

#[test]
fn file_header_cut_short_is_an_error_at_offset_zero() {
    let bytes = &three_packets().bytes[..20];
    let err = CaptureReader::new(bytes).expect_err("cut header");
    assert!(
        matches!(err, SourceError::Truncated { offset: 0, .. }),
        "{err:?}"
    );
}

#[test]
fn bad_magic_shows_first_bytes_and_a_hint() {
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00";
    let err = CaptureReader::new(&zip[..]).expect_err("zip");
    let msg = err.to_string();
    assert!(
        msg.contains("50 4b 03 04 14 00 00 00 look like a zip archive"),
        "{msg}"
    );
    assert!(matches!(
        err,
        SourceError::NotACapture {
            inside_gzip: false,
            ..
        }
    ));

    let text = b"#separator \\x09\n#fields\tts\tuid\n";
    let msg = CaptureReader::new(&text[..]).expect_err("text").to_string();
    assert!(
        msg.contains("23 73 65 70") && msg.contains("look like text"),
        "{msg}"
    );

    let short = [0xd4u8, 0xc3];
    let msg = CaptureReader::new(&short[..])
        .expect_err("2 bytes")
        .to_string();
    assert!(msg.contains("d4 c3 are too few"), "{msg}");
}

#[test]
fn zero_length_input_is_empty() {
    assert!(matches!(
        CaptureReader::new(&[][..]),
        Err(SourceError::Empty)
    ));
    assert!(matches!(read_all(&[]), (0, Some(SourceError::Empty))));
}

#[test]
fn snaplen_truncated_packets_keep_wire_length() {
    let file = Pcap::new(false, false, 1)
        .packet(10, 0, &frame(7, 96), 1514)
        .packet(11, 0, &frame(8, 60), 60);
    let mut reader = CaptureReader::new(&file.bytes[..]).expect("opens");
    let p = reader.next_packet().expect("ok").expect("packet");
    assert_eq!((p.data.len(), p.orig_len), (96, 1514));
    assert!(reader.next_packet().expect("ok").is_some());
    let c = reader.counters();
    assert_eq!(c.snaplen_truncated, 1);
    assert_eq!((c.bytes_captured, c.bytes_on_wire), (156, 1574));
}

#[test]
fn captured_length_above_original_is_counted_and_corrected() {
    let file = Pcap::new(false, false, 1).packet(10, 0, &frame(7, 80), 50);
    let mut reader = CaptureReader::new(&file.bytes[..]).expect("opens");
    let p = reader.next_packet().expect("ok").expect("packet");
    assert_eq!((p.data.len(), p.orig_len), (80, 80));
    assert_eq!(
        counter(reader.counters(), "source.caplen_exceeds_origlen"),
        1
    );
}

#[test]
fn record_longer_than_limit_is_damage_not_allocation() {
    let mut file = Pcap::new(false, false, 1).packet(1, 0, &frame(1, 20), 20);
    let bad_at = file.bytes.len() as u64;
    file.record(2, 0, 0xffff_fff0, 0xffff_fff0, &frame(2, 64));
    let (packets, err) = collect(&file.bytes);
    assert_eq!(packets.len(), 1);
    match err {
        Some(SourceError::Damaged {
            offset,
            damage: Damage::RecordTooLong { caplen, limit },
        }) => {
            assert_eq!(
                (offset, caplen, limit),
                (bad_at, 0xffff_fff0, MAX_RECORD_LEN)
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    // Exactly the limit is still a record.
    let big =
        Pcap::new(false, false, 1).packet(1, 0, &vec![0xab; MAX_RECORD_LEN], MAX_RECORD_LEN as u32);
    assert_eq!(read_all(&big.bytes).0, 1);
}

#[test]
fn unknown_link_type_passes_through() {
    let file = Pcap::new(false, false, 147).packet(1, 0, &frame(1, 30), 30);
    let mut reader = CaptureReader::new(&file.bytes[..]).expect("opens");
    assert_eq!(reader.link_types(), vec![LinkType(147)]);
    let p = reader.next_packet().expect("ok").expect("packet");
    assert_eq!(p.link, LinkType(147));
    assert_eq!(p.link.name(), "unknown");
}

#[test]
fn link_type_upper_bits_are_fcs_info_and_ignored() {
    let file = Pcap::new(false, false, 0x1400_0001).packet(1, 0, &frame(1, 30), 30);
    let mut reader = CaptureReader::new(&file.bytes[..]).expect("opens");
    assert_eq!(reader.link_types(), vec![LinkType::ETHERNET]);
    assert_eq!(
        reader.next_packet().expect("ok").expect("packet").link,
        LinkType::ETHERNET
    );
    assert_eq!(reader.counters().linktype_upper_bits, 1);
}

#[test]
fn nanosecond_pcap_keeps_nanoseconds() {
    let file = Pcap::new(false, true, 101).packet(1_600_000_000, 123_456_789, &frame(1, 40), 40);
    let mut reader = CaptureReader::new(&file.bytes[..]).expect("opens");
    assert_eq!(reader.format(), CaptureFormat::PcapNanos);
    let p = reader.next_packet().expect("ok").expect("packet");
    assert_eq!(p.ts.as_nanos(), 1_600_000_000_123_456_789);
    assert_eq!(p.link, LinkType::RAW);
}

#[test]
fn big_endian_pcap_reads_like_little_endian() {
    let be = Pcap::new(true, false, 1)
        .packet(1_700_000_000, 42, &frame(1, 60), 64)
        .packet(1_700_000_005, 43, &frame(2, 61), 61);
    let le = Pcap::new(false, false, 1)
        .packet(1_700_000_000, 42, &frame(1, 60), 64)
        .packet(1_700_000_005, 43, &frame(2, 61), 61);
    assert_ne!(be.bytes, le.bytes);
    let (be_packets, be_err) = collect(&be.bytes);
    let (le_packets, le_err) = collect(&le.bytes);
    assert!(be_err.is_none() && le_err.is_none());
    assert_eq!(be_packets, le_packets);
    assert_eq!(be_packets.len(), 2);
    assert_eq!(be_packets[0].2, 64);
}

#[test]
fn bad_timestamp_fraction_is_clamped_and_counted() {
    let file = Pcap::new(false, false, 1).packet(100, 4_293_562_680, &frame(1, 20), 20);
    let mut reader = CaptureReader::new(&file.bytes[..]).expect("opens");
    let p = reader.next_packet().expect("ok").expect("packet");
    assert_eq!(p.ts, Timestamp::from_secs_nanos(100, 999_999_000));
    assert_eq!(reader.counters().bad_timestamp_fraction, 1);
}

#[test]
fn old_version_swaps_caplen_and_len_like_libpcap() {
    let mut file = Pcap::with_version(false, false, 1, 2, 2);
    // Written as (len, caplen): wire 1514, captured 20.
    file.record(1, 0, 1514, 20, &frame(1, 20));
    let (packets, err) = collect(&file.bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!((packets[0].1.len(), packets[0].2), (20, 1514));
}

#[test]
fn gzip_compressed_pcap_is_unwrapped() {
    let file = three_packets();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&file.bytes).expect("compress");
    let compressed = gz.finish().expect("finish");
    let mut reader = CaptureReader::new(&compressed[..]).expect("opens gzip");
    assert!(reader.compressed());
    assert_eq!(reader.format(), CaptureFormat::PcapMicros);
    let mut n = 0;
    while let Some(p) = reader.next_packet().expect("reads") {
        n += 1;
        assert_eq!(p.data[0], n);
    }
    assert_eq!(n, 3);
    assert_eq!(
        reader.offset(),
        file.bytes.len() as u64,
        "offset counts decompressed bytes"
    );

    // Garbage inside gzip: the hint says the bytes are the decompressed ones.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"hello world, not a capture")
        .expect("compress");
    let err = CaptureReader::new(&gz.finish().expect("finish")[..]).expect_err("text in gzip");
    assert!(matches!(
        err,
        SourceError::NotACapture {
            inside_gzip: true,
            ..
        }
    ));
    assert!(
        err.to_string()
            .contains("gzip-compressed data whose first bytes 68 65 6c 6c"),
        "{err}"
    );

    // A cut gzip stream is a read error with the decompressed offset, after the packets it held.
    let cut = &compressed[..compressed.len() - 12];
    let (n, err) = read_all(cut);
    assert!(n <= 3);
    assert!(err.is_some(), "a cut gzip stream must not end cleanly");
}

#[test]
fn one_byte_reads_give_the_same_packets() {
    let file = three_packets();
    let mut slow = OneByteReader {
        bytes: &file.bytes,
        calls: 0,
    };
    let mut reader = CaptureReader::new(&mut slow).expect("opens");
    let mut got = Vec::new();
    while let Some(p) = reader.next_packet().expect("reads") {
        got.push((p.ts, p.data.to_vec()));
    }
    let (expected, _) = collect(&file.bytes);
    assert_eq!(got.len(), 3);
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!((g.0, &g.1), (e.0, &e.1));
    }
    // Also through gzip, and with a truncated tail.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&file.bytes[..file.bytes.len() - 3])
        .expect("compress");
    let compressed = gz.finish().expect("finish");
    let mut slow = OneByteReader {
        bytes: &compressed,
        calls: 0,
    };
    let mut reader = CaptureReader::new(&mut slow).expect("opens");
    assert!(reader.compressed());
    assert!(reader.next_packet().expect("1").is_some());
    assert!(reader.next_packet().expect("2").is_some());
    let err = reader.next_packet().expect_err("cut");
    assert_eq!(err.offset(), Some(24 + 76 + 90));
}

#[test]
fn io_error_is_reported_with_offset() {
    struct Failing<'a>(&'a [u8]);
    impl std::io::Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let file = three_packets();
    let mut reader = CaptureReader::new(Failing(&file.bytes[..110])).expect("opens");
    assert!(reader.next_packet().expect("1").is_some());
    let err = reader.next_packet().expect_err("read fails");
    assert!(
        matches!(err, SourceError::Io { offset: 100, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("disk on fire"));
}

#[test]
fn modified_pcap_has_24_byte_record_headers() {
    let mut bytes = Pcap::new(false, false, 1).bytes;
    bytes[..4].copy_from_slice(&[0x34, 0xcd, 0xb2, 0xa1]);
    for (sec, data) in [(5u32, frame(1, 30)), (6, frame(2, 31))] {
        for word in [sec, 7, data.len() as u32, data.len() as u32] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        bytes.extend_from_slice(&[0xee; 8]); // ifindex, protocol, pkt_type, padding
        bytes.extend_from_slice(&data);
    }
    let (packets, err) = collect(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(packets.len(), 2);
    assert_eq!(packets[1].0, Timestamp::from_secs_nanos(6, 7_000));
    assert_eq!(packets[1].1, frame(2, 31));
}
