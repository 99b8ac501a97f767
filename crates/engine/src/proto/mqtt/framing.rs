//! One direction of an MQTT connection: in-order bytes in → whole packets
//! (fixed header + body) out, handed to a callback.
//!
//! A packet that lies entirely inside one delivery is passed without copying;
//! only a packet split across deliveries is buffered. A packet longer than
//! [`MAX_MQTT_PACKET`] is never buffered: its first [`OVERSIZE_HEAD_LEN`]
//! bytes are passed (enough for a PUBLISH topic and the logged payload
//! prefix) and the rest is skipped by length. A Remaining Length with a fifth
//! byte loses the framing: the direction stops. So does a run of
//! [`MAX_CONSECUTIVE_MALFORMED`] unreadable packets (not MQTT at all).
#![deny(clippy::indexing_slicing)]

use super::parser::{read_fixed_header, FixedHeader, HeaderRead, MAX_REMAINING_LENGTH_BYTES};
use super::MqttCounters;

/// Largest packet buffered whole; longer ones are skipped by length.
pub const MAX_MQTT_PACKET: usize = 256 * 1024;
/// Bytes kept of a packet longer than [`MAX_MQTT_PACKET`].
pub const OVERSIZE_HEAD_LEN: usize = 4096;
/// Unreadable packets in a row after which a direction is given up.
pub const MAX_CONSECUTIVE_MALFORMED: u32 = 8;

/// What the receiver of a packet says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Readable,
    Unreadable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading a fixed header (partial bytes in `buf`).
    Header,
    /// Collecting a body of `header.remaining` bytes in `buf`.
    Body(FixedHeader),
    /// Collecting the first [`OVERSIZE_HEAD_LEN`] bytes of an oversize body.
    OversizeHead(FixedHeader),
    /// Skipping the rest of a packet.
    Skip {
        remaining: u64,
    },
    Stopped,
}

/// Framing state of one direction.
#[derive(Debug)]
pub struct PacketStream {
    phase: Phase,
    buf: Vec<u8>,
    consecutive_bad: u32,
}

impl Default for PacketStream {
    fn default() -> Self {
        Self::new()
    }
}

