//! Shared helpers for the `simulate_*` tests: run a simulation, slice frames,
//! verify checksums independently of the generator, walk DNS/DHCP/MQTT/TLS bytes.
#![allow(dead_code)]

use std::net::Ipv4Addr;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use gatewatch_engine::simulate::{
    pcap_out, simulate, AttackKind, SimConfig, SimPacket, SimSummary,
};

pub fn run(
    devices: usize,
    hours: f64,
    seed: u64,
    attacks: &[AttackKind],
) -> (Vec<SimPacket>, SimSummary) {
    let cfg = SimConfig::new(devices, hours, seed).with_attacks(attacks.to_vec());
    let mut packets = Vec::new();
    let summary = simulate(&cfg, &mut packets).expect("valid config");
    (packets, summary)
}

pub fn pcap_bytes(packets: &[SimPacket]) -> Vec<u8> {
    let mut out = pcap_out::file_header(pcap_out::DEFAULT_SNAPLEN).to_vec();
    for p in packets {
        pcap_out::append_record(p.ts, &p.frame, &mut out);
    }
    out
}

/// Transport view of one frame.
pub enum L4<'a> {
    Tcp {
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        syn: bool,
        fin: bool,
        rst: bool,
        ackf: bool,
        payload: &'a [u8],
    },
    Udp {
        sport: u16,
        dport: u16,
        payload: &'a [u8],
    },
    Other,
}

pub struct View<'a> {
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    pub src: Option<Ipv4Addr>,
    pub dst: Option<Ipv4Addr>,
    pub l4: L4<'a>,
    pub arp: bool,
}

fn sum16(mut acc: u32, data: &[u8]) -> u32 {
    let mut it = data.chunks_exact(2);
    for w in &mut it {
        acc += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [b] = it.remainder() {
        acc += u32::from(*b) << 8;
    }
    acc
}

fn folds_to_zero(mut acc: u32) -> bool {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc == 0xffff
}

/// Parses a frame with etherparse and checks IPv4, TCP and UDP checksums; panics with the reason otherwise.
pub fn view(frame: &[u8]) -> View<'_> {
    let sliced = SlicedPacket::from_ethernet(frame)
        .unwrap_or_else(|e| panic!("etherparse rejects frame: {e:?}"));
    let src_mac: [u8; 6] = frame[6..12].try_into().unwrap();
    let dst_mac: [u8; 6] = frame[0..6].try_into().unwrap();
    assert!(frame.len() >= 60, "frame shorter than the Ethernet minimum");
    match sliced.net {
        Some(NetSlice::Arp(_)) => View {
            src_mac,
            dst_mac,
            src: None,
            dst: None,
            l4: L4::Other,
            arp: true,
        },
        Some(NetSlice::Ipv4(ip)) => {
            let h = ip.header();
            assert!(
                folds_to_zero(sum16(0, h.slice())),
                "bad IPv4 header checksum"
            );
            let (s, d) = (h.source(), h.destination());
            let mut pseudo = sum16(0, &s);
            pseudo = sum16(pseudo, &d);
            let l4 = match sliced.transport {
                Some(TransportSlice::Tcp(t)) => {
                    let seg = t.slice();
                    assert!(
                        folds_to_zero(sum16(pseudo + 6 + seg.len() as u32, seg)),
                        "bad TCP checksum"
                    );
                    L4::Tcp {
                        sport: t.source_port(),
                        dport: t.destination_port(),
                        seq: t.sequence_number(),
                        ack: t.acknowledgment_number(),
                        syn: t.syn(),
                        fin: t.fin(),
                        rst: t.rst(),
                        ackf: t.ack(),
                        payload: t.payload(),
                    }
                }
                Some(TransportSlice::Udp(u)) => {
                    let seg = u.slice();
                    assert_ne!(u.checksum(), 0, "UDP checksum left out");
                    assert!(
                        folds_to_zero(sum16(pseudo + 17 + seg.len() as u32, seg)),
                        "bad UDP checksum"
                    );
                    L4::Udp {
                        sport: u.source_port(),
                        dport: u.destination_port(),
                        payload: u.payload(),
                    }
                }
                _ => L4::Other,
            };
            View {
                src_mac,
                dst_mac,
                src: Some(h.source_addr()),
                dst: Some(h.destination_addr()),
                l4,
                arp: false,
            }
        }
        _ => panic!("frame is neither ARP nor IPv4"),
    }
}

pub fn mac(s: &str) -> [u8; 6] {
    let v: Vec<u8> = s
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
    v.try_into().unwrap()
}

