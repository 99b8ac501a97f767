//! Text protocols on HTTP syntax: HTTP/1.1, RTSP/1.0 and SSDP (HTTPU) messages.
//!
//! Request lines and headers in → bytes out; bodies are appended by the
//! caller so large downloads are not built twice. `Content-Length` always
//! matches the body the caller sends.

use super::http_date;

pub const PORT: u16 = 80;
pub const RTSP_PORT: u16 = 554;
pub const SSDP_PORT: u16 = 1900;

/// An HTTP/1.1 request head (and body, if any).
pub fn request(
    method: &str,
    host: &str,
    path: &str,
    user_agent: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut s = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\n"
    );
    for (k, v) in extra {
        s.push_str(k);
        s.push_str(": ");
        s.push_str(v);
        s.push_str("\r\n");
    }
    if !body.is_empty() {
        s.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    s.push_str("Connection: close\r\n\r\n");
    let mut b = s.into_bytes();
    b.extend_from_slice(body);
    b
}

/// An HTTP/1.1 response head announcing `body_len` bytes of `content_type`.
pub fn response_head(
    status: u16,
    reason: &str,
    server: &str,
    content_type: &str,
    body_len: usize,
    unix_secs: i64,
) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {reason}\r\nDate: {}\r\nServer: {server}\r\nContent-Type: {content_type}\r\nContent-Length: {body_len}\r\nConnection: close\r\n\r\n",
        http_date(unix_secs)
    )
    .into_bytes()
}

/// An RTSP/1.0 request.
pub fn rtsp_request(
    method: &str,
    url: &str,
    cseq: u32,
    user_agent: &str,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let mut s = format!("{method} {url} RTSP/1.0\r\nCSeq: {cseq}\r\nUser-Agent: {user_agent}\r\n");
    for (k, v) in extra {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s.into_bytes()
}

/// An RTSP/1.0 `200 OK` response, with an optional SDP body.
pub fn rtsp_response(cseq: u32, extra: &[(&str, &str)], sdp: Option<&str>) -> Vec<u8> {
    let mut s = format!("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n");
    for (k, v) in extra {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(body) = sdp {
        s.push_str(&format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    } else {
        s.push_str("\r\n");
    }
    s.into_bytes()
}

/// One interleaved RTP packet on an RTSP connection (`$`, channel, length, RTP header, payload).
pub fn rtp_interleaved(
    out: &mut Vec<u8>,
    channel: u8,
    seq: u16,
    timestamp: u32,
    ssrc: u32,
    marker: bool,
    payload: &[u8],
) {
    let len = (12 + payload.len()).min(usize::from(u16::MAX));
    out.push(b'$');
    out.push(channel);
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.push(0x80);
    out.push(if marker { 0x80 | 96 } else { 96 });
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.extend_from_slice(payload.get(..len - 12).unwrap_or_default());
}

/// An SSDP `NOTIFY ssdp:alive` announcement.
pub fn ssdp_notify(location: &str, server: &str, nt: &str, usn: &str) -> Vec<u8> {
    format!(
        "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: {location}\r\nNT: {nt}\r\nNTS: ssdp:alive\r\nSERVER: {server}\r\nUSN: {usn}\r\n\r\n"
    )
    .into_bytes()
}

/// An SSDP `M-SEARCH` for `target`.
pub fn ssdp_msearch(target: &str, user_agent: &str) -> Vec<u8> {
    format!("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: {target}\r\nUSER-AGENT: {user_agent}\r\n\r\n").into_bytes()
}

/// A structurally valid baseline JPEG of about `len` bytes (JFIF, DQT, SOF0, SOS, scan data, EOI).
/// Scan bytes come from `noise` with 0xFF avoided, so no stray markers appear.
pub fn jpeg(len: usize, width: u16, height: u16, noise: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(len.max(256));
    b.extend_from_slice(&[0xff, 0xd8]);
    b.extend_from_slice(&[
        0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ]);
    b.extend_from_slice(&[0xff, 0xdb, 0x00, 0x43, 0x00]);
    b.extend((1..=64u8).map(|q| q.saturating_add(4)));
    b.extend_from_slice(&[0xff, 0xc0, 0x00, 0x11, 0x08]);
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    b.extend_from_slice(&[
        0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00,
    ]);
    let scan = len.saturating_sub(b.len() + 2).max(16);
    b.extend(
        noise
            .iter()
            .cycle()
            .take(scan)
            .map(|&x| if x == 0xff { 0xfe } else { x }),
    );
    b.extend_from_slice(&[0xff, 0xd9]);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_has_host_agent_and_body_length() {
        let r = request("POST", "api.example.com", "/v1/x", "Agent/1.0", &[], b"abc");
        let s = String::from_utf8(r).unwrap_or_default();
        assert!(s.starts_with(
            "POST /v1/x HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: Agent/1.0\r\n"
        ));
        assert!(s.contains("Content-Length: 3\r\n"));
        assert!(s.ends_with("\r\n\r\nabc"));
    }

    #[test]
    fn rtp_frame_length_covers_header_and_payload() {
        let mut out = Vec::new();
        rtp_interleaved(&mut out, 0, 1, 90_000, 0x1234, true, &[9u8; 100]);
        assert_eq!(out.get(..4), Some(&[b'$', 0, 0, 112][..]));
        assert_eq!(out.len(), 4 + 112);
        assert_eq!(out.get(5), Some(&(0x80 | 96)));
    }

    #[test]
    fn jpeg_has_markers_and_no_stray_ff_in_scan() {
        let j = jpeg(2000, 640, 360, &[0xff, 1, 2]);
        assert_eq!(j.len(), 2000);
        assert_eq!(j.get(..2), Some(&[0xff, 0xd8][..]));
        assert_eq!(j.get(j.len() - 2..), Some(&[0xff, 0xd9][..]));
        let sos = j.windows(2).position(|w| w == [0xff, 0xda]).unwrap_or(0);
        assert!(j
            .get(sos + 14..j.len() - 2)
            .unwrap_or_default()
            .iter()
            .all(|&x| x != 0xff));
    }
}
