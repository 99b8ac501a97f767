//! Zeek's TCP connection state machine (`TCPSessionAdapter::Process` and
//! `UpdateStateMachine`): one segment at a time in → endpoint states, history
//! letters, sizes, gaps and the timer decisions (close, reset, attempt) out.
//!
//! Endpoints are indexed by the physical side of the flow key (0/1) and the
//! originator is `orig_side`; flipping roles (the `^` letter, a SYN seen
//! after its SYN-ACK) toggles `orig_side` without moving the endpoints.
//! Not modelled: checksum validation (no `C` letter: the decoder does not
//! verify checksums), window recisions and storms (weirds only), deferring a
//! close while the reassembler still holds data, and the periodic
//! `ExpireTimer` / `tcp_partial_close_delay` checks (they only matter for
//! half-closed connections, which here wait for the inactivity timeout).
#![deny(clippy::indexing_slicing)]

use super::history::{
    History, Scaled, HIST_ACK_PKT, HIST_DATA_PKT, HIST_FIN_PKT, HIST_FIN_RST_PKT,
    HIST_MULTI_FLAG_PKT, HIST_RST_PKT, HIST_SYN_PKT,
};
use super::key::TcpFacts;
use super::tcp_endpoint::{seq_delta, EndpointState as St, TcpEndpoint};

/// Zeek `TOO_LARGE_SEQ_DELTA`: SYN/RST sequence jumps beyond this are not trusted.
const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

const SEEN_ORIG: u8 = 1;
const SEEN_RESP: u8 = 2;

/// How a segment changed the connection's timers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseEvent {
    #[default]
    None,
    /// The close is complete: remove `tcp_close_delay` after the last time.
    Complete,
    /// RST from a side that had sent its FIN: remove `tcp_reset_delay` after now.
    ResetAfterFin,
}

/// What one segment did, for the table's bookkeeping.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct TcpOutcome {
    /// Update the connection's last time (not once both sides closed).
    pub update_last_time: bool,
    pub close: CloseEvent,
    /// The originator's first SYN: the attempt timer starts now.
    pub armed_attempt: bool,
    /// The handshake phase ended: switch to the TCP inactivity timeout.
    pub handshake_done: bool,
}

/// TCP state of one connection (two endpoints and Zeek's adapter flags).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TcpConn {
    pub ep: [TcpEndpoint; 2],
    pub missed_bytes: u64,
    pub is_partial: bool,
    first_packet_seen: u8,
    /// The attempt timer is pending (cancelled by a complete close).
    pub attempt_armed: bool,
    /// Past the handshake: the TCP inactivity timeout applies.
    pub long_idle: bool,
}

/// Zeek `get_segment_len`: SYN and FIN take one sequence number each; a RST's
/// payload is not part of the stream.
fn segment_len(len: u32, f: &TcpFacts) -> u32 {
    let mut n = len;
    if f.flags.syn() {
        n = n.wrapping_add(1);
    }
    if f.flags.fin() {
        n = n.wrapping_add(1);
    }
    if f.flags.rst() {
        n = n.wrapping_sub(len);
    }
    n
}

/// Zeek `get_relative_seq`; sets `underflow` when before the start.
fn relative_seq(ep: &TcpEndpoint, cur: u32, last: u32, wraps: u32, underflow: &mut bool) -> u64 {
    let delta = seq_delta(cur, last);
    let mut wraps = wraps;
    if delta < 0 {
        if wraps > 0 && cur > last {
            wraps -= 1;
        }
    } else if delta > 0 && cur < last {
        wraps = wraps.wrapping_add(1);
    }
    if wraps == 0 {
        let d = seq_delta(cur, ep.start_seq);
        if d < 0 {
            *underflow = true;
        }
        // Zeek returns the signed delta as uint64.
        return i64::from(d) as u64;
    }
    ep.relative(cur, wraps)
}

