//! `gatewatch analyze FILE --out DIR`: a capture in → `DIR/conn.log`, one log
//! per protocol seen (`dns.log`, `ssl.log`, `http.log`, `mqtt_*.log`, …),
//! `DIR/devices.jsonl` (one observed device per line, sorted by key),
//! `DIR/evidence.jsonl` and `DIR/incidents.jsonl` out.
//!
//! evidence.jsonl holds the identity stage's findings so far; the detectors
//! and correlation that add to it and fill incidents.jsonl are later stages
//! (incidents.jsonl is written empty until then, so scripts relying on the
//! contract find it).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use gatewatch_engine::identity::IdentityConfig;
use gatewatch_engine::pipeline::Pipeline;
use gatewatch_engine::{Sink, Timestamp};

use crate::capture;
use crate::cli::flows::FlowOptions;
use crate::output::logdir::LogDir;
use crate::output::LogFormat;

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Capture file (pcap, pcapng, optionally gzip-compressed); `-` reads stdin.
    pub file: PathBuf,
    /// Directory for the logs (created if missing).
    #[arg(long, short, default_value = "gatewatch-logs")]
    pub out: PathBuf,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Zeek)]
    pub format: LogFormat,
    /// Treat a damaged capture tail as an error (exit 2) instead of a warning.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub flow: FlowOptions,
}

pub fn run(args: AnalyzeArgs, quiet: bool) -> Result<ExitCode> {
    fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create directory", args.out.display()))?;
    let mut config = args.flow.pipeline_config()?;
    config.analyzers = true;
    config.identity = Some(IdentityConfig::with_local_nets(config.local_nets.clone()));
    let mut pipeline = Pipeline::new(config);
    let input = capture::open(&args.file, quiet)?;
    let name = input.name.clone();
    let mut conn = LogDir::new(&args.out, args.format);
    let mut proto = LogDir::new(&args.out, args.format);
    let evidence_path = args.out.join("evidence.jsonl");
    let mut evidence = JsonLines::create(&evidence_path)?;
    let outcome =
        capture::run_with_evidence(input, &mut pipeline, &mut conn, &mut proto, &mut evidence)?;
    pipeline.finish_all(&mut conn, &mut proto);
    pipeline.drain_evidence(&mut evidence);
    let close = pipeline.summary().last_ts.unwrap_or(Timestamp::ZERO);
    let mut counts = conn.finish(close).context("writing conn.log")?;
    counts.extend(proto.finish(close).context("writing protocol logs")?);
    let evidence_count = evidence.finish(&evidence_path)?;
    let devices_path = args.out.join("devices.jsonl");
    let mut devices = JsonLines::create(&devices_path)?;
    for d in pipeline.into_devices() {
        devices.push(d);
    }
    let device_count = devices.finish(&devices_path)?;
    let p = args.out.join("incidents.jsonl");
    fs::write(&p, b"").with_context(|| format!("{}: cannot write", p.display()))?;
    if let Some(e) = outcome.damaged_tail {
        if args.strict {
            anyhow::bail!("{name}: {e}");
        }
    }
    if !quiet {
        eprintln!(
            "{name}: {} packets -> {}",
            outcome.packets,
            args.out.display()
        );
        for (path, n) in counts {
            eprintln!("  {path}.log  {n} records");
        }
        eprintln!("  devices.jsonl  {device_count} devices");
        eprintln!("  evidence.jsonl  {evidence_count} records");
    }
    Ok(ExitCode::SUCCESS)
}

/// One serde JSON object per line; the first I/O error is kept for `finish`.
struct JsonLines {
    out: BufWriter<File>,
    lines: u64,
    error: Option<io::Error>,
}

impl JsonLines {
    fn create(path: &Path) -> Result<Self> {
        let file =
            File::create(path).with_context(|| format!("{}: cannot write", path.display()))?;
        Ok(JsonLines {
            out: BufWriter::new(file),
            lines: 0,
            error: None,
        })
    }

    fn write<T: serde::Serialize>(&mut self, item: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, item)?;
        self.out.write_all(b"\n")
    }

    /// Flushes; returns the number of lines written.
    fn finish(mut self, path: &Path) -> Result<u64> {
        if let Some(e) = self.error.take() {
            return Err(e).with_context(|| format!("{}: cannot write", path.display()));
        }
        self.out
            .flush()
            .with_context(|| format!("{}: cannot write", path.display()))?;
        Ok(self.lines)
    }
}

impl<T: serde::Serialize> Sink<T> for JsonLines {
    fn push(&mut self, item: T) {
        if self.error.is_some() {
            return;
        }
        match self.write(&item) {
            Ok(()) => self.lines += 1,
            Err(e) => self.error = Some(e),
        }
    }
}
