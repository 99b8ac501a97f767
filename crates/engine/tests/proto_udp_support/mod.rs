//! Shared helpers of the UDP analyzer tests (DHCP, SSDP, NTP, CoAP): where
//! the shared captures are, a capture → UDP datagrams harness (capture order,
//! grouped into flows by 5-tuple, originator = first sender), a tshark field
//! runner keyed by frame number, and a ConnId builder for hand-built tests.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on broken fixtures
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use gatewatch_engine::decode::{Decoder, Network, Transport};
use gatewatch_engine::log::{ConnId, LogRecord, Value};
use gatewatch_engine::source::CaptureReader;
use gatewatch_engine::Timestamp;

/// `../shared/data` relative to the repository root, or `None` (with a
/// printed reason) when absent.
pub fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: shared test data not found at {}", dir.display());
        None
    }
}

/// A capture under the data folder, or `None` (with a reason) when missing.
pub fn capture(rel: &str) -> Option<PathBuf> {
    let path = data_dir()?.join(rel);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("skipping: {} not found", path.display());
        None
    }
}

/// A connection id for hand-built tests.
pub fn conn(orig: &str, orig_p: u16, resp: &str, resp_p: u16) -> ConnId {
    ConnId {
        uid: "CTest".to_string(),
        orig_h: orig.parse().expect("orig addr"),
        orig_p,
        resp_h: resp.parse().expect("resp addr"),
        resp_p,
    }
}

/// One UDP datagram of a capture.
#[derive(Debug, Clone)]
pub struct Datagram {
    /// 1-based record number, as tshark's `frame.number`.
    pub frame: usize,
    pub ts: Timestamp,
    /// Index of the flow in [`Capture::flows`].
    pub flow: usize,
    pub is_orig: bool,
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: Vec<u8>,
}

/// The UDP datagrams of a capture and the flows they belong to.
#[derive(Debug, Default)]
pub struct Capture {
    pub flows: Vec<ConnId>,
    pub datagrams: Vec<Datagram>,
}

impl Capture {
    /// The datagrams with one port in `ports`.
    pub fn on_ports<'a>(&'a self, ports: &'a [u16]) -> impl Iterator<Item = &'a Datagram> + 'a {
        self.datagrams
            .iter()
            .filter(move |d| ports.contains(&d.src_port) || ports.contains(&d.dst_port))
    }
}

type FlowKey = (IpAddr, u16, IpAddr, u16);

/// Reads every UDP datagram of `path` with the engine's reader and decoder.
pub fn udp_datagrams(path: &Path) -> Capture {
    let file = File::open(path).expect("open capture");
    let mut reader = CaptureReader::new(std::io::BufReader::new(file)).expect("capture header");
    let mut decoder = Decoder::new();
    let mut index: HashMap<FlowKey, usize> = HashMap::new();
    let mut out = Capture::default();
    let mut frame = 0usize;
    while let Ok(Some(raw)) = reader.next_packet() {
        frame += 1;
        let pkt = decoder.decode(&raw);
        let Network::Ip(ip) = &pkt.network else {
            continue;
        };
        let Transport::Udp(udp) = ip.transport else {
            continue;
        };
        let fwd = (ip.src, udp.src_port, ip.dst, udp.dst_port);
        let rev = (ip.dst, udp.dst_port, ip.src, udp.src_port);
        let (flow, is_orig) = if let Some(&f) = index.get(&fwd) {
            (f, true)
        } else if let Some(&f) = index.get(&rev) {
            (f, false)
        } else {
            let f = out.flows.len();
            out.flows.push(ConnId {
                uid: format!("C{f}"),
                orig_h: ip.src,
                orig_p: udp.src_port,
                resp_h: ip.dst,
                resp_p: udp.dst_port,
            });
            index.insert(fwd, f);
            (f, true)
        };
        out.datagrams.push(Datagram {
            frame,
            ts: pkt.ts,
            flow,
            is_orig,
            src_port: udp.src_port,
            dst_port: udp.dst_port,
            payload: udp.payload.to_vec(),
        });
    }
    out
}

/// Whether tshark can be run; prints a reason when not.
pub fn tshark_available() -> bool {
    let ok = Command::new("tshark")
        .arg("-v")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipping tshark comparison: tshark not installed");
    }
    ok
}

/// `tshark -r path -Y filter -T fields -e frame.number -e <fields>`: per
/// frame number, the fields' values (several occurrences joined by `,`).
pub fn tshark_fields(
    path: &Path,
    filter: &str,
    fields: &[&str],
    extra_args: &[&str],
) -> HashMap<usize, Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(path)
        .args(extra_args)
        .args(["-Y", filter]);
    cmd.args(["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a"]);
    cmd.args(["-E", "aggregator=,", "-e", "frame.number"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let output = cmd.output().expect("run tshark");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut rows = HashMap::new();
    for line in text.lines() {
        let mut cols = line.split('\t');
        let Some(Ok(frame)) = cols.next().map(str::parse::<usize>) else {
            continue;
        };
        let mut values: Vec<String> = cols.map(str::to_string).collect();
        values.resize(fields.len(), String::new());
        rows.insert(frame, values);
    }
    rows
}

/// The value of column `name` of a record, rendered as a plain string
/// (`""` when unset; lists joined by `,`).
pub fn field(rec: &dyn LogRecord, name: &str) -> String {
    let pos = rec
        .fields()
        .iter()
        .position(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name}"));
    let mut i = 0usize;
    let mut out = String::new();
    rec.visit_values(&mut |v| {
        if i == pos {
            out = render(&v);
        }
        i += 1;
    });
    assert_eq!(i, rec.fields().len(), "visit_values must match fields()");
    out
}

pub fn render(v: &Value<'_>) -> String {
    match v {
        Value::Unset => String::new(),
        Value::Time(t) => t.to_string(),
        Value::Interval(d) => d.to_string(),
        Value::Str(s) => s.to_string(),
        Value::Addr(a) => a.to_string(),
        Value::Port(p) => p.to_string(),
        Value::Count(c) => c.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Double(d) => d.to_string(),
        Value::Bool(b) => if *b { "T" } else { "F" }.to_string(),
        Value::StrList(l) => l.join(","),
        Value::CountList(l) => l.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
        Value::IntervalList(l) => l
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// Agreement of one field over the frames both sides have.
#[derive(Debug, Default, Clone, Copy)]
pub struct Agreement {
    pub compared: usize,
    pub equal: usize,
    /// Compared frames where tshark's value was not empty.
    pub present: usize,
}

impl Agreement {
    /// One frame: our value and tshark's.
    pub fn add(&mut self, ours: &str, theirs: &str) {
        self.compared += 1;
        self.equal += usize::from(ours == theirs);
        self.present += usize::from(!theirs.is_empty());
    }

    pub fn merge(&mut self, other: Agreement) {
        self.compared += other.compared;
        self.equal += other.equal;
        self.present += other.present;
    }

    pub fn rate(&self) -> f64 {
        if self.compared == 0 {
            1.0
        } else {
            self.equal as f64 / self.compared as f64
        }
    }
}

impl std::fmt::Display for Agreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{} ({:.1}%, {} non-empty)",
            self.equal,
            self.compared,
            self.rate() * 100.0,
            self.present
        )
    }
}

/// Reads the seed corpus files of `name` (`tests/corpus/<name>/`).
pub fn corpus(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read corpus file");
            (p.file_name().unwrap().to_string_lossy().into_owned(), bytes)
        })
        .collect()
}
