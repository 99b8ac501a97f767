//! HTTP/1.x and RTSP/1.0 line grammar: one line (CRLF already removed) in →
//! borrowed pieces out: request lines, status lines, header lines, chunk-size
//! lines, plus the value decoders the log needs (Content-Length,
//! Transfer-Encoding, Basic credentials, `%xx` unescaping).
//!
//! No state and no allocation except the decoded strings handed back.
//! Limits: methods longer than [`MAX_METHOD_LEN`] are refused; chunk sizes of
//! more than 16 hex digits are refused; decoded strings are cut at the `max`
//! each caller passes.
#![deny(clippy::indexing_slicing)]

/// Longest request method accepted (the longest registered one is 17 bytes).
pub const MAX_METHOD_LEN: usize = 32;

/// Which protocol a start line announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `HTTP/1.x`.
    Http,
    /// `RTSP/1.0` (cameras, media servers): same message syntax as HTTP.
    Rtsp,
}

/// `METHOD SP URI SP PROTO/x.y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLine<'a> {
    pub method: &'a [u8],
    pub uri: &'a [u8],
    pub dialect: Dialect,
    /// The version after `HTTP/` or `RTSP/`, e.g. `1.1`.
    pub version: &'a [u8],
}

/// `PROTO/x.y SP CODE [SP reason]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusLine<'a> {
    pub dialect: Dialect,
    pub version: &'a [u8],
    pub code: u16,
    pub reason: &'a [u8],
}

/// Headers whose values feed the log or the message framing; all others are
/// skipped after being counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownHeader {
    Host,
    UserAgent,
    Referer,
    Origin,
    Authorization,
    ProxyAuthorization,
    Server,
    ContentLength,
    TransferEncoding,
    /// One of Zeek's `HTTP::proxy_headers` (the name is kept for the log).
    Proxy,
}

/// Zeek's `HTTP::proxy_headers`.
const PROXY_HEADERS: [&[u8]; 7] = [
    b"forwarded",
    b"x-forwarded-for",
    b"x-forwarded-from",
    b"client-ip",
    b"via",
    b"xroxy-connection",
    b"proxy-connection",
];

/// Names a header case-insensitively.
pub fn classify_header(name: &[u8]) -> Option<KnownHeader> {
    let known: [(&[u8], KnownHeader); 9] = [
        (b"host", KnownHeader::Host),
        (b"user-agent", KnownHeader::UserAgent),
        (b"referer", KnownHeader::Referer),
        (b"origin", KnownHeader::Origin),
        (b"authorization", KnownHeader::Authorization),
        (b"proxy-authorization", KnownHeader::ProxyAuthorization),
        (b"server", KnownHeader::Server),
        (b"content-length", KnownHeader::ContentLength),
        (b"transfer-encoding", KnownHeader::TransferEncoding),
    ];
    let found = known
        .iter()
        .find(|(n, _)| n.len() == name.len() && n.eq_ignore_ascii_case(name))
        .map(|&(_, h)| h);
    found.or_else(|| {
        PROXY_HEADERS
            .iter()
            .any(|n| n.len() == name.len() && n.eq_ignore_ascii_case(name))
            .then_some(KnownHeader::Proxy)
    })
}

/// RFC 9110 `tchar` without the characters no real method uses.
fn is_method_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
}

/// Splits `PROTO/x.y` into its dialect and version, HTTP/1.x and RTSP/1.x only.
fn parse_protocol(word: &[u8]) -> Option<(Dialect, &[u8])> {
    let (proto, version) = word.split_at_checked(5)?;
    let dialect = if proto == b"HTTP/" {
        Dialect::Http
    } else if proto == b"RTSP/" {
        Dialect::Rtsp
    } else {
        return None;
    };
    match version {
        [b'1', b'.', minor] if minor.is_ascii_digit() => Some((dialect, version)),
        _ => None,
    }
}

/// Whether `line` begins like a request method followed by a space, so far
/// as it goes (used by the probe on partial data).
pub fn method_prefix(line: &[u8]) -> bool {
    let name_len = line.iter().take_while(|&&b| is_method_byte(b)).count();
    let first_is_letter = line.first().is_some_and(u8::is_ascii_alphabetic);
    match line.get(name_len) {
        None => first_is_letter && name_len <= MAX_METHOD_LEN,
        Some(&b' ') => first_is_letter && (1..=MAX_METHOD_LEN).contains(&name_len),
        Some(_) => false,
    }
}

