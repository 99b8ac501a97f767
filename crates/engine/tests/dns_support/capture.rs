//! Test-only capture harness for the DNS tests: reads a capture with
//! `CaptureReader` + `Decoder`, groups packets by 5-tuple, feeds UDP
//! datagrams and in-order TCP payloads to one analyzer per connection, and
//! compares per-frame results with tshark's fields.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on broken fixtures

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use gatewatch_engine::decode::{Decoded, Decoder, Network, Transport};
use gatewatch_engine::log::ConnId;
use gatewatch_engine::proto::dns::{
    parse_message, DnsAnalyzer, DnsCounters, DnsRecord, DnsTransport, Message, MDNS_PORT,
};
use gatewatch_engine::source::CaptureReader;
use gatewatch_engine::Timestamp;

/// UDP ports whose payloads go to the DNS analyzer (TCP: 53 only).
pub const DNS_PORTS: [u16; 3] = [53, MDNS_PORT, 5355];

pub fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: shared test data not found at {}", dir.display());
        None
    }
}

/// What one UDP DNS frame parsed to, for the per-frame comparison.
#[derive(Debug)]
pub struct Frame {
    pub number: u64,
    /// First question name, `None` when the message has none or
    /// could not be read.
    pub qname: Option<String>,
    /// Header rcode of a response.
    pub rcode: Option<u8>,
    /// Sent from or to port 5353.
    pub mdns: bool,
}

/// One connection: its analyzer and, for TCP, the next expected sequence
/// number per direction.
pub struct Flow {
    dns: DnsAnalyzer,
    orig: (IpAddr, u16),
    next_seq: [Option<u32>; 2],
}

/// Transport protocol and the two endpoints, lower first.
pub type FlowKey = (u8, (IpAddr, u16), (IpAddr, u16));

/// Groups packets by 5-tuple and feeds DNS payloads to one analyzer each.
#[derive(Default)]
pub struct Harness {
    flows: HashMap<FlowKey, Flow>,
    order: Vec<FlowKey>,
    pub counters: DnsCounters,
    pub records: Vec<DnsRecord>,
    pub frames: Vec<Frame>,
    pub fragments_skipped: u64,
    last_ts: Timestamp,
}

impl Harness {
    fn packet(&mut self, number: u64, pkt: &Decoded<'_>) {
        self.last_ts = pkt.ts;
        let Network::Ip(ip) = &pkt.network else {
            return;
        };
        let (proto, sport, dport, payload, tcp) = match ip.transport {
            Transport::Udp(u) => (17, u.src_port, u.dst_port, u.payload, None),
            Transport::Tcp(t) => (6, t.src_port, t.dst_port, t.payload, Some(t)),
            _ => return,
        };
        let is_dns = if proto == 17 {
            DNS_PORTS.contains(&sport) || DNS_PORTS.contains(&dport)
        } else {
            sport == 53 || dport == 53
        };
        if !is_dns {
            return;
        }
        if ip.fragment.is_some() {
            self.fragments_skipped += 1;
            return;
        }
        let (src, dst) = ((ip.src, sport), (ip.dst, dport));
        let key = (proto, src.min(dst), src.max(dst));
        let flow = self.flows.entry(key).or_insert_with(|| {
            self.order.push(key);
            let conn = ConnId {
                uid: format!("C{}", self.order.len()),
                orig_h: src.0,
                orig_p: src.1,
                resp_h: dst.0,
                resp_p: dst.1,
            };
            Flow {
                dns: if proto == 6 {
                    DnsAnalyzer::new_tcp(conn)
                } else {
                    DnsAnalyzer::new(conn)
                },
                orig: src,
                next_seq: [None, None],
            }
        });
        let is_orig = src == flow.orig;
        let Some(t) = tcp else {
            let mdns = sport == MDNS_PORT || dport == MDNS_PORT;
            self.frames.push(parse_frame(number, payload, mdns));
            flow.dns.on_data(
                pkt.ts,
                is_orig,
                payload,
                &mut self.counters,
                &mut self.records,
            );
            return;
        };
        // In-order TCP payload: skip retransmissions, report holes as gaps.
        let next = &mut flow.next_seq[usize::from(!is_orig)];
        if t.flags.syn() {
            *next = Some(t.seq.wrapping_add(1));
            return;
        }
        if payload.is_empty() {
            return;
        }
        let expected = next.unwrap_or(t.seq);
        let ahead = t.seq.wrapping_sub(expected);
        if ahead >= 1 << 31 {
            return; // retransmission of bytes already delivered
        }
        if ahead > 0 {
            flow.dns
                .on_gap(is_orig, u64::from(ahead), &mut self.counters);
        }
        *next = Some(t.seq.wrapping_add(payload.len() as u32));
        flow.dns.on_data(
            pkt.ts,
            is_orig,
            payload,
            &mut self.counters,
            &mut self.records,
        );
    }

    fn finish(&mut self) {
        for key in &self.order {
            if let Some(flow) = self.flows.get_mut(key) {
                flow.dns
                    .on_end(self.last_ts, &mut self.counters, &mut self.records);
            }
        }
    }
}

pub fn parse_frame(number: u64, payload: &[u8], mdns: bool) -> Frame {
    let mut m = Message::default();
    let ok = parse_message(payload, &mut m, &mut DnsCounters::default()).is_ok();
    Frame {
        number,
        qname: (ok && m.question.is_some()).then(|| m.qname.clone()),
        rcode: (ok && m.header.qr).then_some(m.header.rcode),
        mdns,
    }
}

