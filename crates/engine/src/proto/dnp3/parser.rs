//! DNP3 over TCP/UDP: stream bytes in → link-layer frames (header checked,
//! user-data CRCs verified and stripped) and the transport/application
//! headers at the start of their user data out.
//!
//! A link frame is `05 64 len ctrl dst(le16) src(le16) crc(le16)` followed by
//! `len - 5` user-data bytes sent in blocks of 16 with a CRC after each block.
//! Limits: `len` is one byte, so a frame is at most [`MAX_FRAME_LEN`] bytes;
//! a frame with `len < 5` is invalid. Nothing is allocated.
#![deny(clippy::indexing_slicing)]

use std::borrow::Cow;

/// The two start octets of every link frame.
pub const START: [u8; 2] = [0x05, 0x64];
/// Start, length, control, destination, source and the header CRC.
pub const LINK_HEADER_LEN: usize = 10;
/// Control, destination and source are counted by the length field.
pub const MIN_LINK_LENGTH: u8 = 5;
/// User data per CRC block.
pub const BLOCK_LEN: usize = 16;
/// The largest frame: 250 user-data bytes in 16 blocks, each with its CRC.
pub const MAX_FRAME_LEN: usize = LINK_HEADER_LEN + 250 + 2 * 16;

/// Link control bit: the frame comes from the master.
pub const CONTROL_DIR: u8 = 0x80;
/// Transport header bits.
pub const TRANSPORT_FIN: u8 = 0x80;
pub const TRANSPORT_FIR: u8 = 0x40;

/// The CRC-16/DNP of `data` (polynomial 0x3D65 reflected, complemented),
/// sent little-endian after the bytes it covers.
pub fn crc(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA6BC
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn le16(bytes: &[u8], at: usize) -> Option<u16> {
    let pair = bytes.get(at..at.checked_add(2)?)?;
    let [lo, hi] = <[u8; 2]>::try_from(pair).ok()?;
    Some(u16::from_le_bytes([lo, hi]))
}

/// The fixed link-layer header of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkHeader {
    /// Bytes after the length field, CRCs excluded (control + addresses + user data).
    pub length: u8,
    pub control: u8,
    pub destination: u16,
    pub source: u16,
}

impl LinkHeader {
    /// User-data bytes (transport + application), CRCs excluded.
    pub fn user_data_len(&self) -> usize {
        usize::from(self.length.saturating_sub(MIN_LINK_LENGTH))
    }

    /// Total bytes of the frame on the wire.
    pub fn frame_len(&self) -> usize {
        let user = self.user_data_len();
        LINK_HEADER_LEN + user + 2 * user.div_ceil(BLOCK_LEN)
    }
}

/// Why the bytes at the head of the stream are not a link frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadFrame {
    /// The first two bytes are not `05 64`.
    NoStart,
    /// The header CRC does not match.
    HeaderCrc,
    /// The length field is below 5.
    Length,
}

/// What the head of a stream holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing<'a> {
    /// A complete frame of `len` bytes; `blocks` is its user data with CRCs.
    Frame {
        header: LinkHeader,
        blocks: &'a [u8],
        len: usize,
    },
    Incomplete,
    Bad(BadFrame),
}

/// Frames the link frame at the start of `bytes`.
pub fn frame(bytes: &[u8]) -> Framing<'_> {
    match (bytes.first(), bytes.get(1)) {
        (Some(&a), Some(&b)) if [a, b] != START => return Framing::Bad(BadFrame::NoStart),
        (Some(&a), None) if a != START[0] => return Framing::Bad(BadFrame::NoStart),
        _ => {}
    }
    let Some(head) = bytes.get(..LINK_HEADER_LEN) else {
        return Framing::Incomplete;
    };
    let (Some(covered), Some(sent)) = (head.get(..8), le16(head, 8)) else {
        return Framing::Incomplete;
    };
    if crc(covered) != sent {
        return Framing::Bad(BadFrame::HeaderCrc);
    }
    let (Some(&length), Some(&control), Some(destination), Some(source)) =
        (head.get(2), head.get(3), le16(head, 4), le16(head, 6))
    else {
        return Framing::Incomplete;
    };
    if length < MIN_LINK_LENGTH {
        return Framing::Bad(BadFrame::Length);
    }
    let header = LinkHeader {
        length,
        control,
        destination,
        source,
    };
    let len = header.frame_len();
    match bytes.get(LINK_HEADER_LEN..len) {
        Some(blocks) => Framing::Frame {
            header,
            blocks,
            len,
        },
        None => Framing::Incomplete,
    }
}