/// Zeek `init_endpoint`.
fn init_endpoint(ep: &mut TcpEndpoint, f: &TcpFacts, seq: u32, last: u32) {
    let syn = f.flags.syn();
    let reinit = |ep: &mut TcpEndpoint| {
        ep.init_start_seq(seq);
        ep.ack_seq = seq;
        ep.last_seq = last;
    };
    match ep.state {
        St::Inactive => {
            if syn {
                reinit(ep);
            } else {
                // Partial connection: number as though a SYN had been seen.
                ep.init_start_seq(seq.wrapping_sub(1));
                ep.ack_seq = seq.wrapping_sub(1);
                ep.last_seq = seq;
            }
        }
        St::SynSent | St::SynAckSent => {
            if syn && seq != ep.start_seq {
                reinit(ep);
            }
        }
        St::Established | St::Partial => {
            if syn {
                reinit(ep);
            }
        }
        St::Reset => {
            if syn && ep.prev_state == St::Inactive {
                reinit(ep);
            }
        }
        St::Closed => {}
    }
}

/// Zeek `update_history` for one endpoint.
fn update_history(
    f: &TcpFacts,
    ep: &mut TcpEndpoint,
    h: &mut History,
    is_orig: bool,
    rel_seq: u64,
) {
    let (syn, fin, rst) = (f.flags.syn(), f.flags.fin(), f.flags.rst());
    let bits = u8::from(syn) + u8::from(fin) + u8::from(rst);
    // Zeek compares 64-bit relative numbers; 32 bits tell repeats apart as well.
    let rel = rel_seq as u32;
    if bits > 1 {
        if fin && rst {
            h.check(HIST_FIN_RST_PKT, b'I', is_orig);
        } else {
            h.check(HIST_MULTI_FLAG_PKT, b'Q', is_orig);
        }
    } else if syn {
        let code = if f.flags.ack() { b'H' } else { b'S' };
        if h.check(HIST_SYN_PKT, code, is_orig) && rel != ep.hist_last_syn {
            h.add(code, is_orig);
        }
        ep.hist_last_syn = rel;
    } else if fin {
        let at = rel.wrapping_add(f.len);
        if h.check(HIST_FIN_PKT, b'F', is_orig) && at != ep.hist_last_fin {
            h.add(b'F', is_orig);
        }
        ep.hist_last_fin = at;
    } else if rst {
        if h.check(HIST_RST_PKT, b'R', is_orig) && rel != ep.hist_last_rst {
            h.add(b'R', is_orig);
        }
        ep.hist_last_rst = rel;
    } else if f.len > 0 {
        h.check(HIST_DATA_PKT, b'D', is_orig);
    } else if f.flags.ack() {
        h.check(HIST_ACK_PKT, b'A', is_orig);
    }
}

/// Zeek `update_last_seq`: advances the last sequence number, or counts a
/// retransmission when payload does not advance it.
fn update_last_seq(ep: &mut TcpEndpoint, last: u32, f: &TcpFacts, h: &mut History, is_orig: bool) {
    let delta = seq_delta(last, ep.last_seq);
    let untrusted_jump = !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta);
    if (f.flags.syn() || f.flags.rst()) && untrusted_jump {
        // Not trusted.
    } else if f.flags.fin() && ep.last_seq == ep.start_seq.wrapping_add(1) {
        ep.update_last_seq(last);
    } else if ep.state == St::Reset {
        // Nothing after a RST is trusted.
    } else if delta > 0 {
        ep.update_last_seq(last);
    } else if f.len > 0 {
        ep.scaled.bump(Scaled::Retransmit, h, is_orig);
    }
}

/// Borrows endpoint `side` and its peer.
fn pair(ep: &mut [TcpEndpoint; 2], side: usize) -> (&mut TcpEndpoint, &mut TcpEndpoint) {
    let [a, b] = ep;
    if side == 0 {
        (a, b)
    } else {
        (b, a)
    }
}

