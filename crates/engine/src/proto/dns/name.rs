//! Domain names: wire-format labels and compression pointers in → text out
//! (appended to a caller's `String`, so no allocation per name).
//!
//! The text holds the label bytes as they are, like Zeek's `query`: control
//! bytes, `\` and dots inside a label included; the log writers escape them
//! as Zeek's ASCII writer does (`\x04`). Bytes that are not valid UTF-8 (the
//! text is a Rust `String`) become U+FFFD, as tshark shows them. The root
//! name is the empty string.
//!
//! Limits: [`MAX_NAME_LEN`] wire bytes per name (RFC 1035; longer names are
//! cut and flagged), [`MAX_POINTER_HOPS`] compression pointers per name
//! (beyond that the name is flagged as a loop). Work per name is bounded by
//! the message length plus those two limits.
#![deny(clippy::indexing_slicing)]

use super::parser::Malformed;

/// Longest name in wire format (labels with their length bytes and the root
/// byte), RFC 1035 §2.3.4. Labels beyond it are not rendered.
pub const MAX_NAME_LEN: usize = 255;

/// Compression pointers followed for one name. A legitimate name has at most
/// 127 labels, so at most 127 pointers; more means a pointer loop.
pub const MAX_POINTER_HOPS: usize = 128;

/// What was learnt while decoding one name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NameInfo {
    /// Labels rendered (the root name has none).
    pub labels: u16,
    /// Length of the name in presentation form before escaping: label bytes
    /// plus the dots between them (what DGA/tunnel detectors measure).
    pub text_len: u16,
    /// The name was longer than [`MAX_NAME_LEN`]; the text holds its start.
    pub too_long: bool,
    /// More than [`MAX_POINTER_HOPS`] pointers: the text holds what was
    /// rendered before the loop was detected.
    pub looped: bool,
}

/// Decodes the name starting at `start` in `msg` (the whole DNS message, so
/// pointers resolve), appends its escaped text to `out` and returns what was
/// seen plus the offset just after the name in the original position.
///
/// Errors only when the end of the name cannot be found: a label or pointer
/// running past the message, a pointer outside it, a reserved label type.
/// An over-long or looping name is not an error (its end is known).
pub fn read_name(
    msg: &[u8],
    start: usize,
    out: &mut String,
) -> Result<(NameInfo, usize), Malformed> {
    let mut info = NameInfo::default();
    let mut pos = start;
    // Offset after the name where it was found: set by the first pointer.
    let mut end: Option<usize> = None;
    let mut hops = 0usize;
    // Wire length so far, counting the final root byte.
    let mut wire_len = 1usize;
    loop {
        let len_byte = *msg.get(pos).ok_or(Malformed::LabelPastEnd { at: pos })?;
        match len_byte & 0xc0 {
            0x00 if len_byte == 0 => return Ok((info, end.unwrap_or(pos + 1))),
            0x00 => {
                let len = usize::from(len_byte);
                let label = msg
                    .get(pos + 1..pos + 1 + len)
                    .ok_or(Malformed::LabelPastEnd { at: pos })?;
                if !info.too_long {
                    if wire_len + len + 1 > MAX_NAME_LEN {
                        info.too_long = true;
                        if let Some(end) = end {
                            return Ok((info, end));
                        }
                    } else {
                        if info.labels > 0 {
                            out.push('.');
                            info.text_len += 1;
                        }
                        push_text(label, out);
                        wire_len += len + 1;
                        info.labels += 1;
                        // Bounded by MAX_NAME_LEN, fits in u16.
                        info.text_len += len as u16;
                    }
                }
                // Once too long, keep walking the inline labels only to
                // find where the name ends.
                pos += 1 + len;
            }
            0xc0 => {
                let low = *msg
                    .get(pos + 1)
                    .ok_or(Malformed::LabelPastEnd { at: pos })?;
                let target = (usize::from(len_byte & 0x3f) << 8) | usize::from(low);
                let end = *end.get_or_insert(pos + 2);
                if info.too_long {
                    return Ok((info, end));
                }
                if target >= msg.len() {
                    return Err(Malformed::BadPointer { at: pos, target });
                }
                hops += 1;
                if hops > MAX_POINTER_HOPS {
                    info.looped = true;
                    return Ok((info, end));
                }
                pos = target;
            }
            kind => return Err(Malformed::BadLabelType { at: pos, kind }),
        }
    }
}

