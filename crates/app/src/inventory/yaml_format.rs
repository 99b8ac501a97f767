//! YAML inventories: UTF-8 text in → raw rows (a top-level list of mappings
//! with the CSV column names as keys) or per-line errors; declared devices →
//! the same YAML.
//!
//! Parsed with serde_norway (the maintained fork of serde_yaml), which reports
//! positions only for syntax errors, so line numbers of values come from the
//! text: in block style (`- mac: …` items, what export writes) each list item
//! starts at a `-` at the list's indentation and each key is found on its own
//! line within the item. Flow-style lists (`[{…}]`) get the item's number
//! instead of its line.

#![deny(clippy::indexing_slicing)]

use gatewatch_engine::identity::DeclaredDevice;
use serde_norway::Value;

use super::fields::{Column, RawField};
use super::{LineError, RawRow};

/// Reads the list of devices.
pub(crate) fn rows(text: &str) -> Result<Vec<RawRow>, Vec<LineError>> {
    let doc: Value = serde_norway::from_str(text).map_err(|e| {
        let line = e.location().map_or(1, |l| l.line().max(1));
        vec![LineError::new(line, format!("not valid YAML: {e}"))]
    })?;
    let items = match doc {
        Value::Sequence(items) => items,
        Value::Null => {
            return Err(vec![LineError::new(
                1,
                "the file is empty: expected a list of devices (`- mac: …`)".to_string(),
            )])
        }
        other => {
            return Err(vec![LineError::new(
                1,
                format!(
                    "expected a list of devices (`- mac: …`), found {}",
                    kind(&other)
                ),
            )])
        }
    };
    let lines = ItemLines::scan(text, items.len());
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let start = lines.start(i);
        let Value::Mapping(map) = item else {
            errors.push(LineError::new(
                start,
                format!(
                    "{}expected a device (`mac: …`, `name: …`), found {}",
                    lines.prefix(i),
                    kind(&item)
                ),
            ));
            continue;
        };
        let mut fields = Vec::new();
        for (k, v) in map {
            let key_text = match &k {
                Value::String(s) => s.clone(),
                other => format!("{other:?}"),
            };
            let line = lines.key_line(i, &key_text);
            let fail =
                |message: String| LineError::new(line, format!("{}{message}", lines.prefix(i)));
            let Some(column) = Column::parse(&key_text) else {
                errors.push(fail(format!(
                    "unknown key `{key_text}` (expected: {})",
                    Column::names()
                )));
                continue;
            };
            match scalar(column, v) {
                Ok(text) => fields.push(RawField { column, text, line }),
                Err(message) => errors.push(fail(message)),
            }
        }
        out.push(RawRow {
            line: start,
            fields,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The text of a value. Numbers are refused where YAML would silently lose
/// characters (`firmware: 1.10` reads as 1.1, `mac: 001122334455` drops zeros).
fn scalar(column: Column, v: Value) -> Result<String, String> {
    match v {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => match column {
            Column::Mac | Column::Firmware | Column::Model | Column::Ip | Column::SupportEnd => {
                Err(format!(
                    "{} `{n}` was read as a number, which can change it (1.10 reads as 1.1): quote it, e.g. {}: \"{n}\"",
                    column.as_str(),
                    column.as_str()
                ))
            }
            _ => Ok(n.to_string()),
        },
        other => Err(format!(
            "{} must be text, found {}",
            column.as_str(),
            kind(&other)
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Where each top-level list item starts in the text (block style).
struct ItemLines<'a> {
    lines: Vec<&'a str>,
    /// 1-based first line of each item; empty when the text is not block style.
    starts: Vec<usize>,
}

impl<'a> ItemLines<'a> {
    fn scan(text: &'a str, items: usize) -> Self {
        let lines: Vec<&str> = text.lines().collect();
        let mut starts = Vec::new();
        let mut indent = None;
        for (i, line) in lines.iter().enumerate() {
            let body = line.trim_start();
            if !(body == "-" || body.starts_with("- ")) {
                continue;
            }
            let this = line.len() - body.len();
            match indent {
                None => indent = Some(this),
                Some(first) if this != first => continue,
                Some(_) => {}
            }
            starts.push(i + 1);
        }
        if starts.len() != items {
            starts.clear();
        }
        ItemLines { lines, starts }
    }

    fn block_style(&self) -> bool {
        !self.starts.is_empty()
    }

    /// The item's first line, or 1 when unknown.
    fn start(&self, item: usize) -> usize {
        self.starts.get(item).copied().unwrap_or(1)
    }

    /// `device #N: ` when lines are unknown (flow style), else nothing.
    fn prefix(&self, item: usize) -> String {
        if self.block_style() {
            String::new()
        } else {
            format!("device #{}: ", item + 1)
        }
    }

    /// The line of `key:` within the item, else the item's first line.
    fn key_line(&self, item: usize, key: &str) -> usize {
        let start = self.start(item);
        if !self.block_style() {
            return start;
        }
        let end = self
            .starts
            .get(item + 1)
            .copied()
            .unwrap_or(self.lines.len() + 1);
        (start..end)
            .find(|&n| {
                self.lines.get(n - 1).is_some_and(|l| {
                    let body = l.trim_start().trim_start_matches('-').trim_start();
                    let body = body.trim_start_matches(['"', '\'']);
                    body.strip_prefix(key)
                        .is_some_and(|rest| rest.trim_start_matches(['"', '\'']).starts_with(':'))
                })
            })
            .unwrap_or(start)
    }
}

/// Every declared device as a YAML list item.
pub(crate) fn render(devices: &[DeclaredDevice]) -> anyhow::Result<Vec<u8>> {
    // A Mapping keeps insertion order: set columns only, in column order.
    let list: Vec<serde_norway::Mapping> = devices
        .iter()
        .map(|d| {
            let mut fields = serde_norway::Mapping::new();
            for c in Column::ALL {
                if let Some(v) = c.value(d) {
                    fields.insert(Value::String(c.as_str().to_string()), Value::String(v));
                }
            }
            fields
        })
        .collect();
    Ok(serde_norway::to_string(&list)?.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_items_and_key_lines() {
        let text =
            "# inventory\n- mac: 02:00:00:00:00:01\n  name: a\n\n-   name: b\n    ip: 10.0.0.2\n";
        let rows = rows(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[1].line, 5);
        let ip = rows[1]
            .fields
            .iter()
            .find(|f| f.column == Column::Ip)
            .unwrap();
        assert_eq!(ip.line, 6);
    }

    #[test]
    fn unknown_keys_and_numbers_are_reported_on_their_line() {
        let text = "- mac: 02:00:00:00:00:01\n  colour: red\n  firmware: 1.10\n";
        let errs = rows(text).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].line, 2);
        assert!(errs[0].message.starts_with("unknown key `colour`"));
        assert_eq!(errs[1].line, 3);
        assert!(errs[1].message.contains("quote it"), "{}", errs[1].message);
    }

    #[test]
    fn not_a_list() {
        assert!(rows("mac: 02:00:00:00:00:01\n").unwrap_err()[0]
            .message
            .contains("found a mapping"));
        let syntax = rows("- mac: [\n").unwrap_err();
        assert!(syntax[0].message.starts_with("not valid YAML"));
        let flow = rows("[{mac: 02:00:00:00:00:01}, 7]").unwrap_err();
        assert!(flow[0].message.starts_with("device #2: expected a device"));
    }
}
