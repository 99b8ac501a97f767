//! MQTT 3.1 / 3.1.1 / 5.0 wire format: bytes in → fixed headers and packets
//! (fields borrowed from the input) out, through a bounded [`Reader`].
//!
//! Only what makes a packet unreadable is an error here ([`Malformed`]): a
//! remaining length with a fifth continuation byte, a reserved packet type,
//! fixed-header flags the type forbids, a field running past the packet end,
//! an unreadable MQTT 5 property block. Softer violations (unknown protocol
//! name, reserved connect flag, wildcard in a PUBLISH topic, …) are judged by
//! `state.rs`, which still logs the packet. MQTT 5 properties are skipped by
//! their length. Nothing is allocated here.
#![deny(clippy::indexing_slicing)]

/// Bytes of the Remaining Length field at most (MQTT 3.1.1 §2.2.3).
pub const MAX_REMAINING_LENGTH_BYTES: usize = 4;

/// Why a packet could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// A fifth Remaining Length byte: the stream cannot be framed any more.
    RemainingLength,
    /// Packet type 0, or 15 (AUTH) before MQTT 5.
    ReservedType,
    /// Fixed-header flags the packet type forbids (QoS 3 included).
    Flags,
    /// A length-prefixed field or identifier runs past the packet end.
    Truncated,
    /// An MQTT 5 property block whose length is unreadable or too long.
    Properties,
}

/// The MQTT control packet types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketType {
    Connect,
    Connack,
    Publish,
    Puback,
    Pubrec,
    Pubrel,
    Pubcomp,
    Subscribe,
    Suback,
    Unsubscribe,
    Unsuback,
    Pingreq,
    Pingresp,
    Disconnect,
    Auth,
}

impl PacketType {
    fn from_nibble(n: u8) -> Option<Self> {
        use PacketType::*;
        const TYPES: [PacketType; 15] = [
            Connect,
            Connack,
            Publish,
            Puback,
            Pubrec,
            Pubrel,
            Pubcomp,
            Subscribe,
            Suback,
            Unsubscribe,
            Unsuback,
            Pingreq,
            Pingresp,
            Disconnect,
            Auth,
        ];
        TYPES.get(usize::from(n).checked_sub(1)?).copied()
    }

    /// Whether only a client may send it (`Some(true)`), only a server
    /// (`Some(false)`) or both (`None`).
    pub fn sent_by_client(self) -> Option<bool> {
        match self {
            PacketType::Connect
            | PacketType::Subscribe
            | PacketType::Unsubscribe
            | PacketType::Pingreq => Some(true),
            PacketType::Connack
            | PacketType::Suback
            | PacketType::Unsuback
            | PacketType::Pingresp => Some(false),
            _ => None,
        }
    }
}

/// The fixed header of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHeader {
    /// `None` for the reserved type 0.
    pub kind: Option<PacketType>,
    /// The low nibble of the first byte.
    pub flags: u8,
    /// Bytes of the packet after the fixed header.
    pub remaining: u32,
    /// Bytes of the fixed header itself (2 to 5).
    pub header_len: usize,
}

/// Outcome of reading a fixed header from the bytes at hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderRead {
    Complete(FixedHeader),
    /// More bytes are needed.
    Incomplete,
    /// A fifth Remaining Length byte.
    BadRemainingLength,
}

/// Reads a fixed header at the start of `data`.
pub fn read_fixed_header(data: &[u8]) -> HeaderRead {
    let Some((&first, rest)) = data.split_first() else {
        return HeaderRead::Incomplete;
    };
    let mut remaining: u32 = 0;
    for (i, &b) in rest.iter().take(MAX_REMAINING_LENGTH_BYTES).enumerate() {
        remaining |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return HeaderRead::Complete(FixedHeader {
                kind: PacketType::from_nibble(first >> 4),
                flags: first & 0x0f,
                remaining,
                header_len: i + 2,
            });
        }
    }
    if rest.len() >= MAX_REMAINING_LENGTH_BYTES {
        HeaderRead::BadRemainingLength
    } else {
        HeaderRead::Incomplete
    }
}

