//! Modbus/TCP analyzer: the in-order bytes of each direction in →
//! [`ModbusRecord`]s (Zeek's modbus.log, one per message) out.
//!
//! Each direction is framed by its MBAP header (`parser`); requests come from
//! the originator, responses from the responder, paired by transaction id
//! (`state`). A header with a protocol id other than 0 or a length outside
//! 2..=254 stops that direction (Modbus has no magic to find the next frame),
//! as does a gap. Limits: [`parser::MAX_ADU_LEN`] bytes buffered per
//! direction, [`state::MAX_PENDING_REQUESTS`] unanswered requests.

pub mod parser;
pub mod record;
pub mod state;

pub use record::ModbusRecord;

use crate::counters::Counters;
use crate::log::ConnId;
use crate::proto::stream_buffer::{Fed, Step, StreamBuffer};
use crate::proto::Probe;
use crate::sink::Sink;
use crate::time::Timestamp;

use parser::Framing;
use state::Transactions;

/// The `service` name in conn.log.
pub const SERVICE: &str = "modbus";
/// The well-known Modbus/TCP port (a hint; the probe decides).
pub const PORT: u16 = 502;

/// What the Modbus analyzers saw, summed over connections.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ModbusCounters {
    /// ADUs framed (requests + responses).
    pub messages: u64,
    pub requests: u64,
    pub responses: u64,
    /// Responses with the exception bit set.
    pub exceptions: u64,
    /// Function codes Zeek has no name for.
    pub unknown_functions: u64,
    /// PDUs shorter than their function requires (logged anyway).
    pub malformed_pdus: u64,
    /// Headers with a protocol id other than 0 (direction stopped).
    pub bad_protocol_id: u64,
    /// Headers with a length outside 2..=254 (direction stopped).
    pub bad_length: u64,
    /// Responses with no pending request of the same transaction id.
    pub unmatched_responses: u64,
    /// Requests still unanswered when the connection ended.
    pub unanswered_requests: u64,
    /// Pending requests dropped beyond `MAX_PENDING_REQUESTS`.
    pub pending_evicted: u64,
    /// Directions stopped by a gap in the stream.
    pub gaps: u64,
    /// Bytes ignored because their direction was stopped.
    pub skipped_bytes: u64,
}

impl Counters for ModbusCounters {
    fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
        f("proto.modbus.messages", self.messages);
        f("proto.modbus.requests", self.requests);
        f("proto.modbus.responses", self.responses);
        f("proto.modbus.exceptions", self.exceptions);
        f("proto.modbus.unknown_functions", self.unknown_functions);
        f("proto.modbus.malformed_pdus", self.malformed_pdus);
        f("proto.modbus.bad_protocol_id", self.bad_protocol_id);
        f("proto.modbus.bad_length", self.bad_length);
        f("proto.modbus.unmatched_responses", self.unmatched_responses);
        f("proto.modbus.unanswered_requests", self.unanswered_requests);
        f("proto.modbus.pending_evicted", self.pending_evicted);
        f("proto.modbus.gaps", self.gaps);
        f("proto.modbus.skipped_bytes", self.skipped_bytes);
    }
}

/// The Modbus/TCP state of one connection.
#[derive(Debug, Clone)]
pub struct ModbusAnalyzer {
    conn: ConnId,
    orig: StreamBuffer,
    resp: StreamBuffer,
    transactions: Transactions,
}

impl ModbusAnalyzer {
    pub fn new(conn: ConnId) -> Self {
        ModbusAnalyzer {
            conn,
            orig: StreamBuffer::new(2 * parser::MAX_ADU_LEN),
            resp: StreamBuffer::new(2 * parser::MAX_ADU_LEN),
            transactions: Transactions::default(),
        }
    }

    /// The next in-order bytes of one direction.
    pub fn on_data(
        &mut self,
        ts: Timestamp,
        is_orig: bool,
        data: &[u8],
        c: &mut ModbusCounters,
        out: &mut impl Sink<ModbusRecord>,
    ) {
        let stream = if is_orig {
            &mut self.orig
        } else {
            &mut self.resp
        };
        let transactions = &mut self.transactions;
        let conn = &self.conn;
        let fed = stream.feed(data, |bytes| match parser::frame(bytes) {
            Framing::Adu { adu, len } => {
                out.push(transactions.on_adu(ts, is_orig, &adu, conn, c));
                Step::Consumed(len)
            }
            Framing::Incomplete => Step::Incomplete,
            Framing::Invalid(parser::InvalidHeader::ProtocolId(_)) => {
                c.bad_protocol_id += 1;
                Step::Stop { consumed: 0 }
            }
            Framing::Invalid(parser::InvalidHeader::Length(_)) => {
                c.bad_length += 1;
                Step::Stop { consumed: 0 }
            }
        });
        if let Fed::Stopped { unparsed } = fed {
            c.skipped_bytes += unparsed as u64;
        }
    }

    /// `len` bytes of one direction are lost: its framing cannot be recovered.
    pub fn on_gap(&mut self, is_orig: bool, _len: u64, c: &mut ModbusCounters) {
        let stream = if is_orig {
            &mut self.orig
        } else {
            &mut self.resp
        };
        if !stream.is_stopped() {
            c.gaps += 1;
            stream.stop();
        }
    }

    /// The connection ended: every record was emitted already; count the
    /// requests left unanswered.
    pub fn on_end(
        &mut self,
        _ts: Timestamp,
        c: &mut ModbusCounters,
        _out: &mut impl Sink<ModbusRecord>,
    ) {
        c.unanswered_requests += self.transactions.unanswered() as u64;
        self.transactions = Transactions::default();
    }
}

/// Content detection on the first bytes a side sent: a valid MBAP header
/// (protocol id 0, length 2..=254) with a function code Zeek knows is `Yes`
/// once the whole ADU is there, `Maybe` while it is short.
pub fn probe(data: &[u8], _is_orig: bool) -> Probe {
    match parser::frame(data) {
        Framing::Adu { adu, .. } if parser::is_known_function(adu.function) => Probe::Yes,
        Framing::Adu { .. } => Probe::Maybe,
        Framing::Incomplete => match parser::adu_len(data) {
            Ok(_) if data.len() < 8 => Probe::Maybe,
            Ok(_) => match data.get(7) {
                Some(&f) if parser::is_known_function(f) => Probe::Maybe,
                _ => Probe::No,
            },
            Err(_) => Probe::No,
        },
        Framing::Invalid(_) => Probe::No,
    }
}
