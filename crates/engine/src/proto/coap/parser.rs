//! CoAP parsing (RFC 7252 §3): one UDP datagram in → a [`CoapMessage`]
//! (header, token, the option bytes and the payload, borrowed) out, or a
//! [`CoapError`] when the header is not CoAP.
//!
//! Options are `delta:4 length:4` nibbles with 1- or 2-byte extensions (13,
//! 14); nibble 15 is reserved except in the payload marker 0xFF. The option
//! area is walked once at parse time to find the payload and flag format
//! errors; [`OptionIter`] walks it again for the record. Limits:
//! [`MAX_OPTIONS`] options per message, nothing allocated.
#![deny(clippy::indexing_slicing)]

use thiserror::Error;

/// Options walked per message; the rest is flagged and ignored.
pub const MAX_OPTIONS: usize = 64;
/// Longest token (TKL 9–15 are reserved).
pub const MAX_TOKEN_LEN: usize = 8;

/// Why a datagram is not CoAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CoapError {
    #[error("CoAP message of {len} bytes is shorter than its 4-byte header")]
    TooShort { len: usize },
    #[error("CoAP version {version} in the top bits of byte 0 is not 1; not CoAP")]
    BadVersion { version: u8 },
    #[error("CoAP token length {tkl} in byte 0 is reserved (9-15); message format error")]
    BadTokenLength { tkl: u8 },
    #[error("CoAP token of {tkl} bytes runs past the end of the {len}-byte datagram")]
    TruncatedToken { tkl: u8, len: usize },
}

/// Format errors after the token (the message is still used).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OptionIssues {
    /// A reserved nibble (15) or an extension / value past the end.
    pub bad_option: bool,
    /// More than [`MAX_OPTIONS`] options.
    pub too_many_options: bool,
    /// A payload marker with no payload after it.
    pub empty_payload: bool,
    /// An Empty message (code 0.00) with a token, options or payload.
    pub non_empty_empty: bool,
}

/// Message types (the T field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoapType {
    Confirmable,
    NonConfirmable,
    Acknowledgement,
    Reset,
}

impl CoapType {
    /// The short names of RFC 7252 (`CON`, `NON`, `ACK`, `RST`).
    pub fn name(self) -> &'static str {
        match self {
            CoapType::Confirmable => "CON",
            CoapType::NonConfirmable => "NON",
            CoapType::Acknowledgement => "ACK",
            CoapType::Reset => "RST",
        }
    }
}

/// One parsed CoAP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoapMessage<'a> {
    pub version: u8,
    pub msg_type: CoapType,
    /// class (top 3 bits) . detail (low 5 bits).
    pub code: u8,
    pub message_id: u16,
    pub token: &'a [u8],
    /// The option bytes, validated up to the first problem.
    pub options: &'a [u8],
    pub payload: &'a [u8],
    pub issues: OptionIssues,
}

impl CoapMessage<'_> {
    pub fn code_class(&self) -> u8 {
        self.code >> 5
    }

    pub fn code_detail(&self) -> u8 {
        self.code & 0x1f
    }

    /// A request (class 0, detail ≥ 1).
    pub fn is_request(&self) -> bool {
        self.code_class() == 0 && self.code != 0
    }

    /// A response (classes 2, 4, 5).
    pub fn is_response(&self) -> bool {
        matches!(self.code_class(), 2 | 4 | 5)
    }

    /// The options of the message, in order.
    pub fn option_iter(&self) -> OptionIter<'_> {
        OptionIter::new(self.options)
    }
}

/// Parses one datagram as CoAP.
pub fn parse(data: &[u8]) -> Result<CoapMessage<'_>, CoapError> {
    let (&[b0, code, m0, m1], rest) = data
        .split_first_chunk::<4>()
        .ok_or(CoapError::TooShort { len: data.len() })?;
    let version = b0 >> 6;
    if version != 1 {
        return Err(CoapError::BadVersion { version });
    }
    let tkl = b0 & 0x0f;
    if usize::from(tkl) > MAX_TOKEN_LEN {
        return Err(CoapError::BadTokenLength { tkl });
    }
    let (token, after_token) =
        rest.split_at_checked(usize::from(tkl))
            .ok_or(CoapError::TruncatedToken {
                tkl,
                len: data.len(),
            })?;
    let msg_type = match (b0 >> 4) & 0x03 {
        0 => CoapType::Confirmable,
        1 => CoapType::NonConfirmable,
        2 => CoapType::Acknowledgement,
        _ => CoapType::Reset,
    };
    let mut issues = OptionIssues::default();
    let mut walker = OptionIter::new(after_token);
    let mut count = 0usize;
    loop {
        // Past the limit only the payload marker may follow.
        if count == MAX_OPTIONS && walker.rest.first().is_some_and(|&b| b != 0xff) {
            issues.too_many_options = true;
            break;
        }
        if walker.next().is_none() {
            break;
        }
        count += 1;
    }
    let options_len = after_token.len().saturating_sub(walker.rest.len());
    let options = after_token.get(..options_len).unwrap_or_default();
    let mut payload: &[u8] = &[];
    match walker.end {
        Some(OptionsEnd::PayloadMarker) => {
            payload = walker.rest;
            issues.empty_payload = payload.is_empty();
        }
        Some(OptionsEnd::Malformed) => issues.bad_option = true,
        Some(OptionsEnd::Exhausted) | None => {}
    }
    if code == 0 && !(token.is_empty() && after_token.is_empty()) {
        issues.non_empty_empty = true;
    }
    Ok(CoapMessage {
        version,
        msg_type,
        code,
        message_id: u16::from_be_bytes([m0, m1]),
        token,
        options,
        payload,
        issues,
    })
}

