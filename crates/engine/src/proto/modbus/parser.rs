//! Modbus/TCP framing and PDU fields: stream bytes in → one [`Adu`] (MBAP
//! header + function code + PDU data, borrowed) at a time out.
//!
//! Limits: the MBAP length field must lie in
//! [`MIN_MBAP_LENGTH`]..=[`MAX_MBAP_LENGTH`] (unit id + a PDU of at most 253
//! bytes, so an ADU is at most [`MAX_ADU_LEN`] bytes) and the protocol id must
//! be 0; anything else is [`Framing::Invalid`] — Modbus has no magic to
//! resynchronise on, so the caller stops parsing that direction.
#![deny(clippy::indexing_slicing)]

use std::borrow::Cow;

/// Transaction id, protocol id, length, unit id.
pub const MBAP_HEADER_LEN: usize = 7;
/// The length field counts the unit id and at least the function code.
pub const MIN_MBAP_LENGTH: u16 = 2;
/// Unit id + the largest PDU (253 bytes) of the Modbus/TCP specification.
pub const MAX_MBAP_LENGTH: u16 = 254;
/// The largest ADU: the 6 bytes before the unit id plus [`MAX_MBAP_LENGTH`].
pub const MAX_ADU_LEN: usize = 6 + MAX_MBAP_LENGTH as usize;

/// The exception bit of a response function code.
pub const EXCEPTION_BIT: u8 = 0x80;

/// One Modbus/TCP application data unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adu<'a> {
    pub transaction_id: u16,
    pub unit_id: u8,
    /// The function code as sent (exception responses have bit 0x80 set).
    pub function: u8,
    /// The PDU after the function code.
    pub data: &'a [u8],
}

/// Why a header cannot start an ADU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidHeader {
    /// Protocol id other than 0 (Modbus).
    ProtocolId(u16),
    /// Length field outside `MIN_MBAP_LENGTH..=MAX_MBAP_LENGTH`.
    Length(u16),
}

/// What the head of a stream holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing<'a> {
    /// A complete ADU of `len` bytes.
    Adu { adu: Adu<'a>, len: usize },
    /// More bytes are needed.
    Incomplete,
    /// The header cannot be Modbus/TCP.
    Invalid(InvalidHeader),
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    let pair = bytes.get(at..at.checked_add(2)?)?;
    let [hi, lo] = <[u8; 2]>::try_from(pair).ok()?;
    Some(u16::from_be_bytes([hi, lo]))
}

/// Checks the MBAP header at the start of `bytes` and returns the ADU length
/// it announces (`Ok(None)` when fewer than 6 bytes are there).
pub fn adu_len(bytes: &[u8]) -> Result<Option<usize>, InvalidHeader> {
    let (Some(protocol), Some(length)) = (be16(bytes, 2), be16(bytes, 4)) else {
        return Ok(None);
    };
    if protocol != 0 {
        return Err(InvalidHeader::ProtocolId(protocol));
    }
    if !(MIN_MBAP_LENGTH..=MAX_MBAP_LENGTH).contains(&length) {
        return Err(InvalidHeader::Length(length));
    }
    Ok(Some(6 + usize::from(length)))
}

/// Frames one ADU at the start of `bytes`.
pub fn frame(bytes: &[u8]) -> Framing<'_> {
    let len = match adu_len(bytes) {
        Ok(Some(len)) => len,
        Ok(None) => return Framing::Incomplete,
        Err(e) => return Framing::Invalid(e),
    };
    let Some(adu) = bytes.get(..len) else {
        return Framing::Incomplete;
    };
    let (Some(transaction_id), Some(&unit_id), Some(&function), Some(data)) = (
        be16(adu, 0),
        adu.get(6),
        adu.get(7),
        adu.get(MBAP_HEADER_LEN + 1..),
    ) else {
        // Unreachable with len >= 8, kept total rather than indexing.
        return Framing::Incomplete;
    };
    Framing::Adu {
        adu: Adu {
            transaction_id,
            unit_id,
            function,
            data,
        },
        len,
    }
}

