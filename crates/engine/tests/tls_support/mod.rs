//! Test helpers for the TLS analyzer: hand-built TLS messages, a small
//! capture harness (CaptureReader + Decoder, flows by 5-tuple, TCP payload in
//! sequence order per direction, UDP datagrams as they come) and a tshark
//! runner for oracle comparisons.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use gatewatch_engine::decode::{Decoder, Network, Transport};
use gatewatch_engine::log::ConnId;
use gatewatch_engine::proto::tls::{SslRecord, TlsAnalyzer, TlsCounters};
use gatewatch_engine::source::CaptureReader;
use gatewatch_engine::Timestamp;

pub fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: shared test data not found at {}", dir.display());
        None
    }
}

pub fn conn() -> ConnId {
    ConnId {
        uid: "CtlsTest".to_owned(),
        orig_h: "10.0.0.1".parse().unwrap(),
        orig_p: 50000,
        resp_h: "10.0.0.2".parse().unwrap(),
        resp_p: 443,
    }
}

pub fn ts(n: i64) -> Timestamp {
    Timestamp::from_secs_nanos(1_700_000_000 + n, 0)
}

// ---------- hand-built messages ----------

pub fn u16b(v: u16) -> [u8; 2] {
    v.to_be_bytes()
}

pub fn u24b(v: usize) -> [u8; 3] {
    let b = (v as u32).to_be_bytes();
    [b[1], b[2], b[3]]
}

/// A TLS record of `content_type` around `body`.
pub fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![content_type, 3, 3];
    v.extend_from_slice(&u16b(body.len() as u16));
    v.extend_from_slice(body);
    v
}

/// A handshake message (type + 24-bit length + body).
pub fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![msg_type];
    v.extend_from_slice(&u24b(body.len()));
    v.extend_from_slice(body);
    v
}

pub fn ext(ty: u16, body: &[u8]) -> Vec<u8> {
    let mut v = u16b(ty).to_vec();
    v.extend_from_slice(&u16b(body.len() as u16));
    v.extend_from_slice(body);
    v
}

pub fn sni_ext(name: &str) -> Vec<u8> {
    let mut entry = vec![0u8];
    entry.extend_from_slice(&u16b(name.len() as u16));
    entry.extend_from_slice(name.as_bytes());
    let mut list = u16b(entry.len() as u16).to_vec();
    list.extend_from_slice(&entry);
    ext(0, &list)
}

pub fn alpn_ext(names: &[&str]) -> Vec<u8> {
    let mut entries = Vec::new();
    for n in names {
        entries.push(n.len() as u8);
        entries.extend_from_slice(n.as_bytes());
    }
    let mut list = u16b(entries.len() as u16).to_vec();
    list.extend_from_slice(&entries);
    ext(16, &list)
}

pub fn u16_list_ext(ty: u16, values: &[u16]) -> Vec<u8> {
    let mut list = u16b((values.len() * 2) as u16).to_vec();
    for v in values {
        list.extend_from_slice(&u16b(*v));
    }
    ext(ty, &list)
}

pub fn supported_versions_ext(values: &[u16]) -> Vec<u8> {
    let mut list = vec![(values.len() * 2) as u8];
    for v in values {
        list.extend_from_slice(&u16b(*v));
    }
    ext(43, &list)
}

/// A ClientHello body.
pub fn client_hello_body(
    version: u16,
    session_id: &[u8],
    ciphers: &[u16],
    exts: &[Vec<u8>],
) -> Vec<u8> {
    let mut b = u16b(version).to_vec();
    b.extend_from_slice(&[0x11; 32]);
    b.push(session_id.len() as u8);
    b.extend_from_slice(session_id);
    b.extend_from_slice(&u16b((ciphers.len() * 2) as u16));
    for c in ciphers {
        b.extend_from_slice(&u16b(*c));
    }
    b.extend_from_slice(&[1, 0]);
    let all: Vec<u8> = exts.concat();
    if !exts.is_empty() {
        b.extend_from_slice(&u16b(all.len() as u16));
        b.extend_from_slice(&all);
    }
    b
}

/// A ServerHello body.
pub fn server_hello_body(
    version: u16,
    session_id: &[u8],
    cipher: u16,
    exts: &[Vec<u8>],
) -> Vec<u8> {
    let mut b = u16b(version).to_vec();
    b.extend_from_slice(&[0x22; 32]);
    b.push(session_id.len() as u8);
    b.extend_from_slice(session_id);
    b.extend_from_slice(&u16b(cipher));
    b.push(0);
    let all: Vec<u8> = exts.concat();
    if !exts.is_empty() {
        b.extend_from_slice(&u16b(all.len() as u16));
        b.extend_from_slice(&all);
    }
    b
}

