//! Classic pcap (libpcap) files: file header and packet records.
//!
//! In: the buffered stream positioned at the 24-byte file header (magic
//! already recognised). Out: one [`PacketMeta`] per record, pointing into the
//! buffer. Limits: a captured length above [`MAX_RECORD_LEN`] is a damaged
//! file. Tolerated and counted: link-type upper bits (FCS info; the low 16
//! bits are the link type), fractions ≥ 1 s (clamped), caplen > len, and the
//! caplen/len swap of files older than version 2.3 (fixed like libpcap does).
//!
//! The file header is parsed by pcap-parser. The record loop is hand-written
//! over [`StreamBuffer`], not pcap-parser's `LegacyPcapReader`: speed is not
//! the reason (measured in `tests/source_throughput.rs` on a page-cached
//! benign.pcap: about 50 M packets/s here, 48 M for pcap-parser's reader), but
//! that reader fails in its constructor when the first `read()` returns fewer
//! than 24 bytes (`Incomplete(3)` with a 1-byte reader: pipes, gzip), loses
//! the `io::Error` of a failed read, and does not fix the caplen/len swap of
//! old files. A record header is four fixed u32 words, read in place.
#![deny(clippy::indexing_slicing)]

use std::io::Read;

use super::counters::SourceCounters;
use super::error::{Damage, SourceError};
use super::stream::StreamBuffer;
use super::{read_u32s, truncated_or_end, LinkType, PacketMeta, MAX_RECORD_LEN};
use crate::time::Timestamp;

/// Size of the classic pcap file header.
const FILE_HEADER_LEN: usize = 24;

/// How the caplen and len fields of a record are ordered (libpcap's
/// `lengths_swapped`): before version 2.3 they were written the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LengthOrder {
    Normal,
    Swapped,
    /// Version 2.3 files were written both ways: swap when caplen > len.
    MaybeSwapped,
}

/// What the file header says about every record.
#[derive(Debug, Clone)]
pub(crate) struct PcapState {
    big_endian: bool,
    /// Nanoseconds per fraction tick (1000 for µs files, 1 for ns files).
    tick_nanos: u32,
    /// Exclusive upper bound of the fraction field.
    fraction_limit: u32,
    record_header_len: usize,
    lengths: LengthOrder,
    pub(crate) link: LinkType,
}

/// Reads and checks the 24-byte file header.
pub(crate) fn read_header<R: Read>(
    stream: &mut StreamBuffer<R>,
    nanos: bool,
    counters: &mut SourceCounters,
) -> Result<PcapState, SourceError> {
    let at = stream.offset();
    let complete = stream
        .fill(FILE_HEADER_LEN)
        .map_err(|source| SourceError::Io { offset: at, source })?;
    if !complete {
        return Err(SourceError::Truncated {
            offset: at,
            what: "pcap file header",
            needed: FILE_HEADER_LEN as u64,
            available: stream.available().len() as u64,
        });
    }
    let header = match pcap_parser::parse_pcap_header(stream.available()) {
        Ok((_, header)) => header,
        Err(_) => {
            return Err(SourceError::Damaged {
                offset: at,
                damage: Damage::MalformedBlock {
                    block: "pcap file header",
                },
            })
        }
    };
    // The field is signed in pcap-parser; its bits are what matter.
    let network = header.network.0 as u32;
    if network > 0xffff {
        counters.linktype_upper_bits += 1;
    }
    let lengths = match (header.version_major, header.version_minor) {
        (2, minor) if minor < 3 => LengthOrder::Swapped,
        (2, 3) => LengthOrder::MaybeSwapped,
        (543, _) => LengthOrder::Swapped, // DG/UX tcpdump, as libpcap knows it
        _ => LengthOrder::Normal,
    };
    stream.consume(FILE_HEADER_LEN);
    Ok(PcapState {
        big_endian: header.is_bigendian(),
        tick_nanos: if nanos { 1 } else { 1000 },
        fraction_limit: if nanos { 1_000_000_000 } else { 1_000_000 },
        record_header_len: if header.is_modified_format() { 24 } else { 16 },
        lengths,
        link: LinkType(network & 0xffff),
    })
}

/// Frames the next record: `Ok(None)` at a clean end of the stream.
#[inline]
pub(crate) fn next_record<R: Read>(
    stream: &mut StreamBuffer<R>,
    state: &PcapState,
    counters: &mut SourceCounters,
) -> Result<Option<PacketMeta>, SourceError> {
    let at = stream.offset();
    let header_len = state.record_header_len;
    let io = |source| SourceError::Io { offset: at, source };
    if !stream.fill(header_len).map_err(io)? {
        return truncated_or_end(stream, at, "pcap record header", header_len);
    }
    let Some([ts_sec, fraction, first_len, second_len]) =
        read_u32s::<4>(stream.available(), state.big_endian)
    else {
        return truncated_or_end(stream, at, "pcap record header", header_len);
    };
    let swap = match state.lengths {
        LengthOrder::Normal => false,
        LengthOrder::Swapped => true,
        LengthOrder::MaybeSwapped => first_len > second_len,
    };
    let (caplen, orig_len) = if swap {
        counters.swapped_lengths += 1;
        (second_len, first_len)
    } else {
        (first_len, second_len)
    };
    if caplen as usize > MAX_RECORD_LEN {
        return Err(SourceError::Damaged {
            offset: at,
            damage: Damage::RecordTooLong {
                caplen,
                limit: MAX_RECORD_LEN,
            },
        });
    }
    let record_len = header_len + caplen as usize;
    if !stream.fill(record_len).map_err(io)? {
        return Err(SourceError::Truncated {
            offset: at,
            what: "pcap record",
            needed: record_len as u64,
            available: stream.available().len() as u64,
        });
    }
    let fraction = if fraction >= state.fraction_limit {
        counters.bad_timestamp_fraction += 1;
        state.fraction_limit - 1
    } else {
        fraction
    };
    let ts = Timestamp::from_secs_nanos(i64::from(ts_sec), fraction * state.tick_nanos);
    let orig_len = counters.packet(caplen, orig_len);
    Ok(Some(PacketMeta {
        ts,
        orig_len,
        link: state.link,
        interface: 0,
        record_len,
        data_start: header_len,
        data_len: caplen as usize,
    }))
}
