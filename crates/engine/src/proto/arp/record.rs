//! The `arp` log record: one [`ArpRecord`] per ARP exchange — a request with
//! its reply, a request left unanswered, an unsolicited reply, or an
//! announcement.
//!
//! Zeek ships no arp.log of its own; the columns follow the ARP logging
//! policy scripts written for it (`src_mac`, `dst_mac`, `orig_h`, `resp_h`,
//! `who_has`, `is_at`, `unsolicited`, `no_resp`). gatewatch's columns come
//! after them: `vlan`, `operation`, `orig_mac`, `requests`, `rtt`,
//! `gratuitous`, `probe`, `eth_mismatch`, `conflict`, `conflict_h`,
//! `previous_mac`. They state facts; whether a conflict is spoofing is for
//! the detectors to decide.
//!
//! In: the addresses of the exchange's messages. Out: typed log values.

use std::net::{IpAddr, Ipv4Addr};

use crate::decode::{ArpOperation, MacAddr};
use crate::log::{Field, LogRecord, Value};
use crate::time::{Duration, Timestamp};

/// An address claimed by a different MAC than the fresh binding held for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpConflict {
    /// The address whose binding changed.
    pub ip: Ipv4Addr,
    /// The MAC it was bound to before this exchange.
    pub previous_mac: MacAddr,
    /// The MAC that claimed it in this exchange.
    pub mac: MacAddr,
}

/// One line of arp.log.
///
/// `orig` is the side that asked and `resp` the side that answered: for a
/// request, its sender and the replier; for a reply without a request, the
/// reply's addressee and its sender. `who_has`/`is_at` are the binding the
/// exchange established (an announcement binds its own sender).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpRecord {
    /// Time of the exchange's first message.
    pub ts: Timestamp,
    /// Ethernet source of the first message (unset on links without one).
    pub src_mac: Option<MacAddr>,
    /// Ethernet destination of the first message.
    pub dst_mac: Option<MacAddr>,
    /// Outer 802.1Q VLAN id.
    pub vlan: Option<u16>,
    /// Opcode of the first message.
    pub operation: ArpOperation,
    /// Asker's address (0.0.0.0 for an RFC 5227 probe).
    pub orig_h: Ipv4Addr,
    /// Asker's hardware address as stated in ARP.
    pub orig_mac: MacAddr,
    /// Address of the side that answered.
    pub resp_h: Option<Ipv4Addr>,
    /// The address being resolved or announced.
    pub who_has: Ipv4Addr,
    /// The MAC given for `who_has` (unset while nobody answered).
    pub is_at: Option<MacAddr>,
    /// Requests merged into this exchange (retransmissions while waiting);
    /// 0 for a reply without a request.
    pub requests: u32,
    /// From the last request to its reply.
    pub rtt: Option<Duration>,
    /// Sender address == target address (announcement), or an RFC 5227
    /// probe (sender 0.0.0.0).
    pub gratuitous: bool,
    /// RFC 5227 probe: a request with sender address 0.0.0.0.
    pub probe: bool,
    /// A reply that answers no pending request.
    pub unsolicited: bool,
    /// For requests waiting for a reply: whether none came before the
    /// timeout or the end of the capture. Unset for replies and
    /// announcements, and for requests pushed out of a full pending table.
    pub no_resp: Option<bool>,
    /// Some message of the exchange had an Ethernet source other than its ARP sender MAC.
    pub eth_mismatch: bool,
    /// The first binding conflict a message of the exchange caused.
    pub conflict: Option<ArpConflict>,
}

