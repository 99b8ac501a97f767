//! Record framing and handshake reassembly of one direction: in-order TCP
//! bytes (TLS) or whole datagrams (DTLS) in → [`TlsEvent`]s out, handed to an
//! [`EventSink`] (the session state) as soon as each is complete.
//!
//! TLS: 5-byte record headers are checked (content type 20..=24, version
//! 3.x, length ≤ [`parser::MAX_RECORD_BODY`]); a bad header stops the direction
//! (framing is lost). Handshake bytes of plaintext records form one stream,
//! split into messages that may span records and segments; a complete message
//! held in one chunk is handed out without copying, a partial one is kept in a
//! buffer of at most [`MAX_HANDSHAKE_BUFFER`] bytes. A message longer than
//! [`MAX_HANDSHAKE_MESSAGE`] is handed out as a truncated prefix once the
//! buffer is full and its remainder is skipped (counted). An SSLv2-compatible
//! ClientHello at the start of the client stream is reported and skipped.
//!
//! DTLS: each datagram holds whole records; handshake fragments are
//! reassembled in order per message_seq (retransmissions and out-of-order
//! fragments are counted and dropped). Records of epoch > 0 are encrypted.
#![deny(clippy::indexing_slicing)]

use super::parser::{
    self, content_type as ct, DtlsFragment, Reader, DTLS_HANDSHAKE_HEADER, HANDSHAKE_HEADER,
    TLS_RECORD_HEADER,
};
use super::TlsCounters;

/// Handshake bytes buffered per direction while a message is incomplete.
pub const MAX_HANDSHAKE_BUFFER: usize = 64 * 1024;
/// Longest handshake message handed out whole; longer ones (a certificate
/// chain bigger than this) are handed out as a prefix and the rest skipped.
pub const MAX_HANDSHAKE_MESSAGE: usize = MAX_HANDSHAKE_BUFFER - HANDSHAKE_HEADER;

/// What one direction's framing reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsEvent<'a> {
    /// A plaintext handshake message; `truncated` when only a prefix of an
    /// oversized message is given.
    Handshake {
        msg_type: u8,
        body: &'a [u8],
        truncated: bool,
    },
    ChangeCipherSpec,
    /// A plaintext alert.
    Alert {
        level: u8,
        description: u8,
    },
    /// An application-data record started.
    ApplicationData,
    /// A plaintext heartbeat record.
    Heartbeat,
    /// The stream opened with an SSLv2-compatible ClientHello (skipped).
    Sslv2ClientHello,
}

/// Receives the events of both directions and says which side encrypts.
pub trait EventSink {
    /// Whether records from this side are encrypted from now on.
    fn encrypted(&self, is_orig: bool) -> bool;
    fn event(&mut self, is_orig: bool, event: TlsEvent<'_>, c: &mut TlsCounters);
}

/// The record being read.
#[derive(Debug, Clone, Copy)]
struct Body {
    content_type: u8,
    len: usize,
    remaining: usize,
    plaintext: bool,
    alert: [u8; 2],
    alert_len: u8,
}

/// Framing state of one direction.
#[derive(Debug, Default)]
pub struct Direction {
    header: [u8; TLS_RECORD_HEADER],
    header_len: usize,
    body: Option<Body>,
    /// Bytes of a skipped record (SSLv2 hello) still to drop.
    skip_record: usize,
    hs: Vec<u8>,
    /// Bytes of an oversized handshake message still to drop.
    hs_skip: usize,
    started: bool,
    stopped: bool,
    /// DTLS: next message_seq expected and the message being reassembled.
    dtls_next_seq: Option<u16>,
    dtls_current: Option<(u16, u8, usize)>,
}

impl Direction {
    /// Whether this direction stopped parsing (framing lost or not TLS).
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    fn stop(&mut self) {
        self.stopped = true;
        self.hs = Vec::new();
    }

