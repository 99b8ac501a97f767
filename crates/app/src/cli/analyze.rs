//! `gatewatch analyze FILE --out DIR`: a capture in → `DIR/conn.log`, one log
//! per protocol seen (`dns.log`, `ssl.log`, `http.log`, `mqtt_*.log`, `arp.log`, …),
//! `DIR/devices.jsonl` (one observed device per line, sorted by key),
//! `DIR/evidence.jsonl` and `DIR/incidents.jsonl` out.
//!
//! evidence.jsonl holds the identity stage's findings and the lifecycle
//! findings (outdated/EOL firmware against the catalogue, exposed telnet/HTTP
//! admin); the detectors and correlation that add to it and fill
//! incidents.jsonl are later stages (incidents.jsonl is written empty until
//! then, so scripts relying on the contract find it).
//!
//! With `--db PATH` the store is opened (and migrated) before the capture is
//! read, and the run (a `runs` row, device records, evidence) is written in
//! one transaction at the end: a run killed midway leaves the database as it
//! was.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use gatewatch_engine::evidence::Evidence;
use gatewatch_engine::flow::ConnRecord;
use gatewatch_engine::identity::IdentityConfig;
use gatewatch_engine::lifecycle::{self, ExposureTracker};
use gatewatch_engine::pipeline::Pipeline;
use gatewatch_engine::{Sink, Timestamp};

use crate::capture;
use crate::cli::flows::FlowOptions;
use crate::output::logdir::LogDir;
use crate::output::LogFormat;
use crate::store::{persist_analysis, OpenMode, RunInfo, SqliteStore, Store};

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
    /// Also persist the run, its devices and evidence in this gatewatch database (created if missing).
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Lifecycle catalogue (YAML: products, end of life, firmware with CVEs);
    /// default: the sample shipped with gatewatch.
    #[arg(long, value_name = "FILE")]
    pub catalogue: Option<PathBuf>,
    #[command(flatten)]
    pub flow: FlowOptions,
}

pub fn run(args: AnalyzeArgs, quiet: bool) -> Result<ExitCode> {
    fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create directory", args.out.display()))?;
    let catalogue = crate::catalogue::load(args.catalogue.as_deref())?;
    let mut config = args.flow.pipeline_config()?;
    config.analyzers = true;
    config.identity = Some(IdentityConfig::with_local_nets(config.local_nets.clone()));
    let mut pipeline = Pipeline::new(config);
    // Open first: a bad database is reported before the capture is read.
    let mut store = args
        .db
        .as_deref()
        .map(|p| SqliteStore::open(p, OpenMode::Create))
        .transpose()?;
    let declared = match store.as_ref() {
        Some(s) => s.declared()?,
        None => Vec::new(),
    };
    let input = capture::open(&args.file, quiet)?;
    let name = input.name.clone();
    let mut conn = ExposureTap {
        exposure: ExposureTracker::new(),
        inner: LogDir::new(&args.out, args.format),
    };
    let mut proto = LogDir::new(&args.out, args.format);
    let mut evidence: Vec<Evidence> = Vec::new();
    let outcome =
        capture::run_with_evidence(input, &mut pipeline, &mut conn, &mut proto, &mut evidence)?;
    pipeline.finish_all(&mut conn, &mut proto);
    pipeline.drain_evidence(&mut evidence);
    let (first_packet, last_packet) = (pipeline.summary().first_ts, pipeline.summary().last_ts);
    let close = last_packet.unwrap_or(Timestamp::ZERO);
    let ExposureTap {
        exposure,
        inner: conn,
    } = conn;
    let mut counts = conn.finish(close).context("writing conn.log")?;
    counts.extend(proto.finish(close).context("writing protocol logs")?);
    if let Some(e) = outcome.damaged_tail {
        if args.strict {
            anyhow::bail!("{name}: {e}");
        }
    }
    let devices = pipeline.into_devices();
    let compliance = lifecycle::assess(
        &devices,
        &declared,
        &catalogue,
        &exposure,
        close,
        &mut evidence,
    );
    evidence.sort_by(|a, b| a.ts.cmp(&b.ts).then_with(|| a.device.cmp(&b.device)));
    let evidence_path = args.out.join("evidence.jsonl");
    let mut lines = JsonLines::create(&evidence_path)?;
    for e in &evidence {
        lines.push(e);
    }
    let evidence_count = lines.finish(&evidence_path)?;
    let devices_path = args.out.join("devices.jsonl");
    let mut lines = JsonLines::create(&devices_path)?;
    for d in &devices {
        lines.push(d);
    }
    let device_count = lines.finish(&devices_path)?;
    let p = args.out.join("incidents.jsonl");
    fs::write(&p, b"").with_context(|| format!("{}: cannot write", p.display()))?;
    if let (Some(store), Some(db)) = (store.as_mut(), args.db.as_ref()) {
        let run = RunInfo {
            source: name.clone(),
            packets: outcome.packets,
            first_packet,
            last_packet,
        };
        let run_id = persist_analysis(store, &run, &devices, &evidence)?;
        if !quiet {
            eprintln!("{name}: run {run_id} stored in {}", db.display());
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
        let pct = compliance
            .patch_compliance_pct
            .map_or("n/a".to_string(), |p| format!("{p:.1}%"));
        eprintln!(
            "  lifecycle: {} of {} devices with known firmware in the catalogue, patch compliance {pct}",
            compliance.in_catalogue, compliance.firmware_known
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Passes connection records on to the logs, noting the admin services
/// devices answered (for the lifecycle findings).
struct ExposureTap<S> {
    exposure: ExposureTracker,
    inner: S,
}

impl<S: Sink<ConnRecord>> Sink<ConnRecord> for ExposureTap<S> {
    fn push(&mut self, rec: ConnRecord) {
        self.exposure.observe(&rec);
        self.inner.push(rec);
    }
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
