//! `gatewatch simulate`: seeded fleet generator in → `DIR/fleet.pcap` and
//! `DIR/truth.jsonl` out (same seed → byte-identical files).

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use gatewatch_engine::simulate::{self, pcap_out, AttackKind, SimConfig, SimPacket, SimSummary};
use gatewatch_engine::Sink;

#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// Number of devices in the fleet.
    #[arg(long, default_value_t = 20)]
    pub devices: usize,
    /// Hours of packet time to generate.
    #[arg(long, default_value_t = 1.0)]
    pub hours: f64,
    /// Random seed: the same seed gives byte-identical output.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Attacks to inject (comma-separated truth kinds, `mirai` or `all`); none by default.
    #[arg(long, value_delimiter = ',')]
    pub attacks: Vec<String>,
    /// Output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

/// Writes packets to a pcap file as they are generated.
struct PcapFileSink<W: Write> {
    out: W,
    buf: Vec<u8>,
    error: Option<std::io::Error>,
}

impl<W: Write> Sink<SimPacket> for PcapFileSink<W> {
    fn push(&mut self, p: SimPacket) {
        pcap_out::append_record(p.ts, &p.frame, &mut self.buf);
        if self.buf.len() >= 1 << 20 {
            self.drain();
        }
    }
}

impl<W: Write> PcapFileSink<W> {
    fn drain(&mut self) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(&self.buf) {
                self.error = Some(e);
            }
        }
        self.buf.clear();
    }
}

/// Generates the fleet described by `args` into `args.out`.
pub fn generate(args: &SimulateArgs) -> Result<SimSummary> {
    anyhow::ensure!(args.devices > 0, "--devices: must be at least 1");
    anyhow::ensure!(
        args.hours.is_finite() && args.hours > 0.0,
        "--hours: must be a positive number"
    );
    let attacks = args
        .attacks
        .iter()
        .map(|a| {
            a.parse::<AttackKind>()
                .map_err(|e| anyhow::anyhow!("--attacks: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create directory", args.out.display()))?;
    let pcap_path = args.out.join("fleet.pcap");
    let file = File::create(&pcap_path)
        .with_context(|| format!("{}: cannot create", pcap_path.display()))?;
    let mut sink = PcapFileSink {
        out: BufWriter::new(file),
        buf: pcap_out::file_header(65_535).to_vec(),
        error: None,
    };
    let cfg = SimConfig {
        devices: args.devices,
        hours: args.hours,
        seed: args.seed,
        attacks,
        ..SimConfig::default()
    };
    let summary = simulate::simulate(&cfg, &mut sink).map_err(|e| anyhow::anyhow!("{e}"))?;
    sink.drain();
    if let Some(e) = sink.error {
        return Err(e).with_context(|| format!("{}: write failed", pcap_path.display()));
    }
    sink.out
        .flush()
        .with_context(|| format!("{}: write failed", pcap_path.display()))?;
    write_truth(&args.out.join("truth.jsonl"), &summary)?;
    Ok(summary)
}

fn write_truth(path: &Path, summary: &SimSummary) -> Result<()> {
    let mut w = BufWriter::new(
        File::create(path).with_context(|| format!("{}: cannot create", path.display()))?,
    );
    for t in &summary.truth {
        serde_json::to_writer(&mut w, t)?;
        w.write_all(b"\n")?;
    }
    w.flush()
        .with_context(|| format!("{}: write failed", path.display()))
}

pub fn run(args: SimulateArgs) -> Result<ExitCode> {
    let summary = generate(&args)?;
    eprintln!(
        "wrote {} packets from {} devices and {} attack(s) to {}",
        summary.packets,
        summary.devices.len(),
        summary.truth.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