impl TcpConn {
    pub fn new() -> Self {
        TcpConn {
            ep: [TcpEndpoint::new(), TcpEndpoint::new()],
            missed_bytes: 0,
            is_partial: false,
            first_packet_seen: 0,
            attempt_armed: false,
            long_idle: false,
        }
    }

    pub fn orig(&self, orig_side: usize) -> &TcpEndpoint {
        let [a, b] = &self.ep;
        if orig_side == 0 {
            a
        } else {
            b
        }
    }

    pub fn resp(&self, orig_side: usize) -> &TcpEndpoint {
        self.orig(1 - orig_side)
    }

    /// Zeek `IsClosed`: either side reported its close.
    fn is_closed(&self) -> bool {
        self.ep.iter().any(|e| e.did_close)
    }

    /// The attempt timer would remove the connection now (Zeek `AttemptTimer`).
    pub fn attempt_pending(&self, orig_side: usize) -> bool {
        let o = self.orig(orig_side).state;
        self.attempt_armed
            && matches!(o, St::SynSent | St::SynAckSent)
            && self.resp(orig_side).state == St::Inactive
    }

    /// Zeek `TCPSessionAdapter::IsReuse`: a new SYN starts a new connection.
    pub fn is_reuse(&self, f: &TcpFacts, orig_side: usize) -> bool {
        if !f.flags.syn() {
            return false;
        }
        let orig = self.orig(orig_side);
        let resp = self.resp(orig_side);
        let mut conn_orig = orig;
        if f.flags.ack() {
            if orig.state != St::Inactive {
                return false; // not a half connection
            }
            conn_orig = resp;
        }
        if !self.is_closed() {
            if f.seq == conn_orig.start_seq {
                return false;
            }
            if !f.flags.ack()
                && conn_orig.state == St::SynAckSent
                && resp.state == St::Inactive
                && f.seq == resp.start_seq
            {
                return false; // SYN and SYN-ACK seen in reverse order
            }
        }
        true
    }

    /// Zeek `SetPartialStatus`.
    fn set_partial_status(&mut self, f: &TcpFacts, is_orig: bool) {
        if is_orig {
            if self.first_packet_seen & SEEN_ORIG == 0 {
                self.is_partial = !f.flags.syn() || f.flags.ack();
            }
        } else if self.first_packet_seen & SEEN_RESP == 0 && !self.is_partial {
            self.is_partial = !f.flags.syn();
        }
    }

    /// Zeek `FlipRoles` of the connection and the TCP adapter.
    fn flip_roles(&mut self, orig_side: &mut usize, history: &mut History) {
        *orig_side = 1 - *orig_side;
        history.add_raw(b'^');
        let seen = self.first_packet_seen;
        self.first_packet_seen = (if seen & SEEN_ORIG != 0 { SEEN_RESP } else { 0 })
            | (if seen & SEEN_RESP != 0 { SEEN_ORIG } else { 0 });
        self.is_partial = false;
    }

