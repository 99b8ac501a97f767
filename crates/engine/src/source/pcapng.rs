//! pcapng files: sections, interfaces and packet blocks.
//!
//! In: the buffered stream positioned at a section header block. Out: one
//! [`PacketMeta`] per enhanced, simple or obsolete packet block; section and
//! interface blocks update the state, every other block is skipped and
//! counted. Each section (SHB) has its own byte order and interface list.
//! Limits: a block longer than [`MAX_BLOCK_LEN`], a captured length above
//! [`MAX_RECORD_LEN`], or a block whose length fields are inconsistent is a
//! damaged file; at most [`MAX_INTERFACES`] interfaces per section are kept.
//!
//! Section and interface blocks are parsed by pcap-parser. Not used from it:
//! its timestamp helpers (0.17 rejects every power-of-2 `if_tsresol` and
//! reads `if_tsoffset` little-endian in big-endian sections), its EPB parser
//! (allocates an options `Vec` per packet for blocks with options; the fixed
//! 20-byte EPB header is read here instead) and its missing support for the
//! obsolete Packet Block (type 2). Block framing is done here so that a bad
//! length is reported with its offset before any byte of the block is read.
#![deny(clippy::indexing_slicing)]

use std::io::Read;

use pcap_parser::OptionCode;

use super::counters::SourceCounters;
use super::error::{Damage, SourceError};
use super::stream::StreamBuffer;
use super::{
    read_u32s, truncated_or_end, LinkType, PacketMeta, MAX_BLOCK_LEN, MAX_INTERFACES,
    MAX_RECORD_LEN,
};
use crate::time::Timestamp;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const OPB: u32 = 0x0000_0002;
const SPB: u32 = 0x0000_0003;
const NRB: u32 = 0x0000_0004;
const ISB: u32 = 0x0000_0005;
const EPB: u32 = 0x0000_0006;
const SJE: u32 = 0x0000_0009;
const DSB: u32 = 0x0000_000A;
const CB_COPY: u32 = 0x0000_0BAD;
const CB_NO_COPY: u32 = 0x4000_0BAD;
const PIB: u32 = 0x8000_0001;

/// Byte-order magic of a section header, as read in the section's own order.
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// Block type, length, and trailing length.
const BLOCK_FRAME_LEN: usize = 12;
/// Frame plus the fixed 20 bytes of an EPB/OPB (interface, timestamp, lengths).
const PACKET_BLOCK_MIN_LEN: usize = 32;
/// Frame plus the 4-byte original length of an SPB.
const SIMPLE_BLOCK_MIN_LEN: usize = 16;
const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Converts interface timestamp ticks to nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TsScale {
    /// Ticks of 10^-k s with k ≤ 9: multiply by 10^(9-k).
    Mul(u64),
    /// Ticks of 10^-k s with k > 9: divide by 10^(k-9).
    Div(u64),
    /// Ticks of 2^-n s.
    Pow2(u32),
}

impl TsScale {
    const MICROS: TsScale = TsScale::Mul(1000);

    /// From the `if_tsresol` option byte; `None` when out of range.
    fn from_tsresol(resol: u8) -> Option<TsScale> {
        let exp = u32::from(resol & 0x7f);
        if resol & 0x80 != 0 {
            return (exp <= 63).then_some(TsScale::Pow2(exp));
        }
        match exp {
            0..=9 => Some(TsScale::Mul(10u64.pow(9 - exp))),
            10..=19 => Some(TsScale::Div(10u64.pow(exp - 9))),
            _ => None,
        }
    }

    #[inline]
    fn nanos(self, ticks: u64) -> i64 {
        let nanos = match self {
            TsScale::Mul(m) => u128::from(ticks) * u128::from(m),
            TsScale::Div(d) => u128::from(ticks / d),
            TsScale::Pow2(n) => (u128::from(ticks) * u128::from(NANOS_PER_SEC)) >> n,
        };
        i64::try_from(nanos).unwrap_or(i64::MAX)
    }
}

