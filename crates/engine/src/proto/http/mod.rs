//! HTTP/1.x (and RTSP/1.0, same syntax) analyzer: in-order TCP payload of
//! both directions in → one [`HttpRecord`] per request/response pair out
//! (http.log, or rtsp.log for RTSP), plus [`HttpCounters`].
//!
//! Files: `parser` (line grammar), `framing` (one direction: start line,
//! headers, bodies skipped by Content-Length / chunks / close, RTSP
//! interleaved frames), `state` (pairing with pipelining, Zeek's rules),
//! `record` (the log columns).
//!
//! Limits: [`MAX_LINE_LEN`], [`MAX_HEADERS`], [`MAX_URI_LEN`],
//! [`MAX_HEADER_VALUE_LEN`], [`MAX_PENDING_TRANSACTIONS`],
//! [`MAX_PROXIED_HEADERS`]. Bodies are never buffered; a partial line is the
//! only per-direction buffer.

mod framing;
pub mod parser;
mod record;
mod state;

pub use framing::{MAX_HEADERS, MAX_LINE_LEN};
pub use parser::Dialect;
pub use record::{HttpRecord, HTTP_FIELDS};
pub use state::{MAX_HEADER_VALUE_LEN, MAX_PENDING_TRANSACTIONS, MAX_PROXIED_HEADERS, MAX_URI_LEN};

use framing::MessageStream;
use state::{Pairing, Transactions};

use crate::counters::Counters;
use crate::log::ConnId;
use crate::proto::Probe;
use crate::sink::Sink;
use crate::time::Timestamp;

/// conn.log `service` for HTTP.
pub const SERVICE: &str = "http";
/// conn.log `service` when the connection speaks RTSP.
pub const RTSP_SERVICE: &str = "rtsp";