/// Where the next frame may start after bad bytes: the next `05` after the
/// first byte (or the end).
pub fn resync_skip(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .skip(1)
        .position(|&b| b == START[0])
        .map_or(bytes.len(), |i| i + 1)
}

/// Checks every user-data block's CRC; returns the number of bad blocks and
/// the first block's data (which holds the transport and application headers).
pub fn check_blocks(blocks: &[u8]) -> (u32, &[u8]) {
    let mut bad = 0;
    let mut first: &[u8] = &[];
    for (i, chunk) in blocks.chunks(BLOCK_LEN + 2).enumerate() {
        let data_len = chunk.len().saturating_sub(2);
        let (data, sent) = (chunk.get(..data_len), le16(chunk, data_len));
        match (data, sent) {
            (Some(data), Some(sent)) if crc(data) == sent => {
                if i == 0 {
                    first = data;
                }
            }
            _ => bad += 1,
        }
    }
    (bad, first)
}

/// The one-byte transport header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportHeader {
    pub fin: bool,
    pub fir: bool,
    pub seq: u8,
}

impl TransportHeader {
    pub fn from_byte(b: u8) -> Self {
        TransportHeader {
            fin: b & TRANSPORT_FIN != 0,
            fir: b & TRANSPORT_FIR != 0,
            seq: b & 0x3f,
        }
    }
}

/// The application-layer header of a fragment's first segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppHeader {
    pub control: u8,
    pub function: u8,
    /// Internal indications (IIN1 in the high byte, as Zeek reports them);
    /// responses only.
    pub iin: Option<u16>,
}

/// Function codes that carry IIN: RESPONSE, UNSOLICITED_RESPONSE, AUTHENTICATE_RESP.
pub fn is_response_function(function: u8) -> bool {
    (0x81..=0x83).contains(&function)
}

/// Parses the application header at the start of `app` (the bytes after the
/// transport header); `None` when too short for its function.
pub fn app_header(app: &[u8]) -> Option<AppHeader> {
    let (&control, &function) = (app.first()?, app.get(1)?);
    let iin = if is_response_function(function) {
        let (&iin1, &iin2) = (app.get(2)?, app.get(3)?);
        Some(u16::from_be_bytes([iin1, iin2]))
    } else {
        None
    };
    Some(AppHeader {
        control,
        function,
        iin,
    })
}

