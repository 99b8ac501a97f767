//! ARP analysis: decoded ARP packets in → [`ArpRecord`]s (arp.log, one line
//! per request/reply exchange) out, plus an IP → MAC binding table whose
//! changes are stated on the records (`conflict`, `previous_mac`).
//!
//! ARP is not connection-based, so one [`ArpAnalyzer`] serves a whole
//! capture (the pipeline calls [`ArpAnalyzer::on_packet`] for every ARP
//! packet and [`ArpAnalyzer::on_end`] at the end of input). Modelled on the
//! ARP logging scripts written for Zeek:
//! - a request waits in the pending table for its reply (same VLAN, reply
//!   sender = requested address, reply target = requester); retransmissions
//!   while it waits are merged (`requests`). A reply closes the exchange;
//!   no reply within [`REQUEST_TIMEOUT`] of packet time, or by the end of the
//!   capture, logs it with `no_resp`.
//! - a reply that answers nothing pending is logged at once, `unsolicited`.
//! - announcements (sender address == target address) are logged at once,
//!   `gratuitous`; RFC 5227 probes (sender 0.0.0.0) are `gratuitous` and
//!   `probe`, and wait for a reply like any request (a reply means the
//!   address is taken).
//! - every message with a sender address claims that address for its sender
//!   MAC; a claim by another MAC than a binding seen within
//!   [`BINDING_FRESH_FOR`] sets `conflict`. A message whose Ethernet source
//!   differs from its ARP sender MAC sets `eth_mismatch`.
//!
//! The analyzer states facts; identity and the detectors decide what is spoofing.
//!
//! Limits: [`MAX_PENDING_REQUESTS`] waiting requests (the oldest is logged
//! with `no_resp` unset when a new one does not fit, counter
//! `proto.arp.pending_evicted`), [`MAX_BINDINGS`] bindings (least recently
//! claimed evicted, `proto.arp.bindings_evicted`). Nothing is allocated per
//! packet beyond the table entries and the records emitted.
#![deny(clippy::indexing_slicing)]

pub mod record;
mod state;

use std::net::Ipv4Addr;

pub use record::{operation_name, ArpConflict, ArpRecord};

use crate::counters::Counters;
use crate::decode::{ArpOperation, ArpPacket, Decoded, MacAddr};
use crate::sink::Sink;
use crate::time::{Duration, Timestamp};

use state::{AgedMap, BindingTable, Claim};

/// Name of the log (arp.log); ARP is not a conn.log service.
pub const LOG_PATH: &str = "arp";
/// Requests waiting for a reply at once; beyond, the oldest is logged and dropped.
pub const MAX_PENDING_REQUESTS: usize = 4096;
/// IP → MAC bindings kept at once (per VLAN); the least recently claimed goes first.
pub const MAX_BINDINGS: usize = 65_536;
/// Packet time a request waits for its reply before it is logged unanswered.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a binding counts as fresh: a different MAC claiming the address
/// within this window is a `conflict`, later it silently replaces the binding.
pub const BINDING_FRESH_FOR: Duration = Duration::from_secs(300);

