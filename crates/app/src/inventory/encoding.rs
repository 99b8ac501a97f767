//! Text encoding of an inventory file: bytes in → UTF-8 text (a UTF-8 byte
//! order mark removed) or one error per line that is not UTF-8, naming the
//! encoding the bytes look like (UTF-16, UTF-32, Latin-1/Windows-1252) so the
//! operator knows what to re-save the file as.

#![deny(clippy::indexing_slicing)]

use super::LineError;

/// The file's text, or what is wrong with its encoding.
pub fn decode(bytes: &[u8]) -> Result<&str, Vec<LineError>> {
    let file_level = |what: &str| {
        vec![LineError::new(
            1,
            format!("the file is encoded as {what}; save it as UTF-8"),
        )]
    };
    if bytes.starts_with(&[0xff, 0xfe, 0, 0]) || bytes.starts_with(&[0, 0, 0xfe, 0xff]) {
        return Err(file_level("UTF-32"));
    }
    if bytes.starts_with(&[0xff, 0xfe]) {
        return Err(file_level("UTF-16 (little-endian, with a byte order mark)"));
    }
    if bytes.starts_with(&[0xfe, 0xff]) {
        return Err(file_level("UTF-16 (big-endian, with a byte order mark)"));
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if let Some(order) = utf16_without_bom(bytes) {
        return Err(file_level(order));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(_) => Err(line_errors(bytes)),
    }
}

/// Text in UTF-16 has a NUL in every other byte for ASCII characters.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static str> {
    let head = bytes.get(..bytes.len().min(64))?;
    if head.len() < 4 {
        return None;
    }
    let even_nuls = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nuls = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    let half = head.len() / 2;
    if odd_nuls * 4 >= half * 3 && even_nuls == 0 {
        Some("UTF-16 (little-endian, no byte order mark)")
    } else if even_nuls * 4 >= half * 3 && odd_nuls == 0 {
        Some("UTF-16 (big-endian, no byte order mark)")
    } else {
        None
    }
}

/// One error per line holding bytes that are not UTF-8.
fn line_errors(bytes: &[u8]) -> Vec<LineError> {
    let mut out = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let Err(e) = std::str::from_utf8(line) else {
            continue;
        };
        let at = e.valid_up_to();
        let bad = line.get(at).copied().unwrap_or(0);
        let column = line
            .get(..at)
            .and_then(|ok| std::str::from_utf8(ok).ok())
            .map_or(at, |ok| ok.chars().count())
            + 1;
        let guess = if (0x80..=0x9f).contains(&bad) {
            "this looks like Windows-1252 text"
        } else {
            "this looks like Latin-1 (ISO-8859-1) or Windows-1252 text"
        };
        out.push(LineError::new(
            i + 1,
            format!(
                "not valid UTF-8 at column {column} (byte 0x{bad:02x}): {guess}; save the file as UTF-8"
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode(b"mac,name\n").unwrap(), "mac,name\n");
        assert_eq!(decode(b"\xef\xbb\xbfmac,name\n").unwrap(), "mac,name\n");
        let text = "ip,name\n10.0.0.1,Caf\u{e9}\n";
        assert_eq!(decode(text.as_bytes()).unwrap(), text);
    }

    #[test]
    fn latin1_lines_are_named() {
        let errs =
            decode(b"mac,name\n02:00:00:00:00:01,ok\n02:00:00:00:00:02,Caf\xe9\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 3);
        assert!(errs[0].message.contains("column 22"), "{}", errs[0].message);
        assert!(errs[0].message.contains("0xe9"));
        assert!(errs[0].message.contains("Latin-1"));
    }

    #[test]
    fn utf16_is_recognised_with_or_without_bom() {
        let text: Vec<u8> = "mac,name\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let mut with_bom = vec![0xff, 0xfe];
        with_bom.extend_from_slice(&text);
        assert!(decode(&with_bom).unwrap_err()[0]
            .message
            .contains("UTF-16 (little-endian, with"));
        assert!(decode(&text).unwrap_err()[0]
            .message
            .contains("UTF-16 (little-endian, no"));
        let be: Vec<u8> = "mac,name\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert!(decode(&be).unwrap_err()[0].message.contains("big-endian"));
    }
}
