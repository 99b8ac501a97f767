//! Zeek TSV log writer: any [`LogRecord`] in → a log that zeek-cut and other
//! Zeek tooling read (`#separator`, `#fields`, `#types`, `#close`).
//!
//! `#open`/`#close` carry packet time (first record, last packet), not the
//! wall clock, so the same capture always gives the same file. Strings are
//! escaped as Zeek does: control bytes, the separator and the backslash as
//! `\xNN`, an empty string as `(empty)`, a string equal to `-` as `\x2d`.

use std::fmt::Write as _;
use std::io::{self, Write};

use gatewatch_engine::log::{Field, LogRecord, Value};
use gatewatch_engine::time::Timestamp;
use gatewatch_engine::Sink;

/// Writes one log; the first I/O error is kept and returned by `finish`.
pub struct ZeekLogWriter<W: Write> {
    out: W,
    path: &'static str,
    fields: &'static [Field],
    header_written: bool,
    line: String,
    error: Option<io::Error>,
    pub records: u64,
}

impl<W: Write> ZeekLogWriter<W> {
    pub fn new(out: W, path: &'static str, fields: &'static [Field]) -> Self {
        ZeekLogWriter {
            out,
            path,
            fields,
            header_written: false,
            line: String::with_capacity(512),
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
        writeln!(o, "#path\t{}", self.path)?;
        writeln!(o, "#open\t{}", zeek_date(open))?;
        let names: Vec<&str> = self.fields.iter().map(|f| f.name).collect();
        let types: Vec<&str> = self.fields.iter().map(|f| f.ty).collect();
        writeln!(o, "#fields\t{}", names.join("\t"))?;
        writeln!(o, "#types\t{}", types.join("\t"))?;
        Ok(())
    }

    fn write_record(&mut self, r: &dyn LogRecord) -> io::Result<()> {
        self.line.clear();
        let mut first_time = None;
        let mut n = 0usize;
        let line = &mut self.line;
        r.visit_values(&mut |v| {
            if n > 0 {
                line.push('\t');
            }
            n += 1;
            if let (None, Value::Time(t)) = (first_time, &v) {
                first_time = Some(*t);
            }
            push_value(line, &v);
        });
        line.push('\n');
        if !self.header_written {
            self.header(first_time.unwrap_or(Timestamp::ZERO))?;
            self.header_written = true;
        }
        self.out.write_all(self.line.as_bytes())
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

impl<W: Write, R: LogRecord> Sink<R> for ZeekLogWriter<W> {
    fn push(&mut self, r: R) {
        if self.error.is_some() {
            return;
        }
        self.records += 1;
        if let Err(e) = self.write_record(&r) {
            self.error = Some(e);
        }
    }
}

/// Appends one value in Zeek's TSV notation.
fn push_value(line: &mut String, v: &Value<'_>) {
    match v {
        Value::Unset => line.push('-'),
        Value::Time(t) => {
            let _ = write!(line, "{t}");
        }
        Value::Interval(d) => {
            let _ = write!(line, "{d}");
        }
        Value::Str(s) => push_str(line, s, false),
        Value::Addr(a) => {
            let _ = write!(line, "{a}");
        }
        Value::Port(p) => {
            let _ = write!(line, "{p}");
        }
        Value::Count(c) => {
            let _ = write!(line, "{c}");
        }
        Value::Int(i) => {
            let _ = write!(line, "{i}");
        }
        Value::Double(d) => {
            let _ = write!(line, "{d:.6}");
        }
        Value::Bool(b) => line.push(if *b { 'T' } else { 'F' }),
        Value::StrList(items) => {
            if items.is_empty() {
                line.push_str("(empty)");
            }
            for (i, s) in items.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                push_str(line, s, true);
            }
        }
        Value::CountList(items) => push_list(line, items),
        Value::IntervalList(items) => push_list(line, items),
    }
}

/// A vector of numbers: comma-separated, `(empty)` when empty.
fn push_list<T: std::fmt::Display>(line: &mut String, items: &[T]) {
    if items.is_empty() {
        line.push_str("(empty)");
    }
    for (i, c) in items.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let _ = write!(line, "{c}");
    }
}

/// Appends a string escaped as Zeek's ASCII writer does.
fn push_str(line: &mut String, s: &str, in_set: bool) {
    if s.is_empty() {
        line.push_str("(empty)");
        return;
    }
    if s == "-" {
        line.push_str("\\x2d");
        return;
    }
    for ch in s.chars() {
        match ch {
            '\\' | '\t' => {
                let _ = write!(line, "\\x{:02x}", ch as u32);
            }
            ',' if in_set => line.push_str("\\x2c"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(line, "\\x{:02x}", c as u32);
            }
            c => line.push(c),
        }
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

    #[test]
    fn strings_escaped_like_zeek() {
        let mut s = String::new();
        push_str(&mut s, "a\tb\\c\u{1}", false);
        assert_eq!(s, "a\\x09b\\x5cc\\x01");
        s.clear();
        push_value(&mut s, &Value::Str(""));
        assert_eq!(s, "(empty)");
        s.clear();
        push_value(&mut s, &Value::Str("-"));
        assert_eq!(s, "\\x2d");
        s.clear();
        let items = vec!["a,b".to_string(), "c".to_string()];
        push_value(&mut s, &Value::StrList(&items));
        assert_eq!(s, "a\\x2cb,c");
    }
}