/// Zeek's name of an application function code (`DNP3::function_codes`),
/// `unknown-<code>` otherwise.
pub fn function_name(code: u8) -> Cow<'static, str> {
    Cow::Borrowed(match code {
        0x00 => "CONFIRM",
        0x01 => "READ",
        0x02 => "WRITE",
        0x03 => "SELECT",
        0x04 => "OPERATE",
        0x05 => "DIRECT_OPERATE",
        0x06 => "DIRECT_OPERATE_NR",
        0x07 => "IMMED_FREEZE",
        0x08 => "IMMED_FREEZE_NR",
        0x09 => "FREEZE_CLEAR",
        0x0a => "FREEZE_CLEAR_NR",
        0x0b => "FREEZE_AT_TIME",
        0x0c => "FREEZE_AT_TIME_NR",
        0x0d => "COLD_RESTART",
        0x0e => "WARM_RESTART",
        0x0f => "INITIALIZE_DATA",
        0x10 => "INITIALIZE_APPL",
        0x11 => "START_APPL",
        0x12 => "STOP_APPL",
        0x13 => "SAVE_CONFIG",
        0x14 => "ENABLE_UNSOLICITED",
        0x15 => "DISABLE_UNSOLICITED",
        0x16 => "ASSIGN_CLASS",
        0x17 => "DELAY_MEASURE",
        0x18 => "RECORD_CURRENT_TIME",
        0x19 => "OPEN_FILE",
        0x1a => "CLOSE_FILE",
        0x1b => "DELETE_FILE",
        0x1c => "GET_FILE_INFO",
        0x1d => "AUTHENTICATE_FILE",
        0x1e => "ABORT_FILE",
        0x1f => "ACTIVATE_CONFIG",
        0x20 => "AUTHENTICATE_REQ",
        0x21 => "AUTHENTICATE_REQ_NR",
        0x81 => "RESPONSE",
        0x82 => "UNSOLICITED_RESPONSE",
        0x83 => "AUTHENTICATE_RESP",
        _ => return Cow::Owned(format!("unknown-{code}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read request (class 0) from master 3 to outstation 4, as in
    /// ics/dnp3/read_and_response.pcap style captures.
    pub(crate) fn read_request() -> Vec<u8> {
        let mut f = vec![0x05, 0x64, 0x0b, 0xc4, 0x04, 0x00, 0x03, 0x00];
        f.extend_from_slice(&crc(&f).to_le_bytes());
        let user = [0xc0, 0xc1, 0x01, 0x3c, 0x01, 0x06];
        f.extend_from_slice(&user);
        f.extend_from_slice(&crc(&user).to_le_bytes());
        f
    }

    #[test]
    fn crc_matches_known_header() {
        // 05 64 05 c0 01 00 00 04 → CRC e9 21 (link reset, from the DNP3 spec examples).
        assert_eq!(
            crc(&[0x05, 0x64, 0x05, 0xc0, 0x01, 0x00, 0x00, 0x04]).to_le_bytes(),
            [0xe9, 0x21]
        );
    }

    #[test]
    fn frames_and_checks_blocks() {
        let f = read_request();
        let Framing::Frame {
            header,
            blocks,
            len,
        } = frame(&f)
        else {
            panic!("not framed");
        };
        assert_eq!(len, f.len());
        assert_eq!(header.destination, 4);
        assert_eq!(header.source, 3);
        assert_eq!(header.user_data_len(), 6);
        let (bad, first) = check_blocks(blocks);
        assert_eq!(bad, 0);
        let t = TransportHeader::from_byte(first[0]);
        assert!(t.fin && t.fir);
        let app = app_header(&first[1..]).unwrap();
        assert_eq!(app.function, 1);
        assert_eq!(app.iin, None);
    }

    #[test]
    fn bad_bytes_are_named() {
        assert_eq!(frame(&[0x05]), Framing::Incomplete);
        assert_eq!(frame(&[0x06]), Framing::Bad(BadFrame::NoStart));
        assert_eq!(frame(&[0x05, 0x65]), Framing::Bad(BadFrame::NoStart));
        let mut f = read_request();
        f[9] ^= 1;
        assert_eq!(frame(&f), Framing::Bad(BadFrame::HeaderCrc));
        let mut short = vec![0x05, 0x64, 0x04, 0xc4, 0, 0, 0, 0];
        short.extend_from_slice(&crc(&short).to_le_bytes());
        assert_eq!(frame(&short), Framing::Bad(BadFrame::Length));
        assert_eq!(resync_skip(&[0x05, 0x01, 0x05, 0x64]), 2);
        assert_eq!(resync_skip(&[0x01, 0x02]), 2);
    }

    #[test]
    fn frame_length_counts_block_crcs() {
        let h = |length| LinkHeader {
            length,
            control: 0,
            destination: 0,
            source: 0,
        };
        assert_eq!(h(5).frame_len(), 10);
        assert_eq!(h(6).frame_len(), 13);
        assert_eq!(h(21).frame_len(), 28);
        assert_eq!(h(22).frame_len(), 31);
        assert_eq!(h(255).frame_len(), MAX_FRAME_LEN);
    }

    #[test]
    fn response_header_has_iin() {
        let app = app_header(&[0xc1, 0x81, 0x90, 0x02]).unwrap();
        assert_eq!(app.iin, Some(0x9002));
        assert_eq!(app_header(&[0xc1, 0x81, 0x90]), None);
        assert_eq!(function_name(0x82), "UNSOLICITED_RESPONSE");
        assert_eq!(function_name(0x40), "unknown-64");
    }
}