/// Checks the fixed-header flags the type requires (MQTT 3.1.1 §2.2.2).
pub fn check_flags(kind: PacketType, flags: u8) -> Result<(), Malformed> {
    let ok = match kind {
        PacketType::Publish => (flags >> 1) & 0x03 != 3,
        PacketType::Pubrel | PacketType::Subscribe | PacketType::Unsubscribe => flags == 0x02,
        _ => flags == 0,
    };
    if ok {
        Ok(())
    } else {
        Err(Malformed::Flags)
    }
}

/// A bounded cursor over one packet body: every read checks what remains.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { rest: data }
    }

    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let (head, tail) = self.rest.split_at_checked(n).ok_or(Malformed::Truncated)?;
        self.rest = tail;
        Ok(head)
    }

    pub fn u8(&mut self) -> Result<u8, Malformed> {
        let (&b, tail) = self.rest.split_first().ok_or(Malformed::Truncated)?;
        self.rest = tail;
        Ok(b)
    }

    pub fn u16(&mut self) -> Result<u16, Malformed> {
        let (b, tail) = self
            .rest
            .split_first_chunk::<2>()
            .ok_or(Malformed::Truncated)?;
        self.rest = tail;
        Ok(u16::from_be_bytes(*b))
    }

    /// A 16-bit length followed by that many bytes (UTF-8 string or binary data).
    pub fn prefixed(&mut self) -> Result<&'a [u8], Malformed> {
        let len = self.u16()?;
        self.take(usize::from(len))
    }

    /// MQTT 5 property block: a variable byte integer length, then skipped.
    pub fn skip_properties(&mut self) -> Result<(), Malformed> {
        let mut len: u32 = 0;
        for i in 0..MAX_REMAINING_LENGTH_BYTES {
            let b = self.u8().map_err(|_| Malformed::Properties)?;
            len |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                let n = usize::try_from(len).map_err(|_| Malformed::Properties)?;
                return self.take(n).map(|_| ()).map_err(|_| Malformed::Properties);
            }
        }
        Err(Malformed::Properties)
    }
}

/// CONNECT fields (MQTT 3.1.1 §3.1, MQTT 5 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connect<'a> {
    pub protocol_name: &'a [u8],
    pub version: u8,
    pub flags: u8,
    pub keep_alive: u16,
    pub client_id: &'a [u8],
    /// Will topic and payload when the will flag is set.
    pub will: Option<(&'a [u8], &'a [u8])>,
    pub username: Option<&'a [u8]>,
    pub password: Option<&'a [u8]>,
}

impl Connect<'_> {
    pub fn clean_session(&self) -> bool {
        self.flags & 0x02 != 0
    }
}

/// PUBLISH fields. For a packet larger than the framing keeps, `payload` is
/// the part that was kept and `payload_len` the declared size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish<'a> {
    pub dup: bool,
    pub qos: u8,
    pub retain: bool,
    pub topic: &'a [u8],
    pub packet_id: Option<u16>,
    pub payload: &'a [u8],
    pub payload_len: u64,
}

