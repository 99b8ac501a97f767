//! Oracle: per-conversation packet and byte totals of `gatewatch flows` equal
//! what `tshark -q -z conv,tcp -z conv,udp` reports on the shared captures.
//!
//! tshark counts frames and frame bytes per address/port pair over the whole
//! capture; gatewatch may split a pair into several connections (timeouts,
//! port reuse), so records are summed per unordered pair before comparing.
//! tshark prints byte totals of 10 kB and more rounded ("13 kB"): those are
//! compared within the rounding of the printed unit, smaller ones exactly.
//! Frame counts are always exact.
//!
//! Skips with a printed reason when tshark or ../shared/data is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

type Pair = (String, String, &'static str); // (lower endpoint, higher endpoint, proto)

#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Totals {
    frames: u64,
    bytes: u64,
    /// tshark truncates sizes of 10 kB and more to the digits it prints:
    /// the true total lies in `bytes .. bytes + slack`.
    slack: u64,
}

fn data_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    d.is_dir().then_some(d)
}

fn have_tshark() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `addr:port` as tshark prints it (IPv6 without brackets).
fn endpoint(addr: &str, port: u64) -> String {
    format!("{addr}:{port}")
}

fn pair(a: String, b: String, proto: &'static str) -> Pair {
    if a <= b {
        (a, b, proto)
    } else {
        (b, a, proto)
    }
}

/// Parses a tshark size like "5737 bytes", "13 kB", "1.2 MB" into (bytes, slack).
fn parse_size(num: &str, unit: &str) -> Option<(u64, u64)> {
    let v: f64 = num.replace(',', "").parse().ok()?;
    let scale = match unit {
        "bytes" => return Some((v as u64, 0)),
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        _ => return None,
    };
    // The printed value is truncated to the digits shown (35,546 bytes prints as
    // "35 kB"): the true value lies below the next step of the last digit.
    let decimals = num.split('.').nth(1).map_or(0, |d| d.len()) as i32;
    let step = scale / 10f64.powi(decimals);
    Some(((v * scale).round() as u64, step.round() as u64 - 1))
}

/// Runs tshark's conversation tables and parses them.
fn tshark_conversations(file: &Path) -> BTreeMap<Pair, Totals> {
    let out = Command::new("tshark")
        .args(["-n", "-q", "-r"])
        .arg(file)
        .args(["-z", "conv,tcp", "-z", "conv,udp"])
        .output()
        .expect("run tshark");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut proto = "";
    let mut map = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with("TCP Conversations") {
            proto = "tcp";
            continue;
        }
        if line.starts_with("UDP Conversations") {
            proto = "udp";
            continue;
        }
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.len() < 14 || toks.get(1) != Some(&"<->") {
            continue;
        }
        // a <-> b  f1 n1 u1  f2 n2 u2  F N U  start dur
        let (a, b) = (toks[0].to_string(), toks[2].to_string());
        let frames: u64 = toks[9].parse().expect("frames");
        let (bytes, slack) = parse_size(toks[10], toks[11]).expect("size");
        // tshark lists a reused address/port pair once per TCP stream: sum them.
        let t: &mut Totals = map.entry(pair(a, b, proto)).or_default();
        t.frames += frames;
        t.bytes += bytes;
        t.slack += slack;
    }
    map
}

/// Runs `gatewatch flows --format jsonl` and sums records per pair.
fn gatewatch_conversations(file: &Path) -> BTreeMap<Pair, Totals> {
    let out = Command::new(env!("CARGO_BIN_EXE_gatewatch"))
        .args(["--quiet", "flows", "--format", "jsonl"])
        .arg(file)
        .output()
        .expect("run gatewatch");
    assert!(
        out.status.success(),
        "gatewatch flows failed on {}",
        file.display()
    );
    let mut map: BTreeMap<Pair, Totals> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        let proto = match v["proto"].as_str() {
            Some("tcp") => "tcp",
            Some("udp") => "udp",
            _ => continue,
        };
        let a = endpoint(
            v["id.orig_h"].as_str().unwrap(),
            v["id.orig_p"].as_u64().unwrap(),
        );
        let b = endpoint(
            v["id.resp_h"].as_str().unwrap(),
            v["id.resp_p"].as_u64().unwrap(),
        );
        let t = map.entry(pair(a, b, proto)).or_default();
        t.frames += v["orig_pkts"].as_u64().unwrap() + v["resp_pkts"].as_u64().unwrap();
        t.bytes += v["orig_l2_bytes"].as_u64().unwrap() + v["resp_l2_bytes"].as_u64().unwrap();
    }
    map
}

