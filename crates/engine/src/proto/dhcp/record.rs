//! The DHCP log records: one [`Dhcpv4Record`] (log `dhcp`) per DHCPv4 message
//! and one [`Dhcpv6Record`] (log `dhcpv6`, gatewatch only) per DHCPv6
//! message, wrapped in [`DhcpRecord`] so one analyzer feeds one sink.
//!
//! Zeek's dhcp.log is one line per lease *transaction*: it joins every
//! message with the same xid across flows (client broadcasts and server
//! replies are different flows) for a few seconds. gatewatch sees one flow at
//! a time and logs one line per *message*, with the standard `uid`/`id.*`
//! columns in place of Zeek's `uids` set; `msg_types` and `duration` cover
//! the messages of the same xid seen so far in this flow. Joining flows into
//! leases is the job of the identity stage. Options are logged as each
//! message carries them (Zeek keeps host name, FQDN and requested address
//! from client messages only), and a client's role comes from the BOOTP op
//! field rather than from the flow direction.
//!
//! In: parsed messages. Out: owned records; strings cut to [`MAX_TEXT`].
#![deny(clippy::indexing_slicing)]

use std::net::{IpAddr, Ipv4Addr};

use super::parser::DhcpMessage;
use super::v6::Dhcpv6Message;
use crate::log::{ConnId, Field, LogRecord, Value, CONN_ID_FIELDS};
use crate::proto::bounded_string;
use crate::time::{Duration, Timestamp};

/// Bytes kept of any text option (host name, vendor class, messages, URLs).
pub const MAX_TEXT: usize = 255;
/// Bytes of a client identifier or DUID kept (printed as hex).
pub const MAX_ID_BYTES: usize = 64;

/// A record of the DHCP analyzer: a DHCPv4 or a DHCPv6 message.
#[derive(Debug, Clone, PartialEq)]
pub enum DhcpRecord {
    V4(Box<Dhcpv4Record>),
    V6(Box<Dhcpv6Record>),
}

impl LogRecord for DhcpRecord {
    fn path(&self) -> &'static str {
        match self {
            DhcpRecord::V4(r) => r.path(),
            DhcpRecord::V6(r) => r.path(),
        }
    }

    fn fields(&self) -> &'static [Field] {
        match self {
            DhcpRecord::V4(r) => r.fields(),
            DhcpRecord::V6(r) => r.fields(),
        }
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        match self {
            DhcpRecord::V4(r) => r.visit_values(f),
            DhcpRecord::V6(r) => r.visit_values(f),
        }
    }
}

/// One DHCPv4 message. Zeek's dhcp.log columns first (`uids` replaced by the
/// conn id columns), then gatewatch's: `msg_type` … `relay_addr`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dhcpv4Record {
    pub ts: Timestamp,
    pub conn: ConnId,
    /// Client address: the sender of a client message unless 0.0.0.0 or
    /// broadcast; for a server message, the address it assigns.
    pub client_addr: Option<Ipv4Addr>,
    /// Sender of a server message that hands out an address.
    pub server_addr: Option<Ipv4Addr>,
    /// Client MAC: client identifier (61) of hardware type 1, else chaddr.
    pub mac: Option<String>,
    pub host_name: Option<String>,
    pub client_fqdn: Option<String>,
    pub domain: Option<String>,
    pub requested_addr: Option<Ipv4Addr>,
    /// yiaddr of a server message, when not 0.0.0.0.
    pub assigned_addr: Option<Ipv4Addr>,
    pub lease_time: Option<u32>,
    pub client_message: Option<String>,
    pub server_message: Option<String>,
    /// Message types of this xid seen so far in this flow, this one last.
    pub msg_types: Vec<String>,
    /// Time since the first message of this xid in this flow.
    pub duration: Duration,
    /// This message's type (`DISCOVER`, … as Zeek names them).
    pub msg_type: String,
    pub xid: u32,
    /// Parameter request list (55), in order: the device fingerprint.
    pub param_list: Vec<u64>,
    /// Every option code, in order (pad and end excluded).
    pub options: Vec<u64>,
    pub vendor_class: Option<String>,
    /// Client identifier (61) as lowercase hex.
    pub client_id: Option<String>,
    pub server_id: Option<Ipv4Addr>,
    /// First router (3).
    pub router: Option<Ipv4Addr>,
    pub dns_servers: Vec<String>,
    pub max_msg_size: Option<u16>,
    pub mud_url: Option<String>,
    /// Relay hops from the header.
    pub hops: u8,
    /// giaddr: the relay agent that forwarded the message, when not 0.0.0.0.
    pub relay_addr: Option<Ipv4Addr>,
}

