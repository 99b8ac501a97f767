//! A directory of logs: records of any path in → `DIR/<path>.log`, one file
//! per log, created on its first record (Zeek TSV or JSON Lines).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use gatewatch_engine::log::LogRecord;
use gatewatch_engine::time::Timestamp;
use gatewatch_engine::Sink;

use super::jsonl::JsonLogWriter;
use super::zeek::ZeekLogWriter;
use super::LogFormat;

enum Writer {
    Zeek(ZeekLogWriter<BufWriter<File>>),
    Json(JsonLogWriter<BufWriter<File>>),
}

/// Routes records to one file per log path; the first error is kept for `finish`.
pub struct LogDir {
    dir: PathBuf,
    format: LogFormat,
    writers: BTreeMap<&'static str, (Writer, u64)>,
    error: Option<io::Error>,
}

impl LogDir {
    pub fn new(dir: &Path, format: LogFormat) -> Self {
        LogDir {
            dir: dir.to_path_buf(),
            format,
            writers: BTreeMap::new(),
            error: None,
        }
    }

    fn writer_for(&mut self, r: &dyn LogRecord) -> io::Result<&mut (Writer, u64)> {
        let path = r.path();
        if !self.writers.contains_key(path) {
            let file = File::create(self.dir.join(format!("{path}.log")))?;
            let out = BufWriter::with_capacity(1 << 16, file);
            let w = match self.format {
                LogFormat::Zeek => Writer::Zeek(ZeekLogWriter::new(out, path, r.fields())),
                LogFormat::Jsonl => Writer::Json(JsonLogWriter::new(out)),
            };
            self.writers.insert(path, (w, 0));
        }
        self.writers
            .get_mut(path)
            .ok_or_else(|| io::Error::other("log writer vanished"))
    }

    /// Closes every log (Zeek `#close` at packet time `close`); returns (path, records).
    pub fn finish(self, close: Timestamp) -> io::Result<Vec<(&'static str, u64)>> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut counts = Vec::new();
        for (path, (w, n)) in self.writers {
            match w {
                Writer::Zeek(w) => {
                    w.finish(close)?;
                }
                Writer::Json(w) => {
                    w.finish()?;
                }
            }
            counts.push((path, n));
        }
        Ok(counts)
    }
}

impl<R: LogRecord> Sink<R> for LogDir {
    fn push(&mut self, r: R) {
        if self.error.is_some() {
            return;
        }
        match self.writer_for(&r) {
            Ok((w, n)) => {
                *n += 1;
                match w {
                    Writer::Zeek(w) => w.push(r),
                    Writer::Json(w) => w.push(r),
                }
            }
            Err(e) => self.error = Some(e),
        }
    }
}
