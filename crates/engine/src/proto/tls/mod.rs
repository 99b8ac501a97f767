//! TLS (and DTLS) analyzer, Zeek service `ssl`: connection payload in → one
//! [`SslRecord`] (ssl.log) per connection out, written when the session is
//! established (first application data once both sides encrypt) or at
//! [`TlsAnalyzer::on_end`] for handshakes that never completed.
//!
//! Extracted: ClientHello SNI, ALPN, offered versions/ciphers/extensions/
//! groups, JA3 and JA4; ServerHello version, cipher, ALPN, key-share group,
//! JA3S; ECDH curve from ServerKeyExchange; alerts; resumption; for TLS ≤ 1.2
//! the certificate chain's SHA-256 fingerprints and the leaf's subject,
//! issuer, validity, self-signed flag, SHA-1 and SNI match.
//!
//! Files: `parser` (bounded wire structures), `framing` (records, handshake
//! reassembly, DTLS fragments), `state` (session → record fields),
//! `fingerprint` (JA3/JA3S/JA4), `cert` (X.509 via `x509-parser`), `names`
//! (Zeek's strings; cipher names from `tls-parser`'s IANA table), `record`.
//! Limits: [`framing::MAX_HANDSHAKE_BUFFER`] bytes of handshake data buffered
//! per direction (longer messages, e.g. a huge certificate chain, are read as
//! a prefix and the rest skipped, counted `proto.ssl.cert_chain_too_large`),
//! [`parser::MAX_RECORD_BODY`] per record, and the string/list limits of
//! `state` and `cert`. After the record is written the analyzer ignores the
//! rest of the connection (as Zeek's `disable_analyzer_after_detection`).
//! DTLS is recognised by its 0xfe version byte on the first datagram.
#![deny(clippy::indexing_slicing)]

pub mod cert;
pub mod cert_cache;
pub mod fingerprint;
pub mod framing;
pub mod names;
pub mod parser;
pub mod record;
pub mod state;

pub use record::{SslRecord, SSL_FIELDS};

use crate::counters::Counters;
use crate::log::ConnId;
use crate::proto::Probe;
use crate::sink::Sink;
use crate::time::Timestamp;

use framing::Direction;
use state::Session;

/// The service name in conn.log and the log's name, as Zeek.
pub const SERVICE: &str = "ssl";

/// What the analyzer saw and refused, as `proto.ssl.*` counters, plus the
/// one piece of state every TLS connection of a capture shares: the
/// certificate cache (it changes speed, never output, and compares equal).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TlsCounters {
    pub cert_cache: cert_cache::CertCache,
    /// TLS/DTLS records framed.
    pub records: u64,
    /// First record of a direction was not TLS (direction not parsed).
    pub not_tls: u64,
    /// Record header with a bad type, version or length after a good one (direction stopped).
    pub malformed_records: u64,
    pub handshake_messages: u64,
    pub client_hellos: u64,
    pub server_hellos: u64,
    pub hello_retry_requests: u64,
    /// Client/ServerHello bodies shorter than their fixed fields.
    pub malformed_hellos: u64,
    /// Extension lists that end in a cut entry.
    pub malformed_extensions: u64,
    /// DTLS handshake fragments with bad lengths.
    pub malformed_handshakes: u64,
    /// Alert records that are not 2 bytes: encrypted, not reported.
    pub encrypted_alerts: u64,
    /// Certificates seen in Certificate messages.
    pub certificates: u64,
    pub certificate_parse_errors: u64,
    /// Handshake messages over `MAX_HANDSHAKE_MESSAGE` (prefix read, rest skipped).
    pub handshake_too_large: u64,
    /// Of those, Certificate messages.
    pub cert_chain_too_large: u64,
    /// Partial handshake messages dropped because another record type came between.
    pub handshake_interleaved: u64,
    pub alerts: u64,
    pub sslv2_client_hellos: u64,
    pub dtls_datagrams: u64,
    pub dtls_retransmissions: u64,
    pub dtls_fragments_out_of_order: u64,
    pub gaps: u64,
    /// Gaps that lost record framing (direction stopped).
    pub gaps_lost_sync: u64,
    pub established: u64,
    /// Records written.
    pub logs: u64,
    pub history_truncated: u64,
    /// Offered lists cut at their limit.
    pub lists_truncated: u64,
    pub strings_truncated: u64,
}