static V4_FIELDS: [Field; 32] = [
    CONN_ID_FIELDS[0],
    CONN_ID_FIELDS[1],
    CONN_ID_FIELDS[2],
    CONN_ID_FIELDS[3],
    CONN_ID_FIELDS[4],
    CONN_ID_FIELDS[5],
    Field::new("client_addr", "addr"),
    Field::new("server_addr", "addr"),
    Field::new("mac", "string"),
    Field::new("host_name", "string"),
    Field::new("client_fqdn", "string"),
    Field::new("domain", "string"),
    Field::new("requested_addr", "addr"),
    Field::new("assigned_addr", "addr"),
    Field::new("lease_time", "interval"),
    Field::new("client_message", "string"),
    Field::new("server_message", "string"),
    Field::new("msg_types", "vector[string]"),
    Field::new("duration", "interval"),
    Field::new("msg_type", "string"),
    Field::new("xid", "count"),
    Field::new("param_list", "vector[count]"),
    Field::new("options", "vector[count]"),
    Field::new("vendor_class", "string"),
    Field::new("client_id", "string"),
    Field::new("server_id", "addr"),
    Field::new("router", "addr"),
    Field::new("dns_servers", "vector[string]"),
    Field::new("max_msg_size", "count"),
    Field::new("mud_url", "string"),
    Field::new("hops", "count"),
    Field::new("relay_addr", "addr"),
];

fn opt_addr(a: Option<Ipv4Addr>) -> Value<'static> {
    a.map_or(Value::Unset, |a| Value::Addr(IpAddr::V4(a)))
}

impl LogRecord for Dhcpv4Record {
    fn path(&self) -> &'static str {
        "dhcp"
    }

    fn fields(&self) -> &'static [Field] {
        &V4_FIELDS
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        self.conn.visit(self.ts, f);
        f(opt_addr(self.client_addr));
        f(opt_addr(self.server_addr));
        f(Value::opt_str(self.mac.as_deref()));
        f(Value::opt_str(self.host_name.as_deref()));
        f(Value::opt_str(self.client_fqdn.as_deref()));
        f(Value::opt_str(self.domain.as_deref()));
        f(opt_addr(self.requested_addr));
        f(opt_addr(self.assigned_addr));
        f(self.lease_time.map_or(Value::Unset, |s| {
            Value::Interval(Duration::from_secs(i64::from(s)))
        }));
        f(Value::opt_str(self.client_message.as_deref()));
        f(Value::opt_str(self.server_message.as_deref()));
        f(Value::StrList(&self.msg_types));
        f(Value::Interval(self.duration));
        f(Value::Str(&self.msg_type));
        f(Value::Count(u64::from(self.xid)));
        f(Value::CountList(&self.param_list));
        f(Value::CountList(&self.options));
        f(Value::opt_str(self.vendor_class.as_deref()));
        f(Value::opt_str(self.client_id.as_deref()));
        f(opt_addr(self.server_id));
        f(opt_addr(self.router));
        f(Value::StrList(&self.dns_servers));
        f(Value::opt_count(self.max_msg_size.map(u64::from)));
        f(Value::opt_str(self.mud_url.as_deref()));
        f(Value::Count(u64::from(self.hops)));
        f(opt_addr(self.relay_addr));
    }
}

impl Dhcpv4Record {
    /// Builds the record of `msg`, sent by the originator when `is_orig`;
    /// `msg_types` and `duration` come from the flow's transaction table.
    pub fn from_message(
        conn: &ConnId,
        ts: Timestamp,
        is_orig: bool,
        msg: &DhcpMessage<'_>,
        msg_types: Vec<String>,
        duration: Duration,
    ) -> Self {
        let h = &msg.header;
        let o = &msg.options;
        let sender = match if is_orig { conn.orig_h } else { conn.resp_h } {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        };
        let nonzero = |a: Ipv4Addr| (!a.is_unspecified()).then_some(a);
        let is_client = h.is_request();
        let assigned_addr = if is_client { None } else { nonzero(h.yiaddr) };
        let (client_addr, server_addr) = if is_client {
            let usable = sender.filter(|a| !a.is_unspecified() && !a.is_broadcast());
            (usable, None)
        } else {
            (assigned_addr, assigned_addr.and(sender))
        };
        let text = |v: Option<&[u8]>| v.map(|b| bounded_string(b, MAX_TEXT));
        let (client_message, server_message) = if is_client {
            (text(o.message), None)
        } else {
            (None, text(o.message))
        };
        let mac = match o.client_id {
            Some([1, hw @ ..]) if is_client && hw.len() == 6 => Some(colon_hex(hw)),
            _ if h.hlen > 0 => Some(colon_hex(h.hardware_address())),
            _ => None,
        };
        Dhcpv4Record {
            ts,
            conn: conn.clone(),
            client_addr,
            server_addr,
            mac,
            host_name: text(o.host_name),
            client_fqdn: o.client_fqdn.and_then(v4_fqdn),
            domain: text(o.domain),
            requested_addr: o.requested_addr,
            assigned_addr,
            lease_time: o.lease_time,
            client_message,
            server_message,
            msg_types,
            duration,
            msg_type: message_type_name(o.msg_type),
            xid: h.xid,
            param_list: o
                .param_list
                .as_slice()
                .iter()
                .map(|&c| u64::from(c))
                .collect(),
            options: o.codes.as_slice().iter().map(|&c| u64::from(c)).collect(),
            vendor_class: text(o.vendor_class),
            client_id: o.client_id.map(hex),
            server_id: o.server_id,
            router: o.routers.as_slice().first().map(|&a| Ipv4Addr::from(a)),
            dns_servers: (o.dns_servers.as_slice().iter())
                .map(|&a| Ipv4Addr::from(a).to_string())
                .collect(),
            max_msg_size: o.max_msg_size,
            mud_url: text(o.mud_url),
            hops: h.hops,
            relay_addr: nonzero(h.giaddr),
        }
    }
}

