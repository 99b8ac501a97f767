//! One side of a TCP connection as Zeek's `TCP_Endpoint` sees it: sequence
//! numbers in (start, last, ack, with 32-bit wraparound counts) → the
//! endpoint's state, payload size and content gaps out.
//!
//! Size is Zeek's `TCP_Endpoint::Size`: the larger of the last sequence
//! number sent and the highest acknowledgement received, minus the initial
//! sequence number, minus the SYN and FIN octets. Content gaps follow Zeek's
//! reassembler without buffering payload: the endpoint remembers how far its
//! stream is contiguous (`reassem_seq`) and one range of data seen above a
//! hole; when the peer acknowledges beyond what was seen, the missing bytes
//! are a gap (`missed_bytes`, history `G`). Above-hole data beyond
//! [`MAX_ABOVE_HOLE_WITHOUT_ACKS`] while nothing was acknowledged stops gap
//! reporting for the endpoint, like Zeek's
//! `tcp_max_above_hole_without_any_acks`.
#![deny(clippy::indexing_slicing)]

use super::history::{History, Scaled, ScaledCounters};

/// Zeek `tcp_max_above_hole_without_any_acks`.
pub(crate) const MAX_ABOVE_HOLE_WITHOUT_ACKS: u64 = 16384;

/// Zeek's TCP endpoint states (`TCP_ENDPOINT_*`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndpointState {
    /// Nothing seen from this side.
    #[default]
    Inactive,
    /// SYN seen, no ACK.
    SynSent,
    /// SYN-ACK seen, no initial SYN.
    SynAckSent,
    /// Data seen, no SYN.
    Partial,
    Established,
    /// FIN seen.
    Closed,
    /// RST seen.
    Reset,
}

impl EndpointState {
    pub fn is_handshake(self) -> bool {
        matches!(
            self,
            EndpointState::Inactive | EndpointState::SynSent | EndpointState::SynAckSent
        )
    }
}

/// `a - b` in sequence space (Zeek `seq_delta`).
pub(crate) fn seq_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

fn full_seq(seq: u32, wraps: u32) -> u64 {
    (u64::from(wraps) << 32) | u64::from(seq)
}

/// One endpoint (80 bytes).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct TcpEndpoint {
    /// Initial sequence number (Zeek keeps it as a 32-bit value in an i64).
    pub start_seq: u32,
    /// One past the last sequence number sent.
    pub last_seq: u32,
    /// Highest acknowledgement the peer sent for this side's data.
    pub ack_seq: u32,
    pub seq_wraps: u32,
    pub ack_wraps: u32,
    pub hist_last_syn: u32,
    pub hist_last_fin: u32,
    pub hist_last_rst: u32,
    /// Relative sequence number just past the FIN.
    pub fin_seq: u64,
    /// Next relative sequence number the stream is contiguous up to (Zeek
    /// `last_reassem_seq`, starting at 1 after the SYN).
    pub reassem_seq: u64,
    /// Start of the data seen above a hole (relative), when `above_len > 0`.
    pub above_start: u64,
    pub above_len: u32,
    pub scaled: ScaledCounters,
    pub state: EndpointState,
    pub prev_state: EndpointState,
    pub fin_seen: bool,
    pub did_close: bool,
    /// Gap reporting stopped (Zeek `skip_deliveries`).
    pub skip_deliveries: bool,
}

impl TcpEndpoint {
    pub fn new() -> Self {
        TcpEndpoint {
            reassem_seq: 1,
            ..TcpEndpoint::default()
        }
    }

    /// Zeek `SetState`; returns whether this ends the handshake phase of the
    /// connection (the inactivity timeout switches to the TCP one).
    pub fn set_state(&mut self, new: EndpointState, peer_state: EndpointState) -> bool {
        if new == self.state {
            return false;
        }
        let ends_handshake =
            !new.is_handshake() && self.state.is_handshake() && peer_state.is_handshake();
        self.prev_state = self.state;
        self.state = new;
        ends_handshake
    }

    pub fn init_start_seq(&mut self, seq: u32) {
        self.start_seq = seq;
    }

    pub fn update_last_seq(&mut self, seq: u32) {
        if seq < self.last_seq {
            self.seq_wraps = self.seq_wraps.wrapping_add(1);
        }
        self.last_seq = seq;
    }

    pub fn update_ack_seq(&mut self, seq: u32) {
        if seq < self.ack_seq {
            self.ack_wraps = self.ack_wraps.wrapping_add(1);
        }
        self.ack_seq = seq;
    }

    /// Zeek `ToRelativeSeqSpace`.
    pub fn relative(&self, seq: u32, wraps: u32) -> u64 {
        full_seq(seq, wraps).wrapping_sub(u64::from(self.start_seq))
    }

    /// None of this side's data was acknowledged (one octet allowed for the SYN).
    pub fn no_data_acked(&self) -> bool {
        let ack = full_seq(self.ack_seq, self.ack_wraps);
        let start = u64::from(self.start_seq);
        ack == start || ack == start + 1
    }