/// One decoded control packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet<'a> {
    Connect(Connect<'a>),
    Connack {
        session_present: bool,
        code: u8,
    },
    Publish(Publish<'a>),
    /// PUBACK, PUBREC, PUBREL, PUBCOMP.
    Ack {
        kind: PacketType,
        packet_id: u16,
    },
    /// Topic filters with their option bytes, checked well-formed; read them
    /// with [`topic_filters`].
    Subscribe {
        packet_id: u16,
        filters: &'a [u8],
    },
    Suback {
        packet_id: u16,
        codes: &'a [u8],
    },
    /// Topic filters without option bytes.
    Unsubscribe {
        packet_id: u16,
        filters: &'a [u8],
    },
    Unsuback {
        packet_id: u16,
    },
    Pingreq,
    Pingresp,
    Disconnect,
    Auth,
}

/// Reads one packet body. `version` is the protocol level of the connection
/// (4 until a CONNECT says otherwise); `declared` is the Remaining Length,
/// larger than `body.len()` only for a PUBLISH cut by the framing limit.
/// Returns the packet and how many body bytes were left over (non-zero only
/// for packets with a fixed size).
pub fn parse_packet<'a>(
    h: &FixedHeader,
    body: &'a [u8],
    declared: u64,
    version: u8,
) -> Result<(Packet<'a>, usize), Malformed> {
    let kind = h.kind.ok_or(Malformed::ReservedType)?;
    if kind == PacketType::Auth && version < 5 {
        return Err(Malformed::ReservedType);
    }
    check_flags(kind, h.flags)?;
    let v5 = version >= 5;
    let mut r = Reader::new(body);
    let packet = match kind {
        PacketType::Connect => Packet::Connect(parse_connect(&mut r)?),
        PacketType::Connack => {
            let ack = r.u8()?;
            let code = r.u8()?;
            if v5 && r.remaining() > 0 {
                r.skip_properties()?;
            }
            Packet::Connack {
                session_present: ack & 0x01 != 0,
                code,
            }
        }
        PacketType::Publish => {
            let qos = (h.flags >> 1) & 0x03;
            let topic = r.prefixed()?;
            let packet_id = if qos > 0 { Some(r.u16()?) } else { None };
            if v5 {
                r.skip_properties()?;
            }
            let head = (body.len() - r.remaining()) as u64;
            let payload = r.take(r.remaining())?;
            Packet::Publish(Publish {
                dup: h.flags & 0x08 != 0,
                qos,
                retain: h.flags & 0x01 != 0,
                topic,
                packet_id,
                payload,
                payload_len: declared.saturating_sub(head),
            })
        }
        PacketType::Puback | PacketType::Pubrec | PacketType::Pubrel | PacketType::Pubcomp => {
            let packet_id = r.u16()?;
            if v5 && r.remaining() > 0 {
                r.u8()?; // reason code
                if r.remaining() > 0 {
                    r.skip_properties()?;
                }
            }
            Packet::Ack { kind, packet_id }
        }
        PacketType::Subscribe | PacketType::Unsubscribe => {
            let packet_id = r.u16()?;
            if v5 {
                r.skip_properties()?;
            }
            let filters = r.rest();
            let with_options = kind == PacketType::Subscribe;
            let mut check = Reader::new(filters);
            while check.remaining() > 0 {
                check.prefixed()?;
                if with_options {
                    check.u8()?;
                }
            }
            r.take(filters.len())?;
            if with_options {
                Packet::Subscribe { packet_id, filters }
            } else {
                Packet::Unsubscribe { packet_id, filters }
            }
        }
        PacketType::Suback | PacketType::Unsuback => {
            let packet_id = r.u16()?;
            if v5 {
                r.skip_properties()?;
            }
            let codes = r.take(r.remaining())?;
            if kind == PacketType::Suback {
                Packet::Suback { packet_id, codes }
            } else {
                Packet::Unsuback { packet_id }
            }
        }
        PacketType::Pingreq => Packet::Pingreq,
        PacketType::Pingresp => Packet::Pingresp,
        PacketType::Disconnect | PacketType::Auth => {
            if v5 && r.remaining() > 0 {
                r.u8()?;
                if r.remaining() > 0 {
                    r.skip_properties()?;
                }
            }
            if kind == PacketType::Auth {
                Packet::Auth
            } else {
                Packet::Disconnect
            }
        }
    };
    Ok((packet, r.remaining()))
}

fn parse_connect<'a>(r: &mut Reader<'a>) -> Result<Connect<'a>, Malformed> {
    let protocol_name = r.prefixed()?;
    let version = r.u8()?;
    let flags = r.u8()?;
    let keep_alive = r.u16()?;
    // Unknown levels are read with the 3.1.1 layout, as Zeek does.
    let v5 = version == 5;
    if v5 {
        r.skip_properties()?;
    }
    let client_id = r.prefixed()?;
    let will = if flags & 0x04 != 0 {
        if v5 {
            r.skip_properties()?;
        }
        let topic = r.prefixed()?;
        let payload = r.prefixed()?;
        Some((topic, payload))
    } else {
        None
    };
    let username = if flags & 0x80 != 0 {
        Some(r.prefixed()?)
    } else {
        None
    };
    let password = if flags & 0x40 != 0 {
        Some(r.prefixed()?)
    } else {
        None
    };
    Ok(Connect {
        protocol_name,
        version,
        flags,
        keep_alive,
        client_id,
        will,
        username,
        password,
    })
}

