//! Capture input: a byte stream (file, stdin, gzip) in → [`RawPacket`]s out.
//!
//! Detects the format by magic number, never by file name: gzip is unwrapped,
//! then classic pcap (µs or ns, either byte order) or pcapng (several
//! interfaces, EPB/SPB/OPB, `if_tsresol`). A damaged tail ends the stream with
//! a [`SourceError`] that names the byte offset; everything before it was
//! delivered. Limits: [`MAX_RECORD_LEN`] bytes per record.
//!
//! OWNER NOTE: interface fixed by the skeleton; implementation to be filled in.

use crate::time::Timestamp;

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
