//! ARP analyzer on real captures: the first `Setup-*.pcap` of every IoT
//! Sentinel device folder, compared with tshark's `arp.opcode`,
//! `arp.src.hw_mac` and `arp.src.proto_ipv4` (request and reply counts, and
//! every sender MAC/IP pair named by arp.log). Skips with a printed reason
//! when the captures or tshark are absent.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)] // tests may panic on broken fixtures

use std::collections::BTreeSet;
use std::fs::File;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use gatewatch_engine::decode::{ArpOperation, Decoder, Network};
use gatewatch_engine::proto::arp::{ArpAnalyzer, ArpCounters, ArpRecord};
use gatewatch_engine::source::CaptureReader;

fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iot-sentinel");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: IoT Sentinel captures not found at {}",
            dir.display()
        );
        None
    }
}

fn tshark_available() -> bool {
    let ok = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping: tshark not installed");
    }
    ok
}

/// What tshark sees: request and reply counts and the (sender MAC, sender IP) pairs.
#[derive(Debug, Default, PartialEq, Eq)]
struct ArpSummary {
    requests: u64,
    replies: u64,
    senders: BTreeSet<(String, String)>,
}

fn tshark_summary(path: &Path) -> ArpSummary {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args([
            "-Y",
            "arp",
            "-T",
            "fields",
            "-e",
            "arp.opcode",
            "-e",
            "arp.src.hw_mac",
        ])
        .args(["-e", "arp.src.proto_ipv4", "-e", "arp.dst.proto_ipv4"])
        .output()
        .expect("run tshark");
    let mut s = ArpSummary::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 || cols[2].is_empty() {
            continue;
        }
        match cols[0] {
            "1" => s.requests += 1,
            "2" => s.replies += 1,
            _ => continue,
        }
        if cols[2] != "0.0.0.0" {
            s.senders.insert((cols[1].to_string(), cols[2].to_string()));
        }
    }
    s
}

/// The same summary from the analyzer: counters and the senders its records name.
fn engine_summary(path: &Path) -> (ArpSummary, Vec<ArpRecord>) {
    let mut reader = CaptureReader::new(std::io::BufReader::new(File::open(path).unwrap()))
        .expect("capture header");
    let mut decoder = Decoder::new();
    let mut a = ArpAnalyzer::new();
    let mut c = ArpCounters::default();
    let mut recs = Vec::new();
    while let Ok(Some(raw)) = reader.next_packet() {
        let pkt = decoder.decode(&raw);
        if let Network::Arp(arp) = &pkt.network {
            a.on_packet(pkt.ts, &pkt, arp, &mut c, &mut recs);
        }
    }
    a.on_end(&mut c, &mut recs);
    let mut s = ArpSummary {
        requests: c.requests,
        replies: c.replies,
        senders: BTreeSet::new(),
    };
    let unspecified = Ipv4Addr::UNSPECIFIED;
    for r in &recs {
        // Request senders are the askers; reply senders the answerers.
        if r.operation == ArpOperation::Request && r.orig_h != unspecified {
            s.senders
                .insert((r.orig_mac.to_string(), r.orig_h.to_string()));
        }
        if let (Some(h), Some(m)) = (r.resp_h, r.is_at) {
            if h != unspecified {
                s.senders.insert((m.to_string(), h.to_string()));
            }
        }
    }
    (s, recs)
}

/// The first `Setup-*.pcap` of every IoT Sentinel device folder.
fn sentinel_captures(dir: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    folders
        .iter()
        .filter_map(|f| {
            let mut files: Vec<PathBuf> = std::fs::read_dir(f)
                .ok()?
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    let name = p.file_name().unwrap().to_string_lossy();
                    name.starts_with("Setup-") && name.ends_with(".pcap")
                })
                .collect();
            files.sort();
            files.into_iter().next()
        })
        .collect()
}

#[test]
fn iot_sentinel_requests_replies_and_senders_match_tshark() {
    let Some(dir) = data_dir() else { return };
    if !tshark_available() {
        return;
    }
    let files = sentinel_captures(&dir);
    assert!(!files.is_empty(), "no Setup-*.pcap under {}", dir.display());
    let (mut agree, mut total, mut packets, mut exchanges) = (0, 0, 0u64, 0usize);
    let mut answered = 0usize;
    for f in &files {
        let expected = tshark_summary(f);
        let (got, recs) = engine_summary(f);
        total += 1;
        packets += expected.requests + expected.replies;
        exchanges += recs.len();
        answered += recs.iter().filter(|r| r.no_resp == Some(false)).count();
        if got == expected {
            agree += 1;
        } else {
            eprintln!("{}: tshark {expected:?}\n  gatewatch {got:?}", f.display());
        }
    }
    eprintln!(
        "ARP vs tshark: {agree}/{total} captures agree ({packets} ARP packets, \
         {exchanges} arp.log lines, {answered} answered requests)"
    );
    assert_eq!(agree, total, "captures disagreeing with tshark");
    assert!(packets > 0, "the captures hold no ARP");
    assert!(answered > 0, "no request was paired with its reply");
}