/// The topic filters of a SUBSCRIBE (`with_options`: each followed by its
/// options byte) or UNSUBSCRIBE, as validated by [`parse_packet`].
pub fn topic_filters(
    filters: &[u8],
    with_options: bool,
) -> impl Iterator<Item = (&[u8], Option<u8>)> {
    let mut r = Reader::new(filters);
    std::iter::from_fn(move || {
        let topic = r.prefixed().ok()?;
        let options = if with_options {
            Some(r.u8().ok()?)
        } else {
            None
        };
        Some((topic, options))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(bytes: &[u8]) -> FixedHeader {
        match read_fixed_header(bytes) {
            HeaderRead::Complete(h) => h,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn remaining_length_limits() {
        assert_eq!(header(&[0x30, 0x00]).remaining, 0);
        assert_eq!(header(&[0x30, 0x7f]).remaining, 127);
        let h = header(&[0x30, 0xff, 0xff, 0xff, 0x7f]);
        assert_eq!((h.remaining, h.header_len), (268_435_455, 5));
        assert_eq!(
            read_fixed_header(&[0x30, 0x80, 0x80]),
            HeaderRead::Incomplete
        );
        assert_eq!(
            read_fixed_header(&[0x30, 0x80, 0x80, 0x80, 0x80]),
            HeaderRead::BadRemainingLength
        );
        assert_eq!(header(&[0x00, 0x00]).kind, None);
    }

    #[test]
    fn flags_by_type() {
        assert!(check_flags(PacketType::Subscribe, 0x02).is_ok());
        assert!(check_flags(PacketType::Subscribe, 0x00).is_err());
        assert!(check_flags(PacketType::Publish, 0x06).is_err());
        assert!(check_flags(PacketType::Publish, 0x0b).is_ok());
        assert!(check_flags(PacketType::Pingreq, 0x01).is_err());
    }

    #[test]
    fn publish_v5_skips_properties() {
        // topic "a/b", packet id 7, properties (len 2: payload format = 1), payload "hi"
        let body = [0, 3, b'a', b'/', b'b', 0, 7, 2, 0x01, 0x01, b'h', b'i'];
        let h = FixedHeader {
            kind: Some(PacketType::Publish),
            flags: 0x02,
            remaining: 12,
            header_len: 2,
        };
        let (p, left) = parse_packet(&h, &body, 12, 5).unwrap();
        assert_eq!(left, 0);
        let Packet::Publish(p) = p else { panic!() };
        assert_eq!(
            (p.topic, p.packet_id, p.payload, p.payload_len),
            (&b"a/b"[..], Some(7), &b"hi"[..], 2)
        );
        // Declared longer than kept: the payload length is the declared one.
        let (p, _) = parse_packet(&h, &body, 1000, 5).unwrap();
        let Packet::Publish(p) = p else { panic!() };
        assert_eq!(p.payload_len, 990);
        // A property length past the end.
        let bad = [0, 1, b'a', 0, 7, 9, 1];
        assert_eq!(parse_packet(&h, &bad, 7, 5), Err(Malformed::Properties));
    }

    #[test]
    fn truncated_strings() {
        let h = FixedHeader {
            kind: Some(PacketType::Connect),
            flags: 0,
            remaining: 6,
            header_len: 2,
        };
        assert_eq!(
            parse_packet(&h, &[0, 4, b'M', b'Q', b'T', b'T'], 6, 4),
            Err(Malformed::Truncated)
        );
        let h = FixedHeader {
            kind: Some(PacketType::Subscribe),
            flags: 2,
            remaining: 5,
            header_len: 2,
        };
        assert_eq!(
            parse_packet(&h, &[0, 1, 0, 9, b'a'], 5, 4),
            Err(Malformed::Truncated)
        );
        let h = FixedHeader {
            kind: Some(PacketType::Auth),
            flags: 0,
            remaining: 0,
            header_len: 2,
        };
        assert_eq!(parse_packet(&h, &[], 0, 4), Err(Malformed::ReservedType));
    }

    #[test]
    fn topic_filter_iteration() {
        let f = [0, 1, b'#', 0, 0, 2, b'a', b'b', 1];
        let got: Vec<_> = topic_filters(&f, true).collect();
        assert_eq!(got, vec![(&b"#"[..], Some(0)), (&b"ab"[..], Some(1))]);
    }
}
