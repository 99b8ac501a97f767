//! Command-line definitions: one file per subcommand, this file lists them.

pub mod analyze;
pub mod bench;
pub mod bench_store;
pub mod demo;
pub mod devices;
pub mod devices_view;
pub mod eval;
pub mod eval_identify;
pub mod flows;
pub mod lifecycle;
pub mod simulate;
pub mod stats;
pub mod train;

use clap::{Parser, Subcommand};

/// gatewatch: a network-level security monitor for IoT fleets.
///
/// Exit codes: 0 success; 1 the command ran and a check it performs failed;
/// 2 bad input or usage (the message names the file and byte offset).
#[derive(Debug, Parser)]
#[command(name = "gatewatch", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    /// Print nothing on stderr but errors (no progress bar, no warnings).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More log output on stderr (-v info, -vv debug). GATEWATCH_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "Examples:
  gatewatch demo                                  simulate a small fleet and analyze it
  gatewatch flows capture.pcap > conn.log         Zeek conn.log from a capture
  gatewatch flows capture.pcapng --format jsonl   the same as JSON Lines
  zcat big.pcap.gz | gatewatch flows -            read stdin (gzip is detected anyway)
  gatewatch analyze capture.pcap --out logs/      conn.log, dns.log, ssl.log, http.log, mqtt_*.log, arp.log, …
  gatewatch stats capture.pcap --json             packets, span, protocol mix, weird counters
  gatewatch bench capture.pcap                    packets/s per pipeline stage
  gatewatch simulate --devices 20 --hours 1 --seed 7 --attacks all --out sample/
  gatewatch analyze capture.pcap --db fleet.db     also persist the run and its devices
  gatewatch devices import inventory.csv --db fleet.db
  gatewatch devices list --db fleet.db            observed devices with their declared names
  gatewatch devices reconcile --db fleet.db       unknown, missing, mismatched devices
  gatewatch train identify iot-sentinel/ --out model.json   train the device-type classifier
  gatewatch eval identify iot-sentinel/ --folds 5         cross-validate it by capture file";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a Zeek conn.log (or JSON Lines) of the connections in a capture.
    Flows(flows::FlowsArgs),
    /// Write conn.log plus one log per protocol (dns, ssl, http, mqtt_*, dhcp, arp, …) into a directory.
    Analyze(analyze::AnalyzeArgs),
    /// Summarise a capture: packets, bytes, span, link types, protocol mix, top talkers, weird counters.
    Stats(stats::StatsArgs),
    /// Measure packets/s and Mbit/s per pipeline stage on one core.
    Bench(bench::BenchArgs),
    /// Generate a deterministic IoT fleet capture and its ground truth.
    Simulate(simulate::SimulateArgs),
    /// Simulate a sample fleet, analyze it and print a summary.
    Demo(demo::DemoArgs),
    /// The device inventory in a database: list, show, import, export, reconcile.
    Devices(devices::DevicesArgs),
    /// Train a model from labelled captures (`train identify DATA_DIR`).
    Train(train::TrainArgs),
    /// Measure gatewatch against ground truth (`eval identify DATA_DIR`).
    Eval(eval::EvalArgs),
}