/// Runs the whole capture through the harness.
pub fn analyze(path: &Path) -> Harness {
    let bytes = std::fs::read(path).expect("read capture");
    let mut reader = CaptureReader::new(bytes.as_slice()).expect("a capture");
    let mut decoder = Decoder::new();
    let mut h = Harness::default();
    let mut number = 0;
    while let Ok(Some(raw)) = reader.next_packet() {
        number += 1;
        let pkt = decoder.decode(&raw);
        h.packet(number, &pkt);
    }
    h.finish();
    h
}

/// tshark's view of one frame.
#[derive(Debug, Default, Clone)]
pub struct SharkFrame {
    pub qname: Option<String>,
    pub response: bool,
    pub rcode: Option<u8>,
    /// Set on responses tshark paired with a query.
    pub response_to: bool,
    pub time: Option<f64>,
}

pub fn tshark(path: &Path) -> Option<HashMap<u64, SharkFrame>> {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(path)
        .args(["-T", "fields", "-E", "occurrence=f", "-E", "separator=/t"])
        .args([
            "-e",
            "frame.number",
            "-e",
            "dns.qry.name",
            "-e",
            "dns.flags.response",
        ])
        .args([
            "-e",
            "dns.flags.rcode",
            "-e",
            "dns.response_to",
            "-e",
            "dns.time",
        ])
        .args(["-e", "dns.id"])
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        _ => {
            eprintln!("skipping: tshark not available");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut frames = HashMap::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 7 || cols[6].is_empty() {
            continue; // not DNS
        }
        let frame = SharkFrame {
            qname: Some(cols[1].to_string()).filter(|s| !s.is_empty()),
            response: cols[2] == "1" || cols[2] == "True",
            rcode: cols[3].parse().ok(),
            response_to: !cols[4].is_empty(),
            time: cols[5].parse().ok(),
        };
        frames.insert(cols[0].parse().unwrap(), frame);
    }
    Some(frames)
}

/// tshark's escapes (`\\`, C escapes, `\ooo` octal) back to bytes, then to
/// text as the analyzer makes it (invalid UTF-8 replaced).
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let next = b[i + 1];
        if next.is_ascii_digit() && i + 3 < b.len() {
            let oct = std::str::from_utf8(&b[i + 1..i + 4]).unwrap();
            out.push(u8::from_str_radix(oct, 8).unwrap());
            i += 4;
        } else {
            let byte = match next {
                b'a' => 7,
                b'b' => 8,
                b't' => 9,
                b'n' => 10,
                b'v' => 11,
                b'f' => 12,
                b'r' => 13,
                other => other,
            };
            out.push(byte);
            i += 2;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Agreement figures of one capture.
#[derive(Debug, Default)]
pub struct Agreement {
    pub frames: u64,
    pub names_equal: u64,
    pub rcodes: u64,
    pub rcodes_equal: u64,
    pub mismatches: Vec<String>,
    pub shark_paired: u64,
    pub ours_paired: u64,
    pub rtt_equal: u64,
}

pub fn compare(h: &Harness, shark: &HashMap<u64, SharkFrame>) -> Agreement {
    let mut a = Agreement::default();
    for f in &h.frames {
        let Some(s) = shark.get(&f.number) else {
            continue;
        };
        a.frames += 1;
        let theirs = match s.qname.as_deref() {
            Some("<Root>") => Some(String::new()),
            other => other.map(unescape),
        };
        let ours = f.qname.clone();
        let too_long = theirs.as_deref() == Some("<Name too long>");
        // Invalid UTF-8 is replaced differently by tshark and Rust: compare
        // such names without their replacement characters.
        let strip = |n: Option<String>| n.map(|n| n.replace('\u{fffd}', ""));
        if ours == theirs
            || (too_long && ours.is_some())
            || strip(ours.clone()) == strip(theirs.clone())
        {
            a.names_equal += 1;
        } else {
            a.mismatches.push(format!(
                "frame {}: ours {ours:?} tshark {theirs:?}",
                f.number
            ));
        }
        if s.response {
            a.rcodes += 1;
            if f.rcode == s.rcode {
                a.rcodes_equal += 1;
            }
        }
    }
    // Pairs: tshark's paired responses among the frames we saw, against the
    // records that carry a round-trip time; equal times to the microsecond.
    // Not mDNS: tshark pairs an announcement with an earlier probe of the
    // same id 0, which we do not (an announcement answers nobody).
    let seen: std::collections::HashSet<u64> = h
        .frames
        .iter()
        .filter(|f| !f.mdns)
        .map(|f| f.number)
        .collect();
    let mut shark_times: Vec<i64> = shark
        .iter()
        .filter(|(n, s)| seen.contains(n) && s.response_to)
        .filter_map(|(_, s)| s.time.map(|t| (t * 1e6).round() as i64))
        .collect();
    a.shark_paired = shark_times.len() as u64;
    let mut our_times: Vec<i64> = h
        .records
        .iter()
        .filter(|r| r.proto == DnsTransport::Udp && !r.mdns)
        .filter_map(|r| r.rtt.map(|d| (d.0 as f64 / 1e3).round() as i64))
        .collect();
    a.ours_paired = our_times.len() as u64;
    shark_times.sort_unstable();
    our_times.sort_unstable();
    let (mut i, mut j) = (0, 0);
    while i < shark_times.len() && j < our_times.len() {
        match shark_times[i].cmp(&our_times[j]) {
            std::cmp::Ordering::Equal => {
                a.rtt_equal += 1;
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    a
}
