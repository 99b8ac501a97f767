//! TLS/DTLS wire structures: bytes of one record header, one handshake message
//! or one extension in → borrowed views out, through a bounded [`Reader`] that
//! can only hand out the bytes that remain (a lying length field ends in a
//! [`ParseError`], never an out-of-bounds index or an allocation).
//!
//! Hand-written rather than `tls-parser`'s `parse_tls_extensions`: that parser
//! stops the whole extension list at the first extension whose *content* it
//! rejects (`many0(complete(..))`), silently dropping the rest, which would
//! change JA3/JA4 on fuzzed or unusual hellos; it also allocates a `Vec` per
//! hello. Here extensions are walked as raw (type, body) pairs and only the
//! bodies the log needs are decoded, each on its own.
//!
//! Nothing here allocates; iterators borrow the message bytes.
#![deny(clippy::indexing_slicing)]

/// A wire structure was shorter than its own length fields say, or a field
/// holds a value the protocol forbids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("truncated at offset {at}: {field} needs {needed} bytes, {available} left (message cut or length field lies)")]
    Truncated {
        field: &'static str,
        at: usize,
        needed: usize,
        available: usize,
    },
    #[error("invalid {field} at offset {at}: {why}")]
    Invalid {
        field: &'static str,
        at: usize,
        why: &'static str,
    },
}

/// Reads big-endian fields from a byte slice, never past its end.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, at: 0 }
    }

    /// Offset of the next byte to read.
    pub fn offset(&self) -> usize {
        self.at
    }

    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.at)
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ParseError> {
        let end = self.at.checked_add(n);
        match end.and_then(|end| self.buf.get(self.at..end)) {
            Some(bytes) => {
                self.at += n;
                Ok(bytes)
            }
            None => Err(ParseError::Truncated {
                field,
                at: self.at,
                needed: n,
                available: self.remaining(),
            }),
        }
    }

    /// Everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        let rest = self.buf.get(self.at..).unwrap_or(&[]);
        self.at = self.buf.len();
        rest
    }

    pub fn u8(&mut self, field: &'static str) -> Result<u8, ParseError> {
        let b = self.take(1, field)?;
        Ok(b.first().copied().unwrap_or(0))
    }

    pub fn u16(&mut self, field: &'static str) -> Result<u16, ParseError> {
        let b = self.take(2, field)?;
        Ok(b.iter().fold(0u16, |acc, &x| (acc << 8) | u16::from(x)))
    }

    pub fn u24(&mut self, field: &'static str) -> Result<usize, ParseError> {
        let b = self.take(3, field)?;
        Ok(b.iter().fold(0usize, |acc, &x| (acc << 8) | usize::from(x)))
    }

    /// A byte string preceded by a one-byte length.
    pub fn vec8(&mut self, field: &'static str) -> Result<&'a [u8], ParseError> {
        let n = self.u8(field)?;
        self.take(usize::from(n), field)
    }

    /// A byte string preceded by a two-byte length.
    pub fn vec16(&mut self, field: &'static str) -> Result<&'a [u8], ParseError> {
        let n = self.u16(field)?;
        self.take(usize::from(n), field)
    }

    /// A byte string preceded by a three-byte length.
    pub fn vec24(&mut self, field: &'static str) -> Result<&'a [u8], ParseError> {
        let n = self.u24(field)?;
        self.take(n, field)
    }
}

/// Record content types (RFC 8446 §5.1, RFC 6520).
pub mod content_type {
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    pub const ALERT: u8 = 21;
    pub const HANDSHAKE: u8 = 22;
    pub const APPLICATION_DATA: u8 = 23;
    pub const HEARTBEAT: u8 = 24;
}

/// Handshake message types used by the analyzer.
pub mod handshake_type {
    pub const CLIENT_HELLO: u8 = 1;
    pub const SERVER_HELLO: u8 = 2;
    pub const HELLO_VERIFY_REQUEST: u8 = 3;
    pub const CERTIFICATE: u8 = 11;
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    pub const CLIENT_KEY_EXCHANGE: u8 = 16;
}

/// Extension types the analyzer decodes.
pub mod extension_type {
    pub const SERVER_NAME: u16 = 0;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const SESSION_TICKET: u16 = 35;
    pub const PRE_SHARED_KEY: u16 = 41;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const KEY_SHARE: u16 = 51;
}

/// Largest record body accepted: 2^14 plaintext plus the 2048 bytes of
/// expansion RFC 5246 §6.2.3 allows for ciphertext (TLS 1.3 allows 256; the
/// older bound is kept so TLS 1.2 streams are not rejected).
pub const MAX_RECORD_BODY: usize = (1 << 14) + 2048;

/// Length of a TLS record header.
pub const TLS_RECORD_HEADER: usize = 5;
/// Length of a DTLS record header (type, version, epoch, 48-bit sequence, length).
pub const DTLS_RECORD_HEADER: usize = 13;
/// Length of a TLS handshake message header (type, 24-bit length).
pub const HANDSHAKE_HEADER: usize = 4;
/// Length of a DTLS handshake header (type, length, message_seq, fragment offset and length).
pub const DTLS_HANDSHAKE_HEADER: usize = 12;

/// A TLS record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub content_type: u8,
    pub version: u16,
    pub len: usize,
}

/// Checks a 5-byte TLS record header: a known content type, major version 3
/// and a length within [`MAX_RECORD_BODY`].
pub fn tls_record_header(b: [u8; TLS_RECORD_HEADER]) -> Result<RecordHeader, ParseError> {
    let [content_type, major, minor, len_hi, len_lo] = b;
    if !(content_type::CHANGE_CIPHER_SPEC..=content_type::HEARTBEAT).contains(&content_type) {
        return Err(ParseError::Invalid {
            field: "record content type",
            at: 0,
            why: "not 20..=24",
        });
    }
    if major != 3 || minor > 4 {
        return Err(ParseError::Invalid {
            field: "record version",
            at: 1,
            why: "not 3.0..=3.4",
        });
    }
    let len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    if len > MAX_RECORD_BODY {
        return Err(ParseError::Invalid {
            field: "record length",
            at: 3,
            why: "over 2^14 + 2048",
        });
    }
    Ok(RecordHeader {
        content_type,
        version: u16::from_be_bytes([major, minor]),
        len,
    })
}

/// A DTLS record header and its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtlsRecord<'a> {
    pub content_type: u8,
    pub version: u16,
    pub epoch: u16,
    pub body: &'a [u8],
}

