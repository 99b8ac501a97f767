//! DNS over UDP and TCP, and mDNS (the same analyzer on port 5353): the
//! payload of one connection in → dns.log records ([`DnsRecord`]) out.
//!
//! UDP: every datagram is one message. TCP: messages carry a 2-byte length
//! prefix ([`framing`]). Each message is parsed ([`parser`], names in
//! [`name`], answers in [`rdata`]) and paired with its query ([`state`]);
//! the pair becomes one record with the round-trip time.
//!
//! Limits (all named, all counted): [`MAX_PENDING_QUERIES`] per connection,
//! [`MAX_QUESTIONS`] per message, [`MAX_ANSWERS`] rendered per message,
//! [`MAX_NAME_LEN`] and [`MAX_POINTER_HOPS`] per name, [`MAX_TXT_BYTES`] per
//! TXT answer, [`MAX_TCP_FRAME`] buffered per TCP direction.
//!
//! ```no_run
//! # use gatewatch_engine::proto::dns::{DnsAnalyzer, DnsCounters, DnsRecord};
//! # fn f(conn: gatewatch_engine::log::ConnId, ts: gatewatch_engine::Timestamp, datagram: &[u8]) {
//! let mut dns = DnsAnalyzer::new(conn); // UDP; `new_tcp` for TCP
//! let mut counters = DnsCounters::default();
//! let mut records: Vec<DnsRecord> = Vec::new();
//! dns.on_data(ts, true, datagram, &mut counters, &mut records);
//! dns.on_end(ts, &mut counters, &mut records);
//! # }
//! ```

mod counters;
pub mod framing;
pub mod name;
pub mod parser;
pub mod rdata;
mod record;
pub mod state;

pub use counters::DnsCounters;
pub use framing::{TcpFramer, MAX_TCP_FRAME};
pub use name::{MAX_NAME_LEN, MAX_POINTER_HOPS};
pub use parser::{parse_message, Malformed, Message, MAX_ANSWERS, MAX_QUESTIONS};
pub use rdata::MAX_TXT_BYTES;
pub use record::{class_name, rcode_name, type_name, DnsRecord, DnsTransport, DNS_FIELDS};
pub use state::MAX_PENDING_QUERIES;

use crate::log::ConnId;
use crate::proto::Probe;
use crate::sink::Sink;
use crate::time::Timestamp;
use parser::Header;
use state::Transactions;

/// The conn.log `service` name.
pub const SERVICE: &str = "dns";

/// The mDNS port: records of connections using it have `mdns` set.
pub const MDNS_PORT: u16 = 5353;

/// The DNS state of one connection.
#[derive(Debug)]
pub struct DnsAnalyzer {
    transactions: Transactions,
    proto: DnsTransport,
    orig: TcpFramer,
    resp: TcpFramer,
}

impl DnsAnalyzer {
    /// A DNS-over-UDP connection (each `on_data` is one datagram).
    pub fn new(conn: ConnId) -> Self {
        Self::with_transport(conn, DnsTransport::Udp)
    }

    /// A DNS-over-TCP connection (`on_data` gets in-order stream bytes).
    pub fn new_tcp(conn: ConnId) -> Self {
        Self::with_transport(conn, DnsTransport::Tcp)
    }

    pub fn with_transport(conn: ConnId, proto: DnsTransport) -> Self {
        DnsAnalyzer {
            transactions: Transactions::new(conn, proto),
            proto,
            orig: TcpFramer::default(),
            resp: TcpFramer::default(),
        }
    }

    /// Whether the connection is mDNS (port 5353).
    pub fn is_mdns(&self) -> bool {
        self.transactions.is_mdns()
    }

    /// Queries awaiting a response.
    pub fn pending_queries(&self) -> usize {
        self.transactions.pending()
    }

    /// UDP: one datagram; TCP: the next in-order bytes of one direction.
    pub fn on_data(
        &mut self,
        ts: Timestamp,
        is_orig: bool,
        data: &[u8],
        c: &mut DnsCounters,
        out: &mut impl Sink<DnsRecord>,
    ) {
        match self.proto {
            DnsTransport::Udp => {
                // Damage is counted by the parser; the next datagram is
                // independent of this one.
                let _ = self.transactions.on_message(ts, data, c, out);
            }
            DnsTransport::Tcp => {
                let framer = if is_orig {
                    &mut self.orig
                } else {
                    &mut self.resp
                };
                let transactions = &mut self.transactions;
                framer.feed(data, c, |msg, c| transactions.on_message(ts, msg, c, out));
            }
        }
    }

    /// `len` bytes of this direction will never arrive (TCP capture loss).
    pub fn on_gap(&mut self, is_orig: bool, len: u64, c: &mut DnsCounters) {
        let _ = len;
        if self.proto == DnsTransport::Tcp {
            if is_orig {
                self.orig.on_gap(c);
            } else {
                self.resp.on_gap(c);
            }
        }
    }

