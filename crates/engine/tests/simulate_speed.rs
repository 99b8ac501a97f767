//! Speed and volume of a 100-device, 24-hour capture (run with `--release -- --ignored`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use gatewatch_engine::simulate::{pcap_out, simulate, AttackKind, SimConfig, SimPacket};
use gatewatch_engine::sink::FnSink;

#[test]
#[ignore = "measures a 100 × 24 h run; use a release build"]
fn hundred_devices_for_a_day_within_thirty_seconds() {
    let cfg = SimConfig::new(100, 24.0, 1).with_attacks(vec![AttackKind::All, AttackKind::Mirai]);
    let mut pcap = Vec::with_capacity(1 << 20);
    let mut written = 0u64;
    let started = Instant::now();
    // Serialize as the CLI does, flushing a bounded buffer, to include the pcap encoding cost.
    let mut sink = FnSink(|p: SimPacket| {
        pcap_out::append_record(p.ts, &p.frame, &mut pcap);
        if pcap.len() > 1 << 20 {
            written += pcap.len() as u64;
            pcap.clear();
        }
    });
    let summary = simulate(&cfg, &mut sink).unwrap();
    written += pcap.len() as u64 + 24;
    let elapsed = started.elapsed();
    eprintln!(
        "100 devices × 24 h: {} packets, {} bytes of pcap, {} truth records, {:.2} s",
        summary.packets,
        written,
        summary.truth.len(),
        elapsed.as_secs_f64()
    );
    assert!(summary.packets > 1_000_000 && summary.packets < 6_000_000);
    if !cfg!(debug_assertions) {
        assert!(elapsed.as_secs_f64() <= 30.0, "took {elapsed:?}");
    }
}
