//! CSV inventories: UTF-8 text in → raw rows with line numbers (header row
//! required; `,`, `;` or tab separated, chosen from the header line; `#`
//! comment lines and blank lines skipped) or per-line errors; declared
//! devices → CSV with every column.

#![deny(clippy::indexing_slicing)]

use gatewatch_engine::identity::DeclaredDevice;

use super::fields::{Column, RawField};
use super::{LineError, RawRow};

/// Reads the header and every record.
pub(crate) fn rows(text: &str) -> Result<Vec<RawRow>, Vec<LineError>> {
    let delimiter = sniff_delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        None => {
            return Err(vec![LineError::new(
                1,
                format!(
                    "the file is empty: it needs a header row naming the columns ({})",
                    Column::names()
                ),
            )])
        }
        Some(Err(e)) => return Err(vec![csv_error(&e)]),
        Some(Ok(h)) => h,
    };
    let mut lines = Lines::new(text);
    let header_line = lines.of(&header);
    let columns = header_columns(&header, header_line)?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(csv_error(&e));
                continue;
            }
        };
        let line = lines.of(&record);
        if record.len() != columns.len() {
            errors.push(LineError::new(
                line,
                format!(
                    "{} fields, but the header on line {header_line} has {} columns",
                    record.len(),
                    columns.len()
                ),
            ));
            continue;
        }
        let fields = columns
            .iter()
            .zip(record.iter())
            .map(|(&column, text)| RawField {
                column,
                text: text.to_string(),
                line,
            })
            .collect();
        out.push(RawRow { line, fields });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Line numbers of records, counted forward through the text (records come
/// in order, so the whole file is scanned once).
struct Lines<'a> {
    text: &'a str,
    /// Byte offset counted up to, and the line number there.
    at: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text,
            at: 0,
            line: 1,
        }
    }

    /// The line a record starts on. The csv crate reports where it began
    /// reading, which is before any blank or `#` comment lines it skipped.
    fn of(&mut self, record: &csv::StringRecord) -> usize {
        let Some(mut start) = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
        else {
            return self.line;
        };
        while let Some(rest) = self.text.get(start..) {
            let end = rest.find('\n').map_or(rest.len(), |i| i + 1);
            let line = rest.get(..end).unwrap_or(rest);
            if end == rest.len() || !(line.trim().is_empty() || line.starts_with('#')) {
                break;
            }
            start += end;
        }
        if start >= self.at {
            if let Some(between) = self.text.get(self.at..start) {
                self.line += between.matches('\n').count();
                self.at = start;
            }
        }
        self.line
    }
}

fn csv_error(e: &csv::Error) -> LineError {
    let line = e
        .position()
        .map_or(1, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
    LineError::new(line, format!("unreadable CSV: {e}"))
}

/// The header's columns: every name known, no column twice, a key column present.
fn header_columns(header: &csv::StringRecord, line: usize) -> Result<Vec<Column>, Vec<LineError>> {
    let mut errors = Vec::new();
    let mut columns = Vec::new();
    for name in header.iter() {
        match Column::parse(name) {
            Some(c) if columns.contains(&c) => errors.push(LineError::new(
                line,
                format!("column `{name}` appears twice in the header"),
            )),
            Some(c) => columns.push(c),
            None => errors.push(LineError::new(
                line,
                format!("unknown column `{name}` (expected: {})", Column::names()),
            )),
        }
    }
    if !columns.contains(&Column::Mac) && !columns.contains(&Column::Ip) {
        let found: Vec<&str> = header.iter().collect();
        errors.push(LineError::new(
            line,
            format!(
                "no key column: the header needs a `mac` or an `ip` column (found: {})",
                found.join(", ")
            ),
        ));
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(errors)
    }
}

/// `,` unless the first non-comment line has more `;` or tabs (spreadsheets in
/// many locales write `;`).
fn sniff_delimiter(text: &str) -> u8 {
    let header = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let count = |c: char| header.matches(c).count();
    let (commas, semis, tabs) = (count(','), count(';'), count('\t'));
    if semis > commas && semis >= tabs {
        b';'
    } else if tabs > commas && tabs > semis {
        b'\t'
    } else {
        b','
    }
}

/// Every declared device as a CSV line under the full header.
pub(crate) fn render(devices: &[DeclaredDevice]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(Column::ALL.map(Column::as_str))?;
    for d in devices {
        w.write_record(Column::ALL.map(|c| c.value(d).unwrap_or_default()))?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_with_their_numbers() {
        let text = "# site inventory\nMAC;Name;Class\n\n02:00:00:00:00:01;\"lobby;\ncam\";camera\n# c\n\n02:00:00:00:00:02;x;plug\n";
        let rows = rows(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 4);
        assert_eq!(rows[0].fields[1].text, "lobby;\ncam");
        assert_eq!(rows[1].line, 8);
        let errs = super::rows("\n# c\nmac,vender\n").unwrap_err();
        assert_eq!(errs[0].line, 3);
    }

    #[test]
    fn header_problems() {
        let errs = rows("name,vender,name\nx,y,z\n").unwrap_err();
        let msgs: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(errs.len(), 3, "{msgs:?}");
        assert!(msgs[0].starts_with("unknown column `vender`"));
        assert!(msgs[1].contains("appears twice"));
        assert!(msgs[2].starts_with("no key column"));
        assert!(errs.iter().all(|e| e.line == 1));
    }

    #[test]
    fn field_count_must_match_the_header() {
        let errs = rows("mac,name\n02:00:00:00:00:01,a,extra\n").unwrap_err();
        assert_eq!(errs[0].line, 2);
        assert!(errs[0]
            .message
            .starts_with("3 fields, but the header on line 1 has 2"));
    }
}