/// A Certificate message body holding `certs`.
pub fn certificate_body(certs: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in certs {
        list.extend_from_slice(&u24b(c.len()));
        list.extend_from_slice(c);
    }
    let mut b = u24b(list.len()).to_vec();
    b.extend_from_slice(&list);
    b
}

// ---------- a complete TLS 1.2 connection ----------

pub const LEAF: &[u8] = include_bytes!("../corpus/tls/leaf_selfsigned.der");
pub const UTF8_LEAF: &[u8] = include_bytes!("../corpus/tls/leaf_utf8_names.der");

/// A Chrome-like ClientHello with GREASE in every list.
pub fn chrome_like_hello() -> Vec<u8> {
    let exts = vec![
        ext(0x1a1a, &[]),
        sni_ext("hub.acme.example"),
        u16_list_ext(10, &[0x2a2a, 29, 23]),
        ext(11, &[1, 0]),
        u16_list_ext(13, &[0x0403, 0x0804]),
        alpn_ext(&["h2", "http/1.1"]),
        supported_versions_ext(&[0x3a3a, 0x0304, 0x0303]),
        ext(35, &[]),
    ];
    handshake(
        1,
        &client_hello_body(0x0303, &[], &[0x0a0a, 0x1301, 0xc02f, 0x002f], &exts),
    )
}

/// Server flight of a TLS 1.2 ECDHE handshake: ServerHello, Certificate,
/// ServerKeyExchange (x25519), ServerHelloDone, in one record.
pub fn tls12_server_flight(certs: &[&[u8]]) -> Vec<u8> {
    let sh = handshake(
        2,
        &server_hello_body(
            0x0303,
            &[7; 32],
            0xc02f,
            &[ext(0xff01, &[0]), alpn_ext(&["h2"])],
        ),
    );
    let cert = handshake(11, &certificate_body(certs));
    let ske = handshake(12, &[3, 0, 29, 32, 9, 9]);
    let done = handshake(14, &[]);
    record(22, &[sh, cert, ske, done].concat())
}

/// A full TLS 1.2 connection: (client stream, server stream) in the order sent.
pub fn tls12_connection() -> Vec<(bool, Vec<u8>)> {
    vec![
        (true, record(22, &chrome_like_hello())),
        (false, tls12_server_flight(&[LEAF, UTF8_LEAF])),
        (
            true,
            [
                record(22, &handshake(16, &[0; 33])),
                record(20, &[1]),
                record(22, &[0xee; 40]),
            ]
            .concat(),
        ),
        (false, [record(20, &[1]), record(22, &[0xdd; 40])].concat()),
        (true, record(23, &[0xaa; 100])),
        (false, record(23, &[0xbb; 100])),
    ]
}

/// Feeds `stream` to `a` in pieces of `chunk` bytes.
pub fn feed(
    a: &mut TlsAnalyzer,
    is_orig: bool,
    stream: &[u8],
    chunk: usize,
    c: &mut TlsCounters,
    out: &mut Vec<SslRecord>,
) {
    for (i, piece) in stream.chunks(chunk.max(1)).enumerate() {
        a.on_data(ts(i as i64), is_orig, piece, c, out);
    }
}

// ---------- capture harness ----------

/// A flow key with the endpoints in canonical order.
type Key = (IpAddr, u16, IpAddr, u16, u8);

struct TcpDir {
    next: Option<u32>,
    pending: BTreeMap<u32, Vec<u8>>,
}

struct Flow {
    analyzer: TlsAnalyzer,
    orig: (IpAddr, u16),
    dirs: [TcpDir; 2],
}

/// Bytes held per direction waiting for an earlier segment.
const MAX_PENDING: usize = 64;

