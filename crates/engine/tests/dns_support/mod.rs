//! Shared helpers of the DNS tests: hand-built DNS messages, connection ids,
//! and a driver that runs an analyzer over a list of messages.
#![allow(dead_code)]

pub mod capture;

use std::net::{IpAddr, Ipv4Addr};

use gatewatch_engine::log::ConnId;
use gatewatch_engine::proto::dns::{DnsAnalyzer, DnsCounters, DnsRecord};
use gatewatch_engine::Timestamp;

pub const A: u16 = 1;
pub const CNAME: u16 = 5;
pub const PTR: u16 = 12;
pub const TXT: u16 = 16;
pub const AAAA: u16 = 28;
pub const SRV: u16 = 33;

/// Appends `name` as labels (split at dots) and the root label.
pub fn put_name(buf: &mut Vec<u8>, name: &str) {
    for label in name.split('.').filter(|l| !l.is_empty()) {
        buf.push(label.len() as u8);
        buf.extend_from_slice(label.as_bytes());
    }
    buf.push(0);
}

pub fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&id.to_be_bytes());
    b.extend_from_slice(&flags.to_be_bytes());
    for c in counts {
        b.extend_from_slice(&c.to_be_bytes());
    }
    b
}

/// A recursive query (RD) for `name`/`qtype`, class IN.
pub fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut b = header(id, 0x0100, [1, 0, 0, 0]);
    put_name(&mut b, name);
    b.extend_from_slice(&qtype.to_be_bytes());
    b.extend_from_slice(&1u16.to_be_bytes());
    b
}

/// One answer record: owner is a pointer to the question (offset 12).
pub fn answer(rtype: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
    let mut b = vec![0xc0, 0x0c];
    b.extend_from_slice(&rtype.to_be_bytes());
    b.extend_from_slice(&1u16.to_be_bytes());
    b.extend_from_slice(&ttl.to_be_bytes());
    b.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    b.extend_from_slice(rdata);
    b
}

/// A response (QR RD RA + `rcode`) echoing the question, with `answers`.
pub fn response(id: u16, name: &str, qtype: u16, rcode: u8, answers: &[Vec<u8>]) -> Vec<u8> {
    let flags = 0x8180 | u16::from(rcode);
    let mut b = header(id, flags, [1, answers.len() as u16, 0, 0]);
    put_name(&mut b, name);
    b.extend_from_slice(&qtype.to_be_bytes());
    b.extend_from_slice(&1u16.to_be_bytes());
    for a in answers {
        b.extend_from_slice(a);
    }
    b
}

/// `name` in wire format (for RDATA).
pub fn wire_name(name: &str) -> Vec<u8> {
    let mut b = Vec::new();
    put_name(&mut b, name);
    b
}

/// A TCP frame: the 2-byte length prefix and the message.
pub fn framed(msg: &[u8]) -> Vec<u8> {
    let mut b = (msg.len() as u16).to_be_bytes().to_vec();
    b.extend_from_slice(msg);
    b
}

pub fn conn(orig_p: u16, resp_p: u16) -> ConnId {
    ConnId {
        uid: "CdnsTest1".into(),
        orig_h: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20)),
        orig_p,
        resp_h: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 1)),
        resp_p,
    }
}

pub fn ts(ms: i64) -> Timestamp {
    Timestamp(1_700_000_000_000_000_000 + ms * 1_000_000)
}

/// Feeds `(ms, is_orig, bytes)` to `dns`, ends it at the last time; the
/// records and counters.
pub fn drive(
    mut dns: DnsAnalyzer,
    steps: &[(i64, bool, Vec<u8>)],
) -> (Vec<DnsRecord>, DnsCounters) {
    let mut c = DnsCounters::default();
    let mut out = Vec::new();
    let mut last = 0;
    for (ms, is_orig, bytes) in steps {
        dns.on_data(ts(*ms), *is_orig, bytes, &mut c, &mut out);
        last = *ms;
    }
    dns.on_end(ts(last), &mut c, &mut out);
    (out, c)
}
