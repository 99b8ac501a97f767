//! DNS (RFC 1035) and mDNS (RFC 6762) messages: queries and responses with answers.
//!
//! Names in → wire-format messages out. Answers to the question name use a
//! compression pointer to offset 12, as real resolvers do. Labels longer than
//! 63 bytes are split by the caller ([`split_labels`]) before encoding.

use std::net::Ipv4Addr;

pub const PORT: u16 = 53;
pub const MDNS_PORT: u16 = 5353;

pub const TYPE_A: u16 = 1;
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_SOA: u16 = 6;
pub const TYPE_PTR: u16 = 12;
pub const TYPE_TXT: u16 = 16;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_SRV: u16 = 33;

pub const RCODE_OK: u8 = 0;
pub const RCODE_NXDOMAIN: u8 = 3;

/// The owner name of a resource record.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    /// The question's name (encoded as a pointer to offset 12).
    Question,
    Name(&'a str),
}

#[derive(Debug, Clone)]
pub enum Rdata<'a> {
    A(Ipv4Addr),
    Aaaa([u8; 16]),
    Cname(&'a str),
    Ptr(String),
    Txt(Vec<String>),
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    Soa {
        mname: &'a str,
        rname: &'a str,
        serial: u32,
    },
}

#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub owner: Owner<'a>,
    pub ttl: u32,
    /// Set the mDNS cache-flush bit in the class field.
    pub cache_flush: bool,
    pub data: Rdata<'a>,
}

/// Appends `name` as length-prefixed labels and the root label.
pub fn encode_name(buf: &mut Vec<u8>, name: &str) {
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        let bytes = label.as_bytes();
        let len = bytes.len().min(63);
        buf.push(len as u8);
        buf.extend_from_slice(bytes.get(..len).unwrap_or_default());
    }
    buf.push(0);
}