/// Parses a request line: the method is the first word, the protocol the
/// last; the URI is everything between (it may hold spaces, as attack
/// requests often do; Zeek and tshark read it the same way). A missing
/// protocol (HTTP/0.9) or any other protocol is refused.
pub fn parse_request_line(line: &[u8]) -> Option<RequestLine<'_>> {
    let first_space = line.iter().position(|&b| b == b' ')?;
    let last_space = line.iter().rposition(|&b| b == b' ')?;
    let (method, _) = line.split_at_checked(first_space)?;
    let protocol = line.get(last_space + 1..)?;
    let uri = trim(line.get(first_space..last_space)?);
    if uri.is_empty()
        || method.len() > MAX_METHOD_LEN
        || !method.first().is_some_and(u8::is_ascii_alphabetic)
        || !method.iter().all(|&b| is_method_byte(b))
        || uri.iter().any(|&b| b.is_ascii_control())
    {
        return None;
    }
    let (dialect, version) = parse_protocol(protocol)?;
    Some(RequestLine {
        method,
        uri,
        dialect,
        version,
    })
}

/// Parses a status line; the reason phrase may be empty or missing.
pub fn parse_status_line(line: &[u8]) -> Option<StatusLine<'_>> {
    let space = line.iter().position(|&b| b == b' ')?;
    let (protocol, rest) = line.split_at_checked(space)?;
    let (dialect, version) = parse_protocol(protocol)?;
    let rest = trim_start(rest);
    let (digits, reason) = rest.split_at_checked(3)?;
    if !digits.iter().all(u8::is_ascii_digit) || reason.first().is_some_and(|&b| b != b' ') {
        return None;
    }
    let code = digits
        .iter()
        .fold(0u16, |acc, &d| acc * 10 + u16::from(d - b'0'));
    Some(StatusLine {
        dialect,
        version,
        code,
        reason: trim(reason),
    })
}

/// Splits `Name: value` with the value's surrounding blanks removed. The name
/// must be a non-empty token without blanks.
pub fn parse_header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, rest) = line.split_at_checked(colon)?;
    let value = rest.get(1..)?;
    if name.is_empty() || name.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return None;
    }
    Some((name, trim(value)))
}

/// The size of a chunk from its size line (extensions after `;` ignored).
pub fn parse_chunk_size(line: &[u8]) -> Option<u64> {
    let digits_len = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let (digits, rest) = line.split_at_checked(digits_len)?;
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let rest = trim_start(rest);
    if !(rest.is_empty() || rest.first() == Some(&b';')) {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        let v = char::from(d).to_digit(16)?;
        acc.checked_mul(16)?.checked_add(u64::from(v))
    })
}

/// A Content-Length value: decimal digits only, no overflow.
pub fn parse_content_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    value.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// Whether a Transfer-Encoding value ends with the `chunked` coding.
pub fn is_chunked(value: &[u8]) -> bool {
    value
        .rsplit(|&b| b == b',')
        .next()
        .is_some_and(|last| trim(last).eq_ignore_ascii_case(b"chunked"))
}

/// The first word of an Authorization value (`Basic`, `Digest`, `Bearer`, …).
pub fn auth_scheme(value: &[u8]) -> &[u8] {
    let end = value
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .unwrap_or(value.len());
    value.get(..end).unwrap_or(value)
}

/// The user name of Basic credentials as Zeek logs it: the text before the
/// first `:` of the decoded value, or `<problem-decoding> (value)` when the
/// value does not decode to `user:password`. `None` for other schemes.
/// The password is never returned (Zeek's `default_capture_password = F`).
pub fn basic_auth_username(value: &[u8], max: usize) -> Option<String> {
    let (scheme, rest) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"basic ") {
        return None;
    }
    let decoded = decode_base64(trim_start(rest));
    let user = decoded
        .as_deref()
        .and_then(|d| d.iter().position(|&b| b == b':').map(|i| d.get(..i)));
    match user {
        Some(Some(user)) => Some(crate::proto::bounded_string(user, max)),
        _ => {
            let shown = crate::proto::bounded_string(value, max);
            Some(format!("<problem-decoding> ({shown})"))
        }
    }
}

