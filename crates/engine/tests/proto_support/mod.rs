//! Shared helpers of the protocol analyzer tests: a minimal TCP replay of a
//! real capture (CaptureReader + Decoder, connections keyed by 5-tuple either
//! way, in-order delivery per direction by tracking the next expected
//! sequence number, retransmitted bytes dropped, holes reported as gaps),
//! tshark field extraction, and multiset agreement between two lists.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on broken fixtures
#![allow(dead_code)]

pub mod mqtt;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use gatewatch_engine::decode::{Decoder, Network, Transport};
use gatewatch_engine::log::ConnId;
use gatewatch_engine::source::CaptureReader;
use gatewatch_engine::Timestamp;

/// `../shared/data` relative to the workspace, or `None` (with a printed reason).
pub fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: shared test data not found at {}", dir.display());
        None
    }
}

/// What the replay hands to the analyzer under test.
pub enum Delivery<'a> {
    /// A new connection (index into the replay's connection list).
    Open(usize, &'a ConnId),
    Data {
        conn: usize,
        ts: Timestamp,
        is_orig: bool,
        data: &'a [u8],
    },
    Gap {
        conn: usize,
        is_orig: bool,
        len: u64,
    },
    End {
        conn: usize,
        ts: Timestamp,
    },
}

struct Side {
    /// Next expected sequence number, once known.
    next: Option<u32>,
}

struct Conn {
    index: usize,
    orig: (IpAddr, u16),
    sides: [Side; 2],
    fin_or_rst: bool,
    last_ts: Timestamp,
}

type Key = (IpAddr, u16, IpAddr, u16);

fn key(a: (IpAddr, u16), b: (IpAddr, u16)) -> Key {
    if a <= b {
        (a.0, a.1, b.0, b.1)
    } else {
        (b.0, b.1, a.0, a.1)
    }
}

