//! `gatewatch demo`: the README's main command. Simulates a sample fleet with
//! attacks, analyzes it and prints a summary; the files stay in `--out`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use gatewatch_engine::flow::{ConnRecord, CONN_FIELDS};
use gatewatch_engine::pipeline::{Pipeline, PipelineConfig};
use gatewatch_engine::{Sink, Timestamp};

use crate::capture;
use crate::cli::simulate::{self, SimulateArgs};
use crate::output::zeek::ZeekLogWriter;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the sample capture and logs are written.
    #[arg(long, default_value = "gatewatch-demo")]
    pub out: PathBuf,
    /// Devices in the sample fleet.
    #[arg(long, default_value_t = 20)]
    pub devices: usize,
    /// Hours of packet time.
    #[arg(long, default_value_t = 1.0)]
    pub hours: f64,
    /// Seed of the sample fleet.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// Tallies connection records on their way to the log.
struct Tally<'a, S> {
    inner: &'a mut S,
    states: BTreeMap<&'static str, u64>,
    by_proto: BTreeMap<&'static str, u64>,
}

impl<S: Sink<ConnRecord>> Sink<ConnRecord> for Tally<'_, S> {
    fn push(&mut self, r: ConnRecord) {
        *self.states.entry(r.conn_state.code()).or_default() += 1;
        *self.by_proto.entry(r.proto.as_str()).or_default() += 1;
        self.inner.push(r);
    }
}

pub fn run(args: DemoArgs) -> Result<ExitCode> {
    let sim = SimulateArgs {
        devices: args.devices,
        hours: args.hours,
        seed: args.seed,
        attacks: vec!["all".to_string()],
        out: args.out.clone(),
    };
    let summary = simulate::generate(&sim)?;
    println!(
        "simulated {} devices for {} h: {} packets -> {}",
        summary.devices.len(),
        args.hours,
        summary.packets,
        args.out.join("fleet.pcap").display()
    );

    let pcap = args.out.join("fleet.pcap");
    let conn_path = args.out.join("conn.log");
    let mut pipeline = Pipeline::new(PipelineConfig {
        local_nets: gatewatch_engine::net::LocalNets::private_ranges(),
        ..PipelineConfig::default()
    });
    let file = File::create(&conn_path)
        .with_context(|| format!("{}: cannot create", conn_path.display()))?;
    let mut writer = ZeekLogWriter::new(BufWriter::new(file), "conn", &CONN_FIELDS);
    let mut tally = Tally {
        inner: &mut writer,
        states: BTreeMap::new(),
        by_proto: BTreeMap::new(),
    };
    let input = capture::open(&pcap, true)?;
    let outcome = capture::run(input, &mut pipeline, &mut tally)?;
    pipeline.finish(&mut tally);
    let (states, by_proto) = (tally.states, tally.by_proto);
    let close = pipeline.summary().last_ts.unwrap_or(Timestamp::ZERO);
    writer.finish(close).context("writing conn.log")?;

    let s = pipeline.summary();
    println!(
        "analyzed {} packets ({:.1} MB) spanning {:.0} s: {} connections -> {}",
        outcome.packets,
        s.wire_bytes as f64 / 1e6,
        s.span_secs(),
        states.values().sum::<u64>(),
        conn_path.display()
    );
    let fmt = |m: &BTreeMap<&str, u64>| {
        m.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("  by protocol:   {}", fmt(&by_proto));
    println!("  by conn_state: {}", fmt(&states));
    println!("devices:");
    for d in &summary.devices {
        println!(
            "  {}  {:<15} {:<18} {}",
            d.mac,
            d.ip.to_string(),
            d.class.as_str(),
            d.hostname
        );
    }
    println!(
        "injected attacks (ground truth in {}):",
        args.out.join("truth.jsonl").display()
    );
    for t in &summary.truth {
        println!(
            "  {:<4} {:<26} {:>12.1} .. {:<12.1} {}",
            t.id, t.kind, t.start, t.end, t.notes
        );
    }
    println!("detection of these attacks arrives with the detector stage; conn.log is ready for zeek-cut.");
    Ok(ExitCode::SUCCESS)
}