static FIELDS: [Field; 20] = [
    Field::new("ts", "time"),
    Field::new("src_mac", "string"),
    Field::new("dst_mac", "string"),
    Field::new("orig_h", "addr"),
    Field::new("resp_h", "addr"),
    Field::new("who_has", "addr"),
    Field::new("is_at", "string"),
    Field::new("unsolicited", "bool"),
    Field::new("no_resp", "bool"),
    Field::new("vlan", "count"),
    Field::new("operation", "string"),
    Field::new("orig_mac", "string"),
    Field::new("requests", "count"),
    Field::new("rtt", "interval"),
    Field::new("gratuitous", "bool"),
    Field::new("probe", "bool"),
    Field::new("eth_mismatch", "bool"),
    Field::new("conflict", "bool"),
    Field::new("conflict_h", "addr"),
    Field::new("previous_mac", "string"),
];

/// The log name of an ARP opcode (RFC 826, RFC 903 RARP, RFC 2390 InARP).
pub fn operation_name(op: ArpOperation) -> &'static str {
    match op {
        ArpOperation::Request => "request",
        ArpOperation::Reply => "reply",
        ArpOperation::Other(3) => "rarp_request",
        ArpOperation::Other(4) => "rarp_reply",
        ArpOperation::Other(8) => "inarp_request",
        ArpOperation::Other(9) => "inarp_reply",
        ArpOperation::Other(10) => "arp_nak",
        ArpOperation::Other(_) => "unknown",
    }
}

fn visit_mac(m: Option<MacAddr>, f: &mut dyn FnMut(Value<'_>)) {
    match m {
        Some(m) => f(Value::Str(&m.to_string())),
        None => f(Value::Unset),
    }
}

impl LogRecord for ArpRecord {
    fn path(&self) -> &'static str {
        "arp"
    }

    fn fields(&self) -> &'static [Field] {
        &FIELDS
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        let v4 = |ip: Ipv4Addr| Value::Addr(IpAddr::V4(ip));
        f(Value::Time(self.ts));
        visit_mac(self.src_mac, f);
        visit_mac(self.dst_mac, f);
        f(v4(self.orig_h));
        f(self.resp_h.map_or(Value::Unset, v4));
        f(v4(self.who_has));
        visit_mac(self.is_at, f);
        f(Value::Bool(self.unsolicited));
        f(Value::opt_bool(self.no_resp));
        f(Value::opt_count(self.vlan.map(u64::from)));
        f(Value::Str(operation_name(self.operation)));
        visit_mac(Some(self.orig_mac), f);
        f(Value::Count(u64::from(self.requests)));
        f(self.rtt.map_or(Value::Unset, Value::Interval));
        f(Value::Bool(self.gratuitous));
        f(Value::Bool(self.probe));
        f(Value::Bool(self.eth_mismatch));
        f(Value::Bool(self.conflict.is_some()));
        f(self.conflict.map_or(Value::Unset, |c| v4(c.ip)));
        visit_mac(self.conflict.map(|c| c.previous_mac), f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_fields() {
        let r = ArpRecord {
            ts: Timestamp::from_secs_nanos(1, 0),
            src_mac: Some(MacAddr([2, 0, 0, 0, 0, 1])),
            dst_mac: None,
            vlan: Some(5),
            operation: ArpOperation::Other(9),
            orig_h: Ipv4Addr::new(10, 0, 0, 1),
            orig_mac: MacAddr([2, 0, 0, 0, 0, 1]),
            resp_h: None,
            who_has: Ipv4Addr::new(10, 0, 0, 2),
            is_at: None,
            requests: 1,
            rtt: None,
            gratuitous: false,
            probe: false,
            unsolicited: false,
            no_resp: None,
            eth_mismatch: false,
            conflict: Some(ArpConflict {
                ip: Ipv4Addr::new(10, 0, 0, 1),
                previous_mac: MacAddr([2, 0, 0, 0, 0, 9]),
                mac: MacAddr([2, 0, 0, 0, 0, 1]),
            }),
        };
        let mut vals = Vec::new();
        r.visit_values(&mut |v| vals.push(format!("{v:?}")));
        assert_eq!(vals.len(), r.fields().len());
        assert_eq!(vals[10], "Str(\"inarp_reply\")");
        assert_eq!(vals[19], "Str(\"02:00:00:00:00:09\")");
    }
}