/// The register/coil range a message addresses: start address and quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: u16,
    pub quantity: u16,
}

/// The range a request addresses, for the read/write coil and register
/// functions (1–6, 15, 16, 22, and the write half of 23); `None` for other
/// functions or a PDU too short for its function.
pub fn request_range(function: u8, data: &[u8]) -> Option<Range> {
    let start = be16(data, 0)?;
    match function {
        // Read coils / discrete inputs / holding / input registers, write multiple.
        0x01..=0x04 | 0x0f | 0x10 => Some(Range {
            start,
            quantity: be16(data, 2)?,
        }),
        // Write single coil / register (address, value); mask write (address, and, or).
        0x05 | 0x06 | 0x16 => {
            be16(data, 2)?;
            Some(Range { start, quantity: 1 })
        }
        // Read/write multiple registers: read start, read qty, write start, write qty.
        0x17 => Some(Range {
            start: be16(data, 4)?,
            quantity: be16(data, 6)?,
        }),
        _ => None,
    }
}

/// The range a normal response carries itself (write echoes); reads answer
/// with a byte count only, so their range comes from the request.
pub fn response_range(function: u8, data: &[u8]) -> Option<Range> {
    match function {
        0x05 | 0x06 | 0x16 => {
            be16(data, 2)?;
            Some(Range {
                start: be16(data, 0)?,
                quantity: 1,
            })
        }
        0x0f | 0x10 => Some(Range {
            start: be16(data, 0)?,
            quantity: be16(data, 2)?,
        }),
        _ => None,
    }
}

/// Whether a PDU is long enough for what its function carries (request or
/// response); functions not checked here are accepted.
pub fn pdu_long_enough(function: u8, data: &[u8], is_request: bool) -> bool {
    if function & EXCEPTION_BIT != 0 {
        return !data.is_empty();
    }
    let need = match (function, is_request) {
        (0x01..=0x06 | 0x0f | 0x10, true) => 4,
        (0x01..=0x04, false) => 1,
        (0x05 | 0x06 | 0x0f | 0x10, false) => 4,
        (0x16, _) => 6,
        (0x17, true) => 9,
        (0x17, false) => 1,
        _ => 0,
    };
    data.len() >= need
}

/// Zeek's name of a function code (`Modbus::function_codes`), without the
/// exception bit.
fn base_function_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0x01 => "READ_COILS",
        0x02 => "READ_DISCRETE_INPUTS",
        0x03 => "READ_HOLDING_REGISTERS",
        0x04 => "READ_INPUT_REGISTERS",
        0x05 => "WRITE_SINGLE_COIL",
        0x06 => "WRITE_SINGLE_REGISTER",
        0x07 => "READ_EXCEPTION_STATUS",
        0x08 => "DIAGNOSTICS",
        0x09 => "PROGRAM_484",
        0x0a => "POLL_484",
        0x0b => "GET_COMM_EVENT_COUNTER",
        0x0c => "GET_COMM_EVENT_LOG",
        0x0d => "PROGRAM_584_984",
        0x0e => "POLL_584_984",
        0x0f => "WRITE_MULTIPLE_COILS",
        0x10 => "WRITE_MULTIPLE_REGISTERS",
        0x11 => "REPORT_SLAVE_ID",
        0x12 => "PROGRAM_884_U84",
        0x13 => "RESET_COMM_LINK_884_U84",
        0x14 => "READ_FILE_RECORD",
        0x15 => "WRITE_FILE_RECORD",
        0x16 => "MASK_WRITE_REGISTER",
        0x17 => "READ_WRITE_MULTIPLE_REGISTERS",
        0x18 => "READ_FIFO_QUEUE",
        0x28 => "PROGRAM_CONCEPT",
        0x29 => "MULTIPLE_FUNCTION_CODES",
        0x2b => "ENCAP_INTERFACE_TRANSPORT",
        0x5a => "PROGRAM_UNITY",
        0x5b => "OBJECT_MESSAGING",
        0x7d => "FIRMWARE_REPLACEMENT",
        0x7e => "PROGRAM_584_984_2",
        0x7f => "REPORT_LOCAL_ADDRESS",
        _ => return None,
    })
}

