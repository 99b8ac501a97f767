//! `gatewatch bench FILE`: packets/s and Mbit/s per pipeline stage (read,
//! decode, flows, protocol analyzers with records built, identity) on one
//! thread, and `--flow-memory N`: resident memory of N concurrent flows.
//!
//! The capture is loaded into memory first, so the figures are CPU cost
//! (as with a file in the page cache, minus the read syscalls). Each stage is
//! repeated until `--min-seconds` have passed; the best pass is reported
//! together with the median.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use gatewatch_engine::decode::Decoder;
use gatewatch_engine::flow::{FlowConfig, FlowTable};
use gatewatch_engine::identity::IdentityConfig;
use gatewatch_engine::pipeline::{Pipeline, PipelineConfig};
use gatewatch_engine::sink::CountingSink;
use gatewatch_engine::source::{CaptureReader, LinkType, RawPacket};
use gatewatch_engine::Timestamp;
use serde_json::json;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Capture file to measure on (loaded into memory first).
    pub file: Option<PathBuf>,
    /// Keep repeating each stage until this many seconds have passed.
    #[arg(long, default_value_t = 3.0)]
    pub min_seconds: f64,
    /// Instead of a file: create N concurrent UDP flows and report memory per flow.
    #[arg(long, value_name = "N")]
    pub flow_memory: Option<usize>,
    /// Instead of a file: a store with N synthetic devices; times list and show, reports size per device.
    #[arg(long, value_name = "N")]
    pub store_devices: Option<usize>,
    /// With --store-devices: keep the database at this new path (default: a temporary file).
    #[arg(long, value_name = "PATH", requires = "store_devices")]
    pub store_db: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Measure only the named stages (repeatable): read, read+decode,
    /// read+decode+flows, +analyzers, +identity. Handy under a profiler.
    #[arg(long = "stage", value_name = "NAME")]
    pub stages: Vec<String>,
}

/// One pass of a stage over the capture: (packets, wire bytes).
type StagePass = Box<dyn Fn(&[u8]) -> Option<(u64, u64)>>;

