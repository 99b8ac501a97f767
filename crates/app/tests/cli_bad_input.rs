//! The binary's behaviour on bad input: exit code 2 with a message naming the
//! file (and the byte offset where it applies); a damaged tail is a warning,
//! with everything before it processed. Never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatewatch"))
        .args(args)
        .output()
        .unwrap()
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gatewatch-badinput-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn no_panic(o: &Output) {
    assert!(!stderr(o).contains("panicked"), "panic: {}", stderr(o));
}

/// A valid little-endian µs pcap with `n` 60-byte Ethernet/IPv4/UDP packets.
fn small_pcap(n: usize) -> Vec<u8> {
    let mut p = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    p.extend_from_slice(&65535u32.to_le_bytes());
    p.extend_from_slice(&1u32.to_le_bytes());
    for i in 0..n {
        let mut frame = Vec::new();
        etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(1000 + i as u16, 53)
            .write(&mut frame, &[0u8; 18])
            .unwrap();
        p.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        p.extend_from_slice(&0u32.to_le_bytes());
        p.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        p.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        p.extend_from_slice(&frame);
    }
    p
}

#[test]
fn missing_file_exits_2_naming_it() {
    let o = run(&["flows", "no/such/file.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no/such/file.pcap"), "{}", stderr(&o));
    no_panic(&o);
}

#[test]
fn directory_exits_2() {
    let dir = std::env::temp_dir();
    let o = run(&["stats", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
}

#[test]
fn zip_file_is_not_a_capture() {
    let p = temp_file(
        "archive.pcap",
        b"PK\x03\x04 this is a zip archive, not a capture",
    );
    let o = run(&["flows", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("archive.pcap"), "{e}");
    assert!(e.contains("50 4b 03 04"), "first bytes shown: {e}");
    no_panic(&o);
}

#[test]
fn empty_file_exits_2() {
    let p = temp_file("empty.pcap", b"");
    let o = run(&["stats", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("empty.pcap"), "{}", stderr(&o));
    no_panic(&o);
}

#[test]
fn damaged_tail_is_a_warning_and_earlier_packets_count() {
    let mut p = small_pcap(3);
    let full = p.len();
    p.truncate(full - 10); // cut the last record short
    let f = temp_file("cut.pcap", &p);
    let o = run(&["stats", "--json", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("offset"),
        "warning names the offset: {}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["packets"], 2);
    assert!(v["damaged_tail"].is_string());
    // --strict makes it an error.
    let o = run(&["flows", "--strict", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bad_flag_is_usage_error() {
    let o = run(&["flows", "--format", "xml", "x.pcap"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn stats_reports_counts() {
    let f = temp_file("ok.pcap", &small_pcap(5));
    let o = run(&["stats", "--json", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["packets"], 5);
    assert_eq!(v["protocols"]["udp"], 5);
    assert_eq!(v["connections"], 5);
    assert_eq!(v["link_types"]["ether(1)"], 5);
}