impl Counters for TlsCounters {
    fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
        f("proto.ssl.records", self.records);
        f("proto.ssl.cert_cache_hits", self.cert_cache.hits);
        f("proto.ssl.cert_cache_resets", self.cert_cache.resets);
        f("proto.ssl.not_tls", self.not_tls);
        f("proto.ssl.malformed_records", self.malformed_records);
        f("proto.ssl.handshake_messages", self.handshake_messages);
        f("proto.ssl.client_hellos", self.client_hellos);
        f("proto.ssl.server_hellos", self.server_hellos);
        f("proto.ssl.hello_retry_requests", self.hello_retry_requests);
        f("proto.ssl.malformed_hellos", self.malformed_hellos);
        f("proto.ssl.malformed_extensions", self.malformed_extensions);
        f("proto.ssl.malformed_handshakes", self.malformed_handshakes);
        f("proto.ssl.encrypted_alerts", self.encrypted_alerts);
        f("proto.ssl.certificates", self.certificates);
        f(
            "proto.ssl.certificate_parse_errors",
            self.certificate_parse_errors,
        );
        f("proto.ssl.handshake_too_large", self.handshake_too_large);
        f("proto.ssl.cert_chain_too_large", self.cert_chain_too_large);
        f(
            "proto.ssl.handshake_interleaved",
            self.handshake_interleaved,
        );
        f("proto.ssl.alerts", self.alerts);
        f("proto.ssl.sslv2_client_hellos", self.sslv2_client_hellos);
        f("proto.ssl.dtls_datagrams", self.dtls_datagrams);
        f("proto.ssl.dtls_retransmissions", self.dtls_retransmissions);
        f(
            "proto.ssl.dtls_fragments_out_of_order",
            self.dtls_fragments_out_of_order,
        );
        f("proto.ssl.gaps", self.gaps);
        f("proto.ssl.gaps_lost_sync", self.gaps_lost_sync);
        f("proto.ssl.established", self.established);
        f("proto.ssl.logs", self.logs);
        f("proto.ssl.history_truncated", self.history_truncated);
        f("proto.ssl.lists_truncated", self.lists_truncated);
        f("proto.ssl.strings_truncated", self.strings_truncated);
    }
}

/// TLS over TCP or DTLS over UDP, decided by the first payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Unknown,
    Tls,
    Dtls,
}

/// State of one TLS/DTLS connection.
#[derive(Debug)]
pub struct TlsAnalyzer {
    orig: Direction,
    resp: Direction,
    session: Session,
    transport: Transport,
    done: bool,
}

impl TlsAnalyzer {
    pub fn new(conn: ConnId) -> Self {
        TlsAnalyzer {
            orig: Direction::default(),
            resp: Direction::default(),
            session: Session::new(conn),
            transport: Transport::Unknown,
            done: false,
        }
    }

    /// TCP: the next in-order bytes of one direction; UDP: one datagram.
    pub fn on_data(
        &mut self,
        ts: Timestamp,
        is_orig: bool,
        data: &[u8],
        c: &mut TlsCounters,
        out: &mut impl Sink<SslRecord>,
    ) {
        if self.done || data.is_empty() {
            return;
        }
        if self.transport == Transport::Unknown {
            self.transport = if is_dtls_record(data) {
                Transport::Dtls
            } else {
                Transport::Tls
            };
        }
        let dtls = self.transport == Transport::Dtls;
        self.session.set_context(ts, dtls);
        let dir = if is_orig {
            &mut self.orig
        } else {
            &mut self.resp
        };
        if dtls {
            dir.feed_dtls(data, is_orig, &mut self.session, c);
        } else {
            dir.feed_tls(data, is_orig, &mut self.session, c);
        }
        if self.session.established() {
            self.emit(c, out);
        }
    }

    /// `len` bytes of this direction will never arrive (capture loss).
    pub fn on_gap(&mut self, is_orig: bool, len: u64, c: &mut TlsCounters) {
        if self.done {
            return;
        }
        if is_orig {
            self.orig.gap(len, c);
        } else {
            self.resp.gap(len, c);
        }
    }

    /// The connection ended: writes the record of a handshake that never
    /// reached application data.
    pub fn on_end(&mut self, _ts: Timestamp, c: &mut TlsCounters, out: &mut impl Sink<SslRecord>) {
        if !self.done && self.session.seen_any() {
            self.emit(c, out);
        }
        self.done = true;
    }

    /// Whether both directions gave up parsing (nothing more can be learnt).
    pub fn is_stopped(&self) -> bool {
        self.done || (self.orig.stopped() && self.resp.stopped())
    }

    fn emit(&mut self, c: &mut TlsCounters, out: &mut impl Sink<SslRecord>) {
        c.logs += 1;
        out.push(self.session.finish());
        self.done = true;
        // Free the reassembly buffers now; the connection may live on for long.
        self.orig = Direction::default();
        self.resp = Direction::default();
    }
}

