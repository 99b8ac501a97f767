//! `gatewatch analyze FILE --out DIR`: a capture in → `DIR/conn.log`, one log
//! per protocol seen (`dns.log`, `ssl.log`, `http.log`, `mqtt_*.log`, `arp.log`, …),
//! `DIR/evidence.jsonl` and `DIR/incidents.jsonl` out.
//!
//! The detectors and correlation that fill evidence.jsonl and incidents.jsonl
//! are later stages: until they land both files are written empty, so scripts
//! relying on the contract find them.
//!
//! With `--db PATH` the store is opened (and migrated) before the capture is
//! read, and the run (a `runs` row, device records, evidence) is written in
//! one transaction at the end: a run killed midway leaves the database as it
//! was.

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use gatewatch_engine::pipeline::Pipeline;
use gatewatch_engine::Timestamp;

use crate::capture;
use crate::cli::flows::FlowOptions;
use crate::output::logdir::LogDir;
use crate::output::LogFormat;
use crate::store::{persist_analysis, OpenMode, RunInfo, SqliteStore};

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
    #[command(flatten)]
    pub flow: FlowOptions,
}

pub fn run(args: AnalyzeArgs, quiet: bool) -> Result<ExitCode> {
    fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create directory", args.out.display()))?;
    let mut config = args.flow.pipeline_config()?;
    config.analyzers = true;
    let mut pipeline = Pipeline::new(config);
    // Open first: a bad database is reported before the capture is read.
    let mut store = args
        .db
        .as_deref()
        .map(|p| SqliteStore::open(p, OpenMode::Create))
        .transpose()?;
    let input = capture::open(&args.file, quiet)?;
    let name = input.name.clone();
    let mut conn = LogDir::new(&args.out, args.format);
    let mut proto = LogDir::new(&args.out, args.format);
    let outcome = capture::run_all(input, &mut pipeline, &mut conn, &mut proto)?;
    pipeline.finish_all(&mut conn, &mut proto);
    let close = pipeline.summary().last_ts.unwrap_or(Timestamp::ZERO);
    let mut counts = conn.finish(close).context("writing conn.log")?;
    counts.extend(proto.finish(close).context("writing protocol logs")?);
    for empty in ["evidence.jsonl", "incidents.jsonl"] {
        let p = args.out.join(empty);
        fs::write(&p, b"").with_context(|| format!("{}: cannot write", p.display()))?;
    }
    if let Some(e) = outcome.damaged_tail {
        if args.strict {
            anyhow::bail!("{name}: {e}");
        }
    }
    if let (Some(store), Some(db)) = (store.as_mut(), args.db.as_ref()) {
        let run = RunInfo {
            source: name.clone(),
            packets: outcome.packets,
            first_packet: pipeline.summary().first_ts,
            last_packet: pipeline.summary().last_ts,
        };
        // The identity stage's devices and the detectors' evidence go here
        // once those stages are wired into the pipeline.
        let run_id = persist_analysis(store, &run, &[], &[])?;
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
    }
    Ok(ExitCode::SUCCESS)
}
