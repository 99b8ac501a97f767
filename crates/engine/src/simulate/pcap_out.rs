//! Classic pcap output: little-endian, microsecond timestamps, Ethernet link type.
//!
//! A timestamp and a frame in → the 16-byte record header and the frame
//! appended to a caller's buffer. The file header comes first, once.

use crate::time::Timestamp;

pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Snap length the simulator's captures declare (no frame is longer).
pub const DEFAULT_SNAPLEN: u32 = 65_535;

/// The 24-byte pcap global header.
pub fn file_header(snaplen: u32) -> [u8; 24] {
    let mut h = [0u8; 24];
    let fields: [(usize, &[u8]); 6] = [
        (0, &MAGIC_MICROS.to_le_bytes()),
        (4, &2u16.to_le_bytes()),
        (6, &4u16.to_le_bytes()),
        (16, &snaplen.to_le_bytes()),
        (20, &LINKTYPE_ETHERNET.to_le_bytes()),
        (8, &[0u8; 8]),
    ];
    for (at, bytes) in fields {
        if let Some(dst) = h.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
    h
}

/// Appends one record (header + frame) for a packet captured at `ts`.
pub fn append_record(ts: Timestamp, frame: &[u8], out: &mut Vec<u8>) {
    let micros = ts.as_nanos().div_euclid(1000).max(0);
    let secs = (micros / 1_000_000) as u32;
    let usec = (micros % 1_000_000) as u32;
    let len = frame.len() as u32;
    out.reserve(16 + frame.len());
    out.extend_from_slice(&secs.to_le_bytes());
    out.extend_from_slice(&usec.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(frame);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_record_layout() {
        let h = file_header(65_535);
        assert_eq!(&h[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&h[4..8], &[2, 0, 4, 0]);
        assert_eq!(&h[16..20], &65_535u32.to_le_bytes());
        assert_eq!(&h[20..24], &[1, 0, 0, 0]);
        let mut out = Vec::new();
        append_record(Timestamp(1_700_000_000_123_456_789), &[1, 2, 3], &mut out);
        assert_eq!(&out[..4], &1_700_000_000u32.to_le_bytes());
        assert_eq!(&out[4..8], &123_456u32.to_le_bytes());
        assert_eq!(&out[8..16], &[3, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(&out[16..], &[1, 2, 3]);
    }
}
