//! The flow table: [`Decoded`] packets in → [`ConnRecord`]s out when a
//! connection is closed, times out, is replaced by a new SYN, is evicted, or
//! the input ends.
//!
//! Storage is a slab of fixed-size [`Flow`] entries plus a second slab of
//! TCP state for TCP flows, found through a `hashbrown::HashTable` of slab
//! indices keyed by the canonical 5-tuple. The per-packet path allocates
//! nothing; a flow allocates only its record (and uid) when written.
//! Limits: at most [`FlowConfig::max_flows`] flows (default
//! [`DEFAULT_MAX_FLOWS`](super::DEFAULT_MAX_FLOWS)); creating one more evicts
//! the flow whose deadline is nearest (counter `flow.evicted`).
//!
//! Time: the table's clock is the largest packet timestamp seen (or passed to
//! [`FlowTable::advance`]). Before a packet is accounted, every flow whose
//! deadline is at or before the clock is written, earliest deadline first,
//! like Zeek's timers firing before the packet that passes them.
#![deny(clippy::indexing_slicing)]

use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::counters::FlowCounters;
use super::entry::{Flow, NO_TCP};
use super::expiry::{TimerClass, TimerLists};
use super::history::{HIST_UDP_ORIG_DATA_PKT, HIST_UDP_RESP_DATA_PKT};
use super::key::{FlowKey, PacketView, Skip, L4, PROTO_ICMP, PROTO_ICMPV6, PROTO_UDP};
use super::output::build_record;
use super::record::{CloseReason, ConnRecord};
use super::tcp_state::{CloseEvent, TcpConn, TcpOutcome};
use super::uid::{uid_hash, RecentRemovals, Uid};
use super::{FlowConfig, PacketContext};
use crate::decode::Decoded;
use crate::sink::Sink;
use crate::time::{Duration, Timestamp};

/// Bounded table of live connections with Zeek conn.log semantics.
pub struct FlowTable {
    config: FlowConfig,
    flows: Vec<Flow>,
    free_flows: Vec<u32>,
    tcp: Vec<TcpConn>,
    free_tcp: Vec<u32>,
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    lists: TimerLists,
    recent: RecentRemovals,
    /// Largest packet time seen (ns).
    clock: i64,
    next_id: u64,
    live: usize,
    counters: FlowCounters,
}

fn deadline_after(t: i64, d: Duration) -> i64 {
    if d.0 <= 0 {
        i64::MAX // a zero timeout means never, as in Zeek
    } else {
        t.saturating_add(d.0)
    }
}

fn reason_of(class: TimerClass) -> CloseReason {
    match class {
        TimerClass::UdpIdle
        | TimerClass::IcmpIdle
        | TimerClass::OtherIdle
        | TimerClass::TcpHandshakeIdle
        | TimerClass::TcpIdle => CloseReason::InactivityTimeout,
        TimerClass::TcpAttempt => CloseReason::AttemptTimeout,
        TimerClass::TcpClosing | TimerClass::TcpResetDelay => CloseReason::Closed,
    }
}

impl FlowTable {
    pub fn new(config: FlowConfig) -> Self {
        let config = FlowConfig {
            max_flows: config.max_flows.max(1),
            ..config
        };
        FlowTable {
            config,
            flows: Vec::new(),
            free_flows: Vec::new(),
            tcp: Vec::new(),
            free_tcp: Vec::new(),
            index: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            lists: TimerLists::default(),
            recent: RecentRemovals::default(),
            clock: i64::MIN,
            next_id: 0,
            live: 0,
            counters: FlowCounters::default(),
        }
    }

    /// Accounts one decoded packet (IP with TCP/UDP/ICMP/other transport;
    /// non-IP packets and later fragments are ignored and counted). First
    /// writes the flows whose timers expired at this packet's time (any
    /// packet, accounted or not, moves the clock).
    pub fn observe(
        &mut self,
        pkt: &Decoded<'_>,
        out: &mut impl Sink<ConnRecord>,
    ) -> Option<PacketContext> {
        // Every packet moves time on, like Zeek's timers (even ARP).
        let ts = pkt.ts.as_nanos();
        self.clock = self.clock.max(ts);
        self.expire_due(out);
        let view = match PacketView::from_decoded(pkt) {
            Ok(v) => v,
            Err(skip) => {
                match skip {
                    Skip::NonIp => self.counters.non_ip += 1,
                    Skip::LaterFragment => self.counters.fragments_skipped += 1,
                    Skip::MalformedTransport => self.counters.malformed_transport += 1,
                }
                return None;
            }
        };

        let (key, side) = view.key();
        let hash = self.hasher.hash_one(key);
        let mut found = self.find(hash, &key);
        if let Some(idx) = found {
            if let Some(reason) = self.replacement(idx, &view) {
                self.remove(idx, reason, out);
                found = None;
            }
        }
        let (idx, is_new) = match found {
            Some(idx) => (idx, false),
            None => (self.create(key, hash, side, &view, pkt, out)?, true),
        };
        self.counters.packets += 1;
        self.update(idx, side, &view, pkt, ts, is_new)
    }