/// Replays the TCP connections of `path` whose ports satisfy `wanted`
/// (source, destination). Connections end at FIN/RST only when a new SYN
/// reuses the tuple, otherwise at the end of the capture.
pub fn replay_tcp(path: &Path, wanted: impl Fn(u16, u16) -> bool, mut f: impl FnMut(Delivery<'_>)) {
    let file = std::fs::File::open(path).expect("open capture");
    let mut reader = CaptureReader::new(file).expect("capture header");
    let mut decoder = Decoder::new();
    let mut conns: HashMap<Key, Conn> = HashMap::new();
    let mut ids: Vec<ConnId> = Vec::new();
    while let Ok(Some(raw)) = reader.next_packet() {
        let pkt = decoder.decode(&raw);
        let Network::Ip(ip) = &pkt.network else {
            continue;
        };
        let Transport::Tcp(tcp) = ip.transport else {
            continue;
        };
        if !wanted(tcp.src_port, tcp.dst_port) {
            continue;
        }
        let src = (ip.src, tcp.src_port);
        let dst = (ip.dst, tcp.dst_port);
        let k = key(src, dst);
        let fresh_syn = tcp.flags.syn() && !tcp.flags.ack();
        let restart = conns.get(&k).is_some_and(|c| fresh_syn && c.fin_or_rst);
        if restart {
            let old = conns.remove(&k).unwrap();
            f(Delivery::End {
                conn: old.index,
                ts: old.last_ts,
            });
        }
        let conn = conns.entry(k).or_insert_with(|| {
            // The SYN's sender originates; otherwise the lower port is the server.
            let orig = if tcp.flags.syn() && !tcp.flags.ack() {
                src
            } else if tcp.flags.syn() || tcp.src_port < tcp.dst_port {
                dst
            } else {
                src
            };
            let resp = if orig == src { dst } else { src };
            let index = ids.len();
            ids.push(ConnId {
                uid: format!("C{index}"),
                orig_h: orig.0,
                orig_p: orig.1,
                resp_h: resp.0,
                resp_p: resp.1,
            });
            f(Delivery::Open(index, ids.last().unwrap()));
            Conn {
                index,
                orig,
                sides: [Side { next: None }, Side { next: None }],
                fin_or_rst: false,
                last_ts: pkt.ts,
            }
        });
        conn.last_ts = pkt.ts;
        let is_orig = src == conn.orig;
        let side = &mut conn.sides[usize::from(!is_orig)];
        if tcp.flags.syn() {
            side.next = Some(tcp.seq.wrapping_add(1));
        }
        if tcp.flags.fin() || tcp.flags.rst() {
            conn.fin_or_rst = true;
        }
        let wire_len = tcp.payload_len;
        if wire_len == 0 {
            continue;
        }
        let next = *side.next.get_or_insert(tcp.seq);
        let ahead = tcp.seq.wrapping_sub(next) as i32;
        if ahead > 0 {
            f(Delivery::Gap {
                conn: conn.index,
                is_orig,
                len: ahead as u64,
            });
        }
        // Bytes before `next` were delivered already (retransmission / overlap).
        let skip = if ahead < 0 { (-ahead) as u32 } else { 0 };
        if skip >= wire_len {
            continue;
        }
        let captured = tcp.payload.get(skip as usize..).unwrap_or_default();
        let fresh = captured
            .get(..(wire_len - skip) as usize)
            .unwrap_or(captured);
        f(Delivery::Data {
            conn: conn.index,
            ts: pkt.ts,
            is_orig,
            data: fresh,
        });
        let cut = u64::from(wire_len - skip) - fresh.len() as u64;
        if cut > 0 {
            f(Delivery::Gap {
                conn: conn.index,
                is_orig,
                len: cut,
            });
        }
        side.next = Some(tcp.seq.wrapping_add(wire_len));
    }
    let mut rest: Vec<_> = conns.into_values().collect();
    rest.sort_by_key(|c| c.index);
    for c in rest {
        f(Delivery::End {
            conn: c.index,
            ts: c.last_ts,
        });
    }
}

/// `tshark -r path [extra..] -T fields -e f1 -e f2 ..`, one Vec per line;
/// `None` (with a printed reason) when tshark is not installed.
pub fn tshark_fields(path: &Path, extra: &[&str], fields: &[&str]) -> Option<Vec<Vec<String>>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(path)
        .args(extra)
        .args(["-T", "fields", "-E", "occurrence=a"]);
    for field in fields {
        cmd.args(["-e", field]);
    }
    let out = match cmd.output() {
        Ok(out) if out.status.success() => out,
        Ok(out) => panic!(
            "tshark failed on {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            eprintln!("skipping tshark comparison: {e}");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.lines()
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect(),
    )
}

/// Items of `a` matched one-for-one in `b`, and the agreement rate
/// (matched / the longer list; 1.0 for two empty lists).
pub fn agreement<T: Eq + std::hash::Hash + Clone>(a: &[T], b: &[T]) -> (usize, f64) {
    let mut counts: HashMap<T, usize> = HashMap::new();
    for x in b {
        *counts.entry(x.clone()).or_default() += 1;
    }
    let mut matched = 0;
    for x in a {
        if let Some(n) = counts.get_mut(x) {
            if *n > 0 {
                *n -= 1;
                matched += 1;
            }
        }
    }
    let longest = a.len().max(b.len());
    let rate = if longest == 0 {
        1.0
    } else {
        matched as f64 / longest as f64
    };
    (matched, rate)
}

/// Up to `n` items of `a` without a partner in `b`, and of `b` without one in `a`.
pub fn unmatched<T: Eq + std::hash::Hash + Clone>(a: &[T], b: &[T], n: usize) -> (Vec<T>, Vec<T>) {
    let one_way = |x: &[T], y: &[T]| {
        let mut counts: HashMap<T, usize> = HashMap::new();
        for v in y {
            *counts.entry(v.clone()).or_default() += 1;
        }
        let mut left = Vec::new();
        for v in x {
            match counts.get_mut(v) {
                Some(k) if *k > 0 => *k -= 1,
                _ if left.len() < n => left.push(v.clone()),
                _ => {}
            }
        }
        left
    };
    (one_way(a, b), one_way(b, a))
}

/// One connection's payload deliveries `(is_orig, bytes)` in order.
pub type Conversation = (ConnId, Vec<(bool, Vec<u8>)>);

/// The TCP payloads of `path`'s connections on `port`, held in memory (speed tests).
pub fn conversations(path: &Path, port: u16) -> Vec<Conversation> {
    let mut all: Vec<Conversation> = Vec::new();
    let mut index: HashMap<usize, usize> = HashMap::new();
    replay_tcp(
        path,
        |s, d| s == port || d == port,
        |ev| match ev {
            Delivery::Open(i, id) => {
                index.insert(i, all.len());
                all.push((id.clone(), Vec::new()));
            }
            Delivery::Data {
                conn,
                is_orig,
                data,
                ..
            } => all[index[&conn]].1.push((is_orig, data.to_vec())),
            _ => {}
        },
    );
    all
}