/// One TLS analyzer per flow of a capture; returns every record and the counters.
pub fn analyze_capture(path: &Path) -> (Vec<SslRecord>, TlsCounters) {
    let file = std::fs::File::open(path).expect("open capture");
    let mut reader = CaptureReader::new(std::io::BufReader::new(file)).expect("capture");
    let mut decoder = Decoder::new();
    let mut flows: HashMap<Key, Flow> = HashMap::new();
    let mut order: Vec<Key> = Vec::new();
    let mut c = TlsCounters::default();
    let mut out = Vec::new();
    let mut last_ts = Timestamp::ZERO;
    while let Ok(Some(raw)) = reader.next_packet() {
        let d = decoder.decode(&raw);
        last_ts = d.ts;
        let Network::Ip(ip) = d.network else { continue };
        let (sport, dport, proto, payload, seq, syn, ack) = match ip.transport {
            Transport::Tcp(t) => (
                t.src_port,
                t.dst_port,
                6u8,
                t.payload,
                Some(t.seq),
                t.flags.syn(),
                t.flags.ack(),
            ),
            Transport::Udp(u) => (u.src_port, u.dst_port, 17u8, u.payload, None, false, false),
            _ => continue,
        };
        let (a, b) = ((ip.src, sport), (ip.dst, dport));
        let key = if a <= b {
            (a.0, a.1, b.0, b.1, proto)
        } else {
            (b.0, b.1, a.0, a.1, proto)
        };
        let flow = flows.entry(key).or_insert_with(|| {
            order.push(key);
            // The SYN sender, else the receiver of a SYN-ACK, else the first sender opens.
            let orig = if syn && ack { b } else { a };
            let conn = ConnId {
                uid: format!("C{}", order.len()),
                orig_h: orig.0,
                orig_p: orig.1,
                resp_h: if orig == a { b.0 } else { a.0 },
                resp_p: if orig == a { b.1 } else { a.1 },
            };
            Flow {
                analyzer: TlsAnalyzer::new(conn),
                orig,
                dirs: [
                    TcpDir {
                        next: None,
                        pending: BTreeMap::new(),
                    },
                    TcpDir {
                        next: None,
                        pending: BTreeMap::new(),
                    },
                ],
            }
        });
        let is_orig = a == flow.orig;
        let Some(seq) = seq else {
            if !payload.is_empty() {
                flow.analyzer
                    .on_data(d.ts, is_orig, payload, &mut c, &mut out);
            }
            continue;
        };
        let dir = &mut flow.dirs[usize::from(!is_orig)];
        if syn {
            dir.next = Some(seq.wrapping_add(1));
            continue;
        }
        if payload.is_empty() {
            continue;
        }
        let next = *dir.next.get_or_insert(seq);
        let offset = seq.wrapping_sub(next) as i32;
        if offset > 0 {
            if dir.pending.len() < MAX_PENDING {
                dir.pending.insert(seq, payload.to_vec());
            }
            continue;
        }
        let skip = (-offset) as usize;
        if skip >= payload.len() {
            continue; // retransmission
        }
        flow.analyzer
            .on_data(d.ts, is_orig, &payload[skip..], &mut c, &mut out);
        dir.next = Some(seq.wrapping_add(payload.len() as u32));
        // Deliver held segments that are now in order.
        while let Some((&s, _)) = dir.pending.iter().next() {
            let next = dir.next.unwrap();
            let off = s.wrapping_sub(next) as i32;
            if off > 0 {
                break;
            }
            let bytes = dir.pending.remove(&s).unwrap();
            let skip = (-off) as usize;
            if skip < bytes.len() {
                flow.analyzer
                    .on_data(d.ts, is_orig, &bytes[skip..], &mut c, &mut out);
                dir.next = Some(s.wrapping_add(bytes.len() as u32));
            }
        }
    }
    for key in order {
        let flow = flows.get_mut(&key).unwrap();
        for (i, dir) in flow.dirs.iter_mut().enumerate() {
            // Held segments after a hole: report the hole, then the bytes.
            while let Some((s, bytes)) = dir.pending.pop_first() {
                let next = dir.next.unwrap_or(s);
                let off = s.wrapping_sub(next) as i32;
                if off > 0 {
                    flow.analyzer.on_gap(i == 0, off as u64, &mut c);
                }
                let skip = if off < 0 { (-off) as usize } else { 0 };
                if skip < bytes.len() {
                    flow.analyzer
                        .on_data(last_ts, i == 0, &bytes[skip..], &mut c, &mut out);
                }
                dir.next = Some(s.wrapping_add(bytes.len() as u32));
            }
        }
        flow.analyzer.on_end(last_ts, &mut c, &mut out);
    }
    (out, c)
}

/// The client endpoint of a record as `ip:port` and the server as `ip:port`.
/// (The client is the originator unless the history says the direction flipped.)
pub fn endpoints(r: &SslRecord) -> (String, String) {
    let o = format!("{}:{}", r.conn.orig_h, r.conn.orig_p);
    let s = format!("{}:{}", r.conn.resp_h, r.conn.resp_p);
    if r.ssl_history.starts_with('^') {
        (s, o)
    } else {
        (o, s)
    }
}

/// Whether tshark can be run.
pub fn tshark_available() -> bool {
    let ok = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping tshark comparison: tshark not installed");
    }
    ok
}

/// `tshark -r path -Y filter -T fields -e ...`, one Vec per line.
pub fn tshark_fields(path: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(path)
        .arg("-Y")
        .arg(filter)
        .args(["-T", "fields", "-E", "separator=\t"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}
