//! The operator's inventory files: CSV or YAML bytes in → declared devices
//! ([`DeclaredDevice`]) out, or every problem as `FILE:LINE: what is wrong`;
//! and declared devices → the same formats (export round-trips).
//!
//! Columns (CSV header / YAML keys): mac or ip (at least one per device),
//! name, owner, site, vendor, model, firmware, class, role, criticality,
//! support_end. A file with any bad line yields no devices at all, so an
//! import never half-happens.
//!
//! Limits: [`MAX_INVENTORY_BYTES`] per file, [`MAX_INVENTORY_DEVICES`]
//! devices, [`MAX_REPORTED_ERRORS`] errors listed (the total is still given).

#![deny(clippy::indexing_slicing)]

mod csv_format;
mod encoding;
pub mod fields;
mod yaml_format;

use std::collections::HashMap;
use std::fmt;
use std::io::Read as _;
use std::path::Path;

use gatewatch_engine::identity::{DeclaredDevice, DeviceKey};

use self::fields::RawField;

/// Largest inventory file read.
pub const MAX_INVENTORY_BYTES: u64 = 64 * 1024 * 1024;
/// Devices one inventory may declare.
pub const MAX_INVENTORY_DEVICES: usize = 1_000_000;
/// Errors listed in one report.
pub const MAX_REPORTED_ERRORS: usize = 50;

/// File format of an inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InventoryFormat {
    Csv,
    Yaml,
}

impl InventoryFormat {
    /// The format named by a file's extension (`.csv`, `.yaml`, `.yml`).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(InventoryFormat::Csv),
            "yaml" | "yml" => Some(InventoryFormat::Yaml),
            _ => None,
        }
    }
}

/// One problem on one line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

impl LineError {
    pub fn new(line: usize, message: String) -> Self {
        LineError { line, message }
    }
}

/// Why an inventory file was refused: every problem, by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryError {
    pub file: String,
    /// Sorted by line; at most [`MAX_REPORTED_ERRORS`].
    pub errors: Vec<LineError>,
    /// All problems found, including those not listed.
    pub total: usize,
}

impl InventoryError {
    fn new(file: &str, mut errors: Vec<LineError>) -> Self {
        errors.sort_by_key(|e| e.line);
        let total = errors.len();
        errors.truncate(MAX_REPORTED_ERRORS);
        InventoryError {
            file: file.to_string(),
            errors,
            total,
        }
    }

    fn single(file: &str, line: usize, message: String) -> Self {
        InventoryError::new(file, vec![LineError::new(line, message)])
    }
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.total == 1 { "" } else { "s" };
        write!(
            f,
            "{}: {} problem{s}, nothing was imported",
            self.file, self.total
        )?;
        for e in &self.errors {
            write!(f, "\n{}:{}: {}", self.file, e.line, e.message)?;
        }
        if self.total > self.errors.len() {
            write!(f, "\n… and {} more", self.total - self.errors.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for InventoryError {}

/// Reads and checks an inventory file. `format` defaults to the one the
/// extension names; the error names the file in every line.
pub fn read_file(
    path: &Path,
    format: Option<InventoryFormat>,
) -> Result<Vec<DeclaredDevice>, InventoryError> {
    let name = path.display().to_string();
    let format = format
        .or_else(|| InventoryFormat::from_path(path))
        .ok_or_else(|| {
            InventoryError::single(
                &name,
                1,
                "cannot tell the format from the extension: name it .csv, .yaml or .yml, or give --format csv|yaml".to_string(),
            )
        })?;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_INVENTORY_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| InventoryError::single(&name, 1, format!("cannot read the file: {e}")))?;
    if bytes.len() as u64 > MAX_INVENTORY_BYTES {
        return Err(InventoryError::single(
            &name,
            1,
            format!("the file is larger than {MAX_INVENTORY_BYTES} bytes"),
        ));
    }
    parse(&name, &bytes, format)
}

/// Checks inventory bytes; `name` is used in errors.
pub fn parse(
    name: &str,
    bytes: &[u8],
    format: InventoryFormat,
) -> Result<Vec<DeclaredDevice>, InventoryError> {
    let text = encoding::decode(bytes).map_err(|e| InventoryError::new(name, e))?;
    let rows = match format {
        InventoryFormat::Csv => csv_format::rows(text),
        InventoryFormat::Yaml => yaml_format::rows(text),
    }
    .map_err(|e| InventoryError::new(name, e))?;
    build_all(name, rows)
}

/// One device as read: the line it starts on and its values.
#[derive(Debug)]
pub(crate) struct RawRow {
    pub line: usize,
    pub fields: Vec<RawField>,
}

/// Checks every row, then duplicates; all problems together.
fn build_all(name: &str, rows: Vec<RawRow>) -> Result<Vec<DeclaredDevice>, InventoryError> {
    if rows.len() > MAX_INVENTORY_DEVICES {
        return Err(InventoryError::single(
            name,
            1,
            format!(
                "{} devices, more than the {MAX_INVENTORY_DEVICES} an inventory may hold",
                rows.len()
            ),
        ));
    }
    let mut errors = Vec::new();
    let mut devices = Vec::with_capacity(rows.len());
    let mut first_line: HashMap<DeviceKey, usize> = HashMap::new();
    for row in rows {
        match fields::build(row.line, &row.fields) {
            Ok(d) => {
                if let Some(key) = d.key {
                    if let Some(first) = first_line.get(&key) {
                        errors.push(LineError::new(
                            row.line,
                            format!("duplicate device {key}: first listed on line {first}"),
                        ));
                        continue;
                    }
                    first_line.insert(key, row.line);
                }
                devices.push(d);
            }
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(devices)
    } else {
        Err(InventoryError::new(name, errors))
    }
}

/// Renders declared devices in `format` (every column; empty cells or absent keys for `None`).
pub fn render(devices: &[DeclaredDevice], format: InventoryFormat) -> anyhow::Result<Vec<u8>> {
    match format {
        InventoryFormat::Csv => csv_format::render(devices),
        InventoryFormat::Yaml => yaml_format::render(devices),
    }
}