macro_rules! arp_counters {
    ($( $(#[$doc:meta])* $field:ident => $name:literal, )*) => {
        /// What the ARP analyzer saw (`proto.arp.*`).
        #[derive(Debug, Default, Clone, PartialEq, Eq)]
        pub struct ArpCounters {
            $( $(#[$doc])* pub $field: u64, )*
        }

        impl Counters for ArpCounters {
            fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
                $( f($name, self.$field); )*
            }
        }
    };
}

arp_counters! {
    /// ARP requests seen (probes and announcements included).
    requests => "proto.arp.requests",
    /// ARP replies seen.
    replies => "proto.arp.replies",
    /// Messages with another opcode (RARP, InARP, …), logged at once.
    other_operations => "proto.arp.other_operations",
    /// Announcements and probes.
    gratuitous => "proto.arp.gratuitous",
    /// RFC 5227 probes (sender 0.0.0.0) among them.
    probes => "proto.arp.probes",
    /// Requests that got their reply.
    answered => "proto.arp.answered",
    /// Requests logged with `no_resp` (timeout or end of capture).
    unanswered => "proto.arp.unanswered",
    /// Replies that answered no pending request.
    unsolicited => "proto.arp.unsolicited_replies",
    /// Requests merged into one already waiting (retransmissions).
    repeated_requests => "proto.arp.repeated_requests",
    /// Waiting requests pushed out of a full pending table.
    pending_evicted => "proto.arp.pending_evicted",
    /// Messages whose Ethernet source differs from the ARP sender MAC.
    eth_mismatches => "proto.arp.eth_mismatches",
    /// Claims that contradicted a fresh binding.
    conflicts => "proto.arp.conflicts",
    /// Claims that replaced a binding older than the freshness window.
    bindings_replaced => "proto.arp.bindings_replaced",
    /// Bindings pushed out of a full table.
    bindings_evicted => "proto.arp.bindings_evicted",
    /// Messages whose sender MAC is zero, broadcast or multicast (no binding learnt).
    bad_sender_mac => "proto.arp.bad_sender_mac",
}

/// A waiting request: (VLAN, requester address, requested address).
type PendingKey = (Option<u16>, Ipv4Addr, Ipv4Addr);

/// A request waiting for its reply: the record so far and the time of its
/// last retransmission.
struct Pending {
    record: ArpRecord,
    last_request: Timestamp,
}

/// The ARP state of a whole capture: pending requests and bindings.
pub struct ArpAnalyzer {
    pending: AgedMap<PendingKey, Pending>,
    bindings: BindingTable,
    /// Latest packet time seen (captures may step back a little).
    now: Timestamp,
}

impl Default for ArpAnalyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl ArpAnalyzer {
    pub fn new() -> Self {
        Self::with_limits(MAX_PENDING_REQUESTS, MAX_BINDINGS)
    }

    /// An analyzer with smaller tables (tests of the bounds).
    pub fn with_limits(max_pending: usize, max_bindings: usize) -> Self {
        ArpAnalyzer {
            pending: AgedMap::new(max_pending),
            bindings: BindingTable::new(max_bindings, BINDING_FRESH_FOR),
            now: Timestamp::ZERO,
        }
    }

    /// Requests currently waiting for a reply.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Bindings currently held.
    pub fn bindings_len(&self) -> usize {
        self.bindings.len()
    }

    /// The MAC `ip` is currently bound to on `vlan`, if any.
    pub fn binding(&self, vlan: Option<u16>, ip: Ipv4Addr) -> Option<MacAddr> {
        self.bindings.lookup(vlan, ip)
    }

    /// Accounts one ARP packet (`pkt` gives its Ethernet addresses and VLAN).
    pub fn on_packet(
        &mut self,
        ts: Timestamp,
        pkt: &Decoded<'_>,
        arp: &ArpPacket,
        c: &mut ArpCounters,
        out: &mut impl Sink<ArpRecord>,
    ) {
        self.now = self.now.max(ts);
        self.expire(c, out);
        let eth_mismatch = pkt.src_mac.is_some_and(|m| m != arp.sender_mac);
        if eth_mismatch {
            c.eth_mismatches += 1;
        }
        let conflict = self.claim(ts, pkt.vlan, arp, c);
        let msg = Message {
            ts,
            pkt,
            arp,
            eth_mismatch,
            conflict,
        };
        match arp.operation {
            ArpOperation::Request => self.on_request(msg, c, out),
            ArpOperation::Reply => self.on_reply(msg, c, out),
            ArpOperation::Other(_) => {
                c.other_operations += 1;
                out.push(msg.record(arp.sender_ip, arp.sender_mac, arp.target_ip));
            }
        }
    }

    /// End of input: every request still waiting is logged with `no_resp`, oldest first.
    pub fn on_end(&mut self, c: &mut ArpCounters, out: &mut impl Sink<ArpRecord>) {
        while let Some((_, p)) = self.pending.pop_oldest() {
            c.unanswered += 1;
            out.push(unanswered(p));
        }
    }

    /// Logs the requests whose reply is overdue at `self.now`.
    fn expire(&mut self, c: &mut ArpCounters, out: &mut impl Sink<ArpRecord>) {
        let due = |p: &Pending, now: Timestamp| now.since(p.record.ts) > REQUEST_TIMEOUT;
        while self.pending.oldest().is_some_and(|(_, p)| due(p, self.now)) {
            if let Some((_, p)) = self.pending.pop_oldest() {
                c.unanswered += 1;
                out.push(unanswered(p));
            }
        }
    }

    /// The sender's claim on its own address, checked against the bindings.
    fn claim(
        &mut self,
        ts: Timestamp,
        vlan: Option<u16>,
        arp: &ArpPacket,
        c: &mut ArpCounters,
    ) -> Option<ArpConflict> {
        if arp.sender_ip.is_unspecified() {
            return None;
        }
        let mac = arp.sender_mac;
        if mac == MacAddr::default() || mac.0.first().is_some_and(|b| b & 1 == 1) {
            c.bad_sender_mac += 1;
            return None;
        }
        let mut evicted = false;
        let claim = self
            .bindings
            .claim(vlan, arp.sender_ip, mac, ts, &mut evicted);
        if evicted {
            c.bindings_evicted += 1;
        }
        match claim {
            Claim::Consistent => None,
            Claim::Replaced => {
                c.bindings_replaced += 1;
                None
            }
            Claim::Conflict { previous } => {
                c.conflicts += 1;
                Some(ArpConflict {
                    ip: arp.sender_ip,
                    previous_mac: previous,
                    mac,
                })
            }
        }
    }

    fn on_request(
        &mut self,
        msg: Message<'_>,
        c: &mut ArpCounters,
        out: &mut impl Sink<ArpRecord>,
    ) {
        c.requests += 1;
        let arp = msg.arp;
        let probe = arp.sender_ip.is_unspecified();
        if !probe && arp.sender_ip == arp.target_ip {
            // Announcement: the sender binds its own address; no reply expected.
            c.gratuitous += 1;
            let mut r = msg.record(arp.sender_ip, arp.sender_mac, arp.target_ip);
            r.gratuitous = true;
            r.is_at = Some(arp.sender_mac);
            out.push(r);
            return;
        }
        if probe {
            c.gratuitous += 1;
            c.probes += 1;
        }
        let key = (msg.pkt.vlan, arp.sender_ip, arp.target_ip);
        if let Some(p) = self.pending.get_mut(&key) {
            c.repeated_requests += 1;
            p.record.requests = p.record.requests.saturating_add(1);
            p.record.eth_mismatch |= msg.eth_mismatch;
            p.record.conflict = p.record.conflict.or(msg.conflict);
            p.last_request = p.last_request.max(msg.ts);
            return;
        }
        let mut record = msg.record(arp.sender_ip, arp.sender_mac, arp.target_ip);
        record.gratuitous = probe;
        record.probe = probe;
        record.no_resp = Some(true);
        let pending = Pending {
            record,
            last_request: msg.ts,
        };
        if let Some((_, old)) = self.pending.insert(key, pending) {
            c.pending_evicted += 1;
            let mut r = old.record;
            r.no_resp = None;
            out.push(r);
        }
    }

    fn on_reply(&mut self, msg: Message<'_>, c: &mut ArpCounters, out: &mut impl Sink<ArpRecord>) {
        c.replies += 1;
        let arp = msg.arp;
        let key = (msg.pkt.vlan, arp.target_ip, arp.sender_ip);
        if let Some(p) = self.pending.remove(&key) {
            c.answered += 1;
            let mut r = p.record;
            r.resp_h = Some(arp.sender_ip);
            r.is_at = Some(arp.sender_mac);
            r.rtt = Some(msg.ts.since(p.last_request));
            r.no_resp = Some(false);
            r.eth_mismatch |= msg.eth_mismatch;
            r.conflict = r.conflict.or(msg.conflict);
            out.push(r);
            return;
        }
        c.unsolicited += 1;
        let mut r = msg.record(arp.target_ip, arp.target_mac, arp.sender_ip);
        r.resp_h = Some(arp.sender_ip);
        r.is_at = Some(arp.sender_mac);
        r.requests = 0;
        r.unsolicited = true;
        if arp.sender_ip == arp.target_ip {
            c.gratuitous += 1;
            r.gratuitous = true;
        }
        out.push(r);
    }
}

/// One ARP message with the facts established before its operation is handled.
struct Message<'p> {
    ts: Timestamp,
    pkt: &'p Decoded<'p>,
    arp: &'p ArpPacket,
    eth_mismatch: bool,
    conflict: Option<ArpConflict>,
}

impl Message<'_> {
    /// A record opened by this message, with the asker and the address asked about.
    fn record(&self, orig_h: Ipv4Addr, orig_mac: MacAddr, who_has: Ipv4Addr) -> ArpRecord {
        ArpRecord {
            ts: self.ts,
            src_mac: self.pkt.src_mac,
            dst_mac: self.pkt.dst_mac,
            vlan: self.pkt.vlan,
            operation: self.arp.operation,
            orig_h,
            orig_mac,
            resp_h: None,
            who_has,
            is_at: None,
            requests: 1,
            rtt: None,
            gratuitous: false,
            probe: false,
            unsolicited: false,
            no_resp: None,
            eth_mismatch: self.eth_mismatch,
            conflict: self.conflict,
        }
    }
}

fn unanswered(p: Pending) -> ArpRecord {
    let mut r = p.record;
    r.no_resp = Some(true);
    r
}
