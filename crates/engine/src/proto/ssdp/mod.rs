//! SSDP analyzer (UPnP discovery on UDP 1900): each `on_data` call is one
//! datagram in → one [`SsdpRecord`] (log `ssdp`) out for a NOTIFY, M-SEARCH
//! or search response; datagrams that are not HTTP-formatted are counted in
//! [`SsdpCounters`] (`proto.ssdp.*`).
//!
//! Stateless: every datagram stands alone, so there is no `state.rs`.
//! mDNS is not here (the DNS analyzer handles it). Limits: those of
//! [`parser`] (header lines read) and [`record::MAX_VALUE`].
#![deny(clippy::indexing_slicing)]

pub mod parser;
pub mod record;

pub use parser::{parse, SsdpError, SsdpMessage, StartLine};
pub use record::SsdpRecord;

use crate::counters::Counters;
use crate::log::ConnId;
use crate::proto::Probe;
use crate::sink::Sink;
use crate::time::Timestamp;

/// The conn.log `service` name.
pub const SERVICE: &str = "ssdp";

macro_rules! ssdp_counters {
    ($( $(#[$doc:meta])* $field:ident => $name:literal, )*) => {
        /// What the SSDP analyzer parsed and what it refused.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct SsdpCounters {
            $( $(#[$doc])* pub $field: u64, )*
        }

        impl Counters for SsdpCounters {
            fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
                $( f($name, self.$field); )*
            }
        }
    };
}

ssdp_counters! {
    /// Messages logged.
    messages => "proto.ssdp.messages",
    /// NOTIFY requests among them.
    notify => "proto.ssdp.notify",
    /// M-SEARCH requests among them.
    m_search => "proto.ssdp.m_search",
    /// Responses among them.
    responses => "proto.ssdp.responses",
    /// Datagrams without an HTTP start line (not logged).
    not_http => "proto.ssdp.malformed_start_line",
    /// Messages with a header line lacking a colon or a name.
    bad_header_line => "proto.ssdp.malformed_header_line",
    /// Messages with more than `parser::MAX_HEADER_LINES` header lines.
    too_many_headers => "proto.ssdp.too_many_headers",
    /// Messages ending before the empty line after the headers.
    unterminated => "proto.ssdp.unterminated",
    /// Capture gaps reported (never expected on UDP).
    gaps => "proto.ssdp.gaps",
}

/// The SSDP analyzer of one UDP flow.
#[derive(Debug, Clone)]
pub struct SsdpAnalyzer {
    conn: ConnId,
}

impl SsdpAnalyzer {
    pub fn new(conn: ConnId) -> Self {
        SsdpAnalyzer { conn }
    }

    /// One datagram from either side.
    pub fn on_data(
        &mut self,
        ts: Timestamp,
        _is_orig: bool,
        data: &[u8],
        c: &mut SsdpCounters,
        out: &mut impl Sink<SsdpRecord>,
    ) {
        let Ok(msg) = parse(data) else {
            c.not_http += 1;
            return;
        };
        c.messages += 1;
        match msg.start {
            StartLine::Request { method, .. } if method == b"NOTIFY" => c.notify += 1,
            StartLine::Request { method, .. } if method == b"M-SEARCH" => c.m_search += 1,
            StartLine::Request { .. } => {}
            StartLine::Response { .. } => c.responses += 1,
        }
        c.bad_header_line += u64::from(msg.issues.bad_header_line);
        c.too_many_headers += u64::from(msg.issues.too_many_headers);
        c.unterminated += u64::from(msg.issues.unterminated);
        out.push(SsdpRecord::from_message(&self.conn, ts, &msg));
    }

    /// UDP has no gaps; counted if the pipeline ever reports one.
    pub fn on_gap(&mut self, _is_orig: bool, _len: u64, c: &mut SsdpCounters) {
        c.gaps += 1;
    }

    /// Nothing is pending at the end of a flow.
    pub fn on_end(
        &mut self,
        _ts: Timestamp,
        _c: &mut SsdpCounters,
        _out: &mut impl Sink<SsdpRecord>,
    ) {
    }
}

/// Content detection on one datagram: a NOTIFY or M-SEARCH request line, or
/// an HTTP response carrying an ST or USN header, is `Yes`; another
/// HTTP-formatted datagram is `Maybe`.
pub fn probe(data: &[u8], _is_orig: bool) -> Probe {
    match parse(data) {
        Ok(SsdpMessage {
            start: StartLine::Request { method, target },
            ..
        }) if (method == b"NOTIFY" || method == b"M-SEARCH") && target == b"*" => Probe::Yes,
        Ok(
            m @ SsdpMessage {
                start: StartLine::Response { .. },
                ..
            },
        ) if m.st.is_some() || m.usn.is_some() => Probe::Yes,
        Ok(_) => Probe::Maybe,
        Err(_) => Probe::No,
    }
}