/// Compares one capture; returns (conversations compared, mismatches as text).
fn compare(file: &Path) -> (usize, Vec<String>) {
    let theirs = tshark_conversations(file);
    let ours = gatewatch_conversations(file);
    let mut bad = Vec::new();
    for (k, t) in &theirs {
        match ours.get(k) {
            None => bad.push(format!(
                "{k:?}: tshark {t:?}, gatewatch has no such conversation"
            )),
            Some(o) => {
                let bytes_ok = o.bytes >= t.bytes && o.bytes <= t.bytes + t.slack;
                if o.frames != t.frames || !bytes_ok {
                    bad.push(format!(
                        "{k:?}: tshark {} frames {} bytes (+{}), gatewatch {} frames {} bytes",
                        t.frames, t.bytes, t.slack, o.frames, o.bytes
                    ));
                }
            }
        }
    }
    for k in ours.keys() {
        if !theirs.contains_key(k) {
            bad.push(format!(
                "{k:?}: gatewatch has a conversation tshark does not"
            ));
        }
    }
    (theirs.len(), bad)
}

/// Captures from MQTTset, nDPI and ICS covering Ethernet, Linux cooked, VLAN,
/// null/loopback, pcapng and nanosecond files.
const CAPTURES: &[&str] = &[
    "mqttset/benign.pcap",
    "mqttset/bruteforce.pcapng",
    "mqttset/flood.pcap",
    "mqttset/malariados.pcap",
    "mqttset/malformed.pcap",
    "mqttset/slowite.pcap",
    "ndpi/pcap/mqtt.pcap",
    "ndpi/pcap/dns.pcap",
    "ndpi/pcap/telnet.pcap",
    "ndpi/pcap/nats.pcap",
    "ndpi/pcap/coap_mqtt.pcap",
    "ndpi/pcap/modbus.pcap",
    "ndpi/pcap/dnp3.pcap",
    "ndpi/pcap/ssh.pcap",
    "ndpi/pcap/http.pcapng",
    "ndpi/pcap/rtsp.pcap",
    "ndpi/pcap/synscan.pcap",
    "ndpi/pcap/upnp.pcap",
    "ics/ModbusTCP/ModbusTCP.pcap",
];

#[test]
fn conversation_totals_match_tshark() {
    let Some(data) = data_dir() else {
        eprintln!("skipping: ../shared/data is not present");
        return;
    };
    if !have_tshark() {
        eprintln!("skipping: tshark is not installed (apt-get install tshark)");
        return;
    }
    let mut failures = Vec::new();
    let mut compared = 0;
    for rel in CAPTURES {
        let file = data.join(rel);
        if !file.exists() {
            eprintln!("note: {rel} not in this copy of the data; skipped");
            continue;
        }
        let (n, bad) = compare(&file);
        compared += n;
        eprintln!("{rel}: {n} conversations, {} mismatches", bad.len());
        for b in bad.iter().take(5) {
            eprintln!("  {b}");
        }
        if !bad.is_empty() {
            failures.push(format!("{rel}: {} mismatches", bad.len()));
        }
    }
    eprintln!("compared {compared} conversations with tshark");
    assert!(compared > 0, "no conversations compared");
    assert!(failures.is_empty(), "mismatches with tshark: {failures:?}");
}

/// Survey over every capture in the manifest (slow; run on demand with
/// `GATEWATCH_ORACLE_ALL=1 cargo test -p gatewatch --test tshark_oracle -- --nocapture`).
/// Prints the captures that differ; fails only if fewer than 95 % of all
/// conversations agree.
#[test]
fn survey_all_captures() {
    if std::env::var_os("GATEWATCH_ORACLE_ALL").is_none() {
        eprintln!(
            "skipping: set GATEWATCH_ORACLE_ALL=1 to compare every shared capture with tshark"
        );
        return;
    }
    let Some(data) = data_dir() else {
        eprintln!("skipping: ../shared/data is not present");
        return;
    };
    if !have_tshark() {
        eprintln!("skipping: tshark is not installed");
        return;
    }
    let manifest = std::fs::read_to_string(data.join("MANIFEST.tsv")).unwrap();
    let (mut total, mut bad_total) = (0usize, 0usize);
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.get(3).is_none_or(|p| p.is_empty()) {
            continue;
        }
        let file = data.join(cols[0]);
        let (n, bad) = compare(&file);
        total += n;
        bad_total += bad.len().min(n);
        if !bad.is_empty() {
            eprintln!(
                "{}: {n} conversations, {} mismatches; first: {}",
                cols[0],
                bad.len(),
                bad[0]
            );
        }
    }
    let agree = 1.0 - bad_total as f64 / total.max(1) as f64;
    eprintln!(
        "{total} conversations, {bad_total} differ: {:.2}% agree",
        agree * 100.0
    );
    assert!(agree >= 0.95);
}