/// Reads one DTLS record from the front of a datagram.
pub fn dtls_record<'a>(r: &mut Reader<'a>) -> Result<DtlsRecord<'a>, ParseError> {
    let content_type = r.u8("DTLS record content type")?;
    let version = r.u16("DTLS record version")?;
    if !(content_type::CHANGE_CIPHER_SPEC..=content_type::HEARTBEAT).contains(&content_type)
        || version >> 8 != 0xfe
    {
        return Err(ParseError::Invalid {
            field: "DTLS record header",
            at: r.offset(),
            why: "content type not 20..=24 or version major not 0xfe",
        });
    }
    let epoch = r.u16("DTLS epoch")?;
    r.take(6, "DTLS sequence number")?;
    let body = r.vec16("DTLS record body")?;
    Ok(DtlsRecord {
        content_type,
        version,
        epoch,
        body,
    })
}

/// One DTLS handshake fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtlsFragment<'a> {
    pub msg_type: u8,
    /// Length of the whole message.
    pub msg_len: usize,
    pub msg_seq: u16,
    pub offset: usize,
    pub bytes: &'a [u8],
}

/// Reads one handshake fragment from a DTLS handshake record body.
pub fn dtls_fragment<'a>(r: &mut Reader<'a>) -> Result<DtlsFragment<'a>, ParseError> {
    let msg_type = r.u8("DTLS handshake type")?;
    let msg_len = r.u24("DTLS handshake length")?;
    let msg_seq = r.u16("DTLS message_seq")?;
    let offset = r.u24("DTLS fragment_offset")?;
    let bytes = r.vec24("DTLS fragment")?;
    if offset.saturating_add(bytes.len()) > msg_len {
        return Err(ParseError::Invalid {
            field: "DTLS fragment",
            at: r.offset(),
            why: "fragment ends past the message length",
        });
    }
    Ok(DtlsFragment {
        msg_type,
        msg_len,
        msg_seq,
        offset,
        bytes,
    })
}