/// One interface description of the current section.
#[derive(Debug, Clone)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    scale: TsScale,
    /// `if_tsoffset` in nanoseconds.
    offset_nanos: i64,
}

/// Section byte order, interfaces of the section, and reader-wide memory.
#[derive(Debug, Default)]
pub(crate) struct NgState {
    big_endian: bool,
    interfaces: Vec<Interface>,
    /// Distinct link types of all interfaces seen, in order of appearance.
    pub(crate) link_types: Vec<LinkType>,
    /// Timestamp given to simple packet blocks, which carry none.
    last_ts: Timestamp,
}

/// What one framed block turned out to be.
enum Step {
    Packet(PacketMeta),
    Skipped,
}

/// Reads the section header block that starts the stream (its magic was seen).
pub(crate) fn read_first_section<R: Read>(
    stream: &mut StreamBuffer<R>,
    state: &mut NgState,
    counters: &mut SourceCounters,
) -> Result<(), SourceError> {
    // The block type is the section header's, so it is consumed (or refused) here.
    next_block(stream, state, counters).map(|_| ())
}

/// Frames blocks until the next packet: `Ok(None)` at a clean end.
pub(crate) fn next_packet<R: Read>(
    stream: &mut StreamBuffer<R>,
    state: &mut NgState,
    counters: &mut SourceCounters,
) -> Result<Option<PacketMeta>, SourceError> {
    loop {
        match next_block(stream, state, counters)? {
            None => return Ok(None),
            Some(Step::Packet(meta)) => return Ok(Some(meta)),
            Some(Step::Skipped) => {}
        }
    }
}

/// Frames and handles one block; packet blocks are left in the buffer for
/// the caller to take, every other block is consumed.
fn next_block<R: Read>(
    stream: &mut StreamBuffer<R>,
    state: &mut NgState,
    counters: &mut SourceCounters,
) -> Result<Option<Step>, SourceError> {
    let at = stream.offset();
    let io = |source| SourceError::Io { offset: at, source };
    let damaged = |damage| SourceError::Damaged { offset: at, damage };
    if !stream.fill(BLOCK_FRAME_LEN).map_err(io)? {
        return truncated_or_end(stream, at, "pcapng block header", BLOCK_FRAME_LEN);
    }
    let Some([raw_type, raw_len, raw_bom]) = read_u32s::<3>(stream.available(), false) else {
        return truncated_or_end(stream, at, "pcapng block header", BLOCK_FRAME_LEN);
    };
    // A section header announces its own byte order; every other block uses its section's.
    let big_endian = if raw_type == SHB {
        match raw_bom {
            BYTE_ORDER_MAGIC => false,
            bom if bom.swap_bytes() == BYTE_ORDER_MAGIC => true,
            bom => return Err(damaged(Damage::BadByteOrderMagic { bom })),
        }
    } else {
        state.big_endian
    };
    let order = |v: u32| if big_endian { v.swap_bytes() } else { v };
    let (block_type, len) = (order(raw_type), order(raw_len));
    if len as usize > MAX_BLOCK_LEN {
        return Err(damaged(Damage::BlockTooLong {
            len,
            limit: MAX_BLOCK_LEN,
        }));
    }
    let block_len = len as usize;
    if block_len < BLOCK_FRAME_LEN || block_len % 4 != 0 {
        return Err(damaged(Damage::BadBlockLength { len }));
    }
    if !stream.fill(block_len).map_err(io)? {
        return Err(SourceError::Truncated {
            offset: at,
            what: "pcapng block",
            needed: block_len as u64,
            available: stream.available().len() as u64,
        });
    }
    let block = stream.available().get(..block_len).unwrap_or_default();
    let trailer = block
        .get(block_len - 4..)
        .and_then(|t| read_u32s::<1>(t, big_endian))
        .map_or(0, |[t]| t);
    if trailer != len {
        return Err(damaged(Damage::BlockLengthMismatch {
            first: len,
            trailer,
        }));
    }
    let step = match block_type {
        SHB => {
            section_header(block, state, counters).map_err(damaged)?;
            Step::Skipped
        }
        IDB => {
            interface_description(block, state, counters).map_err(damaged)?;
            Step::Skipped
        }
        EPB | OPB => packet_block(block, block_type, state, counters).map_err(damaged)?,
        SPB => simple_packet_block(block, state, counters).map_err(damaged)?,
        NRB | ISB | SJE | DSB | CB_COPY | CB_NO_COPY | PIB => {
            counters.pcapng_metadata_blocks += 1;
            Step::Skipped
        }
        _ => {
            counters.pcapng_unknown_blocks += 1;
            Step::Skipped
        }
    };
    if matches!(step, Step::Skipped) {
        stream.consume(block_len);
    }
    Ok(Some(step))
}

