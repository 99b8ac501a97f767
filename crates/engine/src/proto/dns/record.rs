//! The dns.log record: one DNS transaction (query and/or response) out, with
//! Zeek's columns and names (`base/protocols/dns/main.zeek`, `consts.zeek`).
//!
//! gatewatch columns after Zeek's: `original_query` (the query in its
//! original letter case, as Zeek's `policy/protocols/dns/log-original-query-case`
//! adds it) and `mdns` (the transaction ran on port 5353). Strings hold the
//! label and TXT bytes as sent (invalid UTF-8 as U+FFFD, see [`super::name`]);
//! the log writers escape control bytes and `\` as Zeek does.
//!
//! Where this differs from Zeek's script, on purpose: `rtt` is set for every
//! matched pair (Zeek only when the answer section is not empty); `AA`/`RA`
//! come from the response header even without answers; `TC` is set when the
//! query or the response had it; a response seen alone carries its own
//! question (`query`, `qtype`, `qclass`; Zeek only the first answer's owner);
//! with several questions the first is logged (Zeek: the last).

use crate::log::{ConnId, Field, LogRecord, Value};
use crate::time::{Duration, Timestamp};

/// The transport a DNS connection runs on (Zeek's `proto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsTransport {
    Udp,
    Tcp,
}

impl DnsTransport {
    pub fn as_str(self) -> &'static str {
        match self {
            DnsTransport::Udp => "udp",
            DnsTransport::Tcp => "tcp",
        }
    }
}

/// One line of dns.log.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsRecord {
    /// Time of the first message of the transaction.
    pub ts: Timestamp,
    pub conn: ConnId,
    pub proto: DnsTransport,
    pub trans_id: u16,
    /// Response time minus query time, for a matched pair.
    pub rtt: Option<Duration>,
    /// The first question's name, lowercased (Zeek's `query`).
    pub query: Option<String>,
    pub qclass: Option<u16>,
    pub qtype: Option<u16>,
    /// Set once a response was seen.
    pub rcode: Option<u8>,
    pub aa: bool,
    pub tc: bool,
    pub rd: bool,
    pub ra: bool,
    pub z: u8,
    /// Rendered answer-section records (unset in the log when empty).
    pub answers: Vec<String>,
    /// TTL of each answer.
    pub ttls: Vec<Duration>,
    /// Zeek's `rejected`: a response with an error and no question, or with
    /// a question and no records at all.
    pub rejected: bool,
    /// The first question's name in its original case (gatewatch column).
    pub original_query: Option<String>,
    /// The connection is on port 5353 (gatewatch column).
    pub mdns: bool,
    /// Labels of the query name (not a column; for DGA/tunnel detectors).
    pub query_labels: Option<u16>,
    /// Length of the query name before escaping: label bytes and dots (not a
    /// column; for DGA/tunnel detectors).
    pub query_len: Option<u16>,
}

impl DnsRecord {
    /// The response said the name does not exist (rcode 3).
    pub fn is_nxdomain(&self) -> bool {
        self.rcode == Some(3)
    }

    /// Zeek's `qclass_name`.
    pub fn qclass_name(&self) -> Option<String> {
        self.qclass.map(class_name)
    }

    /// Zeek's `qtype_name`.
    pub fn qtype_name(&self) -> Option<String> {
        self.qtype.map(type_name)
    }

    /// Zeek's `rcode_name`.
    pub fn rcode_name(&self) -> Option<String> {
        self.rcode.map(rcode_name)
    }
}

/// dns.log columns: Zeek's, then gatewatch's (`original_query`, `mdns`).
pub static DNS_FIELDS: [Field; 26] = [
    Field::new("ts", "time"),
    Field::new("uid", "string"),
    Field::new("id.orig_h", "addr"),
    Field::new("id.orig_p", "port"),
    Field::new("id.resp_h", "addr"),
    Field::new("id.resp_p", "port"),
    Field::new("proto", "enum"),
    Field::new("trans_id", "count"),
    Field::new("rtt", "interval"),
    Field::new("query", "string"),
    Field::new("qclass", "count"),
    Field::new("qclass_name", "string"),
    Field::new("qtype", "count"),
    Field::new("qtype_name", "string"),
    Field::new("rcode", "count"),
    Field::new("rcode_name", "string"),
    Field::new("AA", "bool"),
    Field::new("TC", "bool"),
    Field::new("RD", "bool"),
    Field::new("RA", "bool"),
    Field::new("Z", "count"),
    Field::new("answers", "vector[string]"),
    Field::new("TTLs", "vector[interval]"),
    Field::new("rejected", "bool"),
    Field::new("original_query", "string"),
    Field::new("mdns", "bool"),
];

impl LogRecord for DnsRecord {
    fn path(&self) -> &'static str {
        "dns"
    }

    fn fields(&self) -> &'static [Field] {
        &DNS_FIELDS
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        self.conn.visit(self.ts, f);
        f(Value::Str(self.proto.as_str()));
        f(Value::Count(u64::from(self.trans_id)));
        f(self.rtt.map_or(Value::Unset, Value::Interval));
        f(Value::opt_str(self.query.as_deref()));
        f(Value::opt_count(self.qclass.map(u64::from)));
        let qclass_name = self.qclass_name();
        f(Value::opt_str(qclass_name.as_deref()));
        f(Value::opt_count(self.qtype.map(u64::from)));
        let qtype_name = self.qtype_name();
        f(Value::opt_str(qtype_name.as_deref()));
        f(Value::opt_count(self.rcode.map(u64::from)));
        let rcode_name = self.rcode_name();
        f(Value::opt_str(rcode_name.as_deref()));
        f(Value::Bool(self.aa));
        f(Value::Bool(self.tc));
        f(Value::Bool(self.rd));
        f(Value::Bool(self.ra));
        f(Value::Count(u64::from(self.z)));
        if self.answers.is_empty() {
            f(Value::Unset);
            f(Value::Unset);
        } else {
            f(Value::StrList(&self.answers));
            f(Value::IntervalList(&self.ttls));
        }
        f(Value::Bool(self.rejected));
        f(Value::opt_str(self.original_query.as_deref()));
        f(Value::Bool(self.mdns));
    }
}