/// The length of an SSLv2-compatible ClientHello record (RFC 5246 appendix
/// E.2) starting at `b`, when `b` starts with one: two-byte header with the
/// high bit set, message type 1, a known version. `None` otherwise.
pub fn sslv2_client_hello_len(b: &[u8]) -> Option<usize> {
    let [h0, h1, msg_type, major, minor, ..] = *b else {
        return None;
    };
    let version = u16::from_be_bytes([major, minor]);
    let known = version == 0x0002 || (0x0300..=0x0304).contains(&version);
    if h0 & 0x80 == 0 || msg_type != 1 || !known {
        return None;
    }
    let len = (usize::from(h0 & 0x7f) << 8) | usize::from(h1);
    // Version, three lengths and at least one 3-byte cipher and 16 bytes of challenge.
    (len >= 9 + 3 + 16).then_some(len + 2)
}

/// A ClientHello body: fixed fields decoded, lists borrowed raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientHello<'a> {
    pub version: u16,
    pub session_id: &'a [u8],
    /// Cipher suites, two bytes each (an odd trailing byte is dropped by [`Self::ciphers`]).
    pub cipher_bytes: &'a [u8],
    pub compression: &'a [u8],
    /// The raw extension list (empty when the hello has none).
    pub extensions: &'a [u8],
}

impl<'a> ClientHello<'a> {
    /// Parses a ClientHello body; `dtls` adds the cookie field after the session id.
    pub fn parse(body: &'a [u8], dtls: bool) -> Result<Self, ParseError> {
        let mut r = Reader::new(body);
        let version = r.u16("client_version")?;
        r.take(32, "random")?;
        let session_id = r.vec8("session_id")?;
        if session_id.len() > 32 {
            return Err(ParseError::Invalid {
                field: "session_id",
                at: 34,
                why: "longer than 32 bytes",
            });
        }
        if dtls {
            r.vec8("cookie")?;
        }
        let cipher_bytes = r.vec16("cipher_suites")?;
        let compression = r.vec8("compression_methods")?;
        let extensions = if r.is_empty() {
            &[][..]
        } else {
            r.vec16("extensions")?
        };
        Ok(ClientHello {
            version,
            session_id,
            cipher_bytes,
            compression,
            extensions,
        })
    }

    pub fn ciphers(&self) -> impl Iterator<Item = u16> + 'a {
        u16s(self.cipher_bytes)
    }

    pub fn extensions(&self) -> Extensions<'a> {
        Extensions::new(self.extensions)
    }
}

/// A ServerHello body (also a TLS 1.3 HelloRetryRequest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerHello<'a> {
    pub version: u16,
    pub random: &'a [u8],
    pub session_id: &'a [u8],
    pub cipher: u16,
    pub compression: u8,
    pub extensions: &'a [u8],
}

/// The ServerHello random of a TLS 1.3 HelloRetryRequest (RFC 8446 §4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

impl<'a> ServerHello<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(body);
        let version = r.u16("server_version")?;
        let random = r.take(32, "random")?;
        let session_id = r.vec8("session_id")?;
        let cipher = r.u16("cipher_suite")?;
        let compression = r.u8("compression_method")?;
        let extensions = if r.is_empty() {
            &[][..]
        } else {
            r.vec16("extensions")?
        };
        Ok(ServerHello {
            version,
            random,
            session_id,
            cipher,
            compression,
            extensions,
        })
    }

    pub fn is_hello_retry_request(&self) -> bool {
        self.random == HELLO_RETRY_REQUEST_RANDOM
    }

    pub fn extensions(&self) -> Extensions<'a> {
        Extensions::new(self.extensions)
    }
}

