//! SSH wire formats before encryption: stream bytes in → identification
//! lines and binary packets out, and the fields gatewatch reads from them
//! (KEXINIT name-lists, the server host key blob).
//!
//! Limits: a line (identification or the text a server may send before it)
//! is framed up to [`MAX_LINE_LEN`] bytes; a binary packet may announce at
//! most [`MAX_PACKET_LEN`] bytes (RFC 4253 §6.1). Parsing never allocates:
//! everything returned borrows the input.
#![deny(clippy::indexing_slicing)]

/// Longest line framed before the identification string is found.
pub const MAX_LINE_LEN: usize = 1024;
/// Longest packet (length field + packet) accepted, as RFC 4253 requires
/// implementations to handle.
pub const MAX_PACKET_LEN: usize = 35000;
/// `packet_length` + `padding_length`.
pub const PACKET_HEADER_LEN: usize = 5;

pub const MSG_KEXINIT: u8 = 20;
pub const MSG_NEWKEYS: u8 = 21;
/// KEXDH_REPLY, KEX_ECDH_REPLY (and the hybrid post-quantum replies).
pub const MSG_KEX_REPLY: u8 = 31;
/// KEX_DH_GEX_REPLY.
pub const MSG_KEX_DH_GEX_REPLY: u8 = 33;

/// A bounded big-endian reader: a short input is an `Err(Truncated)`, never a panic.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// The input ended before the field at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated {
    pub at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Truncated> {
        let end = self.pos.checked_add(n).ok_or(Truncated { at: self.pos })?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or(Truncated { at: self.pos })?;
        self.pos = end;
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, Truncated> {
        let at = self.pos;
        self.take(1)?.first().copied().ok_or(Truncated { at })
    }

    pub fn u32(&mut self) -> Result<u32, Truncated> {
        let at = self.pos;
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| Truncated { at })?;
        Ok(u32::from_be_bytes(b))
    }

    /// An SSH `string`: u32 length, then that many bytes (checked against the input).
    pub fn string(&mut self) -> Result<&'a [u8], Truncated> {
        let at = self.pos;
        let len = usize::try_from(self.u32()?).map_err(|_| Truncated { at })?;
        self.take(len).map_err(|_| Truncated { at })
    }
}

/// A line at the head of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFraming<'a> {
    /// The line without its CR LF (or LF), and the bytes it used.
    Line {
        text: &'a [u8],
        len: usize,
    },
    Incomplete,
    /// No line end within [`MAX_LINE_LEN`] bytes.
    TooLong,
}

/// Frames one LF-terminated line.
pub fn line(bytes: &[u8]) -> LineFraming<'_> {
    let window = bytes.get(..MAX_LINE_LEN).unwrap_or(bytes);
    match window.iter().position(|&b| b == b'\n') {
        Some(i) => {
            let text = window.get(..i).unwrap_or_default();
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            LineFraming::Line { text, len: i + 1 }
        }
        None if window.len() >= MAX_LINE_LEN => LineFraming::TooLong,
        None => LineFraming::Incomplete,
    }
}

/// One binary packet (before encryption: no MAC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    pub msg_type: u8,
    /// The payload after the message type.
    pub body: &'a [u8],
}

/// A binary packet at the head of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketFraming<'a> {
    Packet {
        packet: Packet<'a>,
        len: usize,
    },
    Incomplete,
    /// Length or padding impossible: not an unencrypted SSH packet.
    Malformed,
}

/// Frames one binary packet: `u32 packet_length, u8 padding_length,
/// payload, padding`.
pub fn packet(bytes: &[u8]) -> PacketFraming<'_> {
    let mut r = Reader::new(bytes);
    let (Ok(packet_length), Ok(padding)) = (r.u32(), r.u8()) else {
        return PacketFraming::Incomplete;
    };
    let Ok(packet_length) = usize::try_from(packet_length) else {
        return PacketFraming::Malformed;
    };
    let padding = usize::from(padding);
    // The payload holds at least the message type.
    if packet_length > MAX_PACKET_LEN - 4 || packet_length < padding + 2 {
        return PacketFraming::Malformed;
    }
    let len = 4 + packet_length;
    let Some(payload) = bytes
        .get(..len)
        .and_then(|p| p.get(PACKET_HEADER_LEN..len - padding))
    else {
        return PacketFraming::Incomplete;
    };
    match payload.split_first() {
        Some((&msg_type, body)) => PacketFraming::Packet {
            packet: Packet { msg_type, body },
            len,
        },
        None => PacketFraming::Malformed,
    }
}

