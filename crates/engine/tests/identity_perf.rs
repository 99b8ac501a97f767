//! What the identity stage adds to the analyze pipeline (budget: 15 %).
//! Run in release: `cargo test --release -p gatewatch-engine --test
//! identity_perf -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use gatewatch_engine::identity::IdentityConfig;
use gatewatch_engine::pipeline::{Pipeline, PipelineConfig};
use gatewatch_engine::simulate::{simulate, AttackKind, SimConfig, SimPacket};
use gatewatch_engine::sink::CountingSink;
use gatewatch_engine::source::{LinkType, RawPacket};

fn best_of(runs: usize, packets: &[SimPacket], identity: bool) -> f64 {
    (0..runs)
        .map(|_| {
            let mut pipe = Pipeline::new(PipelineConfig {
                identity: identity.then(IdentityConfig::default),
                ..PipelineConfig::default()
            });
            let (mut c, mut p, mut e) = (
                CountingSink::default(),
                CountingSink::default(),
                CountingSink::default(),
            );
            let started = Instant::now();
            for s in packets {
                let raw = RawPacket {
                    ts: s.ts,
                    data: &s.frame,
                    orig_len: s.frame.len() as u32,
                    link: LinkType::ETHERNET,
                    interface: 0,
                };
                pipe.process_with_evidence(&raw, &mut c, &mut p, &mut e);
            }
            pipe.finish_all(&mut c, &mut p);
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
#[ignore = "timing; run in release"]
fn identity_adds_at_most_fifteen_percent_to_analyze() {
    let cfg = SimConfig::new(200, 4.0, 3).with_attacks(vec![AttackKind::All]);
    let mut packets = Vec::new();
    simulate(&cfg, &mut packets).unwrap();
    let without = best_of(5, &packets, false);
    let with = best_of(5, &packets, true);
    let overhead = with / without - 1.0;
    eprintln!(
        "{} packets: analyzers {:.3} s ({:.0} ns/packet), + identity {:.3} s: +{:.1} %",
        packets.len(),
        without,
        without * 1e9 / packets.len() as f64,
        with,
        overhead * 100.0
    );
    assert!(overhead <= 0.15, "identity adds {:.1} %", overhead * 100.0);
}