/// Walks an extension list as (type, body) pairs. Stops at the first entry
/// whose header or length runs past the end and remembers that in
/// [`Extensions::truncated`].
#[derive(Debug, Clone)]
pub struct Extensions<'a> {
    r: Reader<'a>,
    truncated: bool,
}

impl<'a> Extensions<'a> {
    pub fn new(list: &'a [u8]) -> Self {
        Extensions {
            r: Reader::new(list),
            truncated: false,
        }
    }

    /// Whether the walk ended on a cut entry rather than at the end of the list.
    pub fn truncated(&self) -> bool {
        self.truncated
    }
}

impl<'a> Iterator for Extensions<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.r.is_empty() || self.truncated {
            return None;
        }
        let entry = self
            .r
            .u16("extension type")
            .and_then(|t| Ok((t, self.r.vec16("extension data")?)));
        match entry {
            Ok(entry) => Some(entry),
            Err(_) => {
                self.truncated = true;
                None
            }
        }
    }
}

/// Big-endian u16 values of a byte slice (a trailing odd byte is ignored).
pub fn u16s(bytes: &[u8]) -> impl Iterator<Item = u16> + '_ {
    bytes
        .chunks_exact(2)
        .map(|p| p.iter().fold(0u16, |acc, &x| (acc << 8) | u16::from(x)))
}

/// The u16 list of an extension body with a two-byte list length
/// (supported_groups, signature_algorithms); malformed → empty.
pub fn u16_list16(body: &[u8]) -> &[u8] {
    Reader::new(body).vec16("u16 list").unwrap_or(&[])
}

/// The u8 list of an extension body with a one-byte list length
/// (ec_point_formats); malformed → empty.
pub fn u8_list8(body: &[u8]) -> &[u8] {
    Reader::new(body).vec8("u8 list").unwrap_or(&[])
}

/// The client's supported_versions body: a one-byte length, then u16s.
pub fn client_supported_versions(body: &[u8]) -> &[u8] {
    u8_list8(body)
}

/// The first host_name of a server_name extension body (RFC 6066 §3).
pub fn sni_host_name(body: &[u8]) -> Option<&[u8]> {
    let mut list = Reader::new(Reader::new(body).vec16("server_name_list").ok()?);
    while !list.is_empty() {
        let name_type = list.u8("name_type").ok()?;
        let name = list.vec16("host_name").ok()?;
        if name_type == 0 {
            return Some(name);
        }
    }
    None
}

/// The protocol names of an ALPN extension body (RFC 7301 §3.1).
pub fn alpn_protocols(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut list = Reader::new(Reader::new(body).vec16("protocol_name_list").unwrap_or(&[]));
    std::iter::from_fn(move || {
        if list.is_empty() {
            None
        } else {
            list.vec8("protocol_name").ok()
        }
    })
}

/// The named curve of an ECDH ServerKeyExchange (RFC 8422 §5.4: curve_type 3
/// = named_curve, then the 16-bit group).
pub fn ecdh_named_curve(body: &[u8]) -> Option<u16> {
    let mut r = Reader::new(body);
    (r.u8("curve_type").ok()? == 3)
        .then(|| r.u16("named_curve").ok())
        .flatten()
}

