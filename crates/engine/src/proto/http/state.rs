//! Request/response pairing for one connection, following Zeek's
//! base/protocols/http/main.zeek: requests queue up (pipelining), each
//! response answers the oldest unanswered request, 1xx informational replies
//! keep the pair open for the final reply, a response with no request opens
//! a pair of its own. A pair is logged when its response ends, or when the
//! connection ends.
//!
//! In: message events from both directions' framing. Out: [`HttpRecord`]s.
//! Limits: at most [`MAX_PENDING_TRANSACTIONS`] pairs wait at once (the
//! oldest is logged early, `proto.http.pending_evicted`); header values are
//! cut at [`MAX_HEADER_VALUE_LEN`], URIs at [`MAX_URI_LEN`], proxy headers
//! kept at most [`MAX_PROXIED_HEADERS`] per request.
#![deny(clippy::indexing_slicing)]

use std::collections::VecDeque;

use super::framing::{Declared, Framing, MessageEvents};
use super::parser::{self, Dialect, KnownHeader, RequestLine, StatusLine};
use super::record::HttpRecord;
use super::HttpCounters;
use crate::log::ConnId;
use crate::proto::bounded_string;
use crate::sink::Sink;
use crate::time::Timestamp;

/// Request/response pairs waiting for their response per connection.
pub const MAX_PENDING_TRANSACTIONS: usize = 32;
/// Longest header value kept (User-Agent, Host, Referer, Server, …).
pub const MAX_HEADER_VALUE_LEN: usize = 2048;
/// Longest request URI kept (bytes before unescaping).
pub const MAX_URI_LEN: usize = 8192;
/// Proxy headers (`X-Forwarded-For`, `Via`, …) kept per request.
pub const MAX_PROXIED_HEADERS: usize = 8;

/// Methods whose response body rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MethodKind {
    Head,
    Connect,
    Other,
}

/// Methods in Zeek's `HTTP::http_methods` plus RTSP's; others are counted.
const KNOWN_METHODS: [&[u8]; 30] = [
    b"GET",
    b"POST",
    b"HEAD",
    b"OPTIONS",
    b"PUT",
    b"DELETE",
    b"TRACE",
    b"CONNECT",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"POLL",
    b"REPORT",
    b"SUBSCRIBE",
    b"BMOVE",
    b"SEARCH",
    b"PATCH",
    b"DESCRIBE",
    b"ANNOUNCE",
    b"SETUP",
    b"PLAY",
    b"PAUSE",
    b"TEARDOWN",
    b"GET_PARAMETER",
    b"SET_PARAMETER",
    b"RECORD",
];

struct Pending {
    rec: HttpRecord,
    method: Option<MethodKind>,
    answered: bool,
}

/// The pairs of one connection still waiting to be logged.
pub struct Transactions {
    pending: VecDeque<Pending>,
    /// Last `trans_depth` handed out.
    depth: u64,
    current_request: Option<u64>,
    current_response: Option<u64>,
    /// Set when the connection switched protocol: both directions stop.
    pub tunnel: bool,
}

impl Transactions {
    pub fn new() -> Self {
        Transactions {
            pending: VecDeque::new(),
            depth: 0,
            current_request: None,
            current_response: None,
            tunnel: false,
        }
    }

    fn find(&mut self, depth: Option<u64>) -> Option<&mut Pending> {
        let depth = depth?;
        self.pending
            .iter_mut()
            .rev()
            .find(|p| p.rec.trans_depth == depth)
    }

    /// Logs every pair still open (connection end).
    pub fn flush(&mut self, c: &mut HttpCounters, out: &mut impl Sink<HttpRecord>) {
        for p in self.pending.drain(..) {
            if !p.answered {
                c.unanswered_requests += 1;
            }
            out.push(p.rec);
        }
        self.current_request = None;
        self.current_response = None;
    }
}

impl Default for Transactions {
    fn default() -> Self {
        Self::new()
    }
}

