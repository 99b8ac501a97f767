//! Oracle check: tshark finds no malformed packet and no error-level expert info
//! in a simulated capture with every attack. Skips (with a reason) without tshark.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod simulate_common;

use std::process::Command;

use gatewatch_engine::simulate::AttackKind;
use simulate_common::{pcap_bytes, run};

fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn tshark_reports_no_malformed_packets_or_errors() {
    if !tshark_available() {
        eprintln!("skipping: tshark is not on PATH");
        return;
    }
    let (packets, _) = run(20, 1.0, 7, &[AttackKind::All, AttackKind::Mirai]);
    let dir = std::env::temp_dir().join(format!("gatewatch-sim-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fleet.pcap");
    std::fs::write(&path, pcap_bytes(&packets)).unwrap();
    let count = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-T", "fields", "-e", "frame.number"])
        .output()
        .unwrap();
    let frames = String::from_utf8_lossy(&count.stdout).lines().count();
    let bad = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-Y", "_ws.malformed || _ws.expert.severity == error"])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        bad.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&bad.stderr)
    );
    assert_eq!(
        frames,
        packets.len(),
        "tshark read a different number of frames"
    );
    let report = String::from_utf8_lossy(&bad.stdout);
    assert!(
        report.trim().is_empty(),
        "tshark flags packets:\n{}",
        report.lines().take(20).collect::<Vec<_>>().join("\n")
    );
}