/// How the option walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptionsEnd {
    Exhausted,
    PayloadMarker,
    Malformed,
}

/// Iterates `(option number, value)` over an option area; stops at the
/// payload marker, the end of the bytes or the first malformed option.
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    rest: &'a [u8],
    number: u32,
    end: Option<OptionsEnd>,
}

impl<'a> OptionIter<'a> {
    pub fn new(area: &'a [u8]) -> Self {
        OptionIter {
            rest: area,
            number: 0,
            end: None,
        }
    }

    fn fail(&mut self) -> Option<(u32, &'a [u8])> {
        self.end = Some(OptionsEnd::Malformed);
        None
    }
}

/// Reads a nibble's extension: 13 → one more byte + 13, 14 → two + 269.
fn extended(nibble: u8, rest: &[u8]) -> Option<(u32, &[u8])> {
    match nibble {
        0..=12 => Some((u32::from(nibble), rest)),
        13 => {
            let (&b, rest) = rest.split_first()?;
            Some((u32::from(b) + 13, rest))
        }
        14 => {
            let (b, rest) = rest.split_first_chunk::<2>()?;
            Some((u32::from(u16::from_be_bytes(*b)) + 269, rest))
        }
        _ => None,
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = (u32, &'a [u8]);

    fn next(&mut self) -> Option<(u32, &'a [u8])> {
        if self.end.is_some() {
            return None;
        }
        let Some((&head, rest)) = self.rest.split_first() else {
            self.end = Some(OptionsEnd::Exhausted);
            return None;
        };
        if head == 0xff {
            self.rest = rest;
            self.end = Some(OptionsEnd::PayloadMarker);
            return None;
        }
        let Some((delta, rest)) = extended(head >> 4, rest) else {
            return self.fail();
        };
        let Some((len, rest)) = extended(head & 0x0f, rest) else {
            return self.fail();
        };
        let Some((value, rest)) = rest.split_at_checked(len as usize) else {
            return self.fail();
        };
        self.number = self.number.saturating_add(delta);
        self.rest = rest;
        Some((self.number, value))
    }
}

/// An unsigned option value (0–4 bytes, big-endian; RFC 7252 §3.2 `uint`).
pub fn uint_value(value: &[u8]) -> Option<u32> {
    if value.len() > 4 {
        return None;
    }
    Some(value.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_deltas_and_lengths() {
        // delta 13+2 = 15 (Uri-Query), then delta 14 ext 0 → 15+269 = 284, len 13+0.
        let mut area = vec![0xd1, 2, b'q'];
        area.extend_from_slice(&[0xed, 0, 0, 0]);
        area.extend_from_slice(&[b'x'; 13]);
        let opts: Vec<_> = OptionIter::new(&area).collect();
        assert_eq!(opts.len(), 2);
        assert_eq!(opts.first().map(|o| o.0), Some(15));
        assert_eq!(opts.get(1).map(|o| (o.0, o.1.len())), Some((284, 13)));
    }

    #[test]
    fn reserved_nibble_is_malformed() {
        let m = parse(&[0x40, 1, 0, 1, 0xf1, 0]).unwrap();
        assert!(m.issues.bad_option);
        let m = parse(&[0x40, 1, 0, 1, 0x1f, 0]).unwrap();
        assert!(m.issues.bad_option);
    }

    #[test]
    fn payload_after_marker() {
        let m = parse(&[0x50, 0x45, 0, 7, 0xc1, 0, 0xff, b'h', b'i']).unwrap();
        assert_eq!(m.payload, b"hi");
        assert_eq!(m.option_iter().collect::<Vec<_>>(), vec![(12, &[0u8][..])]);
        assert!(
            parse(&[0x50, 0x45, 0, 7, 0xff])
                .unwrap()
                .issues
                .empty_payload
        );
    }

    #[test]
    fn uint_values() {
        assert_eq!(uint_value(&[]), Some(0));
        assert_eq!(uint_value(&[1, 0]), Some(256));
        assert_eq!(uint_value(&[1, 2, 3, 4, 5]), None);
    }
}
