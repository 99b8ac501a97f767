//! NTP analyzer (UDP 123): each `on_data` call is one datagram in → one
//! [`NtpRecord`] (log `ntp`) out; datagrams that cannot be NTP are counted in
//! [`NtpCounters`] (`proto.ntp.*`).
//!
//! Stateless: every datagram stands alone, so there is no `state.rs` (the
//! analyzer keeps only its connection id). Zeek logs modes 0–5 only;
//! gatewatch logs control (6) and private (7) messages too, because
//! `monlist`-style queries matter to a security monitor. Limits: those of
//! [`parser`] (extension fields walked), nothing allocated but the record.
#![deny(clippy::indexing_slicing)]

pub mod parser;
pub mod record;

pub use parser::{parse, NtpBody, NtpError, NtpMessage};
pub use record::NtpRecord;

use crate::counters::Counters;
use crate::log::ConnId;
use crate::proto::Probe;
use crate::sink::Sink;
use crate::time::Timestamp;

/// The conn.log `service` name.
pub const SERVICE: &str = "ntp";

macro_rules! ntp_counters {
    ($( $(#[$doc:meta])* $field:ident => $name:literal, )*) => {
        /// What the NTP analyzer parsed and what it refused.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct NtpCounters {
            $( $(#[$doc])* pub $field: u64, )*
        }

        impl Counters for NtpCounters {
            fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
                $( f($name, self.$field); )*
            }
        }
    };
}

ntp_counters! {
    /// Messages logged.
    messages => "proto.ntp.messages",
    /// Control (mode 6) messages among them.
    control => "proto.ntp.control",
    /// Private (mode 7) messages among them.
    private => "proto.ntp.private",
    /// Empty datagrams (not logged).
    empty => "proto.ntp.malformed_empty",
    /// Datagrams whose version is not 1–4 (not logged).
    bad_version => "proto.ntp.malformed_version",
    /// Datagrams shorter than the header of their mode (not logged).
    too_short => "proto.ntp.malformed_too_short",
    /// Messages whose bytes after the header are neither extension fields nor a MAC.
    bad_extensions => "proto.ntp.malformed_extensions",
    /// Capture gaps reported (never expected on UDP).
    gaps => "proto.ntp.gaps",
}

/// The NTP analyzer of one UDP flow.
#[derive(Debug, Clone)]
pub struct NtpAnalyzer {
    conn: ConnId,
}

impl NtpAnalyzer {
    pub fn new(conn: ConnId) -> Self {
        NtpAnalyzer { conn }
    }

    /// One datagram from either side.
    pub fn on_data(
        &mut self,
        ts: Timestamp,
        _is_orig: bool,
        data: &[u8],
        c: &mut NtpCounters,
        out: &mut impl Sink<NtpRecord>,
    ) {
        let msg = match parse(data) {
            Ok(msg) => msg,
            Err(NtpError::Empty) => return c.empty += 1,
            Err(NtpError::BadVersion { .. }) => return c.bad_version += 1,
            Err(NtpError::TooShort { .. }) => return c.too_short += 1,
        };
        c.messages += 1;
        match msg.body {
            NtpBody::Standard(s) => c.bad_extensions += u64::from(s.bad_extensions),
            NtpBody::Control(_) => c.control += 1,
            NtpBody::Private(_) => c.private += 1,
            NtpBody::Reserved => {}
        }
        out.push(NtpRecord::from_message(&self.conn, ts, &msg));
    }

    /// UDP has no gaps; counted if the pipeline ever reports one.
    pub fn on_gap(&mut self, _is_orig: bool, _len: u64, c: &mut NtpCounters) {
        c.gaps += 1;
    }

    /// Nothing is pending at the end of a flow.
    pub fn on_end(
        &mut self,
        _ts: Timestamp,
        _c: &mut NtpCounters,
        _out: &mut impl Sink<NtpRecord>,
    ) {
    }
}

/// Content detection on one datagram. NTP has no magic: a standard message
/// of exactly 48 bytes (or with well-formed extensions/MAC) whose version is
/// 3 or 4 and stratum at most 16 is `Yes`; other parseable messages `Maybe`.
pub fn probe(data: &[u8], _is_orig: bool) -> Probe {
    match parse(data) {
        Ok(NtpMessage {
            version: 3 | 4,
            body: NtpBody::Standard(s),
            ..
        }) if !s.bad_extensions && s.stratum <= 16 => Probe::Yes,
        Ok(NtpMessage {
            body: NtpBody::Reserved,
            ..
        }) => Probe::No,
        Ok(_) => Probe::Maybe,
        Err(_) => Probe::No,
    }
}
