//! One direction of an HTTP/RTSP connection: in-order bytes in → message
//! events out through [`MessageEvents`] (start line, interesting headers, end
//! of headers, body byte counts, end of message).
//!
//! Only lines are buffered, never bodies: a body is skipped by its
//! Content-Length, by following the chunk framing (size lines and CRLFs are
//! read, chunk data only counted) or until the connection closes. RTSP
//! interleaved binary frames (`$`, channel, 16-bit length) between messages
//! are skipped by their length. A separate file from `state.rs` because the
//! framing is per direction while pairing needs both.
//!
//! Limits: a line (start line or header) longer than [`MAX_LINE_LEN`] stops
//! the direction (`proto.http.limit.line_too_long`); after [`MAX_HEADERS`]
//! headers in one message only the framing headers are still read. Garbage
//! where a start line or chunk size must be stops the direction too: nothing
//! after it can be framed.
#![deny(clippy::indexing_slicing)]

use super::parser::{self, Dialect, KnownHeader, RequestLine, StatusLine};
use super::HttpCounters;

/// Longest start or header line accepted (bytes, without the line end).
pub const MAX_LINE_LEN: usize = 16 * 1024;
/// Headers per message interpreted for the log; later ones only for framing.
pub const MAX_HEADERS: usize = 128;

/// Body length headers seen in one message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Declared {
    pub content_length: Option<u64>,
    pub chunked: bool,
}

/// How the bytes after a message's headers are delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body: the next byte starts a new message.
    NoBody,
    Length(u64),
    Chunked,
    /// Until the connection closes (HTTP response without length).
    UntilClose,
    /// The connection switched protocol (CONNECT 2xx, 101): stop parsing.
    Tunnel,
}

