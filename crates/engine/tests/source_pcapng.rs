//! pcapng: interfaces, time resolutions, block kinds, sections and damage.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod source_support;

use gatewatch_engine::source::{
    read_all, CaptureFormat, CaptureReader, Damage, LinkType, SourceError, MAX_BLOCK_LEN,
};
use gatewatch_engine::Timestamp;
use source_support::{frame, OneByteReader, PcapNg, OPT_IF_TSOFFSET, OPT_IF_TSRESOL};

type Seen = (Timestamp, Vec<u8>, u32, LinkType, u32);

fn collect(bytes: &[u8]) -> (Vec<Seen>, Option<SourceError>, CaptureReader<&[u8]>) {
    let mut reader = CaptureReader::new(bytes).expect("capture opens");
    let mut out = Vec::new();
    let err = loop {
        match reader.next_packet() {
            Ok(Some(p)) => out.push((p.ts, p.data.to_vec(), p.orig_len, p.link, p.interface)),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    (out, err, reader)
}

const T0: i64 = 1_700_000_000;

/// Two interfaces: Ethernet in microseconds, Linux SLL in nanoseconds.
fn two_interfaces(be: bool) -> PcapNg {
    PcapNg::new(be)
        .idb(1, 65535, &[])
        .idb(113, 262144, &[(OPT_IF_TSRESOL, &[9])])
        .epb(0, (T0 as u64) * 1_000_000 + 250_000, &frame(1, 60), 60)
        .epb(
            1,
            (T0 as u64) * 1_000_000_000 + 123_456_789,
            &frame(2, 45),
            45,
        )
        .epb(0, (T0 as u64 + 1) * 1_000_000, &frame(3, 61), 100)
}

#[test]
fn two_interfaces_with_different_link_types_and_tsresol() {
    for be in [false, true] {
        let file = two_interfaces(be);
        let (packets, err, reader) = collect(&file.bytes);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(reader.format(), CaptureFormat::PcapNg);
        assert_eq!(
            reader.link_types(),
            vec![LinkType::ETHERNET, LinkType::LINUX_SLL]
        );
        assert_eq!(packets.len(), 3);
        assert_eq!(packets[0].0, Timestamp::from_secs_nanos(T0, 250_000_000));
        assert_eq!((packets[0].3, packets[0].4), (LinkType::ETHERNET, 0));
        assert_eq!(packets[1].0, Timestamp::from_secs_nanos(T0, 123_456_789));
        assert_eq!((packets[1].3, packets[1].4), (LinkType::LINUX_SLL, 1));
        assert_eq!(packets[1].1, frame(2, 45), "padding is not data");
        assert_eq!((packets[2].1.len(), packets[2].2), (61, 100));
        let c = reader.counters();
        assert_eq!(
            (c.pcapng_sections, c.pcapng_interfaces, c.snaplen_truncated),
            (1, 2, 1)
        );
        assert_eq!(reader.offset(), file.bytes.len() as u64);
    }
}

#[test]
fn power_of_two_resolution_and_tsoffset() {
    let base = PcapNg::new(true);
    let offset = base.tsoffset(T0);
    // 2^-10 s ticks, plus T0 seconds of offset (big-endian section).
    let file = base
        .idb(
            1,
            0,
            &[(OPT_IF_TSRESOL, &[0x80 | 10]), (OPT_IF_TSOFFSET, &offset)],
        )
        .epb(0, 3 * 1024 + 512, &frame(1, 20), 20);
    let (packets, err, _) = collect(&file.bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        packets[0].0,
        Timestamp::from_secs_nanos(T0 + 3, 500_000_000)
    );
}

#[test]
fn out_of_range_tsresol_is_counted_and_microseconds_assumed() {
    let file = PcapNg::new(false)
        .idb(1, 0, &[(OPT_IF_TSRESOL, &[42])])
        .epb(0, 2_000_000, &frame(1, 20), 20);
    let (packets, _, reader) = collect(&file.bytes);
    assert_eq!(packets[0].0, Timestamp::from_secs_nanos(2, 0));
    assert_eq!(reader.counters().pcapng_bad_tsresol, 1);
}

#[test]
fn epb_with_undeclared_interface_is_counted_and_skipped() {
    let file = PcapNg::new(false)
        .idb(1, 0, &[])
        .epb(0, 1, &frame(1, 20), 20)
        .epb(7, 2, &frame(2, 20), 20)
        .epb(0, 3, &frame(3, 20), 20);
    let (packets, err, reader) = collect(&file.bytes);
    assert!(err.is_none());
    assert_eq!(
        packets.iter().map(|p| p.1[0]).collect::<Vec<_>>(),
        vec![1, 3]
    );
    assert_eq!(reader.counters().pcapng_bad_interface_id, 1);
}

#[test]
fn absurd_block_lengths_are_damage_with_offset() {
    let good = PcapNg::new(false)
        .idb(1, 0, &[])
        .epb(0, 1, &frame(1, 20), 20);
    let at = good.bytes.len() as u64;
    type Expect = fn(&Damage) -> bool;
    let cases: Vec<(u32, Expect)> = vec![
        (0xffff_fff0, |d| matches!(d, Damage::BlockTooLong { .. })),
        ((MAX_BLOCK_LEN + 4) as u32, |d| {
            matches!(d, Damage::BlockTooLong { .. })
        }),
        (8, |d| matches!(d, Damage::BadBlockLength { len: 8 })),
        (33, |d| matches!(d, Damage::BadBlockLength { len: 33 })),
    ];
    for (len, expected) in cases {
        let file = PcapNg::new(false)
            .idb(1, 0, &[])
            .epb(0, 1, &frame(1, 20), 20);
        let len_bytes = file.u32_bytes(len);
        let type_bytes = file.u32_bytes(6);
        let file = file.raw(&type_bytes).raw(&len_bytes).raw(&[0; 64]);
        let (packets, err, reader) = collect(&file.bytes);
        assert_eq!(packets.len(), 1, "len {len}");
        match err {
            Some(SourceError::Damaged { offset, damage }) => {
                assert_eq!(offset, at, "len {len}");
                assert!(expected(&damage), "len {len}: {damage:?}");
            }
            other => panic!("len {len}: unexpected {other:?}"),
        }
        assert_eq!(reader.counters().damaged_tail, 1);
    }
}

#[test]
fn trailing_length_mismatch_and_caplen_beyond_block_are_damage() {
    let mut file = PcapNg::new(false)
        .idb(1, 0, &[])
        .epb(0, 1, &frame(1, 20), 20);
    let last = file.bytes.len() - 4;
    file.bytes[last] ^= 0x40;
    let (packets, err, _) = collect(&file.bytes);
    assert!(packets.is_empty());
    assert!(
        matches!(
            err,
            Some(SourceError::Damaged {
                damage: Damage::BlockLengthMismatch { .. },
                ..
            })
        ),
        "{err:?}"
    );

    let base = PcapNg::new(false).idb(1, 0, &[]);
    let body = base.packet_body(0, 1, 500, 500, &frame(1, 20));
    let (_, err, _) = collect(&base.block(6, &body).bytes);
    assert!(
        matches!(
            err,
            Some(SourceError::Damaged {
                damage: Damage::CaptureExceedsBlock { caplen: 500, .. },
                ..
            })
        ),
        "{err:?}"
    );

    let short = PcapNg::new(false).idb(1, 0, &[]).block(6, &[0; 8]);
    let (_, err, _) = collect(&short.bytes);
    assert!(
        matches!(
            err,
            Some(SourceError::Damaged {
                damage: Damage::BlockTooShort { .. },
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn block_cut_short_is_truncation() {
    let mut file = two_interfaces(false);
    let full = file.bytes.len();
    file.bytes.truncate(full - 30);
    let (packets, err, _) = collect(&file.bytes);
    assert_eq!(packets.len(), 2);
    let err = err.expect("cut");
    assert!(
        matches!(
            err,
            SourceError::Truncated {
                what: "pcapng block",
                ..
            }
        ),
        "{err:?}"
    );
    let last_block_len = 12 + 20 + 64; // 61 data bytes padded to 64
    assert_eq!(err.offset(), Some((full - last_block_len) as u64));
}

#[test]
fn simple_and_obsolete_packet_blocks() {
    let file = PcapNg::new(false)
        .idb(1, 64, &[])
        .epb(0, 5_000_000, &frame(1, 30), 30)
        .spb(&frame(2, 100), 100) // snaplen 64 cuts it
        .spb(&frame(3, 22), 22) // padded to 24 in the block: 22 captured
        .opb(0, 7_000_000, &frame(4, 33));
    let (packets, err, reader) = collect(&file.bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(packets.len(), 4);
    assert_eq!((packets[1].1.len(), packets[1].2), (64, 100));
    assert_eq!(
        packets[1].0,
        Timestamp::from_secs_nanos(5, 0),
        "SPB takes the previous time"
    );
    assert_eq!(packets[2].1, frame(3, 22));
    assert_eq!(packets[3].0, Timestamp::from_secs_nanos(7, 0));
    assert_eq!(packets[3].1, frame(4, 33));
    let c = reader.counters();
    assert_eq!((c.pcapng_simple_packets, c.pcapng_obsolete_packets), (2, 1));
    // SPB before any interface: skipped.
    let orphan = PcapNg::new(false).spb(&frame(1, 8), 8);
    let (packets, _, reader) = collect(&orphan.bytes);
    assert!(packets.is_empty());
    assert_eq!(reader.counters().pcapng_bad_interface_id, 1);
}

#[test]
fn big_endian_obsolete_packet_block_reads_interface_id() {
    let file = PcapNg::new(true)
        .idb(1, 0, &[])
        .idb(101, 0, &[])
        .opb(1, 9, &frame(1, 20));
    let (packets, err, _) = collect(&file.bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!((packets[0].3, packets[0].4), (LinkType::RAW, 1));
}

#[test]
fn metadata_and_unknown_blocks_are_skipped_and_counted() {
    let file = PcapNg::new(false)
        .block(4, &[0; 4]) // NRB
        .idb(1, 0, &[])
        .epb_with_flags(0, 1, &frame(1, 21))
        .block(5, &[0; 12]) // ISB
        .block(10, &[0; 8]) // DSB
        .block(0x0BAD, &[0; 8]) // custom
        .block(0x1234_5678, &[0; 16]) // unknown
        .epb(0, 2, &frame(2, 20), 20);
    let (packets, err, reader) = collect(&file.bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(packets.len(), 2);
    assert_eq!(packets[0].1, frame(1, 21), "options are not data");
    let c = reader.counters();
    assert_eq!((c.pcapng_metadata_blocks, c.pcapng_unknown_blocks), (4, 1));
}

#[test]
fn second_section_resets_interfaces_and_may_change_byte_order() {
    let mut file = PcapNg::new(false)
        .idb(1, 0, &[])
        .epb(0, 1, &frame(1, 20), 20);
    let second = PcapNg::new(true)
        .epb(0, 2, &frame(2, 20), 20)
        .idb(113, 0, &[])
        .epb(0, 3, &frame(3, 20), 20);
    file.bytes.extend_from_slice(&second.bytes);
    let (packets, err, reader) = collect(&file.bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        packets.iter().map(|p| (p.1[0], p.3)).collect::<Vec<_>>(),
        vec![(1, LinkType::ETHERNET), (3, LinkType::LINUX_SLL)]
    );
    let c = reader.counters();
    assert_eq!((c.pcapng_sections, c.pcapng_bad_interface_id), (2, 1));
    assert_eq!(
        reader.link_types(),
        vec![LinkType::ETHERNET, LinkType::LINUX_SLL]
    );
}

#[test]
fn damaged_section_header_is_refused_at_open() {
    let mut file = PcapNg::new(false).idb(1, 0, &[]);
    file.bytes[8..12].copy_from_slice(&[1, 2, 3, 4]);
    let err = CaptureReader::new(&file.bytes[..]).expect_err("bad byte-order magic");
    assert!(
        matches!(
            err,
            SourceError::Damaged {
                offset: 0,
                damage: Damage::BadByteOrderMagic { .. }
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("byte-order magic"), "{err}");
    let err = CaptureReader::new(&[0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0][..]).expect_err("cut SHB");
    assert!(
        matches!(err, SourceError::Truncated { offset: 0, .. }),
        "{err:?}"
    );
}

#[test]
fn one_byte_reads_give_the_same_packets() {
    let file = two_interfaces(true);
    let mut slow = OneByteReader {
        bytes: &file.bytes,
        calls: 0,
    };
    let mut reader = CaptureReader::new(&mut slow).expect("opens");
    let mut got = Vec::new();
    while let Some(p) = reader.next_packet().expect("reads") {
        got.push((p.ts, p.data.to_vec(), p.orig_len, p.link, p.interface));
    }
    let (expected, _, _) = collect(&file.bytes);
    assert_eq!(got, expected);
    let (n, err) = read_all(&file.bytes);
    assert_eq!(n, 3);
    assert!(err.is_none());
}

#[test]
fn packet_longer_than_record_limit_inside_a_legal_block_is_damage() {
    use gatewatch_engine::source::MAX_RECORD_LEN;
    let data = vec![0x5a; MAX_RECORD_LEN + 100];
    assert!(data.len() + 32 <= MAX_BLOCK_LEN);
    let epb = PcapNg::new(false)
        .idb(1, 0, &[])
        .epb(0, 1, &data, data.len() as u32);
    let (packets, err, _) = collect(&epb.bytes);
    assert!(packets.is_empty());
    assert!(
        matches!(
            err,
            Some(SourceError::Damaged {
                damage: Damage::RecordTooLong { .. },
                ..
            })
        ),
        "{err:?}"
    );
    let spb = PcapNg::new(false)
        .idb(1, 0, &[])
        .spb(&data, data.len() as u32);
    let (_, err, _) = collect(&spb.bytes);
    assert!(
        matches!(
            err,
            Some(SourceError::Damaged {
                damage: Damage::RecordTooLong { .. },
                ..
            })
        ),
        "{err:?}"
    );
    // A snaplen below the limit makes the same SPB legal: the capture is cut to it.
    let spb = PcapNg::new(false)
        .idb(1, 1000, &[])
        .spb(&data, data.len() as u32);
    let (packets, err, _) = collect(&spb.bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(packets[0].1.len(), 1000);
}