/// Starts a new section: byte order from the block, interfaces forgotten.
fn section_header(
    block: &[u8],
    state: &mut NgState,
    counters: &mut SourceCounters,
) -> Result<(), Damage> {
    let shb = match pcap_parser::parse_sectionheaderblock(block) {
        Ok((_, shb)) => shb,
        Err(_) => {
            return Err(Damage::MalformedBlock {
                block: "pcapng section header block",
            })
        }
    };
    if shb.major_version != 1 {
        return Err(Damage::UnsupportedVersion {
            major: shb.major_version,
            minor: shb.minor_version,
        });
    }
    state.big_endian = shb.big_endian();
    state.interfaces.clear();
    counters.pcapng_sections += 1;
    Ok(())
}

/// Adds an interface to the current section (link type, snaplen, time scale).
fn interface_description(
    block: &[u8],
    state: &mut NgState,
    counters: &mut SourceCounters,
) -> Result<(), Damage> {
    let parsed = if state.big_endian {
        pcap_parser::parse_interfacedescriptionblock_be(block)
    } else {
        pcap_parser::parse_interfacedescriptionblock_le(block)
    };
    let Ok((_, idb)) = parsed else {
        return Err(Damage::MalformedBlock {
            block: "pcapng interface description block",
        });
    };
    if state.interfaces.len() >= MAX_INTERFACES {
        counters.pcapng_interfaces_over_limit += 1;
        return Ok(());
    }
    let option = |code: OptionCode| {
        idb.options
            .iter()
            .find(|o| o.code == code)
            .and_then(|o| o.as_bytes().ok())
    };
    let scale = match option(OptionCode::IfTsresol).and_then(|v| v.first().copied()) {
        None => TsScale::MICROS,
        Some(resol) => TsScale::from_tsresol(resol).unwrap_or_else(|| {
            counters.pcapng_bad_tsresol += 1;
            TsScale::MICROS
        }),
    };
    let offset_secs = option(OptionCode::IfTsoffset)
        .and_then(|v| v.first_chunk::<8>().copied())
        .map_or(0, |b| {
            if state.big_endian {
                i64::from_be_bytes(b)
            } else {
                i64::from_le_bytes(b)
            }
        });
    // The link type is 16 bits in an IDB; pcap-parser widens it to i32.
    let link = LinkType(u32::from(idb.linktype.0 as u16));
    state.interfaces.push(Interface {
        link,
        snaplen: idb.snaplen,
        scale,
        offset_nanos: offset_secs.saturating_mul(NANOS_PER_SEC as i64),
    });
    if !state.link_types.contains(&link) && state.link_types.len() < MAX_INTERFACES {
        state.link_types.push(link);
    }
    counters.pcapng_interfaces += 1;
    Ok(())
}