/// Walks a DNS name (with compression) starting at `at`; returns the offset after it in the original position.
fn dns_name(msg: &[u8], mut at: usize) -> Option<usize> {
    let mut end = None;
    for _ in 0..128 {
        let len = *msg.get(at)? as usize;
        if len == 0 {
            return Some(end.unwrap_or(at + 1));
        }
        if len & 0xc0 == 0xc0 {
            let ptr = ((len & 0x3f) << 8) | *msg.get(at + 1)? as usize;
            end.get_or_insert(at + 2);
            if ptr >= at {
                return None;
            }
            at = ptr;
            continue;
        }
        if len > 63 {
            return None;
        }
        at += 1 + len;
    }
    None
}

/// Counts of a well-formed DNS message: (flags, questions, answers, authority, additional). None if malformed.
pub fn dns_walk(msg: &[u8]) -> Option<(u16, u16, u16, u16, u16)> {
    let h =
        |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*msg.get(i)?, *msg.get(i + 1)?])) };
    let (flags, qd, an, ns, ar) = (h(2)?, h(4)?, h(6)?, h(8)?, h(10)?);
    let mut at = 12;
    for _ in 0..qd {
        at = dns_name(msg, at)? + 4;
    }
    for _ in 0..(an + ns + ar) {
        at = dns_name(msg, at)?;
        let rdlen = h(at + 8)? as usize;
        at += 10 + rdlen;
    }
    (at == msg.len()).then_some((flags, qd, an, ns, ar))
}

/// The first question name of a DNS message.
pub fn dns_qname(msg: &[u8]) -> Option<String> {
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = *msg.get(at)? as usize;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(msg.get(at + 1..at + 1 + len)?).to_string());
        at += 1 + len;
    }
    Some(labels.join("."))
}

/// DHCP options of a BOOTP message as (code, data); None if the walk fails.
pub fn dhcp_options(msg: &[u8]) -> Option<Vec<(u8, Vec<u8>)>> {
    if msg.get(236..240)? != [99, 130, 83, 99] {
        return None;
    }
    let mut at = 240;
    let mut out = Vec::new();
    loop {
        let code = *msg.get(at)?;
        match code {
            255 => return Some(out),
            0 => at += 1,
            _ => {
                let len = *msg.get(at + 1)? as usize;
                out.push((code, msg.get(at + 2..at + 2 + len)?.to_vec()));
                at += 2 + len;
            }
        }
    }
}

/// MQTT fixed header: (packet type byte, header length, remaining length).
pub fn mqtt_header(b: &[u8]) -> Option<(u8, usize, usize)> {
    let first = *b.first()?;
    let mut len = 0usize;
    let mut mult = 1usize;
    for i in 1..5 {
        let byte = *b.get(i)?;
        len += usize::from(byte & 0x7f) * mult;
        if byte & 0x80 == 0 {
            return Some((first, i + 1, len));
        }
        mult *= 128;
    }
    None
}

/// The fingerprint fields of a ClientHello record (ciphers and extension types, GREASE removed).
pub fn client_hello_fingerprint(rec: &[u8]) -> Option<(Vec<u16>, Vec<u16>, Option<String>)> {
    let is_grease = |v: u16| v & 0x0f0f == 0x0a0a;
    if *rec.first()? != 22 || *rec.get(5)? != 1 {
        return None;
    }
    let rec_len = u16::from_be_bytes([*rec.get(3)?, *rec.get(4)?]) as usize;
    if rec_len + 5 != rec.len() {
        return None;
    }
    let mut at = 9 + 2 + 32;
    let sid = *rec.get(at)? as usize;
    at += 1 + sid;
    let clen = u16::from_be_bytes([*rec.get(at)?, *rec.get(at + 1)?]) as usize;
    let ciphers: Vec<u16> = rec
        .get(at + 2..at + 2 + clen)?
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .filter(|c| !is_grease(*c))
        .collect();
    at += 2 + clen;
    let comp = *rec.get(at)? as usize;
    at += 1 + comp;
    let elen = u16::from_be_bytes([*rec.get(at)?, *rec.get(at + 1)?]) as usize;
    at += 2;
    let end = at + elen;
    if end != rec.len() {
        return None;
    }
    let mut exts = Vec::new();
    let mut sni = None;
    while at < end {
        let t = u16::from_be_bytes([*rec.get(at)?, *rec.get(at + 1)?]);
        let l = u16::from_be_bytes([*rec.get(at + 2)?, *rec.get(at + 3)?]) as usize;
        if t == 0 {
            let name_len = u16::from_be_bytes([*rec.get(at + 7)?, *rec.get(at + 8)?]) as usize;
            sni = Some(String::from_utf8_lossy(rec.get(at + 9..at + 9 + name_len)?).to_string());
        }
        if !is_grease(t) {
            exts.push(t);
        }
        at += 4 + l;
    }
    (at == end).then_some((ciphers, exts, sni))
}
