//! Shared helpers of the telnet/ssh/modbus/dnp3 analyzer tests: the shared
//! data folder, a minimal per-connection replay of a capture (TCP payloads in
//! capture order per direction, retransmissions skipped by tracking the next
//! expected sequence number; UDP datagrams as they are), random splitting
//! for split-delivery tests, and tshark field extraction.
#![allow(clippy::expect_used)] // tests may panic on broken fixtures
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use gatewatch_engine::decode::{Decoder, Network, Transport};
use gatewatch_engine::log::{ConnId, LogRecord, Value};
use gatewatch_engine::source::CaptureReader;
use gatewatch_engine::Timestamp;

/// `../shared/data` of the repository, or `None` (with the skip printed).
pub fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: shared test data not found at {}", dir.display());
        None
    }
}

/// A test connection id.
pub fn conn(uid: &str) -> ConnId {
    ConnId {
        uid: uid.to_string(),
        orig_h: "192.168.1.10".parse().expect("addr"),
        orig_p: 40000,
        resp_h: "192.168.1.20".parse().expect("addr"),
        resp_p: 502,
    }
}

/// What happened on one connection, in capture order.
#[derive(Debug, Clone)]
pub enum Event {
    Data {
        ts: Timestamp,
        is_orig: bool,
        bytes: Vec<u8>,
        /// Frame number in the capture (1-based, as tshark counts).
        frame: u64,
    },
    /// Bytes of one direction are missing before the next data.
    Gap { is_orig: bool, len: u64 },
}

/// One connection (5-tuple, either direction) and its events.
#[derive(Debug, Clone)]
pub struct Flow {
    pub conn: ConnId,
    pub tcp: bool,
    pub events: Vec<Event>,
    pub last_ts: Timestamp,
}

type Key = (IpAddr, u16, IpAddr, u16, bool);

#[derive(Default)]
struct TcpTrack {
    next: [Option<u32>; 2],
}

/// Reads a capture and groups its TCP payloads and UDP datagrams by
/// connection. The originator is the sender of a SYN without ACK, else the
/// side with the higher port.
pub fn flows(path: &Path) -> Vec<Flow> {
    let file = File::open(path).expect("open capture");
    flows_from(BufReader::new(file))
}

/// [`flows`] of a capture held in memory (e.g. one the simulator wrote).
pub fn flows_from_bytes(bytes: &[u8]) -> Vec<Flow> {
    flows_from(bytes)
}

fn flows_from(input: impl std::io::Read) -> Vec<Flow> {
    let mut reader = CaptureReader::new(input).expect("capture header");
    let mut decoder = Decoder::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut flows: Vec<Flow> = Vec::new();
    let mut tracks: Vec<TcpTrack> = Vec::new();
    let mut frame = 0u64;
    while let Ok(Some(raw)) = reader.next_packet() {
        frame += 1;
        let d = decoder.decode(&raw);
        let Network::Ip(ip) = &d.network else {
            continue;
        };
        let (sport, dport, tcp, payload, seq) = match &ip.transport {
            Transport::Tcp(t) => (t.src_port, t.dst_port, true, t.payload, Some(t.seq)),
            Transport::Udp(u) => (u.src_port, u.dst_port, false, u.payload, None),
            _ => continue,
        };
        let fwd: Key = (ip.src, sport, ip.dst, dport, tcp);
        let rev: Key = (ip.dst, dport, ip.src, sport, tcp);
        let (i, is_orig) = match (index.get(&fwd), index.get(&rev)) {
            (Some(&i), _) => (i, true),
            (None, Some(&i)) => (i, false),
            (None, None) => {
                // A SYN/ACK first means the other side is the originator;
                // without a handshake the side on the lower port is taken
                // as the server (captures that start mid-connection).
                let reversed = match &ip.transport {
                    Transport::Tcp(t) if t.flags.syn() => t.flags.ack(),
                    _ => sport < dport,
                };
                let key = if reversed { rev } else { fwd };
                let i = flows.len();
                index.insert(key, i);
                let (oh, op, rh, rp, _) = key;
                flows.push(Flow {
                    conn: ConnId {
                        uid: format!("C{i}"),
                        orig_h: oh,
                        orig_p: op,
                        resp_h: rh,
                        resp_p: rp,
                    },
                    tcp,
                    events: Vec::new(),
                    last_ts: d.ts,
                });
                tracks.push(TcpTrack::default());
                (i, !reversed)
            }
        };
        let flow = &mut flows[i];
        flow.last_ts = d.ts;
        let dir = usize::from(!is_orig);
        let mut bytes = payload;
        if let (Some(seq), true) = (seq, tcp) {
            let t = &mut tracks[i];
            if let Transport::Tcp(tcp_seg) = &ip.transport {
                if tcp_seg.flags.syn() {
                    t.next[dir] = Some(seq.wrapping_add(1));
                    continue;
                }
            }
            if bytes.is_empty() {
                continue;
            }
            match t.next[dir] {
                None => {}
                Some(next) => {
                    let ahead = seq.wrapping_sub(next) as i32;
                    if ahead < 0 {
                        // Retransmission (or overlap): keep only new bytes.
                        let old = ahead.unsigned_abs() as usize;
                        if old >= bytes.len() {
                            continue;
                        }
                        bytes = &bytes[old..];
                    } else if ahead > 0 {
                        flow.events.push(Event::Gap {
                            is_orig,
                            len: ahead as u64,
                        });
                    }
                }
            }
            let end = seq.wrapping_add(payload.len() as u32);
            t.next[dir] = Some(end);
        }
        if bytes.is_empty() {
            continue;
        }
        flow.events.push(Event::Data {
            ts: d.ts,
            is_orig,
            bytes: bytes.to_vec(),
            frame,
        });
    }
    flows
}