/// Receives what one direction's framing finds.
pub trait MessageEvents {
    fn request(&mut self, line: &RequestLine<'_>, c: &mut HttpCounters);
    fn status(&mut self, line: &StatusLine<'_>, c: &mut HttpCounters);
    /// A header the log uses (never Content-Length / Transfer-Encoding).
    fn header(
        &mut self,
        is_orig: bool,
        kind: KnownHeader,
        name: &[u8],
        value: &[u8],
        c: &mut HttpCounters,
    );
    /// End of headers: the receiver decides the framing (it knows the request
    /// method a response answers).
    fn headers_done(&mut self, is_orig: bool, declared: Declared, c: &mut HttpCounters) -> Framing;
    fn body(&mut self, is_orig: bool, len: u64, c: &mut HttpCounters);
    fn message_done(&mut self, is_orig: bool, c: &mut HttpCounters);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    StartLine,
    Headers,
    Body {
        remaining: u64,
    },
    ChunkSize,
    ChunkData {
        remaining: u64,
    },
    /// The CRLF after a chunk's data.
    ChunkEnd,
    Trailers,
    UntilClose,
    /// RTSP `$` frame header: bytes of it seen so far and the length read.
    InterleavedHeader {
        seen: u8,
        len: u16,
    },
    Interleaved {
        remaining: u64,
    },
    Stopped,
}

/// Framing state of one direction.
#[derive(Debug)]
pub struct MessageStream {
    is_orig: bool,
    phase: Phase,
    /// A line split across deliveries (bounded by [`MAX_LINE_LEN`]).
    line: Vec<u8>,
    declared: Declared,
    headers: usize,
    dialect: Option<Dialect>,
}

impl MessageStream {
    pub fn new(is_orig: bool) -> Self {
        MessageStream {
            is_orig,
            phase: Phase::StartLine,
            line: Vec::new(),
            declared: Declared::default(),
            headers: 0,
            dialect: None,
        }
    }

    /// The dialect of the first start line of this direction.
    pub fn dialect(&self) -> Option<Dialect> {
        self.dialect
    }

    pub fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    /// Parses nothing more in this direction.
    pub fn stop(&mut self) {
        self.phase = Phase::Stopped;
        self.line = Vec::new();
    }

    fn stop_counted(&mut self, c: &mut HttpCounters) {
        c.directions_stopped += 1;
        self.stop();
    }

    /// The next in-order bytes of this direction.
    pub fn feed(&mut self, mut data: &[u8], ev: &mut impl MessageEvents, c: &mut HttpCounters) {
        loop {
            match self.phase {
                Phase::Stopped => return,
                Phase::Body { remaining: 0 } => self.finish_message(ev, c),
                Phase::ChunkData { remaining: 0 } => self.phase = Phase::ChunkEnd,
                Phase::Interleaved { remaining: 0 } => self.phase = Phase::StartLine,
                _ if data.is_empty() => return,
                Phase::Body { remaining } => {
                    let n = skip(&mut data, remaining);
                    ev.body(self.is_orig, n, c);
                    self.phase = Phase::Body {
                        remaining: remaining - n,
                    };
                }
                Phase::ChunkData { remaining } => {
                    let n = skip(&mut data, remaining);
                    ev.body(self.is_orig, n, c);
                    self.phase = Phase::ChunkData {
                        remaining: remaining - n,
                    };
                }
                Phase::UntilClose => {
                    ev.body(self.is_orig, data.len() as u64, c);
                    return;
                }
                Phase::Interleaved { remaining } => {
                    let n = skip(&mut data, remaining);
                    self.phase = Phase::Interleaved {
                        remaining: remaining - n,
                    };
                }
                Phase::InterleavedHeader { seen, len } => {
                    if let Some((&b, rest)) = data.split_first() {
                        data = rest;
                        self.interleaved_header_byte(seen, len, b);
                    }
                }
                Phase::StartLine
                    if self.line.is_empty()
                        && self.dialect == Some(Dialect::Rtsp)
                        && data.first() == Some(&b'$') =>
                {
                    c.rtsp_interleaved_frames += 1;
                    data = data.get(1..).unwrap_or_default();
                    self.phase = Phase::InterleavedHeader { seen: 1, len: 0 };
                }
                _ => data = self.take_line(data, ev, c),
            }
        }
    }

    /// `$`, channel, length high byte, length low byte.
    fn interleaved_header_byte(&mut self, seen: u8, len: u16, b: u8) {
        self.phase = match seen {
            1 => Phase::InterleavedHeader { seen: 2, len },
            2 => Phase::InterleavedHeader {
                seen: 3,
                len: u16::from(b) << 8,
            },
            _ => Phase::Interleaved {
                remaining: u64::from(len | u16::from(b)),
            },
        };
    }

    /// Consumes one line (or buffers a partial one) and returns the rest.
    fn take_line<'d>(
        &mut self,
        data: &'d [u8],
        ev: &mut impl MessageEvents,
        c: &mut HttpCounters,
    ) -> &'d [u8] {
        let Some(end) = data.iter().position(|&b| b == b'\n') else {
            if self.line.len() + data.len() > MAX_LINE_LEN {
                c.limit_line_too_long += 1;
                self.stop_counted(c);
            } else {
                self.line.extend_from_slice(data);
            }
            return &[];
        };
        let (head, tail) = data.split_at_checked(end).unwrap_or((data, &[]));
        let rest = tail.get(1..).unwrap_or_default();
        if self.line.len() + head.len() > MAX_LINE_LEN {
            c.limit_line_too_long += 1;
            self.stop_counted(c);
            return &[];
        }
        if self.line.is_empty() {
            self.on_line(strip_cr(head), ev, c);
        } else {
            let mut joined = std::mem::take(&mut self.line);
            joined.extend_from_slice(head);
            self.on_line(strip_cr(&joined), ev, c);
            joined.clear();
            if self.phase != Phase::Stopped {
                self.line = joined;
            }
        }
        rest
    }

    fn on_line(&mut self, line: &[u8], ev: &mut impl MessageEvents, c: &mut HttpCounters) {
        match self.phase {
            Phase::StartLine => self.on_start_line(line, ev, c),
            Phase::Headers => self.on_header_line(line, ev, c),
            Phase::ChunkSize => match parser::parse_chunk_size(line) {
                Some(0) => self.phase = Phase::Trailers,
                Some(n) => {
                    c.chunks += 1;
                    self.phase = Phase::ChunkData { remaining: n };
                }
                None => {
                    c.malformed_chunk_size += 1;
                    self.stop_counted(c);
                }
            },
            Phase::ChunkEnd if line.is_empty() => self.phase = Phase::ChunkSize,
            Phase::ChunkEnd => {
                c.malformed_chunk_framing += 1;
                self.stop_counted(c);
            }
            Phase::Trailers if line.is_empty() => self.finish_message(ev, c),
            // Trailer headers are not interpreted.
            _ => {}
        }
    }

