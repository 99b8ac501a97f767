//! Counters of the capture reader: what it delivered and what it tolerated.
//!
//! Bumped on the hot path as plain `u64` fields; listed by dotted name
//! (`source.packets`, `source.pcapng_bad_interface_id`, …) through
//! [`Counters`]. Oddities that do not stop reading are counted here; only a
//! damaged tail ends the stream (and bumps `source.damaged_tail`).

use crate::counters::Counters;

/// What the capture reader saw, all counts since the reader was created.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SourceCounters {
    /// Packets delivered.
    pub packets: u64,
    /// Sum of captured lengths of delivered packets.
    pub bytes_captured: u64,
    /// Sum of on-wire lengths of delivered packets.
    pub bytes_on_wire: u64,
    /// Packets whose captured length is below their on-wire length (snaplen).
    pub snaplen_truncated: u64,
    /// Records claiming more captured than on-wire bytes (on-wire taken = captured).
    pub caplen_exceeds_origlen: u64,
    /// Timestamp fractions ≥ one second (clamped to the last tick of the second).
    pub bad_timestamp_fraction: u64,
    /// Classic pcap link-type field with FCS/reserved upper bits set (low 16 bits used).
    pub linktype_upper_bits: u64,
    /// Classic pcap records of old versions with caplen/len swapped (fixed like libpcap).
    pub swapped_lengths: u64,
    /// pcapng section header blocks.
    pub pcapng_sections: u64,
    /// pcapng interface description blocks accepted.
    pub pcapng_interfaces: u64,
    /// pcapng interfaces beyond [`crate::source::MAX_INTERFACES`] per section (ignored).
    pub pcapng_interfaces_over_limit: u64,
    /// pcapng packets naming an undeclared interface (skipped).
    pub pcapng_bad_interface_id: u64,
    /// pcapng `if_tsresol` values out of range (microseconds assumed).
    pub pcapng_bad_tsresol: u64,
    /// pcapng simple packet blocks (no timestamp: the previous packet's is used).
    pub pcapng_simple_packets: u64,
    /// pcapng obsolete packet blocks (type 2).
    pub pcapng_obsolete_packets: u64,
    /// pcapng name-resolution, statistics, secrets, journal, process and custom blocks (skipped).
    pub pcapng_metadata_blocks: u64,
    /// pcapng blocks of an unknown type (skipped).
    pub pcapng_unknown_blocks: u64,
    /// Streams that ended in a damaged or cut record.
    pub damaged_tail: u64,
}

impl Counters for SourceCounters {
    fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
        f("source.packets", self.packets);
        f("source.bytes_captured", self.bytes_captured);
        f("source.bytes_on_wire", self.bytes_on_wire);
        f("source.snaplen_truncated", self.snaplen_truncated);
        f("source.caplen_exceeds_origlen", self.caplen_exceeds_origlen);
        f("source.bad_timestamp_fraction", self.bad_timestamp_fraction);
        f("source.linktype_upper_bits", self.linktype_upper_bits);
        f("source.swapped_lengths", self.swapped_lengths);
        f("source.pcapng_sections", self.pcapng_sections);
        f("source.pcapng_interfaces", self.pcapng_interfaces);
        f(
            "source.pcapng_interfaces_over_limit",
            self.pcapng_interfaces_over_limit,
        );
        f(
            "source.pcapng_bad_interface_id",
            self.pcapng_bad_interface_id,
        );
        f("source.pcapng_bad_tsresol", self.pcapng_bad_tsresol);
        f("source.pcapng_simple_packets", self.pcapng_simple_packets);
        f(
            "source.pcapng_obsolete_packets",
            self.pcapng_obsolete_packets,
        );
        f("source.pcapng_metadata_blocks", self.pcapng_metadata_blocks);
        f("source.pcapng_unknown_blocks", self.pcapng_unknown_blocks);
        f("source.damaged_tail", self.damaged_tail);
    }
}

impl SourceCounters {
    /// Accounts one delivered packet; returns the on-wire length to report
    /// (never below the captured length).
    #[inline]
    pub(crate) fn packet(&mut self, caplen: u32, orig_len: u32) -> u32 {
        let wire = if orig_len < caplen {
            self.caplen_exceeds_origlen += 1;
            caplen
        } else {
            if orig_len > caplen {
                self.snaplen_truncated += 1;
            }
            orig_len
        };
        self.packets += 1;
        self.bytes_captured += u64::from(caplen);
        self.bytes_on_wire += u64::from(wire);
        wire
    }
}
