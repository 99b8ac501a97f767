//! NTP parsing (RFC 5905, RFC 1305 control mode 6, ntpd private mode 7): one
//! UDP datagram in → an [`NtpMessage`] out, or an [`NtpError`] when the bytes
//! cannot be NTP.
//!
//! Modes 1–5 carry the 48-byte standard header, then optional extension
//! fields (RFC 7822: `type u16, len u16`, length ≥ 16 and a multiple of 4)
//! and an optional MAC (the last ≤ 24 bytes). Limits: [`MAX_EXTENSIONS`]
//! extension fields walked; nothing is allocated.
#![deny(clippy::indexing_slicing)]

use thiserror::Error;

/// Length of the standard header of modes 1–5.
pub const NTP_HEADER_LEN: usize = 48;
/// Extension fields walked per message; more are flagged.
pub const MAX_EXTENSIONS: usize = 16;
/// Trailing bytes at most that are a MAC rather than an extension field
/// (key id + 16- or 20-byte digest; RFC 7822 §7.5).
pub const MAX_MAC_LEN: usize = 24;
const CONTROL_HEADER_LEN: usize = 12;
const PRIVATE_HEADER_LEN: usize = 8;

/// Why a datagram is not NTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum NtpError {
    #[error("empty NTP datagram")]
    Empty,
    #[error("NTP version {version} in bits 3-5 of byte 0 is not 1-4; not NTP")]
    BadVersion { version: u8 },
    #[error("NTP mode {mode} message of {len} bytes is shorter than its {need}-byte header; cut or not NTP")]
    TooShort { mode: u8, len: usize, need: usize },
}

/// An NTP short-format or timestamp value, kept raw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NtpTimestamp {
    /// Seconds since 1900-01-01 (era 0).
    pub seconds: u32,
    /// Fraction of a second in units of 2^-32 s.
    pub fraction: u32,
}

/// The standard header of modes 1–5.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StandardMessage {
    pub stratum: u8,
    /// log2 of the poll interval in seconds.
    pub poll: i8,
    /// log2 of the clock precision in seconds.
    pub precision: i8,
    /// Root delay, 16.16 fixed-point seconds.
    pub root_delay: u32,
    /// Root dispersion, 16.16 fixed-point seconds.
    pub root_dispersion: u32,
    pub reference_id: [u8; 4],
    pub reference_ts: NtpTimestamp,
    pub origin_ts: NtpTimestamp,
    pub receive_ts: NtpTimestamp,
    pub transmit_ts: NtpTimestamp,
    /// Extension fields walked.
    pub num_exts: u32,
    /// A MAC follows the header and extensions.
    pub has_mac: bool,
    /// The bytes after the header were neither extension fields nor a MAC,
    /// or there were more than [`MAX_EXTENSIONS`] of them.
    pub bad_extensions: bool,
}

/// A control message (mode 6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ControlMessage {
    pub response: bool,
    pub error: bool,
    pub more: bool,
    pub opcode: u8,
    pub sequence: u16,
    pub status: u16,
    pub association_id: u16,
}

/// An ntpd private message (mode 7), e.g. the `monlist` request (code 42).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrivateMessage {
    pub response: bool,
    pub auth: bool,
    pub sequence: u8,
    pub implementation: u8,
    pub request_code: u8,
    pub error_code: u8,
}

/// What follows the first byte, by mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NtpBody {
    Standard(StandardMessage),
    Control(ControlMessage),
    Private(PrivateMessage),
    /// Mode 0 (reserved): nothing is parsed.
    Reserved,
}

/// One parsed NTP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NtpMessage {
    pub leap: u8,
    pub version: u8,
    pub mode: u8,
    pub body: NtpBody,
}

/// Parses one datagram as NTP.
pub fn parse(data: &[u8]) -> Result<NtpMessage, NtpError> {
    let (&first, rest) = data.split_first().ok_or(NtpError::Empty)?;
    let leap = first >> 6;
    let version = (first >> 3) & 0x07;
    let mode = first & 0x07;
    if !(1..=4).contains(&version) {
        return Err(NtpError::BadVersion { version });
    }
    let too_short = |need| NtpError::TooShort {
        mode,
        len: data.len(),
        need,
    };
    let body = match mode {
        0 => NtpBody::Reserved,
        1..=5 => NtpBody::Standard(standard(rest).ok_or(too_short(NTP_HEADER_LEN))?),
        6 => NtpBody::Control(control(rest).ok_or(too_short(CONTROL_HEADER_LEN))?),
        _ => NtpBody::Private(private(first, rest).ok_or(too_short(PRIVATE_HEADER_LEN))?),
    };
    Ok(NtpMessage {
        leap,
        version,
        mode,
        body,
    })
}

fn be16(b: [u8; 2]) -> u16 {
    u16::from_be_bytes(b)
}

fn timestamp(b: &[u8; 8]) -> NtpTimestamp {
    let [a0, a1, a2, a3, b0, b1, b2, b3] = *b;
    NtpTimestamp {
        seconds: u32::from_be_bytes([a0, a1, a2, a3]),
        fraction: u32::from_be_bytes([b0, b1, b2, b3]),
    }
}

