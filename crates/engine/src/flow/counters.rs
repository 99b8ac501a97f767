//! Counters of the flow table: packets it skipped and why, and how each
//! connection left the table.
#![deny(clippy::indexing_slicing)]

use crate::counters::Counters;

/// What the flow table saw and refused, and why connections were written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FlowCounters {
    /// IP packets accounted to a connection.
    pub packets: u64,
    /// Connections created.
    pub created: u64,
    /// Written after the protocol's inactivity timeout.
    pub expired_inactive: u64,
    /// TCP attempts (SYN without reply) written after `tcp_attempt_delay`.
    pub expired_attempt: u64,
    /// TCP connections written after their close or reset delay.
    pub closed: u64,
    /// Replaced by a new connection on the same 5-tuple (new SYN).
    pub reused: u64,
    /// Evicted because the table was full.
    pub evicted: u64,
    /// Written at end of input.
    pub flushed: u64,
    /// Packets without an IP layer (ARP, unknown ethertype, undecodable).
    pub non_ip: u64,
    /// Non-first IP fragments (no transport header to key on).
    pub fragments_skipped: u64,
    /// IP packets whose transport header was missing or malformed.
    pub malformed_transport: u64,
    /// History letters dropped because the inline history was full.
    pub history_truncated: u64,
    /// Most connections tracked at once.
    pub active_peak: u64,
}

impl Counters for FlowCounters {
    fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
        f("flow.packets", self.packets);
        f("flow.created", self.created);
        f("flow.expired_inactive", self.expired_inactive);
        f("flow.expired_attempt", self.expired_attempt);
        f("flow.closed", self.closed);
        f("flow.reused", self.reused);
        f("flow.evicted", self.evicted);
        f("flow.flushed", self.flushed);
        f("flow.non_ip", self.non_ip);
        f("flow.fragments_skipped", self.fragments_skipped);
        f("flow.malformed_transport", self.malformed_transport);
        f("flow.history_truncated", self.history_truncated);
        f("flow.active_peak", self.active_peak);
    }
}
