//! The finished-connection record: one line of Zeek's conn.log.

use std::net::IpAddr;

use serde::Serialize;

use crate::decode::MacAddr;
use crate::log::{Field, LogRecord, Value};
use crate::time::{Duration, Timestamp};

/// Transport protocol of a connection, as Zeek names it in `proto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    /// Any other IP protocol (Zeek logs these as `unknown_transport`).
    #[serde(rename = "unknown_transport")]
    Other,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Other => "unknown_transport",
        }
    }
}

/// Zeek's `conn_state`, with names that say what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnState {
    /// S0: connection attempt seen, no reply.
    AttemptNoReply,
    /// S1: established, not terminated.
    EstablishedOpen,
    /// SF: normal establishment and termination.
    Finished,
    /// REJ: connection attempt rejected.
    Rejected,
    /// S2: established, originator closed, nothing from responder after.
    OrigClosedNoReply,
    /// S3: established, responder closed, nothing from originator after.
    RespClosedNoReply,
    /// RSTO: established, originator aborted with RST.
    OrigReset,
    /// RSTR: responder sent a RST.
    RespReset,
    /// RSTOS0: originator sent SYN then RST; no SYN-ACK seen.
    OrigSynThenReset,
    /// RSTRH: responder sent SYN-ACK then RST; no SYN from originator seen.
    RespSynAckThenReset,
    /// SH: originator sent SYN then FIN; no SYN-ACK seen (half-open).
    OrigSynThenFin,
    /// SHR: responder sent SYN-ACK then FIN; no SYN from originator seen.
    RespSynAckThenFin,
    /// OTH: no SYN seen, midstream traffic.
    Other,
}

impl ConnState {
    /// Zeek's short code.
    pub fn code(self) -> &'static str {
        match self {
            ConnState::AttemptNoReply => "S0",
            ConnState::EstablishedOpen => "S1",
            ConnState::Finished => "SF",
            ConnState::Rejected => "REJ",
            ConnState::OrigClosedNoReply => "S2",
            ConnState::RespClosedNoReply => "S3",
            ConnState::OrigReset => "RSTO",
            ConnState::RespReset => "RSTR",
            ConnState::OrigSynThenReset => "RSTOS0",
            ConnState::RespSynAckThenReset => "RSTRH",
            ConnState::OrigSynThenFin => "SH",
            ConnState::RespSynAckThenFin => "SHR",
            ConnState::Other => "OTH",
        }
    }
}

impl Serialize for ConnState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// Why a connection record was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// Both sides closed (FIN/RST) and the close delay passed.
    Closed,
    /// No packet within the protocol's inactivity timeout.
    InactivityTimeout,
    /// A TCP SYN (or SYN-ACK) the responder never answered, written after
    /// `tcp_attempt_delay`.
    AttemptTimeout,
    /// A new SYN on the same 5-tuple started a new connection.
    Reused,
    /// The flow table was full and this was the flow closest to expiry.
    Evicted,
    /// End of input.
    EndOfInput,
}

/// One connection as Zeek's conn.log describes it. Optional fields are `None`
/// where Zeek would print `-`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnRecord {
    /// Time of the first packet.
    pub ts: Timestamp,
    /// Deterministic unique id (`C` + base62), stable for a given capture.
    pub uid: String,
    /// The table's id of this connection (as in [`super::PacketContext`]); not logged.
    pub flow_id: u64,
    pub orig_h: IpAddr,
    /// Originator port (ICMP: the message type).
    pub orig_p: u16,
    pub resp_h: IpAddr,
    /// Responder port (ICMP: the counterpart type / code as Zeek does).
    pub resp_p: u16,
    pub proto: Proto,
    /// IP protocol number from the header (Zeek `ip_proto`).
    pub ip_proto: u8,
    /// Application protocols recognised on the connection (filled by analyzers).
    pub service: Vec<&'static str>,
    /// Last packet time minus first; `None` when zero, like Zeek.
    pub duration: Option<Duration>,
    /// Payload bytes sent by the originator (TCP: from sequence numbers).
    pub orig_bytes: Option<u64>,
    pub resp_bytes: Option<u64>,
    pub conn_state: ConnState,
    pub local_orig: Option<bool>,
    pub local_resp: Option<bool>,
    /// Bytes missing from content gaps (TCP).
    pub missed_bytes: u64,
    /// Zeek history letters (originator upper case, responder lower case).
    pub history: String,
    pub orig_pkts: u64,
    /// IP-level bytes (IP header length fields) from the originator.
    pub orig_ip_bytes: u64,
    pub resp_pkts: u64,
    pub resp_ip_bytes: u64,
    /// gatewatch extension: frame bytes on the wire from the originator.
    pub orig_l2_bytes: u64,
    /// gatewatch extension: frame bytes on the wire from the responder.
    pub resp_l2_bytes: u64,
    /// MAC of the originator as seen on the first packet (Zeek mac-logging).
    pub orig_l2_addr: Option<MacAddr>,
    pub resp_l2_addr: Option<MacAddr>,
    /// Outer and inner VLAN (Zeek vlan-logging).
    pub vlan: Option<u16>,
    pub inner_vlan: Option<u16>,
    /// Why the record was written (not a Zeek field).
    pub close_reason: CloseReason,
}