/// Declares the counters struct and its visit order in one place.
macro_rules! http_counters {
    ($( $(#[$doc:meta])* $field:ident => $name:literal, )*) => {
        /// What the HTTP analyzers saw and refused, summed over connections.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct HttpCounters {
            $( $(#[$doc])* pub $field: u64, )*
        }

        impl Counters for HttpCounters {
            fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
                $( f($name, self.$field); )*
            }
        }
    };
}

http_counters! {
    /// Request lines parsed.
    requests => "proto.http.requests",
    /// Status lines parsed (1xx included).
    responses => "proto.http.responses",
    informational_responses => "proto.http.informational_responses",
    /// 401 and 407 responses: authentication required or refused.
    auth_required_responses => "proto.http.auth_required_responses",
    /// Requests carrying Basic credentials.
    basic_auth => "proto.http.basic_auth",
    /// Start lines of RTSP messages (also counted as requests/responses).
    rtsp_messages => "proto.http.rtsp_messages",
    /// RTSP interleaved binary frames skipped.
    rtsp_interleaved_frames => "proto.http.rtsp_interleaved_frames",
    /// Body bytes seen after transfer decoding.
    body_bytes => "proto.http.body_bytes",
    chunks => "proto.http.chunks",
    /// Methods outside Zeek's list and RTSP's (Zeek's `unknown_HTTP_method`).
    unknown_method => "proto.http.unknown_method",
    /// Responses with no request to answer.
    orphan_responses => "proto.http.orphan_responses",
    /// Requests logged at connection end without a response.
    unanswered_requests => "proto.http.unanswered_requests",
    /// Pairs logged early because the pending queue was full.
    pending_evicted => "proto.http.pending_evicted",
    /// Connections that switched protocol (CONNECT 2xx, 101).
    tunnels => "proto.http.tunnels",
    gaps => "proto.http.gaps",
    /// Gaps outside a body of known length: the direction stops.
    gap_lost_sync => "proto.http.gap_lost_sync",
    /// Directions no longer parsed after garbage, an overlong line or a gap.
    directions_stopped => "proto.http.directions_stopped",
    limit_line_too_long => "proto.http.limit.line_too_long",
    /// Messages with more than `MAX_HEADERS` headers.
    limit_too_many_headers => "proto.http.limit.too_many_headers",
    limit_uri_truncated => "proto.http.limit.uri_truncated",
    limit_value_truncated => "proto.http.limit.value_truncated",
    limit_proxied_dropped => "proto.http.limit.proxied_dropped",
    malformed_request_line => "proto.http.malformed.request_line",
    malformed_status_line => "proto.http.malformed.status_line",
    malformed_header_line => "proto.http.malformed.header_line",
    /// Obsolete header continuation lines (not interpreted).
    malformed_folded_header => "proto.http.malformed.folded_header",
    /// Unreadable or conflicting Content-Length values.
    malformed_content_length => "proto.http.malformed.content_length",
    malformed_chunk_size => "proto.http.malformed.chunk_size",
    malformed_chunk_framing => "proto.http.malformed.chunk_framing",
    /// Basic credentials that do not decode to `user:password`.
    malformed_basic_auth => "proto.http.malformed.basic_auth",
}

/// The HTTP/RTSP state of one TCP connection.
pub struct HttpAnalyzer {
    conn: ConnId,
    orig: MessageStream,
    resp: MessageStream,
    tx: Transactions,
}

impl HttpAnalyzer {
    pub fn new(conn: ConnId) -> Self {
        HttpAnalyzer {
            conn,
            orig: MessageStream::new(true),
            resp: MessageStream::new(false),
            tx: Transactions::new(),
        }
    }

    /// The next in-order bytes of one direction.
    pub fn on_data(
        &mut self,
        ts: Timestamp,
        is_orig: bool,
        data: &[u8],
        c: &mut HttpCounters,
        out: &mut impl Sink<HttpRecord>,
    ) {
        let stream = if is_orig {
            &mut self.orig
        } else {
            &mut self.resp
        };
        let mut pairing = Pairing {
            tx: &mut self.tx,
            conn: &self.conn,
            ts,
            out,
        };
        stream.feed(data, &mut pairing, c);
        if self.tx.tunnel && !(self.orig.is_stopped() && self.resp.is_stopped()) {
            c.tunnels += 1;
            self.orig.stop();
            self.resp.stop();
        }
    }

    /// `len` bytes of one direction were lost.
    pub fn on_gap(&mut self, is_orig: bool, len: u64, c: &mut HttpCounters) {
        let stream = if is_orig {
            &mut self.orig
        } else {
            &mut self.resp
        };
        stream.on_gap(len, c);
    }

    /// The connection ended: logs every open pair (a response read until
    /// close ends here; requests without response are logged as they are).
    pub fn on_end(&mut self, ts: Timestamp, c: &mut HttpCounters, out: &mut impl Sink<HttpRecord>) {
        // A body completed by a gap is closed by an empty delivery first.
        for is_orig in [true, false] {
            let stream = if is_orig {
                &mut self.orig
            } else {
                &mut self.resp
            };
            let mut pairing = Pairing {
                tx: &mut self.tx,
                conn: &self.conn,
                ts,
                out: &mut *out,
            };
            stream.feed(&[], &mut pairing, c);
        }
        self.tx.flush(c, out);
    }

    /// `rtsp` once either side spoke RTSP, `http` otherwise.
    pub fn service(&self) -> &'static str {
        match self.orig.dialect().or(self.resp.dialect()) {
            Some(Dialect::Rtsp) => RTSP_SERVICE,
            _ => SERVICE,
        }
    }
}

/// Content detection on the first bytes one side sent: a request line
/// `METHOD SP URI SP HTTP/1.x` (or `RTSP/1.0`) from the originator, a status
/// line `HTTP/1.x SP 3DIGIT` from the responder.
pub fn probe(data: &[u8], is_orig: bool) -> Probe {
    probe_dialect(data, is_orig).0
}

/// The service a probe recognised (`http` or `rtsp`), `None` unless the
/// probe says [`Probe::Yes`].
pub fn probe_service(data: &[u8], is_orig: bool) -> Option<&'static str> {
    match probe_dialect(data, is_orig) {
        (Probe::Yes, Some(Dialect::Rtsp)) => Some(RTSP_SERVICE),
        (Probe::Yes, _) => Some(SERVICE),
        _ => None,
    }
}

fn probe_dialect(data: &[u8], is_orig: bool) -> (Probe, Option<Dialect>) {
    let limited = data.get(..MAX_LINE_LEN).unwrap_or(data);
    let (line, complete) = match limited.iter().position(|&b| b == b'\n') {
        Some(end) => (limited.get(..end).unwrap_or(limited), true),
        None => (limited, false),
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if is_orig {
        if let Some(r) = parser::parse_request_line(line) {
            return (Probe::Yes, Some(r.dialect));
        }
        if !complete && parser::method_prefix(line) {
            return (Probe::Maybe, None);
        }
        return (Probe::No, None);
    }
    if let Some(s) = parser::parse_status_line(line) {
        return (Probe::Yes, Some(s.dialect));
    }
    let prefix_of = |proto: &[u8]| {
        let n = line.len().min(proto.len());
        line.get(..n) == proto.get(..n)
    };
    if !complete && line.len() < 12 && (prefix_of(b"HTTP/1.") || prefix_of(b"RTSP/1.")) {
        return (Probe::Maybe, None);
    }
    (Probe::No, None)
}
