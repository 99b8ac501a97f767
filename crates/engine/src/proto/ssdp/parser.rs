//! SSDP parsing (UPnP device architecture: HTTP-formatted messages over UDP
//! 1900): one datagram in → an [`SsdpMessage`] (start line and the headers
//! gatewatch logs, borrowed) out, or an [`SsdpError`] when the start line is
//! not HTTP.
//!
//! Lines end in CRLF (a bare LF is accepted); headers stop at the empty
//! line. Header names are matched case-insensitively; the first instance of
//! a header wins. Limits: [`MAX_HEADER_LINES`] header lines read,
//! [`MAX_START_LINE`] bytes of start line; nothing is allocated.
#![deny(clippy::indexing_slicing)]

use thiserror::Error;

/// Header lines read per message; the rest is flagged and ignored.
pub const MAX_HEADER_LINES: usize = 64;
/// Longest start line accepted (`M-SEARCH * HTTP/1.1` is 19 bytes).
pub const MAX_START_LINE: usize = 256;
/// Longest method token accepted.
pub const MAX_METHOD_LEN: usize = 32;

/// Why a datagram is not an HTTP-formatted SSDP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SsdpError {
    #[error("SSDP start line missing or longer than {MAX_START_LINE} bytes; not HTTP over UDP")]
    NoStartLine,
    #[error("SSDP start line is neither `METHOD target HTTP/1.x` nor `HTTP/1.x code reason`")]
    BadStartLine,
}

/// The first line of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    Request { method: &'a [u8], target: &'a [u8] },
    Response { status: u16, reason: &'a [u8] },
}

/// Problems in the header block (the message is still used).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderIssues {
    /// A header line without a colon or with an empty name.
    pub bad_header_line: bool,
    /// More than [`MAX_HEADER_LINES`] header lines.
    pub too_many_headers: bool,
    /// The datagram ended before the empty line closing the headers.
    pub unterminated: bool,
}

/// One SSDP message; header values are trimmed, untruncated slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsdpMessage<'a> {
    pub start: StartLine<'a>,
    pub host: Option<&'a [u8]>,
    /// NT: notification type (NOTIFY).
    pub nt: Option<&'a [u8]>,
    /// NTS: `ssdp:alive`, `ssdp:byebye`, `ssdp:update`.
    pub nts: Option<&'a [u8]>,
    /// ST: search target (M-SEARCH and its responses).
    pub st: Option<&'a [u8]>,
    pub usn: Option<&'a [u8]>,
    pub server: Option<&'a [u8]>,
    pub location: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    pub cache_control: Option<&'a [u8]>,
    /// MAN: `"ssdp:discover"`.
    pub man: Option<&'a [u8]>,
    pub mx: Option<&'a [u8]>,
    /// Header lines read.
    pub header_count: usize,
    pub issues: HeaderIssues,
}

/// Parses one datagram as SSDP.
pub fn parse(data: &[u8]) -> Result<SsdpMessage<'_>, SsdpError> {
    let (first, mut rest) = split_line(data).ok_or(SsdpError::NoStartLine)?;
    if first.len() > MAX_START_LINE {
        return Err(SsdpError::NoStartLine);
    }
    let start = start_line(first).ok_or(SsdpError::BadStartLine)?;
    let mut msg = SsdpMessage {
        start,
        host: None,
        nt: None,
        nts: None,
        st: None,
        usn: None,
        server: None,
        location: None,
        user_agent: None,
        cache_control: None,
        man: None,
        mx: None,
        header_count: 0,
        issues: HeaderIssues::default(),
    };
    loop {
        let Some((line, after)) = split_line(rest) else {
            // No line end: a last header without CRLF, or nothing at all.
            if !rest.is_empty() {
                header(rest, &mut msg);
            }
            msg.issues.unterminated = true;
            return Ok(msg);
        };
        rest = after;
        if line.is_empty() {
            return Ok(msg);
        }
        if msg.header_count >= MAX_HEADER_LINES {
            msg.issues.too_many_headers = true;
            return Ok(msg);
        }
        header(line, &mut msg);
    }
}