/// Skips the name at `start` without rendering it: the offset after it.
/// Only the inline part is walked (pointers end a name), so this is linear.
pub fn skip_name(msg: &[u8], start: usize) -> Result<usize, Malformed> {
    let mut pos = start;
    loop {
        let len_byte = *msg.get(pos).ok_or(Malformed::LabelPastEnd { at: pos })?;
        match len_byte & 0xc0 {
            0x00 if len_byte == 0 => return Ok(pos + 1),
            0x00 => {
                let next = pos + 1 + usize::from(len_byte);
                if next > msg.len() {
                    return Err(Malformed::LabelPastEnd { at: pos });
                }
                pos = next;
            }
            0xc0 => {
                if pos + 2 > msg.len() {
                    return Err(Malformed::LabelPastEnd { at: pos });
                }
                return Ok(pos + 2);
            }
            kind => return Err(Malformed::BadLabelType { at: pos, kind }),
        }
    }
}

/// Appends `bytes` to `out` as text: valid UTF-8 as is, anything else
/// replaced by U+FFFD (the rare case that allocates).
pub fn push_text(bytes: &[u8], out: &mut String) {
    match std::str::from_utf8(bytes) {
        Ok(text) => out.push_str(text),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(msg: &[u8], start: usize) -> (String, NameInfo, usize) {
        let mut s = String::new();
        let (info, end) = read_name(msg, start, &mut s).unwrap();
        (s, info, end)
    }

    #[test]
    fn plain_name_and_root() {
        let msg = b"\x03www\x07example\x03com\x00";
        let (s, info, end) = name(msg, 0);
        assert_eq!(s, "www.example.com");
        assert_eq!(info.labels, 3);
        assert_eq!(info.text_len, 15);
        assert_eq!(end, msg.len());
        let (s, info, end) = name(b"\x00", 0);
        assert_eq!((s.as_str(), info.labels, end), ("", 0, 1));
    }

    #[test]
    fn pointer_resolves_and_end_is_after_pointer() {
        // "example.com" at 0, then "www" + pointer to 0 at 13.
        let mut msg = b"\x07example\x03com\x00".to_vec();
        msg.extend_from_slice(b"\x03www\xc0\x00\xff");
        let (s, info, end) = name(&msg, 13);
        assert_eq!(s, "www.example.com");
        assert_eq!(info.labels, 3);
        assert_eq!(end, 19);
        assert_eq!(skip_name(&msg, 13).unwrap(), 19);
    }

    #[test]
    fn pointer_loop_is_flagged_not_endless() {
        // A label looping back to itself hits the length limit first.
        let msg = b"\x01a\xc0\x00";
        let (s, info, end) = name(msg, 0);
        assert!(info.too_long && !info.looped);
        assert_eq!(end, 4);
        assert_eq!(info.labels, 127);
        assert!(s.starts_with("a.a.a"));
        // Pointers pointing at each other add no length: the hop limit.
        let (s, info, end) = name(b"\xc0\x02\xc0\x00", 0);
        assert!(info.looped && !info.too_long);
        assert_eq!((s.as_str(), end), ("", 2));
    }

    #[test]
    fn too_long_name_is_cut_at_255_wire_bytes() {
        let mut msg = Vec::new();
        for _ in 0..5 {
            msg.push(63);
            msg.extend_from_slice(&[b'a'; 63]);
        }
        msg.push(0);
        let (s, info, end) = name(&msg, 0);
        assert!(info.too_long);
        assert_eq!(info.labels, 3);
        assert_eq!(s.len(), 63 * 3 + 2);
        assert_eq!(end, msg.len());
    }

    #[test]
    fn label_bytes_kept_invalid_utf8_replaced() {
        let msg = b"\x06a\x04\\ \xff.\x04\xc3\xa9t\xc3\x00";
        let (s, info, _) = name(msg, 0);
        assert_eq!(s, "a\u{4}\\ \u{fffd}..\u{e9}t\u{fffd}");
        assert_eq!(info.text_len, 11);
        assert_eq!(info.labels, 2);
    }

    #[test]
    fn errors_name_the_offset() {
        let mut s = String::new();
        assert_eq!(
            read_name(b"\x05ab", 0, &mut s),
            Err(Malformed::LabelPastEnd { at: 0 })
        );
        assert_eq!(
            read_name(b"\x01a\xc0\x09", 0, &mut s),
            Err(Malformed::BadPointer { at: 2, target: 9 })
        );
        assert_eq!(
            read_name(b"\x41a", 0, &mut s),
            Err(Malformed::BadLabelType { at: 0, kind: 0x40 })
        );
        assert_eq!(
            skip_name(b"\x01a", 0),
            Err(Malformed::LabelPastEnd { at: 2 })
        );
        assert_eq!(
            skip_name(b"\xc0", 0),
            Err(Malformed::LabelPastEnd { at: 0 })
        );
    }
}
