//! Per-connection DNP3 state: link frames in → application headers → one
//! [`Dnp3Record`] per request/response pair out.
//!
//! A fragment's application header sits in the first transport segment (FIR
//! set); later segments only carry objects and are counted. A request waits
//! in a single slot (DNP3 masters have one request outstanding); the next
//! response completes it, a second request first flushes it on its own line
//! (Zeek overwrites it — `DIRECT_OPERATE_NR`, which is never answered, would
//! otherwise be lost). Which side is the master is taken from the function
//! code (0x81–0x83 are responses), not from the TCP direction. No table grows
//! with the traffic: one slot per connection, one flag per direction.
#![deny(clippy::indexing_slicing)]

use super::parser::{self, AppHeader, Framing, LinkHeader, TransportHeader};
use super::record::Dnp3Record;
use super::Dnp3Counters;
use crate::log::ConnId;
use crate::sink::Sink;
use crate::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PendingRequest {
    ts: Timestamp,
    function: u8,
}

/// Reassembly flags of one direction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Segments {
    /// A fragment's first segment was seen and its last not yet.
    in_fragment: bool,
}

/// The request waiting for its response.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    pending: Option<PendingRequest>,
}

impl Exchange {
    /// Handles one checked link frame of one direction.
    #[allow(clippy::too_many_arguments)]
    pub fn on_frame(
        &mut self,
        ts: Timestamp,
        header: &LinkHeader,
        blocks: &[u8],
        segments: &mut Segments,
        conn: &ConnId,
        c: &mut Dnp3Counters,
        out: &mut impl Sink<Dnp3Record>,
    ) {
        c.frames += 1;
        if header.user_data_len() == 0 {
            c.link_only_frames += 1;
            return;
        }
        let (bad, first) = parser::check_blocks(blocks);
        if bad > 0 {
            c.bad_data_crc += u64::from(bad);
            // The segment cannot be trusted; the fragment it belonged to is lost.
            segments.in_fragment = false;
            return;
        }
        let Some((&transport, app)) = first.split_first() else {
            return;
        };
        let transport = TransportHeader::from_byte(transport);
        if !transport.fir {
            if !segments.in_fragment {
                c.missing_first_segment += 1;
            }
            segments.in_fragment = !transport.fin && segments.in_fragment;
            return;
        }
        segments.in_fragment = !transport.fin;
        match parser::app_header(app) {
            Some(app) => self.on_app_header(ts, &app, conn, c, out),
            None => c.short_app_headers += 1,
        }
    }

    fn on_app_header(
        &mut self,
        ts: Timestamp,
        app: &AppHeader,
        conn: &ConnId,
        c: &mut Dnp3Counters,
        out: &mut impl Sink<Dnp3Record>,
    ) {
        if parser::is_response_function(app.function) {
            c.responses += 1;
            let request = self.pending.take();
            out.push(Dnp3Record {
                ts,
                conn: conn.clone(),
                fc_request: request.map(|r| parser::function_name(r.function)),
                fc_reply: Some(parser::function_name(app.function)),
                iin: app.iin,
                request_code: request.map(|r| r.function),
                reply_code: Some(app.function),
            });
        } else {
            c.requests += 1;
            if let Some(previous) = self.pending.take() {
                c.unanswered_requests += 1;
                out.push(request_only(previous, conn));
            }
            self.pending = Some(PendingRequest {
                ts,
                function: app.function,
            });
        }
    }

    /// Emits the request still waiting (connection end).
    pub fn flush(&mut self, conn: &ConnId, c: &mut Dnp3Counters, out: &mut impl Sink<Dnp3Record>) {
        if let Some(request) = self.pending.take() {
            c.unanswered_requests += 1;
            out.push(request_only(request, conn));
        }
    }
}

fn request_only(request: PendingRequest, conn: &ConnId) -> Dnp3Record {
    Dnp3Record {
        ts: request.ts,
        conn: conn.clone(),
        fc_request: Some(parser::function_name(request.function)),
        fc_reply: None,
        iin: None,
        request_code: Some(request.function),
        reply_code: None,
    }
}

/// What to do with the head of a direction's stream (for the stream buffer).
pub enum Head<'a> {
    Frame {
        header: LinkHeader,
        blocks: &'a [u8],
        len: usize,
    },
    Incomplete,
    /// Skip this many bad bytes and look for the next start.
    Skip(usize),
}

/// Frames the head of the stream, counting and skipping bad bytes.
pub fn head<'a>(bytes: &'a [u8], c: &mut Dnp3Counters) -> Head<'a> {
    match parser::frame(bytes) {
        Framing::Frame {
            header,
            blocks,
            len,
        } => Head::Frame {
            header,
            blocks,
            len,
        },
        Framing::Incomplete => Head::Incomplete,
        Framing::Bad(bad) => {
            match bad {
                parser::BadFrame::NoStart => c.no_start += 1,
                parser::BadFrame::HeaderCrc => c.bad_header_crc += 1,
                parser::BadFrame::Length => c.bad_length += 1,
            }
            let skip = parser::resync_skip(bytes);
            c.resync_bytes += skip as u64;
            Head::Skip(skip)
        }
    }
}