    /// Feeds the next in-order bytes of a TLS stream.
    pub fn feed_tls(
        &mut self,
        mut data: &[u8],
        is_orig: bool,
        sink: &mut impl EventSink,
        c: &mut TlsCounters,
    ) {
        while !data.is_empty() && !self.stopped {
            if self.skip_record > 0 {
                let n = self.skip_record.min(data.len());
                self.skip_record -= n;
                data = data.get(n..).unwrap_or(&[]);
                continue;
            }
            match self.body {
                None => data = self.read_header(data, is_orig, sink, c),
                Some(mut body) => {
                    let n = body.remaining.min(data.len());
                    let (chunk, rest) = data.split_at_checked(n).unwrap_or((data, &[]));
                    data = rest;
                    body.remaining -= n;
                    self.record_bytes(&mut body, chunk, is_orig, sink, c);
                    self.body = Some(body);
                    if body.remaining == 0 {
                        self.body = None;
                        self.end_record(body, is_orig, sink, c);
                    }
                }
            }
        }
    }

    /// Collects header bytes; on a full header starts the record. Returns the rest.
    fn read_header<'d>(
        &mut self,
        data: &'d [u8],
        is_orig: bool,
        sink: &mut impl EventSink,
        c: &mut TlsCounters,
    ) -> &'d [u8] {
        let need = TLS_RECORD_HEADER - self.header_len;
        let n = need.min(data.len());
        let (head, rest) = data.split_at_checked(n).unwrap_or((data, &[]));
        if let Some(slot) = self.header.get_mut(self.header_len..self.header_len + n) {
            slot.copy_from_slice(head);
        }
        self.header_len += n;
        if self.header_len < TLS_RECORD_HEADER {
            return rest;
        }
        self.header_len = 0;
        let first = !self.started;
        self.started = true;
        if first {
            if let Some(len) = parser::sslv2_client_hello_len(&self.header) {
                c.sslv2_client_hellos += 1;
                sink.event(is_orig, TlsEvent::Sslv2ClientHello, c);
                self.skip_record = len.saturating_sub(TLS_RECORD_HEADER);
                return rest;
            }
        }
        match parser::tls_record_header(self.header) {
            Ok(h) => {
                c.records += 1;
                self.start_record(h.content_type, h.len, is_orig, sink, c);
            }
            Err(_) => {
                if first {
                    c.not_tls += 1;
                } else {
                    c.malformed_records += 1;
                }
                self.stop();
            }
        }
        rest
    }

    fn start_record(
        &mut self,
        content_type: u8,
        len: usize,
        is_orig: bool,
        sink: &mut impl EventSink,
        c: &mut TlsCounters,
    ) {
        let plaintext = !sink.encrypted(is_orig);
        if content_type != ct::HANDSHAKE && (!self.hs.is_empty() || self.hs_skip > 0) {
            // Handshake messages must not be interleaved with other records.
            c.handshake_interleaved += 1;
            self.hs.clear();
            self.hs_skip = 0;
        }
        match content_type {
            ct::CHANGE_CIPHER_SPEC => sink.event(is_orig, TlsEvent::ChangeCipherSpec, c),
            ct::APPLICATION_DATA => sink.event(is_orig, TlsEvent::ApplicationData, c),
            _ => {}
        }
        let body = Body {
            content_type,
            len,
            remaining: len,
            plaintext,
            alert: [0; 2],
            alert_len: 0,
        };
        if len == 0 {
            self.end_record(body, is_orig, sink, c);
        } else {
            self.body = Some(body);
        }
    }

    fn record_bytes(
        &mut self,
        body: &mut Body,
        chunk: &[u8],
        is_orig: bool,
        sink: &mut impl EventSink,
        c: &mut TlsCounters,
    ) {
        if !body.plaintext {
            return;
        }
        match body.content_type {
            ct::HANDSHAKE => self.handshake_bytes(chunk, is_orig, sink, c),
            ct::ALERT => {
                for &b in chunk {
                    if let Some(slot) = body.alert.get_mut(usize::from(body.alert_len)) {
                        *slot = b;
                        body.alert_len += 1;
                    }
                }
            }
            _ => {}
        }
    }

    fn end_record(
        &mut self,
        body: Body,
        is_orig: bool,
        sink: &mut impl EventSink,
        c: &mut TlsCounters,
    ) {
        if !body.plaintext {
            return;
        }
        match body.content_type {
            ct::ALERT if body.len == 2 && body.alert_len == 2 => {
                let [level, description] = body.alert;
                sink.event(is_orig, TlsEvent::Alert { level, description }, c);
            }
            // Longer alerts are encrypted (a capture that starts mid-session).
            ct::ALERT => c.encrypted_alerts += 1,
            ct::HEARTBEAT => sink.event(is_orig, TlsEvent::Heartbeat, c),
            _ => {}
        }
    }

    /// Appends plaintext handshake bytes and hands out every complete message.
    fn handshake_bytes(
        &mut self,
        mut chunk: &[u8],
        is_orig: bool,
        sink: &mut impl EventSink,
        c: &mut TlsCounters,
    ) {
        while !chunk.is_empty() {
            if self.hs_skip > 0 {
                let n = self.hs_skip.min(chunk.len());
                self.hs_skip -= n;
                chunk = chunk.get(n..).unwrap_or(&[]);
                continue;
            }
            if self.hs.is_empty() {
                // Fast path: complete messages straight from the segment.
                let (used, skip) = drain_messages(chunk, false, is_orig, sink, c);
                chunk = chunk.get(used..).unwrap_or(&[]);
                self.hs_skip = skip;
                if skip > 0 || chunk.is_empty() {
                    continue;
                }
            }
            let room = MAX_HANDSHAKE_BUFFER.saturating_sub(self.hs.len());
            let n = room.min(chunk.len());
            let (head, rest) = chunk.split_at_checked(n).unwrap_or((chunk, &[]));
            self.hs.extend_from_slice(head);
            chunk = rest;
            let full = self.hs.len() >= MAX_HANDSHAKE_BUFFER;
            let (used, skip) = drain_messages(&self.hs, full, is_orig, sink, c);
            self.hs.drain(..used.min(self.hs.len()));
            self.hs_skip = skip;
        }
    }

    /// Feeds one DTLS datagram.
    pub fn feed_dtls(
        &mut self,
        datagram: &[u8],
        is_orig: bool,
        sink: &mut impl EventSink,
        c: &mut TlsCounters,
    ) {
        c.dtls_datagrams += 1;
        let mut r = Reader::new(datagram);
        while !r.is_empty() {
            let Ok(rec) = parser::dtls_record(&mut r) else {
                c.malformed_records += 1;
                return;
            };
            c.records += 1;
            let plaintext = rec.epoch == 0 && !sink.encrypted(is_orig);
            match rec.content_type {
                ct::CHANGE_CIPHER_SPEC => sink.event(is_orig, TlsEvent::ChangeCipherSpec, c),
                ct::APPLICATION_DATA => sink.event(is_orig, TlsEvent::ApplicationData, c),
                ct::ALERT if plaintext => match *rec.body {
                    [level, description] => {
                        sink.event(is_orig, TlsEvent::Alert { level, description }, c);
                    }
                    _ => c.encrypted_alerts += 1,
                },
                ct::HEARTBEAT if plaintext => sink.event(is_orig, TlsEvent::Heartbeat, c),
                ct::HANDSHAKE if plaintext => {
                    let mut fr = Reader::new(rec.body);
                    while fr.remaining() >= DTLS_HANDSHAKE_HEADER {
                        match parser::dtls_fragment(&mut fr) {
                            Ok(f) => self.dtls_fragment(f, is_orig, sink, c),
                            Err(_) => {
                                c.malformed_handshakes += 1;
                                break;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn dtls_fragment(
        &mut self,
        f: DtlsFragment<'_>,
        is_orig: bool,
        sink: &mut impl EventSink,
        c: &mut TlsCounters,
    ) {
        if self.dtls_next_seq.is_some_and(|next| f.msg_seq < next) {
            c.dtls_retransmissions += 1;
            return;
        }
        let whole = f.offset == 0 && f.bytes.len() == f.msg_len;
        if whole || f.msg_len > MAX_HANDSHAKE_MESSAGE {
            if f.msg_len > MAX_HANDSHAKE_MESSAGE {
                c.handshake_too_large += 1;
            } else {
                deliver(f.msg_type, f.bytes, false, is_orig, sink, c);
            }
            self.dtls_next_seq = Some(f.msg_seq.wrapping_add(1));
            self.dtls_current = None;
            self.hs.clear();
            return;
        }
        if f.offset == 0 {
            self.hs.clear();
            self.dtls_current = Some((f.msg_seq, f.msg_type, f.msg_len));
        }
        let Some((seq, msg_type, msg_len)) = self.dtls_current else {
            c.dtls_fragments_out_of_order += 1;
            return;
        };
        let have = self.hs.len();
        let end = f.offset + f.bytes.len();
        if seq != f.msg_seq || f.msg_len != msg_len || f.offset > have {
            c.dtls_fragments_out_of_order += 1;
            return;
        }
        if end > have {
            self.hs
                .extend_from_slice(f.bytes.get(have - f.offset..).unwrap_or(&[]));
        }
        if self.hs.len() == msg_len {
            let msg = std::mem::take(&mut self.hs);
            deliver(msg_type, &msg, false, is_orig, sink, c);
            self.hs = msg;
            self.hs.clear();
            self.dtls_next_seq = Some(seq.wrapping_add(1));
            self.dtls_current = None;
        }
    }

    /// Bytes of this direction were lost: stays in sync only when the gap
    /// falls inside a record whose content is not needed.
    pub fn gap(&mut self, len: u64, c: &mut TlsCounters) {
        c.gaps += 1;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        match &mut self.body {
            Some(body)
                if len <= body.remaining
                    && !(body.plaintext && body.content_type == ct::HANDSHAKE) =>
            {
                body.remaining -= len;
                // A cut alert is not reported.
                body.plaintext = false;
                if body.remaining == 0 {
                    self.body = None;
                }
            }
            _ => {
                c.gaps_lost_sync += 1;
                self.stop();
            }
        }
    }
}

/// Hands out the complete messages at the front of `buf`. Returns the bytes
/// used and the bytes of an oversized message still to skip after `buf`.
/// With `full`, an oversized message at the front is handed out as a prefix.
fn drain_messages(
    buf: &[u8],
    full: bool,
    is_orig: bool,
    sink: &mut impl EventSink,
    c: &mut TlsCounters,
) -> (usize, usize) {
    let mut at = 0;
    loop {
        let mut r = Reader::new(buf.get(at..).unwrap_or(&[]));
        let (Ok(msg_type), Ok(len)) = (r.u8("handshake type"), r.u24("handshake length")) else {
            return (at, 0);
        };
        if len > MAX_HANDSHAKE_MESSAGE {
            if !full {
                return (at, 0);
            }
            let prefix = r.rest();
            c.handshake_too_large += 1;
            deliver(msg_type, prefix, true, is_orig, sink, c);
            return (buf.len(), len.saturating_sub(prefix.len()));
        }
        let Ok(body) = r.take(len, "handshake body") else {
            return (at, 0);
        };
        deliver(msg_type, body, false, is_orig, sink, c);
        at += HANDSHAKE_HEADER + len;
    }
}

fn deliver(
    msg_type: u8,
    body: &[u8],
    truncated: bool,
    is_orig: bool,
    sink: &mut impl EventSink,
    c: &mut TlsCounters,
) {
    c.handshake_messages += 1;
    let event = TlsEvent::Handshake {
        msg_type,
        body,
        truncated,
    };
    sink.event(is_orig, event, c);
}