/// The DER certificates of a TLS ≤ 1.2 Certificate message, in order. A cut
/// list (oversized chain delivered as a prefix) yields the complete entries.
pub fn certificate_list(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut outer = Reader::new(body);
    let total = outer.u24("certificate_list length").unwrap_or(0);
    let list = outer.rest();
    let mut r = Reader::new(list.get(..total).unwrap_or(list));
    std::iter::from_fn(move || {
        if r.is_empty() {
            None
        } else {
            r.vec24("certificate").ok()
        }
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn reader_refuses_to_read_past_the_end() {
        let mut r = Reader::new(&[0, 5, 1, 2]);
        assert_eq!(
            r.vec16("x"),
            Err(ParseError::Truncated {
                field: "x",
                at: 2,
                needed: 5,
                available: 2
            })
        );
        assert_eq!(Reader::new(&[1, 2, 3]).u24("y"), Ok(0x010203));
        let msg = Reader::new(&[]).u8("z").unwrap_err().to_string();
        assert!(msg.contains("z needs 1 bytes"), "{msg}");
    }

    #[test]
    fn record_header_checks_type_version_length() {
        let ok = tls_record_header([22, 3, 1, 0x02, 0x00]).unwrap();
        assert_eq!((ok.content_type, ok.version, ok.len), (22, 0x0301, 512));
        assert!(tls_record_header([0x47, 0x45, 0x54, 0x20, 0x2f]).is_err()); // "GET /"
        assert!(tls_record_header([23, 3, 3, 0xff, 0xff]).is_err());
        assert!(tls_record_header([22, 2, 0, 0, 1]).is_err());
    }

    #[test]
    fn sslv2_hello_is_recognised() {
        // 0x80 0x2e: 46-byte record, CLIENT-HELLO, version 3.1.
        let hello = [0x80, 0x2e, 0x01, 0x03, 0x01, 0, 0x15, 0, 0, 0, 0x10];
        assert_eq!(sslv2_client_hello_len(&hello), Some(48));
        assert_eq!(sslv2_client_hello_len(&[22, 3, 1, 0, 5, 1]), None);
        assert_eq!(sslv2_client_hello_len(&[0x80, 0x2e, 0x02, 3, 1]), None);
    }

    #[test]
    fn extension_walk_stops_on_cut_entry() {
        let list = [0, 0, 0, 1, 7, 0xff, 0x01, 0, 9, 1];
        let mut ext = Extensions::new(&list);
        assert_eq!(ext.next(), Some((0, &[7u8][..])));
        assert_eq!(ext.next(), None);
        assert!(ext.truncated());
    }

    #[test]
    fn extension_bodies_decode() {
        let sni = [0, 8, 0, 0, 5, b'a', b'.', b'b', b'c', b'd'];
        assert_eq!(sni_host_name(&sni), Some(&b"a.bcd"[..]));
        let alpn = [
            0, 12, 2, b'h', b'2', 8, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1',
        ];
        let names: Vec<&[u8]> = alpn_protocols(&alpn).collect();
        assert_eq!(names, vec![&b"h2"[..], &b"http/1.1"[..]]);
        assert_eq!(alpn_protocols(&[0, 9, 200]).count(), 0);
        assert_eq!(ecdh_named_curve(&[3, 0, 29, 32]), Some(29));
        assert_eq!(ecdh_named_curve(&[1, 0, 29]), None);
        let certs = [0, 0, 9, 0, 0, 2, 0xaa, 0xbb, 0, 0, 1, 0xcc];
        let list: Vec<&[u8]> = certificate_list(&certs).collect();
        assert_eq!(list, vec![&[0xaa, 0xbb][..], &[0xcc][..]]);
        // A prefix of a longer chain still yields the complete first entry.
        let cut = [0, 1, 0, 0, 0, 2, 0xaa, 0xbb, 0, 0, 9, 0xcc];
        assert_eq!(certificate_list(&cut).count(), 1);
    }

    #[test]
    fn dtls_fragment_must_fit_its_message() {
        let frag = [1, 0, 0, 4, 0, 0, 0, 0, 2, 0, 0, 3, 9, 9, 9];
        assert!(dtls_fragment(&mut Reader::new(&frag)).is_err());
        let ok = [1, 0, 0, 4, 0, 0, 0, 0, 2, 0, 0, 2, 9, 9];
        let f = dtls_fragment(&mut Reader::new(&ok)).unwrap();
        assert_eq!((f.msg_len, f.offset, f.bytes.len()), (4, 2, 2));
    }
}