/// Standard base64 with optional `=` padding; `None` on any other byte.
fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    let text = text
        .strip_suffix(b"==")
        .or(text.strip_suffix(b"="))
        .unwrap_or(text);
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in text {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// Decodes every valid `%xx` group (Zeek logs the unescaped URI); invalid
/// groups are kept as they are. At most `max` input bytes are decoded.
pub fn unescape_uri(uri: &[u8], max: usize) -> String {
    let uri = uri.get(..max).unwrap_or(uri);
    if !uri.contains(&b'%') {
        return String::from_utf8_lossy(uri).into_owned();
    }
    let mut out = Vec::with_capacity(uri.len());
    let mut rest = uri;
    while let Some((&b, tail)) = rest.split_first() {
        let hex = match tail {
            [h, l, ..] if b == b'%' => char::from(*h).to_digit(16).zip(char::from(*l).to_digit(16)),
            _ => None,
        };
        match (hex, tail.get(2..)) {
            (Some((h, l)), Some(after)) => {
                out.push((h * 16 + l) as u8);
                rest = after;
            }
            _ => {
                out.push(b);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    s.get(n..).unwrap_or_default()
}

fn trim(s: &[u8]) -> &[u8] {
    let s = trim_start(s);
    let n = s
        .iter()
        .rev()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    s.get(..s.len() - n).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        let r = parse_request_line(b"GET /a?b=c HTTP/1.1").unwrap();
        assert_eq!(
            (r.method, r.uri, r.version),
            (&b"GET"[..], &b"/a?b=c"[..], &b"1.1"[..])
        );
        assert_eq!(r.dialect, Dialect::Http);
        let r = parse_request_line(b"GET_PARAMETER rtsp://10.2.2.2:8554/ RTSP/1.0").unwrap();
        assert_eq!(r.dialect, Dialect::Rtsp);
        assert_eq!(r.method, b"GET_PARAMETER");
        assert!(parse_request_line(b"GET /").is_none());
        assert!(parse_request_line(b"PRI * HTTP/2.0").is_none());
        assert!(parse_request_line(b"GET / HTTP/1.1 x").is_none());
        let r = parse_request_line(b"GET  /cgi;cat /etc/passwd|?a=b HTTP/1.1").unwrap();
        assert_eq!(r.uri, b"/cgi;cat /etc/passwd|?a=b");
        assert!(parse_request_line(b"1GET / HTTP/1.1").is_none());
        assert!(parse_request_line(b"G\x01T / HTTP/1.1").is_none());
    }

    #[test]
    fn status_lines() {
        let s = parse_status_line(b"HTTP/1.1 401 Unauthorized ").unwrap();
        assert_eq!(
            (s.code, s.reason, s.version),
            (401, &b"Unauthorized"[..], &b"1.1"[..])
        );
        let s = parse_status_line(b"RTSP/1.0 200").unwrap();
        assert_eq!(
            (s.code, s.reason, s.dialect),
            (200, &b""[..], Dialect::Rtsp)
        );
        assert!(parse_status_line(b"HTTP/1.1 20x OK").is_none());
        assert!(parse_status_line(b"HTTP/1.1 2000 OK").is_none());
        assert!(parse_status_line(b"SIP/2.0 200 OK").is_none());
    }

    #[test]
    fn headers_and_values() {
        assert_eq!(
            parse_header(b"Host:  a.b \t"),
            Some((&b"Host"[..], &b"a.b"[..]))
        );
        assert_eq!(parse_header(b"X-Empty:"), Some((&b"X-Empty"[..], &b""[..])));
        assert!(parse_header(b"Bad Name: x").is_none());
        assert!(parse_header(b"no colon").is_none());
        assert_eq!(classify_header(b"USER-agent"), Some(KnownHeader::UserAgent));
        assert_eq!(
            classify_header(b"X-Forwarded-For"),
            Some(KnownHeader::Proxy)
        );
        assert_eq!(classify_header(b"Accept"), None);
        assert_eq!(parse_content_length(b"42"), Some(42));
        assert_eq!(parse_content_length(b"4 2"), None);
        assert_eq!(parse_content_length(b"99999999999999999999"), None);
        assert!(is_chunked(b"gzip, Chunked"));
        assert!(!is_chunked(b"chunked, gzip"));
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(parse_chunk_size(b"1a"), Some(26));
        assert_eq!(parse_chunk_size(b"0;ext=1"), Some(0));
        assert_eq!(parse_chunk_size(b"10 "), Some(16));
        assert_eq!(parse_chunk_size(b"zz"), None);
        assert_eq!(parse_chunk_size(b"ffffffffffffffff"), Some(u64::MAX));
        assert_eq!(parse_chunk_size(b"10000000000000000"), None);
    }

    #[test]
    fn basic_auth_like_zeek() {
        // "test:fail2"
        assert_eq!(
            basic_auth_username(b"Basic dGVzdDpmYWlsMg==", 64).as_deref(),
            Some("test")
        );
        assert_eq!(
            basic_auth_username(b"basic   dGVzdDo=", 64).as_deref(),
            Some("test")
        );
        // "nocolon"
        assert_eq!(
            basic_auth_username(b"Basic bm9jb2xvbg==", 64).as_deref(),
            Some("<problem-decoding> (Basic bm9jb2xvbg==)")
        );
        assert!(basic_auth_username(b"Bearer abc", 64).is_none());
        assert_eq!(auth_scheme(b"Digest username=x"), b"Digest");
    }

    #[test]
    fn uri_unescaping() {
        assert_eq!(unescape_uri(b"/a%20b%2e%2E/%zz%4", 100), "/a b../%zz%4");
        assert_eq!(unescape_uri(b"/abcdef", 3), "/ab");
    }

    #[test]
    fn method_prefixes() {
        assert!(method_prefix(b"GE"));
        assert!(method_prefix(b"OPTIONS rtsp"));
        assert!(!method_prefix(b"\x16\x03\x01"));
        assert!(!method_prefix(b" GET"));
    }
}