/// The pairing state plus what a delivery needs to log records.
pub struct Pairing<'a, S> {
    pub tx: &'a mut Transactions,
    pub conn: &'a ConnId,
    pub ts: Timestamp,
    pub out: &'a mut S,
}

impl<S: Sink<HttpRecord>> Pairing<'_, S> {
    /// Opens a new pair, logging the oldest one if the queue is full.
    fn open(&mut self, dialect: Dialect, c: &mut HttpCounters) -> Option<&mut Pending> {
        if self.tx.pending.len() >= MAX_PENDING_TRANSACTIONS {
            if let Some(old) = self.tx.pending.pop_front() {
                c.pending_evicted += 1;
                self.out.push(old.rec);
            }
        }
        self.tx.depth += 1;
        let rec = HttpRecord::new(dialect, self.ts, self.conn.clone(), self.tx.depth);
        self.tx.pending.push_back(Pending {
            rec,
            method: None,
            answered: false,
        });
        self.tx.pending.back_mut()
    }
}

fn value(v: &[u8], c: &mut HttpCounters) -> String {
    if v.len() > MAX_HEADER_VALUE_LEN {
        c.limit_value_truncated += 1;
    }
    bounded_string(v, MAX_HEADER_VALUE_LEN)
}

fn is_informational(code: Option<u64>) -> bool {
    code.is_some_and(|c| (100..200).contains(&c))
}

