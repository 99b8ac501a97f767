//! The pending-packet queue: frames generated ahead of time, released in time order.
//!
//! Generators push `(time, frame)` for packets at or after the event being
//! handled (a TCP session is generated whole when it starts). The simulation
//! loop releases every packet up to the time of the next event, so the sink
//! sees non-decreasing timestamps while only the packets of sessions still in
//! progress are held in memory. Ties keep insertion order (a sequence number),
//! which keeps the output byte-identical for a seed.
//!
//! While an attack is being generated its index is set as the current tag;
//! the first and last packet time of each tag become the truth's start/end.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::SimPacket;
use crate::sink::Sink;
use crate::time::Timestamp;

/// Simulation time: microseconds since the Unix epoch (pcap resolution).
pub type Micros = i64;
pub const SEC: Micros = 1_000_000;
pub const MILLI: Micros = 1_000;

struct Pending {
    ts: Micros,
    seq: u64,
    frame: Vec<u8>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.ts == other.ts && self.seq == other.seq
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.ts, self.seq).cmp(&(other.ts, other.seq))
    }
}

/// First and last packet time generated under one tag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub first: Option<Micros>,
    pub last: Option<Micros>,
    pub packets: u64,
}

pub struct Emitter {
    heap: BinaryHeap<Reverse<Pending>>,
    seq: u64,
    ip_id: u32,
    tag: Option<usize>,
    spans: Vec<Span>,
    released: u64,
    bytes: u64,
    first: Option<Micros>,
    last: Option<Micros>,
}

impl Emitter {
    pub fn new(tags: usize) -> Self {
        Emitter {
            heap: BinaryHeap::new(),
            seq: 0,
            ip_id: 0x3a1c,
            tag: None,
            spans: vec![Span::default(); tags],
            released: 0,
            bytes: 0,
            first: None,
            last: None,
        }
    }

    /// Queues a frame captured at `ts`.
    pub fn push(&mut self, ts: Micros, frame: Vec<u8>) {
        if let Some(span) = self.tag.and_then(|t| self.spans.get_mut(t)) {
            span.first = Some(span.first.map_or(ts, |f| f.min(ts)));
            span.last = Some(span.last.map_or(ts, |l| l.max(ts)));
            span.packets += 1;
        }
        self.seq += 1;
        self.heap.push(Reverse(Pending {
            ts,
            seq: self.seq,
            frame,
        }));
    }

    /// A fresh IPv4 identification value (scrambled counter, like per-socket random ids).
    pub fn ip_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        (self.ip_id.wrapping_mul(0x9E37) ^ (self.ip_id >> 7)) as u16
    }

    /// Packets generated from now on count towards attack `tag` (None: benign).
    pub fn set_tag(&mut self, tag: Option<usize>) {
        self.tag = tag;
    }

    pub fn span(&self, tag: usize) -> Span {
        self.spans.get(tag).copied().unwrap_or_default()
    }

    /// Releases every queued packet with a time at or before `until`.
    pub fn release_until(&mut self, until: Micros, out: &mut impl Sink<SimPacket>) {
        while let Some(Reverse(top)) = self.heap.peek() {
            if top.ts > until {
                break;
            }
            if let Some(Reverse(p)) = self.heap.pop() {
                self.released += 1;
                self.bytes += p.frame.len() as u64;
                self.first.get_or_insert(p.ts);
                self.last = Some(p.ts);
                out.push(SimPacket {
                    ts: Timestamp(p.ts.saturating_mul(1000)),
                    frame: p.frame,
                });
            }
        }
    }

    /// Releases everything still queued.
    pub fn release_all(&mut self, out: &mut impl Sink<SimPacket>) {
        self.release_until(Micros::MAX, out);
    }

    pub fn released(&self) -> u64 {
        self.released
    }

    pub fn released_bytes(&self) -> u64 {
        self.bytes
    }

    /// Time of the first packet released so far.
    pub fn first_released(&self) -> Option<Timestamp> {
        self.first.map(|us| Timestamp(us.saturating_mul(1000)))
    }

    /// Time of the latest packet released so far.
    pub fn last_released(&self) -> Option<Timestamp> {
        self.last.map(|us| Timestamp(us.saturating_mul(1000)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_in_time_order_and_tracks_tag_spans() {
        let mut em = Emitter::new(1);
        em.push(30, vec![3]);
        em.set_tag(Some(0));
        em.push(10, vec![1]);
        em.push(20, vec![2]);
        em.set_tag(None);
        em.push(10, vec![4]);
        let mut out: Vec<SimPacket> = Vec::new();
        em.release_until(15, &mut out);
        assert_eq!(
            out.iter().map(|p| p.frame.clone()).collect::<Vec<_>>(),
            vec![vec![1], vec![4]]
        );
        em.release_all(&mut out);
        let ts: Vec<i64> = out.iter().map(|p| p.ts.0).collect();
        assert_eq!(ts, vec![10_000, 10_000, 20_000, 30_000]);
        assert_eq!(
            em.span(0),
            Span {
                first: Some(10),
                last: Some(20),
                packets: 2
            }
        );
        assert_eq!(em.released(), 4);
    }
}
