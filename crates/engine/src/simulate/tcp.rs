//! TCP conversations: handshake, MSS-sized data with correct seq/ack, FIN both ways.
//!
//! A [`TcpSession`] holds both ends' sequence numbers and a time cursor (the
//! capture time of its latest packet). Each call appends the packets of one
//! step to the [`Emitter`] and advances the cursor, so a whole request/reply
//! conversation is written in a few lines. Timing follows the capture point on
//! the LAN: a packet from the client is seen at once, the server's answer one
//! round trip later. The receiver acknowledges every second full segment; a
//! trailing odd segment is acknowledged by the receiver's next data or, if it
//! has none, by a bare ACK before the next step.

use super::emit::{Emitter, Micros, MILLI};
use super::net::Host;
use super::wire::{tcp_frame, Ipv4Fields, TcpFields, ACK, FIN, PSH, RST, SYN};

/// Payload bytes per full segment (Ethernet MTU 1500 − IPv4 20 − TCP 20).
pub const MSS: usize = 1460;

/// SYN options of a TCP stack: the bytes (multiple of 4) and the window it advertises.
#[derive(Debug, Clone, Copy)]
pub struct TcpStack {
    pub syn_options: &'static [u8],
    pub window: u16,
}

/// Linux: MSS 1460, SACK permitted, timestamps, window scale 7.
pub const LINUX: TcpStack = TcpStack {
    syn_options: &[
        2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0x1a, 0x0a, 0, 0, 0, 0, 1, 3, 3, 7,
    ],
    window: 64240,
};
/// Windows 10/11: MSS 1460, window scale 8, SACK permitted.
pub const WINDOWS: TcpStack = TcpStack {
    syn_options: &[2, 4, 5, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2],
    window: 64240,
};
/// Apple iOS/macOS: MSS, window scale 6, timestamps, SACK permitted.
pub const APPLE: TcpStack = TcpStack {
    syn_options: &[
        2, 4, 5, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0x5e, 0x2b, 0x11, 0x07, 0, 0, 0, 0, 4, 2, 0, 0,
    ],
    window: 65535,
};
/// Small embedded stacks (lwIP, RTOS): MSS only, small window.
pub const EMBEDDED: TcpStack = TcpStack {
    syn_options: &[2, 4, 5, 0xb4],
    window: 5840,
};
/// Options a server answers a SYN with (no timestamps, so later segments carry none).
const SERVER_SYNACK_OPTIONS: &[u8] = &[2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7];
/// A lone segment is acknowledged this much later (delayed ACK).
const DELAYED_ACK: Micros = 40 * MILLI;
/// Receive buffer a scaling stack advertises after the handshake (bytes).
const SCALED_RECEIVE_BUFFER: u32 = 1 << 20;
/// Shift servers announce in their SYN-ACK (see `SERVER_SYNACK_OPTIONS`).
const SERVER_WINDOW_SHIFT: u8 = 7;

/// Which side of the connection acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// Timing of a conversation as seen at the capture point.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// From a client packet to the server's answer (round trip beyond the capture point).
    pub server_rtt: Micros,
    /// From a server packet to the client's answer.
    pub client_rtt: Micros,
    /// Time between back-to-back full segments sent by the client / the server.
    pub client_gap: Micros,
    pub server_gap: Micros,
}

impl Timing {
    /// A LAN peer: sub-millisecond turnarounds, fast links.
    pub fn lan() -> Self {
        Timing {
            server_rtt: 400,
            client_rtt: 300,
            client_gap: 40,
            server_gap: 40,
        }
    }

    /// An internet server `rtt` away over a broadband line.
    pub fn internet(rtt: Micros) -> Self {
        Timing {
            server_rtt: rtt,
            client_rtt: 400,
            client_gap: 450,
            server_gap: 120,
        }
    }
}

pub struct TcpSession {
    pub client: Host,
    pub server: Host,
    pub cport: u16,
    pub sport: u16,
    /// Next sequence number each side sends.
    cseq: u32,
    sseq: u32,
    pub timing: Timing,
    /// Capture time of the latest packet.
    pub t: Micros,
    /// Sender of the latest packet (the other side answers one turnaround later).
    last: Side,
    /// Receive windows in bytes and the scale shifts in force (None: no window scaling).
    client_receive: u32,
    server_receive: u32,
    client_shift: Option<u8>,
    server_shift: Option<u8>,
}

