//! Per-direction framing for TCP analyzers: the next in-order bytes of one
//! direction in → complete frames handed to a parser closure, the tail of an
//! unfinished frame kept for the next call.
//!
//! Frames are parsed straight from the caller's bytes when nothing is
//! buffered (the common case: no copy, no allocation); only an unfinished
//! frame is copied. Limit: the buffer never holds more than the capacity
//! given to [`StreamBuffer::new`], which must be at least the largest frame
//! the parser accepts; a parser that makes no progress on a full buffer ends
//! the direction ([`Fed::Overflow`]).
#![deny(clippy::indexing_slicing)]

/// What a frame parser made of the bytes at the head of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A frame (or bytes to skip) of this many bytes was handled.
    Consumed(usize),
    /// The frame at the head is not complete yet.
    Incomplete,
    /// Stop parsing this direction after `consumed` more bytes (garbage, or
    /// the protocol turned opaque, e.g. SSH after NEWKEYS).
    Stop { consumed: usize },
}

/// The outcome of [`StreamBuffer::feed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fed {
    /// Everything was parsed or kept for the next call.
    Buffered,
    /// The parser stopped; `unparsed` bytes of this call (and of the buffer)
    /// were left unparsed. Later calls return `Stopped` with all their bytes.
    Stopped { unparsed: usize },
    /// A frame did not fit the buffer: the direction is stopped.
    Overflow,
}

/// The unfinished frame of one direction.
#[derive(Debug, Clone, Default)]
pub struct StreamBuffer {
    buf: Vec<u8>,
    cap: usize,
    stopped: bool,
}

impl StreamBuffer {
    /// A buffer that holds at most `cap` bytes (allocated only when a frame
    /// is split across calls).
    pub fn new(cap: usize) -> Self {
        StreamBuffer {
            buf: Vec::new(),
            cap: cap.max(1),
            stopped: false,
        }
    }

    /// True once the parser stopped or a frame overflowed.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Bytes held for the next call.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Stops the direction (a gap in the stream, for protocols that cannot
    /// resynchronise) and frees the buffer.
    pub fn stop(&mut self) {
        self.stopped = true;
        self.buf = Vec::new();
    }

    /// Drops what is buffered without stopping (a protocol that can find the
    /// next frame by itself).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Hands every complete frame in `buffered ++ data` to `step`, in order.
    pub fn feed(&mut self, data: &[u8], mut step: impl FnMut(&[u8]) -> Step) -> Fed {
        if self.stopped {
            return Fed::Stopped {
                unparsed: data.len(),
            };
        }
        let mut data = data;
        loop {
            if self.buf.is_empty() {
                let (used, stop) = run(data, &mut step);
                let rest = data.get(used..).unwrap_or_default();
                if stop {
                    self.stopped = true;
                    return Fed::Stopped {
                        unparsed: rest.len(),
                    };
                }
                if rest.len() > self.cap {
                    self.stop();
                    return Fed::Overflow;
                }
                self.buf.extend_from_slice(rest);
                return Fed::Buffered;
            }
            let room = self.cap.saturating_sub(self.buf.len());
            let (head, tail) = data.split_at_checked(room).unwrap_or((data, &[]));
            self.buf.extend_from_slice(head);
            data = tail;
            let (used, stop) = run(&self.buf, &mut step);
            if stop {
                let unparsed = self.buf.len().saturating_sub(used) + data.len();
                self.stop();
                return Fed::Stopped { unparsed };
            }
            self.buf.drain(..used.min(self.buf.len()));
            if data.is_empty() {
                return Fed::Buffered;
            }
            if used == 0 {
                self.stop();
                return Fed::Overflow;
            }
        }
    }
}

/// Runs `step` over `bytes` until it needs more; returns the bytes used and
/// whether it asked to stop.
fn run(bytes: &[u8], step: &mut impl FnMut(&[u8]) -> Step) -> (usize, bool) {
    let mut pos = 0;
    while let Some(rest) = bytes.get(pos..).filter(|r| !r.is_empty()) {
        match step(rest) {
            Step::Consumed(0) => return (pos, true),
            Step::Consumed(n) => pos += n.min(rest.len()),
            Step::Incomplete => break,
            Step::Stop { consumed } => return (pos + consumed.min(rest.len()), true),
        }
    }
    (pos, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames are one length byte followed by that many bytes; 0xff is garbage.
    fn length_prefixed(frames: &mut Vec<Vec<u8>>) -> impl FnMut(&[u8]) -> Step + '_ {
        move |b: &[u8]| match b.first() {
            Some(0xff) => Step::Stop { consumed: 0 },
            Some(&n) => match b.get(..1 + usize::from(n)) {
                Some(f) => {
                    frames.push(f.to_vec());
                    Step::Consumed(f.len())
                }
                None => Step::Incomplete,
            },
            None => Step::Incomplete,
        }
    }

    #[test]
    fn frames_survive_any_split() {
        let stream = [2, 10, 11, 0, 3, 20, 21, 22, 1, 30];
        for cut in 0..=stream.len() {
            let (a, b) = stream.split_at(cut);
            let mut frames = Vec::new();
            let mut sb = StreamBuffer::new(8);
            assert_eq!(sb.feed(a, length_prefixed(&mut frames)), Fed::Buffered);
            assert_eq!(sb.feed(b, length_prefixed(&mut frames)), Fed::Buffered);
            assert_eq!(frames.len(), 4, "cut at {cut}");
            assert_eq!(sb.buffered(), 0);
        }
    }

    #[test]
    fn byte_by_byte_and_stop_reports_unparsed() {
        let mut frames = Vec::new();
        let mut sb = StreamBuffer::new(8);
        for b in [1u8, 5, 2, 6] {
            assert_eq!(sb.feed(&[b], length_prefixed(&mut frames)), Fed::Buffered);
        }
        assert_eq!(sb.buffered(), 2);
        let fed = sb.feed(&[7, 0xff, 1, 2], length_prefixed(&mut frames));
        assert_eq!(fed, Fed::Stopped { unparsed: 3 });
        assert_eq!(frames, vec![vec![1, 5], vec![2, 6, 7]]);
        assert!(sb.is_stopped());
        assert_eq!(
            sb.feed(&[1, 1], length_prefixed(&mut frames)),
            Fed::Stopped { unparsed: 2 }
        );
    }

    #[test]
    fn oversized_frame_overflows() {
        let mut frames = Vec::new();
        let mut sb = StreamBuffer::new(4);
        assert_eq!(
            sb.feed(&[9, 1, 2, 3, 4, 5], length_prefixed(&mut frames)),
            Fed::Overflow
        );
        let mut sb = StreamBuffer::new(4);
        assert_eq!(
            sb.feed(&[9, 1], length_prefixed(&mut frames)),
            Fed::Buffered
        );
        assert_eq!(
            sb.feed(&[2, 3, 4, 5], length_prefixed(&mut frames)),
            Fed::Overflow
        );
        assert!(frames.is_empty());
    }
}