/// The name-lists of a KEXINIT (RFC 4253 §7.1), borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KexInit<'a> {
    pub kex_algorithms: &'a [u8],
    pub server_host_key_algorithms: &'a [u8],
    pub encryption_c2s: &'a [u8],
    pub encryption_s2c: &'a [u8],
    pub mac_c2s: &'a [u8],
    pub mac_s2c: &'a [u8],
    pub compression_c2s: &'a [u8],
    pub compression_s2c: &'a [u8],
}

/// Parses a KEXINIT body (after the message type): cookie, ten name-lists,
/// `first_kex_packet_follows`, reserved.
pub fn kexinit(body: &[u8]) -> Result<KexInit<'_>, Truncated> {
    let mut r = Reader::new(body);
    r.take(16)?;
    let kex = KexInit {
        kex_algorithms: r.string()?,
        server_host_key_algorithms: r.string()?,
        encryption_c2s: r.string()?,
        encryption_s2c: r.string()?,
        mac_c2s: r.string()?,
        mac_s2c: r.string()?,
        compression_c2s: r.string()?,
        compression_s2c: r.string()?,
    };
    r.string()?; // languages client to server
    r.string()?; // languages server to client
    r.u8()?;
    r.u32()?;
    Ok(kex)
}

/// The server host key blob `K_S`: the first string of a KEX reply.
pub fn host_key_blob(body: &[u8]) -> Result<&[u8], Truncated> {
    Reader::new(body).string()
}

/// The protocol version an identification string announces (`SSH-2.0-…` →
/// `(2, 0)`, `SSH-1.99-…` → `(1, 99)`); `None` when not `SSH-<n>.<n>-`.
pub fn ident_version(ident: &[u8]) -> Option<(u16, u16)> {
    let rest = ident.strip_prefix(b"SSH-")?;
    let dash = rest.iter().position(|&b| b == b'-')?;
    let proto = std::str::from_utf8(rest.get(..dash)?).ok()?;
    let (major, minor) = proto.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &[u8]) -> Vec<u8> {
        let mut v = (s.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(s);
        v
    }

    #[test]
    fn lines_are_framed_and_bounded() {
        assert_eq!(
            line(b"SSH-2.0-x\r\nrest"),
            LineFraming::Line {
                text: b"SSH-2.0-x",
                len: 11
            }
        );
        assert_eq!(line(b"SSH-2.0"), LineFraming::Incomplete);
        assert_eq!(line(&[b'a'; MAX_LINE_LEN]), LineFraming::TooLong);
    }

    #[test]
    fn packets_are_framed() {
        // packet_length 12, padding 4: payload = 7 bytes (type 21 + 6).
        let mut p = vec![0, 0, 0, 12, 4, 21, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0];
        let PacketFraming::Packet { packet, len } = packet(&p) else {
            panic!("not framed")
        };
        assert_eq!((packet.msg_type, packet.body.len(), len), (21, 6, 16));
        p.pop();
        assert_eq!(super::packet(&p), PacketFraming::Incomplete);
        assert_eq!(super::packet(&[0, 0, 0, 3, 4, 1]), PacketFraming::Malformed);
        assert_eq!(
            super::packet(&[0, 1, 0, 0, 4, 1]),
            PacketFraming::Malformed,
            "65536 > MAX_PACKET_LEN"
        );
    }

    #[test]
    fn kexinit_lists_and_truncation() {
        let mut body = vec![0u8; 16];
        for l in [
            &b"curve25519-sha256"[..],
            b"ssh-ed25519",
            b"aes128-ctr",
            b"aes256-ctr",
        ] {
            body.extend(string(l));
        }
        for l in [
            &b"hmac-sha1"[..],
            b"hmac-sha2-256",
            b"none",
            b"zlib",
            b"",
            b"",
        ] {
            body.extend(string(l));
        }
        body.extend([0, 0, 0, 0, 0]);
        let k = kexinit(&body).unwrap();
        assert_eq!(k.kex_algorithms, b"curve25519-sha256");
        assert_eq!(k.encryption_s2c, b"aes256-ctr");
        assert_eq!(k.compression_s2c, b"zlib");
        assert!(kexinit(&body[..body.len() - 1]).is_err());
        let mut lying = vec![0u8; 16];
        lying.extend([0xff, 0xff, 0xff, 0xff, b'a']);
        assert_eq!(kexinit(&lying), Err(Truncated { at: 16 }));
    }

    #[test]
    fn versions() {
        assert_eq!(ident_version(b"SSH-2.0-OpenSSH_8.9"), Some((2, 0)));
        assert_eq!(ident_version(b"SSH-1.99-Cisco-1.25"), Some((1, 99)));
        assert_eq!(ident_version(b"SSH-2.0"), None);
        assert_eq!(ident_version(b"HTTP/1.1 200"), None);
    }
}
