//! Capture input: a byte stream (file, stdin, gzip) in → [`RawPacket`]s out.
//!
//! Detects the format by magic number, never by file name: gzip is unwrapped,
//! then classic pcap (µs or ns, either byte order) or pcapng (several
//! interfaces, EPB/SPB/OPB, `if_tsresol`). A damaged tail ends the stream with
//! a [`SourceError`] that names the byte offset; everything before it was
//! delivered. Limits: [`MAX_RECORD_LEN`] bytes per record.
//!
//! Entry points: [`CaptureReader`] for streams, [`read_all`] for fuzzing.
#![deny(clippy::indexing_slicing)]

use crate::time::Timestamp;

mod counters;
mod error;
mod magic;
mod pcap;
mod pcapng;
mod reader;
mod stream;

pub use counters::SourceCounters;
pub use error::{Damage, SourceError};
pub use reader::CaptureReader;
pub use stream::{BUFFER_LIMIT, INITIAL_BUFFER_LEN};

/// Largest pcapng block accepted: a maximal record plus room for its options.
pub const MAX_BLOCK_LEN: usize = MAX_RECORD_LEN + 64 * 1024;

/// Interfaces kept per pcapng section; further IDBs are ignored
/// (counter: `source.pcapng_interfaces_over_limit`) and packets naming them skipped.
pub const MAX_INTERFACES: usize = 1024;

/// Reads a whole capture held in memory: the packets read and the error that
/// ended it, if any. Entry point for fuzzing; never panics, always terminates
/// (every packet consumes at least 16 bytes of the stream).
pub fn read_all(bytes: &[u8]) -> (u64, Option<SourceError>) {
    let mut reader = match CaptureReader::new(bytes) {
        Ok(reader) => reader,
        Err(e) => return (0, Some(e)),
    };
    let mut packets = 0;
    loop {
        match reader.next_packet() {
            Ok(Some(_)) => packets += 1,
            Ok(None) => return (packets, None),
            Err(e) => return (packets, Some(e)),
        }
    }
}

/// Where a packet found by a record parser lies in the stream buffer, and
/// what its record said. Consumed by [`CaptureReader`] to build a [`RawPacket`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct PacketMeta {
    pub(crate) ts: Timestamp,
    pub(crate) orig_len: u32,
    pub(crate) link: LinkType,
    pub(crate) interface: u32,
    /// Bytes of the whole record (header, data, padding, options).
    pub(crate) record_len: usize,
    /// Offset of the packet data inside the record.
    pub(crate) data_start: usize,
    pub(crate) data_len: usize,
}

/// The first `N` 32-bit words of `bytes` in the given byte order.
#[inline]
pub(crate) fn read_u32s<const N: usize>(bytes: &[u8], big_endian: bool) -> Option<[u32; N]> {
    let mut out = [0u32; N];
    let mut words = bytes.chunks_exact(4);
    for slot in &mut out {
        let word: [u8; 4] = words.next()?.try_into().ok()?;
        *slot = if big_endian {
            u32::from_be_bytes(word)
        } else {
            u32::from_le_bytes(word)
        };
    }
    Some(out)
}

/// At a record boundary: a clean end when no byte is left, else a cut record.
#[cold]
pub(crate) fn truncated_or_end<R: std::io::Read, T>(
    stream: &stream::StreamBuffer<R>,
    offset: u64,
    what: &'static str,
    needed: usize,
) -> Result<Option<T>, SourceError> {
    match stream.available().len() {
        0 => Ok(None),
        available => Err(SourceError::Truncated {
            offset,
            what,
            needed: needed as u64,
            available: available as u64,
        }),
    }
}

/// Largest capture record accepted; a longer length field is a damaged file.
pub const MAX_RECORD_LEN: usize = 256 * 1024;

/// A link-layer type (LINKTYPE_* numbers as in pcap / pcapng).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const PPP: LinkType = LinkType(9);
    pub const RAW: LinkType = LinkType(101);
    pub const CHDLC: LinkType = LinkType(104);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const PPI: LinkType = LinkType(192);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// Short name as Wireshark prints it (`ether`, `linux-sll`, …).
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "null",
            1 => "ether",
            9 => "ppp",
            101 => "rawip",
            104 => "chdlc",
            108 => "loop",
            113 => "linux-sll",
            192 => "ppi",
            195 => "wpan",
            228 => "ipv4",
            229 => "ipv6",
            276 => "linux-sll2",
            _ => "unknown",
        }
    }
}

/// One captured packet as read from the file, bytes borrowed from the reader.
#[derive(Debug, Clone, Copy)]
pub struct RawPacket<'a> {
    pub ts: Timestamp,
    /// Captured bytes (may be shorter than `orig_len` when snaplen cut it).
    pub data: &'a [u8],
    /// Length of the packet on the wire.
    pub orig_len: u32,
    pub link: LinkType,
    /// pcapng interface index (0 for classic pcap).
    pub interface: u32,
}

/// Container format found by magic number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    PcapMicros,
    PcapNanos,
    PcapNg,
}

impl CaptureFormat {
    /// Name as people write it: `pcap`, `pcap-nsec`, `pcapng`.
    pub fn name(self) -> &'static str {
        match self {
            CaptureFormat::PcapMicros => "pcap",
            CaptureFormat::PcapNanos => "pcap-nsec",
            CaptureFormat::PcapNg => "pcapng",
        }
    }
}
