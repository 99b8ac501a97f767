//! `gatewatch flows FILE`: a capture in → Zeek conn.log (TSV or JSON Lines) out.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use gatewatch_engine::flow::{FlowConfig, CONN_FIELDS};
use gatewatch_engine::net::{IpNet, LocalNets};
use gatewatch_engine::pipeline::{Pipeline, PipelineConfig};
use gatewatch_engine::time::Duration;
use gatewatch_engine::Timestamp;

use crate::capture;
use crate::output::jsonl::JsonLogWriter;
use crate::output::zeek::ZeekLogWriter;
use crate::output::{self, LogFormat};

/// Options shared by every command that runs the flow stage.
#[derive(Debug, Clone, Args)]
pub struct FlowOptions {
    /// Most connections tracked at once; beyond it the one closest to expiry is written early.
    #[arg(long, default_value_t = gatewatch_engine::flow::DEFAULT_MAX_FLOWS)]
    pub max_flows: usize,
    /// TCP inactivity timeout in seconds (Zeek: 300).
    #[arg(long, default_value_t = 300.0)]
    pub tcp_timeout: f64,
    /// UDP inactivity timeout in seconds (Zeek: 60).
    #[arg(long, default_value_t = 60.0)]
    pub udp_timeout: f64,
    /// ICMP inactivity timeout in seconds (Zeek: 60).
    #[arg(long, default_value_t = 60.0)]
    pub icmp_timeout: f64,
    /// Networks that count as local for local_orig/local_resp (comma-separated CIDRs;
    /// default: private and link-local ranges; "none" leaves the fields unset).
    #[arg(long, value_delimiter = ',')]
    pub local_nets: Vec<String>,
    /// Skip the protocol analyzers (faster; conn.log's `service` stays unset).
    #[arg(long)]
    pub no_analyzers: bool,
    /// Seed mixed into connection uids (same capture + seed → same uids).
    #[arg(long, default_value_t = 0)]
    pub uid_seed: u64,
}

impl FlowOptions {
    pub fn pipeline_config(&self) -> Result<PipelineConfig> {
        let secs = |s: f64, what: &str| -> Result<Duration> {
            anyhow::ensure!(
                s.is_finite() && s > 0.0,
                "--{what}: must be a positive number of seconds"
            );
            Ok(Duration((s * 1e9) as i64))
        };
        anyhow::ensure!(self.max_flows > 0, "--max-flows: must be at least 1");
        let flow = FlowConfig {
            max_flows: self.max_flows,
            tcp_inactivity_timeout: secs(self.tcp_timeout, "tcp-timeout")?,
            udp_inactivity_timeout: secs(self.udp_timeout, "udp-timeout")?,
            icmp_inactivity_timeout: secs(self.icmp_timeout, "icmp-timeout")?,
            uid_seed: self.uid_seed,
            ..FlowConfig::default()
        };
        let local_nets = match self.local_nets.as_slice() {
            [] => LocalNets::private_ranges(),
            [one] if one == "none" => LocalNets::default(),
            list => LocalNets::new(
                list.iter()
                    .map(|s| s.parse::<IpNet>().context("--local-nets"))
                    .collect::<Result<_>>()?,
            ),
        };
        Ok(PipelineConfig {
            flow,
            local_nets,
            analyzers: !self.no_analyzers,
            identity: None,
        })
    }
}

#[derive(Debug, Args)]
pub struct FlowsArgs {
    /// Capture file (pcap, pcapng, optionally gzip-compressed); `-` reads stdin.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LogFormat::Zeek)]
    pub format: LogFormat,
    /// Write here instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Treat a damaged capture tail as an error (exit 2) instead of a warning.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub flow: FlowOptions,
}

pub fn run(args: FlowsArgs, quiet: bool) -> Result<ExitCode> {
    let mut pipeline = Pipeline::new(args.flow.pipeline_config()?);
    let input = capture::open(&args.file, quiet)?;
    let name = input.name.clone();
    let out = output::create(args.out.as_deref())?;
    let outcome = match args.format {
        LogFormat::Zeek => {
            let mut w = ZeekLogWriter::new(out, "conn", &CONN_FIELDS);
            let outcome = capture::run(input, &mut pipeline, &mut w)?;
            pipeline.finish(&mut w);
            let close = pipeline.summary().last_ts.unwrap_or(Timestamp::ZERO);
            w.finish(close).context("writing conn.log")?;
            outcome
        }
        LogFormat::Jsonl => {
            let mut w = JsonLogWriter::new(out);
            let outcome = capture::run(input, &mut pipeline, &mut w)?;
            pipeline.finish(&mut w);
            w.finish().context("writing conn JSON Lines")?;
            outcome
        }
    };
    if let Some(e) = outcome.damaged_tail {
        if args.strict {
            anyhow::bail!("{name}: {e}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