impl PacketStream {
    pub fn new() -> Self {
        PacketStream {
            phase: Phase::Header,
            buf: Vec::new(),
            consecutive_bad: 0,
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    fn stop(&mut self, c: &mut MqttCounters) {
        c.directions_stopped += 1;
        self.phase = Phase::Stopped;
        self.buf = Vec::new();
    }

    /// The next in-order bytes; `on_packet(header, body, complete)` gets each
    /// packet (`complete` is false for the head of an oversize packet).
    pub fn feed(
        &mut self,
        mut data: &[u8],
        c: &mut MqttCounters,
        on_packet: &mut impl FnMut(&FixedHeader, &[u8], bool, &mut MqttCounters) -> Verdict,
    ) {
        while !data.is_empty() {
            match self.phase {
                Phase::Stopped => return,
                Phase::Skip { remaining } => {
                    let n = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(data.len());
                    data = data.get(n..).unwrap_or_default();
                    let left = remaining - n as u64;
                    self.phase = if left == 0 {
                        Phase::Header
                    } else {
                        Phase::Skip { remaining: left }
                    };
                }
                Phase::Header if self.buf.is_empty() => match read_fixed_header(data) {
                    HeaderRead::Complete(h) => {
                        data = data.get(h.header_len..).unwrap_or_default();
                        data = self.start_body(h, data, c, on_packet);
                    }
                    HeaderRead::Incomplete => {
                        self.buf.extend_from_slice(data);
                        return;
                    }
                    HeaderRead::BadRemainingLength => return self.bad_length(c),
                },
                Phase::Header => {
                    // At most 5 header bytes: complete the buffered ones.
                    let before = self.buf.len();
                    let add = data
                        .len()
                        .min((1 + MAX_REMAINING_LENGTH_BYTES).saturating_sub(before));
                    self.buf.extend_from_slice(data.get(..add).unwrap_or(data));
                    match read_fixed_header(&self.buf) {
                        HeaderRead::Complete(h) => {
                            self.buf.clear();
                            let used = h.header_len.saturating_sub(before);
                            data = data.get(used..).unwrap_or_default();
                            data = self.start_body(h, data, c, on_packet);
                        }
                        HeaderRead::Incomplete => data = data.get(add..).unwrap_or_default(),
                        HeaderRead::BadRemainingLength => return self.bad_length(c),
                    }
                }
                Phase::Body(h) | Phase::OversizeHead(h) => {
                    let oversize = matches!(self.phase, Phase::OversizeHead(_));
                    let target = if oversize {
                        OVERSIZE_HEAD_LEN
                    } else {
                        h.remaining as usize
                    };
                    let add = (target - self.buf.len()).min(data.len());
                    self.buf.extend_from_slice(data.get(..add).unwrap_or(data));
                    data = data.get(add..).unwrap_or_default();
                    if self.buf.len() == target {
                        let body = std::mem::take(&mut self.buf);
                        self.deliver(&h, &body, !oversize, c, on_packet);
                        self.buf = body;
                        self.buf.clear();
                        if self.phase != Phase::Stopped {
                            self.phase = if oversize {
                                Phase::Skip {
                                    remaining: u64::from(h.remaining) - OVERSIZE_HEAD_LEN as u64,
                                }
                            } else {
                                Phase::Header
                            };
                        }
                    }
                }
            }
        }
    }

    fn bad_length(&mut self, c: &mut MqttCounters) {
        c.malformed_remaining_length += 1;
        self.stop(c);
    }

    /// A header was read: delivers the body straight from `data` when it is
    /// all there, otherwise starts buffering. Returns the unread rest.
    fn start_body<'d>(
        &mut self,
        h: FixedHeader,
        data: &'d [u8],
        c: &mut MqttCounters,
        on_packet: &mut impl FnMut(&FixedHeader, &[u8], bool, &mut MqttCounters) -> Verdict,
    ) -> &'d [u8] {
        let len = h.remaining as usize;
        if len > MAX_MQTT_PACKET {
            c.oversize_packets += 1;
            c.oversize_bytes += u64::from(h.remaining);
            if let Some((head, rest)) = data.split_at_checked(OVERSIZE_HEAD_LEN) {
                self.deliver(&h, head, false, c, on_packet);
                if self.phase != Phase::Stopped {
                    self.phase = Phase::Skip {
                        remaining: u64::from(h.remaining) - OVERSIZE_HEAD_LEN as u64,
                    };
                }
                return rest;
            }
            self.phase = Phase::OversizeHead(h);
            return data;
        }
        if let Some((body, rest)) = data.split_at_checked(len) {
            self.deliver(&h, body, true, c, on_packet);
            return rest;
        }
        self.phase = Phase::Body(h);
        data
    }

    fn deliver(
        &mut self,
        h: &FixedHeader,
        body: &[u8],
        complete: bool,
        c: &mut MqttCounters,
        on_packet: &mut impl FnMut(&FixedHeader, &[u8], bool, &mut MqttCounters) -> Verdict,
    ) {
        self.phase = Phase::Header;
        match on_packet(h, body, complete, c) {
            Verdict::Readable => self.consecutive_bad = 0,
            Verdict::Unreadable => {
                self.consecutive_bad += 1;
                if self.consecutive_bad >= MAX_CONSECUTIVE_MALFORMED {
                    self.stop(c);
                }
            }
        }
    }

    /// `len` bytes were lost. Inside a packet whose length is known the
    /// packet is dropped and the framing kept; elsewhere the direction stops.
    pub fn on_gap(&mut self, len: u64, c: &mut MqttCounters) {
        c.gaps += 1;
        let unread = match self.phase {
            Phase::Body(h) => u64::from(h.remaining) - self.buf.len() as u64,
            Phase::OversizeHead(h) => u64::from(h.remaining) - self.buf.len() as u64,
            Phase::Skip { remaining } => remaining,
            Phase::Stopped => return,
            Phase::Header => 0,
        };
        if len > unread || unread == 0 {
            c.gap_lost_sync += 1;
            return self.stop(c);
        }
        if !matches!(self.phase, Phase::Skip { .. }) {
            c.gap_packets_lost += 1;
        }
        self.buf.clear();
        self.phase = match unread - len {
            0 => Phase::Header,
            remaining => Phase::Skip { remaining },
        };
    }
}
