//! The lifecycle findings end to end: a simulated fleet analyzed with the
//! built-in catalogue writes firmware and exposure findings to evidence.jsonl
//! and the store; `devices lifecycle` reports patch compliance; a bad
//! catalogue is refused with its file and line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::{Command, Output};

fn gatewatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatewatch"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[test]
fn analyze_reports_lifecycle_findings_and_devices_lifecycle_reads_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    let out = dir.path().join("out");
    let db = dir.path().join("fleet.db");
    let (sim_s, out_s, db_s) = (
        sim.to_str().unwrap(),
        out.to_str().unwrap(),
        db.to_str().unwrap(),
    );
    ok(&gatewatch(&[
        "simulate",
        "--devices",
        "20",
        "--hours",
        "1",
        "--seed",
        "7",
        "--attacks",
        "all",
        "--out",
        sim_s,
    ]));
    let pcap = sim.join("fleet.pcap");
    ok(&gatewatch(&[
        "analyze",
        pcap.to_str().unwrap(),
        "--out",
        out_s,
        "--db",
        db_s,
        "-q",
    ]));

    let evidence: Vec<serde_json::Value> = std::fs::read_to_string(out.join("evidence.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = evidence
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"firmware.outdated"), "{kinds:?}");
    assert!(kinds.contains(&"exposure.telnet"), "{kinds:?}");
    let outdated = evidence
        .iter()
        .find(|e| e["kind"] == "firmware.outdated")
        .unwrap();
    assert_eq!(outdated["detector"], "lifecycle");
    assert!(outdated["summary"].as_str().unwrap().contains(", latest "));
    // Sorted by packet time.
    let ts: Vec<f64> = evidence.iter().map(|e| e["ts"].as_f64().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]));

    let report: serde_json::Value = serde_json::from_str(&ok(&gatewatch(&[
        "devices",
        "lifecycle",
        "--db",
        db_s,
        "--json",
    ])))
    .unwrap();
    assert!(
        report["report"]["in_catalogue"].as_u64().unwrap() >= 3,
        "{report}"
    );
    assert!(report["report"]["patch_compliance_pct"].as_f64().is_some());
    assert!(!report["findings"].as_array().unwrap().is_empty());

    let bad = dir.path().join("cat.yaml");
    std::fs::write(
        &bad,
        "version: 1\nproducts:\n  - vendor: X\n    eol: 2020-01-01\n",
    )
    .unwrap();
    let o = gatewatch(&[
        "devices",
        "lifecycle",
        "--db",
        db_s,
        "--catalogue",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cat.yaml:4:"), "{err}");
}