    /// Processes one segment sent by `side`.
    pub fn process(
        &mut self,
        f: &TcpFacts,
        side: usize,
        orig_side: &mut usize,
        h: &mut History,
    ) -> TcpOutcome {
        let mut out = TcpOutcome::default();
        let is_orig = side == *orig_side;
        self.set_partial_status(f, is_orig);
        let seg_len = segment_len(f.len, f);
        let seq_one_past = f.seq.wrapping_add(seg_len);
        let (ep, _) = pair(&mut self.ep, side);
        init_endpoint(ep, f, f.seq, seq_one_past);

        let mut underflow = false;
        let rel_seq = relative_seq(ep, f.seq, ep.last_seq, ep.seq_wraps, &mut underflow);
        update_history(f, ep, h, is_orig, rel_seq);

        let (ep, peer) = pair(&mut self.ep, side);
        // Zeek `update_window`: a zero window is worth a letter unless it
        // comes with or after a RST, or after the peer's FIN.
        if f.window == 0 && !f.flags.rst() && peer.state != St::Closed && ep.state != St::Reset {
            ep.scaled.bump(Scaled::ZeroWindow, h, is_orig);
        }
        out.update_last_time = !(ep.did_close && peer.did_close);
        if f.flags.fin() {
            ep.fin_seen = true;
            ep.fin_seq = rel_seq.wrapping_add(u64::from(seg_len));
        }

        let mut rel_ack = 0;
        if f.flags.ack() {
            if peer.state == St::Inactive {
                rel_ack = 1;
                // Zeek `init_peer`: number the peer as though its SYN was seen.
                let start = f.ack.wrapping_sub(1);
                peer.init_start_seq(start);
                peer.ack_seq = start;
                peer.last_seq = start;
            } else {
                let mut ack_underflow = false;
                rel_ack = relative_seq(
                    peer,
                    f.ack,
                    peer.ack_seq,
                    peer.ack_wraps,
                    &mut ack_underflow,
                );
                if ack_underflow {
                    rel_ack = 0;
                } else if !f.flags.rst() {
                    let delta = seq_delta(f.ack, peer.ack_seq);
                    // An ack of 0 far ahead is more likely broken than a wrap.
                    if !(f.ack == 0 && delta > TOO_LARGE_SEQ_DELTA) && delta > 0 {
                        peer.update_ack_seq(f.ack);
                    }
                }
            }
        }

        update_last_seq(ep, seq_one_past, f, h, is_orig);
        let (do_close, reset_after_fin) =
            self.update_state_machine(f, side, orig_side, h, &mut out);

        if f.flags.ack() {
            self.peer_ack_received(side, *orig_side, rel_ack, h);
        }
        // Zeek `CheckPIA_FirstPacket` (with the packet's original direction).
        self.first_packet_seen |= if is_orig { SEEN_ORIG } else { SEEN_RESP };

        let (ep, _) = pair(&mut self.ep, side);
        if f.len > 0 && f.captured_all && !f.flags.rst() && !underflow {
            let rel_data_seq = if f.flags.syn() {
                rel_seq.wrapping_add(1)
            } else {
                rel_seq
            };
            ep.data_sent(rel_data_seq, f.len);
        }
        if do_close && self.connection_closed(side) {
            out.close = CloseEvent::Complete;
            self.attempt_armed = false;
        } else if reset_after_fin {
            out.close = CloseEvent::ResetAfterFin;
        }
        out
    }

    /// The peer of `side` receives an acknowledgement (Zeek `AckReceived`).
    fn peer_ack_received(&mut self, side: usize, orig_side: usize, rel_ack: u64, h: &mut History) {
        let partial = self.is_partial;
        let (ep, peer) = pair(&mut self.ep, side);
        let report = ep.is_clean() && peer.is_clean();
        let peer_is_orig = 1 - side == orig_side;
        let missed = peer.ack_received(rel_ack, partial, report, h, peer_is_orig);
        self.missed_bytes = self.missed_bytes.saturating_add(missed);
    }

    /// Zeek `ConnectionClosed`; returns whether the close is complete.
    fn connection_closed(&mut self, side: usize) -> bool {
        let (ep, peer) = pair(&mut self.ep, side);
        if ep.did_close {
            return false;
        }
        ep.did_close = true;
        ep.state == St::Reset || peer.did_close || peer.state == St::Inactive
    }

