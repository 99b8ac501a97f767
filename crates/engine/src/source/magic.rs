//! Format detection by magic number, never by file name.
//!
//! In: the first bytes of the (decompressed) stream. Out: the [`Magic`] found,
//! or a short hint naming what the bytes look like instead (zip, text, …) for
//! the error message. No limits apply: at most 8 bytes are looked at.
#![deny(clippy::indexing_slicing)]

/// First two bytes of a gzip member.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How many leading bytes an error message shows.
pub(crate) const SHOWN_BYTES: usize = 8;

/// The container format announced by the first four bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Magic {
    /// Classic pcap.
    Pcap {
        big_endian: bool,
        nanos: bool,
        /// Kuznetzov's "modified" pcap: 24-byte record headers (little-endian only,
        /// as pcap-parser knows it).
        modified: bool,
    },
    /// pcapng section header block (the magic reads the same in both byte orders).
    PcapNg,
}

/// Reads the magic number at the start of `bytes` (needs 4 bytes).
pub(crate) fn detect(bytes: &[u8]) -> Option<Magic> {
    let pcap = |big_endian, nanos, modified| {
        Some(Magic::Pcap {
            big_endian,
            nanos,
            modified,
        })
    };
    match bytes.first_chunk::<4>()? {
        [0xd4, 0xc3, 0xb2, 0xa1] => pcap(false, false, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => pcap(true, false, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => pcap(false, true, false),
        [0xa1, 0xb2, 0x3c, 0x4d] => pcap(true, true, false),
        [0x34, 0xcd, 0xb2, 0xa1] => pcap(false, false, true),
        [0x0a, 0x0d, 0x0d, 0x0a] => Some(Magic::PcapNg),
        _ => None,
    }
}

/// What the first bytes of a non-capture look like, phrased to follow
/// "first bytes 50 4b 03 04 …".
pub(crate) fn hint(bytes: &[u8]) -> &'static str {
    match bytes {
        [] => "(none)",
        [0x50, 0x4b, 0x03, 0x04, ..] => "look like a zip archive: unzip it first",
        [0x1f, 0x8b, ..] => "look like gzip inside gzip: decompress the outer layer first",
        [0x28, 0xb5, 0x2f, 0xfd, ..] => "look like zstd-compressed data: run `zstd -d` first",
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => "look like xz-compressed data: run `xz -d` first",
        [b'B', b'Z', b'h', ..] => "look like bzip2-compressed data: run `bunzip2` first",
        [b'7', b'z', 0xbc, 0xaf, ..] => "look like a 7-Zip archive: extract it first",
        [b's', b'n', b'o', b'o', b'p', 0, ..] => {
            "look like a Solaris snoop capture: convert it with `editcap -F pcap`"
        }
        [0xa1, 0xb2, 0xcd, 0x34, ..] => {
            "look like a big-endian modified pcap, which is not supported: convert it with `editcap -F pcap`"
        }
        [b'%', b'P', b'D', b'F', ..] => "look like a PDF document",
        [0x7f, b'E', b'L', b'F', ..] => "look like an ELF executable",
        _ if bytes.iter().all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace()) => {
            "look like text (a log, CSV or JSON file?), not a binary capture"
        }
        _ if bytes.len() < 4 => "are too few to hold a capture header",
        _ => "match no known capture format",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_all_pcap_variants_and_pcapng() {
        assert_eq!(
            detect(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]),
            Some(Magic::Pcap {
                big_endian: false,
                nanos: false,
                modified: false
            })
        );
        assert_eq!(
            detect(&[0xa1, 0xb2, 0x3c, 0x4d]),
            Some(Magic::Pcap {
                big_endian: true,
                nanos: true,
                modified: false
            })
        );
        assert_eq!(detect(&[0x0a, 0x0d, 0x0d, 0x0a]), Some(Magic::PcapNg));
        assert_eq!(detect(&[0x0a, 0x0d, 0x0d]), None);
        assert_eq!(detect(b"PK\x03\x04"), None);
    }

    #[test]
    fn hints_name_the_likely_content() {
        assert!(hint(b"PK\x03\x04\x14\x00").contains("zip"));
        assert!(hint(b"#separator").contains("text"));
        assert!(hint(&[0x00, 0x01]).contains("too few"));
        assert!(hint(&[0x00, 0x01, 0x02, 0x03, 0x04]).contains("no known"));
    }
}