/// Zeek's name of a DHCP message type (`DHCP::message_types`); a message
/// without option 53 is plain BOOTP.
pub fn message_type_name(code: Option<u8>) -> String {
    let name = match code {
        None => "BOOTP",
        Some(1) => "DISCOVER",
        Some(2) => "OFFER",
        Some(3) => "REQUEST",
        Some(4) => "DECLINE",
        Some(5) => "ACK",
        Some(6) => "NAK",
        Some(7) => "RELEASE",
        Some(8) => "INFORM",
        Some(9) => "FORCERENEW",
        Some(10) => "LEASEQUERY",
        Some(11) => "LEASEUNASSIGNED",
        Some(12) => "LEASEUNKNOWN",
        Some(13) => "LEASEACTIVE",
        Some(14) => "BULKLEASEQUERY",
        Some(15) => "LEASEQUERYDONE",
        Some(16) => "ACTIVELEASEQUERY",
        Some(17) => "LEASEQUERYSTATUS",
        Some(18) => "TLS",
        Some(n) => return format!("unknown-message-type-{n}"),
    };
    name.to_string()
}

/// The DHCPv6 message type names of RFC 8415 and its extensions.
pub fn v6_message_type_name(code: u8) -> String {
    let name = match code {
        1 => "SOLICIT",
        2 => "ADVERTISE",
        3 => "REQUEST",
        4 => "CONFIRM",
        5 => "RENEW",
        6 => "REBIND",
        7 => "REPLY",
        8 => "RELEASE",
        9 => "DECLINE",
        10 => "RECONFIGURE",
        11 => "INFORMATION-REQUEST",
        12 => "RELAY-FORW",
        13 => "RELAY-REPL",
        14 => "LEASEQUERY",
        15 => "LEASEQUERY-REPLY",
        16 => "LEASEQUERY-DONE",
        17 => "LEASEQUERY-DATA",
        n => return format!("unknown-message-type-{n}"),
    };
    name.to_string()
}

/// Lowercase hex of at most [`MAX_ID_BYTES`] bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len().min(MAX_ID_BYTES) * 2);
    for b in bytes.iter().take(MAX_ID_BYTES) {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `aa:bb:cc…` of at most 16 bytes (a hardware address).
pub fn colon_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(48);
    for (i, b) in bytes.iter().take(16).enumerate() {
        let sep = if i == 0 { "" } else { ":" };
        let _ = write!(s, "{sep}{b:02x}");
    }
    s
}

/// Option 81 (RFC 4702): flags, two deprecated rcodes, then the name — in
/// DNS wire format when the E flag (0x04) is set, else ASCII. Zeek logs the
/// raw bytes; gatewatch decodes the wire format to a dotted name.
fn v4_fqdn(value: &[u8]) -> Option<String> {
    let (&flags, rest) = value.split_first()?;
    let name = rest.get(2..)?;
    if flags & 0x04 != 0 {
        Some(wire_name(name))
    } else {
        Some(bounded_string(name, MAX_TEXT))
    }
}

/// Decodes a DNS wire-format name (no compression) into a dotted name of at
/// most [`MAX_TEXT`] bytes; stops at the root label, at a label that does not
/// fit, or at a compression pointer.
pub fn wire_name(mut data: &[u8]) -> String {
    let mut out = String::new();
    while let Some((&len, rest)) = data.split_first() {
        let len = usize::from(len);
        if len == 0 || len > 63 {
            break;
        }
        let Some((label, after)) = rest.split_at_checked(len) else {
            break;
        };
        if out.len() + len + 1 > MAX_TEXT {
            break;
        }
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&String::from_utf8_lossy(label));
        data = after;
    }
    out
}