    /// Writes what timed out at packet time `now` (for idle live captures).
    pub fn advance(&mut self, now: Timestamp, out: &mut impl Sink<ConnRecord>) {
        self.clock = self.clock.max(now.as_nanos());
        self.expire_due(out);
    }

    /// End of input: writes every remaining flow, ordered by (ts, uid).
    pub fn flush(&mut self, out: &mut impl Sink<ConnRecord>) {
        let mut records: Vec<ConnRecord> = Vec::with_capacity(self.live);
        for &idx in self.index.iter() {
            let Some(flow) = self.flows.get(idx as usize) else {
                continue;
            };
            let tcp = self.tcp.get(flow.tcp as usize);
            if flow.history.truncated() {
                self.counters.history_truncated += 1;
            }
            records.push(build_record(
                flow,
                tcp,
                CloseReason::EndOfInput,
                self.config.uid_seed,
            ));
        }
        records.sort_by(|a, b| a.ts.cmp(&b.ts).then_with(|| a.uid.cmp(&b.uid)));
        self.counters.flushed += records.len() as u64;
        for r in records {
            out.push(r);
        }
        self.index.clear();
        self.flows.clear();
        self.free_flows.clear();
        self.tcp.clear();
        self.free_tcp.clear();
        self.lists = TimerLists::default();
        self.live = 0;
    }