/// Runs `tshark -r FILE -T fields -e F…` with optional extra arguments and
/// returns one vector of columns per line; `None` (skip printed) without tshark.
pub fn tshark(path: &Path, extra: &[&str], fields: &[&str]) -> Option<Vec<Vec<String>>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(path).args(extra).args(["-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = match cmd.output() {
        Ok(out) if out.status.success() || !out.stdout.is_empty() => out,
        Ok(out) => {
            eprintln!(
                "skipping tshark comparison: tshark failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        Err(e) => {
            eprintln!("skipping tshark comparison: tshark not runnable: {e}");
            return None;
        }
    };
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect(),
    )
}

/// Splits `data` at the given cut points (sorted, deduplicated, in range).
pub fn split_at_points<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|&c| c.min(data.len())).collect();
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    let mut start = 0;
    for p in points {
        out.push(&data[start..p]);
        start = p;
    }
    out.push(&data[start..]);
    out
}

/// A record's values as strings (`-` for unset), for readable assertions.
pub fn values(r: &dyn LogRecord) -> Vec<String> {
    let mut out = Vec::new();
    r.visit_values(&mut |v| {
        out.push(match v {
            Value::Unset => "-".to_string(),
            Value::Time(t) => t.to_string(),
            Value::Interval(d) => d.to_string(),
            Value::Str(s) => s.to_string(),
            Value::Addr(a) => a.to_string(),
            Value::Port(p) => p.to_string(),
            Value::Count(c) => c.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Double(d) => d.to_string(),
            Value::Bool(b) => if b { "T" } else { "F" }.to_string(),
            Value::StrList(l) => l.join(","),
            Value::CountList(l) => l.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
            Value::IntervalList(l) => l
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(","),
        })
    });
    assert_eq!(
        out.len(),
        r.fields().len(),
        "{}: values vs fields",
        r.path()
    );
    out
}

/// The value of column `name` of a record.
pub fn column(r: &dyn LogRecord, name: &str) -> String {
    let i = r
        .fields()
        .iter()
        .position(|f| f.name == name)
        .unwrap_or_else(|| panic!("{}: no column {name}", r.path()));
    values(r)[i].clone()
}

/// The seed-corpus and fuzz input format: records of a 2-byte little-endian
/// header (bit 15 set = from the responder, bits 0–14 = length) followed by
/// that many bytes; a short last record takes what is left.
pub fn script_chunks(mut data: &[u8]) -> Vec<(bool, &[u8])> {
    let mut out = Vec::new();
    while let [lo, hi, rest @ ..] = data {
        let head = u16::from_le_bytes([*lo, *hi]);
        let len = usize::from(head & 0x7fff).min(rest.len());
        out.push((head & 0x8000 == 0, &rest[..len]));
        data = &rest[len..];
    }
    out
}

/// Builds a script from `(is_orig, bytes)` chunks (the inverse of [`script_chunks`]).
pub fn script(chunks: &[(bool, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (is_orig, bytes) in chunks {
        for piece in bytes.chunks(0x7fff) {
            let head = piece.len() as u16 | if *is_orig { 0 } else { 0x8000 };
            out.extend_from_slice(&head.to_le_bytes());
            out.extend_from_slice(piece);
        }
    }
    out
}

/// The folder of a protocol's seed corpus.
pub fn corpus_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name)
}

/// Checks (or, with `GATEWATCH_WRITE_CORPUS=1`, writes) a seed file.
pub fn check_seed(name: &str, file: &str, bytes: &[u8]) {
    let path = corpus_dir(name).join(file);
    if std::env::var_os("GATEWATCH_WRITE_CORPUS").is_some() {
        std::fs::create_dir_all(corpus_dir(name)).expect("corpus dir");
        std::fs::write(&path, bytes).expect("write seed");
    }
    let on_disk = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (regenerate with GATEWATCH_WRITE_CORPUS=1)",
            path.display()
        )
    });
    assert!(bytes.len() < 2048, "{file}: seeds stay small");
    assert_eq!(
        on_disk, bytes,
        "{file} differs from the seed built in the test"
    );
}

/// Every file of a protocol's seed corpus.
pub fn corpus_files(name: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_dir(name))
        .expect("corpus dir")
        .map(|e| {
            let path = e.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("read seed"))
        })
        .collect();
    out.sort();
    out
}

/// Multiset agreement: matched items / the larger of the two counts (1.0
/// when both are empty).
pub fn agreement<T: Ord + Clone>(ours: &[T], theirs: &[T]) -> (usize, usize, usize, f64) {
    let mut a = ours.to_vec();
    let mut b = theirs.to_vec();
    a.sort();
    b.sort();
    let (mut i, mut j, mut matched) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                matched += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let denom = a.len().max(b.len());
    let rate = if denom == 0 {
        1.0
    } else {
        matched as f64 / denom as f64
    };
    (matched, a.len(), b.len(), rate)
}

/// A simulated fleet capture (pcap bytes) with the given attacks.
pub fn simulated_capture(
    devices: usize,
    hours: f64,
    seed: u64,
    attacks: &[gatewatch_engine::simulate::AttackKind],
) -> Vec<u8> {
    use gatewatch_engine::simulate::{pcap_out, simulate, SimConfig};
    let cfg = SimConfig::new(devices, hours, seed).with_attacks(attacks.to_vec());
    let mut packets = Vec::new();
    simulate(&cfg, &mut packets).expect("valid config");
    let mut out = pcap_out::file_header(pcap_out::DEFAULT_SNAPLEN).to_vec();
    for p in &packets {
        pcap_out::append_record(p.ts, &p.frame, &mut out);
    }
    out
}