/// One DHCPv6 message (log `dhcpv6`; Zeek has no DHCPv6 log).
#[derive(Debug, Clone, PartialEq)]
pub struct Dhcpv6Record {
    pub ts: Timestamp,
    pub conn: ConnId,
    /// Innermost message type (`SOLICIT`, …).
    pub msg_type: String,
    pub trans_id: u32,
    /// Client DUID (1) as hex.
    pub client_duid: Option<String>,
    /// Server DUID (2) as hex.
    pub server_duid: Option<String>,
    /// MAC from a client DUID-LLT/DUID-LL of hardware type 1.
    pub mac: Option<String>,
    /// Client FQDN (39), decoded to a dotted name.
    pub fqdn: Option<String>,
    /// Option request list (6), in order.
    pub oro: Vec<u64>,
    /// Vendor class (16) enterprise number and first data item.
    pub vendor_enterprise: Option<u32>,
    pub vendor_class: Option<String>,
    /// Addresses from IA_NA / IA_TA.
    pub ia_addrs: Vec<String>,
    /// Relay levels unwrapped to reach the message.
    pub relay_depth: u64,
}

static V6_FIELDS: [Field; 17] = [
    CONN_ID_FIELDS[0],
    CONN_ID_FIELDS[1],
    CONN_ID_FIELDS[2],
    CONN_ID_FIELDS[3],
    CONN_ID_FIELDS[4],
    CONN_ID_FIELDS[5],
    Field::new("msg_type", "string"),
    Field::new("trans_id", "count"),
    Field::new("client_duid", "string"),
    Field::new("server_duid", "string"),
    Field::new("mac", "string"),
    Field::new("fqdn", "string"),
    Field::new("oro", "vector[count]"),
    Field::new("vendor_enterprise", "count"),
    Field::new("vendor_class", "string"),
    Field::new("ia_addrs", "vector[string]"),
    Field::new("relay_depth", "count"),
];

impl Dhcpv6Record {
    pub fn from_message(conn: &ConnId, ts: Timestamp, msg: &Dhcpv6Message<'_>) -> Self {
        Dhcpv6Record {
            ts,
            conn: conn.clone(),
            msg_type: v6_message_type_name(msg.msg_type),
            trans_id: msg.transaction_id,
            client_duid: msg.client_duid.map(hex),
            server_duid: msg.server_duid.map(hex),
            mac: msg.client_duid.and_then(duid_mac),
            fqdn: msg.client_fqdn.and_then(|v| v.get(1..)).map(wire_name),
            oro: msg.oro.as_slice().iter().map(|&c| u64::from(c)).collect(),
            vendor_enterprise: msg.vendor_class.map(|(e, _)| e),
            vendor_class: msg.vendor_class.map(|(_, d)| bounded_string(d, MAX_TEXT)),
            ia_addrs: (msg.ia_addrs.as_slice().iter())
                .map(|&a| std::net::Ipv6Addr::from(a).to_string())
                .collect(),
            relay_depth: msg.relay_depth as u64,
        }
    }
}

/// The link-layer address of a DUID-LLT (type 1: hw type, time, address) or
/// DUID-LL (type 3: hw type, address) with Ethernet hardware type 1.
fn duid_mac(duid: &[u8]) -> Option<String> {
    let hw = match duid {
        [0, 1, 0, 1, _, _, _, _, hw @ ..] | [0, 3, 0, 1, hw @ ..] => hw,
        _ => return None,
    };
    (hw.len() == 6).then(|| colon_hex(hw))
}

impl LogRecord for Dhcpv6Record {
    fn path(&self) -> &'static str {
        "dhcpv6"
    }

    fn fields(&self) -> &'static [Field] {
        &V6_FIELDS
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        self.conn.visit(self.ts, f);
        f(Value::Str(&self.msg_type));
        f(Value::Count(u64::from(self.trans_id)));
        f(Value::opt_str(self.client_duid.as_deref()));
        f(Value::opt_str(self.server_duid.as_deref()));
        f(Value::opt_str(self.mac.as_deref()));
        f(Value::opt_str(self.fqdn.as_deref()));
        f(Value::CountList(&self.oro));
        f(Value::opt_count(self.vendor_enterprise.map(u64::from)));
        f(Value::opt_str(self.vendor_class.as_deref()));
        f(Value::StrList(&self.ia_addrs));
        f(Value::Count(self.relay_depth));
    }
}
