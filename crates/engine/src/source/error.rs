//! Why a capture stream could not be read (further).
//!
//! In: what the readers found wrong. Out: [`SourceError`], whose message names
//! the byte offset in the (decompressed) stream and says what the user can do.
//! A damaged tail is not fatal for the packets before it: they were delivered.

use std::fmt::Write as _;

/// The capture could not be opened, or its remainder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The input holds no bytes at all (after gzip decompression, if any).
    #[error("empty input: 0 bytes where a pcap or pcapng capture was expected")]
    Empty,

    /// The first bytes are no pcap or pcapng magic number.
    #[error(
        "not a pcap or pcapng file ({}first bytes {} {}); give a capture written by tcpdump, \
         Wireshark or dumpcap (pcap, pcapng, optionally gzip-compressed)",
        if *.inside_gzip { "gzip-compressed data whose " } else { "" },
        hex_bytes(.first_bytes),
        crate::source::magic::hint(.first_bytes)
    )]
    NotACapture {
        /// Up to the first 8 bytes of the (decompressed) input.
        first_bytes: Vec<u8>,
        /// The input was gzip: the bytes shown are the decompressed ones.
        inside_gzip: bool,
    },

    /// The stream ends inside a header or record.
    #[error(
        "capture cut short at byte offset {offset}: the {what} needs {needed} bytes but only \
         {available} remain; the packets before it were read, the partial record is dropped"
    )]
    Truncated {
        /// Offset of the first byte of the cut record.
        offset: u64,
        /// Which structure was cut (`pcap record`, `pcapng block`, …).
        what: &'static str,
        needed: u64,
        available: u64,
    },

    /// A header or record is inconsistent; reading stops there.
    #[error(
        "damaged capture at byte offset {offset}: {damage}; the packets before it were read, \
         the rest of the stream is skipped"
    )]
    Damaged {
        /// Offset of the first byte of the damaged record or block.
        offset: u64,
        damage: Damage,
    },

    /// The underlying reader (file, pipe, gzip decoder) failed.
    #[error("read error at byte offset {offset} of the capture stream: {source}")]
    Io {
        /// Bytes of the (decompressed) stream consumed before the failure.
        offset: u64,
        #[source]
        source: std::io::Error,
    },
}

impl SourceError {
    /// Byte offset in the (decompressed) stream the error refers to, if any.
    pub fn offset(&self) -> Option<u64> {
        match self {
            SourceError::Empty | SourceError::NotACapture { .. } => None,
            SourceError::Truncated { offset, .. }
            | SourceError::Damaged { offset, .. }
            | SourceError::Io { offset, .. } => Some(*offset),
        }
    }
}

/// What exactly is wrong with a damaged header, record or block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Damage {
    #[error("captured length {caplen} exceeds the limit of {limit} bytes per record")]
    RecordTooLong { caplen: u32, limit: usize },
    #[error("pcapng block length {len} is not a multiple of 4 or below the 12-byte minimum")]
    BadBlockLength { len: u32 },
    #[error("pcapng block length {len} exceeds the limit of {limit} bytes")]
    BlockTooLong { len: u32, limit: usize },
    #[error("pcapng block length {first} disagrees with its trailing copy {trailer}")]
    BlockLengthMismatch { first: u32, trailer: u32 },
    #[error("pcapng section header byte-order magic is {bom:#010x}, expected 0x1a2b3c4d")]
    BadByteOrderMagic { bom: u32 },
    #[error("pcapng section header version {major}.{minor} is not supported (only 1.x)")]
    UnsupportedVersion { major: u16, minor: u16 },
    #[error("{block} of {len} bytes is shorter than its fixed fields")]
    BlockTooShort { block: &'static str, len: u32 },
    #[error("{block} captured length {caplen} does not fit the {room} bytes of the block")]
    CaptureExceedsBlock {
        block: &'static str,
        caplen: u32,
        room: usize,
    },
    #[error("{block} is malformed")]
    MalformedBlock { block: &'static str },
}

/// `50 4b 03 04` for the error message.
fn hex_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}
