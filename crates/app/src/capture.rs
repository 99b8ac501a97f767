//! Capture files in: a path (or `-` for stdin) → the pipeline, with a
//! progress bar on stderr for long files when stderr is a terminal.
//!
//! Unreadable input (missing, a directory, not a capture) is an error naming
//! the file; a damaged tail is a warning naming the byte offset, and
//! everything before it has been processed.

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::Path;

use anyhow::{bail, Context, Result};
use gatewatch_engine::evidence::Evidence;
use gatewatch_engine::flow::ConnRecord;
use gatewatch_engine::pipeline::Pipeline;
use gatewatch_engine::proto::dispatch::ProtoRecord;
use gatewatch_engine::source::{CaptureFormat, CaptureReader, SourceError};
use gatewatch_engine::{Counters, RawPacket, Sink};
use indicatif::{ProgressBar, ProgressStyle};

/// Files smaller than this get no progress bar.
const PROGRESS_MIN_BYTES: u64 = 32 * 1024 * 1024;

/// An opened input: the byte stream and its display name.
pub struct Input {
    pub name: String,
    pub reader: Box<dyn Read>,
}

/// Opens `path` (`-` is stdin) for reading, with a progress bar when useful.
pub fn open(path: &Path, quiet: bool) -> Result<Input> {
    if path.as_os_str() == "-" {
        return Ok(Input {
            name: "<stdin>".to_string(),
            reader: Box::new(io::stdin().lock()),
        });
    }
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).with_context(|| format!("{name}: cannot open"))?;
    if meta.is_dir() {
        bail!("{name}: is a directory; give a pcap or pcapng file (or - for stdin)");
    }
    let file = File::open(path).with_context(|| format!("{name}: cannot open"))?;
    let reader: Box<dyn Read> =
        if !quiet && io::stderr().is_terminal() && meta.len() >= PROGRESS_MIN_BYTES {
            let bar = ProgressBar::new(meta.len());
            let style = ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} {wide_bar} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            Box::new(bar.wrap_read(file))
        } else {
            // No BufReader: the capture reader keeps its own buffer and reads in large blocks.
            Box::new(file)
        };
    Ok(Input { name, reader })
}

/// How a run over one input ended.
pub struct RunOutcome {
    pub packets: u64,
    /// Set when the capture ended in a damaged record.
    pub damaged_tail: Option<SourceError>,
    pub format: CaptureFormat,
    pub compressed: bool,
    /// The reader's counters (`source.*`).
    pub source_counters: Vec<(&'static str, u64)>,
}

/// Reads every packet of `input` through `pipeline`; connection records go
/// to `out`, protocol records are dropped. The caller calls `pipeline.finish`.
pub fn run(
    input: Input,
    pipeline: &mut Pipeline,
    out: &mut impl Sink<ConnRecord>,
) -> Result<RunOutcome> {
    run_all(input, pipeline, out, &mut NoRecords)
}

/// Drops protocol records.
struct NoRecords;

impl Sink<ProtoRecord> for NoRecords {
    fn push(&mut self, _r: ProtoRecord) {}
}

/// Reads every packet of `input` through `pipeline`; connection records go
/// to `out`, protocol records to `proto_out`. The caller calls `finish_all`.
pub fn run_all(
    input: Input,
    pipeline: &mut Pipeline,
    out: &mut impl Sink<ConnRecord>,
    proto_out: &mut impl Sink<ProtoRecord>,
) -> Result<RunOutcome> {
    run_each(input, |raw| pipeline.process_all(raw, out, proto_out))
}

/// [`run_all`], and the identity evidence raised after each packet to
/// `evidence_out`.
pub fn run_with_evidence(
    input: Input,
    pipeline: &mut Pipeline,
    out: &mut impl Sink<ConnRecord>,
    proto_out: &mut impl Sink<ProtoRecord>,
    evidence_out: &mut impl Sink<Evidence>,
) -> Result<RunOutcome> {
    run_each(input, |raw| {
        pipeline.process_with_evidence(raw, out, proto_out, evidence_out)
    })
}

/// Hands every packet of `input` to `each`.
fn run_each(input: Input, mut each: impl FnMut(&RawPacket<'_>)) -> Result<RunOutcome> {
    let name = input.name;
    let mut reader =
        CaptureReader::new(input.reader).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let mut packets = 0u64;
    let damaged_tail = loop {
        match reader.next_packet() {
            Ok(Some(raw)) => {
                packets += 1;
                each(&raw);
            }
            Ok(None) => break None,
            Err(e) => {
                tracing::warn!(
                    "{name}: stopped reading: {e}; the {packets} packets before it were processed"
                );
                break Some(e);
            }
        }
    };
    Ok(RunOutcome {
        packets,
        damaged_tail,
        format: reader.format(),
        compressed: reader.compressed(),
        source_counters: reader.counters().to_vec(),
    })
}
