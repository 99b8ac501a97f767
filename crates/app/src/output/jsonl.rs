//! JSON Lines log writer: any [`LogRecord`] in → one JSON object per line
//! with Zeek's JSON field names (`id.orig_h`, …); unset fields are omitted and
//! times are seconds with six decimals, as Zeek's JSON writer does.

use std::fmt::Write as _;
use std::io::{self, Write};

use gatewatch_engine::log::{LogRecord, Value};
use gatewatch_engine::Sink;

/// Writes one object per record; the first I/O error is kept for `finish`.
pub struct JsonLogWriter<W: Write> {
    out: W,
    line: String,
    error: Option<io::Error>,
    pub records: u64,
}

impl<W: Write> JsonLogWriter<W> {
    pub fn new(out: W) -> Self {
        JsonLogWriter {
            out,
            line: String::with_capacity(512),
            error: None,
            records: 0,
        }
    }

    fn write_record(&mut self, r: &dyn LogRecord) -> io::Result<()> {
        let fields = r.fields();
        let line = &mut self.line;
        line.clear();
        line.push('{');
        let mut i = 0usize;
        let mut first = true;
        r.visit_values(&mut |v| {
            let name = fields.get(i).map_or("?", |f| f.name);
            i += 1;
            if matches!(v, Value::Unset) {
                return;
            }
            if !first {
                line.push(',');
            }
            first = false;
            push_json_str(line, name);
            line.push(':');
            push_value(line, &v);
        });
        line.push_str("}\n");
        self.out.write_all(self.line.as_bytes())
    }

    pub fn finish(mut self) -> io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write, R: LogRecord> Sink<R> for JsonLogWriter<W> {
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

fn push_value(line: &mut String, v: &Value<'_>) {
    match v {
        Value::Unset => line.push_str("null"),
        Value::Time(t) => {
            let _ = write!(line, "{t}");
        }
        Value::Interval(d) => {
            let _ = write!(line, "{d}");
        }
        Value::Str(s) => push_json_str(line, s),
        Value::Addr(a) => {
            let _ = write!(line, "\"{a}\"");
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
        Value::Double(d) if d.is_finite() => {
            let _ = write!(line, "{d}");
        }
        Value::Double(_) => line.push_str("null"),
        Value::Bool(b) => line.push_str(if *b { "true" } else { "false" }),
        Value::StrList(items) => {
            line.push('[');
            for (i, s) in items.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                push_json_str(line, s);
            }
            line.push(']');
        }
        Value::CountList(items) => push_list(line, items),
        Value::IntervalList(items) => push_list(line, items),
    }
}

/// A JSON array of numbers.
fn push_list<T: std::fmt::Display>(line: &mut String, items: &[T]) {
    line.push('[');
    for (i, c) in items.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let _ = write!(line, "{c}");
    }
    line.push(']');
}

/// Appends `s` as a JSON string literal (RFC 8259 escaping).
fn push_json_str(line: &mut String, s: &str) {
    line.push('"');
    for ch in s.chars() {
        match ch {
            '"' => line.push_str("\\\""),
            '\\' => line.push_str("\\\\"),
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            '\t' => line.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(line, "\\u{:04x}", c as u32);
            }
            c => line.push(c),
        }
    }
    line.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escaped() {
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\\u{1}\n");
        assert_eq!(s, "\"a\\\"b\\\\\\u0001\\n\"");
    }
}
