//! Zeek TSV writer for conn.log: [`ConnRecord`]s in → a log that zeek-cut and
//! other Zeek tooling read (`#separator`, `#fields`, `#types`, `#close`).
//!
//! `#open`/`#close` carry packet time (first record, last packet), not the
//! wall clock, so the same capture always gives the same file. gatewatch's
//! extension fields follow Zeek's standard ones, as Zeek's own policy scripts
//! (mac-logging, vlan-logging) append theirs.

use std::io::{self, Write};

use gatewatch_engine::flow::ConnRecord;
use gatewatch_engine::time::Timestamp;
use gatewatch_engine::Sink;

/// conn.log columns: (name, Zeek type).
pub const CONN_FIELDS: &[(&str, &str)] = &[
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
    ("vlan", "int"),
    ("inner_vlan", "int"),
    ("orig_l2_addr", "string"),
    ("resp_l2_addr", "string"),
    ("orig_l2_bytes", "count"),
    ("resp_l2_bytes", "count"),
];

/// Writes conn.log lines; the first I/O error is kept and returned by `finish`.
pub struct ZeekConnWriter<W: Write> {
    out: W,
    header_written: bool,
    error: Option<io::Error>,
    pub records: u64,
}

impl<W: Write> ZeekConnWriter<W> {
    pub fn new(out: W) -> Self {
        ZeekConnWriter {
            out,
            header_written: false,
            error: None,
            records: 0,
        }
    }

    fn header(&mut self, open: Timestamp) -> io::Result<()> {
        let o = &mut self.out;
        writeln!(o, "#separator \\x09")?;
        writeln!(o, "#set_separator\t,")?;
        writeln!(o, "#empty_field\t(empty)")?;
        writeln!(o, "#unset_field\t-")?;
        writeln!(o, "#path\tconn")?;
        writeln!(o, "#open\t{}", zeek_date(open))?;
        let names: Vec<&str> = CONN_FIELDS.iter().map(|f| f.0).collect();
        let types: Vec<&str> = CONN_FIELDS.iter().map(|f| f.1).collect();
        writeln!(o, "#fields\t{}", names.join("\t"))?;
        writeln!(o, "#types\t{}", types.join("\t"))?;
        Ok(())
    }

    fn line(&mut self, r: &ConnRecord) -> io::Result<()> {
        if !self.header_written {
            self.header(r.ts)?;
            self.header_written = true;
        }
        let o = &mut self.out;
        let service = if r.service.is_empty() {
            "-".to_string()
        } else {
            r.service.join(",")
        };
        write!(
            o,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t",
            r.ts,
            r.uid,
            r.orig_h,
            r.orig_p,
            r.resp_h,
            r.resp_p,
            r.proto.as_str(),
            service
        )?;
        write!(
            o,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t",
            opt(r.duration),
            opt(r.orig_bytes),
            opt(r.resp_bytes),
            r.conn_state.code(),
            opt_bool(r.local_orig),
            opt_bool(r.local_resp),
            r.missed_bytes
        )?;
        let history = if r.history.is_empty() {
            "-"
        } else {
            &r.history
        };
        write!(
            o,
            "{}\t{}\t{}\t{}\t{}\t-\t",
            history, r.orig_pkts, r.orig_ip_bytes, r.resp_pkts, r.resp_ip_bytes
        )?;
        writeln!(
            o,
            "{}\t{}\t{}\t{}\t{}\t{}",
            opt(r.vlan),
            opt(r.inner_vlan),
            opt(r.orig_l2_addr),
            opt(r.resp_l2_addr),
            r.orig_l2_bytes,
            r.resp_l2_bytes
        )
    }

    /// Writes the `#close` line (packet time of the last packet) and flushes.
    pub fn finish(mut self, close: Timestamp) -> io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if !self.header_written {
            self.header(close)?;
        }
        writeln!(self.out, "#close\t{}", zeek_date(close))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Sink<ConnRecord> for ZeekConnWriter<W> {
    fn push(&mut self, r: ConnRecord) {
        if self.error.is_some() {
            return;
        }
        self.records += 1;
        if let Err(e) = self.line(&r) {
            self.error = Some(e);
        }
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn opt_bool(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "T",
        Some(false) => "F",
        None => "-",
    }
}

/// Zeek's `#open`/`#close` format, `YYYY-MM-DD-HH-MM-SS`, in UTC.
pub fn zeek_date(ts: Timestamp) -> String {
    let secs = ts.as_nanos().div_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}-{:02}-{:02}-{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_utc() {
        assert_eq!(
            zeek_date(Timestamp::from_secs_nanos(0, 0)),
            "1970-01-01-00-00-00"
        );
        assert_eq!(
            zeek_date(Timestamp::from_secs_nanos(1_700_000_000, 0)),
            "2023-11-14-22-13-20"
        );
        assert_eq!(
            zeek_date(Timestamp::from_secs_nanos(951_782_400, 0)),
            "2000-02-29-00-00-00"
        );
    }
}