    /// Connections tracked now.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    pub fn counters(&self) -> &FlowCounters {
        &self.counters
    }

    pub fn config(&self) -> &FlowConfig {
        &self.config
    }

    /// Estimated heap bytes per tracked flow, worst case (a TCP flow): the
    /// entry, its TCP state and the hash index slot (4-byte index + 1 control
    /// byte at the 7/8 maximum load).
    pub fn bytes_per_flow() -> usize {
        let index = (std::mem::size_of::<u32>() + 1) * 8 / 7 + 1;
        std::mem::size_of::<Flow>() + std::mem::size_of::<TcpConn>() + index
    }

    fn find(&self, hash: u64, key: &FlowKey) -> Option<u32> {
        let flows = &self.flows;
        self.index
            .find(hash, |&i| {
                flows.get(i as usize).is_some_and(|f| f.key == *key)
            })
            .copied()
    }

    /// Whether the packet ends the existing flow `idx` first: its timer is
    /// due, or (TCP) it is a SYN that starts a new connection (Zeek `IsReuse`).
    fn replacement(&self, idx: u32, view: &PacketView) -> Option<CloseReason> {
        let flow = self.flows.get(idx as usize)?;
        if flow.deadline <= self.clock {
            return Some(reason_of(flow.links.class));
        }
        let L4::Tcp(facts) = view.l4 else { return None };
        let tcp = self.tcp.get(flow.tcp as usize)?;
        tcp.is_reuse(&facts, flow.orig_side())
            .then_some(CloseReason::Reused)
    }

    fn create(
        &mut self,
        key: FlowKey,
        hash: u64,
        side: usize,
        view: &PacketView,
        pkt: &Decoded<'_>,
        out: &mut impl Sink<ConnRecord>,
    ) -> Option<u32> {
        if self.live >= self.config.max_flows {
            let (victim, _) = self.lists.earliest()?;
            self.remove(victim, CloseReason::Evicted, out);
        }
        let id = self.next_id;
        self.next_id += 1;
        let salt = self.recent.salt_for(&key, pkt.ts.as_nanos());
        let mut flow = Flow::new(key, side, pkt, id, salt);
        let ports = &self.config.likely_server_ports;
        let flip = match view.l4 {
            L4::Tcp(f) => ports.flip_tcp(f.flags, view.src_port, view.dst_port),
            L4::Udp { .. } => ports.flip_udp(view.src_port, view.dst_port),
            L4::Icmp { .. } | L4::Other => false,
        };
        if flip && !view.dst_broadcast {
            flow.orig_side ^= 1;
            flow.history.add_raw(b'^');
        }
        let class = if matches!(view.l4, L4::Tcp(_)) {
            flow.tcp = self.alloc_tcp();
            TimerClass::TcpHandshakeIdle
        } else {
            idle_class(key.proto)
        };
        flow.deadline = deadline_after(flow.last, self.idle_timeout(class));
        let idx = match self.free_flows.pop() {
            Some(i) => {
                if let Some(slot) = self.flows.get_mut(i as usize) {
                    *slot = flow;
                }
                i
            }
            None => {
                self.flows.push(flow);
                u32::try_from(self.flows.len() - 1).ok()?
            }
        };
        self.lists.push_back(&mut self.flows, idx, class);
        let (flows, hasher) = (&self.flows, &self.hasher);
        self.index.insert_unique(hash, idx, |&i| {
            flows.get(i as usize).map_or(0, |f| hasher.hash_one(f.key))
        });
        self.live += 1;
        self.counters.created += 1;
        self.counters.active_peak = self.counters.active_peak.max(self.live as u64);
        Some(idx)
    }

    fn alloc_tcp(&mut self) -> u32 {
        match self.free_tcp.pop() {
            Some(i) => {
                if let Some(slot) = self.tcp.get_mut(i as usize) {
                    *slot = TcpConn::new();
                }
                i
            }
            None => {
                self.tcp.push(TcpConn::new());
                u32::try_from(self.tcp.len() - 1).unwrap_or(NO_TCP)
            }
        }
    }

    /// Accounts the packet to flow `idx` and re-arms its timer.
    fn update(
        &mut self,
        idx: u32,
        side: usize,
        view: &PacketView,
        pkt: &Decoded<'_>,
        ts: i64,
        is_new: bool,
    ) -> Option<PacketContext> {
        let flow = self.flows.get_mut(idx as usize)?;
        flow.account(side, pkt, view.ip_len);
        let mut tcp_outcome = None;
        match view.l4 {
            L4::Tcp(facts) => {
                let tcp = self.tcp.get_mut(flow.tcp as usize)?;
                let mut orig_side = flow.orig_side();
                let outcome = tcp.process(&facts, side, &mut orig_side, &mut flow.history);
                flow.orig_side = orig_side as u8;
                if outcome.update_last_time {
                    flow.touch(ts);
                }
                tcp_outcome = Some(outcome);
            }
            L4::Udp { payload_len } => {
                flow.add_payload(side, payload_len);
                if flow.is_orig(side) {
                    flow.history.check_raw(HIST_UDP_ORIG_DATA_PKT, b'D');
                } else {
                    flow.history.check_raw(HIST_UDP_RESP_DATA_PKT, b'd');
                }
                flow.touch(ts);
            }
            L4::Icmp { payload_len } => {
                flow.add_payload(side, payload_len);
                flow.touch(ts);
            }
            L4::Other => flow.touch(ts),
        }
        let ctx = PacketContext {
            flow_id: flow.id,
            is_orig: flow.is_orig(side),
            is_new,
            uid: is_new.then(|| {
                Uid(uid_hash(
                    self.config.uid_seed,
                    &flow.key,
                    flow.start,
                    flow.salt,
                ))
            }),
        };
        self.reschedule(idx, tcp_outcome, ts);
        Some(ctx)
    }

    fn idle_timeout(&self, class: TimerClass) -> Duration {
        let c = &self.config;
        match class {
            TimerClass::UdpIdle => c.udp_inactivity_timeout,
            TimerClass::IcmpIdle => c.icmp_inactivity_timeout,
            TimerClass::OtherIdle => c.other_inactivity_timeout,
            TimerClass::TcpHandshakeIdle => c.tcp_handshake_inactivity_timeout,
            TimerClass::TcpIdle => c.tcp_inactivity_timeout,
            TimerClass::TcpAttempt => c.tcp_attempt_delay,
            TimerClass::TcpClosing => c.tcp_close_delay,
            TimerClass::TcpResetDelay => c.tcp_reset_delay,
        }
    }

    /// The timer class and deadline of flow `idx` after a TCP segment.
    fn tcp_timer(&mut self, idx: u32, o: &TcpOutcome, ts: i64) -> Option<(TimerClass, i64)> {
        let flow = self.flows.get(idx as usize)?;
        let (current, deadline, last) = (flow.links.class, flow.deadline, flow.last);
        let orig_side = flow.orig_side();
        let tcp = self.tcp.get_mut(flow.tcp as usize)?;
        if o.handshake_done {
            tcp.long_idle = true;
        }
        let c = &self.config;
        let fixed_close = matches!(current, TimerClass::TcpClosing | TimerClass::TcpResetDelay);
        Some(match o.close {
            CloseEvent::Complete => (
                TimerClass::TcpClosing,
                last.saturating_add(c.tcp_close_delay.0),
            ),
            CloseEvent::ResetAfterFin => {
                let at = ts.saturating_add(c.tcp_reset_delay.0);
                if fixed_close {
                    (current, deadline.min(at))
                } else {
                    (TimerClass::TcpResetDelay, at)
                }
            }
            CloseEvent::None if fixed_close => (current, deadline),
            CloseEvent::None if o.armed_attempt => (
                TimerClass::TcpAttempt,
                ts.saturating_add(c.tcp_attempt_delay.0),
            ),
            CloseEvent::None
                if current == TimerClass::TcpAttempt && tcp.attempt_pending(orig_side) =>
            {
                (current, deadline)
            }
            CloseEvent::None => {
                let class = if tcp.long_idle {
                    TimerClass::TcpIdle
                } else {
                    TimerClass::TcpHandshakeIdle
                };
                (class, deadline_after(last, self.idle_timeout(class)))
            }
        })
    }

    /// Moves flow `idx` to the list and deadline its state calls for.
    fn reschedule(&mut self, idx: u32, tcp: Option<TcpOutcome>, ts: i64) {
        let target = match tcp {
            Some(o) => self.tcp_timer(idx, &o, ts),
            None => self.flows.get(idx as usize).map(|f| {
                let class = idle_class(f.key.proto);
                (class, deadline_after(f.last, self.idle_timeout(class)))
            }),
        };
        let Some((class, deadline)) = target else {
            return;
        };
        let Some(flow) = self.flows.get_mut(idx as usize) else {
            return;
        };
        let current = flow.links.class;
        let unchanged = class == current && deadline == flow.deadline;
        if unchanged && (class.is_fixed() || self.lists.is_tail(class, idx)) {
            return;
        }
        flow.deadline = deadline;
        if class == current && self.lists.is_tail(class, idx) {
            self.lists.deadline_changed(&self.flows, idx);
            return;
        }
        self.lists.unlink(&mut self.flows, idx);
        self.lists.push_back(&mut self.flows, idx, class);
    }

    /// Writes every flow whose deadline is at or before the clock.
    fn expire_due(&mut self, out: &mut impl Sink<ConnRecord>) {
        while let Some(idx) = self.lists.due(self.clock) {
            let Some(class) = self.flows.get(idx as usize).map(|f| f.links.class) else {
                return;
            };
            self.remove(idx, reason_of(class), out);
        }
    }

    /// Removes flow `idx` and writes its record.
    fn remove(&mut self, idx: u32, reason: CloseReason, out: &mut impl Sink<ConnRecord>) {
        let Some(flow) = self.flows.get(idx as usize) else {
            return;
        };
        let hash = self.hasher.hash_one(flow.key);
        if let Ok(entry) = self.index.find_entry(hash, |&i| i == idx) {
            entry.remove();
        }
        self.lists.unlink(&mut self.flows, idx);
        let Some(flow) = self.flows.get(idx as usize) else {
            return;
        };
        let tcp_idx = flow.tcp;
        let record = build_record(
            flow,
            self.tcp.get(tcp_idx as usize),
            reason,
            self.config.uid_seed,
        );
        if flow.history.truncated() {
            self.counters.history_truncated += 1;
        }
        self.recent.removed(&flow.key, flow.start, flow.salt);
        if tcp_idx != NO_TCP {
            self.free_tcp.push(tcp_idx);
        }
        self.free_flows.push(idx);
        self.live = self.live.saturating_sub(1);
        match reason {
            CloseReason::Closed => self.counters.closed += 1,
            CloseReason::InactivityTimeout => self.counters.expired_inactive += 1,
            CloseReason::AttemptTimeout => self.counters.expired_attempt += 1,
            CloseReason::Reused => self.counters.reused += 1,
            CloseReason::Evicted => self.counters.evicted += 1,
            CloseReason::EndOfInput => self.counters.flushed += 1,
        }
        out.push(record);
    }
}

fn idle_class(proto: u8) -> TimerClass {
    match proto {
        PROTO_UDP => TimerClass::UdpIdle,
        PROTO_ICMP | PROTO_ICMPV6 => TimerClass::IcmpIdle,
        _ => TimerClass::OtherIdle,
    }
}