/// The SYN options with the timestamp option's TSval set to `tsval` (stacks start it at a random clock).
fn with_timestamp(options: &[u8], tsval: u32) -> Vec<u8> {
    let mut out = options.to_vec();
    let mut i = 0;
    while let Some(&kind) = out.get(i) {
        match kind {
            0 => break,
            1 => i += 1,
            _ => {
                let len = usize::from(out.get(i + 1).copied().unwrap_or(2)).max(2);
                if kind == 8 {
                    if let Some(v) = out.get_mut(i + 2..i + 6) {
                        v.copy_from_slice(&tsval.to_be_bytes());
                    }
                }
                i += len;
            }
        }
    }
    out
}

/// The shift of the window-scale option (kind 3) in a SYN's options, if present.
fn window_shift(options: &[u8]) -> Option<u8> {
    let mut i = 0;
    while let Some(&kind) = options.get(i) {
        match kind {
            0 => return None,
            1 => i += 1,
            3 => return options.get(i + 2).copied(),
            _ => i += usize::from(options.get(i + 1).copied().unwrap_or(2)).max(2),
        }
    }
    None
}

fn other(side: Side) -> Side {
    match side {
        Side::Client => Side::Server,
        Side::Server => Side::Client,
    }
}

impl TcpSession {
    pub fn new(
        client: Host,
        server: Host,
        cport: u16,
        sport: u16,
        isn: (u32, u32),
        timing: Timing,
        t: Micros,
    ) -> Self {
        TcpSession {
            client,
            server,
            cport,
            sport,
            cseq: isn.0,
            sseq: isn.1,
            timing,
            t,
            last: Side::Client,
            client_receive: 65_535,
            server_receive: 65_535,
            client_shift: None,
            server_shift: None,
        }
    }

    fn frame(
        &self,
        em: &mut Emitter,
        from: Side,
        flags: u8,
        window: u16,
        options: &[u8],
        payload: &[u8],
    ) -> Vec<u8> {
        let (src, dst, sport, dport, seq, ack) = match from {
            Side::Client => (
                self.client,
                self.server,
                self.cport,
                self.sport,
                self.cseq,
                self.sseq,
            ),
            Side::Server => (
                self.server,
                self.client,
                self.sport,
                self.cport,
                self.sseq,
                self.cseq,
            ),
        };
        let ip = Ipv4Fields {
            src: src.ip,
            dst: dst.ip,
            ttl: src.ttl,
            id: em.ip_id(),
            dont_fragment: true,
        };
        let ack = if flags & ACK != 0 { ack } else { 0 };
        let tcp = TcpFields {
            sport,
            dport,
            seq,
            ack,
            flags,
            window,
        };
        tcp_frame(src.mac, dst.mac, &ip, &tcp, options, payload)
    }

    /// The window field `from` puts in its segments.
    fn window(&self, from: Side) -> u16 {
        let (bytes, shift) = match from {
            Side::Client => (self.client_receive, self.client_shift),
            Side::Server => (self.server_receive, self.server_shift),
        };
        (bytes >> shift.unwrap_or(0)).min(65_535) as u16
    }

    /// Receive window of `side` in bytes.
    fn receive_window(&self, side: Side) -> u32 {
        match side {
            Side::Client => self.client_receive,
            Side::Server => self.server_receive,
        }
    }

    fn emit(&mut self, em: &mut Emitter, at: Micros, from: Side, flags: u8, payload: &[u8]) {
        let win = self.window(from);
        let f = self.frame(em, from, flags, win, &[], payload);
        em.push(at, f);
        let advance = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        match from {
            Side::Client => self.cseq = self.cseq.wrapping_add(advance),
            Side::Server => self.sseq = self.sseq.wrapping_add(advance),
        }
        if at >= self.t {
            self.t = at;
            self.last = from;
        }
    }

