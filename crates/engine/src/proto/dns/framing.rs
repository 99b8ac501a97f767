//! DNS over TCP: the in-order bytes of one direction in → whole messages out,
//! cut at the 2-byte length prefix of RFC 1035 §4.2.2 (RFC 7766).
//!
//! Frames lying whole inside one chunk are handed out without copying; only
//! the start of a frame split across chunks is buffered, and only up to the
//! end of that frame, so the buffer never exceeds [`MAX_TCP_FRAME`] bytes.
//! A zero-length frame or a message that is clearly not DNS (shorter than a
//! header, absurd question count) abandons the direction. After a gap the
//! next chunk must look like the start of a frame ([`super::probe_tcp`]),
//! otherwise (not clearly a frame) the direction is abandoned too.
#![deny(clippy::indexing_slicing)]

use super::parser::Malformed;
use super::{probe_tcp, DnsCounters};
use crate::proto::Probe;

/// Largest frame: the prefix plus a message of `u16::MAX` bytes.
pub const MAX_TCP_FRAME: usize = 2 + u16::MAX as usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Framing {
    #[default]
    InSync,
    /// Bytes were lost; the next chunk should start a frame.
    AfterGap,
    /// Not parsed any more.
    Abandoned,
}

/// Frames one direction of a TCP connection.
#[derive(Debug, Default)]
pub struct TcpFramer {
    /// Start of a frame split across chunks (prefix included).
    partial: Vec<u8>,
    state: Framing,
}