/// conn.log columns: Zeek's, then the mac-logging and vlan-logging policy
/// fields, then gatewatch's `orig_l2_bytes`/`resp_l2_bytes`.
pub const CONN_FIELDS: [Field; 27] = [
    Field::new("ts", "time"),
    Field::new("uid", "string"),
    Field::new("id.orig_h", "addr"),
    Field::new("id.orig_p", "port"),
    Field::new("id.resp_h", "addr"),
    Field::new("id.resp_p", "port"),
    Field::new("proto", "enum"),
    Field::new("service", "string"),
    Field::new("duration", "interval"),
    Field::new("orig_bytes", "count"),
    Field::new("resp_bytes", "count"),
    Field::new("conn_state", "string"),
    Field::new("local_orig", "bool"),
    Field::new("local_resp", "bool"),
    Field::new("missed_bytes", "count"),
    Field::new("history", "string"),
    Field::new("orig_pkts", "count"),
    Field::new("orig_ip_bytes", "count"),
    Field::new("resp_pkts", "count"),
    Field::new("resp_ip_bytes", "count"),
    Field::new("tunnel_parents", "set[string]"),
    Field::new("vlan", "int"),
    Field::new("inner_vlan", "int"),
    Field::new("orig_l2_addr", "string"),
    Field::new("resp_l2_addr", "string"),
    Field::new("orig_l2_bytes", "count"),
    Field::new("resp_l2_bytes", "count"),
];

impl LogRecord for ConnRecord {
    fn path(&self) -> &'static str {
        "conn"
    }

    fn fields(&self) -> &'static [Field] {
        &CONN_FIELDS
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        f(Value::Time(self.ts));
        f(Value::Str(&self.uid));
        f(Value::Addr(self.orig_h));
        f(Value::Port(self.orig_p));
        f(Value::Addr(self.resp_h));
        f(Value::Port(self.resp_p));
        f(Value::Str(self.proto.as_str()));
        if self.service.is_empty() {
            f(Value::Unset);
        } else {
            f(Value::Str(&self.service.join(",")));
        }
        f(self.duration.map_or(Value::Unset, Value::Interval));
        f(Value::opt_count(self.orig_bytes));
        f(Value::opt_count(self.resp_bytes));
        f(Value::Str(self.conn_state.code()));
        f(Value::opt_bool(self.local_orig));
        f(Value::opt_bool(self.local_resp));
        f(Value::Count(self.missed_bytes));
        f(if self.history.is_empty() {
            Value::Unset
        } else {
            Value::Str(&self.history)
        });
        f(Value::Count(self.orig_pkts));
        f(Value::Count(self.orig_ip_bytes));
        f(Value::Count(self.resp_pkts));
        f(Value::Count(self.resp_ip_bytes));
        f(Value::Unset);
        f(self.vlan.map_or(Value::Unset, |v| Value::Int(i64::from(v))));
        f(self
            .inner_vlan
            .map_or(Value::Unset, |v| Value::Int(i64::from(v))));
        let mac = |m: Option<MacAddr>, f: &mut dyn FnMut(Value<'_>)| match m {
            Some(m) => f(Value::Str(&m.to_string())),
            None => f(Value::Unset),
        };
        mac(self.orig_l2_addr, f);
        mac(self.resp_l2_addr, f);
        f(Value::Count(self.orig_l2_bytes));
        f(Value::Count(self.resp_l2_bytes));
    }
}
