//! Writers for engine records: Zeek TSV logs and JSON Lines.

pub mod jsonl;
pub mod logdir;
pub mod zeek;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

/// Output format of a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Zeek's tab-separated log format with #fields/#types headers.
    Zeek,
    /// One JSON object per line, Zeek's field names.
    Jsonl,
}

/// Opens `path` for writing, or stdout when `None` or `-`.
pub fn create(path: Option<&Path>) -> Result<Box<dyn Write>> {
    match path {
        None => Ok(Box::new(BufWriter::with_capacity(
            1 << 16,
            io::stdout().lock(),
        ))),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(BufWriter::with_capacity(
            1 << 16,
            io::stdout().lock(),
        ))),
        Some(p) => {
            let f = File::create(p)
                .with_context(|| format!("{}: cannot create output file", p.display()))?;
            Ok(Box::new(BufWriter::with_capacity(1 << 16, f)))
        }
    }
}