    fn on_start_line(&mut self, line: &[u8], ev: &mut impl MessageEvents, c: &mut HttpCounters) {
        if line.is_empty() {
            return; // blank lines between messages are tolerated (RFC 9112 §2.2)
        }
        let dialect = if self.is_orig {
            parser::parse_request_line(line).map(|r| {
                ev.request(&r, c);
                r.dialect
            })
        } else {
            parser::parse_status_line(line).map(|s| {
                ev.status(&s, c);
                s.dialect
            })
        };
        match dialect {
            Some(d) => {
                self.dialect.get_or_insert(d);
                self.declared = Declared::default();
                self.headers = 0;
                self.phase = Phase::Headers;
            }
            None => {
                if self.is_orig {
                    c.malformed_request_line += 1;
                } else {
                    c.malformed_status_line += 1;
                }
                self.stop_counted(c);
            }
        }
    }

    fn on_header_line(&mut self, line: &[u8], ev: &mut impl MessageEvents, c: &mut HttpCounters) {
        if line.is_empty() {
            return self.end_headers(ev, c);
        }
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            c.malformed_folded_header += 1; // obsolete continuation: not interpreted
            return;
        }
        self.headers += 1;
        if self.headers == MAX_HEADERS + 1 {
            c.limit_too_many_headers += 1;
        }
        let Some((name, value)) = parser::parse_header(line) else {
            c.malformed_header_line += 1;
            return;
        };
        match parser::classify_header(name) {
            Some(KnownHeader::ContentLength) => match parser::parse_content_length(value) {
                Some(n) if self.declared.content_length.is_none_or(|m| m == n) => {
                    self.declared.content_length = Some(n);
                }
                // Unreadable or conflicting: the first valid value is kept.
                _ => c.malformed_content_length += 1,
            },
            Some(KnownHeader::TransferEncoding) => {
                self.declared.chunked = parser::is_chunked(value);
            }
            Some(kind) if self.headers <= MAX_HEADERS => {
                ev.header(self.is_orig, kind, name, value, c)
            }
            _ => {}
        }
    }

    fn end_headers(&mut self, ev: &mut impl MessageEvents, c: &mut HttpCounters) {
        match ev.headers_done(self.is_orig, self.declared, c) {
            Framing::NoBody | Framing::Length(0) => self.finish_message(ev, c),
            Framing::Length(n) => self.phase = Phase::Body { remaining: n },
            Framing::Chunked => self.phase = Phase::ChunkSize,
            Framing::UntilClose => self.phase = Phase::UntilClose,
            Framing::Tunnel => {
                ev.message_done(self.is_orig, c);
                self.stop();
            }
        }
    }

    fn finish_message(&mut self, ev: &mut impl MessageEvents, c: &mut HttpCounters) {
        ev.message_done(self.is_orig, c);
        self.phase = Phase::StartLine;
    }

    /// `len` bytes of this direction were lost. Inside a body of known
    /// length they are skipped; anywhere else the framing is lost.
    pub fn on_gap(&mut self, len: u64, c: &mut HttpCounters) {
        c.gaps += 1;
        self.phase = match self.phase {
            Phase::Body { remaining } if len <= remaining => Phase::Body {
                remaining: remaining - len,
            },
            Phase::ChunkData { remaining } if len <= remaining => Phase::ChunkData {
                remaining: remaining - len,
            },
            Phase::Interleaved { remaining } if len <= remaining => Phase::Interleaved {
                remaining: remaining - len,
            },
            Phase::UntilClose | Phase::Stopped => self.phase,
            _ => {
                c.gap_lost_sync += 1;
                self.stop_counted(c);
                return;
            }
        };
    }
}

/// Advances `data` by up to `remaining` bytes; returns how many.
fn skip(data: &mut &[u8], remaining: u64) -> u64 {
    let n = usize::try_from(remaining)
        .unwrap_or(usize::MAX)
        .min(data.len());
    *data = data.get(n..).unwrap_or_default();
    n as u64
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}