    /// Zeek `TCP_Endpoint::Size`: payload bytes from sequence numbers.
    pub fn size(&self, peer_state: EndpointState) -> u64 {
        if self.prev_state == EndpointState::SynSent
            && self.state == EndpointState::Reset
            && peer_state == EndpointState::Inactive
            && !self.no_data_acked()
        {
            // A half-open connection discovered and aborted.
            return 0;
        }
        let last = full_seq(self.last_seq, self.seq_wraps);
        let ack = full_seq(self.ack_seq, self.ack_wraps);
        // Zeek subtracts unsigned; saturate so a bogus start never yields 2^64-ish.
        let mut size = last.max(ack).saturating_sub(u64::from(self.start_seq));
        size = size.saturating_sub(1); // the SYN octet
        if self.fin_seen && size != 0 {
            size -= 1; // the FIN octet
        }
        size
    }

    /// Zeek's reassembler `DataSent`/`NewBlock`/`BlockInserted`: payload
    /// `[seq, seq + len)` (relative) arrived.
    pub fn data_sent(&mut self, seq: u64, len: u32) {
        if self.skip_deliveries || len == 0 {
            return;
        }
        let upper = seq.saturating_add(u64::from(len));
        if upper <= self.reassem_seq {
            return; // old data
        }
        if seq <= self.reassem_seq {
            self.reassem_seq = upper;
            self.absorb_above_hole();
            return;
        }
        // Data above a hole: keep one range (the hull when several).
        if self.above_len == 0 {
            self.above_start = seq;
            self.above_len = len;
        } else {
            let lo = self.above_start.min(seq);
            let hi = (self.above_start + u64::from(self.above_len)).max(upper);
            self.above_start = lo;
            self.above_len = u32::try_from(hi - lo).unwrap_or(u32::MAX);
        }
        if self.no_data_acked() && u64::from(self.above_len) > MAX_ABOVE_HOLE_WITHOUT_ACKS {
            self.skip_deliveries = true;
            self.above_len = 0;
        }
    }

    fn absorb_above_hole(&mut self) {
        if self.above_len > 0 && self.above_start <= self.reassem_seq {
            let hi = self.above_start + u64::from(self.above_len);
            self.reassem_seq = self.reassem_seq.max(hi);
            self.above_len = 0;
        }
    }

    /// Zeek `TCP_Reassembler::AckReceived` for this side's data: the peer
    /// acknowledged relative sequence `ack`. Returns the bytes of content gaps
    /// revealed; `report` says whether Zeek would report them (both sides
    /// established or cleanly closing), in which case the `G` letter is
    /// counted. `partial` is the connection's partial status.
    pub fn ack_received(
        &mut self,
        ack: u64,
        partial: bool,
        report: bool,
        history: &mut History,
        is_orig: bool,
    ) -> u64 {
        let mut up_to = ack;
        if self.fin_seen && up_to >= self.fin_seq {
            up_to = self.fin_seq.wrapping_sub(1);
        }
        if up_to <= self.reassem_seq {
            return 0;
        }
        if up_to <= 2 && partial {
            // Zeek ignores the first ack of a partial connection.
            return 0;
        }
        let mut missed = 0;
        if !self.skip_deliveries {
            if self.above_len > 0 && self.above_start < up_to {
                missed += self.above_start - self.reassem_seq;
                self.reassem_seq = self.above_start + u64::from(self.above_len);
                self.above_len = 0;
            }
            if up_to > self.reassem_seq {
                missed += up_to - self.reassem_seq;
            }
        }
        self.reassem_seq = self.reassem_seq.max(up_to);
        if missed == 0 || !report {
            return 0;
        }
        self.scaled.bump(Scaled::Gap, history, is_orig);
        missed
    }

    /// Zeek `is_clean`: established, or closed right after being established.
    pub fn is_clean(&self) -> bool {
        self.state == EndpointState::Established
            || (self.state == EndpointState::Closed
                && self.prev_state == EndpointState::Established)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn established(start: u32) -> TcpEndpoint {
        let mut e = TcpEndpoint::new();
        e.start_seq = start;
        e.ack_seq = start;
        e.last_seq = start.wrapping_add(1);
        e.state = EndpointState::Established;
        e
    }

    #[test]
    fn size_counts_payload_only() {
        let mut e = established(1000);
        e.update_last_seq(1000 + 1 + 500 + 1);
        e.fin_seen = true;
        assert_eq!(e.size(EndpointState::Established), 500);
    }

    #[test]
    fn gap_is_hole_below_ack_minus_data_above_it() {
        let mut e = established(0);
        let mut h = History::default();
        e.data_sent(1, 100);
        e.data_sent(201, 100); // 101..201 never seen
        assert_eq!(e.ack_received(301, false, true, &mut h, true), 100);
        assert_eq!(h.as_str(), "G");
        assert_eq!(e.ack_received(301, false, true, &mut h, true), 0);
    }

    #[test]
    fn late_fill_closes_the_hole() {
        let mut e = established(0);
        let mut h = History::default();
        e.data_sent(1, 100);
        e.data_sent(201, 100);
        e.data_sent(101, 100);
        assert_eq!(e.reassem_seq, 301);
        assert_eq!(e.ack_received(301, false, true, &mut h, true), 0);
    }
}