    /// Zeek `UpdateStateMachine`; returns (do_close, reset-after-FIN timer).
    fn update_state_machine(
        &mut self,
        f: &TcpFacts,
        side: usize,
        orig_side: &mut usize,
        h: &mut History,
        out: &mut TcpOutcome,
    ) -> (bool, bool) {
        let (ep, peer) = pair(&mut self.ep, side);
        match ep.state {
            St::Inactive => (self.update_inactive(f, side, orig_side, h, out), false),
            St::SynSent | St::SynAckSent => {
                let mut do_close = false;
                if f.flags.fin() {
                    out.handshake_done |= ep.set_state(St::Closed, peer.state);
                    do_close = true;
                }
                if f.flags.rst() {
                    out.handshake_done |= ep.set_state(St::Reset, peer.state);
                    do_close = true;
                }
                (do_close, false)
            }
            St::Established | St::Partial => {
                let mut do_close = false;
                if f.flags.syn()
                    && ep.state == St::Partial
                    && peer.state == St::Inactive
                    && !f.flags.ack()
                {
                    out.handshake_done |= ep.set_state(St::SynSent, peer.state);
                }
                if f.flags.fin() && !f.flags.rst() {
                    out.handshake_done |= ep.set_state(St::Closed, peer.state);
                    if peer.state == St::Reset && peer.prev_state == St::Closed {
                        // FIN then RST from the peer: a normal termination.
                        out.handshake_done |= peer.set_state(St::Closed, ep.state);
                    }
                    do_close = true;
                }
                if f.flags.rst() {
                    out.handshake_done |= ep.set_state(St::Reset, peer.state);
                    do_close = true;
                }
                (do_close, false)
            }
            St::Closed => {
                if f.flags.rst() && peer.state != St::Closed {
                    out.handshake_done |= ep.set_state(St::Reset, peer.state);
                    (!ep.did_close, true)
                } else {
                    (false, false)
                }
            }
            St::Reset => (false, false),
        }
    }

    /// Zeek `UpdateInactiveState`: the first packets from a side.
    fn update_inactive(
        &mut self,
        f: &TcpFacts,
        side: usize,
        orig_side: &mut usize,
        h: &mut History,
        out: &mut TcpOutcome,
    ) -> bool {
        let is_orig = side == *orig_side;
        let mut do_close = false;
        if f.flags.syn() {
            if is_orig {
                let (ep, peer) = pair(&mut self.ep, side);
                let new = if f.flags.ack() {
                    St::SynAckSent
                } else {
                    St::SynSent
                };
                out.handshake_done |= ep.set_state(new, peer.state);
                self.attempt_armed = true;
                out.armed_attempt = true;
            } else {
                let (ep, peer) = pair(&mut self.ep, side);
                let reversal =
                    !f.flags.ack() && peer.state == St::SynAckSent && f.seq == ep.start_seq;
                if reversal {
                    // SYN seen after its SYN-ACK: flip and establish.
                    self.flip_roles(orig_side, h);
                    self.first_packet_seen |= SEEN_ORIG;
                    let (ep, peer) = pair(&mut self.ep, side);
                    out.handshake_done |= peer.set_state(St::Established, ep.state);
                }
                let (ep, peer) = pair(&mut self.ep, side);
                if peer.state == St::SynSent {
                    out.handshake_done |= peer.set_state(St::Established, ep.state);
                }
                out.handshake_done |= ep.set_state(St::Established, peer.state);
            }
        }
        let (ep, peer) = pair(&mut self.ep, side);
        if f.flags.fin() {
            out.handshake_done |= ep.set_state(St::Closed, peer.state);
            do_close = true;
        }
        if f.flags.rst() {
            out.handshake_done |= ep.set_state(St::Reset, peer.state);
            do_close = true;
        }
        if ep.state == St::Inactive {
            // No control flags changed the state.
            let orig_state = if is_orig { ep.state } else { peer.state };
            if !is_orig && f.len == 0 && orig_state == St::SynSent {
                // An ACK of the SYN before the SYN-ACK: not a partial connection.
            } else if f.flags.ack() && peer.state == St::Established {
                // SYN-ACK seen, SYN missed, now the ACK: established.
                out.handshake_done |= ep.set_state(St::Established, peer.state);
                self.is_partial = false;
                self.first_packet_seen |= if is_orig { SEEN_ORIG } else { SEEN_RESP };
            } else {
                out.handshake_done |= ep.set_state(St::Partial, peer.state);
            }
        }
        do_close
    }
}