    /// How long `side` takes to answer the other side, as seen at the capture point.
    fn answer_delay(&self, side: Side) -> Micros {
        match side {
            Side::Client => self.timing.client_rtt,
            Side::Server => self.timing.server_rtt,
        }
    }

    /// When `from` can send next, `think` µs after it could react.
    fn start_of(&self, from: Side, think: Micros) -> Micros {
        let react = if self.last == from {
            0
        } else {
            self.answer_delay(from)
        };
        self.t + react + think
    }

    /// SYN, SYN-ACK, ACK. The client's SYN is sent at the cursor.
    pub fn connect(&mut self, em: &mut Emitter, stack: TcpStack) {
        // Window scaling is on only if both SYNs carry the option (RFC 7323).
        self.client_shift = window_shift(stack.syn_options);
        self.server_shift = self.client_shift.map(|_| SERVER_WINDOW_SHIFT);
        let scaled = self.client_shift.is_some();
        self.client_receive = if scaled {
            SCALED_RECEIVE_BUFFER
        } else {
            u32::from(stack.window)
        };
        self.server_receive = if scaled {
            SCALED_RECEIVE_BUFFER
        } else {
            65_535
        };
        let options = with_timestamp(stack.syn_options, self.cseq.rotate_left(11));
        let syn = self.frame(em, Side::Client, SYN, stack.window, &options, &[]);
        em.push(self.t, syn);
        self.cseq = self.cseq.wrapping_add(1);
        let at = self.t + self.timing.server_rtt;
        let synack = self.frame(
            em,
            Side::Server,
            SYN | ACK,
            65160,
            SERVER_SYNACK_OPTIONS,
            &[],
        );
        em.push(at, synack);
        self.sseq = self.sseq.wrapping_add(1);
        self.t = at;
        self.last = Side::Server;
        let at = self.t + self.timing.client_rtt;
        self.emit(em, at, Side::Client, ACK, &[]);
    }

    /// SYN answered by RST-ACK (closed port).
    pub fn refused(&mut self, em: &mut Emitter, stack: TcpStack) {
        let syn = self.frame(em, Side::Client, SYN, stack.window, stack.syn_options, &[]);
        em.push(self.t, syn);
        self.cseq = self.cseq.wrapping_add(1);
        let at = self.t + self.timing.server_rtt;
        let rst = self.frame(em, Side::Server, RST | ACK, 0, &[], &[]);
        em.push(at, rst);
        self.t = at;
        self.last = Side::Server;
    }

    fn transmit(
        &mut self,
        em: &mut Emitter,
        from: Side,
        data: &[u8],
        think: Micros,
        reply_follows: bool,
    ) {
        if data.is_empty() {
            return;
        }
        let receiver = other(from);
        let mut at = self.start_of(from, think);
        let ack_delay = self.answer_delay(receiver);
        let link_gap = match from {
            Side::Client => self.timing.client_gap,
            Side::Server => self.timing.server_gap,
        };
        // Pace so the bytes in flight (about one ACK delay's worth) fit the receiver's window.
        let budget = i64::from(self.receive_window(receiver))
            .saturating_sub(2 * MSS as i64)
            .max(MSS as i64);
        let gap = link_gap.max(ack_delay * MSS as i64 / budget + 1);
        let count = data.len().div_ceil(MSS);
        let mut last_data = at;
        let mut last_ack = None;
        for (i, seg) in data.chunks(MSS).enumerate() {
            let flags = if i + 1 == count { PSH | ACK } else { ACK };
            self.emit(em, at, from, flags, seg);
            last_data = at;
            let final_odd = i + 1 == count && !reply_follows;
            if i % 2 == 1 || final_odd {
                let ack_at = at + ack_delay + if i % 2 == 1 { 0 } else { DELAYED_ACK };
                let f = self.frame(em, receiver, ACK, self.window(receiver), &[], &[]);
                em.push(ack_at, f);
                last_ack = Some(ack_at);
            }
            at += gap;
        }
        // The cursor marks the sender's last segment; a later bare ACK only moves it forward.
        self.t = self.t.max(last_data);
        self.last = from;
        if let Some(a) = last_ack {
            if a > self.t && !reply_follows {
                self.t = a;
                self.last = receiver;
            }
        }
    }