/// Splits off one line ending in LF (a CR before it is dropped).
fn split_line(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = data.iter().position(|&b| b == b'\n')?;
    let (line, rest) = data.split_at_checked(end)?;
    let rest = rest.get(1..).unwrap_or_default();
    Some((line.strip_suffix(b"\r").unwrap_or(line), rest))
}

fn start_line(line: &[u8]) -> Option<StartLine<'_>> {
    let mut parts = line.splitn(3, |&b| b == b' ');
    let a = parts.next()?;
    let b = parts.next()?;
    let c = parts.next().unwrap_or_default();
    if a.starts_with(b"HTTP/1.") {
        let status = std::str::from_utf8(b).ok()?.parse::<u16>().ok()?;
        return (100..=999)
            .contains(&status)
            .then_some(StartLine::Response { status, reason: c });
    }
    let token = |t: &[u8]| {
        t.iter()
            .all(|&x| x.is_ascii_uppercase() || x == b'-' || x == b'_')
    };
    if c.starts_with(b"HTTP/1.") && !a.is_empty() && a.len() <= MAX_METHOD_LEN && token(a) {
        return Some(StartLine::Request {
            method: a,
            target: b,
        });
    }
    None
}

fn header<'a>(line: &'a [u8], msg: &mut SsdpMessage<'a>) {
    msg.header_count += 1;
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        msg.issues.bad_header_line = true;
        return;
    };
    let (name, value) = line.split_at(colon.min(line.len()));
    let name = name.trim_ascii();
    let value = value.get(1..).unwrap_or_default().trim_ascii();
    if name.is_empty() {
        msg.issues.bad_header_line = true;
        return;
    }
    let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
    let slot = if is(b"HOST") {
        &mut msg.host
    } else if is(b"NT") {
        &mut msg.nt
    } else if is(b"NTS") {
        &mut msg.nts
    } else if is(b"ST") {
        &mut msg.st
    } else if is(b"USN") {
        &mut msg.usn
    } else if is(b"SERVER") {
        &mut msg.server
    } else if is(b"LOCATION") {
        &mut msg.location
    } else if is(b"USER-AGENT") {
        &mut msg.user_agent
    } else if is(b"CACHE-CONTROL") {
        &mut msg.cache_control
    } else if is(b"MAN") {
        &mut msg.man
    } else if is(b"MX") {
        &mut msg.mx
    } else {
        return;
    };
    if slot.is_none() {
        *slot = Some(value);
    }
}

/// The `max-age` directive of a CACHE-CONTROL value (`max-age = 1800`, …).
pub fn max_age(cache_control: &[u8]) -> Option<u64> {
    cache_control.split(|&b| b == b',').find_map(|directive| {
        let (name, value) =
            directive.split_at_checked(directive.iter().position(|&b| b == b'=')?)?;
        if !name.trim_ascii().eq_ignore_ascii_case(b"max-age") {
            return None;
        }
        let digits = value.get(1..)?.trim_ascii();
        std::str::from_utf8(digits).ok()?.parse().ok()
    })
}

/// A decimal header value such as MX.
pub fn decimal(value: &[u8]) -> Option<u64> {
    std::str::from_utf8(value.trim_ascii()).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_forms() {
        assert_eq!(max_age(b"max-age=1800"), Some(1800));
        assert_eq!(max_age(b"no-cache, MAX-AGE = 60"), Some(60));
        assert_eq!(max_age(b"max-age"), None);
        assert_eq!(max_age(b"max-age=x"), None);
    }

    #[test]
    fn start_lines() {
        assert!(matches!(
            start_line(b"M-SEARCH * HTTP/1.1"),
            Some(StartLine::Request {
                method: b"M-SEARCH",
                target: b"*"
            })
        ));
        assert!(matches!(
            start_line(b"HTTP/1.1 200 OK"),
            Some(StartLine::Response { status: 200, .. })
        ));
        assert_eq!(start_line(b"hello world"), None);
        assert_eq!(start_line(b"HTTP/1.1 abc OK"), None);
        assert_eq!(start_line(b"get / HTTP/1.1"), None);
    }
}