/// Replays a recorded exchange through one analyzer: the entry point of the
/// fuzz target and the seed-corpus test. `input` is a sequence of segments,
/// each `[flags, len_hi, len_lo, bytes...]` where bit 0 of `flags` marks the
/// responder's side and bit 1 a capture gap of `len` bytes instead of data; a
/// cut last segment is fed as far as it goes. Never panics.
pub fn replay_segments(input: &[u8]) -> (Vec<SslRecord>, TlsCounters) {
    let conn = ConnId {
        uid: "Creplay".to_owned(),
        orig_h: std::net::Ipv4Addr::new(192, 0, 2, 1).into(),
        orig_p: 49152,
        resp_h: std::net::Ipv4Addr::new(192, 0, 2, 2).into(),
        resp_p: 443,
    };
    let mut analyzer = TlsAnalyzer::new(conn);
    let mut c = TlsCounters::default();
    let mut out = Vec::new();
    let mut r = parser::Reader::new(input);
    let mut n = 0;
    while let (Ok(flags), Ok(len)) = (r.u8("segment flags"), r.u16("segment length")) {
        let ts = Timestamp::from_secs_nanos(n, 0);
        n += 1;
        let is_orig = flags & 1 == 0;
        if flags & 2 != 0 {
            analyzer.on_gap(is_orig, u64::from(len), &mut c);
            continue;
        }
        let want = usize::from(len).min(r.remaining());
        let bytes = r.take(want, "segment").unwrap_or(&[]);
        analyzer.on_data(ts, is_orig, bytes, &mut c, &mut out);
    }
    analyzer.on_end(Timestamp::from_secs_nanos(n, 0), &mut c, &mut out);
    (out, c)
}

/// A DTLS record header: content type 20..=24, version major 0xfe.
fn is_dtls_record(data: &[u8]) -> bool {
    matches!(data, [t, 0xfe, minor, ..] if (20..=24).contains(t) && matches!(minor, 0xff | 0xfd | 0xfc))
}

/// Content detection on the first bytes a side sent.
pub fn probe(data: &[u8], is_orig: bool) -> Probe {
    let hello = if is_orig { 1 } else { 2 };
    match data {
        [] => Probe::Maybe,
        // A handshake record with a hello of the expected direction.
        [22, 3, 0..=4, _, _, t, ..] if *t == hello => Probe::Yes,
        [22, 0xfe, 0xff | 0xfd | 0xfc, ..] => Probe::Yes,
        [20..=24, 3, 0..=4, ..] | [20..=24, 0xfe, ..] => Probe::Maybe,
        [20..=24] | [20..=24, 3] => Probe::Maybe,
        [h, ..] if h & 0x80 != 0 && is_orig => {
            if data.len() < 5 {
                Probe::Maybe
            } else if parser::sslv2_client_hello_len(data).is_some() {
                Probe::Yes
            } else {
                Probe::No
            }
        }
        _ => Probe::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_recognises_hellos_and_rejects_text() {
        assert_eq!(probe(&[22, 3, 1, 2, 0, 1, 0, 1, 252], true), Probe::Yes);
        assert_eq!(probe(&[22, 3, 3, 0, 90, 2, 0, 0, 86], false), Probe::Yes);
        assert_eq!(probe(&[22, 3, 1, 2, 0, 2], true), Probe::Maybe);
        assert_eq!(probe(&[23, 3, 3, 0, 20], true), Probe::Maybe);
        assert_eq!(probe(&[22, 0xfe, 0xff, 0, 0], true), Probe::Yes);
        assert_eq!(probe(b"GET / HTTP/1.1\r\n", true), Probe::No);
        assert_eq!(probe(b"SSH-2.0-OpenSSH", false), Probe::No);
        assert_eq!(probe(&[22], true), Probe::Maybe);
        assert_eq!(probe(&[0x80, 0x2e, 1, 3, 1, 0], true), Probe::Yes);
        assert_eq!(probe(&[0x80, 0x2e, 7, 3, 1, 0], true), Probe::No);
        assert_eq!(probe(&[22, 4, 1], true), Probe::No);
    }

    #[test]
    fn counters_have_ssl_names() {
        let c = TlsCounters {
            records: 3,
            ..TlsCounters::default()
        };
        let v = c.to_vec();
        assert!(v.iter().all(|(n, _)| n.starts_with("proto.ssl.")));
        assert_eq!(v.first(), Some(&("proto.ssl.records", 3)));
    }
}