/// Zeek's `DNS::classes`.
pub fn class_name(qclass: u16) -> String {
    let name = match qclass {
        1 => "C_INTERNET",
        2 => "C_CSNET",
        3 => "C_CHAOS",
        4 => "C_HESIOD",
        254 => "C_NONE",
        255 => "C_ANY",
        other => return format!("qclass-{other}"),
    };
    name.to_string()
}

/// Zeek's `DNS::query_types`.
pub fn type_name(qtype: u16) -> String {
    const LOW: [&str; 66] = [
        "",
        "A",
        "NS",
        "MD",
        "MF",
        "CNAME",
        "SOA",
        "MB",
        "MG",
        "MR",
        "NULL",
        "WKS",
        "PTR",
        "HINFO",
        "MINFO",
        "MX",
        "TXT",
        "RP",
        "AFSDB",
        "X25",
        "ISDN",
        "RT",
        "NSAP",
        "NSAP-PTR",
        "SIG",
        "KEY",
        "PX",
        "GPOS",
        "AAAA",
        "LOC",
        "NXT",
        "EID",
        "NIMLOC",
        "SRV",
        "ATMA",
        "NAPTR",
        "KX",
        "CERT",
        "A6",
        "DNAME",
        "SINK",
        "OPT",
        "APL",
        "DS",
        "SSHFP",
        "IPSECKEY",
        "RRSIG",
        "NSEC",
        "DNSKEY",
        "DHCID",
        "NSEC3",
        "NSEC3PARAM",
        "TLSA",
        "SMIMEA",
        "",
        "HIP",
        "NINFO",
        "RKEY",
        "TALINK",
        "CDS",
        "CDNSKEY",
        "OPENPGPKEY",
        "CSYNC",
        "ZONEMD",
        "SVCB",
        "HTTPS",
    ];
    let name = match qtype {
        0..=65 => LOW.get(usize::from(qtype)).copied().unwrap_or(""),
        99 => "SPF",
        100 => "UINFO",
        101 => "UID",
        102 => "GID",
        103 => "UNSPEC",
        104 => "NID",
        105 => "L32",
        106 => "L64",
        107 => "LP",
        108 => "EUI48",
        109 => "EUI64",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        253 => "MAILB",
        254 => "MAILA",
        255 => "*",
        256 => "URI",
        257 => "CAA",
        32768 => "TA",
        32769 => "DLV",
        65281 => "WINS",
        65282 => "WINS-R",
        65422 => "XPF",
        65521 => "INTEGRITY",
        _ => "",
    };
    if name.is_empty() {
        format!("query-{qtype}")
    } else {
        name.to_string()
    }
}

/// Zeek's `DNS::base_errors`.
pub fn rcode_name(rcode: u8) -> String {
    let name = match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSet",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        11..=15 => return format!("unassigned-{rcode}"),
        other => return format!("rcode-{other}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn record() -> DnsRecord {
        DnsRecord {
            ts: Timestamp::from_secs_nanos(1_700_000_000, 0),
            conn: ConnId {
                uid: "CAbc".into(),
                orig_h: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 2)),
                orig_p: 40000,
                resp_h: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 1)),
                resp_p: 53,
            },
            proto: DnsTransport::Udp,
            trans_id: 7,
            rtt: Some(Duration::from_millis(12)),
            query: Some("www.example.com".into()),
            qclass: Some(1),
            qtype: Some(28),
            rcode: Some(3),
            aa: false,
            tc: false,
            rd: true,
            ra: true,
            z: 0,
            answers: Vec::new(),
            ttls: Vec::new(),
            rejected: false,
            original_query: Some("WWW.example.com".into()),
            mdns: false,
            query_labels: Some(3),
            query_len: Some(15),
        }
    }

    #[test]
    fn one_value_per_field_with_zeek_names() {
        let r = record();
        let mut values = Vec::new();
        r.visit_values(&mut |v| values.push(format!("{v:?}")));
        assert_eq!(values.len(), r.fields().len());
        assert_eq!(r.fields()[25].name, "mdns");
        assert_eq!(values[7], "Count(7)");
        assert_eq!(values[13], "Str(\"AAAA\")");
        assert_eq!(values[15], "Str(\"NXDOMAIN\")");
        assert_eq!(values[21], "Unset");
        assert!(r.is_nxdomain());
    }

    #[test]
    fn names_follow_zeek_consts() {
        assert_eq!(type_name(1), "A");
        assert_eq!(type_name(65), "HTTPS");
        assert_eq!(type_name(54), "query-54");
        assert_eq!(type_name(255), "*");
        assert_eq!(type_name(1234), "query-1234");
        assert_eq!(class_name(1), "C_INTERNET");
        assert_eq!(class_name(32769), "qclass-32769");
        assert_eq!(rcode_name(8), "NXRRSet");
        assert_eq!(rcode_name(12), "unassigned-12");
    }
}
