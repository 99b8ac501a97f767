//! `gatewatch stats FILE`: a capture in → summary (packets, bytes, span, link
//! types, protocol mix, top talkers, flows) and every weird counter out, as
//! text or `--json`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use gatewatch_engine::flow::FlowTable;
use gatewatch_engine::pipeline::Pipeline;
use gatewatch_engine::sink::CountingSink;
use serde_json::{json, Map, Value};

use crate::capture;
use crate::cli::flows::FlowOptions;

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Capture file (pcap, pcapng, optionally gzip-compressed); `-` reads stdin.
    pub file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// How many top talkers to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// List counters that are zero too.
    #[arg(long)]
    pub all_counters: bool,
    #[command(flatten)]
    pub flow: FlowOptions,
}

pub fn run(args: StatsArgs, quiet: bool) -> Result<ExitCode> {
    let mut out = String::new();
    let mut pipeline = Pipeline::new(args.flow.pipeline_config()?);
    let input = capture::open(&args.file, quiet)?;
    let name = input.name.clone();
    let mut flows = CountingSink::default();
    let outcome = capture::run(input, &mut pipeline, &mut flows)?;
    pipeline.finish(&mut flows);
    let s = pipeline.summary();

    let mut counters: Vec<(&'static str, u64)> = outcome.source_counters.clone();
    counters.extend(pipeline.counters());
    if !args.all_counters {
        counters.retain(|(_, v)| *v != 0);
    }
    let damaged = outcome.damaged_tail.as_ref().map(|e| e.to_string());
    let format = outcome.format.name();

    if args.json {
        let mut c = Map::new();
        for (k, v) in &counters {
            c.insert((*k).to_string(), json!(v));
        }
        let links: Map<String, Value> = s
            .link_types()
            .iter()
            .map(|(l, n)| (format!("{}({})", l.name(), l.0), json!(n)))
            .collect();
        let protos: Map<String, Value> = s
            .protocol_mix()
            .iter()
            .map(|(p, n)| ((*p).to_string(), json!(n)))
            .collect();
        let talkers: Vec<Value> = s
            .top_talkers(args.top)
            .iter()
            .map(|(ip, t)| json!({"ip": ip.to_string(), "packets": t.packets, "bytes": t.bytes}))
            .collect();
        let v = json!({
            "file": name,
            "format": format,
            "compressed": outcome.compressed,
            "packets": s.packets,
            "wire_bytes": s.wire_bytes,
            "captured_bytes": s.captured_bytes,
            "first_ts": s.first_ts.map(|t| t.as_secs_f64()),
            "last_ts": s.last_ts.map(|t| t.as_secs_f64()),
            "span_s": s.span_secs(),
            "link_types": links,
            "protocols": protos,
            "top_talkers": talkers,
            "connections": flows.count,
            "flow_memory": {
                "peak_concurrent_flows": pipeline.flows().counters().active_peak,
                "estimated_bytes_per_flow": FlowTable::bytes_per_flow(),
            },
            "damaged_tail": damaged,
            "counters": c,
        });
        outln!(out, "{}", serde_json::to_string_pretty(&v)?);
        crate::emit(&out)?;
        return Ok(ExitCode::SUCCESS);
    }

    outln!(out, "file          {name}");
    let gz = if outcome.compressed { " (gzip)" } else { "" };
    outln!(out, "format        {format}{gz}");
    outln!(out, "packets       {}", s.packets);
    outln!(
        out,
        "bytes         {} on the wire, {} captured",
        s.wire_bytes,
        s.captured_bytes
    );
    if let (Some(a), Some(b)) = (s.first_ts, s.last_ts) {
        outln!(out, "time          {a} .. {b} ({:.3} s)", s.span_secs());
    }
    outln!(out, "connections   {}", flows.count);
    let peak = pipeline.flows().counters().active_peak;
    outln!(
        out,
        "flow table    peak {peak} concurrent, ~{} bytes per flow (~{:.1} MiB at peak)",
        FlowTable::bytes_per_flow(),
        (peak as f64 * FlowTable::bytes_per_flow() as f64) / 1048576.0
    );
    let links: Vec<String> = s
        .link_types()
        .iter()
        .map(|(l, n)| format!("{}({}) {n}", l.name(), l.0))
        .collect();
    outln!(out, "link types    {}", links.join(", "));
    outln!(out, "\nprotocol mix");
    for (p, n) in s.protocol_mix() {
        let pct = 100.0 * n as f64 / s.packets.max(1) as f64;
        outln!(out, "  {p:<14} {n:>12} {pct:6.2}%");
    }
    outln!(out, "\ntop talkers (by bytes sent)");
    for (ip, t) in s.top_talkers(args.top) {
        outln!(
            out,
            "  {:<40} {:>10} pkts {:>14} bytes",
            ip.to_string(),
            t.packets,
            t.bytes
        );
    }
    outln!(out, "\ncounters");
    for (k, v) in &counters {
        outln!(out, "  {k:<48} {v}");
    }
    if let Some(d) = damaged {
        outln!(out, "\ndamaged tail: {d}");
    }
    crate::emit(&out)?;
    Ok(ExitCode::SUCCESS)
}