    /// `from` sends `data` in MSS-sized segments after `think` µs; the receiver acknowledges all of it.
    pub fn send(&mut self, em: &mut Emitter, from: Side, data: &[u8], think: Micros) {
        self.transmit(em, from, data, think, false);
    }

    /// Like [`send`](Self::send), but the other side answers next, acknowledging with its data.
    pub fn request(&mut self, em: &mut Emitter, from: Side, data: &[u8], think: Micros) {
        self.transmit(em, from, data, think, true);
    }

    /// Client request, then the server's response (which acknowledges the request).
    pub fn exchange(
        &mut self,
        em: &mut Emitter,
        request: &[u8],
        response: &[u8],
        server_think: Micros,
    ) {
        self.request(em, Side::Client, request, 0);
        self.send(em, Side::Server, response, server_think);
    }

    /// FIN from `first`, FIN-ACK from the other side, final ACK: both directions closed.
    pub fn close(&mut self, em: &mut Emitter, first: Side, think: Micros) {
        let at = self.start_of(first, think);
        self.emit(em, at, first, FIN | ACK, &[]);
        let second = other(first);
        let at = self.start_of(second, 0);
        self.emit(em, at, second, FIN | ACK, &[]);
        let at = self.start_of(first, 0);
        self.emit(em, at, first, ACK, &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::SimPacket;
    use std::net::Ipv4Addr;

    fn hosts() -> (Host, Host) {
        (
            Host {
                mac: [2, 0, 0, 0, 0, 1],
                ip: Ipv4Addr::new(10, 0, 1, 10),
                ttl: 64,
            },
            Host {
                mac: [2, 0, 0, 0, 0, 2],
                ip: Ipv4Addr::new(10, 0, 0, 2),
                ttl: 64,
            },
        )
    }

    fn seq_ack_flags(f: &[u8]) -> (u32, u32, u8, usize) {
        let b = |i: usize| f.get(i).copied().unwrap_or(0);
        let seq = u32::from_be_bytes([b(38), b(39), b(40), b(41)]);
        let ack = u32::from_be_bytes([b(42), b(43), b(44), b(45)]);
        let total = usize::from(u16::from_be_bytes([b(16), b(17)]));
        let hl = usize::from(b(46) >> 4) * 4;
        (seq, ack, b(47), total - 20 - hl)
    }

    #[test]
    fn sequence_numbers_follow_the_bytes_sent() {
        let (c, s) = hosts();
        let mut em = Emitter::new(0);
        let mut sess = TcpSession::new(c, s, 40000, 1883, (1000, 5000), Timing::lan(), 0);
        sess.connect(&mut em, LINUX);
        sess.exchange(&mut em, &[1u8; 3000], &[2u8; 10], 100);
        sess.close(&mut em, Side::Client, 100);
        let mut out: Vec<SimPacket> = Vec::new();
        em.release_all(&mut out);
        let pk: Vec<_> = out.iter().map(|p| seq_ack_flags(&p.frame)).collect();
        assert_eq!(pk.first().map(|p| (p.0, p.2)), Some((1000, SYN)));
        assert_eq!(
            pk.get(1).map(|p| (p.0, p.1, p.2)),
            Some((5000, 1001, SYN | ACK))
        );
        // 3000 bytes → 1460 + 1460 + 80; server's reply acks all of it.
        let reply = pk.iter().find(|p| p.3 == 10).copied();
        assert_eq!(reply.map(|p| (p.0, p.1)), Some((5001, 1001 + 3000)));
        let fins: Vec<_> = pk.iter().filter(|p| p.2 & FIN != 0).collect();
        assert_eq!(fins.len(), 2);
        assert!(out.windows(2).all(|w| w[0].ts <= w[1].ts));
        let last = pk.last().copied();
        assert_eq!(
            last.map(|p| (p.0, p.1, p.2)),
            Some((1001 + 3000 + 1, 5001 + 10 + 1, ACK))
        );
    }
}