/// Splits `data` into dot-separated labels of at most `max` characters.
pub fn split_labels(data: &str, max: usize) -> String {
    let mut out = String::with_capacity(data.len() + data.len() / max.max(1) + 1);
    for (i, ch) in data.chars().enumerate() {
        if i > 0 && i % max.max(1) == 0 {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

fn header(buf: &mut Vec<u8>, id: u16, flags: u16, counts: [u16; 4]) {
    buf.extend_from_slice(&id.to_be_bytes());
    buf.extend_from_slice(&flags.to_be_bytes());
    for c in counts {
        buf.extend_from_slice(&c.to_be_bytes());
    }
}

/// A recursive query for `name`/`qtype`.
pub fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut b = Vec::with_capacity(18 + name.len() + 2);
    header(&mut b, id, 0x0100, [1, 0, 0, 0]);
    encode_name(&mut b, name);
    b.extend_from_slice(&qtype.to_be_bytes());
    b.extend_from_slice(&1u16.to_be_bytes());
    b
}

/// An mDNS query (id 0, no recursion) for several PTR names.
pub fn mdns_query(names: &[&str], qtype: u16) -> Vec<u8> {
    let mut b = Vec::with_capacity(64);
    header(&mut b, 0, 0, [names.len() as u16, 0, 0, 0]);
    for n in names {
        encode_name(&mut b, n);
        b.extend_from_slice(&qtype.to_be_bytes());
        b.extend_from_slice(&1u16.to_be_bytes());
    }
    b
}

fn put_record(b: &mut Vec<u8>, r: &Record<'_>) {
    match r.owner {
        Owner::Question => b.extend_from_slice(&[0xc0, 0x0c]),
        Owner::Name(n) => encode_name(b, n),
    }
    let rtype = match &r.data {
        Rdata::A(_) => TYPE_A,
        Rdata::Aaaa(_) => TYPE_AAAA,
        Rdata::Cname(_) => TYPE_CNAME,
        Rdata::Ptr(_) => TYPE_PTR,
        Rdata::Txt(_) => TYPE_TXT,
        Rdata::Srv { .. } => TYPE_SRV,
        Rdata::Soa { .. } => TYPE_SOA,
    };
    b.extend_from_slice(&rtype.to_be_bytes());
    let class: u16 = if r.cache_flush { 0x8001 } else { 1 };
    b.extend_from_slice(&class.to_be_bytes());
    b.extend_from_slice(&r.ttl.to_be_bytes());
    let mut rd = Vec::with_capacity(32);
    match &r.data {
        Rdata::A(ip) => rd.extend_from_slice(&ip.octets()),
        Rdata::Aaaa(a) => rd.extend_from_slice(a),
        Rdata::Cname(n) => encode_name(&mut rd, n),
        Rdata::Ptr(n) => encode_name(&mut rd, n),
        Rdata::Txt(items) => {
            for s in items {
                let bytes = s.as_bytes();
                let len = bytes.len().min(255);
                rd.push(len as u8);
                rd.extend_from_slice(bytes.get(..len).unwrap_or_default());
            }
        }
        Rdata::Srv {
            priority,
            weight,
            port,
            target,
        } => {
            rd.extend_from_slice(&priority.to_be_bytes());
            rd.extend_from_slice(&weight.to_be_bytes());
            rd.extend_from_slice(&port.to_be_bytes());
            encode_name(&mut rd, target);
        }
        Rdata::Soa {
            mname,
            rname,
            serial,
        } => {
            encode_name(&mut rd, mname);
            encode_name(&mut rd, rname);
            for v in [*serial, 7200, 900, 1_209_600, 86_400] {
                rd.extend_from_slice(&v.to_be_bytes());
            }
        }
    }
    b.extend_from_slice(&(rd.len() as u16).to_be_bytes());
    b.extend_from_slice(&rd);
}

/// A response echoing the question, with answers and authority records.
pub fn response(
    id: u16,
    name: &str,
    qtype: u16,
    rcode: u8,
    answers: &[Record<'_>],
    authority: &[Record<'_>],
) -> Vec<u8> {
    let mut b = Vec::with_capacity(64 + name.len() + answers.len() * 24);
    let flags = 0x8180 | u16::from(rcode & 0x0f);
    header(
        &mut b,
        id,
        flags,
        [1, answers.len() as u16, authority.len() as u16, 0],
    );
    encode_name(&mut b, name);
    b.extend_from_slice(&qtype.to_be_bytes());
    b.extend_from_slice(&1u16.to_be_bytes());
    for r in answers.iter().chain(authority) {
        put_record(&mut b, r);
    }
    b
}

/// An unsolicited mDNS announcement (authoritative answers, no question).
pub fn mdns_announcement(answers: &[Record<'_>], additional: &[Record<'_>]) -> Vec<u8> {
    let mut b = Vec::with_capacity(256);
    header(
        &mut b,
        0,
        0x8400,
        [0, answers.len() as u16, 0, additional.len() as u16],
    );
    for r in answers.iter().chain(additional) {
        put_record(&mut b, r);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encodes_labels() {
        let q = query(0xbeef, "time.google.com", TYPE_A);
        assert_eq!(q.get(..4), Some(&[0xbe, 0xef, 0x01, 0x00][..]));
        assert_eq!(q.get(12..17), Some(&[4, b't', b'i', b'm', b'e'][..]));
        assert_eq!(q.len(), 12 + 17 + 4);
    }

    #[test]
    fn response_points_answers_at_the_question() {
        let a = Record {
            owner: Owner::Question,
            ttl: 300,
            cache_flush: false,
            data: Rdata::A(Ipv4Addr::new(1, 2, 3, 4)),
        };
        let r = response(7, "a.example", TYPE_A, RCODE_OK, &[a], &[]);
        let qend = 12 + 11 + 4;
        assert_eq!(r.get(qend..qend + 2), Some(&[0xc0, 0x0c][..]));
        assert_eq!(r.get(r.len() - 4..), Some(&[1, 2, 3, 4][..]));
        assert_eq!(r.get(6..8), Some(&[0, 1][..]));
    }

    #[test]
    fn long_data_is_split_into_short_labels() {
        let s = split_labels(&"a".repeat(130), 63);
        assert!(s.split('.').all(|l| l.len() <= 63));
        assert_eq!(s.split('.').count(), 3);
    }
}
