//! DNP3 analyzer: the in-order bytes of each direction (or UDP datagrams) in
//! → [`Dnp3Record`]s (Zeek's dnp3.log) out.
//!
//! Link frames are checked (start `05 64`, header CRC, every 16-byte block's
//! CRC) and stripped (`parser`); the application header of each fragment's
//! first segment pairs requests with responses (`state`). Bad bytes are
//! counted and skipped up to the next frame whose header CRC checks, so the
//! analyzer resynchronises after damage. Limits: [`parser::MAX_FRAME_LEN`]
//! bytes buffered per direction, one pending request per connection.

pub mod parser;
pub mod record;
pub mod state;

pub use record::Dnp3Record;

use crate::counters::Counters;
use crate::log::ConnId;
use crate::proto::stream_buffer::{Fed, Step, StreamBuffer};
use crate::proto::Probe;
use crate::sink::Sink;
use crate::time::Timestamp;

use state::{Exchange, Head, Segments};

/// The `service` name in conn.log.
pub const SERVICE: &str = "dnp3";
/// The well-known DNP3 port, TCP and UDP (a hint; the probe decides).
pub const PORT: u16 = 20000;

/// What the DNP3 analyzers saw, summed over connections.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dnp3Counters {
    /// Link frames whose header checked.
    pub frames: u64,
    /// Frames without transport/application data (link status, resets).
    pub link_only_frames: u64,
    pub requests: u64,
    pub responses: u64,
    /// Requests flushed without a response (next request or connection end).
    pub unanswered_requests: u64,
    /// Heads of stream not starting with `05 64`.
    pub no_start: u64,
    /// Link headers whose CRC did not match.
    pub bad_header_crc: u64,
    /// Link headers with a length below 5.
    pub bad_length: u64,
    /// User-data blocks whose CRC did not match (their frame is dropped).
    pub bad_data_crc: u64,
    /// Bytes skipped to find the next frame.
    pub resync_bytes: u64,
    /// Segments without FIR while no fragment was open.
    pub missing_first_segment: u64,
    /// First segments too short for their application header.
    pub short_app_headers: u64,
    /// Gaps reported in a direction (its buffer is dropped; the next frame resynchronises).
    pub gaps: u64,
}

impl Counters for Dnp3Counters {
    fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
        f("proto.dnp3.frames", self.frames);
        f("proto.dnp3.link_only_frames", self.link_only_frames);
        f("proto.dnp3.requests", self.requests);
        f("proto.dnp3.responses", self.responses);
        f("proto.dnp3.unanswered_requests", self.unanswered_requests);
        f("proto.dnp3.no_start", self.no_start);
        f("proto.dnp3.bad_header_crc", self.bad_header_crc);
        f("proto.dnp3.bad_length", self.bad_length);
        f("proto.dnp3.bad_data_crc", self.bad_data_crc);
        f("proto.dnp3.resync_bytes", self.resync_bytes);
        f(
            "proto.dnp3.missing_first_segment",
            self.missing_first_segment,
        );
        f("proto.dnp3.short_app_headers", self.short_app_headers);
        f("proto.dnp3.gaps", self.gaps);
    }
}

/// The DNP3 state of one connection.
#[derive(Debug, Clone)]
pub struct Dnp3Analyzer {
    conn: ConnId,
    orig: (StreamBuffer, Segments),
    resp: (StreamBuffer, Segments),
    exchange: Exchange,
}

impl Dnp3Analyzer {
    pub fn new(conn: ConnId) -> Self {
        let side = || {
            (
                StreamBuffer::new(2 * parser::MAX_FRAME_LEN),
                Segments::default(),
            )
        };
        Dnp3Analyzer {
            conn,
            orig: side(),
            resp: side(),
            exchange: Exchange::default(),
        }
    }

    /// TCP: the next in-order bytes of one direction; UDP: one datagram.
    pub fn on_data(
        &mut self,
        ts: Timestamp,
        is_orig: bool,
        data: &[u8],
        c: &mut Dnp3Counters,
        out: &mut impl Sink<Dnp3Record>,
    ) {
        let (stream, segments) = if is_orig {
            (&mut self.orig.0, &mut self.orig.1)
        } else {
            (&mut self.resp.0, &mut self.resp.1)
        };
        let exchange = &mut self.exchange;
        let conn = &self.conn;
        let fed = stream.feed(data, |bytes| match state::head(bytes, c) {
            Head::Frame {
                header,
                blocks,
                len,
            } => {
                exchange.on_frame(ts, &header, blocks, segments, conn, c, out);
                Step::Consumed(len)
            }
            Head::Incomplete => Step::Incomplete,
            Head::Skip(n) => Step::Consumed(n),
        });
        // Frames are at most MAX_FRAME_LEN, so the buffer never overflows.
        debug_assert_eq!(fed, Fed::Buffered);
    }

    /// Bytes of one direction are lost: drop its partial frame; the next
    /// frame header resynchronises.
    pub fn on_gap(&mut self, is_orig: bool, _len: u64, c: &mut Dnp3Counters) {
        let (stream, segments) = if is_orig {
            (&mut self.orig.0, &mut self.orig.1)
        } else {
            (&mut self.resp.0, &mut self.resp.1)
        };
        c.gaps += 1;
        stream.clear();
        *segments = Segments::default();
    }

    /// The connection ended: a request still waiting gets its own line.
    pub fn on_end(
        &mut self,
        _ts: Timestamp,
        c: &mut Dnp3Counters,
        out: &mut impl Sink<Dnp3Record>,
    ) {
        self.exchange.flush(&self.conn, c, out);
    }
}

/// Content detection: `05 64` with a valid header CRC is `Yes`; the start
/// octets alone (fewer than 10 bytes) are `Maybe`.
pub fn probe(data: &[u8], _is_orig: bool) -> Probe {
    match parser::frame(data) {
        parser::Framing::Frame { .. } => Probe::Yes,
        parser::Framing::Incomplete if data.len() >= parser::LINK_HEADER_LEN => Probe::Yes,
        parser::Framing::Incomplete => Probe::Maybe,
        parser::Framing::Bad(_) => Probe::No,
    }
}