impl TcpFramer {
    /// Cuts `data` into messages and hands each to `on_message`.
    pub fn feed<F>(&mut self, mut data: &[u8], c: &mut DnsCounters, mut on_message: F)
    where
        F: FnMut(&[u8], &mut DnsCounters) -> Result<(), Malformed>,
    {
        match self.state {
            Framing::Abandoned => return,
            Framing::AfterGap if data.is_empty() => return,
            Framing::AfterGap if probe_tcp(data) != Probe::Yes => return self.abandon(c),
            Framing::AfterGap | Framing::InSync => self.state = Framing::InSync,
        }
        while !data.is_empty() {
            if self.partial.is_empty() {
                let Some(len) = frame_len(data) else {
                    self.partial.extend_from_slice(data);
                    return;
                };
                if len == 0 {
                    c.tcp_zero_length += 1;
                    return self.abandon(c);
                }
                let Some((frame, rest)) = data.split_at_checked(2 + len) else {
                    self.partial.extend_from_slice(data);
                    return;
                };
                data = rest;
                if !self.deliver(frame.get(2..).unwrap_or_default(), c, &mut on_message) {
                    return;
                }
            } else {
                let want = match frame_len(&self.partial) {
                    Some(len) => 2 + len - self.partial.len(),
                    None => 2 - self.partial.len(),
                };
                let (head, rest) = data.split_at(want.min(data.len()));
                self.partial.extend_from_slice(head);
                data = rest;
                match frame_len(&self.partial) {
                    Some(0) => {
                        c.tcp_zero_length += 1;
                        return self.abandon(c);
                    }
                    Some(len) if self.partial.len() == 2 + len => {
                        let frame = std::mem::take(&mut self.partial);
                        let going =
                            self.deliver(frame.get(2..).unwrap_or_default(), c, &mut on_message);
                        // Keep the buffer's capacity for the next split frame.
                        self.partial = frame;
                        self.partial.clear();
                        if !going {
                            return;
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Bytes of this direction were lost: drop the partial frame and check
    /// that the next chunk starts a frame.
    pub fn on_gap(&mut self, c: &mut DnsCounters) {
        c.tcp_gaps += 1;
        self.partial.clear();
        if self.state != Framing::Abandoned {
            self.state = Framing::AfterGap;
        }
    }

    /// The direction ended: counts a frame left incomplete.
    pub fn finish(&mut self, c: &mut DnsCounters) {
        if !self.partial.is_empty() && self.state != Framing::Abandoned {
            c.tcp_incomplete_at_end += 1;
        }
        self.partial = Vec::new();
    }

    /// Bytes held for a split frame.
    pub fn buffered(&self) -> usize {
        self.partial.len()
    }

    /// Hands one message on; false when the direction was abandoned.
    fn deliver<F>(&mut self, msg: &[u8], c: &mut DnsCounters, on_message: &mut F) -> bool
    where
        F: FnMut(&[u8], &mut DnsCounters) -> Result<(), Malformed>,
    {
        c.tcp_messages += 1;
        match on_message(msg, c) {
            Err(Malformed::ShortHeader { .. } | Malformed::TooManyQuestions { .. }) => {
                self.abandon(c);
                false
            }
            _ => true,
        }
    }

    fn abandon(&mut self, c: &mut DnsCounters) {
        c.tcp_abandoned += 1;
        self.state = Framing::Abandoned;
        self.partial = Vec::new();
    }
}

/// The length announced by a frame's prefix, if both bytes are there.
fn frame_len(bytes: &[u8]) -> Option<usize> {
    let [a, b] = *bytes.first_chunk::<2>()?;
    Some(usize::from(u16::from_be_bytes([a, b])))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal query with id `id` (header + root question).
    fn message(id: u8) -> Vec<u8> {
        vec![0, id, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]
    }

    fn framed(msgs: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in msgs {
            out.extend_from_slice(&(m.len() as u16).to_be_bytes());
            out.extend_from_slice(m);
        }
        out
    }

    fn run(framer: &mut TcpFramer, chunks: &[&[u8]], c: &mut DnsCounters) -> Vec<Vec<u8>> {
        let mut seen = Vec::new();
        for chunk in chunks {
            framer.feed(chunk, c, |m, _| {
                seen.push(m.to_vec());
                if m.len() < 12 {
                    Err(Malformed::ShortHeader { len: m.len() })
                } else {
                    Ok(())
                }
            });
        }
        seen
    }

    #[test]
    fn several_per_chunk_and_byte_by_byte() {
        let msgs = [message(1), message(2), message(3)];
        let stream = framed(&msgs);
        let mut c = DnsCounters::default();
        assert_eq!(run(&mut TcpFramer::default(), &[&stream], &mut c), msgs);
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        let mut framer = TcpFramer::default();
        assert_eq!(run(&mut framer, &bytes, &mut c), msgs);
        assert_eq!(framer.buffered(), 0);
        assert_eq!(c.tcp_messages, 6);
    }

    #[test]
    fn zero_length_and_short_messages_abandon() {
        let mut c = DnsCounters::default();
        let mut framer = TcpFramer::default();
        let mut stream = vec![0, 0];
        stream.extend_from_slice(&framed(&[message(1)]));
        assert!(run(&mut framer, &[&stream], &mut c).is_empty());
        assert_eq!((c.tcp_zero_length, c.tcp_abandoned), (1, 1));
        let mut framer = TcpFramer::default();
        let stream = framed(&[vec![1, 2, 3], message(1)]);
        assert_eq!(run(&mut framer, &[&stream], &mut c).len(), 1);
        assert_eq!(c.tcp_abandoned, 2);
    }

    #[test]
    fn gap_resyncs_on_a_frame_or_abandons() {
        let mut c = DnsCounters::default();
        let mut framer = TcpFramer::default();
        let stream = framed(&[message(1)]);
        run(&mut framer, &[&stream[..5]], &mut c);
        framer.on_gap(&mut c);
        assert_eq!(run(&mut framer, &[&stream], &mut c), [message(1)]);
        framer.on_gap(&mut c);
        assert!(run(&mut framer, &[b"\xff\xff\xff garbage", &stream], &mut c).is_empty());
        assert_eq!((c.tcp_gaps, c.tcp_abandoned), (2, 1));
    }

    #[test]
    fn incomplete_frame_at_end_is_counted() {
        let mut c = DnsCounters::default();
        let mut framer = TcpFramer::default();
        let stream = framed(&[message(1)]);
        run(&mut framer, &[&stream[..7]], &mut c);
        assert_eq!(framer.buffered(), 7);
        framer.finish(&mut c);
        assert_eq!(c.tcp_incomplete_at_end, 1);
    }
}