    /// The connection ended: queries still pending are logged unanswered.
    pub fn on_end(&mut self, ts: Timestamp, c: &mut DnsCounters, out: &mut impl Sink<DnsRecord>) {
        let _ = ts;
        self.orig.finish(c);
        self.resp.finish(c);
        self.transactions.flush(c, out);
    }
}

/// Runs one connection given as bytes, for fuzzing and the seed corpus:
/// byte 0 picks the transport (bit 0: TCP) and port (bit 1: mDNS), byte 1
/// how many of the remaining bytes the originator sent; the responder sent
/// the rest. UDP: each side is one datagram; TCP: each side a stream.
pub fn analyze_bytes(input: &[u8]) -> (Vec<DnsRecord>, DnsCounters) {
    let mut records = Vec::new();
    let mut c = DnsCounters::default();
    let Some((&[flags, split], rest)) = input.split_first_chunk::<2>() else {
        return (records, c);
    };
    let port = if flags & 2 != 0 { MDNS_PORT } else { 53 };
    let conn = ConnId {
        uid: "Cfuzz".to_string(),
        orig_h: std::net::Ipv4Addr::new(10, 0, 0, 1).into(),
        orig_p: if port == MDNS_PORT { MDNS_PORT } else { 40000 },
        resp_h: std::net::Ipv4Addr::new(10, 0, 0, 2).into(),
        resp_p: port,
    };
    let proto = if flags & 1 != 0 {
        DnsTransport::Tcp
    } else {
        DnsTransport::Udp
    };
    let (orig, resp) = rest.split_at(usize::from(split).min(rest.len()));
    let mut dns = DnsAnalyzer::with_transport(conn, proto);
    dns.on_data(Timestamp(1_000), true, orig, &mut c, &mut records);
    dns.on_data(Timestamp(2_000), false, resp, &mut c, &mut records);
    dns.on_end(Timestamp(3_000), &mut c, &mut records);
    (records, c)
}

/// Content detection on the first bytes a side sent, as a UDP datagram or
/// as the start of a TCP stream (whichever fits better). The direction is
/// not used: mDNS responders originate their own flows.
pub fn probe(data: &[u8], is_orig: bool) -> Probe {
    let _ = is_orig;
    probe_udp(data).max(probe_tcp(data))
}

/// Whether `datagram` is one DNS message.
pub fn probe_udp(datagram: &[u8]) -> Probe {
    probe_message(datagram, true)
}

/// Whether `stream` starts with a length-prefixed DNS message.
pub fn probe_tcp(stream: &[u8]) -> Probe {
    let Some((prefix, rest)) = stream.split_first_chunk::<2>() else {
        return Probe::Maybe;
    };
    let len = usize::from(u16::from_be_bytes(*prefix));
    if len < parser::HEADER_LEN {
        return Probe::No;
    }
    match rest.get(..len) {
        Some(msg) => probe_message(msg, true),
        None => probe_message(rest, false),
    }
}

/// Header plausibility, then a full parse of the question section.
fn probe_message(msg: &[u8], complete: bool) -> Probe {
    if let Some(&[_, _, f0, f1]) = msg.first_chunk::<4>() {
        if !plausible_flags(f0, f1) {
            return Probe::No;
        }
    }
    let Ok(h) = Header::parse(msg) else {
        return if complete { Probe::No } else { Probe::Maybe };
    };
    if h.qdcount > MAX_QUESTIONS || (!h.qr && h.qdcount == 0) {
        return Probe::No;
    }
    let records = u64::from(h.ancount) + u64::from(h.nscount) + u64::from(h.arcount);
    let least = parser::HEADER_LEN as u64 + 5 * u64::from(h.qdcount) + 11 * records;
    if complete && (msg.len() as u64) < least {
        return Probe::No;
    }
    let mut m = Message::default();
    let mut c = DnsCounters::default();
    match parse_message(msg, &mut m, &mut c) {
        Ok(()) if m.question.is_some() => Probe::Yes,
        Ok(()) if h.ancount > 0 && m.answer_error.is_none() && !m.answers.is_empty() => Probe::Yes,
        Ok(()) => Probe::Maybe,
        Err(_) if complete => Probe::No,
        Err(_) => Probe::Maybe,
    }
}

/// The two flag bytes of a header: a known opcode, the reserved Z bit
/// clear, an assigned rcode, and no error code in a query.
fn plausible_flags(f0: u8, f1: u8) -> bool {
    let qr = f0 & 0x80 != 0;
    let opcode = (f0 >> 3) & 0x0f;
    let rcode = f1 & 0x0f;
    matches!(opcode, 0 | 1 | 2 | 4 | 5 | 6) && f1 & 0x40 == 0 && rcode <= 10 && (qr || rcode == 0)
}