/// Whether a function code (exception bit ignored) is one Zeek names.
pub fn is_known_function(code: u8) -> bool {
    base_function_name(code & !EXCEPTION_BIT).is_some()
}

/// The `func` column as Zeek's `Modbus::build_func` writes it: the name,
/// `<NAME>_EXCEPTION` for an exception response, `unknown-<code>` otherwise.
pub fn function_name(code: u8) -> Cow<'static, str> {
    if let Some(name) = base_function_name(code) {
        return Cow::Borrowed(name);
    }
    match base_function_name(code & !EXCEPTION_BIT) {
        Some(name) => Cow::Owned(format!("{name}_EXCEPTION")),
        None => Cow::Owned(format!("unknown-{code}")),
    }
}

/// Zeek's name of an exception code (`Modbus::exception_codes`).
pub fn exception_name(code: u8) -> Cow<'static, str> {
    Cow::Borrowed(match code {
        0x01 => "ILLEGAL_FUNCTION",
        0x02 => "ILLEGAL_DATA_ADDRESS",
        0x03 => "ILLEGAL_DATA_VALUE",
        0x04 => "SLAVE_DEVICE_FAILURE",
        0x05 => "ACKNOWLEDGE",
        0x06 => "SLAVE_DEVICE_BUSY",
        0x08 => "MEMORY_PARITY_ERROR",
        0x0a => "GATEWAY_PATH_UNAVAILABLE",
        0x0b => "GATEWAY_TARGET_DEVICE_FAILED_TO_RESPOND",
        _ => return Cow::Owned(format!("unknown-{code}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_a_read_request() {
        let bytes = [0, 7, 0, 0, 0, 6, 1, 3, 0, 0x10, 0, 2, 0xaa];
        let Framing::Adu { adu, len } = frame(&bytes) else {
            panic!("not framed");
        };
        assert_eq!(len, 12);
        assert_eq!(adu.transaction_id, 7);
        assert_eq!(adu.unit_id, 1);
        assert_eq!(adu.function, 3);
        assert_eq!(
            request_range(adu.function, adu.data),
            Some(Range {
                start: 0x10,
                quantity: 2
            })
        );
    }

    #[test]
    fn rejects_bad_headers_and_waits_for_short_ones() {
        assert_eq!(frame(&[0, 1, 0, 0, 0]), Framing::Incomplete);
        assert_eq!(frame(&[0, 1, 0, 0, 0, 6, 1, 3]), Framing::Incomplete);
        assert_eq!(
            frame(&[0, 1, 0, 5, 0, 6, 1, 3]),
            Framing::Invalid(InvalidHeader::ProtocolId(5))
        );
        assert_eq!(
            frame(&[0, 1, 0, 0, 0, 1, 1]),
            Framing::Invalid(InvalidHeader::Length(1))
        );
        assert_eq!(
            frame(&[0, 1, 0, 0, 1, 0, 1]),
            Framing::Invalid(InvalidHeader::Length(256))
        );
    }

    #[test]
    fn names_like_zeek() {
        assert_eq!(function_name(3), "READ_HOLDING_REGISTERS");
        assert_eq!(function_name(0x83), "READ_HOLDING_REGISTERS_EXCEPTION");
        assert_eq!(function_name(0x42), "unknown-66");
        assert_eq!(function_name(0xc2), "unknown-194");
        assert_eq!(exception_name(2), "ILLEGAL_DATA_ADDRESS");
        assert_eq!(exception_name(0x20), "unknown-32");
    }

    #[test]
    fn short_pdus_have_no_range() {
        assert_eq!(request_range(3, &[0, 1, 0]), None);
        assert_eq!(response_range(6, &[0, 1]), None);
        assert!(!pdu_long_enough(3, &[0, 1, 0], true));
        assert!(pdu_long_enough(3, &[2], false));
        assert!(!pdu_long_enough(0x83, &[], false));
    }
}