impl<S: Sink<HttpRecord>> MessageEvents for Pairing<'_, S> {
    fn request(&mut self, line: &RequestLine<'_>, c: &mut HttpCounters) {
        c.requests += 1;
        if line.dialect == Dialect::Rtsp {
            c.rtsp_messages += 1;
        }
        if !KNOWN_METHODS.contains(&line.method) {
            c.unknown_method += 1;
        }
        if line.uri.len() > MAX_URI_LEN {
            c.limit_uri_truncated += 1;
        }
        let kind = match line.method {
            b"HEAD" => MethodKind::Head,
            b"CONNECT" => MethodKind::Connect,
            _ => MethodKind::Other,
        };
        let Some(p) = self.open(line.dialect, c) else {
            return;
        };
        p.method = Some(kind);
        p.rec.method = Some(bounded_string(line.method, parser::MAX_METHOD_LEN));
        p.rec.uri = Some(parser::unescape_uri(line.uri, MAX_URI_LEN));
        let depth = p.rec.trans_depth;
        self.tx.current_request = Some(depth);
    }

    fn status(&mut self, line: &StatusLine<'_>, c: &mut HttpCounters) {
        c.responses += 1;
        if line.dialect == Dialect::Rtsp {
            c.rtsp_messages += 1;
        }
        let code = u64::from(line.code);
        match line.code {
            100..=199 => c.informational_responses += 1,
            401 | 407 => c.auth_required_responses += 1,
            _ => {}
        }
        let current = self.tx.current_response;
        let continues = self
            .tx
            .find(current)
            .is_some_and(|p| is_informational(p.rec.status_code));
        let depth = if continues {
            current
        } else {
            self.tx
                .pending
                .iter()
                .find(|p| !p.answered)
                .map(|p| p.rec.trans_depth)
        };
        let depth = depth.or_else(|| {
            c.orphan_responses += 1;
            self.open(line.dialect, c).map(|p| p.rec.trans_depth)
        });
        let Some(depth) = depth else {
            return;
        };
        self.tx.current_response = Some(depth);
        if let Some(p) = self.tx.find(Some(depth)) {
            p.answered = true;
            let reason = value(line.reason, c);
            p.rec.status_code = Some(code);
            p.rec.version = Some(bounded_string(line.version, 8));
            if (100..200).contains(&line.code) {
                p.rec.info_code = Some(code);
                p.rec.info_msg = Some(reason.clone());
            }
            p.rec.status_msg = Some(reason);
        }
    }

    fn header(
        &mut self,
        is_orig: bool,
        kind: KnownHeader,
        name: &[u8],
        v: &[u8],
        c: &mut HttpCounters,
    ) {
        let target = if is_orig {
            self.tx.current_request
        } else {
            self.tx.current_response
        };
        let Some(p) = self.tx.find(target) else {
            return;
        };
        let rec = &mut p.rec;
        match (is_orig, kind) {
            (true, KnownHeader::Host) => rec.host = Some(value(v, c)),
            (true, KnownHeader::UserAgent) => rec.user_agent = Some(value(v, c)),
            (true, KnownHeader::Referer) => rec.referrer = Some(value(v, c)),
            (true, KnownHeader::Origin) => rec.origin = Some(value(v, c)),
            (true, KnownHeader::Authorization | KnownHeader::ProxyAuthorization) => {
                rec.authorization_scheme = Some(value(parser::auth_scheme(v), c));
                if let Some(user) = parser::basic_auth_username(v, MAX_HEADER_VALUE_LEN) {
                    c.basic_auth += 1;
                    if user.starts_with("<problem-decoding>") {
                        c.malformed_basic_auth += 1;
                    }
                    rec.username = Some(user);
                }
            }
            (true, KnownHeader::Proxy) => {
                if rec.proxied.len() < MAX_PROXIED_HEADERS {
                    let name = bounded_string(name, 64).to_ascii_uppercase();
                    let entry = format!("{name} -> {}", value(v, c));
                    if !rec.proxied.contains(&entry) {
                        rec.proxied.push(entry);
                    }
                } else {
                    c.limit_proxied_dropped += 1;
                }
            }
            (false, KnownHeader::Server) => rec.server = Some(value(v, c)),
            _ => {}
        }
    }

    fn headers_done(
        &mut self,
        is_orig: bool,
        declared: Declared,
        _c: &mut HttpCounters,
    ) -> Framing {
        let by_length = match (declared.chunked, declared.content_length) {
            (true, _) => Some(Framing::Chunked),
            (false, Some(n)) => Some(Framing::Length(n)),
            (false, None) => None,
        };
        if is_orig {
            return by_length.unwrap_or(Framing::NoBody);
        }
        let current = self.tx.current_response;
        let Some(p) = self.tx.find(current) else {
            return by_length.unwrap_or(Framing::NoBody);
        };
        let code = p.rec.status_code.unwrap_or(0);
        let tunnel =
            code == 101 || (p.method == Some(MethodKind::Connect) && (200..300).contains(&code));
        if tunnel {
            self.tx.tunnel = true;
            return Framing::Tunnel;
        }
        if p.method == Some(MethodKind::Head)
            || (100..200).contains(&code)
            || code == 204
            || code == 304
        {
            return Framing::NoBody;
        }
        match (by_length, p.rec.dialect) {
            (Some(f), _) => f,
            (None, Dialect::Http) => Framing::UntilClose,
            // RTSP: no Content-Length means no body (RFC 2326 §4.3).
            (None, Dialect::Rtsp) => Framing::NoBody,
        }
    }

    fn body(&mut self, is_orig: bool, len: u64, c: &mut HttpCounters) {
        c.body_bytes += len;
        let target = if is_orig {
            self.tx.current_request
        } else {
            self.tx.current_response
        };
        if let Some(p) = self.tx.find(target) {
            if is_orig {
                p.rec.request_body_len = p.rec.request_body_len.saturating_add(len);
            } else {
                p.rec.response_body_len = p.rec.response_body_len.saturating_add(len);
            }
        }
    }

    fn message_done(&mut self, is_orig: bool, _c: &mut HttpCounters) {
        if is_orig {
            return;
        }
        let Some(depth) = self.tx.current_response else {
            return;
        };
        let Some(at) = self
            .tx
            .pending
            .iter()
            .position(|p| p.rec.trans_depth == depth)
        else {
            return;
        };
        let code = self.tx.pending.get(at).and_then(|p| p.rec.status_code);
        // A 1xx reply keeps the pair open for the final one (101 ends parsing, so it is logged).
        if is_informational(code) && code != Some(101) {
            return;
        }
        if let Some(p) = self.tx.pending.remove(at) {
            self.out.push(p.rec);
        }
    }
}