/// `rest` starts after the first byte.
fn standard(rest: &[u8]) -> Option<StandardMessage> {
    let (head, tail) = rest.split_first_chunk::<{ NTP_HEADER_LEN - 1 }>()?;
    let (&[stratum, poll, precision], head) = head.split_first_chunk::<3>()?;
    let (delay, head) = head.split_first_chunk::<4>()?;
    let (disp, head) = head.split_first_chunk::<4>()?;
    let (reference_id, head) = head.split_first_chunk::<4>()?;
    let (reference, head) = head.split_first_chunk::<8>()?;
    let (origin, head) = head.split_first_chunk::<8>()?;
    let (receive, head) = head.split_first_chunk::<8>()?;
    let transmit = head.first_chunk::<8>()?;
    let mut msg = StandardMessage {
        stratum,
        poll: poll as i8,
        precision: precision as i8,
        root_delay: u32::from_be_bytes(*delay),
        root_dispersion: u32::from_be_bytes(*disp),
        reference_id: *reference_id,
        reference_ts: timestamp(reference),
        origin_ts: timestamp(origin),
        receive_ts: timestamp(receive),
        transmit_ts: timestamp(transmit),
        ..StandardMessage::default()
    };
    walk_extensions(tail, &mut msg);
    Some(msg)
}

fn walk_extensions(mut tail: &[u8], msg: &mut StandardMessage) {
    loop {
        if tail.is_empty() {
            return;
        }
        if tail.len() <= MAX_MAC_LEN {
            // A MAC is a 4-byte key id (a lone key id is a crypto-NAK) plus
            // a 16- or 20-byte digest.
            msg.has_mac = matches!(tail.len(), 4 | 20 | 24);
            msg.bad_extensions |= !msg.has_mac;
            return;
        }
        if msg.num_exts as usize >= MAX_EXTENSIONS {
            msg.bad_extensions = true;
            return;
        }
        let field = tail.get(2..4).and_then(|l| {
            let len = usize::from(be16([*l.first()?, *l.get(1)?]));
            (len >= 16 && len % 4 == 0).then_some(len)
        });
        match field.and_then(|len| tail.get(len..)) {
            Some(after) => {
                msg.num_exts += 1;
                tail = after;
            }
            None => {
                msg.bad_extensions = true;
                return;
            }
        }
    }
}

fn control(rest: &[u8]) -> Option<ControlMessage> {
    let (head, _data) = rest.split_first_chunk::<{ CONTROL_HEADER_LEN - 1 }>()?;
    let [flags, s0, s1, st0, st1, a0, a1, ..] = *head;
    Some(ControlMessage {
        response: flags & 0x80 != 0,
        error: flags & 0x40 != 0,
        more: flags & 0x20 != 0,
        opcode: flags & 0x1f,
        sequence: be16([s0, s1]),
        status: be16([st0, st1]),
        association_id: be16([a0, a1]),
    })
}

fn private(first: u8, rest: &[u8]) -> Option<PrivateMessage> {
    let (head, _data) = rest.split_first_chunk::<{ PRIVATE_HEADER_LEN - 1 }>()?;
    let [auth_seq, implementation, request_code, err_items, ..] = *head;
    Some(PrivateMessage {
        response: first & 0x80 != 0,
        auth: auth_seq & 0x80 != 0,
        sequence: auth_seq & 0x7f,
        implementation,
        request_code,
        error_code: err_items >> 4,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_request() -> Vec<u8> {
        let mut m = vec![0u8; NTP_HEADER_LEN];
        if let Some(b) = m.first_mut() {
            *b = 0x23; // v4, client
        }
        m
    }

    #[test]
    fn extension_fields_and_mac_are_counted() {
        let mut m = client_request();
        m.extend_from_slice(&[0x01, 0x04, 0, 16]);
        m.extend_from_slice(&[0; 12]);
        m.extend_from_slice(&[0; 20]);
        let NtpBody::Standard(s) = parse(&m).unwrap().body else {
            panic!("standard");
        };
        assert_eq!(s.num_exts, 1);
        assert!(s.has_mac);
        assert!(!s.bad_extensions);
    }

    #[test]
    fn bad_extension_length_is_flagged() {
        let mut m = client_request();
        m.extend_from_slice(&[0x01, 0x04, 0, 13]);
        m.extend_from_slice(&[0; 30]);
        let NtpBody::Standard(s) = parse(&m).unwrap().body else {
            panic!("standard");
        };
        assert!(s.bad_extensions);
        assert_eq!(s.num_exts, 0);
    }

    #[test]
    fn monlist_request() {
        let m = [0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0];
        let msg = parse(&m).unwrap();
        assert_eq!((msg.version, msg.mode), (2, 7));
        let NtpBody::Private(p) = msg.body else {
            panic!("private");
        };
        assert_eq!((p.implementation, p.request_code), (3, 42));
    }
}
