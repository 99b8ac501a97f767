//! In-order TCP payload per direction: segments in → the new bytes in
//! sequence order (and the size of any hole) out, for stream analyzers.
//!
//! Deliberately light: no out-of-order buffering. A segment beyond the next
//! expected sequence number is delivered after reporting the hole as a gap
//! (analyzers resynchronise or stop); retransmitted bytes are skipped; bytes
//! cut by the snaplen are reported as a trailing gap. Per direction the state
//! is one optional `u32`, so it costs nothing per flow to keep.
#![deny(clippy::indexing_slicing)]

use crate::decode::TcpSegment;

/// What one segment contributes to its direction's byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery<'a> {
    /// Bytes missing before `data` (capture loss or out-of-order arrival).
    pub gap_before: u64,
    /// New in-order bytes (may be empty).
    pub data: &'a [u8],
    /// Bytes after `data` that the snaplen cut off.
    pub gap_after: u64,
}

/// Tracks the next expected sequence number of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamCursor {
    next_seq: Option<u32>,
}

impl StreamCursor {
    /// Accounts `seg` and returns what it adds to the stream.
    pub fn accept<'a>(&mut self, seg: &TcpSegment<'a>) -> Delivery<'a> {
        let mut seq = seg.seq;
        if seg.flags.syn() {
            // SYN takes one sequence number; data on a SYN follows it.
            seq = seq.wrapping_add(1);
            self.next_seq = Some(seq);
        }
        let len = seg.payload_len;
        let next = *self.next_seq.get_or_insert(seq);
        let rel = seq.wrapping_sub(next) as i32;
        let (gap_before, skip) = if rel >= 0 {
            (u64::from(rel.unsigned_abs()), 0u32)
        } else {
            (0, rel.unsigned_abs())
        };
        let mut delivery = Delivery {
            gap_before,
            data: &[],
            gap_after: 0,
        };
        if skip >= len {
            // Entirely old bytes (retransmission or keep-alive).
            if seg.flags.fin() && skip == len {
                self.next_seq = Some(next.wrapping_add(1));
            }
            return Delivery {
                gap_before: 0,
                ..delivery
            };
        }
        let end = seq.wrapping_add(len);
        let skip_usize = skip as usize;
        let captured = seg.payload.get(skip_usize..).unwrap_or_default();
        let wanted = (len - skip) as usize;
        delivery.data = captured.get(..wanted).unwrap_or(captured);
        delivery.gap_after = (wanted - delivery.data.len()) as u64;
        self.next_seq = Some(if seg.flags.fin() {
            end.wrapping_add(1)
        } else {
            end
        });
        delivery
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::TcpFlags;

    fn seg(seq: u32, flags: u8, payload: &[u8], len: u32) -> TcpSegment<'_> {
        TcpSegment {
            src_port: 1,
            dst_port: 2,
            seq,
            ack: 0,
            flags: TcpFlags(flags),
            window: 0,
            payload,
            payload_len: len,
        }
    }

    #[test]
    fn in_order_retransmission_gap_and_snaplen() {
        let mut c = StreamCursor::default();
        assert_eq!(c.accept(&seg(100, TcpFlags::SYN, b"", 0)).data, b"");
        let d = c.accept(&seg(101, TcpFlags::ACK, b"hello", 5));
        assert_eq!((d.gap_before, d.data, d.gap_after), (0, &b"hello"[..], 0));
        // Full retransmission: nothing new.
        assert_eq!(c.accept(&seg(101, TcpFlags::ACK, b"hello", 5)).data, b"");
        // Overlap: only the new tail.
        assert_eq!(c.accept(&seg(104, TcpFlags::ACK, b"lo wo", 5)).data, b" wo");
        // Hole of 3 bytes, then data.
        let d = c.accept(&seg(112, TcpFlags::ACK, b"xyz", 3));
        assert_eq!((d.gap_before, d.data), (3, &b"xyz"[..]));
        // Snaplen cut: 2 of 6 bytes captured.
        let d = c.accept(&seg(115, TcpFlags::ACK, b"ab", 6));
        assert_eq!((d.data, d.gap_after), (&b"ab"[..], 4));
        assert_eq!(c.accept(&seg(121, TcpFlags::ACK, b"!", 1)).data, b"!");
    }

    #[test]
    fn midstream_start_and_wraparound() {
        let mut c = StreamCursor::default();
        let d = c.accept(&seg(u32::MAX - 1, TcpFlags::ACK, b"abcd", 4));
        assert_eq!((d.gap_before, d.data), (0, &b"abcd"[..]));
        let d = c.accept(&seg(2, TcpFlags::ACK, b"ef", 2));
        assert_eq!((d.gap_before, d.data), (0, &b"ef"[..]));
    }

    #[test]
    fn fin_consumes_a_sequence_number() {
        let mut c = StreamCursor::default();
        c.accept(&seg(10, TcpFlags::SYN, b"", 0));
        c.accept(&seg(11, TcpFlags::FIN | TcpFlags::ACK, b"ab", 2));
        // A retransmitted FIN is old.
        let d = c.accept(&seg(11, TcpFlags::FIN | TcpFlags::ACK, b"ab", 2));
        assert_eq!((d.gap_before, d.data), (0, &b""[..]));
    }
}
