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

/// CPU time this thread has run, in seconds (`/proc/thread-self/schedstat`,
/// so time spent waiting for a busy machine's cores does not count); wall
/// time where that file is missing.
fn cpu_seconds(wall: Instant) -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or_else(|| wall.elapsed().as_secs_f64(), |ns| ns as f64 / 1e9)
}

fn run_once(packets: &[SimPacket], identity: bool) -> f64 {
    let mut pipe = Pipeline::new(PipelineConfig {
        identity: identity.then(IdentityConfig::default),
        ..PipelineConfig::default()
    });
    let (mut c, mut p, mut e) = (
        CountingSink::default(),
        CountingSink::default(),
        CountingSink::default(),
    );
    let wall = Instant::now();
    let started = cpu_seconds(wall);
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
    let spent = cpu_seconds(wall) - started;
    if identity && std::env::var_os("GATEWATCH_IDENTITY_PERF").is_some() {
        let counters = pipe.counters();
        let identity = counters.iter().filter(|(n, _)| n.starts_with("identity."));
        eprintln!("{:?}", identity.collect::<Vec<_>>());
    }
    spent
}

/// Best of `runs` alternating runs without and with identity.
fn best_of(runs: usize, packets: &[SimPacket]) -> (f64, f64) {
    let (mut without, mut with) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..runs {
        without = without.min(run_once(packets, false));
        with = with.min(run_once(packets, true));
    }
    (without, with)
}

#[test]
#[ignore = "timing; run in release"]
fn identity_adds_at_most_fifteen_percent_to_analyze() {
    let cfg = SimConfig::new(200, 4.0, 3).with_attacks(vec![AttackKind::All]);
    let mut packets = Vec::new();
    simulate(&cfg, &mut packets).unwrap();
    // GATEWATCH_IDENTITY_PERF=with|without runs one side only (for
    // `perf stat`, which counts instructions regardless of machine load).
    match std::env::var("GATEWATCH_IDENTITY_PERF").as_deref() {
        Ok("with") => return eprintln!("with identity: {:.3} s", run_once(&packets, true)),
        Ok("without") => return eprintln!("without: {:.3} s", run_once(&packets, false)),
        _ => {}
    }
    let (without, with) = best_of(7, &packets);
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
