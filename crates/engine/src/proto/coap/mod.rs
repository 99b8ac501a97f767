//! CoAP analyzer (RFC 7252 on UDP 5683): each `on_data` call is one datagram
//! in → one [`CoapRecord`] (log `coap`) out; datagrams that are not CoAP are
//! counted in [`CoapCounters`] (`proto.coap.*`).
//!
//! Requests are remembered per flow ([`state`]) so a response names the
//! request it answers. Limits: [`parser::MAX_OPTIONS`],
//! [`state::MAX_PENDING_REQUESTS`], [`record::MAX_URI`].
#![deny(clippy::indexing_slicing)]

pub mod parser;
pub mod record;
pub mod state;

pub use parser::{parse, CoapError, CoapMessage, CoapType};
pub use record::CoapRecord;

use crate::counters::Counters;
use crate::log::ConnId;
use crate::proto::Probe;
use crate::sink::Sink;
use crate::time::Timestamp;

use state::{PendingRequest, PendingRequests};

/// The conn.log `service` name.
pub const SERVICE: &str = "coap";

macro_rules! coap_counters {
    ($( $(#[$doc:meta])* $field:ident => $name:literal, )*) => {
        /// What the CoAP analyzer parsed and what it refused.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct CoapCounters {
            $( $(#[$doc])* pub $field: u64, )*
        }

        impl Counters for CoapCounters {
            fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
                $( f($name, self.$field); )*
            }
        }
    };
}

coap_counters! {
    /// Messages logged.
    messages => "proto.coap.messages",
    /// Requests among them.
    requests => "proto.coap.requests",
    /// Responses among them.
    responses => "proto.coap.responses",
    /// Responses matched to a request of the flow.
    responses_matched => "proto.coap.responses_matched",
    /// Datagrams shorter than the header or cut inside the token (not logged).
    too_short => "proto.coap.malformed_too_short",
    /// Datagrams whose version is not 1 (not logged).
    bad_version => "proto.coap.malformed_version",
    /// Datagrams with a reserved token length 9–15 (not logged).
    bad_token_length => "proto.coap.malformed_token_length",
    /// Messages with a reserved option nibble or an option past the end.
    bad_option => "proto.coap.malformed_option",
    /// Messages with more than `parser::MAX_OPTIONS` options.
    too_many_options => "proto.coap.too_many_options",
    /// Messages with a payload marker and no payload.
    empty_payload => "proto.coap.malformed_empty_payload",
    /// Empty messages (0.00) carrying a token, options or payload.
    non_empty_empty => "proto.coap.malformed_empty_message",
    /// Requests dropped from a flow's table (`state::MAX_PENDING_REQUESTS`).
    requests_evicted => "proto.coap.requests_evicted",
    /// Capture gaps reported (never expected on UDP).
    gaps => "proto.coap.gaps",
}

/// The CoAP state of one UDP flow.
#[derive(Debug, Clone)]
pub struct CoapAnalyzer {
    conn: ConnId,
    pending: PendingRequests,
}

impl CoapAnalyzer {
    pub fn new(conn: ConnId) -> Self {
        CoapAnalyzer {
            conn,
            pending: PendingRequests::default(),
        }
    }

    /// One datagram from either side.
    pub fn on_data(
        &mut self,
        ts: Timestamp,
        _is_orig: bool,
        data: &[u8],
        c: &mut CoapCounters,
        out: &mut impl Sink<CoapRecord>,
    ) {
        let msg = match parse(data) {
            Ok(msg) => msg,
            Err(CoapError::TooShort { .. } | CoapError::TruncatedToken { .. }) => {
                return c.too_short += 1
            }
            Err(CoapError::BadVersion { .. }) => return c.bad_version += 1,
            Err(CoapError::BadTokenLength { .. }) => return c.bad_token_length += 1,
        };
        c.messages += 1;
        c.bad_option += u64::from(msg.issues.bad_option);
        c.too_many_options += u64::from(msg.issues.too_many_options);
        c.empty_payload += u64::from(msg.issues.empty_payload);
        c.non_empty_empty += u64::from(msg.issues.non_empty_empty);
        let mut answered = None;
        if msg.is_response() {
            c.responses += 1;
            let observe = msg.option_iter().any(|(n, _)| n == 6);
            answered = self.pending.answer(&msg, observe);
            c.responses_matched += u64::from(answered.is_some());
        }
        let record = CoapRecord::from_message(&self.conn, ts, &msg, answered);
        if msg.is_request() {
            c.requests += 1;
            let req = PendingRequest::new(&msg, record.uri_path.clone(), ts);
            c.requests_evicted += u64::from(self.pending.add(req));
        }
        out.push(record);
    }

    /// UDP has no gaps; counted if the pipeline ever reports one.
    pub fn on_gap(&mut self, _is_orig: bool, _len: u64, c: &mut CoapCounters) {
        c.gaps += 1;
    }

    /// Unanswered requests were logged when seen; nothing else is pending.
    pub fn on_end(
        &mut self,
        _ts: Timestamp,
        _c: &mut CoapCounters,
        _out: &mut impl Sink<CoapRecord>,
    ) {
    }
}

/// Content detection on one datagram: version 1, a valid token length and a
/// defined code (request 0.01–0.07, response 2.xx/4.xx/5.xx, or an Empty
/// message of exactly 4 bytes) whose options walk cleanly is `Yes` for a
/// request with options, else `Maybe`.
pub fn probe(data: &[u8], _is_orig: bool) -> Probe {
    let Ok(msg) = parse(data) else {
        return Probe::No;
    };
    let i = msg.issues;
    if i.bad_option || i.too_many_options || i.empty_payload || i.non_empty_empty {
        return Probe::No;
    }
    let defined = match msg.code_class() {
        0 => msg.code_detail() <= 7,
        2 | 4 | 5 => true,
        _ => false,
    };
    if !defined {
        Probe::No
    } else if msg.is_request() && !msg.options.is_empty() {
        Probe::Yes
    } else {
        Probe::Maybe
    }
}