/// Enhanced (type 6) or obsolete (type 2) packet block.
#[inline]
fn packet_block(
    block: &[u8],
    block_type: u32,
    state: &mut NgState,
    counters: &mut SourceCounters,
) -> Result<Step, Damage> {
    let name = if block_type == EPB {
        "pcapng enhanced packet block"
    } else {
        "pcapng obsolete packet block"
    };
    let too_short = Damage::BlockTooShort {
        block: name,
        len: block.len() as u32,
    };
    if block.len() < PACKET_BLOCK_MIN_LEN {
        return Err(too_short);
    }
    let fields = block
        .get(8..)
        .and_then(|b| read_u32s::<5>(b, state.big_endian));
    let Some([first, ts_high, ts_low, caplen, orig_len]) = fields else {
        return Err(too_short);
    };
    let interface = if block_type == EPB {
        first
    } else {
        counters.pcapng_obsolete_packets += 1;
        // Interface id is the first u16 in the section's byte order; drop count follows.
        if state.big_endian {
            first >> 16
        } else {
            first & 0xffff
        }
    };
    if caplen as usize > MAX_RECORD_LEN {
        return Err(Damage::RecordTooLong {
            caplen,
            limit: MAX_RECORD_LEN,
        });
    }
    let room = block.len() - PACKET_BLOCK_MIN_LEN;
    if caplen as usize > room {
        return Err(Damage::CaptureExceedsBlock {
            block: name,
            caplen,
            room,
        });
    }
    let Some(iface) = state.interfaces.get(interface as usize) else {
        counters.pcapng_bad_interface_id += 1;
        return Ok(Step::Skipped);
    };
    let ticks = (u64::from(ts_high) << 32) | u64::from(ts_low);
    let ts = Timestamp(iface.scale.nanos(ticks).saturating_add(iface.offset_nanos));
    state.last_ts = ts;
    let orig_len = counters.packet(caplen, orig_len);
    Ok(Step::Packet(PacketMeta {
        ts,
        orig_len,
        link: iface.link,
        interface,
        record_len: block.len(),
        data_start: 28,
        data_len: caplen as usize,
    }))
}

/// Simple packet block: interface 0, no timestamp, captured length implied.
fn simple_packet_block(
    block: &[u8],
    state: &NgState,
    counters: &mut SourceCounters,
) -> Result<Step, Damage> {
    let fields = block
        .get(8..)
        .and_then(|b| read_u32s::<1>(b, state.big_endian));
    let (Some([orig_len]), true) = (fields, block.len() >= SIMPLE_BLOCK_MIN_LEN) else {
        return Err(Damage::BlockTooShort {
            block: "pcapng simple packet block",
            len: block.len() as u32,
        });
    };
    counters.pcapng_simple_packets += 1;
    let Some(iface) = state.interfaces.first() else {
        counters.pcapng_bad_interface_id += 1;
        return Ok(Step::Skipped);
    };
    let room = block.len() - SIMPLE_BLOCK_MIN_LEN;
    let mut caplen = room.min(orig_len as usize);
    if iface.snaplen != 0 {
        caplen = caplen.min(iface.snaplen as usize);
    }
    // caplen ≤ room < MAX_BLOCK_LEN fits in u32.
    let caplen_u32 = caplen as u32;
    if caplen > MAX_RECORD_LEN {
        return Err(Damage::RecordTooLong {
            caplen: caplen_u32,
            limit: MAX_RECORD_LEN,
        });
    }
    let orig_len = counters.packet(caplen_u32, orig_len);
    Ok(Step::Packet(PacketMeta {
        ts: state.last_ts,
        orig_len,
        link: iface.link,
        interface: 0,
        record_len: block.len(),
        data_start: 12,
        data_len: caplen,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsresol_powers_of_ten_and_two() {
        assert_eq!(TsScale::from_tsresol(6), Some(TsScale::Mul(1000)));
        assert_eq!(TsScale::from_tsresol(9), Some(TsScale::Mul(1)));
        assert_eq!(TsScale::from_tsresol(12), Some(TsScale::Div(1000)));
        assert_eq!(TsScale::from_tsresol(20), None);
        assert_eq!(TsScale::from_tsresol(0x80 | 10), Some(TsScale::Pow2(10)));
        assert_eq!(TsScale::Pow2(10).nanos(1024 * 3), 3 * 1_000_000_000);
        assert_eq!(TsScale::Div(1000).nanos(5_000_123), 5_000);
        assert_eq!(TsScale::Mul(1).nanos(u64::MAX), i64::MAX);
    }
}