/// One stage's measurement.
struct StageResult {
    stage: &'static str,
    packets: u64,
    wire_bytes: u64,
    best_s: f64,
    median_s: f64,
}

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    let mut out = String::new();
    if let Some(n) = args.flow_memory {
        return flow_memory(n, args.json);
    }
    if let Some(n) = args.store_devices {
        return crate::cli::bench_store::run(n, args.store_db.as_deref(), args.json);
    }
    let Some(path) = args.file.as_ref() else {
        anyhow::bail!("give a capture FILE to measure, --flow-memory N or --store-devices N");
    };
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    // Validate once, so a bad file is reported before any timing.
    CaptureReader::new(bytes.as_slice()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;

    let all: Vec<(&'static str, StagePass)> = vec![
        (
            "read",
            Box::new(|data: &[u8]| {
                let mut r = CaptureReader::new(data).ok()?;
                let (mut n, mut b) = (0u64, 0u64);
                while let Ok(Some(p)) = r.next_packet() {
                    n += 1;
                    b += u64::from(p.orig_len);
                }
                Some((n, b))
            }),
        ),
        (
            "read+decode",
            Box::new(|data: &[u8]| {
                let mut r = CaptureReader::new(data).ok()?;
                let mut d = Decoder::new();
                let (mut n, mut b) = (0u64, 0u64);
                while let Ok(Some(p)) = r.next_packet() {
                    let pkt = d.decode(&p);
                    n += 1;
                    b += u64::from(pkt.wire_len);
                }
                Some((n, b))
            }),
        ),
        (
            "read+decode+flows",
            Box::new(|data: &[u8]| {
                let mut r = CaptureReader::new(data).ok()?;
                let mut pipe = Pipeline::new(PipelineConfig {
                    analyzers: false,
                    ..PipelineConfig::default()
                });
                let mut sink = CountingSink::default();
                let (mut n, mut b) = (0u64, 0u64);
                while let Ok(Some(p)) = r.next_packet() {
                    n += 1;
                    b += u64::from(p.orig_len);
                    pipe.process(&p, &mut sink);
                }
                pipe.finish(&mut sink);
                Some((n, b))
            }),
        ),
        (
            "+analyzers",
            Box::new(|data: &[u8]| {
                let mut r = CaptureReader::new(data).ok()?;
                let mut pipe = Pipeline::new(PipelineConfig::default());
                let mut sink = CountingSink::default();
                let mut records = CountingSink::default();
                let (mut n, mut b) = (0u64, 0u64);
                while let Ok(Some(p)) = r.next_packet() {
                    n += 1;
                    b += u64::from(p.orig_len);
                    pipe.process_all(&p, &mut sink, &mut records);
                }
                pipe.finish_all(&mut sink, &mut records);
                Some((n, b))
            }),
        ),
        (
            "+identity",
            Box::new(|data: &[u8]| {
                let mut r = CaptureReader::new(data).ok()?;
                let mut pipe = Pipeline::new(PipelineConfig {
                    identity: Some(IdentityConfig::default()),
                    ..PipelineConfig::default()
                });
                let mut sink = CountingSink::default();
                let mut records = CountingSink::default();
                let mut evidence = CountingSink::default();
                let (mut n, mut b) = (0u64, 0u64);
                while let Ok(Some(p)) = r.next_packet() {
                    n += 1;
                    b += u64::from(p.orig_len);
                    pipe.process_with_evidence(&p, &mut sink, &mut records, &mut evidence);
                }
                pipe.finish_all(&mut sink, &mut records);
                Some((n, b))
            }),
        ),
    ];
    for wanted in &args.stages {
        if !all.iter().any(|(name, _)| name == wanted) {
            let names: Vec<&str> = all.iter().map(|(name, _)| *name).collect();
            anyhow::bail!(
                "--stage {wanted}: no such stage (stages: {})",
                names.join(", ")
            );
        }
    }
    let stages: Vec<StageResult> = all
        .iter()
        .filter(|(name, _)| args.stages.is_empty() || args.stages.iter().any(|w| w == name))
        .map(|(name, pass)| measure(name, &bytes, args.min_seconds, pass))
        .collect::<Result<_>>()?;
    let rss = peak_rss_kib();
    if args.json {
        let rows: Vec<_> = stages
            .iter()
            .map(|s| {
                json!({
                    "stage": s.stage,
                    "packets": s.packets,
                    "wire_bytes": s.wire_bytes,
                    "best_seconds": s.best_s,
                    "median_seconds": s.median_s,
                    "packets_per_s": s.packets as f64 / s.best_s,
                    "mbit_per_s": s.wire_bytes as f64 * 8.0 / s.best_s / 1e6,
                    "median_packets_per_s": s.packets as f64 / s.median_s,
                })
            })
            .collect();
        let v = json!({"file": path.display().to_string(), "threads": 1, "stages": rows, "peak_rss_kib": rss});
        outln!(out, "{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!(
            out,
            "{}: {} packets, {} bytes on the wire (in memory, 1 thread)",
            path.display(),
            stages.first().map_or(0, |s| s.packets),
            stages.first().map_or(0, |s| s.wire_bytes)
        );
        outln!(
            out,
            "{:<20} {:>14} {:>12} {:>10} {:>16}",
            "stage",
            "packets/s",
            "Mbit/s",
            "ns/pkt",
            "median pkts/s"
        );
        for s in &stages {
            let pps = s.packets as f64 / s.best_s;
            outln!(
                out,
                "{:<20} {:>14.0} {:>12.1} {:>10.1} {:>16.0}",
                s.stage,
                pps,
                s.wire_bytes as f64 * 8.0 / s.best_s / 1e6,
                1e9 / pps.max(1e-9),
                s.packets as f64 / s.median_s
            );
        }
        if let Some(kib) = rss {
            outln!(
                out,
                "peak RSS {:.1} MiB (includes the file held in memory)",
                kib as f64 / 1024.0
            );
        }
    }
    crate::emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// Repeats `pass` over `data` until `min_seconds` passed (at least 3 passes).
fn measure(
    stage: &'static str,
    data: &[u8],
    min_seconds: f64,
    pass: &StagePass,
) -> Result<StageResult> {
    let mut times = Vec::new();
    let mut totals = (0, 0);
    let start = Instant::now();
    while times.len() < 3 || start.elapsed().as_secs_f64() < min_seconds {
        let t = Instant::now();
        totals = pass(data).context("capture became unreadable during the benchmark")?;
        times.push(t.elapsed().as_secs_f64());
        if times.len() >= 1000 {
            break;
        }
    }
    times.sort_by(f64::total_cmp);
    let best_s = times.first().copied().unwrap_or(f64::NAN).max(1e-9);
    let median_s = times
        .get(times.len() / 2)
        .copied()
        .unwrap_or(best_s)
        .max(1e-9);
    Ok(StageResult {
        stage,
        packets: totals.0,
        wire_bytes: totals.1,
        best_s,
        median_s,
    })
}

/// Builds `n` concurrent UDP flows (distinct source address/port pairs) and
/// reports the resident memory they take.
fn flow_memory(n: usize, as_json: bool) -> Result<ExitCode> {
    let mut out = String::new();
    let before = current_rss_kib().unwrap_or(0);
    let mut table = FlowTable::new(FlowConfig {
        max_flows: n.max(1),
        ..FlowConfig::default()
    });
    let mut decoder = Decoder::new();
    let mut sink = CountingSink::default();
    let mut frame = udp_frame_template();
    let t0 = Instant::now();
    for i in 0..n {
        // 10.x.y.z source, port varies: every i a distinct 5-tuple.
        let ip = 0x0a00_0000u32 | ((i as u32 >> 8) & 0x00ff_ffff);
        let port = 1024 + (i as u16 & 0xff);
        set_src(&mut frame, ip, port);
        let raw = RawPacket {
            ts: Timestamp::from_secs_nanos(1_700_000_000, (i % 1_000_000_000) as u32),
            data: &frame,
            orig_len: frame.len() as u32,
            link: LinkType::ETHERNET,
            interface: 0,
        };
        let pkt = decoder.decode(&raw);
        table.observe(&pkt, &mut sink);
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let after = current_rss_kib().unwrap_or(0);
    let tracked = table.len();
    let delta = after.saturating_sub(before) as f64 * 1024.0;
    let per_flow = delta / tracked.max(1) as f64;
    if as_json {
        let v = json!({"flows": tracked, "written_early": sink.count, "rss_delta_bytes": delta,
            "bytes_per_flow": per_flow, "estimated_bytes_per_flow": FlowTable::bytes_per_flow(),
            "seconds": elapsed});
        outln!(out, "{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!(
            out,
            "{tracked} concurrent flows: RSS +{:.1} MiB, {per_flow:.0} bytes/flow measured \
             ({} estimated), created in {elapsed:.2} s",
            delta / 1048576.0,
            FlowTable::bytes_per_flow()
        );
    }
    crate::emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// Ethernet + IPv4 + UDP (8 payload bytes), checksums zero (not verified).
fn udp_frame_template() -> Vec<u8> {
    let mut f = vec![
        0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00, // ethernet
        0x45, 0, 0, 36, 0, 0, 0, 0, 64, 17, 0, 0, // ipv4 up to checksum
        10, 0, 0, 1, 10, 1, 0, 1, // src, dst
        0x04, 0x00, 0x00, 0x35, 0, 16, 0, 0, // udp
    ];
    f.extend_from_slice(b"gatewatc");
    f
}

fn set_src(frame: &mut [u8], ip: u32, port: u16) {
    if let Some(s) = frame.get_mut(26..30) {
        s.copy_from_slice(&ip.to_be_bytes());
    }
    if let Some(s) = frame.get_mut(34..36) {
        s.copy_from_slice(&port.to_be_bytes());
    }
}

fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn current_rss_kib() -> Option<u64> {
    status_kib("VmRSS:")
}

fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM:")
}
